"""Check what you will submit: ``python -m autograder.kit.validate NOTEBOOK.ipynb|EXPORT.zip``.

Shipped in every student release (next to ``checks.py``), so it needs only what the release's
requirements.txt installs. It answers the questions a student has before submitting:

- does the file (a notebook, or the export zip holding one) open, and is it this assignment's?
- does it run from top to bottom, on the CPU, with no cell over the time limit?
- do its public checks pass, and if not, what fails?

It runs a copy of the notebook in a temporary folder, in a real Jupyter kernel, as the
student's own Jupyter would, without its export cell: validating writes nothing beside the
file it checks (no second zip, no otter log).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.kit.notebook_file import cell_label, read_notebook_file

MARKER = "AUTOGRADER-VALIDATE "
RELEASE_INFO = Path(__file__).resolve().parent / "release.json"


@dataclass(frozen=True)
class PublicCheck:
    question: str
    name: str
    passed: bool
    message: str = ""


@dataclass(frozen=True)
class ValidationReport:
    notebook: str
    problems: tuple[str, ...] = ()  # anything that would stop or hurt grading
    cell_errors: tuple[str, ...] = ()
    checks: tuple[PublicCheck, ...] = field(default=())
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.cell_errors and all(c.passed for c in self.checks)


def expected_assignment() -> str | None:
    """The assignment of the release this file ships in (None when run from the instructor
    side without ``--assignment``)."""
    try:
        return json.loads(RELEASE_INFO.read_text())["assignment"]
    except (OSError, ValueError, KeyError):
        return None


def _check_cell(questions: list[str]) -> str:
    # Runs in the student's kernel after the notebook: the notebook's own grader.check on each
    # question, results printed as one JSON line the validator reads back.
    return (
        "import json as _json\n"
        "_report = []\n"
        f"for _q in {questions!r}:\n"
        "    try:\n"
        "        _results = grader.check(_q).test_case_results\n"
        "        _report += [[_q, r.test_case.name, bool(r.passed), str(r.message)]\n"
        "                    for r in _results]\n"
        "    except Exception as _error:\n"
        "        _report.append([_q, '(check)', False, f'{type(_error).__name__}: {_error}'])\n"
        f"print({MARKER!r} + _json.dumps(_report))\n"
    )


def _is_export_cell(source: str) -> bool:
    lines = [ln.strip() for ln in source.splitlines() if ln.strip() and
             not ln.strip().startswith("#")]
    return bool(lines) and all(ln.startswith("grader.export") for ln in lines)


def validate_notebook(path: Path, *, assignment: str | None = None,
                      cell_timeout: float = 120.0) -> ValidationReport:
    """Open, run and check one notebook or export zip; never raises for a bad one."""
    import nbformat

    path = Path(path)
    began = time.monotonic()
    try:  # read as the grader reads it, so both say the same about a file that is not one
        nb = nbformat.from_dict(read_notebook_file(path))
    except (ValueError, OSError) as error:
        return ValidationReport(str(path), problems=(f"{path.name}: {error}",))
    otter = nb.metadata.get("otter", {})
    name = otter.get("assignment_name")
    expected = assignment or expected_assignment()
    problems = []
    if not name:
        problems.append("the notebook has no assignment information: submit the notebook "
                        "from the student release, not a copy pasted into a new notebook")
    elif expected and name != expected:
        problems.append(f"this notebook is for {name!r}, not {expected!r}")
    questions = sorted(otter.get("tests", {}), key=lambda q: (len(q), q))
    if problems:
        return ValidationReport(str(path), problems=tuple(problems))

    # Cells keep the numbers the student sees in the file, export cells taken out or not.
    numbers = [i for i, c in enumerate(nb.cells)
               if not (c.cell_type == "code" and _is_export_cell(c.source))]
    nb.cells = [nb.cells[i] for i in numbers]
    nb.cells.append(nbformat.v4.new_code_cell(_check_cell(questions)))
    with tempfile.TemporaryDirectory(prefix="validate-") as folder:
        # The notebook alone, as on the grader: its first cell brings what the checks need.
        nbformat.write(nb, Path(folder) / (path.stem + ".ipynb"))
        problems += _execute(nb, Path(folder), cell_timeout)
    return _report(path, nb, numbers, problems, began)


def _execute(nb: Any, folder: Path, cell_timeout: float) -> list[str]:
    """Run ``nb`` in ``folder`` (its outputs land in ``nb``); what stopped it, if anything."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    problems = []
    env_backup = os.environ.get("CUDA_VISIBLE_DEVICES")
    os.environ["CUDA_VISIBLE_DEVICES"] = ""  # run on the CPU, as the grader will
    client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3",
                            allow_errors=True, resources={"metadata": {"path": str(folder)}},
                            config=_kernel_config())
    try:
        client.execute()
    except CellTimeoutError:
        problems.append(f"a cell ran longer than {cell_timeout:g} s (infinite loop?); the "
                        "grader stops such submissions")
    except DeadKernelError:
        problems.append("the kernel died while running the notebook (memory?)")
    finally:
        if env_backup is None:
            os.environ.pop("CUDA_VISIBLE_DEVICES", None)
        else:
            os.environ["CUDA_VISIBLE_DEVICES"] = env_backup
    return problems


def _kernel_config() -> Any:
    """The kernel's channels encrypted (CurveZMQ) where pyzmq can: over plain TCP, ipykernel
    prints a warning about it on every run, which the student can do nothing about."""
    import zmq
    from traitlets.config import Config

    config = Config()
    if zmq.has("curve"):  # "auto": encrypted when the kernel says it supports it (ipykernel)
        config.KernelManager.transport_encryption = "auto"
    return config


def _report(path: Path, nb: Any, numbers: list[int], problems: list[str],
            began: float) -> ValidationReport:
    """``numbers``: each cell's index in the student's file (the last cell, the checks, is
    ours)."""
    cell_errors, checks = [], []
    for index, cell in zip(numbers, nb.cells[:-1], strict=True):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                cell_errors.append(f"{cell_label(index, cell.source)}: {output.get('ename')}: "
                                   f"{output.get('evalue')}")
    for output in nb.cells[-1].get("outputs", []):
        text = output.get("text", "")
        for line in text.splitlines():
            if line.startswith(MARKER):
                checks = [PublicCheck(q, n, p, m) for q, n, p, m in
                          json.loads(line[len(MARKER):])]
    if not checks and not problems:
        problems.append("the public checks could not run (is the first cell, which creates "
                        "`grader`, still there?)")
    return ValidationReport(str(path), tuple(problems), tuple(cell_errors), tuple(checks),
                            round(time.monotonic() - began, 1))


def render_report(report: ValidationReport) -> str:
    lines = [f"{report.notebook}: " + ("ready to submit" if report.ok else "needs attention")]
    lines += [f"  problem: {p}" for p in report.problems]
    lines += [f"  error in {e}" for e in report.cell_errors]
    by_question: dict[str, list[PublicCheck]] = {}
    for check in report.checks:
        by_question.setdefault(check.question, []).append(check)
    for question, checks in by_question.items():
        failed = [c for c in checks if not c.passed]
        if not failed:
            lines.append(f"  {question}: public checks pass")
        for check in failed:
            message = check.message.strip().splitlines()[-1] if check.message.strip() else ""
            lines.append(f"  {question}: FAILS {check.name}: {message}")
    if report.seconds:
        lines.append(f"  ran in {report.seconds:g} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    # nbformat imports jsonschema, whose optional IRI format checker (rfc3987_syntax, installed
    # with JupyterLab) builds a parser on import: a second of CPU, a cold start's largest
    # import here, for a format nbformat never checks. This process only, never the kernel's.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    parser = argparse.ArgumentParser(prog="python -m autograder.kit.validate",
                                     description="Check a notebook before you submit it.")
    parser.add_argument("notebook", type=Path,
                        help="the notebook (.ipynb) or the export (.zip) you will submit")
    parser.add_argument("--assignment", help="the assignment it must belong to")
    parser.add_argument("--cell-timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    report = validate_notebook(args.notebook, assignment=args.assignment,
                               cell_timeout=args.cell_timeout)
    print(render_report(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
