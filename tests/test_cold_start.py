"""A cold grade pays for torch once per process tree (issue 19): the grader's own process
(``autograder grade``, the bundle's Gradescope entry point) imports neither torch nor the
release machinery (nbformat, jsonschema, otter); only the worker, which runs student code,
imports torch. Checked on a real cold grade, from Python's own import log."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

HEAVY = ("torch", "numpy", "nbformat", "jsonschema", "otter", "IPython")


def _imported(stderr: str) -> set[str]:
    """Top-level packages named in ``python -X importtime``'s log."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_grading_a_bundle_imports_no_torch_in_the_graders_process(tensors_release, tmp_path):
    # -X importtime logs this process's imports only: the worker is another interpreter.
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "autograder", "grade",
         str(tensors_release.bundle), str(tensors_release.solution),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "200"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert "100.0" in run.stdout, run.stdout  # it did grade: the reference, in full
    imported = _imported(run.stderr)
    assert "autograder" in imported  # the log is read right
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))


def test_the_gradescope_entry_point_imports_no_torch():
    code = ("import sys, autograder.cli, autograder.grading.gradescope, autograder.grading.grader;"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert run.stdout.strip() == "[]", run.stdout


def test_validate_imports_no_kernel_machinery_in_its_own_process(tensors_release, tmp_path):
    """A student's ``validate`` pays for the notebook's imports once, in the process that runs
    it, not for a Jupyter kernel's machinery beside them."""
    folder = tmp_path / "release"
    shutil.copytree(tensors_release.student_notebook.parent, folder)
    shutil.copy(tensors_release.solution, folder / "done.ipynb")
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "autograder.kit.validate", "done.ipynb"],
        cwd=folder, capture_output=True, text=True, timeout=600)
    assert "public checks pass" in run.stdout, run.stdout  # the notebook did run, elsewhere
    imported = _imported(run.stderr)
    assert "autograder" in imported  # the log is read right
    kernel = {"jupyter_client", "nbclient", "zmq", "ipykernel", "tornado"}
    assert not imported & (set(HEAVY) | kernel), sorted(imported & (set(HEAVY) | kernel))
