"""The student notebook's ``grader``: its checks run without otter and say what otter's would,
less the test's source; otter is imported only to export."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

from otter.test_files.exception_test import ExceptionTestFile

from autograder.authoring.setup_cell import OTTER_TEST_CASE, OUR_TEST_CASE
from autograder.kit.public_checks import run_checks

TEST_FILE = f'''\
{OTTER_TEST_CASE}

OK_FORMAT = False

name = "q7"
points = None

@test_case(points=1, hidden=False)
def test_q7_shape(x):
    if x != 3:
        raise AssertionError(f"`x` is wrong -- got: {{x}}, expected: 3")

@test_case(points=1, hidden=False, failure_message="look at `y` again")
def test_q7_type(y):
    len(y)

@test_case(points=2, hidden=False, success_message="well done")
def test_q7_env(env):
    assert "x" in env
'''


def _otter_result(path, env):
    result = ExceptionTestFile.from_file(str(path))
    result.run(env)
    for case in result.test_case_results:  # what our grader showed when it ran otter's check
        case.message = re.sub(r"Error at line \d+ in test [^\n]*:\n[^\n]*\n", "", case.message)
        case.message = re.sub(r"^AssertionError: ", "", case.message, flags=re.M)
    return result


def test_public_checks_say_what_otter_says_without_the_tests_source(tmp_path):
    ours_path = tmp_path / "ours" / "q7.py"
    ours_path.parent.mkdir()
    ours_path.write_text(TEST_FILE.replace(OTTER_TEST_CASE, OUR_TEST_CASE))
    otters_path = tmp_path / "q7.py"
    otters_path.write_text(TEST_FILE)
    for env in ({"x": 3, "y": [1]}, {"x": 4, "y": 5}, {}):
        ours, otters = run_checks(ours_path, dict(env)), _otter_result(otters_path, dict(env))
        assert [(r.test_case.name, r.passed, r.message) for r in ours.test_case_results] == \
            [(r.test_case.name, r.passed, r.message) for r in otters.test_case_results]
        assert repr(ours) == repr(otters)
        assert ours.passed_all == otters.passed_all
    failing = run_checks(ours_path, {"x": 4, "y": 5})
    assert "got: 4, expected: 3" in repr(failing) and "raise AssertionError" not in repr(failing)
    assert "TypeError: object of type 'int' has no len()" in repr(failing)
    assert "passed!" in run_checks(ours_path, {"x": 3, "y": []})._repr_html_()


def test_the_notebooks_checks_never_import_otter(releases, tmp_path):
    """The reference, with its checks, then a cell that fails if otter was imported: validate
    reports no error. The export cell, which needs otter, validate leaves out."""
    release = releases["01-tensors"]
    folder = tmp_path / "release"
    shutil.copytree(release.student_notebook.parent, folder)
    nb = json.loads(release.solution.read_text())
    nb["metadata"]["otter"]["tests"] = json.loads(
        release.student_notebook.read_text())["metadata"]["otter"]["tests"]
    nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [],
                        "execution_count": None,
                        "source": "import sys\nassert 'otter' not in sys.modules"})
    (folder / "done.ipynb").write_text(json.dumps(nb))
    result = subprocess.run([sys.executable, "-m", "autograder.kit.validate", "done.ipynb"],
                            cwd=folder, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout
    assert "ready to submit" in result.stdout and "public checks pass" in result.stdout


def _run_with_first_cell(release, folder, first_cell):
    """The reference (its public tests as the release packs them) after ``first_cell``, every
    question checked at the end, in a real kernel; the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    folder.mkdir()
    nb = nbformat.from_dict(json.loads(release.solution.read_text()))
    nb.metadata["otter"]["tests"] = json.loads(
        release.student_notebook.read_text())["metadata"]["otter"]["tests"]
    questions = sorted(nb.metadata["otter"]["tests"], key=lambda q: (len(q), q))
    nb.cells = [c for c in nb.cells if "grader.export" not in c.source]
    nb.cells.insert(0, nbformat.v4.new_code_cell(first_cell))
    nb.cells.append(nbformat.v4.new_code_cell(
        f"print('FAILED', [q for q in {questions!r} if not grader.check(q).passed_all])"))
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    return [(c.source, o) for c in nb.cells for o in c.get("outputs", [])]


def test_without_otter_the_first_cell_names_the_install_line_and_colab_needs_nothing(
        releases, tmp_path):
    from test_student_release import SIMULATE_COLAB

    release = releases["01-tensors"]
    no_otter = 'import sys\nsys.modules["otter"] = None  # as if not installed\n'
    local = _run_with_first_cell(release, tmp_path / "local", no_otter)
    errors = [o for _, o in local if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "ImportError"
    assert "pip install -r requirements.txt" in errors[0]["evalue"]

    colab = _run_with_first_cell(release, tmp_path / "colab", no_otter + SIMULATE_COLAB)
    assert [o for _, o in colab if o.get("output_type") == "error"] == []
    assert any("FAILED []" in o.get("text", "") for _, o in colab)
    assert not any("pip" in o.get("text", "") for _, o in colab)  # nothing installed


def test_under_otters_grading_mode_the_check_is_otters(tmp_path, monkeypatch):
    """``otter run`` sets its grading mode on ``otter.Notebook`` before the notebook runs; then
    the notebook's check is otter's own (its result type, its tests folder), so otter records
    each question at its check cell as it expects."""
    import otter
    from otter.test_files.abstract_test import TestFile

    from autograder.kit.notebook_grader import NotebookGrader

    ours, otters = tmp_path / "ours", tmp_path / "otters"
    for folder, first_line in ((ours, OUR_TEST_CASE), (otters, OTTER_TEST_CASE)):
        folder.mkdir()
        (folder / "q7.py").write_text(TEST_FILE.replace(OTTER_TEST_CASE, first_line))
    monkeypatch.chdir(tmp_path)  # otter's check writes its log (.OTTER_LOG) here
    grader = NotebookGrader("x", tests_dir=str(ours))
    assert not isinstance(grader.check("q7", {"x": 3, "y": []}), TestFile)
    otter.Notebook.init_grading_mode(str(otters))
    try:
        result = grader.check("q7", {"x": 4, "y": []})
        exported = grader.export()  # nothing while grading: no notebook to find, no error
    finally:
        otter.Notebook._grading_mode = False
        otter.Notebook._tests_dir_override = None
    assert isinstance(result, TestFile) and not result.passed_all
    assert exported is None
