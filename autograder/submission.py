"""Read what a student handed in: an ``.ipynb``, an otter export ``.zip``, or a folder of them.

Reading never raises for bad input: a file that is not a usable notebook becomes a
``Submission`` with ``problem`` set, so it still gets its row in the gradebook.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.bundle import Bundle
from autograder.errors import AutograderError

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
SUBMISSION_SUFFIXES = (".ipynb", ".zip")


@dataclass(frozen=True)
class Submission:
    stem: str  # unique within a batch; names the result files
    path: Path
    cells: tuple[str, ...] = ()  # code cells' source, in order
    cell_ids: tuple[str | None, ...] = ()  # their notebook cell ids (None where absent)
    problem: str = ""  # why it cannot be graded; empty when it can
    notes: tuple[str, ...] = field(default=())  # graded anyway, but the instructor should know


def collect_submissions(paths: list[Path]) -> list[Path]:
    """Expand folders into their submission files (one per student), keeping order stable."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir()
                                if p.is_file() and p.suffix.lower() in SUBMISSION_SUFFIXES))
        elif path.exists():
            found.append(path)
        else:
            raise AutograderError(f"no such submission file or folder: {path}")
    return found


def unique_stems(paths: list[Path]) -> list[str]:
    """A file-name-safe, unique stem per path (``alice``, ``alice-2`` for a second alice)."""
    stems: list[str] = []
    seen: set[str] = set()
    for path in paths:
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", path.stem).strip("._") or "submission"
        stem, n = base, 2
        while stem in seen:
            stem, n = f"{base}-{n}", n + 1
        seen.add(stem)
        stems.append(stem)
    return stems


def _notebook_bytes(path: Path) -> bytes:
    """The notebook inside a submission file (an .ipynb, or the one .ipynb in an export zip)."""
    if path.stat().st_size == 0:
        raise ValueError("the file is empty")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            notebooks = [i for i in zf.infolist() if i.filename.endswith(".ipynb") and
                         not i.filename.startswith("__MACOSX") and not i.is_dir()]
            if len(notebooks) != 1:
                raise ValueError(f"the zip holds {len(notebooks)} notebooks; expected exactly one")
            if notebooks[0].file_size > MAX_NOTEBOOK_BYTES:
                raise ValueError("the notebook in the zip is larger than 20 MB")
            return zf.read(notebooks[0])
    if path.suffix.lower() == ".zip":
        raise ValueError("the file is named .zip but is not a readable zip archive")
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise ValueError("the file is larger than 20 MB")
    return path.read_bytes()


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(str(s) for s in source)
    if not isinstance(source, str):
        raise ValueError("a cell's source is neither text nor a list of lines")
    return source


def read_submission(path: Path, stem: str, bundle: Bundle) -> Submission:
    """Read and check one submission against the bundle it is graded with."""
    try:
        raw = _notebook_bytes(path)
        try:
            nb = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise ValueError("the file is not text (not a notebook)") from None
        except json.JSONDecodeError as error:
            hint = " (truncated?)" if error.pos >= len(raw.rstrip()) - 1 else ""
            raise ValueError(f"not valid notebook JSON at line {error.lineno}: {error.msg}"
                             f"{hint}") from None
        if not isinstance(nb, dict):
            raise ValueError("the file is JSON but not a Jupyter notebook")
        if isinstance(nb.get("nbformat"), int) and nb["nbformat"] != 4:
            raise ValueError(f"notebook format {nb['nbformat']} is not supported (expected 4: "
                             "open and save it in a current Jupyter)")
        if not isinstance(nb.get("cells"), list):
            raise ValueError("the file is JSON but not a Jupyter notebook (no cells)")
        cells = [c for c in nb["cells"] if isinstance(c, dict)]
        code_cells = [c for c in cells if c.get("cell_type") == "code"]
        code = tuple(_source(c) for c in code_cells)
        code_ids = tuple(c.get("id") if isinstance(c.get("id"), str) else None
                         for c in code_cells)
    except (ValueError, OSError, zipfile.BadZipFile, zipfile.LargeZipFile) as error:
        return Submission(stem=stem, path=path, problem=f"{path.name}: {error}")

    metadata = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    notes: list[str] = []
    otter = metadata.get("otter") if isinstance(metadata.get("otter"), dict) else {}
    belongs_to = otter.get("assignment_name")
    if belongs_to and belongs_to != bundle.assignment:
        return Submission(stem=stem, path=path, problem=(
            f"{path.name}: this notebook is for assignment {belongs_to!r}, not "
            f"{bundle.assignment!r} (wrong file submitted?)"))
    if not belongs_to:
        notes.append("the notebook carries no assignment name (re-created or renamed "
                      "notebook?); graded against this assignment anyway")
    kernel = metadata.get("kernelspec") if isinstance(metadata.get("kernelspec"), dict) else {}
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
    return Submission(stem=stem, path=path, cells=code, cell_ids=code_ids, notes=tuple(notes))


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


def checkpoints(submission: Submission, questions: list[str],
                answer_cells: dict[str, list[str]]) -> list[tuple[int, str]]:
    """Where each question is judged: before the notebook's own ``grader.check("qN")`` cell;
    where the student deleted it, after the question's last answer cell; else at the end.
    Ordered as the notebook runs."""
    check_cells: dict[str, int] = {}
    for index, source in enumerate(submission.cells):
        for line in source.splitlines():
            match = _CHECK_CALL.match(line.strip())
            if match and is_otter_cell(source):
                check_cells.setdefault(match["question"], index)
    where = {}
    for question in questions:
        if question in check_cells:
            where[question] = check_cells[question]
            continue
        ids = set(answer_cells.get(question, []))
        found = [i for i, cell_id in enumerate(submission.cell_ids) if cell_id in ids]
        where[question] = max(found) + 1 if found else len(submission.cells)
    order = {q: n for n, q in enumerate(questions)}
    return sorted(((i, q) for q, i in where.items()), key=lambda p: (p[0], order[p[1]]))
