"""Mutants of an assignment's reference answers: the answer cells, and the small changes a
PyTorch beginner makes to them (a constant off by one, a dimension swapped, a ``.to(device)``
whose result is dropped, the seed call dropped, ``train()`` for ``eval()``, ...).

The syntax-tree work uses the standard library's ``ast``: mutation sites are nodes of the parsed
cell, a mutant replaces exactly the source span of one node with ``ast.unparse`` of its
replacement, so everything else in the cell (comments, layout) stays as written and the diff is
one or two lines. Mutants identical to the reference after parsing, or to an earlier mutant, are
never made.

Selection is deterministic: per question the candidates are shuffled with a seeded generator,
then taken round-robin across operators, so ``--budget N`` is a prefix of ``--budget M > N``
(the audit record made with a large budget covers a small-budget run).
"""

from __future__ import annotations

import ast
import copy
import difflib
import hashlib
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from autograder.errors import AutograderError

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


def _slice_swapped(node: ast.AST) -> ast.AST:
    old = cast(ast.Slice, node)  # only made for a slice
    return ast.Slice(lower=copy.deepcopy(old.upper), upper=copy.deepcopy(old.lower))


def _swap_first_two_returned(node: ast.AST) -> ast.AST:
    # only made for a ``return`` of a tuple
    returned = cast(ast.Tuple, cast(ast.Return, node).value)
    return _with(node, value=ast.Tuple(
        [copy.deepcopy(returned.elts[1]), copy.deepcopy(returned.elts[0]),
         *copy.deepcopy(returned.elts[2:])], ast.Load()))


def _int_constant(node: ast.AST) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and \
            isinstance(node.operand, ast.Constant) and type(node.operand.value) is int:
        return -node.operand.value
    return None


def _const(value: Any) -> ast.expr:
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

    # ``make`` gets the node it was made for (same index, same source): the casts name its type

    for index, node in enumerate(nodes):
        line = getattr(node, "lineno", None)
        if line is None or line not in lines:
            continue
        name = _attr_name(node)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float) and \
                not isinstance(parents.get(id(node)), ast.UnaryOp):
            value = cast(int | float, node.value)  # its type() is checked above
            for new in ((value + 1, value - 1) if type(value) is int else
                        (value * 2, value + 1.0)):
                def constant(n: ast.AST, new: int | float = new) -> ast.AST:
                    return _const(new)
                add("constant", index, constant, f"{value!r} -> {new!r}")
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            add("constant", index, lambda n: ast.Constant(not cast(ast.Constant, n).value),
                "bool flipped")
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
                    copy.deepcopy(cast(ast.Call, n).args)))), f"{name} dims reversed")
                add("dims", index, _receiver, f".{name}(...) dropped")
            if name in _REDUCTIONS:
                for k, keyword in enumerate(node.keywords):
                    dim = _int_constant(keyword.value) if keyword.arg == "dim" else None
                    if dim is not None:
                        for new in {0: (1,), 1: (0,), -1: (0,)}.get(dim, (0,)):
                            def make(n: ast.AST, k: int = k, new: int = new) -> ast.AST:
                                call = cast(ast.Call, copy.deepcopy(n))
                                call.keywords[k].value = _const(new)
                                return call
                            add("reduction-dim", index, make, f"{name}(dim={dim} -> {new})")
                    if keyword.arg == "keepdim":
                        def flip(n: ast.AST, k: int = k) -> ast.AST:
                            call = cast(ast.Call, copy.deepcopy(n))
                            call.keywords[k].value = ast.UnaryOp(ast.Not(),
                                                                 call.keywords[k].value)
                            return call
                        add("reduction-dim", index, flip, f"{name} keepdim flipped")
                positional = [k for k, a in enumerate(node.args) if _int_constant(a) is not None]
                for k in positional[:1]:
                    dim = _int_constant(node.args[k])
                    new = 1 if dim == 0 else 0

                    def make_pos(n: ast.AST, k: int = k, new: int = new) -> ast.AST:
                        call = cast(ast.Call, copy.deepcopy(n))
                        call.args[k] = _const(new)
                        return call
                    add("reduction-dim", index, make_pos, f"{name}(..., {dim} -> {new})")
            for k, keyword in enumerate(node.keywords):
                if keyword.arg in _DROPPABLE_KEYWORDS:
                    def drop(n: ast.AST, k: int = k) -> ast.AST:
                        call = cast(ast.Call, copy.deepcopy(n))
                        del call.keywords[k]
                        return call
                    add("keyword-dropped", index, drop, f"{keyword.arg}= dropped")
            # a torch call replaced by its NumPy twin
            if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
                    and node.func.value.id == "torch" and name in (
                        _NUMPY_TWINS | set(_NUMPY_RENAMES)):
                twin = _NUMPY_RENAMES.get(name, name)

                def numpy_call(n: ast.AST, twin: str = twin) -> ast.AST:
                    call = cast(ast.Call, copy.deepcopy(n))
                    call.func = ast.Attribute(ast.Name("np"), twin)
                    return call
                add("numpy-twin", index, numpy_call, f"torch.{name} -> np.{twin}")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                node.value.id == "torch" and node.attr in _DTYPE_SWAPS:
            dtype = _DTYPE_SWAPS[node.attr]

            def dtype_swap(n: ast.AST, new: str = dtype) -> ast.AST:
                return _with(n, attr=new)
            add("dtype", index, dtype_swap, f"torch.{node.attr} -> torch.{dtype}")
        if isinstance(node, ast.Attribute) and node.attr in ("T", "mT") and \
                isinstance(node.ctx, ast.Load):
            add("dims", index, lambda n: copy.deepcopy(cast(ast.Attribute, n).value),
                f".{node.attr} dropped")
        if isinstance(node, ast.Name) and ("train" in node.id or "test" in node.id):
            swapped = node.id.replace("train", "\0").replace("test", "train").replace(
                "\0", "test")
            if swapped != node.id and swapped in known_names:
                def rename(n: ast.AST, s: str = swapped) -> ast.AST:
                    return _with(n, id=s)
                add("train-test", index, rename, f"{node.id} -> {swapped}")
        if isinstance(node, ast.Slice) and (node.lower is None) != (node.upper is None):
            add("slice", index, _slice_swapped, "slice [:n] <-> [n:]")
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAPS:
            new_op = _BINOP_SWAPS[type(node.op)]

            def swap_op(n: ast.AST, o: type[ast.operator] = new_op) -> ast.AST:
                return _with(n, op=o())
            add("arithmetic", index, swap_op, f"{type(node.op).__name__} -> {new_op.__name__}")
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and \
                type(node.ops[0]) in _COMPARE_SWAPS:
            new_cmp = _COMPARE_SWAPS[type(node.ops[0])]

            def swap_cmp(n: ast.AST, o: type[ast.cmpop] = new_cmp) -> ast.AST:
                return _with(n, ops=[o()])
            add("comparison", index, swap_cmp,
                f"{type(node.ops[0]).__name__} -> {new_cmp.__name__}")
        # statements: a call whose result is not used (zero_grad, step, backward, manual_seed,
        # synchronize, eval(), ...) dropped; a seed call moved one statement later
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            called = _attr_name(node.value) or "call"
            operator = "seed-dropped" if called in _SEED_CALLS else "call-dropped"
            add(operator, index, lambda n: None, f"`{_dotted(node.value.func)}(...)` dropped")
        if isinstance(node, ast.Return) and node.value is not None and \
                isinstance(node.value, ast.Tuple) and len(node.value.elts) >= 2:
            add("order", index, _swap_first_two_returned, "first two returned swapped")
    # seed calls moved below the next statement, and assignments dropped
    for index, node in enumerate(nodes):
        for body_name in ("body", "orelse"):
            body = getattr(node, body_name, None)
            if not isinstance(body, list):
                continue
            for position, statement in enumerate(body):
                if getattr(statement, "lineno", None) not in lines:
                    continue
                statement_call = _attr_name(statement.value) \
                    if isinstance(statement, ast.Expr) else None
                if statement_call in _SEED_CALLS and position + 1 < len(body):
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
    located: Any = node  # every node of a parsed cell has a position; ast.AST declares none
    return located.lineno, located.col_offset, located.end_lineno, located.end_col_offset


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
        old_body: list[ast.stmt] = getattr(old, "body", [])
        position = next(i for i, (a, b) in enumerate(zip(
            old_body, getattr(new, "body", []), strict=False))
            if ast.dump(a) != ast.dump(b))
        first, second = old_body[position], old_body[position + 1]
        lines = source.split("\n")
        start, end = first.lineno, second.end_lineno
        chunk_first = lines[first.lineno - 1: first.end_lineno]
        chunk_second = lines[second.lineno - 1: second.end_lineno]
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
                 extra: Sequence[tuple[str, str, str]] = ()) -> list[Mutant]:
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
        if text is None or parsed is None or parsed in seen:  # a no-op, or made already
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
