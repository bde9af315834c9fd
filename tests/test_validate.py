"""`autograder validate`: a student's pre-submission check, runnable from the release alone."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from answers.a01_tensors import VARIANTS
from conftest import notebook_with_answer


def _run_validate(folder, notebook, *extra):
    # Run from the release folder: `autograder` resolves to the copy shipped there.
    return subprocess.run([sys.executable, "-m", "autograder.kit.validate", notebook, *extra],
                          cwd=folder, capture_output=True, text=True, timeout=600)


def test_validate_from_the_student_release_alone(releases, tmp_path):
    release = releases["01-tensors"]
    folder = tmp_path / "release"
    shutil.copytree(release.student_notebook.parent, folder)
    blank = _run_validate(folder, release.student_notebook.name)
    assert blank.returncode == 1
    assert "q1: FAILS" in blank.stdout and "placeholder" in blank.stdout
    assert blank.stderr == "", blank.stderr  # no kernel warnings (unencrypted TCP) on a run

    # A finished notebook whose q3 answer is wrong: only q3 is reported.
    wrong_q3 = next(iter(VARIANTS["q3"]["wrong"].values()))
    done = notebook_with_answer(release.solution, "q3", wrong_q3, folder / "done.ipynb")
    nb = json.loads(done.read_text())
    nb["metadata"]["otter"]["tests"] = json.loads(
        release.student_notebook.read_text())["metadata"]["otter"]["tests"]
    done.write_text(json.dumps(nb))
    result = _run_validate(folder, "done.ipynb")
    assert result.returncode == 1, result.stdout
    assert "q3: FAILS" in result.stdout and "q1: public checks pass" in result.stdout


def test_validate_names_the_wrong_assignment(releases, tmp_path):
    folder = tmp_path / "release"
    shutil.copytree(releases["01-tensors"].student_notebook.parent, folder)
    shutil.copy(releases["03-gpu"].student_notebook, folder / "gpu.ipynb")
    result = _run_validate(folder, "gpu.ipynb")
    assert result.returncode == 1
    assert "this notebook is for '03-gpu', not '01-tensors'" in result.stdout


def test_validate_reports_a_cell_that_never_ends(releases, tmp_path):
    release = releases["01-tensors"]
    folder = tmp_path / "release"
    shutil.copytree(release.student_notebook.parent, folder)
    nb = json.loads(release.student_notebook.read_text())
    nb["cells"].insert(2, {"cell_type": "code", "metadata": {}, "outputs": [],
                           "execution_count": None, "source": "while True:\n    pass"})
    (folder / "loop.ipynb").write_text(json.dumps(nb))
    result = _run_validate(folder, "loop.ipynb", "--cell-timeout", "3")
    assert result.returncode == 1 and "ran longer than 3 s" in result.stdout


def test_validate_says_what_the_grader_says_about_a_file_that_is_not_a_notebook(releases,
                                                                                  tmp_path):
    """The same reading as the grader's intake: the same message for the same file."""
    from autograder.bundle import load_bundle
    from autograder.grading.submission import read_submission

    release = releases["01-tensors"]
    folder = tmp_path / "release"
    shutil.copytree(release.student_notebook.parent, folder)
    bundle = load_bundle(release.bundle)
    bad_source = json.dumps({"cells": [{"cell_type": "code", "source": 5}], "metadata": {}})
    for name, text in (("list.ipynb", "[1, 2]"), ("cells.ipynb", '{"metadata": {}}'),
                       ("cut.ipynb", '{"cells": ['), ("source.ipynb", bad_source)):
        (folder / name).write_text(text)
        result = _run_validate(folder, name)
        problem = read_submission(folder / name, "x", bundle).problem
        assert result.returncode == 1 and problem, (result.stdout, problem)
        assert problem in result.stdout, (result.stdout, problem)
        assert "nbformat" not in result.stdout and "Traceback" not in result.stdout


def test_a_failing_check_in_the_notebook_shows_its_message_and_none_of_the_tests_source(
        releases, tmp_path):
    """What the student sees under a failing `grader.check("q3")` cell: the check's message,
    not otter's "Error at line N in test q3:" and the test's line that raised."""
    from nbclient import NotebookClient

    release = releases["01-tensors"]
    wrong_q3 = next(iter(VARIANTS["q3"]["wrong"].values()))
    done = notebook_with_answer(release.solution, "q3", wrong_q3, tmp_path / "done.ipynb")
    nb = nbformat.read(done, as_version=4)
    public_tests = json.loads(release.student_notebook.read_text())["metadata"]["otter"]["tests"]
    nb.metadata["otter"]["tests"] = public_tests
    nb.cells = [c for c in nb.cells if "grader.export" not in c.source]
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    [check] = [c for c in nb.cells if c.source.strip() == 'grader.check("q3")']
    shown = "\n".join(str(value) for output in check.outputs
                      for value in [output.get("text", ""), *output.get("data", {}).values()])
    assert "Test case failed" in shown and "`odds` has the wrong shape" in shown, shown
    assert "Error at line" not in shown and "AssertionError" not in shown, shown
    test_lines = {line.strip() for line in public_tests["q3"].splitlines()
                  if len(line.strip()) > 12}
    assert not [line for line in test_lines if line in shown], shown


def test_validate_numbers_cells_as_jupyterlab_shows_them(releases, tmp_path):
    """A cell's number is the one the student sees: from 1, over every cell, whatever validate
    leaves out (the export cell, before this one)."""
    release = releases["01-tensors"]
    folder = tmp_path / "release"
    shutil.copytree(release.student_notebook.parent, folder)
    nb = json.loads(release.student_notebook.read_text())
    nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [],
                        "execution_count": None, "source": "# last\nraise ValueError('boom')"})
    (folder / "raises.ipynb").write_text(json.dumps(nb))
    result = _run_validate(folder, "raises.ipynb")
    assert f"error in cell {len(nb['cells'])} ('# last'): ValueError: boom" in result.stdout, \
        result.stdout


def test_validate_reports_a_notebook_that_stops_python_and_leaves_nothing_running(releases,
                                                                                   tmp_path):
    """A cell that ends the process (``os._exit``) is reported, not taken for a finished run,
    and what the notebook started is stopped with it."""
    release = releases["01-tensors"]
    folder = tmp_path / "release"
    shutil.copytree(release.student_notebook.parent, folder)
    pid_file = tmp_path / "sleeper.pid"
    nb = json.loads(release.solution.read_text())
    nb["cells"][2:2] = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": "import subprocess\n"
                   "_sleeper = subprocess.Popen(['sleep', '300'])\n"
                   f"open({str(pid_file)!r}, 'w').write(str(_sleeper.pid))"},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": "import os\nos._exit(3)"}]
    (folder / "stops.ipynb").write_text(json.dumps(nb))
    result = _run_validate(folder, "stops.ipynb")
    assert result.returncode == 1, result.stdout
    assert "Python stopped while running cell 4 ('import os')" in result.stdout, result.stdout
    assert "ready to submit" not in result.stdout
    status = Path(f"/proc/{pid_file.read_text()}/stat")
    assert not status.exists() or status.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def test_validate_runs_the_notebook_with_what_the_grader_has_not_the_release_folder(releases,
                                                                                    tmp_path):
    """A module beside the notebook is not submitted: a notebook that imports it fails on the
    grader, and validate says so, though it runs from the folder that holds the module."""
    release = releases["01-tensors"]
    folder = tmp_path / "release"
    shutil.copytree(release.student_notebook.parent, folder)
    (folder / "my_helpers.py").write_text("ANSWER = 42\n")
    nb = json.loads(release.solution.read_text())
    nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [],
                        "execution_count": None, "source": "from my_helpers import ANSWER"})
    (folder / "imports.ipynb").write_text(json.dumps(nb))
    result = _run_validate(folder, "imports.ipynb")
    assert result.returncode == 1, result.stdout
    assert "ModuleNotFoundError: No module named 'my_helpers'" in result.stdout, result.stdout
    assert "q1: public checks pass" in result.stdout, result.stdout


def test_validate_says_why_the_notebooks_python_cannot_start(releases, tmp_path):
    """Run with a Python that lacks IPython (a bare virtual environment): validate says what
    is missing, not that the notebook failed."""
    release = releases["01-tensors"]
    folder = tmp_path / "release"
    shutil.copytree(release.student_notebook.parent, folder)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")],
                   check=True, timeout=120)
    bare = tmp_path / "bare" / "bin" / "python"
    result = subprocess.run([str(bare), "-m", "autograder.kit.validate",
                             release.student_notebook.name],
                            cwd=folder, capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Python could not start the notebook's shell: ModuleNotFoundError: No module " \
           "named 'IPython'" in result.stdout, result.stdout + result.stderr
