"""Authoring an assignment: the skeleton `autograder new` writes, a release that is verified
before it replaces the previous one, and configuration mistakes named where they are.

Built on the skeleton (one question), with the real otter assign and the real engine."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

from autograder.authoring import build_state
from autograder.authoring.instructor_notebook import read_instructor_notebook
from autograder.authoring.release import build_release
from autograder.authoring.skeleton import write_skeleton
from autograder.errors import ReleaseError
from autograder.grading.grader import grade_submissions


def _autograder(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd,
                          capture_output=True, text=True)


def _test_cell(nb: nbformat.NotebookNode, test: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.cell_type == "code" and f"def {test}(" in c.source)


def _edit(notebook: Path, edit) -> None:
    nb = nbformat.read(notebook, as_version=4)
    edit(nb)
    nbformat.write(nb, notebook)


@pytest.fixture
def skeleton(tmp_path: Path) -> Path:
    return write_skeleton(tmp_path / "assignments", "05-demo")


def test_new_then_release_then_grade_gives_full_marks_and_zero(tmp_path):
    shutil.copy(ROOT / "constraints.txt", tmp_path)
    made = _autograder(tmp_path, "new", "05-demo")
    assert made.returncode == 0, made.stderr
    assert "assignments/05-demo/demo.ipynb" in made.stdout
    # A path works as well as a name (what a shell completes).
    built = _autograder(tmp_path, "release", "assignments/05-demo/")
    assert built.returncode == 0, built.stderr
    assert "05-demo: built" in built.stdout
    graded = _autograder(tmp_path, "grade", "05-demo", "dist/05-demo/solution.ipynb",
                         "student/05-demo/demo.ipynb", "--out", "out")
    assert graded.returncode == 0, graded.stderr
    with open(tmp_path / "out" / "grades.csv", newline="") as handle:
        rows = {row["submission"]: row for row in csv.DictReader(handle)}
    assert (rows["solution"]["status"], rows["solution"]["percent"]) == ("graded", "100.0")
    assert (rows["demo"]["status"], rows["demo"]["score"]) == ("graded", "0")
    assert _autograder(tmp_path, "new", "05-demo").returncode == 1  # never overwritten

    # One refused assignment: every assignment is still reported, the refused one with its
    # reason, and the command fails.
    broken = tmp_path / "assignments" / "04-broken"
    broken.mkdir()
    (broken / "broken.ipynb").write_text("{ not a notebook")
    both = _autograder(tmp_path, "release")
    assert both.returncode == 1, both.stdout
    assert "05-demo: up to date" in both.stdout
    assert "04-broken: refused" in both.stderr and "broken.ipynb" in both.stderr, both.stderr
    assert "1 of 2 assignment(s) refused" in both.stderr


def test_the_skeletons_tests_say_a_function_forgot_return(skeleton):
    """A function that computes its answer but returns nothing: the student reads the likely
    cause, not a type error about None."""
    import torch

    def random_matrix(rows, cols, device="cpu"):
        torch.manual_seed(42)
        torch.rand(rows, cols, device=device)  # no return

    nb = nbformat.read(skeleton, as_version=4)
    for test, call in (("test_q1_shape", "random_matrix(2, 3)"),
                       ("test_q1_values", "random_matrix(3, 4)")):
        namespace: dict = {}
        exec(_test_cell(nb, test).source, namespace)
        with pytest.raises(AssertionError) as failed:
            namespace[test](random_matrix)
        assert str(failed.value) == f"`{call}` returned None -- did you forget `return`?"


def test_a_failed_release_keeps_the_good_one_and_the_mended_notebook_grades_100(
        skeleton, tmp_path):
    roots = {"student_root": tmp_path / "student", "dist_root": tmp_path / "dist"}
    good = build_release(skeleton.parent, **roots)
    kept = {p: p.read_bytes() for p in (good.bundle, good.solution, good.student_notebook)}
    original = skeleton.read_bytes()

    def wrong_expected_value(nb):
        cell = _test_cell(nb, "test_q1_values")
        cell.source = cell.source.replace("with seeded(42):", "with seeded(43):")

    _edit(skeleton, wrong_expected_value)
    for _ in range(2):  # a failed build is never taken for an up-to-date one
        with pytest.raises(ReleaseError, match="fails its own test test_q1_values"):
            build_release(skeleton.parent, **roots)
        assert {p: p.read_bytes() for p in kept} == kept, "the good release was replaced"
        state = build_state.read(roots["dist_root"] / "05-demo")
        assert state.failure is not None and "test_q1_values" in state.failure.error
    assert not list(roots["dist_root"].glob(".release-*")), "a staging folder was left"

    skeleton.write_bytes(original)  # mended
    mended = build_release(skeleton.parent, **roots)
    assert {p: p.read_bytes() for p in kept} == kept
    [reference] = grade_submissions(mended.bundle, [mended.solution], workers=1)
    assert reference.status == "graded" and reference.percent == 100.0


def test_outputs_changed_after_a_build_are_not_up_to_date(skeleton, tmp_path):
    roots = {"student_root": tmp_path / "student", "dist_root": tmp_path / "dist"}
    first = build_release(skeleton.parent, **roots)
    good = first.bundle.read_bytes()
    first.bundle.write_bytes(b"left by an interrupted build")
    again = build_release(skeleton.parent, **roots)
    assert again.rebuilt and again.bundle.read_bytes() == good
    assert not build_release(skeleton.parent, **roots).rebuilt


def test_a_hidden_test_that_asserts_nothing_is_refused_by_name(skeleton, tmp_path):
    def asserts_nothing(nb):
        cell = _test_cell(nb, "test_q1_values")
        header, _, _ = cell.source.partition("def test_q1_values")
        cell.source = header + "def test_q1_values(random_matrix):\n    pass\n"

    _edit(skeleton, asserts_nothing)
    with pytest.raises(ReleaseError) as info:
        build_release(skeleton.parent, student_root=tmp_path / "student",
                      dist_root=tmp_path / "dist")
    message = str(info.value)
    assert "question q1" in message
    assert "test test_q1_values passes on the blank release" in message
    assert not (tmp_path / "dist" / "05-demo" / "autograder.zip").exists()
    assert not (tmp_path / "student" / "05-demo").exists()


@pytest.mark.parametrize(("old", "new", "words"), [
    ("hidden: true", "hiden: true",
     "the TEST CONFIG of test_q1_values has an unknown key `hiden` (did you mean `hidden`?)"),
    ("points: 2", "point: 2",
     "the TEST CONFIG of test_q1_values has an unknown key `point` (did you mean `points`?)"),
    ("points: 2", "points 2",
     "the TEST CONFIG of test_q1_values is not valid YAML (line 2 of the cell): `points 2` "
     "is not a `key: value` line"),
])
def test_a_test_config_mistake_is_named_where_it_is(skeleton, old, new, words):
    def mistake(nb):
        cell = _test_cell(nb, "test_q1_values")
        cell.source = cell.source.replace(old, new, 1)

    _edit(skeleton, mistake)
    with pytest.raises(ReleaseError) as info:
        read_instructor_notebook(skeleton)
    assert "demo.ipynb, question q1: " + words in str(info.value)


def test_an_assignment_config_typo_is_named_with_the_nearest_key(skeleton):
    def typo(nb):
        nb.cells[0].source = nb.cells[0].source.replace("ok_format", "ok_fromat")

    _edit(skeleton, typo)
    with pytest.raises(ReleaseError, match=r"ASSIGNMENT CONFIG `tests` has an unknown key "
                       r"`ok_fromat` \(did you mean `ok_format`\?\)"):
        read_instructor_notebook(skeleton)


def test_the_skeleton_is_stored_as_the_assignments_are(skeleton):
    nb = json.loads(skeleton.read_text())
    assert skeleton.read_text() == json.dumps(nb, indent=1, sort_keys=True,
                                              ensure_ascii=False) + "\n"
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
