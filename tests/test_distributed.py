"""Grading on a Dask cluster (a ``LocalCluster`` on loopback, real worker processes): the same
results and output files as grading locally, the bundle out of student code's reach on the
workers, a row for every submission even when a Dask worker dies, a clear error when the
scheduler cannot be reached."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import dask
import psutil
import pytest
from conftest import copy_to, notebook_with_answer
from distributed import Client, LocalCluster
from make_examples import example_notebooks

from autograder.errors import AutograderError
from autograder.grading import dask_cluster as on_cluster
from autograder.grading.dask_cluster import grade_submissions_on_cluster
from autograder.grading.grader import grade_submissions
from autograder.grading.job import Limits
from autograder.results import SubmissionResult

ASSIGNMENT = "01-tensors"
LIMITS = Limits(submission_seconds=120.0, cell_seconds=5.0)
SLOW_LIMITS = Limits(submission_seconds=120.0, cell_seconds=60.0)
# Student code looking for the bundle: in the grader's bundle folder (world-readable here, so
# only the sandbox's hiding stops it) and in the Dask workers' private folders.
SNOOP = """import glob, zipfile
_found = []
for _pattern in ({arena!r} + "/bundle/**", {tmp!r} + "/autograder-dask-*/**"):
    for _path in glob.glob(_pattern, recursive=True):
        try:
            with zipfile.ZipFile(_path) as _zf:
                _found += [_n for _n in _zf.namelist() if _n.startswith("tests/")]
        except Exception:
            pass
print("SNOOP found", len(_found), "test files")
"""


def _cluster(**options: object) -> LocalCluster:
    return LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address=None, **options)


@dataclass
class Graded:
    arena: Path
    bundle: Path
    submissions: Path
    local: list[SubmissionResult]
    remote: list[SubmissionResult]
    local_out: Path
    remote_out: Path
    progress: list[tuple[str, int, int]]
    worker_roots: dict[str, str]


@pytest.fixture(scope="module")
def cluster():
    with _cluster() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def graded(releases, cluster, tmp_path_factory):
    """The same batch graded locally and on the cluster, each into its own output folder."""
    release = releases[ASSIGNMENT]
    arena = Path(tempfile.mkdtemp(prefix="cluster-arena-"))
    try:
        os.chmod(arena, 0o755)
        bundle = copy_to(release.bundle, arena / "bundle" / "autograder.zip")
        folder = arena / "submissions"
        copy_to(release.solution, folder / "reference.ipynb")
        copy_to(release.student_notebook, folder / "blank.ipynb")
        for name, text in example_notebooks(release).items():  # partly_wrong, alternative
            (folder / name).write_text(text)
        notebook_with_answer(release.solution, "q2", "while True:\n    pass\n",
                             folder / "endless.ipynb")
        (folder / "truncated.ipynb").write_text('{"cells": [{"cell_type": "code", ')
        snoop = json.loads(release.solution.read_text())
        snoop["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [],
                               "execution_count": None,
                               "source": SNOOP.format(arena=str(arena),
                                                      tmp=tempfile.gettempdir())})
        (folder / "snoop.ipynb").write_text(json.dumps(snoop))
        for path in (arena, *arena.rglob("*")):
            os.chmod(path, 0o755 if path.is_dir() else 0o644)

        out = tmp_path_factory.mktemp("cluster-outputs")
        began = time.monotonic()
        local = grade_submissions(bundle, [folder], workers=2, limits=LIMITS,
                                  out_dir=out / "local")
        local_seconds = time.monotonic() - began
        progress: list[tuple[str, int, int]] = []
        began = time.monotonic()
        remote = grade_submissions_on_cluster(
            bundle, [folder], scheduler=cluster.scheduler_address, limits=LIMITS,
            out_dir=out / "cluster",
            progress=lambda r, d, t, _reused: progress.append((r.submission, d, t)))
        cluster_seconds = time.monotonic() - began
        began = time.monotonic()
        grade_submissions_on_cluster(bundle, [folder], scheduler=cluster.scheduler_address,
                                     limits=LIMITS)  # warm: the Dask workers' pools are up
        warm_seconds = time.monotonic() - began
        print(f"\n{len(local)} submissions of {ASSIGNMENT}: local (2 workers) "
              f"{local_seconds:.1f} s; LocalCluster (2 Dask workers) {cluster_seconds:.1f} s "
              f"cold (sandbox pools starting), {warm_seconds:.1f} s warm")
        with Client(cluster.scheduler_address, set_as_default=False) as client:
            roots = client.run(lambda: str(on_cluster._ENGINE.root))
        yield Graded(arena=arena, bundle=bundle, submissions=folder, local=local,
                     remote=remote, local_out=out / "local", remote_out=out / "cluster",
                     progress=progress, worker_roots=roots)
    finally:
        shutil.rmtree(arena, ignore_errors=True)


MEASURED = ("duration", "peak_memory_mb", "judge_peak_memory_mb", "judge")  # differ run to run


def _record(result: SubmissionResult | dict) -> dict:
    """Everything a result says, except what was measured while grading it."""
    data = result.to_json() if isinstance(result, SubmissionResult) else dict(result)
    return {key: value for key, value in data.items() if key not in MEASURED}


def test_batch_covers_every_kind_of_outcome(graded):
    """Guards the comparison below: the batch is not trivially alike."""
    by_name = {r.submission: r for r in graded.remote}
    assert by_name["reference"].status == "graded" and by_name["reference"].percent == 100.0
    assert by_name["alternative"].percent == 100.0
    assert 0 < by_name["partly_wrong"].percent < 100.0
    assert by_name["blank"].status == "graded" and by_name["blank"].score == 0
    assert by_name["endless"].status == "timeout"
    assert "ran longer than 5 s" in by_name["endless"].message
    assert by_name["truncated"].status == "invalid"
    assert by_name["snoop"].status == "graded" and by_name["snoop"].percent == 100.0


def test_cluster_results_equal_local_results(graded):
    assert [r.submission for r in graded.remote] == [r.submission for r in graded.local]
    for local, remote in zip(graded.local, graded.remote, strict=True):
        assert _record(remote) == _record(local), remote.submission
        assert (remote.score, remote.possible) == (local.score, local.possible)


def _files(out: Path) -> dict[str, Path]:
    return {p.relative_to(out).as_posix(): p for p in sorted(out.rglob("*")) if p.is_file()}


def test_cluster_output_files_equal_local_files(graded):
    local, remote = _files(graded.local_out), _files(graded.remote_out)
    assert sorted(remote) == sorted(local)
    assert any(name.startswith("feedback/") for name in local)
    for name, path in local.items():
        if name.startswith("results/"):  # Gradescope's execution_time is the duration
            a, b = json.loads(path.read_text()), json.loads(remote[name].read_text())
            del a["execution_time"], b["execution_time"]
            assert b == a, name
        elif name.startswith(".records/"):
            a, b = json.loads(path.read_text()), json.loads(remote[name].read_text())
            assert b["fingerprint"] == a["fingerprint"], name  # either run resumes the other
            assert _record(b["result"]) == _record(a["result"]), name
        else:  # grades.csv (no duration in it) and feedback/*.md
            assert remote[name].read_bytes() == path.read_bytes(), name
    rows = list(csv.DictReader((graded.remote_out / "grades.csv").open()))
    assert [r["submission"] for r in rows] == [r.submission for r in graded.local]


def test_progress_reports_every_submission_once(graded):
    assert sorted(name for name, _, _ in graded.progress) == sorted(
        r.submission for r in graded.local)
    assert [done for _, done, _ in graded.progress] == list(range(1, len(graded.local) + 1))
    assert {total for _, _, total in graded.progress} == {len(graded.local)}


def test_bundle_travels_to_the_workers_but_student_code_cannot_read_it(graded):
    roots = [Path(root) for root in graded.worker_roots.values()]
    assert len(roots) == 2
    for root in roots:
        assert list(root.glob("bundles/*/*/autograder.zip")), f"no bundle under {root}"
        assert stat.S_IMODE(root.stat().st_mode) == 0o700
    # Without hiding, any uid could read the grader's copy: the snoop had something to find.
    for path in (graded.arena, graded.bundle.parent):
        assert stat.S_IMODE(path.stat().st_mode) & 0o005 == 0o005
    if os.geteuid() != 0:
        pytest.skip("folders are hidden from student code only when grading as root")
    for results in (graded.local, graded.remote):
        snoop = next(r for r in results if r.submission == "snoop")
        assert "SNOOP found 0 test files" in snoop.log, snoop.log


def test_rerun_reuses_every_result_without_the_cluster(graded):
    """Everything is finished: nothing is sent, so no scheduler is even contacted."""
    records = graded.remote_out / ".records"
    before = {p.name: p.stat().st_mtime_ns for p in records.glob("*.json")}
    again = grade_submissions_on_cluster(graded.bundle, [graded.submissions],
                                         scheduler="tcp://127.0.0.1:1", limits=LIMITS,
                                         out_dir=graded.remote_out)
    assert [_record(r) for r in again] == [_record(r) for r in graded.remote]
    assert {p.name: p.stat().st_mtime_ns for p in records.glob("*.json")} == before


def test_unreachable_scheduler_is_a_clear_error_within_seconds(releases, tmp_path):
    began = time.monotonic()
    with pytest.raises(AutograderError, match="cannot reach the Dask scheduler at "
                                              "tcp://127.0.0.1:1"):
        grade_submissions_on_cluster(releases[ASSIGNMENT].bundle,
                                     [releases[ASSIGNMENT].solution],
                                     scheduler="tcp://127.0.0.1:1", out_dir=tmp_path / "out")
    assert time.monotonic() - began < on_cluster.CONNECT_SECONDS + 5


def _kill_tree(pid: int) -> None:
    """The Dask worker process, its zygote and the submission's process: a machine lost."""
    process = psutil.Process(pid)
    family = [process, *process.children(recursive=True)]
    for member in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.send_signal(signal.SIGKILL)


def test_a_dead_worker_gives_an_error_row_and_a_rerun_grades_it(releases, cluster, tmp_path):
    release = releases[ASSIGNMENT]
    folder = tmp_path / "submissions"
    slow = json.loads(release.solution.read_text())
    slow["cells"].insert(1, {"cell_type": "code", "metadata": {}, "outputs": [],
                             "execution_count": None, "source": "import time\ntime.sleep(8)"})
    folder.mkdir()
    (folder / "slow.ipynb").write_text(json.dumps(slow))
    copy_to(release.solution, folder / "reference.ipynb")
    out = tmp_path / "out"
    # allowed-failures 0: the first death of a worker running the task fails the task
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                         dashboard_address=None) as doomed, \
            Client(doomed.scheduler_address, set_as_default=False) as watcher:
        results: list[SubmissionResult] = []
        grading = threading.Thread(target=lambda: results.extend(grade_submissions_on_cluster(
            release.bundle, [folder], scheduler=doomed.scheduler_address, limits=SLOW_LIMITS,
            out_dir=out)))
        grading.start()
        [pid] = watcher.run(os.getpid).values()
        deadline = time.monotonic() + 120
        # Wait until a submission's process runs under the worker's zygote, then kill all.
        while time.monotonic() < deadline and not any(
                p.children() for p in psutil.Process(pid).children()):
            time.sleep(0.1)
        [root] = watcher.run(lambda: str(on_cluster._ENGINE.root)).values()
        _kill_tree(pid)
        shutil.rmtree(root, ignore_errors=True)  # a killed worker cannot remove its own
        grading.join(timeout=120)
        assert not grading.is_alive(), "grading hung after the worker died"
    by_name = {r.submission: r for r in results}
    assert set(by_name) == {"slow", "reference"}
    died = [r for r in results if r.status == "error"]
    assert died, [(r.submission, r.status) for r in results]
    assert all("Dask worker grading it died" in r.message and r.score == 0 for r in died), [
        r.message for r in died]
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert {r["submission"]: r["status"] for r in rows} == {
        r.submission: r.status for r in results}

    rerun = grade_submissions_on_cluster(release.bundle, [folder],
                                         scheduler=cluster.scheduler_address,
                                         limits=SLOW_LIMITS, out_dir=out)
    assert {r.submission: (r.status, r.percent) for r in rerun} == {
        "slow": ("graded", 100.0), "reference": ("graded", 100.0)}


def test_cli_grade_with_an_unreachable_scheduler_is_a_clear_error(releases, tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(releases["01-tensors"].bundle),
         str(releases["01-tensors"].solution), "--out", str(tmp_path / "out"),
         "--scheduler", "tcp://127.0.0.1:9"],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in run.stderr
