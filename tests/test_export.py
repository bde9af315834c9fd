"""Gradebook exports: the Canvas import file and the long CSV, from a real grading output
folder, against a Canvas-style roster with matched, unmatched, missing, ambiguous and
conflicting students."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import copy_to
from make_examples import example_notebooks

from autograder.errors import AutograderError
from autograder.grading.grader import grade_submissions
from autograder.reports.lms_export import (
    Ambiguous,
    Conflict,
    Student,
    candidates,
    export_canvas,
    export_long,
    read_roster,
)

# As Canvas exports it (Grades > Export): a BOM, the Points Possible row, a Manual Posting
# row, read-only columns. Erin has no submission; Sam and Lee share the file "sam_lee".
ROSTER = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,01-tensors (555),Current Score\n"
    "    Points Possible,,,,,50,(read only)\n"
    ",,,,,Manual Posting,\n"
    '"Smith, Alice",1001,20230001,alice@school.edu,A,,\n'
    '"Brown, Bob",1002,20230002,bob,A,,\n'
    '"Jones, Carol",1003,20231234,carol,B,,\n'
    '"Wu, Dave",1004,20230004,dave,B,,\n'
    '"Adams, Sam",1005,20230005,sam,B,,\n'
    '"Sam, Lee",1006,20230006,lee,B,,\n'
    '"Frank, Frank",1007,20230007,frank,A,,\n'
    '"Ng, Erin",1008,20230008,erin,A,,\n'
)
CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


@pytest.fixture(scope="module")
def graded(releases, tmp_path_factory) -> Path:
    """One batch graded with the real engine; file names as students hand them in."""
    release = releases["01-tensors"]
    folder = tmp_path_factory.mktemp("export") / "submissions"
    copy_to(release.solution, folder / "alice.ipynb")
    copy_to(release.student_notebook, folder / "bob@school.edu.ipynb")
    (folder / "carol_20231234.ipynb").write_text(
        example_notebooks(release)["partly_wrong.ipynb"])
    for name in ("zed", "sam_lee", "dave", "dave_2"):
        copy_to(release.student_notebook, folder / f"{name}.ipynb")
    (folder / "frank.ipynb").write_text("{not a notebook")  # invalid: graded 0
    out = folder.parent / "out"
    grade_submissions(release.bundle, [folder], out_dir=out)
    return out


@pytest.fixture(scope="module")
def roster(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("roster") / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return path


def _gradebook(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="") as handle:
        return {row["submission"]: row for row in csv.DictReader(handle)}


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


# --- Canvas -----------------------------------------------------------------------------------


def test_canvas_file_has_the_header_and_points_possible_row_canvas_expects(graded, roster):
    report = export_canvas(graded, roster)
    rows = _rows(report.path)
    assert report.path == graded / "canvas.csv"
    assert rows[0] == [*CANVAS_HEADER, "01-tensors"]
    possible = _gradebook(graded)["alice"]["possible"]
    assert rows[1] == ["Points Possible", "", "", "", "", possible]
    # alice handed in the reference solution: full marks
    assert report.points_possible == float(possible) == float(
        _gradebook(graded)["alice"]["score"])
    assert all(len(row) == 6 for row in rows)
    assert report.path.read_bytes()[:3] != b"\xef\xbb\xbf"  # plain UTF-8, comma-separated


def test_canvas_scores_equal_the_gradebook_and_missing_students_are_empty(graded, roster):
    report = export_canvas(graded, roster)
    gradebook = _gradebook(graded)
    rows = _rows(report.path)[2:]
    # Every roster student, in roster order, with the roster's identifiers verbatim.
    assert [row[:5] for row in rows] == [
        ["Smith, Alice", "1001", "20230001", "alice@school.edu", "A"],
        ["Brown, Bob", "1002", "20230002", "bob", "A"],
        ["Jones, Carol", "1003", "20231234", "carol", "B"],
        ["Wu, Dave", "1004", "20230004", "dave", "B"],
        ["Adams, Sam", "1005", "20230005", "sam", "B"],
        ["Sam, Lee", "1006", "20230006", "lee", "B"],
        ["Frank, Frank", "1007", "20230007", "frank", "A"],
        ["Ng, Erin", "1008", "20230008", "erin", "A"],
    ]
    cells = {row[3]: row[5] for row in rows}
    alice = gradebook["alice"]
    assert cells["alice@school.edu"] == alice["score"] == alice["possible"]
    assert cells["bob"] == gradebook["bob@school.edu"]["score"] == "0"
    assert cells["carol"] == gradebook["carol_20231234"]["score"]
    assert 0 < float(cells["carol"]) < float(gradebook["alice"]["possible"])
    assert cells["frank"] == gradebook["frank"]["score"] == "0"  # invalid: 0 as in grades.csv
    # No submission, an ambiguous one, or two: empty ("no score"), never 0.
    assert cells["erin"] == cells["dave"] == cells["sam"] == cells["lee"] == ""


def test_canvas_report_accounts_for_every_submission_and_student(graded, roster):
    report = export_canvas(graded, roster)
    assert report.matched == 4  # alice, bob, carol, frank
    assert report.unmatched == ("zed",)
    assert report.ambiguous == (Ambiguous("sam_lee", ("sam", "lee")),)
    assert report.conflicts == (Conflict("dave", ("dave", "dave_2")),)
    assert report.missing == ("sam", "lee", "erin")
    assert report.ungraded == ("frank",)
    placed = report.matched + len(report.unmatched) + len(report.ambiguous) + sum(
        len(c.submissions) for c in report.conflicts)
    assert placed == len(_gradebook(graded))
    summary = report.summary()
    for name in ("zed", "sam_lee", "dave_2", "erin", "frank"):
        assert name in summary


def test_canvas_column_with_assignment_id_and_destination(graded, roster, tmp_path):
    dest = tmp_path / "upload" / "tensors.csv"
    report = export_canvas(graded, roster, assignment_column="01-tensors (555)", dest=dest)
    assert report.path == dest and _rows(dest)[0][-1] == "01-tensors (555)"
    with pytest.raises(AutograderError, match="read-only"):
        export_canvas(graded, roster, assignment_column="Current Score", dest=dest)


def test_canvas_export_refuses_a_folder_without_results_and_a_bad_roster(roster, tmp_path):
    with pytest.raises(AutograderError, match="no graded submissions"):
        export_canvas(tmp_path, roster)
    bad = tmp_path / "bad.csv"
    bad.write_text("Name,Email\nAlice,alice@school.edu\n")
    with pytest.raises(AutograderError, match="Student column"):
        read_roster(bad)


# --- matching rules (no grading needed) ------------------------------------------------------


def _students() -> list[Student]:
    return [Student("Smith, Alice", "1001", "20230001", "alice@school.edu", "A"),
            Student("Brown, Bob", "1002", "S-77", "bob", "A"),
            Student("Adams, Sam", "1005", "20230005", "sam", "B"),
            Student("Sam, Lee", "1006", "20230006", "lee", "B")]


@pytest.mark.parametrize("name, expected", [
    ("alice", [0]),  # the login's part before @
    ("ALICE@school.edu", [0]),  # case-insensitive, exact login
    ("alice_123", [0]),  # a suffix that is nobody's id
    ("alice-2", [0]),  # a counter
    ("bob@other.org", [1]),  # an email whose local part is a login
    ("20230005", [2]),  # SIS User ID
    ("s-77", [1]),  # exact SIS User ID beats its parts
    ("smithalice_1001_4242_tensors", [0]),  # Canvas's bulk download: its Canvas ID
    ("sam_lee", [2, 3]),  # two students: ambiguous, never guessed
    ("alice_1002", [0, 1]),  # a login and someone else's id: ambiguous
    ("zed", []),
    ("hw1_3", []),  # counters are not ids
])
def test_matching_rules(name, expected):
    assert list(candidates([name], _students())) == expected


def test_roster_skips_canvas_non_student_rows(roster):
    students = read_roster(roster)
    assert [s.login for s in students] == ["alice@school.edu", "bob", "carol", "dave", "sam",
                                           "lee", "frank", "erin"]


# --- long format ------------------------------------------------------------------------------


def test_long_csv_has_a_row_per_submission_and_question(graded, tmp_path):
    gradebook = _gradebook(graded)
    questions = [c for c in next(iter(gradebook.values()))
                 if c not in ("submission", "status", "score", "possible", "percent", "message")]
    path = export_long(graded, tmp_path / "long.csv")
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["student", "assignment", "question", "score", "max", "submission",
                             "status"]
    assert len(rows) == len(gradebook) * len(questions) and len(gradebook) == 8
    for stem, line in gradebook.items():
        mine = [r for r in rows if r["submission"] == stem]
        assert [r["question"] for r in mine] == questions
        assert {r["student"] for r in mine} == {stem}
        assert {r["assignment"] for r in mine} == {"01-tensors"}
        assert [r["score"] for r in mine] == [line[q] for q in questions]
        assert sum(float(r["score"]) for r in mine) == float(line["score"])
        assert sum(float(r["max"]) for r in mine) == float(line["possible"])


def test_long_csv_with_a_roster_names_students_by_login_and_never_guesses(graded, roster,
                                                                          tmp_path):
    path = export_long(graded, tmp_path / "long.csv", roster=roster)
    with open(path, newline="") as handle:
        students = {r["submission"]: r["student"] for r in csv.DictReader(handle)}
    assert students == {"alice": "alice@school.edu", "bob@school.edu": "bob",
                        "carol_20231234": "carol", "frank": "frank", "zed": "",
                        "sam_lee": "", "dave": "", "dave_2": ""}
