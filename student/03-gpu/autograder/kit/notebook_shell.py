"""IPython's shell as the grader runs a notebook in it, and a notebook run in it on its own.

One setup for both sides: the grader's worker builds the shell its student's processes run
cells in with ``new_shell`` (``grading.sandbox``), and ``validate`` runs a student's notebook
with this module's ``main``, in a process of its own. So "ready to submit" means the notebook
ran in the shell the grader runs it in. Jupyter's kernel is not needed for that: its start and
its messages cost a cold ``validate`` about a second and a half of CPU and show nothing
``validate`` reports.

    python -m autograder.kit.notebook_shell NOTEBOOK.ipynb

runs every code cell of ``NOTEBOOK.ipynb`` in order, in the current folder, and reports on its
standard output, one JSON line per event: ``{"start": i}`` before the cell at ``i`` (its place
among all the notebook's cells), ``{"end": i, "error": [name, message] | null}`` after it, and
``{"done": true}`` at the end. What the cells print is dropped; standard error says only why
the shell could not start.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import types
from typing import Any

from autograder.kit.notebook_file import cell_source, is_code_cell


def new_shell() -> Any:
    """IPython's shell with no history kept, no colours, short tracebacks, and a ``__main__``
    module of its own for the notebook's names."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.xmode = "Minimal"
    # By default IPython runs cells in the ``__main__`` module: the process's own (``python -m
    # ...``), which the notebook's names must not overwrite.
    shell = InteractiveShell.instance(config=config, user_module=types.ModuleType("__main__"))

    # IPython keeps a copy of everything a cell prints (for %history -o), whatever the history
    # settings: endless printing would fill memory. Its ``_tee`` method is replaced, on this
    # instance, by one that keeps nothing.
    def no_tee(channel: str) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()

    shell._tee = no_tee  # type: ignore[method-assign, assignment]  # a method, patched
    return shell


def run_notebook(shell: Any, nb: dict[str, Any], report: Any) -> None:
    """Run ``nb``'s code cells in ``shell``; ``report(event)`` before and after each."""
    for index, cell in enumerate(nb["cells"]):
        if not is_code_cell(cell):
            continue
        report({"start": index})
        result = shell.run_cell(cell_source(cell), store_history=True)
        error = result.error_before_exec or result.error_in_exec
        report({"end": index,
                "error": None if error is None else [type(error).__name__, str(error)]})
    report({"done": True})


def main(argv: list[str]) -> int:
    [notebook] = argv
    with open(notebook, encoding="utf-8") as handle:
        nb = json.load(handle)
    shell = new_shell()  # what goes wrong here (IPython missing) is told on standard error
    # The reports keep the standard output's file; what the cells print, on either stream,
    # goes to the null device (``print`` writes to file descriptor 1, as C code does).
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)

    def report(event: dict[str, Any]) -> None:
        channel.write(json.dumps(event) + "\n")

    run_notebook(shell, nb, report)
    channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
