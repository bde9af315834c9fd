"""Where the suite is: the folder whose ``assignments/`` holds the instructor notebooks, and
where their releases go (``student/``, ``dist/``).

Found, in order, from: the ``--suite`` option, the ``AUTOGRADER_SUITE`` environment
variable, the working folder or a folder above it holding ``assignments/``, and the checkout
this package runs from (an editable install, as ``make install`` makes). So an assignment
name works wherever the command runs, a CI job's course repository included.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import AutograderError, UnknownAssignmentError

SUITE_ENV = "AUTOGRADER_SUITE"
PACKAGE_CHECKOUT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Suite:
    root: Path

    @property
    def assignments(self) -> Path:
        return self.root / "assignments"

    @property
    def student(self) -> Path:
        return self.root / "student"

    @property
    def dist(self) -> Path:
        return self.root / "dist"

    @property
    def examples(self) -> Path:
        return self.root / "examples"


def _holds_assignments(folder: Path) -> bool:
    return (folder / "assignments").is_dir()


def find_suite(option: str | None = None, *, new_here: bool = False) -> Suite:
    """The suite, from ``option`` (``--suite``), else as the module docstring says.
    ``new_here``: where no folder holds ``assignments/``, the working folder (a new course
    starts there), never this package's checkout."""
    for value, where in ((option, "--suite"), (os.environ.get(SUITE_ENV), SUITE_ENV)):
        if value:
            root = Path(value)
            if not root.is_dir():
                raise AutograderError(f"{where} {root}: no such folder")
            if not _holds_assignments(root):
                raise AutograderError(f"{where} {root}: not the suite's folder (it has no "
                                      "assignments/ folder)")
            return Suite(root.resolve())
    cwd = Path.cwd()
    for folder in (cwd, *cwd.parents):
        if _holds_assignments(folder):
            return Suite(Path(os.path.relpath(folder)))  # messages name paths as typed
    if new_here:
        return Suite(cwd)
    if _holds_assignments(PACKAGE_CHECKOUT):
        return Suite(PACKAGE_CHECKOUT)
    raise AutograderError(f"cannot find the suite's assignments/ folder from {cwd}: run in "
                          f"the suite's folder, pass --suite DIR or set {SUITE_ENV}")


def resolve_bundle(name_or_path: str, *, suite: str | None = None) -> Path:
    """An assignment name (its bundle is built if missing or stale) or a bundle path (a
    ``.zip`` or an unpacked bundle folder). ``suite``: the ``--suite`` option."""
    path = Path(name_or_path)
    if path.suffix == ".zip" or (path.is_dir() and (path / "tests").is_dir()):
        if not path.exists():
            raise AutograderError(f"no such bundle: {path}")
        return path
    if len(path.parts) > 1 and not (path.is_dir() and any(path.glob("*.ipynb"))):
        raise UnknownAssignmentError(f"{name_or_path}: neither an assignment (a name, or its "
                                     "folder) nor a bundle (.zip or an unpacked bundle folder)")
    # Only an assignment by name needs the release machinery (otter, nbformat: seconds to
    # import); a bundle path is graded without it.
    from autograder.authoring.release import build_release, resolve_assignment

    found = find_suite(suite)
    folder = resolve_assignment(found.assignments, name_or_path)
    return build_release(folder, student_root=found.student, dist_root=found.dist).bundle


@dataclass(frozen=True)
class ReleaseFiles:
    """A release's bundle, the notebook students were given and the reference solution."""

    bundle: Path
    student_notebook: Path
    solution: Path


def resolve_release_files(name_or_path: str, *, suite: str | None = None) -> ReleaseFiles:
    """As ``resolve_bundle``, with the release's other two notebooks: a bundle in a suite's
    ``dist/NN-name/`` has the solution beside it and the student notebook in
    ``student/NN-name/``, as ``release`` writes them."""
    bundle = resolve_bundle(name_or_path, suite=suite)
    folder = bundle.parent if bundle.suffix == ".zip" else bundle
    solution = folder / "solution.ipynb"
    students = sorted((folder.parent.parent / "student" / folder.name).glob("*.ipynb"))
    if not solution.is_file() or len(students) != 1:
        raise AutograderError(
            f"{bundle}: cannot find its release's notebooks (the solution beside it, "
            f"{solution}, and one notebook in {folder.parent.parent / 'student' / folder.name}/"
            "); name the assignment instead, or keep the bundle where `release` wrote it")
    return ReleaseFiles(bundle=bundle, student_notebook=students[0], solution=solution)
