"""Shared fixtures: every assignment released once per test session into temporary folders,
with the real otter assign and the real grading engine; batches graded once per test run and
shared by the processes that read them; and how ``make test`` shares the work out between its
two processes (``pytest_xdist_make_scheduler``)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from filelock import FileLock

from autograder.audit.mutants import answer_cell_index  # noqa: F401 - tests import it from here
from autograder.authoring.release import Release, build_release, find_assignments
from autograder.results import SubmissionResult

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ROOT / "assignments"
ASSIGNMENT_NAMES = [p.name for p in find_assignments(ASSIGNMENTS)]


@pytest.fixture(scope="session")
def build_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This test process's scratch folder for the session."""
    return tmp_path_factory.mktemp("build")


@pytest.fixture(scope="session")
def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every process of this test run shares: with pytest-xdist (``make test`` runs
    two), the parent of the workers' own folders; without it, this process's own."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def release_once(shared: Path, name: str) -> Release:
    """``name`` built from source (not the committed student/ folder) once per test run,
    whichever process asks first; the others wait for it and read what it recorded. A build
    error is recorded too, and raised (as a test failure) where that release is used, so one
    broken assignment fails its own tests, not everyone's."""
    root = shared / "releases"
    root.mkdir(exist_ok=True)
    record = root / f"{name}.json"
    with FileLock(root / f"{name}.lock"):
        if not record.exists():
            try:
                built = build_release(ASSIGNMENTS / name, student_root=root / "student",
                                      dist_root=root / "dist", force=True)
                outcome = {"built": {"name": built.name, "rebuilt": built.rebuilt,
                                     **{f: str(getattr(built, f))
                                        for f in ("student_notebook", "bundle", "solution")}}}
            except Exception as error:  # noqa: BLE001 - reported by the tests that need it
                outcome = {"error": f"{type(error).__name__}: {error}"}
            record.write_text(json.dumps(outcome))
    outcome = json.loads(record.read_text())
    if "error" in outcome:
        pytest.fail(f"release of {name} failed: {outcome['error']}")
    fields = outcome["built"]
    return Release(name=fields["name"], rebuilt=fields["rebuilt"],
                   **{f: Path(fields[f]) for f in ("student_notebook", "bundle", "solution")})


def graded_once(shared: Path, key: str,
                grade: Callable[[], list[SubmissionResult]]) -> dict[str, SubmissionResult]:
    """Submission name -> result of the batch ``key``, graded by ``grade`` once per test run,
    whichever process asks first (as ``release_once``): the others wait for it and read the
    results it recorded, so a batch that tests in both processes read is graded once. A batch
    whose grading raised is not recorded: the next test that needs it grades it again."""
    root = shared / "graded"
    root.mkdir(exist_ok=True)
    record = root / f"{key}.json"
    with FileLock(root / f"{key}.lock"):
        if not record.exists():
            results = grade()
            record.write_text(json.dumps([r.to_json() for r in results]))
    return {r.submission: r for r in map(SubmissionResult.from_json,
                                         json.loads(record.read_text()))}


class _Releases(dict):
    """Assignment name -> Release, each built on first use (``release_once``)."""

    def __init__(self, shared: Path) -> None:
        super().__init__({name: None for name in ASSIGNMENT_NAMES})
        self.shared = shared

    def __getitem__(self, name: str) -> Release:
        if name not in self:
            raise KeyError(name)
        return release_once(self.shared, name)


@pytest.fixture(scope="session")
def releases(shared_root: Path) -> dict[str, Release]:
    """Every assignment, built once per test run (two at a time: the first process to get
    here builds them, in the background, while its first tests use the ones ready)."""
    pool = ThreadPoolExecutor(max_workers=2)
    for name in ASSIGNMENT_NAMES:
        pool.submit(_build_quietly, shared_root, name)
    pool.shutdown(wait=False)
    return _Releases(shared_root)


def _build_quietly(shared: Path, name: str) -> None:
    with contextlib.suppress(BaseException):  # recorded; raised where the release is used
        release_once(shared, name)


def notebook_with_answer(solution: Path, question: str, code: str, dest: Path) -> Path:
    """The reference solution with one question's answer cell replaced by ``code``."""
    nb = json.loads(solution.read_text())
    nb["cells"][answer_cell_index(nb, question)]["source"] = code
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(nb))
    return dest


def copy_to(src: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)
    return dest


@pytest.fixture(scope="session")
def tensors_release(shared_root: Path) -> Release:
    """01-tensors, for tests that need one real release rather than all four."""
    return release_once(shared_root, "01-tensors")


def filled_in(release: Release, questions: list[str] | None = None) -> dict:
    """The student notebook with the reference answers of ``questions`` (default: all)."""
    student = json.loads(release.student_notebook.read_text())
    solution = json.loads(release.solution.read_text())
    for cell in student["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith('grader.check("'):
            question = source.split('"')[1]
            if questions is None or question in questions:
                student["cells"][answer_cell_index(student, question)]["source"] = \
                    solution["cells"][answer_cell_index(solution, question)]["source"]
    return student


# --- sharing the work out between `make test`'s two processes -------------------------------

# With `--dist loadfile`, pytest-xdist hands a test file to one process as a whole, so its
# module fixtures run once. These files hold one long graded batch (or audit) per assignment:
# whole, one of them kept one process busy for ten minutes and more while the other had
# finished. Their tests are split into one unit per assignment (what a test's parameters
# start with), plus one unit for the rest of the file; a batch that tests of two units read
# is graded once all the same (``graded_once``).
SPLIT_BY_ASSIGNMENT = ("tests/test_answers.py", "tests/test_audit.py", "tests/test_grading.py")
# Roughly how long the longest units take (seconds, `make test` on two cores, from
# `--durations`). Units are handed out longest first, so that no long one starts last and
# runs alone at the end; a unit not listed counts a second a test. Only the order depends on
# these numbers: a stale one makes the run slower, never different.
UNIT_SECONDS = {
    "tests/test_answers.py[04-mini-project]": 450,
    "tests/test_hostile.py": 300,
    "tests/test_grading.py": 280,
    "tests/test_student_release.py": 250,
    "tests/test_install_location.py": 240,
    "tests/test_authoring.py": 230,
    "tests/test_answers.py[02-reproducibility]": 180,
    "tests/test_answers.py[01-tensors]": 170,
    "tests/test_audit.py[04-mini-project]": 130,
    "tests/test_audit.py[01-tensors]": 95,
    "tests/test_audit.py[02-reproducibility]": 90,
    "tests/test_answers.py[03-gpu]": 120,
    "tests/test_grading.py[04-mini-project]": 90,
    "tests/test_grading.py[02-reproducibility]": 85,
    "tests/test_grading.py[01-tensors]": 75,
    "tests/test_grading.py[03-gpu]": 75,
}


def unit_of(nodeid: str) -> str:
    """The unit of work a test belongs to: its file, or for the files split by assignment,
    ``file[assignment]`` when its parameters start with an assignment's name."""
    path, _, rest = nodeid.partition("::")
    params = re.search(r"\[(.*)\]$", rest)
    if path in SPLIT_BY_ASSIGNMENT and params:
        for name in sorted(ASSIGNMENT_NAMES, key=len, reverse=True):
            if params.group(1).startswith(name):
                return f"{path}[{name}]"
    return path


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """`--dist loadfile` with the files above split by assignment, longest units first."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LongestFirst(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of(nodeid)

        def _assign_work_unit(self, node) -> None:
            longest = max(self.workqueue, key=lambda unit: UNIT_SECONDS.get(
                unit, len(self.workqueue[unit])))
            self.workqueue.move_to_end(longest, last=False)
            super()._assign_work_unit(node)

    return LongestFirst(config, log)
