"""Check what you will submit: ``python -m autograder.kit.validate NOTEBOOK.ipynb|EXPORT.zip``.

Shipped in every student release (next to ``checks.py``), so it needs only what the release's
requirements.txt installs. It answers the questions a student has before submitting:

- does the file (a notebook, or the export zip holding one) open, and is it this assignment's?
- does it run from top to bottom, on the CPU, with no cell over the time limit?
- do its public checks pass, and if not, what fails?

It runs a copy of the notebook in a temporary folder, without its export cell, in IPython's
shell set up as the grader's (``notebook_shell``), in a Python process of its own: validating
writes nothing beside the file it checks (no second zip, no otter log).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.kit.notebook_file import (
    cell_label,
    cell_source,
    is_code_cell,
    read_notebook_file,
)

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


def _check_cell(questions: list[str], report: str) -> str:
    # Runs in the notebook's shell after the notebook: the notebook's own grader.check on each
    # question, results written as JSON to ``report``, which the validator reads back.
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
        f"with open({report!r}, 'w', encoding='utf-8') as _file:\n"
        "    _json.dump(_report, _file)\n"
    )


def _is_export_cell(source: str) -> bool:
    lines = [ln.strip() for ln in source.splitlines() if ln.strip() and
             not ln.strip().startswith("#")]
    return bool(lines) and all(ln.startswith("grader.export") for ln in lines)


def validate_notebook(path: Path, *, assignment: str | None = None,
                      cell_timeout: float = 120.0) -> ValidationReport:
    """Open, run and check one notebook or export zip; never raises for a bad one."""
    path = Path(path)
    began = time.monotonic()
    try:  # read as the grader reads it, so both say the same about a file that is not one
        nb = read_notebook_file(path)
        for cell in filter(is_code_cell, nb["cells"]):
            cell_source(cell)
    except (ValueError, OSError) as error:
        return ValidationReport(str(path), problems=(f"{path.name}: {error}",))
    metadata = nb.get("metadata")
    otter = metadata.get("otter") if isinstance(metadata, dict) else None
    otter = otter if isinstance(otter, dict) else {}
    name = otter.get("assignment_name")
    expected = assignment or expected_assignment()
    problems = []
    if not name:
        problems.append("the notebook has no assignment information: submit the notebook "
                        "from the student release, not a copy pasted into a new notebook")
    elif expected and name != expected:
        problems.append(f"this notebook is for {name!r}, not {expected!r}")
    tests = otter.get("tests")
    questions = sorted(tests if isinstance(tests, dict) else {}, key=lambda q: (len(q), q))
    if problems:
        return ValidationReport(str(path), problems=tuple(problems))

    # Cells keep the numbers the student sees in the file, export cells taken out or not.
    numbers = [i for i, c in enumerate(nb["cells"])
               if not (is_code_cell(c) and _is_export_cell(cell_source(c)))]
    with tempfile.TemporaryDirectory(prefix="validate-") as folder:
        checks_file = Path(folder) / ".public-checks.json"
        cells = [nb["cells"][i] for i in numbers]
        cells.append({"cell_type": "code", "metadata": {}, "outputs": [],
                      "execution_count": None,
                      "source": _check_cell(questions, str(checks_file))})
        # The notebook alone, as on the grader: its first cell brings what the checks need.
        copy = Path(folder) / (path.stem + ".ipynb")
        copy.write_text(json.dumps({**nb, "cells": cells}), encoding="utf-8")
        run = _execute(copy, cell_timeout)
        try:
            checks = json.loads(checks_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            checks = []
    checks = [c for c in checks if isinstance(c, list) and len(c) == 4] \
        if isinstance(checks, list) else []

    def label(index: int) -> str:
        return cell_label(numbers[index], cell_source(cells[index])) if index < len(numbers) \
            else "the public checks"

    cell_errors = [f"{label(i)}: {error}: {message}"
                   for i, (error, message) in sorted(run.errors.items()) if i < len(numbers)]
    if run.timed_out:
        where = "Python's start" if run.running is None else label(run.running)
        problems.append(f"{where} ran longer than {cell_timeout:g} s (an endless loop?); the "
                        "grader stops such submissions")
    elif run.stopped and run.last is None:
        problems.append(f"Python could not start the notebook's shell: {run.stopped}")
    elif run.stopped and run.last is not None:
        where = f"while running {label(run.running)}" if run.running is not None \
            else f"after {label(run.last)}"
        problems.append(f"Python stopped {where} (a crash, os._exit, or out of memory?)")
    elif not checks:
        problems.append("the public checks could not run (is the first cell, which creates "
                        "`grader`, still there?)")
    return ValidationReport(str(path), tuple(problems), tuple(cell_errors),
                            tuple(PublicCheck(*check) for check in checks),
                            round(time.monotonic() - began, 1))


_BOOTSTRAP = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
              "from autograder.kit.notebook_shell import main; sys.path.pop(0); "
              "sys.exit(main(sys.argv[1:]))")


@dataclass(frozen=True)
class _Run:
    errors: dict[int, tuple[str, str]]  # cell index in the notebook run -> (name, message)
    running: int | None = None  # the cell that was running when the run was stopped
    last: int | None = None  # the last cell that started
    timed_out: bool = False
    stopped: str = ""  # Python ended before the end: its last words on stderr, or "ended"


def _execute(notebook: Path, cell_timeout: float) -> _Run:
    """Run ``notebook``'s code cells in IPython's shell, as the grader does, in a Python of
    its own in the notebook's folder, on the CPU; stopped when a cell runs over
    ``cell_timeout`` seconds."""
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "",  # on the CPU, as the grader will
           "MPLBACKEND": "Agg"}  # a figure is drawn, never opened in a window
    # Why Python could not start the shell, if it could not (IPython missing): a file, which
    # nothing fills once the shell has started (it sends the cells' output to the null device).
    stderr = tempfile.TemporaryFile()
    # The shell's process imports this copy of the kit, then takes its folder off the path:
    # the notebook imports what it would on the grader, not files beside the release's.
    process = subprocess.Popen(
        [sys.executable, "-c", _BOOTSTRAP, str(Path(__file__).resolve().parents[2]),
         notebook.name],
        cwd=notebook.parent, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=stderr, start_new_session=os.name == "posix")
    events: queue.Queue[dict[str, Any] | None] = queue.Queue()

    def read_events() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict):
                    events.put(event)
        events.put(None)

    reader = threading.Thread(target=read_events, daemon=True)
    reader.start()
    errors: dict[int, tuple[str, str]] = {}
    running = last = None
    try:
        while True:
            try:  # the start-up and the gaps between cells get the same time as a cell
                event = events.get(timeout=cell_timeout)
            except queue.Empty:
                return _Run(errors, running, last, timed_out=True)
            if event is None:
                stderr.seek(0)
                lines = stderr.read()[-4000:].decode("utf-8", "replace").strip().splitlines()
                return _Run(errors, running, last, stopped=lines[-1] if lines else "ended")
            if event.get("done"):
                return _Run(errors)
            if "start" in event:
                running = last = event["start"]
            else:
                running = None
                if event.get("error"):
                    errors[event["end"]] = tuple(event["error"])
    finally:
        _stop(process)
        stderr.close()
        reader.join(timeout=1)  # at the pipe's end now, unless something the notebook
        if not reader.is_alive() and process.stdout is not None:  # detached still holds it
            process.stdout.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the shell's process and whatever it started."""
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    process.kill()
    process.wait()


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
