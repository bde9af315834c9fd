"""Grading on a Dask cluster: the same engine on every Dask worker, the outputs written here.

Two sides, one trust boundary each:

- the **client** (``grade_submissions_on_cluster``, the trusted grader on the machine that runs
  the command) reads the bundle and the submissions, sends each runnable submission to the
  cluster as plain data, and writes every result as it arrives, exactly as
  ``grader.grade_submissions`` does: atomic files, resume, one gradebook row per submission;
- each **Dask task** (``grade_on_worker``) grades one submission with ``grader``'s engine on
  the Dask worker's machine: a pool of sandbox workers (zygotes), started on first use in
  that Dask worker process and kept warm across tasks. Its answer is the
  ``SubmissionResult`` as JSON, never a pickle of engine objects.

The cluster is trusted infrastructure: the bundle, hidden tests included, travels to the Dask
workers (they need it to grade). On each of them it lives in a private temporary folder
(mode 700), outside the student's view of the filesystem, which holds only what Python needs
and the submission's own box (``autograder.grading.isolation``), as when grading locally. Every Dask
worker must run the same autograder as the client: a task refuses to grade with other engine
sources (``engine_digest``).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import hashlib
import io
import json
import secrets
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path
from queue import Queue
from typing import Any

from distributed import Client, as_completed, get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from autograder.bundle import Bundle, load_bundle
from autograder.errors import AutograderError
from autograder.grading.grader import (
    Batch,
    ProgressCallback,
    Worker,
    grade_one,
    ungradable,
    worker_pool,
)
from autograder.grading.job import Limits
from autograder.grading.submission import (
    read_submission,
)
from autograder.results import SubmissionResult

CONNECT_SECONDS = 5.0  # reaching the scheduler; an unreachable one fails this fast
WORKERS_SECONDS = 60.0  # a reachable cluster with no worker at all
PLUGIN_NAME = "autograder-engine"
# Submissions sent ahead of the workers, so none idles, without sending a whole batch of
# notebooks (up to 20 MB each) to the scheduler at once.
IN_FLIGHT_PER_THREAD = 2
MIN_IN_FLIGHT = 8


# The modules whose code decides a result: the same on the client and every Dask worker.
ENGINE_MODULES = ("bundle", "kit/checks", "kit/probes", "kit/regular_files",
                  "kit/notebook_file", "kit/notebook_shell", "kit/compiler_on_demand",
                  "grading/grader", "grading/judge", "results", "grading/sandbox",
                  "grading/submission", "grading/wire", "grading/framing", "grading/job",
                  "grading/untrusted/runner")


def engine_digest() -> str:
    """sha256 of the engine's sources: a Dask worker grades only with the same engine as the
    client, so a cluster gives the scores a local run gives."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for name in ENGINE_MODULES:
        digest.update(name.encode() + b"\0" + (package / f"{name}.py").read_bytes())
    return digest.hexdigest()


ENGINE_DIGEST = engine_digest()  # of the code this process loaded (close enough: at import)


# --- the Dask worker's side -------------------------------------------------------------------


class _Engine:
    """This Dask worker process's grading engine: a private folder for bundles and submission
    files, and a warm pool of sandbox workers. Started on first use, closed with the process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.exit = contextlib.ExitStack()
        self.root: Path | None = None
        self.pool: Queue[Worker] | None = None
        self.bundles: dict[str, Bundle] = {}

    def start(self, sandbox_workers: int) -> tuple[Path, Queue[Worker]]:
        with self.lock:
            if self.pool is None or self.root is None:
                root = Path(tempfile.mkdtemp(prefix="autograder-dask-"))  # mode 700
                try:
                    self.pool = self.exit.enter_context(worker_pool(sandbox_workers))
                except BaseException:
                    shutil.rmtree(root, ignore_errors=True)
                    raise
                self.exit.callback(shutil.rmtree, root, True)
                self.root = root
            return self.root, self.pool

    def bundle(self, root: Path, data: bytes, info: dict[str, str]) -> Bundle:
        """The client's bundle, written once per process under the private folder.

        Placed in a folder named like the client's, so ``load_bundle`` names the assignment
        the same way; refused unless it is byte for byte the client's."""
        with self.lock:
            if info["digest"] not in self.bundles:
                folder = root / "bundles" / info["digest"][:16] / info["folder"]
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "autograder.zip").write_bytes(data)
                bundle = load_bundle(folder / "autograder.zip")
                if (bundle.digest, bundle.assignment) != (info["digest"], info["assignment"]):
                    raise AutograderError("the bundle that reached the Dask worker differs from "
                                          "the client's")
                self.bundles[info["digest"]] = bundle
            return self.bundles[info["digest"]]

    def close(self) -> None:
        """Remove the private folder first (it holds the hidden tests), then stop the zygotes.

        Idle zygotes hold nothing and are killed: their graceful exit (interpreter teardown
        with torch loaded) takes seconds, longer than a nanny waits for a closing worker."""
        with self.lock:
            if self.root is not None:
                shutil.rmtree(self.root, ignore_errors=True)
            idle = []
            while self.pool is not None and not self.pool.empty():
                idle.append(self.pool.get_nowait())
            for worker in idle:
                if worker.process is not None:
                    worker.process.kill()
            self.exit.close()
            self.root, self.pool, self.bundles = None, None, {}


_ENGINE = _Engine()
atexit.register(_ENGINE.close)


def _sandbox_workers() -> int:
    """One sandbox worker per thread of this Dask worker (tasks that run at once)."""
    try:
        return max(1, get_worker().state.nthreads)
    except (ValueError, AttributeError):
        return 1


def grade_on_worker(bundle_zip: bytes, bundle_info: dict[str, str], file_name: str,
                    data: bytes, stem: str, source: str, limits: dict[str, Any],
                    client_engine: str) -> str:
    """One Dask task: grade one submission file here; the ``SubmissionResult`` as JSON text.

    Mirrors ``grade.grade_submissions``' ``grade_one``: the engine never raises for what the
    submission does, and a failure of the grader itself becomes an ``error`` result."""
    if client_engine != ENGINE_DIGEST:
        raise AutograderError(f"this Dask worker runs another autograder (engine "
                              f"{ENGINE_DIGEST[:12]}, the client's {client_engine[:12]}); "
                              "install the same version on every worker")
    root, pool = _ENGINE.start(_sandbox_workers())
    bundle = _ENGINE.bundle(root, bundle_zip, bundle_info)
    folder = Path(tempfile.mkdtemp(prefix="submission-", dir=root))
    try:
        (folder / Path(file_name).name).write_bytes(data)
        read = read_submission(folder / Path(file_name).name, stem, bundle)
        submission = dataclasses.replace(read, path=Path(source))  # the client's path
        if submission.problem:
            return json.dumps(ungradable(bundle, submission, "invalid",
                                         submission.problem).to_json())
        worker = pool.get()
        try:
            result = grade_one(worker, bundle, submission, Limits(**limits))
        finally:
            pool.put(worker)
        return json.dumps(result.to_json())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class EnginePlugin(WorkerPlugin):
    """Closes the engine (zygotes, private folder) when a Dask worker closes: worker
    processes started by a nanny end without running ``atexit``."""

    name = PLUGIN_NAME
    idempotent = True  # registered by every grading run; the first one stays

    def teardown(self, worker: Any) -> None:
        _ENGINE.close()


# --- the client's side ------------------------------------------------------------------------


def _same(data: bytes) -> bytes:
    return data


def _bundle_payload(bundle: Bundle) -> tuple[bytes, dict[str, str]]:
    """The bundle as zip bytes (a folder bundle is zipped) and what identifies it."""
    path = bundle.path
    if path.is_dir():
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                zf.writestr(file.relative_to(path).as_posix(), file.read_bytes())
        data = buffer.getvalue()
    else:
        data = path.read_bytes()
    return data, {"digest": bundle.digest, "assignment": bundle.assignment,
                  "folder": path.resolve().parent.name or "bundle"}


@contextlib.contextmanager
def _connected(scheduler: str) -> Any:
    """A Dask client of the scheduler, with at least one worker, closed on exit."""
    try:
        client = Client(scheduler, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise AutograderError(f"cannot reach the Dask scheduler at {scheduler}: "
                              f"{error}") from None
    try:
        try:
            client.wait_for_workers(1, timeout=WORKERS_SECONDS)
        except TimeoutError:
            raise AutograderError(f"the Dask cluster at {scheduler} has no worker "
                                  f"(waited {WORKERS_SECONDS:g} s)") from None
        client.register_plugin(EnginePlugin(), name=PLUGIN_NAME)
        yield client
    finally:
        client.close()


def _cluster_failure(error: BaseException) -> str:
    """Why a task gave no result: the task's own exception, dead workers, a lost task."""
    name = type(error).__name__
    text = " ".join(str(error).split())  # one line, for the gradebook
    if name == "KilledWorker":
        return ("the Dask worker grading it died, as often as the cluster allows "
                "(KilledWorker; see the workers' logs)")
    if name in ("CancelledError", "FutureCancelledError"):
        return f"the cluster lost the task ({text or 'cancelled'})"
    return f"{name}: {text}"


def _result_of(future: Any, stem: str, bundle: Bundle) -> SubmissionResult | str:
    """The task's result, or why there is none."""
    try:
        text = future.result()
    except Exception as error:  # noqa: BLE001 - any failure is a reason for the row
        return _cluster_failure(error)
    try:
        result = SubmissionResult.from_json(json.loads(text))
    except (ValueError, KeyError, TypeError) as error:
        return f"the Dask worker sent an unreadable result ({error})"
    if (result.file_stem, result.assignment) != (stem, bundle.assignment):
        return f"the Dask worker sent the result of {result.file_stem!r} instead"
    return result


def grade_submissions_on_cluster(
    bundle_path: Path,
    submissions: list[Path],
    *,
    scheduler: str,
    limits: Limits | None = None,
    out_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    show_hidden_scores: bool = False,
) -> list[SubmissionResult]:
    """Grade submission files (or folders of them) on the Dask cluster at ``scheduler``
    (``tcp://host:port``); one result per file, the same as ``grade.grade_submissions``.

    With ``out_dir``, each result is written here as it arrives, and results already written
    for the same bundle, limits and file are reused. ``show_hidden_scores`` puts hidden
    checks' scores (never their source or messages) into the feedback files. A task the
    cluster fails (worker died, task lost, exception) still gets its row: status ``error``
    with the reason, and a rerun grades it again.
    """
    limits = limits or Limits()
    batch = Batch(bundle_path, submissions, limits=limits, out_dir=out_dir, progress=progress,
                  show_hidden_scores=show_hidden_scores)
    bundle, paths, stems, runnable = batch.bundle, batch.paths, batch.stems, batch.runnable

    if runnable:
        bundle_zip, bundle_info = _bundle_payload(bundle)
        run = secrets.token_hex(4)  # task keys unique to this run

        def failed(index: int, reason: str) -> None:
            batch.finish(index, ungradable(bundle, runnable[index], "error", reason),
                         retry=True)

        with _connected(scheduler) as client:
            # A task rather than scattered data: the scheduler recomputes it if its holder dies.
            bundle_task = client.submit(_same, bundle_zip, key=f"bundle-{run}", pure=False)
            waiting = iter(runnable)
            in_flight: dict[Any, int] = {}
            arrivals = as_completed(loop=client.loop)

            def send_next() -> None:
                """Read and send the next submission: a bounded number travel at once."""
                for index in waiting:
                    try:
                        future = client.submit(
                            grade_on_worker, bundle_task, bundle_info, paths[index].name,
                            paths[index].read_bytes(), stems[index], str(paths[index]),
                            dataclasses.asdict(limits), ENGINE_DIGEST,
                            key=f"grade-{stems[index]}-{run}", pure=False)
                    except Exception as error:  # noqa: BLE001 - a row, and the batch goes on
                        failed(index, f"the grader could not send it to the Dask cluster: "
                                      f"{_cluster_failure(error)}")
                        continue
                    in_flight[future] = index
                    arrivals.add(future)
                    return

            threads = sum(client.nthreads().values())
            for _ in range(max(IN_FLIGHT_PER_THREAD * threads, MIN_IN_FLIGHT)):
                send_next()
            for future in arrivals:
                index = in_flight.pop(future)
                got = _result_of(future, stems[index], bundle)
                if isinstance(got, str):
                    failed(index, f"the Dask cluster failed on this submission: {got}")
                else:  # the worker knows the file, the gradebook name is the batch's
                    batch.finish(index, dataclasses.replace(got, submission=batch.names[index]))
                send_next()
    return batch.in_order()
