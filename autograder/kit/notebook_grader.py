"""The ``grader`` of a student notebook: ``check`` runs a question's public checks and shows
what a failing check said, nothing of the test's source; ``export`` zips the notebook that is
open (not a file name fixed at release time), and on Colab, where otter refuses to export,
says how to submit instead.

It imports otter only to export: a check runs without it (``public_checks``), so the first
cell and ``validate`` do not pay otter's import. Under ``otter run`` (otter's grading mode,
set on ``otter.Notebook`` before the notebook runs) both go to otter, as its grading expects.

Packed into every student notebook with ``checks.py`` and unpacked by its first cell
(``setup_cell``): it runs in the student's kernel only, so it may import otter and IPython.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.kit.compiler_on_demand import defer_compiler_import
from autograder.kit.public_checks import run_checks

# jupyter_server starts each notebook's kernel with this variable set to the notebook's path
# (absolute, or relative to the server's root); ipykernel copies it into ``__session__``.
SESSION_ENV = "JPY_SESSION_NAME"
COLAB_SUBMIT = (
    "On Colab the notebook cannot be zipped here (otter's export does not run on Colab).\n"
    "Submit the notebook itself: File > Download > Download .ipynb, then hand in that .ipynb\n"
    "file where your course tells you to; the grader accepts it as it is.")


class ExportRefused(Exception):
    """The notebook to export cannot be told; the message says what to do."""


def on_colab() -> bool:
    """Colab, as otter itself detects it (the IPython shell's class comes from google.colab)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return "google.colab" in str(get_ipython())


def otter_grading() -> Any:
    """otter's ``Notebook`` class when ``otter run`` is grading this notebook, else None.
    Otter is imported before then by otter's own first cell; never imported here."""
    otter = sys.modules.get("otter")
    notebook = getattr(otter, "Notebook", None)
    return notebook if getattr(notebook, "_grading_mode", False) else None


@dataclass(frozen=True)
class OpenNotebook:
    path: Path  # relative to the working folder when it lies there, so the zip holds its name
    found_by: str  # how it was found, shown to the student


def _belongs_to(path: Path, assignment: str) -> bool:
    try:
        metadata = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return False
    return metadata.get("otter", {}).get("assignment_name") == assignment


def _relative(path: Path, folder: Path) -> Path:
    try:
        return path.resolve().relative_to(folder.resolve())
    except ValueError:
        return path


def find_open_notebook(assignment: str, folder: Path | None = None,
                       session: str | None = None) -> OpenNotebook:
    """The notebook this kernel runs: the path Jupyter gave the kernel (``SESSION_ENV``)
    when that file exists, else this assignment's one notebook in the working folder.
    Raises ``ExportRefused`` naming the notebooks when there are several to choose from."""
    folder = Path.cwd() if folder is None else folder
    session = os.environ.get(SESSION_ENV) if session is None else session
    if session:
        # Absolute from JupyterLab; relative to the server's root from older servers, and the
        # kernel runs in the notebook's folder, so the file name alone is tried last.
        for candidate in (Path(session), folder / session, folder / Path(session).name):
            if candidate.is_file() and candidate.suffix == ".ipynb":
                return OpenNotebook(_relative(candidate, folder), f"{SESSION_ENV} (Jupyter)")
    mine = sorted(p for p in folder.glob("*.ipynb") if _belongs_to(p, assignment))
    if len(mine) == 1:
        return OpenNotebook(mine[0].relative_to(folder), f"the only {assignment} notebook here")
    if not mine:
        raise ExportRefused(f"no notebook of {assignment} is saved in {folder}: save this "
                            "notebook there (File > Save Notebook), then run this cell again")
    names = " and ".join(repr(p.name) for p in mine)
    raise ExportRefused(
        f"cannot tell which notebook is open: {names} are both {assignment} notebooks in "
        f"{folder}. Name the one you worked in, e.g. "
        f"grader.export({mine[-1].name!r}, pdf=False), or move the other one away")


class NotebookGrader:
    """The notebook's ``grader``: public tests in ``tests_dir`` (one file per question, the
    form Colab needs) and an ``export`` that zips the notebook that is open."""

    def __init__(self, assignment: str, tests_dir: str) -> None:
        self.assignment = assignment
        self.tests_dir = tests_dir
        # As in the grader's sandbox: the notebook runs, and validate times it, as graded.
        # Without torch installed yet, the notebook's own `import torch` says so, not this.
        with contextlib.suppress(ImportError):
            defer_compiler_import()

    def check(self, question: str, global_env: dict[str, Any] | None = None) -> Any:
        if global_env is None:  # the caller's globals
            caller = inspect.currentframe().f_back  # type: ignore[union-attr]
            global_env = caller.f_globals  # type: ignore[union-attr]
        grading = otter_grading()
        if grading is not None:  # otter records its result here, at the check cell
            return grading(tests_dir=self.tests_dir).check(question, global_env)
        path = Path(self.tests_dir) / f"{question}.py"
        if not path.is_file():
            raise FileNotFoundError(f"Test {question} does not exist")
        return run_checks(path, global_env)

    def export(self, nb_path: str | None = None, *args: Any, **kwargs: Any) -> None:
        if otter_grading() is not None:  # as otter's own export: never while grading
            return None
        if on_colab():
            print(COLAB_SUBMIT)
            return None
        if nb_path is None:
            found = find_open_notebook(self.assignment)
            print(f"Exporting {found.path.name} (found by {found.found_by}); make sure you "
                  "saved it first.")
            nb_path = str(found.path)
        try:
            from otter import Notebook
        except ImportError:
            raise ImportError("otter-grader is not installed, and it makes the zip: in the "
                              "folder of this notebook run `pip install -r requirements.txt` "
                              "(see README.md)") from None
        return Notebook(nb_path=None, tests_dir=self.tests_dir).export(nb_path, *args, **kwargs)
