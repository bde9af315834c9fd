"""The release: what students get, what stays hidden, reproducibility, and clear errors."""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import ASSIGNMENT_NAMES, ASSIGNMENTS, ROOT
from packaging.version import Version

from autograder.authoring.instructor_notebook import (
    find_instructor_notebook,
    read_instructor_notebook,
)
from autograder.authoring.pins import project_name
from autograder.authoring.release import EXPORT_INSTRUCTIONS, build_release
from autograder.authoring.setup_cell import PACKED_HELPERS
from autograder.bundle import load_bundle
from autograder.errors import ReleaseError


def _solution_and_given_lines(solution: Path) -> tuple[set[str], set[str]]:
    """Lines of the reference solution's answers (``# SOLUTION`` lines, BEGIN/END SOLUTION
    blocks) and every other line of the notebook (prose, set-up, code given to students)."""
    answers: set[str] = set()
    given: set[str] = set()
    for cell in json.loads(solution.read_text())["cells"]:
        is_answer_cell = "otter_assign_solution_cell" in cell["metadata"].get("tags", [])
        inside = False
        for line in "".join(cell["source"]).splitlines():
            stripped = line.strip()
            if stripped.endswith("# END SOLUTION"):
                inside = False
            elif is_answer_cell and (inside or re.search(r"#\s*SOLUTION\s*$", stripped)):
                code = re.sub(r"#\s*SOLUTION\s*$", "", stripped).strip()
                if len(code) > 12 and not code.startswith("#"):
                    answers.add(code)
            else:
                given.add(stripped)
            if stripped.endswith("# BEGIN SOLUTION"):
                inside = True
    return answers, given


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_student_release_has_no_solution_and_no_hidden_test(releases, name):
    release = releases[name]
    text = release.student_notebook.read_text()
    nb = json.loads(text)
    student_code = "\n".join("".join(c["source"]) for c in nb["cells"]
                             if c["cell_type"] == "code")
    answers, given = _solution_and_given_lines(release.solution)
    leaked = sorted(line for line in answers if line in student_code and line not in given)
    assert not leaked, f"solution code in the student release: {leaked[:5]}"
    assert "# SOLUTION" not in student_code and "BEGIN SOLUTION" not in student_code
    # Valid nbformat 4.5, whose cell ids the grader reads (and Colab keeps)
    nbformat.validate(nbformat.reads(text, as_version=nbformat.NO_CONVERT))
    assert (nb["nbformat"], nb["nbformat_minor"]) >= (4, 5)
    assert all(c.get("id") for c in nb["cells"])
    bundle = load_bundle(release.bundle)
    public_tests = nb["metadata"]["otter"]["tests"]
    for question in bundle.questions:
        hidden = [c.name for c in question.checks if c.hidden]
        public = [c.name for c in question.checks if not c.hidden]
        assert hidden and public, f"{question.name} needs public and hidden tests"
        for test in hidden:
            assert test not in text, f"hidden test {test} is in the student release"
        for test in public:
            assert test in public_tests[question.name], f"public test {test} missing"
    shipped = sorted(p.relative_to(release.student_notebook.parent).as_posix()
                     for p in release.student_notebook.parent.rglob("*") if p.is_file())
    assert shipped == sorted(["README.md", "autograder/__init__.py", "autograder/kit/checks.py",
                              "autograder/kit/__init__.py", "autograder/kit/release.json",
                              "autograder/kit/notebook_file.py",
                              "autograder/kit/notebook_shell.py", "autograder/kit/probes.py",
                              "autograder/kit/regular_files.py",
                              "autograder/kit/validate.py",
                              "requirements.txt", release.student_notebook.name])


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_student_requirements_pin_the_graders_own_versions(releases, name):
    """What the student installs computes and prints what the grader does: every package the
    checks run with, at the version installed here (the grader's environment)."""
    folder = releases[name].student_notebook.parent
    pins = {project_name(line): line.split("==")[1]
            for line in (folder / "requirements.txt").read_text().splitlines()
            if line and not line.startswith("#")}
    # The kernel the checks print in and what the notebook imports, whatever the assignment.
    assert {"torch", "numpy", "otter-grader", "ipython", "ipykernel", "jupyter-client",
            "nbformat"} <= set(pins)
    notebook = releases[name].student_notebook.read_text()
    if "sklearn" in notebook:
        assert {"scikit-learn", "scipy"} <= set(pins)
    graders = {project: Version(importlib.metadata.version(project)).public for project in pins}
    assert pins == graders


# What student-facing text may tell a student to click: menus as JupyterLab 4 and Colab name them.
MENU_PATHS = {
    "File > Save Notebook", "Run > Run All Cells", "Kernel > Restart Kernel and Run All Cells",
    "Kernel > Restart Kernel and Clear Outputs of All Cells",
    "File > Upload notebook", "File > Download > Download .ipynb", "Runtime > Change runtime type",
}
MENU_PATH = re.compile(r"\b(?:File|Edit|View|Run|Kernel|Tabs|Settings|Help|Runtime) (?:>|→) "
                       r"[^*)\n,:;]+")


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_student_text_names_real_menus_and_ends_with_our_export_instructions(releases, name):
    release = releases[name]
    sources = ["".join(c["source"]) for c in
               json.loads(release.student_notebook.read_text())["cells"]]
    readme = (release.student_notebook.parent / "README.md").read_text()
    helpers = [(ROOT / "autograder" / helper).read_text() for helper in PACKED_HELPERS]
    # The setup cell (first) carries the helpers packed: they are read from their files.
    said = {m.group(0).strip() for text in [*sources[1:], readme, *helpers]
            for m in MENU_PATH.finditer(text)}
    assert said and said <= MENU_PATHS, said - MENU_PATHS
    # Above the export cell, our instructions alone (otter's are about images and PDFs).
    [submission] = [s for s in sources if s.startswith("## Submission")]
    assert submission == f"## Submission\n\n{EXPORT_INSTRUCTIONS}"
    assert sources[-1].strip().endswith("grader.export(pdf=False)"), sources[-1]


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_committed_student_release_is_up_to_date(releases, name):
    built = releases[name].student_notebook.parent
    committed = ROOT / "student" / name
    assert committed.is_dir(), f"student/{name} is not committed: run `make release`"
    files = sorted(p.relative_to(built) for p in built.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(committed) for p in committed.rglob("*")
                           if p.is_file() and "__pycache__" not in p.parts)
    stale = [str(f) for f in files if (built / f).read_bytes() != (committed / f).read_bytes()]
    assert not stale, f"student/{name} is stale against its source ({stale}): make release"


def test_instructor_notebooks_are_stored_without_outputs():
    for name in ASSIGNMENT_NAMES:
        nb = nbformat.read(find_instructor_notebook(ASSIGNMENTS / name), as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, name


def test_building_twice_gives_identical_files_and_skips_when_unchanged(tmp_path, releases):
    folder = ASSIGNMENTS / "01-tensors"
    first = releases["01-tensors"]
    again = build_release(folder, student_root=tmp_path / "student",
                          dist_root=tmp_path / "dist", force=True)
    assert again.rebuilt
    for a, b in [(first.student_notebook, again.student_notebook), (first.bundle, again.bundle),
                 (first.solution, again.solution)]:
        assert a.read_bytes() == b.read_bytes(), f"{a.name} differs between two builds"
    unchanged = build_release(folder, student_root=tmp_path / "student",
                              dist_root=tmp_path / "dist")
    assert not unchanged.rebuilt


def test_bundle_is_gradescope_shaped(releases):
    with zipfile.ZipFile(releases["01-tensors"].bundle) as zf:
        names = set(zf.namelist())
        assert {"run_autograder", "setup.sh", "requirements.txt", "autograder/grading/grader.py",
                "autograder/kit/checks.py", "otter_config.json"} <= names
        assert any(n.startswith("tests/q") for n in names)
        assert zf.getinfo("run_autograder").external_attr >> 16 & 0o111
        assert all(i.date_time == (2020, 1, 1, 0, 0, 0) for i in zf.infolist())


# --- malformed instructor notebooks -----------------------------------------------------------


def _broken_copy(tmp_path: Path, edit) -> Path:
    """A copy of the tensors notebook in its own assignment folder, changed by ``edit``."""
    source = find_instructor_notebook(ASSIGNMENTS / "01-tensors")
    folder = tmp_path / "assignments" / "01-tensors"
    folder.mkdir(parents=True)
    nb = nbformat.read(source, as_version=4)
    edit(nb)
    nbformat.write(nb, folder / source.name)
    return folder


def _cell(nb, startswith: str, after: int = 0) -> int:
    return next(i for i, c in enumerate(nb.cells)
                if i >= after and c.source.lstrip().startswith(startswith))


def _question_start(nb, name: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "raw" and
                c.source.startswith("# BEGIN QUESTION") and f"name: {name}" in c.source)


def _bad_yaml(nb):
    nb.cells[_cell(nb, "# ASSIGNMENT CONFIG")].source += "\ntests: [unclosed\n"


def _no_tests(nb):
    start = _question_start(nb, "q2")
    begin, end = _cell(nb, "# BEGIN TESTS", start), _cell(nb, "# END TESTS", start)
    del nb.cells[begin:end + 1]


def _no_end(nb):
    del nb.cells[_cell(nb, "# END QUESTION", _question_start(nb, "q3"))]


def _test_without_points(nb):
    start = _question_start(nb, "q2")
    test = _cell(nb, '""" # BEGIN TEST CONFIG', start)
    nb.cells[test].source = re.sub(r"points: *[0-9.]+\n", "", nb.cells[test].source)


@pytest.mark.parametrize(("edit", "question", "words"), [
    (_bad_yaml, None, "ASSIGNMENT CONFIG is not valid YAML"),
    (_no_tests, "q2", "has no tests"),
    (_no_end, "q3", "missing # END QUESTION"),
    (_test_without_points, "q2", "must state its points"),
])
def test_malformed_notebook_names_notebook_question_and_problem(tmp_path, edit, question, words):
    folder = _broken_copy(tmp_path, edit)
    with pytest.raises(ReleaseError) as info:
        read_instructor_notebook(find_instructor_notebook(folder))
    message = str(info.value)
    assert "tensors.ipynb" in message and words in message
    if question:
        assert f"question {question}" in message


def test_release_errors_number_cells_as_jupyterlab_shows_them(tmp_path):
    """Counted from 1 over every cell (markdown and raw too), with the cell's first line."""
    where: dict[str, int] = {}

    def stored_with_outputs(nb):
        where["answer"] = _cell(nb, "# BEGIN SOLUTION", _question_start(nb, "q3")) + 1
        nb.cells[where["answer"]].outputs = [nbformat.v4.new_output("stream", text="hi\n")]

    folder = _broken_copy(tmp_path, stored_with_outputs)
    nb = nbformat.read(find_instructor_notebook(folder), as_version=4)
    first_line = nb.cells[where["answer"]].source.strip().splitlines()[0]
    with pytest.raises(ReleaseError) as info:
        read_instructor_notebook(find_instructor_notebook(folder))
    assert f"cell {where['answer'] + 1} ({first_line!r}) is stored with outputs" \
        in str(info.value)


def test_not_a_notebook_is_a_clear_error(tmp_path):
    folder = tmp_path / "assignments" / "09-x"
    folder.mkdir(parents=True)
    (folder / "x.ipynb").write_text('{"cells": [')
    with pytest.raises(ReleaseError, match="x.ipynb: is not a readable notebook"):
        read_instructor_notebook(folder / "x.ipynb")


def test_solution_failing_its_own_test_is_refused_with_the_failing_check(tmp_path):
    def wrong_q3(nb):
        start = _question_start(nb, "q3")
        answer = _cell(nb, "# BEGIN SOLUTION", start) + 1
        nb.cells[answer].source = re.sub(r"torch\.zeros\(", "torch.ones(",
                                         nb.cells[answer].source)

    folder = _broken_copy(tmp_path, wrong_q3)
    with pytest.raises(ReleaseError) as info:
        build_release(folder, student_root=tmp_path / "student", dist_root=tmp_path / "dist")
    message = str(info.value)
    assert "question q3" in message and "fails its own test" in message
    assert "wrong values" in message


def test_cli_reports_a_malformed_notebook_without_a_traceback(tmp_path):
    _broken_copy(tmp_path, _no_tests)
    shutil.copy(ROOT / "constraints.txt", tmp_path)
    run = subprocess.run([sys.executable, "-m", "autograder", "release", "01-tensors"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines() == [
        "autograder: error: assignments/01-tensors/tensors.ipynb, question q2: has no tests "
        "(add a # BEGIN TESTS block)"]


def test_cli_unknown_assignment(tmp_path):
    (tmp_path / "assignments").mkdir()
    run = subprocess.run([sys.executable, "-m", "autograder", "release", "nope"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 1 and "no assignment named 'nope'" in run.stderr
