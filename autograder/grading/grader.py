"""Grading: submissions + bundle -> one ``SubmissionResult`` each.

This is the trusted side. It hands each submission's tests to its judge alone (never to the
student's process), takes verdicts from the judge only, keeps a watchdog on the whole
submission, and always produces a result, whatever the submission did. Points come from the
bundle. With an output folder it writes each result atomically as it finishes and skips, on a
rerun, what is already done.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from queue import Queue
from typing import Any

from autograder.bundle import Bundle, load_bundle
from autograder.errors import AutograderError
from autograder.grading import framing, self_check
from autograder.grading.job import JOB_MARK, Job, Limits
from autograder.grading.submission import (
    Submission,
    checkpoints,
    collect_submissions,
    is_otter_cell,
    read_submission,
)
from autograder.kit.notebook_file import MAX_NOTEBOOK_BYTES
from autograder.kit.regular_files import read_regular_file
from autograder.results import (
    ISOLATION_LEVELS,
    CheckResult,
    QuestionResult,
    Status,
    SubmissionResult,
)
from autograder.results import Outcome as CheckOutcome

STARTUP_SECONDS = 120.0  # a zygote importing torch on a loaded machine
EXIT_SECONDS = 30.0  # sweeping a submission's leftovers
JUDGE_GRACE_SECONDS = 30.0  # the judge enforces the limits; this watchdog is for the judge


@dataclass(frozen=True)
class Outcome:
    """What the sandbox run produced, before it is matched against the bundle."""

    status: Status
    message: str = ""
    questions: tuple[dict[str, Any], ...] = ()
    log: str = ""
    cell_errors: tuple[str, ...] = ()
    peak_memory_mb: float = 0.0
    judge_peak_memory_mb: float = 0.0
    timing: dict[str, Any] | None = None  # per question: judge seconds and round trips
    isolation: str = ""  # the zygote's record of the sandbox it gave (results.ISOLATION_LEVELS)


class Worker:
    """One zygote process and the channel to it. Runs one submission at a time."""

    def __init__(self, slot: int, scratch_root: Path, warm: tuple[str, ...] | None = None
                 ) -> None:
        self.slot = slot  # machine-wide unique while the pool lives: picks the sandbox uid
        self.scratch_root = scratch_root
        self.warm = warm  # modules its zygote imports up front (None: all a course may use)
        self.process: subprocess.Popen[bytes] | None = None
        self.ctrl: socket.socket | None = None

    def start(self) -> None:
        ours, theirs = socket.socketpair()
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograder.grading.sandbox", str(theirs.fileno()),
             "-" if self.warm is None else ",".join(self.warm)],
            pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self.ctrl = ours
        ours.settimeout(STARTUP_SECONDS)
        try:
            ready = framing.receive(ours, time.monotonic() + STARTUP_SECONDS).header
        except (OSError, framing.WireError, framing.DeadlinePassed) as error:
            raise AutograderError(f"grading worker {self.slot} did not start: {error}") from None
        if ready.get("type") != "ready":
            raise AutograderError(f"grading worker {self.slot} sent {ready!r}, not ready")

    def close(self) -> None:
        if self.ctrl is not None:
            self.ctrl.close()
            self.ctrl = None
        if self.process is not None:
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def run(self, submission: Submission, bundle: Bundle, limits: Limits, *,
            seed: int = 0) -> Outcome:
        """Run one submission in a fresh child of the zygote; never raises for its behaviour."""
        if self.ctrl is None:
            self.start()
        assert self.ctrl is not None
        # Empty here: the zygote mounts the submission's writable space on it, in its own
        # mount namespace (nothing the student writes lands on this machine's disk).
        box = tempfile.mkdtemp(prefix=f"w{self.slot}-", dir=self.scratch_root)
        fresh_box = tempfile.mkdtemp(prefix=f"w{self.slot}-fresh-", dir=self.scratch_root) \
            if bundle.fresh_process else ""
        cells = [None if is_otter_cell(c) else c for c in submission.cells]
        plan = checkpoints(submission, bundle)
        job = Job(cells=cells, checkpoints=plan, box=box, limits=limits, slot=self.slot,
                  seed=seed, fresh_box=fresh_box,
                  cell_positions=list(submission.cell_positions))
        ours, theirs = socket.socketpair()
        try:
            try:
                # The channel's descriptor travels alone; the job follows, framed by its
                # length (a notebook's code can be megabytes: more than one read).
                socket.send_fds(self.ctrl, [JOB_MARK], [theirs.fileno()])
                theirs.close()
                framing.send(self.ctrl, job.to_json())
                started = framing.receive(self.ctrl, time.monotonic() + STARTUP_SECONDS).header
                # The tests go to the judge only, after the student's process was forked.
                framing.send(ours, bundle.judge_message())
            except (OSError, framing.WireError, framing.DeadlinePassed) as error:
                self._restart()
                return Outcome("error", f"the grading worker failed to start the submission "
                                        f"({error}); it was restarted")
            outcome = self._await_verdicts(ours, started, limits)
            try:
                exited = framing.receive(self.ctrl, time.monotonic() + EXIT_SECONDS).header
            except (OSError, framing.WireError, framing.DeadlinePassed):
                self._restart()
                exited = {"status": {}}
            if outcome.status == "crashed":
                outcome = replace(outcome, message=f"{outcome.message}: "
                                  f"{_describe_exit(exited.get('status', {}))}")
            if exited.get("disk_full"):
                outcome = replace(outcome, cell_errors=(
                    *outcome.cell_errors, f"sandbox: the submission filled its disk space "
                                          f"(--disk-mb {limits.disk_mb}); writes past it failed"))
            level = started.get("isolation")
            return replace(outcome, peak_memory_mb=_megabytes(exited.get("max_rss_kb")),
                           judge_peak_memory_mb=_megabytes(exited.get("judge_max_rss_kb")),
                           isolation=level if level in ISOLATION_LEVELS else "")
        finally:
            ours.close()
            with contextlib.suppress(OSError):
                theirs.close()
            for folder in filter(None, (box, fresh_box)):
                _remove_tree(folder)

    @staticmethod
    def _await_verdicts(channel: socket.socket, started: dict[str, Any],
                        limits: Limits) -> Outcome:
        """The judge's result: the only source of verdicts."""
        deadline = time.monotonic() + limits.submission_seconds + JUDGE_GRACE_SECONDS
        try:
            result = framing.receive(channel, deadline).header
        except (framing.WireError, framing.DeadlinePassed) as error:
            for pid in (started.get("judge"), started.get("pid")):
                if pid is None:  # not started
                    continue
                with contextlib.suppress(ProcessLookupError, PermissionError, TypeError):
                    os.kill(int(pid), signal.SIGKILL)
            return Outcome("error", f"the judge did not report ({type(error).__name__})")
        status = result.get("status")
        if status not in ("graded", "timeout", "crashed", "tampered", "error"):
            return Outcome("error", f"the judge reported {status!r}")
        cell_errors = tuple(str(e) for e in result.get("cell_errors", []))
        cell_errors += tuple(f"sandbox: {n}" for n in result.get("notes", []))
        return Outcome(status, str(result.get("message", "")),
                       questions=tuple(result.get("questions", [])),
                       log=str(result.get("log", "")), cell_errors=cell_errors,
                       timing=result.get("timing"))

    def _restart(self) -> None:
        if self.process is not None:
            self.process.kill()
        self.close()
        self.start()


def _describe_exit(status: dict[str, Any]) -> str:
    if "signal" in status:
        hint = " (memory limit?)" if status["signal"] in ("SIGKILL", "SIGSEGV") else ""
        return f"the process was killed by {status['signal']}{hint}"
    if "exit_code" in status:
        return f"the process exited with code {status['exit_code']}"
    return "the process ended"


def _remove_tree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


# --- results ----------------------------------------------------------------------------------


def _score(bundle: Bundle, submission: Submission, outcome: Outcome,
           duration: float) -> SubmissionResult:
    """Match the judge's outcomes to the bundle's checks; points come from the bundle only."""
    reported = {q.get("name"): {c.get("name"): c for c in q.get("checks", [])
                                if isinstance(c, dict)}
                for q in outcome.questions if isinstance(q, dict)}
    graded = outcome.status == "graded"
    questions = []
    for question in bundle.questions:
        checks = []
        for spec in question.checks:
            got = reported.get(question.name, {}).get(spec.name, {}) if graded else {}
            reported_outcome = got.get("outcome")
            result: CheckOutcome = reported_outcome \
                if reported_outcome in ("passed", "failed", "skipped") else "failed"
            message = str(got.get("message", "")) if graded else outcome.status
            if result == "failed" and spec.failure_message:
                message = f"{spec.failure_message}\n{message}".strip()
            if result == "passed":
                message = spec.success_message
            checks.append(CheckResult(
                name=spec.name, outcome=result,
                points=spec.points if result == "passed" else 0.0,
                max_points=0.0 if result == "skipped" else spec.points,
                hidden=spec.hidden, message=message[:2000]))
        questions.append(QuestionResult(name=question.name, checks=tuple(checks)))
    notes = [*submission.notes, *outcome.cell_errors]
    message = "; ".join([outcome.message, *notes] if outcome.message else notes)
    return SubmissionResult(
        submission=submission.name, file_stem=submission.stem, source=str(submission.path),
        assignment=bundle.assignment, status=outcome.status, questions=tuple(questions),
        message=message[:4000], duration=round(duration, 3),
        peak_memory_mb=outcome.peak_memory_mb,
        judge_peak_memory_mb=outcome.judge_peak_memory_mb, log=outcome.log,
        judge=dict(outcome.timing or {}), isolation=outcome.isolation)


def _megabytes(kilobytes: Any) -> float:
    return round(kilobytes / 1024, 1) if type(kilobytes) is int else 0.0


def ungradable(bundle: Bundle, submission: Submission, status: Status,
               message: str) -> SubmissionResult:
    return _score(bundle, submission, Outcome(status, message), 0.0)


# --- batches ----------------------------------------------------------------------------------


def _fingerprint(bundle: Bundle, path: Path, limits: Limits) -> str:
    digest = hashlib.sha256()
    digest.update(bundle.digest.encode())
    digest.update(json.dumps(limits.__dict__, sort_keys=True).encode())
    with contextlib.suppress(OSError, ValueError):  # unreadable: invalid, and said so later
        digest.update(read_regular_file(path, MAX_NOTEBOOK_BYTES))
    return digest.hexdigest()


def _slots_dir() -> Path:
    """This user's folder of slot locks: one per uid, so that a folder another user made first
    (root's, or a planted one) neither blocks a run nor takes its locks."""
    folder = Path(tempfile.gettempdir()) / f".autograder-slots-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise AutograderError(
            f"{folder} is not a private folder of this user (uid {os.getuid()}): remove it, "
            "or set TMPDIR to a folder of your own")
    return folder


@contextlib.contextmanager
def _slots(count: int) -> Iterator[list[int]]:
    """Machine-wide unique slot numbers (each a sandbox uid), held until exit.

    Two grading runs at once (parallel release builds, two CI jobs) must not share a sandbox
    uid: a worker's clean-up kills every process of its uid.
    """
    folder = _slots_dir()
    held: list[tuple[int, int]] = []
    try:
        slot = 0
        while len(held) < count:
            fd = os.open(folder / f"{slot}.lock", os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held.append((slot, fd))
            except BlockingIOError:
                os.close(fd)
            slot += 1
        yield [s for s, _ in held]
    finally:
        for _, fd in held:
            os.close(fd)


@contextlib.contextmanager
def worker_pool(count: int, *, warm: tuple[str, ...] | None = None
                ) -> Iterator[Queue[Worker]]:
    """``count`` started workers, shut down (and their scratch space removed) on exit.
    ``warm``: the modules their zygotes import up front (``Bundle.warm_modules``; None: all
    a course may use, for a pool that serves any bundle)."""
    with _slots(count) as slots, _started_workers(slots, warm) as queue:
        yield queue


@contextlib.contextmanager
def _started_workers(slots: list[int], warm: tuple[str, ...] | None
                     ) -> Iterator[Queue[Worker]]:
    count = len(slots)
    scratch_root = Path(tempfile.mkdtemp(prefix="autograder-"))
    os.chmod(scratch_root, 0o711)  # sandbox uids may enter their own scratch dirs, not list
    workers = [Worker(slot, scratch_root, warm) for slot in slots]
    try:
        with ThreadPoolExecutor(max_workers=count) as starter:
            list(starter.map(lambda w: w.start(), workers))
        _verify_once(workers[0])
        queue: Queue[Worker] = Queue()
        for worker in workers:
            queue.put(worker)
        yield queue
    finally:
        for worker in workers:
            worker.close()
        _remove_tree(str(scratch_root))


_verified: list[float] = []  # the self-check's seconds, once this process has passed it


def _verify_once(worker: Worker) -> None:
    """The engine's self-check, before the first submission this process grades (the
    environment does not change under a running grader); ``BrokenEnvironment`` stops it."""
    if not _verified:
        _verified.append(self_check.verify(worker))


def self_check_seconds() -> float | None:
    """What the self-check cost this process (``make bench`` reports it); None if not run."""
    return _verified[0] if _verified else None


# (result, done, total, reused): reused is a result kept from an earlier run into the same
# output folder (same bundle, limits and file), not graded now.
ProgressCallback = Callable[[SubmissionResult, int, int, bool], None]


class Batch:
    """The bookkeeping of one grading run, whoever does the grading (local workers, a Dask
    cluster): which submissions there are, which are already done (resume), which cannot be
    graded (invalid), and writing each result as it finishes. Thread-safe ``finish``."""

    def __init__(self, bundle_path: Path, submissions: list[Path], *, limits: Limits,
                 out_dir: Path | None, progress: ProgressCallback | None,
                 show_hidden_scores: bool) -> None:
        from autograder.reports import output_folder as reports  # grading only calls them

        self._reports = reports
        self.limits = limits
        self.out_dir = Path(out_dir) if out_dir is not None else None
        if self.out_dir is not None:
            reports.check_out_dir(self.out_dir)
        self.bundle = load_bundle(Path(bundle_path))
        self.given = [Path(s) for s in submissions]
        self.entries = collect_submissions(self.given)
        self.paths = [e.path for e in self.entries]
        self.stems = [e.stem for e in self.entries]  # name the output files
        self.names = [e.name for e in self.entries]  # name the gradebook rows
        self.progress = progress
        self.show_hidden_scores = show_hidden_scores
        self.fingerprints = [_fingerprint(self.bundle, p, limits) for p in self.paths]
        self.results: dict[int, SubmissionResult] = {}
        self._lock = threading.Lock()

        pending = []
        for index, stem in enumerate(self.stems):
            previous = reports.read_result(self.out_dir, stem, self.fingerprints[index]) \
                if self.out_dir is not None else None
            if previous is not None:
                self.finish(index, previous, reused=True)
            else:
                pending.append(index)
        if self.out_dir is not None:
            reports.write_gradebook(self.out_dir, self.bundle, self.names, self.results)
        #: Readable submissions still to grade, by index.
        self.runnable: dict[int, Submission] = {}
        for index in pending:
            entry = self.entries[index]
            try:
                submission = Submission(stem=entry.stem, path=entry.path, name=entry.name,
                                        problem=entry.problem) if entry.problem else \
                    read_submission(entry.path, entry.stem, self.bundle, name=entry.name,
                                    notes=entry.notes)
            except Exception as error:  # noqa: BLE001 - a row for it; the batch goes on
                self.finish(index, ungradable(
                    self.bundle, Submission(stem=entry.stem, path=entry.path, name=entry.name),
                    "error", f"the grader could not read this submission: "
                             f"{type(error).__name__}: {str(error)[:300]}"))
                continue
            if submission.problem:
                self.finish(index, ungradable(self.bundle, submission, "invalid",
                                              submission.problem))
            else:
                self.runnable[index] = submission

    def finish(self, index: int, result: SubmissionResult, *, reused: bool = False,
               retry: bool = False) -> None:
        """Record and write one result. ``retry``: no verdict on the submission (the grader
        failed, not the student), so a rerun grades it again."""
        with self._lock:
            self.results[index] = result
            if self.out_dir is not None and reused:
                self._reports.render_result(self.out_dir, result,
                                            show_hidden_scores=self.show_hidden_scores)
            elif self.out_dir is not None:
                fingerprint = f"retry:{self.fingerprints[index]}" if retry \
                    else self.fingerprints[index]
                self._reports.write_result(self.out_dir, result, fingerprint,
                                           show_hidden_scores=self.show_hidden_scores)
                self._reports.write_gradebook(self.out_dir, self.bundle, self.names,
                                              self.results)
            if self.progress is not None:
                self.progress(result, len(self.results), len(self.paths), reused)

    def in_order(self) -> list[SubmissionResult]:
        return [self.results[i] for i in range(len(self.paths))]


def grade_one(worker: Worker, bundle: Bundle, submission: Submission,
              limits: Limits) -> SubmissionResult:
    """One submission on one worker; a failure of the grader itself becomes an ``error``."""
    try:
        began = time.monotonic()
        outcome = worker.run(submission, bundle, limits)
        return _score(bundle, submission, outcome, time.monotonic() - began)
    except Exception as error:  # noqa: BLE001 - the batch goes on, with a row
        return ungradable(bundle, submission, "error",
                          f"the grader failed on this submission: {error}")


# A worker's start (a zygote importing torch and what the bundle uses: 1 to 3 s of CPU) pays
# for itself only over several submissions: 3 references of 01 took 2.2 s with one worker and
# 1.9 s with two, of 03 3.4 s and 3.7 s (twice the CPU). So by default a batch gets one worker
# per this many submissions, up to the cores; a number asked for is taken as it is.
SUBMISSIONS_PER_WORKER = 4


def default_workers(submissions: int) -> int:
    """Workers for a batch of ``submissions`` when none were asked for."""
    return max(1, min(os.cpu_count() or 1, -(-submissions // SUBMISSIONS_PER_WORKER)))


def grade_submissions(
    bundle_path: Path,
    submissions: list[Path],
    *,
    workers: int | None = None,
    limits: Limits | None = None,
    out_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    show_hidden_scores: bool = False,
) -> list[SubmissionResult]:
    """Grade submission files (or folders of them) with the bundle; one result per file.
    ``workers``: parallel workers (default: ``default_workers``, by the batch's size).

    With ``out_dir``, each result is written as it finishes (see ``reports``), and results
    already written for the same bundle, limits and file are reused. ``show_hidden_scores``
    puts hidden checks' scores (never their source or messages) into the feedback files.
    """
    limits = limits or Limits()
    batch = Batch(bundle_path, submissions, limits=limits, out_dir=out_dir, progress=progress,
                  show_hidden_scores=show_hidden_scores)
    if batch.runnable:
        workers = max(1, min(workers or default_workers(len(batch.runnable)),
                             len(batch.runnable)))
        with worker_pool(workers, warm=batch.bundle.warm_modules(len(batch.runnable))) as pool:

            def grade_next(index: int) -> None:
                worker = pool.get()
                try:
                    result = grade_one(worker, batch.bundle, batch.runnable[index], limits)
                finally:
                    pool.put(worker)
                batch.finish(index, result)

            with ThreadPoolExecutor(max_workers=workers) as executor:
                futures = [executor.submit(grade_next, i) for i in batch.runnable]
                try:
                    for future in futures:
                        future.result()
                except KeyboardInterrupt:  # stop now; what is done is written, rerun resumes
                    for future in futures:
                        future.cancel()
                    raise
    return batch.in_order()
