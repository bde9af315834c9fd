"""Mutation audit: which wrong answers do an assignment's tests let through?

``autograder audit NAME`` takes every question's reference answer cell, makes *mutants* of it
(the reference with one small change of the kind a PyTorch beginner makes: a constant off by
one, a dimension swapped, a ``.to(device)`` whose result is dropped, the seed call dropped,
``train()`` for ``eval()``, ...), builds one submission per mutant (the reference solution with
that one cell replaced), grades them all with the real engine in one batch, and reports per
question: mutants made, killed (the question lost points) and survived (full points).

A survivor is then probed: the reference and the survivor each run, unsandboxed (both are the
instructor's code, one token changed), in one warm helper process, and the question's tests run
on them with every ``call(...)`` and every test argument fingerprinted. A survivor whose
fingerprints all equal the reference's computes the same values on every input the tests use:
a *suspected equivalent*, which no test of this kind can kill; the others are real survivors
(a test gap). On a grader without a GPU, a mutant that changes device code (a ``.to(...)`` or
``device=`` dropped, a ``torch.cuda`` call) is never called equivalent: there every move is to
the CPU and a no-op, so equal values there say nothing about a GPU machine. Cheaper,
source-level: mutants identical to the reference after parsing, or to an earlier mutant, are
never made.

The syntax-tree work uses the standard library's ``ast``: mutation sites are nodes of the parsed
cell, a mutant replaces exactly the source span of one node with ``ast.unparse`` of its
replacement, so everything else in the cell (comments, layout) stays as written and the diff is
one or two lines.

Selection is deterministic: per question the candidates are shuffled with a seeded generator,
then taken round-robin across operators, so ``--budget N`` is a prefix of ``--budget M > N``
(the audit record made with a large budget covers a small-budget run).
"""

from __future__ import annotations

import ast
import copy
import difflib
import hashlib
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.errors import AutograderError

RECORD_NAME = "audit.json"
TODO = "TODO"

# --- reference cells --------------------------------------------------------------------------


def answer_cell_index(nb: dict, question: str) -> int:
    """The question's answer cell: the tagged cell before its ``grader.check`` cell."""
    last = None
    for index, cell in enumerate(nb["cells"]):
        tags = cell.get("metadata", {}).get("tags", [])
        if "otter_assign_solution_cell" in tags or "otter_answer_cell" in tags:
            last = index
        if cell["cell_type"] == "code" and "".join(cell["source"]).strip().startswith(
                f'grader.check("{question}")'):
            if last is None:
                raise AutograderError(f"no answer cell before grader.check({question!r})")
            return last
    raise AutograderError(f"no grader.check({question!r}) cell")


def _solution_blocks(source: str) -> tuple[str, set[int]]:
    """An instructor cell without otter's solution markers, and the (1-based) lines that were
    marked as solution: only those are mutated (the rest is given to the student)."""
    out: list[str] = []
    marked: set[int] = set()
    inside = False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == "# BEGIN SOLUTION":
            inside = True
            continue
        if stripped == "# END SOLUTION":
            inside = False
            continue
        if stripped.endswith("# SOLUTION") and not stripped.startswith("#"):
            line = line[: line.rindex("# SOLUTION")].rstrip()
            marked.add(len(out) + 1)
        elif inside:
            marked.add(len(out) + 1)
        out.append(line)
    return "\n".join(out), marked


def reference_answers(instructor: dict, questions: list[str]) -> dict[str, tuple[str, set[int]]]:
    """Question -> (answer cell source, its solution lines), from the instructor notebook."""
    cells = instructor["cells"]
    answers = {}
    for question in questions:
        # In the instructor notebook the answer cell is the code cell after "# BEGIN SOLUTION"
        # of the question (the raw cell), before "# BEGIN TESTS".
        start = next(i for i, c in enumerate(cells) if c["cell_type"] == "raw" and
                     "".join(c["source"]).strip().startswith("# BEGIN QUESTION") and
                     re.search(rf"^\s*name:\s*{re.escape(question)}\s*$",
                               "".join(c["source"]), re.MULTILINE))
        found = None
        for cell in cells[start + 1:]:
            text = "".join(cell["source"])
            if cell["cell_type"] == "raw" and text.strip().startswith("# BEGIN TESTS"):
                break
            if cell["cell_type"] == "code":
                found = text
        if found is None:
            raise AutograderError(f"{question}: no answer cell in the instructor notebook")
        answers[question] = _solution_blocks(found)
    return answers


# --- mutation operators -----------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    operator: str
    node_index: int  # in ast.walk order of the parsed cell
    make: Callable[[ast.AST], ast.AST | None]  # the replacement (None: the statement removed)


_SEED_CALLS = {"manual_seed", "seed", "manual_seed_all", "set_seed"}
_DEVICE_MOVES = {"to", "cuda", "cpu"}
_COPIES = {"clone", "detach", "copy", "contiguous"}
_REDUCTIONS = {"sum", "mean", "max", "min", "argmax", "argmin", "softmax", "log_softmax",
               "std", "var", "prod", "cumsum", "all", "any", "norm", "amax", "amin", "median",
               "cat", "stack", "unsqueeze", "squeeze", "flatten", "logsumexp", "count_nonzero"}
_DTYPE_SWAPS = {"float32": "float64", "float": "double", "float64": "float32",
                "double": "float", "float16": "float32", "half": "float", "bfloat16": "float16",
                "int64": "int32", "long": "int", "int32": "int64", "int": "long",
                "uint8": "int8", "int8": "uint8", "bool": "uint8", "int16": "int32"}
_CAST_METHODS = {"float", "long", "int", "double", "half", "bool", "item", "tolist", "numpy"}
_NUMPY_TWINS = {"sum", "mean", "max", "min", "argmax", "argmin", "exp", "log", "sqrt", "abs",
                "zeros", "ones", "arange", "matmul", "dot", "stack", "hstack", "vstack",
                "where", "std", "var", "prod", "cumsum", "allclose", "equal", "full", "eye",
                "linspace", "zeros_like", "ones_like", "full_like", "concatenate", "sort",
                "argsort", "unique", "flip", "round", "clip", "maximum", "minimum", "mm"}
_NUMPY_RENAMES = {"cat": "concatenate", "clamp": "clip", "equal": "array_equal", "mm": "dot"}
_BINOP_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
                ast.FloorDiv: ast.Div, ast.MatMult: ast.Mult, ast.Pow: ast.Mult}
_COMPARE_SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
                  ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_DROPPABLE_KEYWORDS = {"generator", "dtype", "device", "dim", "keepdim", "map_location",
                       "weights_only", "shuffle", "worker_init_fn", "requires_grad",
                       "non_blocking", "devices", "accumulate", "warn_only", "out"}


def _attr_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id
    return None


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def _with(node: ast.AST, **changes: Any) -> ast.AST:
    new = copy.deepcopy(node)
    for key, value in changes.items():
        setattr(new, key, value)
    return new


def _set_attr(name: str) -> Callable[[ast.AST], ast.AST]:
    def make(node: ast.AST) -> ast.AST:
        new = copy.deepcopy(node)
        new.func.attr = name  # type: ignore[attr-defined]
        return new
    return make


def _receiver(node: ast.AST) -> ast.AST:
    return copy.deepcopy(node.func.value)  # type: ignore[attr-defined]


def _int_constant(node: ast.AST) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and \
            isinstance(node.operand, ast.Constant) and type(node.operand.value) is int:
        return -node.operand.value
    return None


def _const(value: Any) -> ast.AST:
    if isinstance(value, (int, float)) and value < 0:
        return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(-value))
    return ast.Constant(value)


def candidate_mutations(tree: ast.Module, lines: set[int],
                        known_names: set[str]) -> list[tuple[Mutation, str]]:
    """Every mutation of the nodes on ``lines``, with a short description each."""
    found: list[tuple[Mutation, str]] = []
    nodes = list(ast.walk(tree))
    parents: dict[int, ast.AST] = {}
    for parent in nodes:
        for child in ast.iter_child_nodes(parent):
            parents[id(child)] = parent

    def add(operator: str, index: int, make: Callable[[ast.AST], ast.AST | None],
            what: str) -> None:
        found.append((Mutation(operator, index, make), what))

    for index, node in enumerate(nodes):
        line = getattr(node, "lineno", None)
        if line is None or line not in lines:
            continue
        name = _attr_name(node)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float) and \
                not isinstance(parents.get(id(node)), ast.UnaryOp):
            value = node.value
            for new in ((value + 1, value - 1) if type(value) is int else
                        (value * 2, value + 1.0)):
                add("constant", index, lambda n, v=new: _const(v), f"{value!r} -> {new!r}")
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            add("constant", index, lambda n: ast.Constant(not n.value), "bool flipped")
        if isinstance(node, ast.Call):
            # device moves whose result is not kept / never made
            if name in _DEVICE_MOVES and isinstance(node.func, ast.Attribute):
                add("device-move-dropped", index, _receiver, f".{name}(...) not kept")
            if name in _COPIES and isinstance(node.func, ast.Attribute) and not node.args:
                add("copy-dropped", index, _receiver, f".{name}() dropped")
            if name in _CAST_METHODS and isinstance(node.func, ast.Attribute) and \
                    not node.args and not node.keywords:
                add("cast-dropped", index, _receiver, f".{name}() dropped")
            if name in ("reshape", "view"):
                other = "view" if name == "reshape" else "reshape"
                add("reshape-view", index, _set_attr(other), f"{name} -> {other}")
            if name in ("train", "eval") and isinstance(node.func, ast.Attribute):
                other = "eval" if name == "train" else "train"
                add("train-eval", index, _set_attr(other), f"{name}() -> {other}()")
            if name in ("inference_mode", "no_grad"):
                other = "enable_grad"
                add("grad-mode", index, _set_attr(other), f"{name} -> {other}")
            if name in ("transpose", "swapaxes", "permute") and \
                    isinstance(node.func, ast.Attribute) and len(node.args) >= 2:
                add("dims", index, lambda n: _with(n, args=list(reversed(
                    copy.deepcopy(n.args)))), f"{name} dims reversed")
                add("dims", index, _receiver, f".{name}(...) dropped")
            if name in _REDUCTIONS:
                for k, keyword in enumerate(node.keywords):
                    dim = _int_constant(keyword.value) if keyword.arg == "dim" else None
                    if dim is not None:
                        for new in {0: (1,), 1: (0,), -1: (0,)}.get(dim, (0,)):
                            def make(n: ast.AST, k: int = k, new: int = new) -> ast.AST:
                                n = copy.deepcopy(n)
                                n.keywords[k].value = _const(new)
                                return n
                            add("reduction-dim", index, make, f"{name}(dim={dim} -> {new})")
                    if keyword.arg == "keepdim":
                        def flip(n: ast.AST, k: int = k) -> ast.AST:
                            n = copy.deepcopy(n)
                            n.keywords[k].value = ast.UnaryOp(ast.Not(), n.keywords[k].value)
                            return n
                        add("reduction-dim", index, flip, f"{name} keepdim flipped")
                positional = [k for k, a in enumerate(node.args) if _int_constant(a) is not None]
                for k in positional[:1]:
                    dim = _int_constant(node.args[k])
                    new = 1 if dim == 0 else 0

                    def make_pos(n: ast.AST, k: int = k, new: int = new) -> ast.AST:
                        n = copy.deepcopy(n)
                        n.args[k] = _const(new)
                        return n
                    add("reduction-dim", index, make_pos, f"{name}(..., {dim} -> {new})")
            for k, keyword in enumerate(node.keywords):
                if keyword.arg in _DROPPABLE_KEYWORDS:
                    def drop(n: ast.AST, k: int = k) -> ast.AST:
                        n = copy.deepcopy(n)
                        del n.keywords[k]
                        return n
                    add("keyword-dropped", index, drop, f"{keyword.arg}= dropped")
            # a torch call replaced by its NumPy twin
            if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
                    and node.func.value.id == "torch" and name in (
                        _NUMPY_TWINS | set(_NUMPY_RENAMES)):
                twin = _NUMPY_RENAMES.get(name, name)

                def numpy_call(n: ast.AST, twin: str = twin) -> ast.AST:
                    n = copy.deepcopy(n)
                    n.func = ast.Attribute(ast.Name("np"), twin)
                    return n
                add("numpy-twin", index, numpy_call, f"torch.{name} -> np.{twin}")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                node.value.id == "torch" and node.attr in _DTYPE_SWAPS:
            new = _DTYPE_SWAPS[node.attr]
            add("dtype", index, lambda n, new=new: _with(n, attr=new),
                f"torch.{node.attr} -> torch.{new}")
        if isinstance(node, ast.Attribute) and node.attr in ("T", "mT") and \
                isinstance(node.ctx, ast.Load):
            add("dims", index, lambda n: copy.deepcopy(n.value), f".{node.attr} dropped")
        if isinstance(node, ast.Name) and ("train" in node.id or "test" in node.id):
            swapped = node.id.replace("train", "\0").replace("test", "train").replace(
                "\0", "test")
            if swapped != node.id and swapped in known_names:
                add("train-test", index, lambda n, s=swapped: _with(n, id=s),
                    f"{node.id} -> {swapped}")
        if isinstance(node, ast.Slice) and (node.lower is None) != (node.upper is None):
            add("slice", index, lambda n: ast.Slice(lower=copy.deepcopy(n.upper),
                                                    upper=copy.deepcopy(n.lower)),
                "slice [:n] <-> [n:]")
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAPS:
            new_op = _BINOP_SWAPS[type(node.op)]
            add("arithmetic", index, lambda n, o=new_op: _with(n, op=o()),
                f"{type(node.op).__name__} -> {new_op.__name__}")
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and \
                type(node.ops[0]) in _COMPARE_SWAPS:
            new_op = _COMPARE_SWAPS[type(node.ops[0])]
            add("comparison", index, lambda n, o=new_op: _with(n, ops=[o()]),
                f"{type(node.ops[0]).__name__} -> {new_op.__name__}")
        # statements: a call whose result is not used (zero_grad, step, backward, manual_seed,
        # synchronize, eval(), ...) dropped; a seed call moved one statement later
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            called = _attr_name(node.value) or "call"
            operator = "seed-dropped" if called in _SEED_CALLS else "call-dropped"
            add(operator, index, lambda n: None, f"`{_dotted(node.value.func)}(...)` dropped")
        if isinstance(node, ast.Return) and node.value is not None and \
                isinstance(node.value, ast.Tuple) and len(node.value.elts) >= 2:
            add("order", index, lambda n: _with(n, value=ast.Tuple(
                [copy.deepcopy(n.value.elts[1]), copy.deepcopy(n.value.elts[0]),
                 *copy.deepcopy(n.value.elts[2:])], ast.Load())), "first two returned swapped")
    # seed calls moved below the next statement, and assignments dropped
    for index, node in enumerate(nodes):
        for body_name in ("body", "orelse"):
            body = getattr(node, body_name, None)
            if not isinstance(body, list):
                continue
            for position, statement in enumerate(body):
                if getattr(statement, "lineno", None) not in lines:
                    continue
                called = _attr_name(statement.value) if isinstance(statement, ast.Expr) \
                    else None
                if called in _SEED_CALLS and position + 1 < len(body):
                    def move(n: ast.AST, body_name: str = body_name,
                             position: int = position) -> ast.AST:
                        n = copy.deepcopy(n)
                        items = getattr(n, body_name)
                        items[position], items[position + 1] = items[position + 1], \
                            items[position]
                        return n
                    add("seed-moved", index, move, "seed call moved one statement later")
    return found


def _replace(tree: ast.Module, mutation: Mutation) -> tuple[ast.AST, ast.AST | None] | None:
    """Apply a mutation to ``tree`` in place; returns (old node, new node)."""
    nodes = list(ast.walk(tree))
    target = nodes[mutation.node_index]
    new = mutation.make(target)
    if target is tree:  # a whole-cell mutation (statements reordered)
        return target, new
    for parent in nodes:
        for name, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, name, new)
                return target, new
            if isinstance(value, list) and any(v is target for v in value):
                position = next(i for i, v in enumerate(value) if v is target)
                if new is None:
                    value[position] = ast.Pass()
                else:
                    value[position] = new
                return target, new
    return None


def _span(source_lines: list[str], node: ast.AST) -> tuple[int, int, int, int]:
    return node.lineno, node.col_offset, node.end_lineno, node.end_col_offset  # type: ignore


def _splice(source: str, node: ast.AST, text: str) -> str:
    lines = source.split("\n")
    line, col, end_line, end_col = _span(lines, node)
    # ast offsets are in UTF-8 bytes
    first = lines[line - 1].encode()
    last = lines[end_line - 1].encode()
    head = first[:col].decode()
    tail = last[end_col:].decode()
    indent = " " * (len(head) - len(head.lstrip()))
    text = text.replace("\n", "\n" + indent)
    return "\n".join([*lines[: line - 1], head + text + tail, *lines[end_line:]])


def apply(source: str, mutation: Mutation) -> str | None:
    """The cell with one mutation applied (only the mutated node's text changes)."""
    tree = ast.parse(source)
    replaced = _replace(tree, mutation)
    if replaced is None:
        return None
    old, new = replaced
    if mutation.operator == "seed-moved":
        # the mutated node is a whole block: re-emit its two swapped statements in place
        position = next(i for i, (a, b) in enumerate(zip(
            getattr(old, "body", []), getattr(new, "body", []), strict=False))
            if ast.dump(a) != ast.dump(b))
        first, second = old.body[position], old.body[position + 1]  # type: ignore
        lines = source.split("\n")
        start, end = first.lineno, second.end_lineno  # type: ignore
        chunk_first = lines[first.lineno - 1: first.end_lineno]  # type: ignore
        chunk_second = lines[second.lineno - 1: second.end_lineno]  # type: ignore
        return "\n".join([*lines[: start - 1], *chunk_second, *chunk_first, *lines[end:]])
    text = "pass" if new is None else ast.unparse(new)
    if isinstance(old, ast.expr) and isinstance(new, ast.expr):
        text = f"({text})" if isinstance(new, (ast.BinOp, ast.UnaryOp, ast.Compare)) else text
    mutated = _splice(source, old, text)
    if "np." in text and "import numpy as np" not in source:
        mutated = "import numpy as np\n" + mutated
    return mutated


# --- mutants ------------------------------------------------------------------------------


@dataclass
class Mutant:
    question: str
    operator: str
    what: str
    source: str
    diff: str
    id: str  # stable: question, operator and the changed lines only

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "operator": self.operator, "what": self.what, "diff": self.diff}


_MOVE_TOKENS = {"to", "cuda", "device", "map_location"}


def changes_device_code(mutant: Mutant) -> bool:
    """Whether the mutant removes or changes device code: a ``.to(...)``/``.cuda()`` call, a
    ``torch.cuda`` call, a ``device``, a ``map_location`` (the tokens its diff takes away)."""
    if mutant.operator == "device-move-dropped":
        return True
    lines = mutant.diff.splitlines()
    removed = re.findall(r"\w+|\S", "\n".join(ln[1:] for ln in lines if ln.startswith("-")))
    added = re.findall(r"\w+|\S", "\n".join(ln[1:] for ln in lines if ln.startswith("+")))
    matcher = difflib.SequenceMatcher(a=removed, b=added, autojunk=False)
    return any(set(removed[i1:i2]) & _MOVE_TOKENS
               for tag, i1, i2, _, _ in matcher.get_opcodes() if tag != "equal")


def short_diff(before: str, after: str) -> str:
    lines = [ln for ln in difflib.unified_diff(before.split("\n"), after.split("\n"),
                                                lineterm="", n=0)
             if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    return "\n".join(lines)


def make_mutants(question: str, source: str, lines: set[int], known_names: set[str],
                 extra: list[tuple[str, str, str]] = ()) -> list[Mutant]:
    """Every distinct mutant of one answer cell (no-ops and duplicates dropped)."""
    tree = ast.parse(source)
    reference = ast.dump(tree)
    seen: set[str] = {reference}
    mutants = []
    candidates = [(m.operator, what, lambda m=m: apply(source, m))
                  for m, what in candidate_mutations(tree, lines, known_names)]
    candidates += [(op, what, lambda text=text: text) for op, what, text in extra]
    for operator, what, produce in candidates:
        try:
            text = produce()
            parsed = ast.dump(ast.parse(text)) if text is not None else None
        except (SyntaxError, ValueError, TypeError, AttributeError, StopIteration):
            continue
        if parsed is None or parsed in seen:  # a no-op, or a mutant made already
            continue
        seen.add(parsed)
        diff = short_diff(source, text)
        key = hashlib.sha256(f"{question}\0{operator}\0{diff}".encode()).hexdigest()[:10]
        mutants.append(Mutant(question, operator, what, text, diff, key))
    return mutants


def select(mutants: list[Mutant], budget: int | None, seed: int) -> list[Mutant]:
    """A deterministic, operator-balanced order; ``budget`` takes a prefix of it."""
    by_operator: dict[str, list[Mutant]] = {}
    for mutant in sorted(mutants, key=lambda m: m.id):
        by_operator.setdefault(mutant.operator, []).append(mutant)
    rng = random.Random(f"{seed}:{mutants[0].question}" if mutants else seed)
    operators = sorted(by_operator)
    rng.shuffle(operators)
    for operator in operators:
        rng.shuffle(by_operator[operator])
    ordered: list[Mutant] = []
    while any(by_operator.values()):
        for operator in operators:
            if by_operator[operator]:
                ordered.append(by_operator[operator].pop(0))
    return ordered if budget is None else ordered[:budget]


# --- the report -----------------------------------------------------------------------------


@dataclass
class QuestionAudit:
    mutants: int = 0
    killed: int = 0
    survived: list[dict[str, Any]] = field(default_factory=list)
    equivalent: list[dict[str, Any]] = field(default_factory=list)
    killed_ids: set[str] = field(default_factory=set)  # so that a record can forget them

    def to_json(self) -> dict[str, Any]:
        return {"mutants": self.mutants, "killed": self.killed, "survived": self.survived,
                "equivalent": self.equivalent}


@dataclass
class AuditReport:
    assignment: str
    budget: int | None
    seed: int
    questions: dict[str, QuestionAudit]
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def mutants(self) -> int:
        return sum(q.mutants for q in self.questions.values())

    @property
    def killed(self) -> int:
        return sum(q.killed for q in self.questions.values())

    @property
    def kill_rate(self) -> float:
        """Killed among the mutants that are not suspected equivalents (100 when none)."""
        judged = self.mutants - sum(len(q.equivalent) for q in self.questions.values())
        return 100.0 * self.killed / judged if judged else 100.0

    def to_json(self) -> dict[str, Any]:
        return {"assignment": self.assignment, "budget": self.budget, "seed": self.seed,
                "mutants": self.mutants, "killed": self.killed,
                "kill_rate": round(self.kill_rate, 1), "seconds": round(self.seconds, 1),
                "questions": {q: a.to_json() for q, a in self.questions.items()},
                "errors": self.errors}


def format_report(report: AuditReport, *, record: dict[str, Any] | None = None) -> str:
    accepted = (record or {}).get("questions", {})
    rows = [f"{report.assignment}: {report.mutants} mutants, {report.killed} killed, "
            f"kill rate {report.kill_rate:.1f}% (suspected equivalents excluded), "
            f"{report.seconds:.0f} s",
            "",
            f"{'question':<10}{'mutants':>8}{'killed':>8}{'survived':>10}{'equivalent':>12}"]
    for name, audit in report.questions.items():
        rows.append(f"{name:<10}{audit.mutants:>8}{audit.killed:>8}"
                    f"{len(audit.survived):>10}{len(audit.equivalent):>12}")
    for name, audit in report.questions.items():
        for kind, entries in (("survived", audit.survived), ("equivalent", audit.equivalent)):
            for entry in entries:
                reason = accepted.get(name, {}).get(entry["id"], {}).get("reason")
                note = f"  [recorded: {reason}]" if reason and reason != TODO else ""
                rows.append(f"\n{name} {kind} {entry['id']} ({entry['operator']}: "
                            f"{entry['what']}){note}")
                rows += ["    " + ln for ln in entry["diff"].splitlines()]
                if entry.get("passed"):
                    rows.append("    passed: " + ", ".join(entry["passed"]))
    for error in report.errors:
        rows.append(f"\nerror: {error}")
    return "\n".join(rows)


# --- record --------------------------------------------------------------------------------


def read_record(folder: Path) -> dict[str, Any]:
    path = Path(folder) / RECORD_NAME
    if not path.exists():
        return {"questions": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def unrecorded(report: AuditReport, record: dict[str, Any]) -> list[str]:
    """Mutants with full marks (survivors and suspected equivalents) the record does not
    list with a reason: what a test fails on."""
    missing = []
    for name, audit in report.questions.items():
        listed = record.get("questions", {}).get(name, {})
        for entry in (*audit.survived, *audit.equivalent):
            reason = listed.get(entry["id"], {}).get("reason", TODO)
            if reason == TODO or not reason.strip():
                missing.append(f"{name} {entry['id']} ({entry['operator']}: {entry['what']})\n"
                               + "\n".join("    " + ln for ln in entry["diff"].splitlines()))
    return missing


def updated_record(report: AuditReport, record: dict[str, Any]) -> dict[str, Any]:
    """The record with this run's full-marks mutants added (reasons kept; new survivors get
    TODO, new suspected equivalents a default reason to be checked) and the mutants this run
    killed taken out (a test now catches them)."""
    questions = {name: dict(entries) for name, entries in record.get("questions", {}).items()}
    for name, audit in report.questions.items():
        listed = questions.setdefault(name, {})
        for killed in audit.killed_ids & set(listed):
            del listed[killed]
        for kind, entries in (("survived", audit.survived), ("equivalent", audit.equivalent)):
            for entry in entries:
                default = TODO if kind == "survived" else \
                    "same values as the reference on every test input"
                old = listed.get(entry["id"], {})
                listed[entry["id"]] = {"kind": kind, "diff": entry["diff"],
                                       "reason": old.get("reason", default)}
    return {"assignment": report.assignment,
            "note": "mutants of the reference answers that earn full marks, each with why it is "
                    "acceptable; written by `autograder audit NAME --update-record`, reasons by "
                    "hand (see assignments/README.md)",
            "questions": {q: dict(sorted(v.items())) for q, v in sorted(questions.items())}}


# --- running --------------------------------------------------------------------------------


def _known_names(nb: dict) -> set[str]:
    names: set[str] = set()
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            try:
                tree = ast.parse("".join(cell["source"]))
            except SyntaxError:
                continue
            names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            names |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    return names


def _notebook_with(solution: dict, index: int, source: str) -> dict:
    nb = copy.deepcopy(solution)
    nb["cells"][index]["source"] = source
    nb["cells"][index]["outputs"] = []
    return nb


def _hard_coded(values: dict[str, str], question: str, source: str) -> list[tuple[str, str, str]]:
    """Mutants that replace a value the answer cell computes by the reference's value."""
    extra = []
    for name, literal in sorted(values.items()):
        extra.append(("hard-coded", f"{name} = reference value",
                      f"{source}\n{name} = {literal}  # hard-coded"))
    return extra


PROBE = Path(__file__).with_name("audit_probe.py")


def _probe(notebooks: list[dict], bundle_path: Path, questions: list[str],
           timeout: float) -> list[dict[str, Any]]:
    """Run notebooks (trusted: the instructor's, with one change) in one helper process."""
    with tempfile.TemporaryDirectory(prefix="audit-probe-") as folder:
        request = Path(folder) / "request.json"  # the helper runs in `folder`: absolute paths
        request.write_text(json.dumps({"bundle": str(Path(bundle_path).resolve()), "runs": [
            {"notebook": nb, "question": q} for nb, q in zip(notebooks, questions, strict=True)]}))
        try:
            done = subprocess.run([sys.executable, str(PROBE), str(request)],
                                  capture_output=True, text=True, timeout=timeout, cwd=folder,
                                  env=_probe_env())
        except subprocess.TimeoutExpired:
            return [{"error": "probe timed out"} for _ in notebooks]
        answer = Path(folder) / "answer.json"
        if done.returncode != 0 or not answer.exists():
            return [{"error": f"probe failed: {done.stderr[-500:]}"} for _ in notebooks]
        return json.loads(answer.read_text())


def _probe_env() -> dict[str, str]:
    import os
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}


def run_audit(folder: Path, bundle_path: Path, solution_path: Path, *, budget: int | None = None,
              seed: int = 0, workers: int | None = None, limits: Any = None,
              questions: list[str] | None = None,
              progress: Callable[[str], None] | None = None) -> AuditReport:
    """Audit one built assignment: mutate, grade in one batch, probe the survivors."""
    from autograder.authoring.release import find_instructor_notebook
    from autograder.bundle import load_bundle
    from autograder.grading.grader import grade_submissions
    from autograder.kit.checks import cuda_available

    began = time.monotonic()
    say = progress or (lambda _: None)
    bundle = load_bundle(bundle_path)
    names = [q.name for q in bundle.questions if questions is None or q.name in questions]
    instructor = json.loads(find_instructor_notebook(folder).read_text(encoding="utf-8"))
    solution = json.loads(Path(solution_path).read_text(encoding="utf-8"))
    references = reference_answers(instructor, names)
    known = _known_names(solution)
    index_of = {q: answer_cell_index(solution, q) for q in names}

    # The reference once, unsandboxed: its values for the hard-coded mutants, and a check
    # that the instructor cells stripped of their markers are the solution's answer cells.
    reference_nb = copy.deepcopy(solution)
    for q in names:
        reference_nb["cells"][index_of[q]]["source"] = references[q][0]
    say("running the reference")
    [reference_run] = _probe([reference_nb], bundle_path, ["*values*"], timeout=600)
    literals = reference_run.get("values", {})
    if "error" in reference_run:  # no hard-coded-value mutants then: say so
        report_errors = [f"running the reference: {reference_run['error']}"]
    else:
        report_errors = []

    mutants: list[Mutant] = []
    for q in names:
        source, lines = references[q]
        made = make_mutants(q, source, lines, known,
                            _hard_coded(literals.get(q, {}), q, source))
        mutants += select(made, budget, seed)
    say(f"grading {len(mutants)} mutants")
    report = AuditReport(bundle.assignment, budget, seed, {q: QuestionAudit() for q in names},
                         errors=report_errors)
    with tempfile.TemporaryDirectory(prefix="audit-") as scratch:
        root = Path(scratch) / "mutants"
        root.mkdir()
        paths = []
        for number, mutant in enumerate(mutants):
            nb = _notebook_with(reference_nb, index_of[mutant.question], mutant.source)
            path = root / f"m{number:04d}.ipynb"
            path.write_text(json.dumps(nb), encoding="utf-8")
            paths.append(path)
        reference_path = Path(scratch) / "reference.ipynb"
        reference_path.write_text(json.dumps(reference_nb), encoding="utf-8")
        results = grade_submissions(bundle_path, [reference_path, *paths], workers=workers,
                                    limits=limits)
    baseline, results = results[0], results[1:]
    for question in baseline.questions:
        if question.name in report.questions and question.score < question.possible:
            report.errors.append(f"the reference scores {question.score}/{question.possible} "
                                 f"on {question.name}: {baseline.message}")
    survivors: list[tuple[Mutant, list[str]]] = []
    for mutant, result in zip(mutants, results, strict=True):
        audit = report.questions[mutant.question]
        audit.mutants += 1
        scored = next((q for q in result.questions if q.name == mutant.question), None)
        if result.status != "graded" or scored is None or scored.score < scored.possible:
            audit.killed += 1
            audit.killed_ids.add(mutant.id)
        else:
            survivors.append((mutant, [c.name for c in scored.checks if c.outcome == "passed"]))
    if survivors:
        say(f"probing {len(survivors)} survivors")
        no_gpu = not cuda_available()
        runs = [reference_nb] * len({m.question for m, _ in survivors})
        asked = sorted({m.question for m, _ in survivors})
        references_seen = dict(zip(asked, _probe(runs, bundle_path, asked, timeout=900),
                                   strict=True))
        probed = _probe([_notebook_with(reference_nb, index_of[m.question], m.source)
                         for m, _ in survivors], bundle_path, [m.question for m, _ in survivors],
                        timeout=1800)
        for question, seen in references_seen.items():
            if "error" in seen:
                report.errors.append(f"probing the reference for {question}: {seen['error']}")
        for (mutant, passed), seen in zip(survivors, probed, strict=True):
            entry = {**mutant.to_json(), "passed": passed}
            if "error" in seen:  # not probed: it stays a survivor, and the report says why
                report.errors.append(f"probing {mutant.question} {mutant.id}: {seen['error']}")
            reference_fp = references_seen[mutant.question].get("fingerprint")
            same = reference_fp is not None and seen.get("fingerprint") == reference_fp and \
                not (no_gpu and changes_device_code(mutant))
            target = report.questions[mutant.question]
            (target.equivalent if same else target.survived).append(entry)
    report.seconds = time.monotonic() - began
    return report


def audit_assignment(name: str, *, suite: str | None = None, **options: Any) -> AuditReport:
    """``autograder audit NAME``: build (if stale) and audit one assignment of the suite."""
    from autograder.authoring.release import build_release, resolve_assignment
    from autograder.suite import find_suite

    found = find_suite(suite)
    folder = resolve_assignment(found.assignments, name)
    release = build_release(folder, student_root=found.student, dist_root=found.dist)
    return run_audit(folder, release.bundle, release.solution, **options)


def iter_entries(report: AuditReport) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, audit in report.questions.items():
        for entry in audit.survived:
            yield name, "survived", entry
        for entry in audit.equivalent:
            yield name, "equivalent", entry
