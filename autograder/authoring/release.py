"""Release: instructor notebook -> student release + autograder bundle.

``otter assign`` does the splitting (solutions out, hidden tests out, check cells in); this module
validates the instructor notebook first (``instructor``: errors name the notebook and the
question), makes the output reproducible (stable cell ids, stable zip entries), adds the check
helpers and our Gradescope entry point, and verifies the build with our own engine before it
replaces the previous one: the reference solution scores 100%, and every test worth points
fails on the blank release. ``build_state`` records what was verified.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import nbformat
import yaml

from autograder.authoring import build_state
from autograder.authoring.instructor_notebook import (
    InstructorNotebook,
    config_body,
    find_instructor_notebook,
    marker,
    raw_source,
    read_instructor_notebook,
)
from autograder.authoring.setup_cell import FIRST_LINE, PACKED_HELPERS, setup_cell_source
from autograder.authoring.student_env import (
    INSTALL_LINE,
    REQUIREMENTS_FILE,
    UnknownImportError,
    student_environment,
)
from autograder.authoring.student_readme import student_readme
from autograder.bundle import MANIFEST
from autograder.errors import ReleaseError, UnknownAssignmentError

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the autograder package
# Shipped to students and into bundles so tests can `from autograder.kit.checks import ...`.
SHIPPED_HELPERS = ("__init__.py", "kit/__init__.py", "kit/checks.py", "kit/probes.py",
                   "kit/regular_files.py", "kit/notebook_file.py", "kit/notebook_shell.py",
                   "kit/validate.py")
# Said above the export cell, in place of otter's text (about images and PDFs, which our
# export makes none of): menu names as JupyterLab 4 and Colab show them.
SUBMISSION_HEADING = "## Submission"
EXPORT_INSTRUCTIONS = (
    "Save the notebook first (*File > Save Notebook*): the cell below zips the notebook that "
    "is open, as it is saved. **On Colab** it cannot zip (otter's export does not run there): "
    "download the notebook instead (*File > Download > Download .ipynb*) and submit that "
    "`.ipynb`.")
# Fixed timestamp for zip entries so building twice gives the same bytes.
ZIP_EPOCH = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Release:
    """What one release build produced."""

    name: str
    student_notebook: Path
    bundle: Path
    solution: Path
    rebuilt: bool  # False when the inputs were unchanged and the build was skipped


def find_assignments(assignments_root: Path) -> list[Path]:
    """Assignment folders (those holding a notebook), sorted by name."""
    root = Path(assignments_root)
    return sorted(p for p in root.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def resolve_assignment(assignments_root: Path, name: str) -> Path:
    """An assignment folder, from its name (``05-autograd``) or its path
    (``assignments/05-autograd``, as a shell completes it)."""
    folder, path = Path(assignments_root) / name, Path(name)
    if not folder.is_dir() and path.is_dir() and any(path.glob("*.ipynb")):
        return path
    if not folder.is_dir():
        known = ", ".join(p.name for p in find_assignments(assignments_root)) or "none"
        raise UnknownAssignmentError(f"no assignment named {name!r} (known: {known})")
    return folder


# --- building ------------------------------------------------------------------------------


def _input_fingerprint(notebook: Path) -> str:
    """Everything a release is made from: the notebook, and the package and pins that are
    copied into the student folder and the bundle."""
    digest = hashlib.sha256()
    for part in [notebook, PACKAGE_DIR.parent / "constraints.txt",
                 *sorted(PACKAGE_DIR.rglob("*.py"))]:
        digest.update(part.name.encode())
        digest.update(part.read_bytes())
    return digest.hexdigest()


def _staged_config_cell(nb: nbformat.NotebookNode) -> None:
    """Add our helper package to the assignment's support files (shipped to students/bundle)."""
    for cell in nb.cells:
        if marker(cell) == "# ASSIGNMENT CONFIG":
            config = yaml.safe_load(config_body(cell)[0]) or {}
            files = list(config.get("files") or [])
            if "autograder" not in files:
                files.append("autograder")
            config["files"] = files
            config.setdefault("export_cell", {"pdf": False, "run_tests": False,
                                              "instructions": EXPORT_INSTRUCTIONS})
            cell.source = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False)


def _normalise_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Stable cell ids, no outputs, no execution counts: the same input gives the same bytes.
    Cell ids belong to nbformat 4.5: a notebook written as 4.4 with them is invalid, and
    editors may drop them (Colab keeps the ids of a 4.5 notebook it opens)."""
    nb.nbformat_minor = max(nb.nbformat_minor, 5)
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index:03d}"
        if cell.cell_type == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell["metadata"].pop("execution", None)
    return nb


def _with_our_submission_text(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Our instructions alone above the export cell, and no empty cell after it (otter ends
    the notebook with one)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and raw_source(cell).startswith(SUBMISSION_HEADING):
            cell.source = f"{SUBMISSION_HEADING}\n\n{EXPORT_INSTRUCTIONS}"
    while nb.cells and not raw_source(nb.cells[-1]).strip():
        nb.cells.pop()
    return nb


def _question_cells(nb: nbformat.NotebookNode) -> dict[str, dict[str, Any]]:
    """Question -> the ids of its answer cells (those before its ``grader.check`` cell) and of
    its check cell: the grader judges a question at the release's check cell, whatever the
    student's copy says there, and tells an instructor when a student deleted an answer."""
    found: dict[str, dict[str, Any]] = {}
    pending: list[str] = []
    for cell in nb.cells:
        if "otter_answer_cell" in cell.get("metadata", {}).get("tags", []):
            pending.append(cell["id"])
        match = re.match(r'\s*grader\.check\(["\'](\w+)["\']\)', raw_source(cell))
        if cell.cell_type == "code" and match:
            found[match.group(1)] = {"answers": pending, "check": cell["id"]}
            pending = []
    return found


def _write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")


def _write_stable_zip(path: Path, entries: dict[str, bytes]) -> None:
    tmp = path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = (0o755 if name in ("run_autograder", "setup.sh") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, entries[name])
    os.replace(tmp, path)


def _run_otter_assign(staged: Path, out: Path, instructor_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "otter", "assign", "--no-run-tests", "--no-pdfs",
         str(staged), str(out)],
        capture_output=True, text=True, cwd=staged.parent,
    )
    if result.returncode != 0:
        lines = [ln for ln in (result.stderr + result.stdout).splitlines() if ln.strip()]
        raise ReleaseError(instructor_path, "otter assign failed: " + (lines[-1] if lines else
                           f"exit code {result.returncode}"))


def _with_setup_cell(nb: nbformat.NotebookNode, name: str, public_tests: dict[str, str],
                     install_line: str) -> nbformat.NotebookNode:
    """Replace otter's init cell (``grader = otter.Notebook("x.ipynb")``: it needs the helpers
    and the tests beside the notebook, and names a file) with ours (``setup_cell``)."""
    for cell in nb.cells:
        if cell.cell_type == "code" and raw_source(cell).lstrip().startswith(FIRST_LINE):
            cell.source = setup_cell_source(name, public_tests, install_line=install_line)
            # JupyterLab shows it collapsed: it is long, and not the student's to read.
            cell.metadata["jupyter"] = {"source_hidden": True}
            return nb
    raise ValueError("otter assign made no init cell")


def _stage(source: Path, name: str, stage: Path) -> tuple[Path, Path, Path]:
    """Build the release into ``stage`` (``student/`` and ``dist/``), nothing else touched.
    Returns the staged student notebook, bundle and solution."""
    work = stage / "work"
    (work / name / "autograder" / "kit").mkdir(parents=True)
    nb = nbformat.read(source, as_version=4)
    _staged_config_cell(nb)
    staged_nb = work / name / source.name
    nbformat.write(nb, staged_nb)
    for helper in SHIPPED_HELPERS:
        shutil.copy2(PACKAGE_DIR / helper, work / name / "autograder" / helper)
    out = work / "out"
    _run_otter_assign(staged_nb, out, source)

    student_nb_built, solution_nb = (
        _normalise_notebook(_with_our_submission_text(nbformat.read(built / source.name, 4)))
        for built in (out / "student", out / "autograder"))
    public_tests = dict(student_nb_built.metadata["otter"]["tests"])
    code = [raw_source(c) for c in student_nb_built.cells if c.cell_type == "code"]
    helpers = [(PACKAGE_DIR / h).read_text(encoding="utf-8") for h in PACKED_HELPERS]
    try:
        environment = student_environment([*code, *public_tests.values(), *helpers])
    except UnknownImportError as error:
        raise ReleaseError(source, str(error)) from None
    for nb in (student_nb_built, solution_nb):  # the reference runs what students run
        _with_setup_cell(nb, name, public_tests, INSTALL_LINE)
    otter_zip = next((out / "autograder").glob("*.zip"))
    with zipfile.ZipFile(otter_zip) as zf:
        entries = {n: zf.read(n) for n in zf.namelist() if not n.endswith("/")}
    shutil.rmtree(work)

    from autograder.authoring.bundle_files import bundle_entries  # the bundle's entry point is ours

    entries.update(bundle_entries())
    cells = _question_cells(student_nb_built)
    entries[MANIFEST] = json.dumps(
        {"assignment": name,
         "answer_cells": {q: c["answers"] for q, c in cells.items()},
         "check_cells": {q: c["check"] for q, c in cells.items()},
         "code_cells": [c.id for c in student_nb_built.cells if c.cell_type == "code"]},
        indent=1, sort_keys=True).encode()
    dist_dir, student_dir = stage / "dist", stage / "student"
    dist_dir.mkdir()
    bundle, solution = dist_dir / "autograder.zip", dist_dir / "solution.ipynb"
    _write_notebook(solution_nb, solution)
    _write_stable_zip(bundle, entries)

    student_nb = student_dir / source.name
    _write_notebook(student_nb_built, student_nb)
    (student_dir / "autograder" / "kit").mkdir(parents=True)
    for helper in SHIPPED_HELPERS:
        shutil.copy2(PACKAGE_DIR / helper, student_dir / "autograder" / helper)
    (student_dir / "autograder" / "kit" / "release.json").write_text(
        json.dumps({"assignment": name}) + "\n", encoding="utf-8")
    (student_dir / REQUIREMENTS_FILE).write_text(environment.requirements_txt(name),
                                                 encoding="utf-8")
    (student_dir / "README.md").write_text(student_readme(name, source.name, environment),
                                           encoding="utf-8")
    return student_nb, bundle, solution


def _verify(spec: InstructorNotebook, bundle: Path, solution: Path, blank: Path) -> None:
    """The reference solution scores 100% and the blank release earns nothing: name the first
    question and check that does not."""
    from autograder.grading.grader import grade_submissions  # release -> grade, never the reverse

    reference, empty = grade_submissions(bundle, [solution, blank], workers=2)
    for result, what in ((reference, "the reference solution"), (empty, "the blank release")):
        if result.status != "graded":
            raise ReleaseError(spec.path, f"{what} could not be graded ({result.status}): "
                               f"{result.message}")
    for question in reference.questions:
        for check in question.checks:
            if check.outcome == "failed":
                raise ReleaseError(spec.path, f"the reference solution fails its own test "
                                   f"{check.name}: {check.message}", question=question.name)
    for question in empty.questions:
        for check in question.checks:
            if check.outcome == "passed" and check.max_points > 0:
                raise ReleaseError(spec.path, f"test {check.name} passes on the blank release "
                                   "(no answer given): a test worth points must fail without "
                                   "an answer (does it assert anything?)",
                                   question=question.name)


def _replace_folder(new: Path, final: Path) -> None:
    """Put a copy of ``new`` where ``final`` is, by renames next to it: a reader sees the old
    folder or the new one, never a mix of files."""
    final.parent.mkdir(parents=True, exist_ok=True)
    incoming, outgoing = (final.parent / f".{final.name}.{what}" for what in ("new", "old"))
    for leftover in (incoming, outgoing):
        shutil.rmtree(leftover, ignore_errors=True)
    shutil.copytree(new, incoming)
    if final.exists():
        os.replace(final, outgoing)
    os.replace(incoming, final)
    shutil.rmtree(outgoing, ignore_errors=True)


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def build_release(assignment_dir: Path, *, student_root: Path, dist_root: Path,
                  force: bool = False) -> Release:
    """Build one assignment's student release and bundle; skip when they are up to date.

    The build happens in a temporary folder and is verified there (``_verify``); only then
    does it replace the previous student release and bundle. When it fails, the previous
    outputs stay, the build state records the failure, and the next call builds again.
    """
    assignment_dir = Path(assignment_dir)
    source = find_instructor_notebook(assignment_dir)
    spec = read_instructor_notebook(source)
    name = spec.name
    student_dir = Path(student_root) / name
    dist_dir = Path(dist_root) / name
    release = Release(name, student_dir / source.name, dist_dir / "autograder.zip",
                      dist_dir / "solution.ipynb", rebuilt=True)
    fingerprint = _input_fingerprint(source)
    state = build_state.read(dist_dir)
    if not force and state.is_current(fingerprint, dist_dir):
        return replace(release, rebuilt=False)

    Path(dist_root).mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".release-{name}-", dir=dist_root)).resolve()
    try:
        student_nb, bundle, solution = _stage(source, name, stage)
        _verify(spec, bundle, solution, student_nb)
        outputs = {stage / "student": student_dir, stage / "dist": dist_dir}
        record = build_state.verified(fingerprint, {
            Path(os.path.relpath(final / file.relative_to(staged), dist_dir)): file
            for staged, final in outputs.items() for file in _files(staged)})
        build_state.write(stage / "dist", record)
        for staged, final in outputs.items():
            _replace_folder(staged, final)
    except Exception as error:
        build_state.write(dist_dir, state.failed(fingerprint, str(error)))
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return release


def build_each(assignment_dirs: Iterable[Path], *, student_root: Path, dist_root: Path,
               force: bool = False, jobs: int | None = None) -> list[Release | ReleaseError]:
    """Build several assignments in parallel (each build is mostly an otter subprocess),
    every one of them: a refused assignment is its ``ReleaseError``, in its place."""
    dirs = list(assignment_dirs)
    jobs = jobs or max(1, min(len(dirs), os.cpu_count() or 1))

    def build(folder: Path) -> Release | ReleaseError:
        try:
            return build_release(folder, student_root=student_root, dist_root=dist_root,
                                 force=force)
        except ReleaseError as error:
            return error

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(build, dirs))


def build_releases(assignment_dirs: Iterable[Path], *, student_root: Path, dist_root: Path,
                   force: bool = False, jobs: int | None = None) -> list[Release]:
    """``build_each``, for callers that need every release: the first refusal is raised,
    after every build finished."""
    built = build_each(assignment_dirs, student_root=student_root, dist_root=dist_root,
                       force=force, jobs=jobs)
    for outcome in built:
        if isinstance(outcome, ReleaseError):
            raise outcome
    return cast(list[Release], built)
