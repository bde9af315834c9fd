"""What a student installs for one release: its ``requirements.txt``, pinned by the suite's
constraints.txt (``pins``), and the one line that installs it, locally or on Colab.

The packages are those the student notebook and its public tests import (``torch``,
``sklearn``, ...), plus otter-grader (the checks), JupyterLab (to open the notebook), and
everything else that can change what the student's checks compute or print (the kernel and
IPython, the dependencies a project computes with): all at the grader's versions, so a check
passes or fails for the student as it does on the grader.
Colab already has torch, NumPy, IPython and scikit-learn (with its own GPU build of torch);
the checks need nothing else, and only the export (which Colab does not run) needs otter-grader,
so nothing is installed there.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from autograder.authoring.pins import COMPUTES_WITH, suite_pins

# Top-level modules a notebook may import -> the project that provides them.
PROJECT_OF_MODULE = {
    "torch": "torch",
    "numpy": "numpy",
    "sklearn": "scikit-learn",
    "matplotlib": "matplotlib",
    "tqdm": "tqdm",
    "IPython": "ipython",  # the kernel's shell (the notebook's grader asks it whether it is Colab)
}
# Every student needs these, whatever the notebook imports: the checks (otter-grader), the
# kernel they run and print in (ipykernel, IPython, jupyter_client; `validate` runs the notebook
# in IPython's shell), the notebook's reader (nbformat) and JupyterLab. Left unpinned, pip
# resolves them to whatever is newest on the day.
ALWAYS = ("otter-grader", "ipython", "ipykernel", "jupyter-client", "nbformat", "jupyterlab")
# Modules that come with the release itself (the check helpers) or with otter.
PROVIDED = {"autograder", "otter"}
REQUIREMENTS_FILE = "requirements.txt"
INSTALL_LINE = f"pip install -r {REQUIREMENTS_FILE}"


class UnknownImportError(ValueError):
    """The notebook imports a module whose project this module does not know."""


@dataclass(frozen=True)
class StudentEnvironment:
    requirements: tuple[str, ...]  # pin lines, e.g. "torch==2.13.0"

    def requirements_txt(self, assignment: str) -> str:
        return (f"# What {assignment} needs: `{INSTALL_LINE}` (Python 3.11 or newer).\n"
                "# Pinned like the course's grader (its constraints.txt); do not edit.\n"
                + "\n".join(self.requirements) + "\n")


def imported_modules(sources: Iterable[str]) -> set[str]:
    """Top-level modules imported by these code sources (cells, test files). A cell with
    IPython syntax (``%pip``, ``!ls``) is read without those lines."""
    found: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            tree = ast.parse("\n".join(line for line in source.splitlines()
                                       if not line.lstrip().startswith(("%", "!"))))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def student_environment(sources: Iterable[str]) -> StudentEnvironment:
    """The pinned environment for a notebook whose code (cells and public tests) is
    ``sources``. Raises ``UnknownImportError`` for a module that is neither standard nor
    known, so a release never ships a notebook its install line cannot run."""
    modules = imported_modules(sources) - PROVIDED - set(sys.stdlib_module_names)
    unknown = sorted(m for m in modules if m not in PROJECT_OF_MODULE)
    if unknown:
        raise UnknownImportError(
            f"the notebook imports {', '.join(unknown)}: add its project to "
            "PROJECT_OF_MODULE in autograder/authoring/student_env.py and its pin to "
            "constraints.txt")
    imported = {PROJECT_OF_MODULE[m] for m in modules}
    companions = {c for project in imported for c in COMPUTES_WITH.get(project, ())}
    projects = sorted(imported | companions | set(ALWAYS))
    pins = suite_pins()
    missing = [p for p in projects if p not in pins]
    if missing:
        raise UnknownImportError(f"constraints.txt pins no version of {', '.join(missing)}")
    return StudentEnvironment(requirements=tuple(pins[p] for p in projects))
