"""The audit's helper process: runs the instructor's notebook (or a mutant of it: the
instructor's code with one change, never a student's) and fingerprints what a question's tests
see. Not a sandbox: it is only ever given trusted code. ``python probe.py REQUEST``
writes ``answer.json`` next to the request.

For each run: the notebook's code cells in order (otter's own cells skipped), in a fresh
namespace, seeded like the grader (0); at the question's ``grader.check`` cell, that question's
tests run with every ``call(...)``'s result and every test argument fingerprinted. Two runs
whose fingerprints are equal computed the same values on every input the tests used.
With question ``*values*`` it runs the whole notebook and reports, per question, the values the
answer cell assigned that can be written as literals (for the "hard-coded" mutants).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import hashlib
import io
import json
import math
import os
import random
import sys
import tempfile
from pathlib import Path
from typing import Any


def fingerprint(value: Any, depth: int = 0) -> Any:
    import numpy as np
    import torch

    if depth > 4:
        return type(value).__name__
    if isinstance(value, torch.Tensor):
        head = ["T", str(value.dtype), tuple(value.shape), str(value.device),
                bool(value.requires_grad)]
        if value.device.type == "meta":
            return head
        flat = value.detach().cpu().reshape(-1).contiguous()
        try:
            data = flat.view(torch.uint8).numpy().tobytes()
        except (RuntimeError, TypeError):
            data = repr(flat.tolist()).encode()
        return [*head, hashlib.sha256(data).hexdigest()[:16]]
    if isinstance(value, np.ndarray):
        return ["A", str(value.dtype), value.shape,
                hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()[:16]]
    if isinstance(value, torch.nn.Module):
        return ["M", type(value).__name__, value.training,
                fingerprint(dict(value.state_dict()), depth + 1)]
    if isinstance(value, torch.optim.Optimizer):
        return ["O", type(value).__name__, [
            {k: fingerprint(v, depth + 1) for k, v in group.items() if k != "params"}
            for group in value.param_groups]]
    if isinstance(value, dict):
        return ["D", [[repr(k), fingerprint(v, depth + 1)] for k, v in value.items()]]
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [fingerprint(v, depth + 1) for v in value]]
    if isinstance(value, float):
        return ["F", repr(value)]
    if isinstance(value, (int, str, bool, bytes, type(None), torch.dtype, torch.device)):
        return [type(value).__name__, repr(value)]
    if isinstance(value, np.generic):
        return ["N", str(value.dtype), repr(value.item())]
    if callable(value):
        return ["callable", getattr(value, "__qualname__", type(value).__name__)]
    return [type(value).__name__]


def literal(value: Any) -> str | None:
    """Python source that rebuilds ``value``, for small values; else None."""
    import torch

    if isinstance(value, bool) or (isinstance(value, int) and abs(value) < 10**12):
        return repr(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, str) and len(value) < 200:
        return repr(value)
    if isinstance(value, torch.device):
        return f"torch.device({str(value)!r})"
    if isinstance(value, torch.dtype):
        return str(value)
    if isinstance(value, torch.Tensor) and value.device.type != "meta" and \
            value.numel() <= 64 and not value.requires_grad:
        return f"torch.tensor({value.tolist()!r}, dtype={value.dtype})"
    if isinstance(value, tuple) and len(value) <= 8:
        parts = [p for p in (literal(v) for v in value) if p is not None]
        if len(parts) == len(value):
            return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    return None


def _assigned(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        names.append(sub.id)
    return names


def run_tests(module: str, checks: list[str], namespace: dict[str, Any]) -> list[Any]:
    from autograder.kit import checks as helpers

    seen: list[Any] = []
    original = helpers.call

    def recording_call(code: str, function: Any, /, *args: Any, **kwargs: Any) -> Any:
        try:
            result = original(code, function, *args, **kwargs)
        except AssertionError as error:
            seen.append(["call", code, "failed", str(error)[:200]])
            raise
        seen.append(["call", code, fingerprint(result)])
        return result

    tests: dict[str, Any] = {"__builtins__": builtins, "__name__": "audit_tests"}
    exec(compile(module, "<tests>", "exec"), tests)
    helpers.call = recording_call
    try:
        for name in checks:
            function = tests[name]
            import inspect

            params = list(inspect.signature(function).parameters)
            kwargs = {p: namespace.get(p) for p in params}
            seen.append(["check", name, [[p, fingerprint(v)] for p, v in kwargs.items()]])
            try:
                function(**kwargs)
                seen.append(["outcome", name, "passed"])
            except helpers.CheckSkipped:
                seen.append(["outcome", name, "skipped"])
            except BaseException as error:  # noqa: BLE001
                seen.append(["outcome", name, type(error).__name__])
    finally:
        helpers.call = original
    return seen


def run(notebook: dict, question: str, tests: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    import torch

    from autograder.grading.submission import is_otter_cell

    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    namespace: dict[str, Any] = {"__builtins__": builtins, "__name__": "__main__"}
    values: dict[str, dict[str, str]] = {}
    pending: tuple[str, list[str]] | None = None
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            for cell in notebook["cells"]:
                if cell["cell_type"] != "code":
                    continue
                source = "".join(cell["source"])
                tags = cell.get("metadata", {}).get("tags", [])
                stripped = source.strip()
                if stripped.startswith("grader.check("):
                    asked = stripped.split('"')[1] if '"' in stripped else ""
                    if pending is not None and pending[0] == asked:
                        found = {}
                        for name in pending[1]:
                            text = literal(namespace.get(name))
                            if text is not None:
                                found[name] = text
                        values[asked] = found
                        pending = None
                    if asked == question:
                        spec = tests[question]
                        return {"fingerprint": hashlib.sha256(json.dumps(
                            run_tests(spec["module"], spec["checks"], namespace),
                            default=repr).encode()).hexdigest()}
                if is_otter_cell(source):
                    continue
                if "otter_assign_solution_cell" in tags or "otter_answer_cell" in tags:
                    pending = (_next_question(notebook, cell), _assigned(source))
                with contextlib.redirect_stdout(io.StringIO()), \
                        contextlib.redirect_stderr(io.StringIO()):
                    exec(compile(source, "<cell>", "exec"), namespace)
        except BaseException as error:  # noqa: BLE001 - a mutant that breaks the run
            return {"error": f"{type(error).__name__}: {error}"[:300], "values": values}
        finally:
            os.chdir(here)
    return {"values": values}


def _next_question(notebook: dict, cell: dict) -> str:
    cells = notebook["cells"]
    start = next(i for i, c in enumerate(cells) if c is cell)
    for later in cells[start + 1:]:
        text = "".join(later["source"]).strip()
        if later["cell_type"] == "code" and text.startswith("grader.check("):
            return text.split('"')[1] if '"' in text else ""
        if later["cell_type"] == "code" and (
                "otter_assign_solution_cell" in later.get("metadata", {}).get("tags", [])):
            return ""
    return ""


def main() -> None:
    request_path = Path(sys.argv[1])
    request = json.loads(request_path.read_text())
    import torch

    torch.set_num_threads(1)
    from autograder.bundle import load_bundle

    bundle = load_bundle(Path(request["bundle"]))
    tests = {q.name: {"module": q.module, "checks": [c.name for c in q.checks]}
             for q in bundle.questions}
    answers = [run(r["notebook"], r["question"], tests) for r in request["runs"]]
    (request_path.parent / "answer.json").write_text(json.dumps(answers))


if __name__ == "__main__":
    main()
