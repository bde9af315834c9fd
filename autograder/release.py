"""Release: instructor notebook -> student release + autograder bundle.

``otter assign`` does the splitting (solutions out, hidden tests out, check cells in); this module
validates the instructor notebook first (so errors name the notebook and the question), makes
the output reproducible (stable cell ids, stable zip entries), adds the check helpers and our
Gradescope entry point, and verifies the reference solution scores 100% with our own engine.
"""

from __future__ import annotations

import ast
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
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

from autograder.bundle import MANIFEST
from autograder.errors import ReleaseError, UnknownAssignmentError

PACKAGE_DIR = Path(__file__).resolve().parent
# Shipped to students and into bundles so tests can `from autograder.checks import ...`.
SHIPPED_HELPERS = ("__init__.py", "checks.py", "validate.py")
# Fixed timestamp for zip entries so building twice gives the same bytes.
ZIP_EPOCH = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class TestSpec:
    """One test function of a question, as declared in the instructor notebook."""

    name: str
    points: float
    hidden: bool


@dataclass(frozen=True)
class QuestionSpec:
    name: str
    tests: tuple[TestSpec, ...]

    @property
    def points(self) -> float:
        return sum(test.points for test in self.tests)


@dataclass(frozen=True)
class InstructorNotebook:
    """A validated instructor notebook."""

    name: str  # the assignment name, equal to its folder name
    path: Path
    questions: tuple[QuestionSpec, ...]


@dataclass(frozen=True)
class Release:
    """What one release build produced."""

    name: str
    student_notebook: Path
    bundle: Path
    solution: Path
    rebuilt: bool  # False when the inputs were unchanged and the build was skipped


# --- reading and validating the instructor notebook ----------------------------------------


def _raw_source(cell: nbformat.NotebookNode) -> str:
    return "".join(cell.get("source", ""))


def _marker(cell: nbformat.NotebookNode) -> str:
    """The block marker a raw cell starts with (``# BEGIN QUESTION`` ...), else ''."""
    if cell.cell_type != "raw":
        return ""
    first = _raw_source(cell).strip().splitlines()[:1]
    return first[0].strip().upper() if first else ""


def _yaml_after_marker(path: Path, cell: nbformat.NotebookNode, what: str,
                       question: str | None = None) -> dict:
    body = "\n".join(_raw_source(cell).strip().splitlines()[1:])
    try:
        config = yaml.safe_load(body) if body.strip() else {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" (line {mark.line + 2} of the cell)" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ReleaseError(path, f"{what} is not valid YAML{line}: {problem}",
                           question=question) from None
    if not isinstance(config, dict):
        raise ReleaseError(path, f"{what} must be a YAML mapping (key: value lines)",
                           question=question)
    return config


def _read_test_cell(path: Path, cell: nbformat.NotebookNode, question: str) -> TestSpec:
    source = _raw_source(cell)
    config: dict = {}
    if source.lstrip().startswith('""" # BEGIN TEST CONFIG'):
        header, sep, _ = source.partition('""" # END TEST CONFIG')
        if not sep:
            raise ReleaseError(path, "a test cell opens TEST CONFIG but never closes it",
                               question=question)
        try:
            config = yaml.safe_load(header.split("# BEGIN TEST CONFIG", 1)[1]) or {}
        except yaml.YAMLError as error:
            raise ReleaseError(path, f"a TEST CONFIG is not valid YAML: {error}",
                               question=question) from None
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ReleaseError(path, f"a test cell has a syntax error (line {error.lineno}): "
                           f"{error.msg}", question=question) from None
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    if len(functions) != 1:
        raise ReleaseError(path, f"each test cell must define exactly one function; one defines "
                           f"{len(functions)}", question=question)
    name = functions[0].name
    points = config.get("points")
    if isinstance(points, bool) or not isinstance(points, int | float) or points < 0:
        raise ReleaseError(path, f"test {name} must state its points (a number >= 0) in its "
                           "TEST CONFIG", question=question)
    hidden = config.get("hidden", False)
    if not isinstance(hidden, bool):
        raise ReleaseError(path, f"test {name}: hidden must be true or false", question=question)
    return TestSpec(name=name, points=float(points), hidden=hidden)


def read_instructor_notebook(path: Path) -> InstructorNotebook:
    """Parse and validate an instructor notebook; raise ``ReleaseError`` naming what is wrong."""
    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - any read failure means "not a notebook"
        raise ReleaseError(path, f"is not a readable notebook ({type(error).__name__}: "
                           f"{str(error).splitlines()[0] if str(error) else ''})") from None

    config_cells = [c for c in nb.cells if _marker(c) == "# ASSIGNMENT CONFIG"]
    if len(config_cells) != 1:
        raise ReleaseError(path, "needs exactly one raw cell starting with # ASSIGNMENT CONFIG")
    config = _yaml_after_marker(path, config_cells[0], "ASSIGNMENT CONFIG")
    folder = path.parent.name
    if config.get("name") != folder:
        raise ReleaseError(path, f"ASSIGNMENT CONFIG name is {config.get('name')!r}; it must "
                           f"equal the folder name {folder!r}")
    if (config.get("tests") or {}).get("ok_format") is not False:
        raise ReleaseError(path, "ASSIGNMENT CONFIG must set tests: {ok_format: false} "
                           "(exception-based tests)")

    questions: list[QuestionSpec] = []
    seen: set[str] = set()
    question: str | None = None
    tests: list[TestSpec] = []
    in_tests = False
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.get("outputs"):
            raise ReleaseError(path, f"cell {index} is stored with outputs; clear outputs before "
                               "committing (Kernel > Restart & Clear Output)", question=question)
        marker = _marker(cell)
        if marker == "# BEGIN QUESTION":
            if question is not None:
                raise ReleaseError(path, "a question starts before the previous one ended "
                                   "(missing # END QUESTION)", question=question)
            qconfig = _yaml_after_marker(path, cell, f"BEGIN QUESTION (cell {index})")
            question = str(qconfig.get("name") or "")
            if not question:
                raise ReleaseError(path, f"BEGIN QUESTION in cell {index} has no name")
            if question in seen:
                raise ReleaseError(path, "the question name is used twice", question=question)
            seen.add(question)
            tests = []
        elif marker == "# BEGIN TESTS":
            in_tests = True
        elif marker == "# END TESTS":
            in_tests = False
        elif marker == "# END QUESTION":
            if question is None:
                raise ReleaseError(path, f"# END QUESTION in cell {index} has no BEGIN QUESTION")
            _check_question_tests(path, question, tests)
            questions.append(QuestionSpec(name=question, tests=tuple(tests)))
            question = None
        elif in_tests and cell.cell_type == "code" and question is not None:
            tests.append(_read_test_cell(path, cell, question))
    if question is not None:
        raise ReleaseError(path, "the question never ends (missing # END QUESTION)",
                           question=question)
    if not questions:
        raise ReleaseError(path, "has no questions (no # BEGIN QUESTION cell)")
    return InstructorNotebook(name=folder, path=path, questions=tuple(questions))


def _check_question_tests(path: Path, question: str, tests: list[TestSpec]) -> None:
    if not tests:
        raise ReleaseError(path, "has no tests (add a # BEGIN TESTS block)", question=question)
    if not any(not t.hidden for t in tests):
        raise ReleaseError(path, "has no public test: students need one sanity check",
                           question=question)
    if not any(t.hidden for t in tests):
        raise ReleaseError(path, "has no hidden test: grading needs at least one",
                           question=question)
    names = [t.name for t in tests]
    if len(set(names)) != len(names):
        raise ReleaseError(path, "two tests share a function name", question=question)


def find_instructor_notebook(assignment_dir: Path) -> Path:
    notebooks = sorted(p for p in Path(assignment_dir).glob("*.ipynb"))
    if len(notebooks) != 1:
        raise ReleaseError(assignment_dir, f"must hold exactly one instructor notebook, found "
                           f"{len(notebooks)}")
    return notebooks[0]


def find_assignments(assignments_root: Path) -> list[Path]:
    """Assignment folders (those holding a notebook), sorted by name."""
    root = Path(assignments_root)
    return sorted(p for p in root.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def resolve_assignment(assignments_root: Path, name: str) -> Path:
    folder = Path(assignments_root) / name
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
        if _marker(cell) == "# ASSIGNMENT CONFIG":
            config = yaml.safe_load("\n".join(_raw_source(cell).strip().splitlines()[1:])) or {}
            files = list(config.get("files") or [])
            if "autograder" not in files:
                files.append("autograder")
            config["files"] = files
            config.setdefault("export_cell", {"pdf": False})
            cell.source = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False)


def _normalise_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Stable cell ids, no outputs, no execution counts: the same input gives the same bytes."""
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index:03d}"
        if cell.cell_type == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell["metadata"].pop("execution", None)
    return nb


def _answer_cells(nb: nbformat.NotebookNode) -> dict[str, list[str]]:
    """Question -> ids of its answer cells (those before its ``grader.check`` cell), so the
    grader can tell an instructor when a student deleted one."""
    found: dict[str, list[str]] = {}
    pending: list[str] = []
    for cell in nb.cells:
        if "otter_answer_cell" in cell.get("metadata", {}).get("tags", []):
            pending.append(cell["id"])
        match = re.match(r'\s*grader\.check\(["\'](\w+)["\']\)', _raw_source(cell))
        if cell.cell_type == "code" and match:
            found[match.group(1)] = pending
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


def _student_readme(name: str, notebook: str) -> str:
    return f"""# {name}

Open `{notebook}` in Jupyter and work through it from top to bottom.

- **Check your work**: after each question, run its `grader.check("qN")` cell. These public
  checks are a sanity check only; the grade comes from more (hidden) checks after you submit.
  A check that needs a GPU is skipped on machines without one and never costs you points.
- **Before you submit**: *Kernel > Restart & Run All*, and make sure every cell runs without an
  error and no cell takes more than a minute. Or let the computer check all of that, from
  this folder: `python -m autograder.validate {notebook}`.
- **Export**: save the notebook, then run the last cell (`grader.export(...)`). It writes a
  `.zip` next to the notebook.
- **Submit** that `.zip` (or the `.ipynb` itself) where your course tells you to.

Keep the `autograder/` folder next to the notebook: the checks import it.
"""


def build_release(assignment_dir: Path, *, student_root: Path, dist_root: Path,
                  force: bool = False, verify: bool = True) -> Release:
    """Build one assignment's student release and bundle; skip when nothing changed."""
    assignment_dir = Path(assignment_dir)
    source = find_instructor_notebook(assignment_dir)
    spec = read_instructor_notebook(source)
    name = spec.name
    student_dir = Path(student_root) / name
    dist_dir = Path(dist_root) / name
    student_nb = student_dir / source.name
    bundle, solution = dist_dir / "autograder.zip", dist_dir / "solution.ipynb"
    stamp = dist_dir / "build.json"
    fingerprint = _input_fingerprint(source)
    outputs = [student_nb, bundle, solution, stamp]
    if not force and all(p.exists() for p in outputs):
        if json.loads(stamp.read_text()).get("fingerprint") == fingerprint:
            return Release(name, student_nb, bundle, solution, rebuilt=False)

    with tempfile.TemporaryDirectory(prefix=f"release-{name}-") as tmp:
        stage = Path(tmp) / name
        stage.mkdir()
        nb = nbformat.read(source, as_version=4)
        _staged_config_cell(nb)
        staged_nb = stage / source.name
        nbformat.write(nb, staged_nb)
        (stage / "autograder").mkdir()
        for helper in SHIPPED_HELPERS:
            shutil.copy2(PACKAGE_DIR / helper, stage / "autograder" / helper)
        out = Path(tmp) / "out"
        _run_otter_assign(staged_nb, out, source)

        student_nb_built = _normalise_notebook(nbformat.read(out / "student" / source.name, 4))
        solution_nb = _normalise_notebook(nbformat.read(out / "autograder" / source.name, 4))
        otter_zip = next((out / "autograder").glob("*.zip"))
        with zipfile.ZipFile(otter_zip) as zf:
            entries = {n: zf.read(n) for n in zf.namelist() if not n.endswith("/")}

    from autograder.bundle_files import bundle_entries  # the bundle's entry point is ours

    entries.update(bundle_entries())
    entries[MANIFEST] = json.dumps({"assignment": name,
                                    "answer_cells": _answer_cells(student_nb_built)},
                                   indent=1, sort_keys=True).encode()
    dist_dir.mkdir(parents=True, exist_ok=True)
    _write_notebook(solution_nb, solution)
    _write_stable_zip(bundle, entries)

    if verify:
        _verify_solution(spec, bundle, solution)

    if student_dir.exists():
        shutil.rmtree(student_dir)
    _write_notebook(student_nb_built, student_nb)
    (student_dir / "autograder").mkdir()
    for helper in SHIPPED_HELPERS:
        shutil.copy2(PACKAGE_DIR / helper, student_dir / "autograder" / helper)
    (student_dir / "autograder" / "release.json").write_text(
        json.dumps({"assignment": name}) + "\n", encoding="utf-8")
    (student_dir / "README.md").write_text(_student_readme(name, source.name), encoding="utf-8")
    stamp.write_text(json.dumps({"fingerprint": fingerprint}) + "\n")
    return Release(name, student_nb, bundle, solution, rebuilt=True)


def _verify_solution(spec: InstructorNotebook, bundle: Path, solution: Path) -> None:
    """The reference solution must score 100%: name the first question and check that fail."""
    from autograder.grade import grade_submissions  # release -> grade, never the reverse

    [result] = grade_submissions(bundle, [solution], workers=1)
    if result.status != "graded":
        raise ReleaseError(spec.path, f"the reference solution could not be graded "
                           f"({result.status}): {result.message}")
    for question in result.questions:
        for check in question.checks:
            if check.outcome == "failed":
                raise ReleaseError(spec.path, f"the reference solution fails its own test "
                                   f"{check.name}: {check.message}", question=question.name)


def build_releases(assignment_dirs: Iterable[Path], *, student_root: Path, dist_root: Path,
                   force: bool = False, jobs: int | None = None) -> list[Release]:
    """Build several assignments in parallel (each build is mostly an otter subprocess)."""
    dirs = list(assignment_dirs)
    jobs = jobs or max(1, min(len(dirs), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(build_release, d, student_root=student_root,
                               dist_root=dist_root, force=force) for d in dirs]
        return [f.result() for f in futures]
