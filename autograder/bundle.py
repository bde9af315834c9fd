"""Read an autograder bundle (the zip ``release`` writes) into memory: the assignment's name,
its questions, and each check's points and visibility, without running anything.

The tests are otter's exception-based test files (``tests/qN.py``). They are parsed here, in
the trusted grader, and handed to the judge as source with otter's decorators removed, so the
judge needs no otter and the points come from the bundle.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.errors import AutograderError

MANIFEST = "autograder_manifest.json"
FRESH_PROCESS_CHECK = "from_fresh_process"  # the kit's name (autograder.kit.checks)


@dataclass(frozen=True)
class CheckSpec:
    name: str
    points: float
    hidden: bool
    failure_message: str = ""
    success_message: str = ""


@dataclass(frozen=True)
class QuestionTests:
    name: str
    checks: tuple[CheckSpec, ...]
    module: str  # test file source without otter's import and decorators
    # Whether a check asks for a fresh run of the notebook (``checks.from_fresh_process``):
    # then the worker starts a second student's process for each submission.
    fresh_process: bool = False

    @property
    def points(self) -> float:
        return sum(c.points for c in self.checks)


@dataclass(frozen=True)
class Bundle:
    path: Path  # the zip, or the folder it was unpacked into (Gradescope's source/)
    digest: str  # sha256 of the bundle's files: a result is reused only for the same tests
    assignment: str
    questions: tuple[QuestionTests, ...]
    answer_cells: dict[str, list[str]]  # question -> ids of its answer cells in the release
    # question -> the id of its grader.check cell in the release, and the ids of all the
    # release's code cells in order: a question is judged before any of them from its check on
    check_cells: dict[str, str] = field(default_factory=dict)
    code_cells: tuple[str, ...] = ()

    def judge_message(self) -> dict[str, Any]:
        """What the judge receives: every question's test source and its checks' names."""
        return {
            "type": "tests",
            "questions": [
                {"name": q.name, "module": q.module, "checks": [c.name for c in q.checks]}
                for q in self.questions
            ],
        }

    @property
    def fresh_process(self) -> bool:
        return any(q.fresh_process for q in self.questions)

    def warm_modules(self, submissions: int) -> tuple[str, ...]:
        """Modules worth importing once in a grading worker, before its first submission of
        ``submissions``. What the tests import for sure: the packages they import
        (``sklearn.datasets``), and torch's compiler where they switch deterministic algorithms
        on (``torch.use_deterministic_algorithms`` imports it: one to two seconds). And, for
        more than one submission, a guess: what a module's first forward on the meta device
        (the simulated GPU) imports, where the tests build models or optimizers (sympy and
        torch's symbolic shapes: a third of a second and 33 MB). For one submission (a cold
        start: Gradescope) the guess is left to the processes that turn out to need it: a
        wrong one is paid in full, and a right one saves only where two processes of the
        submission need it (04's tests run models on meta in the student's process alone)."""
        names: set[str] = set()
        for question in self.questions:
            tree = ast.parse(question.module)
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module)
                elif _names_model_code(node) and submissions > 1:
                    names.add(SYMBOLIC_SHAPES)
                elif isinstance(node, ast.Attribute) and node.attr == DETERMINISTIC_SWITCH:
                    names.add(COMPILER_CONFIG)
        return tuple(sorted(n for n in names if n in (SYMBOLIC_SHAPES, COMPILER_CONFIG) or (
            n.split(".")[0] not in sys.stdlib_module_names
            and n.split(".")[0] not in ("autograder", "torch", "numpy"))))


# Imported by torch on a module's first forward on the meta device; a grading worker imports it
# once where an assignment builds models and it grades more than one submission
# (Bundle.warm_modules).
SYMBOLIC_SHAPES = "torch.fx.experimental.symbolic_shapes"
# Imported by ``torch.use_deterministic_algorithms`` (it sets the compiler's flag too), and with
# it torch's compiler front end; imported once where an assignment's tests call it.
DETERMINISTIC_SWITCH = "use_deterministic_algorithms"
COMPILER_CONFIG = "torch._inductor.config"


def _names_model_code(node: ast.AST) -> bool:
    """``nn.Something``, ``torch.nn`` or ``optim``: code that builds models or optimizers."""
    if isinstance(node, ast.Attribute):
        return node.attr in ("nn", "optim") or (isinstance(node.value, ast.Name)
                                               and node.value.id in ("nn", "optim"))
    return isinstance(node, ast.Name) and node.id in ("nn", "optim")


def _natural_key(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _literal(node: ast.AST | None, default: Any = None) -> Any:
    if node is None:
        return default
    try:
        return ast.literal_eval(node)
    except ValueError:
        return default


def parse_test_file(name: str, source: str) -> QuestionTests:
    """Parse one otter exception-based test file."""
    tree = ast.parse(source)
    question_points: float | None = None
    checks: list[tuple[str, dict[str, Any]]] = []
    body: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "otter.test_files":
            continue
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name) and node.targets[0].id == "points":
            question_points = _literal(node.value)
        if isinstance(node, ast.FunctionDef):
            decorator = next((d for d in node.decorator_list if isinstance(d, ast.Call) and
                              getattr(d.func, "id", None) == "test_case"), None)
            if decorator is not None:
                options = {k.arg: _literal(k.value) for k in decorator.keywords if k.arg}
                checks.append((node.name, options))
                node.decorator_list = [d for d in node.decorator_list if d is not decorator]
        body.append(node)
    tree.body = body
    fresh = any(isinstance(node, ast.Name) and node.id == FRESH_PROCESS_CHECK or
                isinstance(node, ast.Attribute) and node.attr == FRESH_PROCESS_CHECK or
                isinstance(node, ast.alias) and node.name == FRESH_PROCESS_CHECK
                for node in ast.walk(tree))
    return QuestionTests(name=name, checks=_resolve_points(name, checks, question_points),
                         module=ast.unparse(tree), fresh_process=fresh)


def _resolve_points(question: str, checks: list[tuple[str, dict[str, Any]]],
                    question_points: float | None) -> tuple[CheckSpec, ...]:
    """Otter's rule: checks without points share what the question's points leave over."""
    stated = [o.get("points") for _, o in checks]
    unstated = sum(1 for p in stated if p is None)
    leftover = 0.0
    if unstated:
        total = question_points if question_points is not None else len(checks)
        leftover = (float(total) - sum(p for p in stated if p is not None)) / unstated
    return tuple(
        CheckSpec(name=name, points=float(o["points"]) if o.get("points") is not None
                  else leftover, hidden=bool(o.get("hidden", False)),
                  failure_message=o.get("failure_message") or "",
                  success_message=o.get("success_message") or "")
        for name, o in checks
    )


def _read_files(path: Path) -> dict[str, bytes]:
    """The bundle's files by relative name, from the zip or from an unpacked folder."""
    if path.is_dir():
        return {p.relative_to(path).as_posix(): p.read_bytes()
                for p in sorted(path.rglob("*")) if p.is_file()}
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist() if not n.endswith("/")}


def load_bundle(path: Path) -> Bundle:
    path = Path(path)
    try:
        files = _read_files(path)
        config = json.loads(files.get("otter_config.json", b"{}"))
        manifest = json.loads(files.get(MANIFEST, b"{}"))
        tests = {Path(n).stem: files[n].decode() for n in files
                 if n.startswith("tests/") and n.endswith(".py")}
    except (OSError, zipfile.BadZipFile, ValueError) as error:
        raise AutograderError(f"{path}: not a readable autograder bundle ({error})") from None
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name])
    if not tests:
        raise AutograderError(f"{path}: the bundle holds no tests/*.py")
    assignment = manifest.get("assignment") or config.get("assignment_name") or path.parent.name
    questions = tuple(parse_test_file(name, tests[name])
                      for name in sorted(tests, key=_natural_key))
    return Bundle(path=path, digest=digest.hexdigest(), assignment=assignment, questions=questions,
                  answer_cells=manifest.get("answer_cells", {}),
                  check_cells=manifest.get("check_cells", {}),
                  code_cells=tuple(manifest.get("code_cells", ())))
