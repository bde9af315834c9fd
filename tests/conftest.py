"""Shared fixtures: every assignment released once per test session into temporary folders,
with the real otter assign and the real grading engine."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autograder.audit.mutants import answer_cell_index  # noqa: F401 - tests import it from here
from autograder.authoring.release import Release, build_release, find_assignments

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ROOT / "assignments"
ASSIGNMENT_NAMES = [p.name for p in find_assignments(ASSIGNMENTS)]


@pytest.fixture(scope="session")
def build_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("build")


class _Releases(dict):
    """Assignment name -> Release; a build error is raised where that release is used, so
    one broken assignment fails its own tests, not everyone's."""

    def __init__(self, built: dict[str, Release | Exception]) -> None:
        super().__init__(built)

    def __getitem__(self, name: str) -> Release:
        value = super().__getitem__(name)
        if isinstance(value, Exception):
            pytest.fail(f"release of {name} failed: {value}")
        return value


@pytest.fixture(scope="session")
def releases(build_root: Path) -> dict[str, Release]:
    """Every assignment built from source (not the committed student/ folder)."""
    built: dict[str, Release | Exception] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {folder.name: pool.submit(build_release, folder,
                                            student_root=build_root / "student",
                                            dist_root=build_root / "dist", force=True)
                   for folder in find_assignments(ASSIGNMENTS)}
    for name, future in futures.items():
        try:
            built[name] = future.result()
        except Exception as error:  # noqa: BLE001 - reported by the tests that need it
            built[name] = error
    return _Releases(built)


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
def tensors_release(build_root: Path) -> Release:
    """01-tensors built alone, for tests that need one real release rather than all four."""
    one = build_root / "one"
    return build_release(ASSIGNMENTS / "01-tensors", student_root=one / "student",
                         dist_root=one / "dist", force=True)


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
