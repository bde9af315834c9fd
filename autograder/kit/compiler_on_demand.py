"""torch's compiler front end (``torch._dynamo``) imported when the compiler is used, not before.

Two lazy imports in torch load the compiler front end in code that never compiles anything:
the mark that keeps a function out of compiled code (``torch._disable_dynamo``: every
optimizer's other methods, the reference implementations the meta device runs) imports it on
the marked function's first call, and every optimizer's ``step`` imports it to place graph
breaks. That import is 1.3-1.8 s of CPU (sympy, torch.distributed, ...): the largest single
cost of a cold grade or a ``validate`` of the assignments that train a model, where
otter-grader pays it too.

``defer_compiler_import()`` gives both functions a body that differs in one thing: while
``torch._dynamo`` has not been imported, nothing can be compiling, so they skip what is only
for compiled code (the mark, the graph breaks: no-ops outside it). Once the compiler is loaded
(the student calls ``torch.compile``), they do exactly what torch does. Applied in the student's
process only (the grader's sandbox, before a worker forks; the notebook's first cell), and only
to the torch source it was written for (torch 2.13's, recognised by a fingerprint of the two
functions' source): any other torch is left as it is, only slower.
"""

from __future__ import annotations

import gc
import hashlib
import inspect
import sys
import types
from typing import Any

# sha256 of ``inspect.getsource`` of each function whose inner function is replaced (torch 2.13).
KNOWN_SOURCE = {
    "torch._compile._disable_dynamo": "ef3642a9e93efe6b",
    "torch.optim.optimizer._use_grad_for_differentiable": "d0f1dfc940581f41",
}


# Templates of the replacements. Each has the free variables of torch's inner function (its
# code is swapped in, the closure's cells stay torch's) and uses only the global names of the
# module it replaces code in: a replaced function keeps its own module's globals.

def _disable_dynamo(fn: Any, recursive: bool) -> Any:  # torch._compile; globals: builtins
    def inner(*args: Any, **kwargs: Any) -> Any:
        disable_fn = getattr(fn, "__dynamo_disable", None)
        if disable_fn is None:
            if "torch._dynamo" not in __import__("sys").modules:
                return fn(*args, **kwargs)  # no compiler loaded: nothing to keep fn out of
            import torch._dynamo

            disable_fn = torch._dynamo.disable(fn, recursive, wrapping=False)
            fn.__dynamo_disable = disable_fn
        return disable_fn(*args, **kwargs)

    return inner


def _use_grad_for_differentiable(func: Any) -> Any:  # torch.optim.optimizer; globals: torch
    def _use_grad(*args: Any, **kwargs: Any) -> Any:
        dynamo = __import__("sys").modules.get("torch._dynamo")  # None: no compiled code
        self = args[0]
        prev_grad = torch.is_grad_enabled()  # type: ignore[name-defined]  # noqa: F821
        try:
            torch.set_grad_enabled(self.defaults["differentiable"])  # type: ignore[name-defined]  # noqa: F821
            if dynamo is not None:
                dynamo.graph_break()
            ret = func(*args, **kwargs)
        finally:
            if dynamo is not None:
                dynamo.graph_break()
            torch.set_grad_enabled(prev_grad)  # type: ignore[name-defined]  # noqa: F821
        return ret

    return _use_grad


def _inner_code(function: Any) -> types.CodeType:
    codes = [c for c in function.__code__.co_consts if isinstance(c, types.CodeType)]
    if len(codes) != 1:
        raise LookupError(function.__qualname__)
    return codes[0]


def defer_compiler_import() -> bool:
    """Make torch's never-compile marks and optimizer graph breaks wait for the compiler. True
    while they wait (applied now or before); False once the compiler is loaded, or for a torch
    this was not written for. Imports torch, never ``torch._dynamo``."""
    import importlib

    import torch

    optimizer = importlib.import_module("torch.optim.optimizer")  # torch.optim hides the name
    if "torch._dynamo" in sys.modules:
        return False  # loaded already: nothing left to save
    targets = [(torch._compile._disable_dynamo, _inner_code(_disable_dynamo)),
               (optimizer._use_grad_for_differentiable,
                _inner_code(_use_grad_for_differentiable))]
    swaps: dict[types.CodeType, types.CodeType] = {}
    for outer, replacement in targets:
        original = _inner_code(outer)
        if original is replacement:
            continue  # applied before
        try:
            source = inspect.getsource(outer)
        except (OSError, TypeError):
            return False
        name = f"{outer.__module__}.{outer.__name__}"
        if hashlib.sha256(source.encode()).hexdigest()[:16] != KNOWN_SOURCE.get(name) or \
                original.co_freevars != replacement.co_freevars:
            return False  # not the torch this was written for: leave it as it is
        swaps[original] = replacement
    if not swaps:
        return True
    # Inner functions made from now on, then the ones made while torch was imported.
    for outer, _ in targets:
        consts = outer.__code__.co_consts
        outer.__code__ = outer.__code__.replace(
            co_consts=tuple(swaps.get(c, c) if isinstance(c, types.CodeType) else c
                            for c in consts))
    for obj in gc.get_objects():
        if type(obj) is types.FunctionType and obj.__code__ in swaps:
            obj.__code__ = swaps[obj.__code__]
    return True
