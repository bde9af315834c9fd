"""Read and validate an instructor notebook (otter assign's v1 format, exception-based tests).

Errors name the notebook, the question and the problem, in the instructor's terms: a YAML error
names the line of the cell where the mistake is, and an unknown configuration key is refused
with the nearest known one ("did you mean `hidden`?"), because otter ignores a misspelt key
silently and the mistake shows up much later, as something else.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import yaml

from autograder.errors import ReleaseError
from autograder.kit.notebook_file import cell_label

# The configuration otter-grader 7.0.0 reads (otter/assign/assignment.py, question_config.py,
# tests_manager.py); a key outside these does nothing there.
ASSIGNMENT_KEYS = frozenset({
    "name", "config_file", "requirements", "overwrite_requirements", "environment",
    "run_tests", "solutions_pdf", "template_pdf", "init_cell", "check_all_cell", "export_cell",
    "seed", "generate", "save_environment", "ignore_modules", "files", "autograder_files",
    "student_files", "plugins", "tests", "show_question_points", "runs_on", "python_version",
    "channel_priority_strict", "strip_solutions_from_all_cells", "suppress_no_tests_warning",
})
# Sections of the assignment config that are mappings of their own (``generate`` holds otter
# generate's Gradescope settings, checked by otter).
ASSIGNMENT_SECTION_KEYS = {
    "tests": frozenset({"files", "ok_format", "url_prefix"}),
    "export_cell": frozenset({"instructions", "pdf", "filtering", "force_save", "run_tests",
                              "files", "require_no_pdf_ack", "ignore_log"}),
    "seed": frozenset({"variable", "autograder_value", "student_value"}),
}
QUESTION_KEYS = frozenset({"name", "points", "manual", "check_cell", "export",
                           "all_or_nothing"})
TEST_KEYS = frozenset({"points", "hidden", "success_message", "failure_message"})

TEST_CONFIG_OPEN = '""" # BEGIN TEST CONFIG'
TEST_CONFIG_CLOSE = '""" # END TEST CONFIG'


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


# --- cells ---------------------------------------------------------------------------------


def raw_source(cell: nbformat.NotebookNode) -> str:
    return "".join(cell.get("source", ""))


def marker(cell: nbformat.NotebookNode) -> str:
    """The block marker a raw cell starts with (``# BEGIN QUESTION`` ...), else ''."""
    if cell.cell_type != "raw":
        return ""
    first = raw_source(cell).strip().splitlines()[:1]
    return first[0].strip().upper() if first else ""


def config_body(cell: nbformat.NotebookNode) -> tuple[str, int]:
    """The YAML after a raw cell's marker line, and the cell line (1-based) it starts on."""
    lines = raw_source(cell).splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip())
    return "\n".join(lines[first + 1:]), first + 2


# --- YAML and keys -------------------------------------------------------------------------


def _culprit_line(text: str, mark_line: int) -> int | None:
    """The line (0-based) a YAML error really comes from. PyYAML reports where it gave up:
    for ``points 2`` (no colon) that is the next line, read as the rest of the same value.
    The first line up to there that is neither a key, a list item nor a comment is the one."""
    for index, line in enumerate(text.splitlines()[:mark_line + 1]):
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", "-")) and ":" not in stripped:
            return index
    return None


def load_yaml(path: Path, text: str, first_line: int, what: str,
              question: str | None = None) -> dict[str, Any]:
    """A YAML mapping; errors name the cell's line (``first_line``: the cell line of
    ``text``'s first line)."""
    try:
        config = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        if mark is None:
            raise ReleaseError(path, f"{what} is not valid YAML: {error}",
                               question=question) from None
        culprit = _culprit_line(text, mark.line)
        if culprit is not None:
            line = text.splitlines()[culprit].strip()
            raise ReleaseError(path, f"{what} is not valid YAML (line {first_line + culprit} of "
                               f"the cell): `{line}` is not a `key: value` line (missing "
                               "colon?)", question=question) from None
        problem = getattr(error, "problem", None) or str(error)
        raise ReleaseError(path, f"{what} is not valid YAML (line {first_line + mark.line} of "
                           f"the cell): {problem}", question=question) from None
    if not isinstance(config, dict):
        raise ReleaseError(path, f"{what} must be a YAML mapping (key: value lines)",
                           question=question)
    return config


def check_keys(path: Path, config: dict[str, Any], known: frozenset[str], what: str,
               question: str | None = None) -> None:
    """Refuse a key otter would ignore, naming it and the nearest known key."""
    for key in config:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), sorted(known), n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"known: {', '.join(sorted(known))}"
        raise ReleaseError(path, f"{what} has an unknown key `{key}` ({hint})",
                           question=question)


def _check_assignment_config(path: Path, config: dict[str, Any]) -> None:
    check_keys(path, config, ASSIGNMENT_KEYS, "ASSIGNMENT CONFIG")
    for section, known in ASSIGNMENT_SECTION_KEYS.items():
        if isinstance(config.get(section), dict):
            check_keys(path, config[section], known, f"ASSIGNMENT CONFIG `{section}`")


# --- test cells ------------------------------------------------------------------------------


def _read_test_cell(path: Path, cell: nbformat.NotebookNode, question: str) -> TestSpec:
    source = raw_source(cell)
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
    config: dict[str, Any] = {}
    if source.lstrip().startswith(TEST_CONFIG_OPEN):
        header, sep, _ = source.partition(TEST_CONFIG_CLOSE)
        if not sep:
            raise ReleaseError(path, f"test {name} opens TEST CONFIG but never closes it",
                               question=question)
        opened = header.index(TEST_CONFIG_OPEN)
        first_line = header[:opened].count("\n") + 1  # the YAML starts on the marker's line
        text = header[opened + len(TEST_CONFIG_OPEN):]
        config = load_yaml(path, text, first_line, f"the TEST CONFIG of {name}", question)
        check_keys(path, config, TEST_KEYS, f"the TEST CONFIG of {name}", question)
    points = config.get("points")
    if isinstance(points, bool) or not isinstance(points, int | float) or points < 0:
        raise ReleaseError(path, f"test {name} must state its points (a number >= 0) in its "
                           "TEST CONFIG", question=question)
    hidden = config.get("hidden", False)
    if not isinstance(hidden, bool):
        raise ReleaseError(path, f"test {name}: hidden must be true or false", question=question)
    return TestSpec(name=name, points=float(points), hidden=hidden)


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


# --- the notebook ----------------------------------------------------------------------------


def read_instructor_notebook(path: Path) -> InstructorNotebook:
    """Parse and validate an instructor notebook; raise ``ReleaseError`` naming what is wrong."""
    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - any read failure means "not a notebook"
        raise ReleaseError(path, f"is not a readable notebook ({type(error).__name__}: "
                           f"{str(error).splitlines()[0] if str(error) else ''})") from None

    config_cells = [c for c in nb.cells if marker(c) == "# ASSIGNMENT CONFIG"]
    if len(config_cells) != 1:
        raise ReleaseError(path, "needs exactly one raw cell starting with # ASSIGNMENT CONFIG")
    config = load_yaml(path, *config_body(config_cells[0]), "ASSIGNMENT CONFIG")
    _check_assignment_config(path, config)
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
            raise ReleaseError(path, f"{cell_label(index, raw_source(cell))} is stored with "
                               "outputs; clear outputs before committing (Kernel > Restart "
                               "Kernel and Clear Outputs of All Cells)", question=question)
        block = marker(cell)
        if block == "# BEGIN QUESTION":
            if question is not None:
                raise ReleaseError(path, "a question starts before the previous one ended "
                                   "(missing # END QUESTION)", question=question)
            what = f"BEGIN QUESTION ({cell_label(index)})"
            qconfig = load_yaml(path, *config_body(cell), what)
            check_keys(path, qconfig, QUESTION_KEYS, what)
            question = str(qconfig.get("name") or "")
            if not question:
                raise ReleaseError(path, f"BEGIN QUESTION in {cell_label(index)} has no name")
            if question in seen:
                raise ReleaseError(path, "the question name is used twice", question=question)
            seen.add(question)
            tests = []
        elif block == "# BEGIN TESTS":
            in_tests = True
        elif block == "# END TESTS":
            in_tests = False
        elif block == "# END QUESTION":
            if question is None:
                raise ReleaseError(path, f"# END QUESTION in {cell_label(index)} has no BEGIN "
                                   "QUESTION")
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


def find_instructor_notebook(assignment_dir: Path) -> Path:
    notebooks = sorted(p for p in Path(assignment_dir).glob("*.ipynb"))
    if len(notebooks) != 1:
        raise ReleaseError(assignment_dir, f"must hold exactly one instructor notebook, found "
                           f"{len(notebooks)}")
    return notebooks[0]
