"""Read what a student handed in: an ``.ipynb``, an otter export ``.zip``, or a folder of them.

Reading never raises for bad input: a file that is not a usable notebook becomes a
``Submission`` with ``problem`` set, so it still gets its row in the gradebook.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from autograder.bundle import Bundle
from autograder.errors import AutograderError
from autograder.grading.names import unique_file_stems, unique_names
from autograder.kit.notebook_file import cell_source, is_code_cell, read_notebook_file

SUBMISSION_SUFFIXES = (".ipynb", ".zip")


@dataclass(frozen=True)
class Submission:
    stem: str  # unique within a batch; names the result files (``names.file_stem``)
    path: Path
    cells: tuple[str, ...] = ()  # code cells' source, in order
    cell_ids: tuple[str | None, ...] = ()  # their notebook cell ids (None where absent)
    # Their places among all the notebook's cells (from 0): messages name a cell by the
    # number a person sees (``kit.notebook_file.cell_label``).
    cell_positions: tuple[int, ...] = ()
    problem: str = ""  # why it cannot be graded; empty when it can
    notes: tuple[str, ...] = field(default=())  # graded anyway, but the instructor should know
    name: str = ""  # its gradebook name, unique within a batch; the stem where not given

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.stem)


@dataclass(frozen=True)
class Entry:
    """One gradebook row of a batch, as found on disk, before anything is read.

    Every file and folder given, or found at the top of a folder given, is one entry: a
    notebook or export zip (graded), a student's folder (graded as the one notebook or zip
    it holds, and named by the folder), or anything else (listed, ``invalid``).
    """

    path: Path  # what is graded: the file, or the notebook or zip in a student's folder
    name: str  # the gradebook's name: the file's stem, the folder's name, or a file's name
    stem: str  # names the output files: a file-system-safe form of ``name``
    problem: str = ""  # set when there is nothing to grade, whatever the file holds
    notes: tuple[str, ...] = ()  # for the instructor: other files in a student's folder


def _is_submission_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in SUBMISSION_SUFFIXES


def _hidden(path: Path, top: Path) -> bool:
    """Inside ``top``: Jupyter's checkpoints, macOS's resource forks, other hidden files."""
    return any(part.startswith(".") or part == "__MACOSX"
               for part in path.relative_to(top).parts)


def _listing(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _student_folder(folder: Path) -> tuple[Path, str, tuple[str, ...]]:
    """The one notebook or export zip a student's folder holds (at any depth), or why none:
    ``(path, problem, notes)``."""
    links = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_symlink())
    if links:
        return folder, (f"{folder.name}/: {_listing(links)} is a symbolic link; a submission "
                        "holds its own files, never links to others"), ()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not _hidden(p, folder))
    found = [p for p in files if _is_submission_file(p)]
    names = [p.relative_to(folder).as_posix() for p in files]
    if len(found) == 1:
        others = [n for n, p in zip(names, files, strict=True) if p != found[0]]
        notes = (f"read {found[0].relative_to(folder).as_posix()} from the folder; also in "
                 f"it, not graded: {_listing(others)}",) if others else ()
        return found[0], "", notes
    if found:
        return folder, (f"{folder.name}/: the folder holds {len(found)} notebooks or export "
                        f"zips ({_listing([p.relative_to(folder).as_posix() for p in found])}"
                        "); expected exactly one"), ()
    what = f"it holds {_listing(names)}" if names else "it is empty"
    return folder, (f"{folder.name}/: the folder holds no notebook (.ipynb) or otter "
                    f"export (.zip); {what}"), ()


def _entry(path: Path) -> tuple[Path, str, str, tuple[str, ...]]:
    """``(what is graded, gradebook name, problem, notes)`` for one file or folder."""
    if path.is_symlink():  # never followed: it could name a classmate's notebook
        name = path.stem if path.suffix.lower() in SUBMISSION_SUFFIXES else path.name
        return path, name, (f"{path.name}: a symbolic link, not a file; hand in the notebook "
                            "itself"), ()
    if path.is_dir():
        graded, problem, notes = _student_folder(path)
        return graded, path.name, problem, notes
    if _is_submission_file(path):
        return path, path.stem, "", ()
    if path.is_file():
        return path, path.name, (f"{path.name}: not a notebook (.ipynb) or an otter export "
                                 "(.zip); nothing to grade"), ()
    return path, path.name, f"{path.name}: not a regular file or folder", ()


def collect_submissions(paths: list[Path]) -> list[Entry]:
    """The batch's rows: each file given, each folder given expanded into its entries (every
    file and folder at its top, in name order). Raises only for a path that does not exist."""
    found: list[tuple[Path, str, str, tuple[str, ...]]] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(_entry(child) for child in sorted(path.iterdir()))
        elif path.exists() or path.is_symlink():
            found.append(_entry(path))
        else:
            raise AutograderError(f"no such submission file or folder: {path}")
    names = unique_names(name for _, name, _, _ in found)
    stems = unique_file_stems(names)
    return [Entry(path=graded, name=name, stem=stem, problem=problem, notes=notes)
            for (graded, _, problem, notes), name, stem in zip(found, names, stems, strict=True)]


def read_submission(path: Path, stem: str, bundle: Bundle, *, name: str = "",
                    notes: tuple[str, ...] = ()) -> Submission:
    """Read and check one submission against the bundle it is graded with. ``name``: its
    gradebook name (default: ``stem``); ``notes``: already known about it (``Entry.notes``)."""
    submission = _read(path, stem, bundle)
    return replace(submission, name=name or stem, notes=(*notes, *submission.notes))


def _object(value: object) -> dict[str, Any]:
    """A JSON object field: ``value`` where it is an object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _read(path: Path, stem: str, bundle: Bundle) -> Submission:
    try:
        nb = read_notebook_file(path)
        cells = [c for c in nb["cells"] if isinstance(c, dict)]
        code_cells = [c for c in cells if is_code_cell(c)]
        positions = tuple(i for i, c in enumerate(cells) if is_code_cell(c))
        code = tuple(cell_source(c) for c in code_cells)
        code_ids = tuple(c.get("id") if isinstance(c.get("id"), str) else None
                         for c in code_cells)
    except (ValueError, OSError, zipfile.BadZipFile, zipfile.LargeZipFile) as error:
        return Submission(stem=stem, path=path, problem=f"{path.name}: {error}")

    metadata = _object(nb.get("metadata"))
    notes: list[str] = []
    otter = _object(metadata.get("otter"))
    belongs_to = otter.get("assignment_name")
    if belongs_to and belongs_to != bundle.assignment:
        return Submission(stem=stem, path=path, problem=(
            f"{path.name}: this notebook is for assignment {belongs_to!r}, not "
            f"{bundle.assignment!r} (wrong file submitted?)"))
    if not belongs_to:
        notes.append("the notebook carries no assignment name (re-created or renamed "
                      "notebook?); graded against this assignment anyway")
    kernel = _object(metadata.get("kernelspec"))
    language = str(kernel.get("language") or "python").lower()
    if language != "python":
        return Submission(stem=stem, path=path, problem=(
            f"{path.name}: the notebook's kernel is {kernel.get('name')!r} ({language}), "
            "not Python"))
    if kernel.get("name") and not str(kernel["name"]).startswith("python"):
        notes.append(f"unknown kernelspec {kernel['name']!r}; graded with Python 3")
    ids = {c.get("id") for c in cells}
    for question, answer_ids in bundle.answer_cells.items():
        if answer_ids and not any(i in ids for i in answer_ids):
            notes.append(f"{question}: the answer cell is missing (deleted or replaced?)")
    submission = Submission(stem=stem, path=path, cells=code, cell_ids=code_ids,
                            cell_positions=positions, notes=tuple(notes))
    if bundle.code_cells and not carries_release_ids(submission, bundle):
        submission = replace(submission, notes=(*submission.notes, (
            "the notebook's cells carry none of the release's cell ids (re-created, or saved "
            "as an older notebook format?): each question was judged at the notebook's own "
            "grader.check cell for it")))
    elif bundle.code_cells:
        unplaced = [q for q, at in _release_places(submission, bundle).items() if at is None]
        if unplaced:
            submission = replace(submission, notes=(*submission.notes, (
                f"{', '.join(unplaced)}: none of the release's cells from the question's check "
                "on is left (deleted, or their ids changed): judged at the end of the "
                "notebook")))
    return submission


def is_otter_cell(source: str) -> bool:
    """The cells otter assign adds (init, check, export) are not the student's work."""
    lines = [ln.strip() for ln in source.splitlines() if ln.strip() and
             not ln.strip().startswith("#")]
    if not lines:
        return False
    if source.lstrip().startswith("# Initialize Otter"):
        return True
    return all(ln.startswith(("grader.check", "grader.export")) for ln in lines)


_CHECK_CALL = re.compile(r"""^grader\.check\(\s*(['"])(?P<question>[^'"]+)\1\s*\)$""")


def carries_release_ids(submission: Submission, bundle: Bundle) -> bool:
    """Whether the notebook keeps the cell ids the release gave its code cells (editors keep
    them; a notebook re-created or saved as nbformat 4.4 loses them)."""
    return not set(bundle.code_cells).isdisjoint(submission.cell_ids)


def _release_places(submission: Submission, bundle: Bundle) -> dict[str, int | None]:
    """Question -> the index of the first code cell that carries the id of one of the
    release's code cells from the question's check cell on (None: none is left)."""
    order = {cell_id: n for n, cell_id in enumerate(bundle.code_cells)}
    places: dict[str, int | None] = {}
    for question in bundle.questions:
        start = order.get(bundle.check_cells.get(question.name, ""), len(order))
        found = [i for i, cell_id in enumerate(submission.cell_ids)
                 if cell_id is not None and order.get(cell_id, -1) >= start]
        places[question.name] = min(found, default=None)
    return places


def checkpoints(submission: Submission, bundle: Bundle) -> list[tuple[int, str]]:
    """Where each question is judged: before the first of the release's code cells, found by
    the ids the release gave them, from the question's check cell on. So a renamed, added or
    moved ``grader.check`` line changes nothing, and no code the release placed after a check
    runs before that question is judged; cells the student added run where she put them.
    Where none of those cells is left, at the end, and the row says so. A notebook without the
    release's ids is judged at its own ``grader.check("qN")`` cells (its row says so too).
    Ordered as it runs."""
    questions = [q.name for q in bundle.questions]
    where: dict[str, int] = {}
    if carries_release_ids(submission, bundle):
        for question, at in _release_places(submission, bundle).items():
            where[question] = len(submission.cells) if at is None else at
    else:
        for index, source in enumerate(submission.cells):
            for line in source.splitlines():
                match = _CHECK_CALL.match(line.strip())
                if match and is_otter_cell(source) and match["question"] in questions:
                    where.setdefault(match["question"], index)
        for question in questions:
            where.setdefault(question, len(submission.cells))
    rank = {q: n for n, q in enumerate(questions)}
    return sorted(((i, q) for q, i in where.items()), key=lambda p: (p[0], rank[p[1]]))
