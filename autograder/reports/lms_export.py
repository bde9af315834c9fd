"""Gradebook exports of a grading output folder: a Canvas gradebook import, and a plain
long-format CSV for any other LMS or spreadsheet.

Submissions are named after their files (``alice.ipynb``, ``alice_123.zip``,
``alice@school.edu.ipynb``); an LMS knows students by its own ids. A roster (Canvas's
gradebook export) links the two. Matching is conservative: a submission gets a student only
when exactly one student fits; anything else is reported, never guessed and never dropped.

Matching rules, in order (identifiers compared case-insensitively):

1. exact: the file name (or the submission's stem) equals a student's SIS Login ID, SIS
   User ID or Canvas ID, or the part of an email-like login before ``@``;
2. parts: otherwise, a part of the file name equals one of those identifiers. The parts are
   the text before ``@`` and the pieces between ``_``, ``-``, ``.``, ``@`` and spaces, also
   split more coarsely (``alice.smith_2`` -> ``alice.smith``, ``alice``, ``smith``;
   ``alice_123`` -> ``alice``, ``123``; Canvas's bulk download ``smithalice_4711_99_hw.ipynb``
   -> its ``4711`` Canvas ID). Pieces of 1 to 3 digits are ignored: they are counters
   (``alice-2``, ``hw1_3``), not ids.

The first rule that finds anyone decides; if it finds two or more students, the submission is
ambiguous. Two submissions matched to one student are a conflict: that student's cell stays
empty and both submissions are reported.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import AutograderError
from autograder.reports.output_folder import atomic_write, load_results
from autograder.results import SubmissionResult, points_text

# Canvas's gradebook import, read in its source (app/models/gradebook_importer.rb):
# - the header row must start with "Student", "ID"; with "SIS User ID" and "SIS Login ID"
#   third and fourth, "Section" must be fifth. Every later column is an assignment, except
#   the read-only ones named below, which Canvas ignores without a word.
# - an assignment header "Title (12345)" updates assignment 12345; a plain title updates the
#   assignment of that exact title, or creates a new assignment.
# - a row whose first cell contains "Points Possible" is no student: it sets the points
#   possible of the assignments (for a new assignment, its only way to get them).
# - a student is found by ID (Canvas's user id), then SIS User ID, then SIS Login ID, then
#   name; a student not found is listed as unknown in the import preview.
# - an empty cell (or "-") means "no score": it leaves the gradebook cell as it is.
CANVAS_STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_POSSIBLE = "Points Possible"
CANVAS_READ_ONLY_COLUMNS = ("Current Score", "Current Points", "Current Grade", "Final Score",
                            "Final Points", "Final Grade", "Override Score", "Override Grade",
                            "Override Status")
LONG_COLUMNS = ("student", "assignment", "question", "score", "max", "submission", "status")

# From coarse to fine, so that ``alice.smith_2`` yields ``alice.smith`` as well as ``alice``.
_SEPARATORS = (re.compile(r"[_\s]+"), re.compile(r"[_\-@\s]+"), re.compile(r"[_\-.@\s]+"))
_COUNTER = re.compile(r"\d{1,3}")


@dataclass(frozen=True)
class Student:
    """One row of the roster, with the identifiers Canvas matches students by."""

    name: str
    canvas_id: str
    sis_user_id: str
    sis_login_id: str
    section: str

    @property
    def login(self) -> str:
        """The identifier shown in reports and long exports: the login, else an id."""
        return self.sis_login_id or self.sis_user_id or self.canvas_id

    def identifiers(self) -> set[str]:
        keys = {self.sis_login_id, self.sis_user_id, self.canvas_id}
        if "@" in self.sis_login_id:
            keys.add(self.sis_login_id.split("@", 1)[0])
        return {k.strip().casefold() for k in keys if k.strip()}


@dataclass(frozen=True)
class Ambiguous:
    """A submission that fits several students (by the first rule that found anyone)."""

    submission: str
    students: tuple[str, ...]  # their logins


@dataclass(frozen=True)
class Conflict:
    """A student matched by several submissions: which one counts is the instructor's call."""

    student: str  # login
    submissions: tuple[str, ...]


@dataclass(frozen=True)
class Matching:
    """Submissions (by stem) against a roster. Every submission and every student appears."""

    students: tuple[Student, ...]
    matched: dict[str, int]  # submission stem -> index of its student (conflicts excluded)
    unmatched: tuple[str, ...]  # submissions that fit no student
    ambiguous: tuple[Ambiguous, ...]
    conflicts: tuple[Conflict, ...]
    missing: tuple[Student, ...]  # students no submission fits

    def student_of(self, submission: str) -> Student | None:
        index = self.matched.get(submission)
        return None if index is None else self.students[index]


@dataclass(frozen=True)
class ExportReport:
    """What ``export_canvas`` wrote and what it could not place. Nothing is left out."""

    path: Path
    assignment_column: str
    points_possible: float
    matched: int  # students who got a score
    unmatched: tuple[str, ...]  # submissions without a student: not in the file
    missing: tuple[str, ...]  # students (logins) without a submission: empty cell
    ambiguous: tuple[Ambiguous, ...]  # submissions fitting several students: not in the file
    conflicts: tuple[Conflict, ...]  # students with several submissions: empty cell
    ungraded: tuple[str, ...]  # matched submissions not graded (timeout, ...): exported as 0

    def summary(self) -> str:
        """A few lines for the instructor (the CLI prints this)."""
        lines = [f"wrote {self.path}: column {self.assignment_column!r} "
                 f"(points possible {points_text(self.points_possible)}), "
                 f"{self.matched} student(s) scored"]
        if self.unmatched:
            lines.append(f"no student for {len(self.unmatched)} submission(s), left out: "
                         + ", ".join(self.unmatched))
        for item in self.ambiguous:
            lines.append(f"ambiguous, left out: {item.submission} fits "
                         + ", ".join(item.students))
        for conflict in self.conflicts:
            lines.append(f"several submissions for {conflict.student}, cell left empty: "
                         + ", ".join(conflict.submissions))
        if self.missing:
            lines.append(f"no submission from {len(self.missing)} student(s), cell left "
                         "empty: " + ", ".join(self.missing))
        if self.ungraded:
            lines.append("not graded, exported as 0 as in grades.csv: "
                         + ", ".join(self.ungraded))
        return "\n".join(lines)


# --- roster and matching --------------------------------------------------------------------


def read_roster(path: Path) -> tuple[Student, ...]:
    """Students of a Canvas gradebook export (or any CSV with its student columns).

    Needs a ``Student`` column and at least one of ``ID``, ``SIS User ID``, ``SIS Login ID``;
    other columns (assignments, totals) are ignored. Canvas's own non-student rows (``Points
    Possible``, ``Muted``/``Manual Posting``) are skipped.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # Canvas may add a BOM for Excel
    except (OSError, UnicodeDecodeError) as error:
        raise AutograderError(f"cannot read the roster {path}: {error}") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise AutograderError(f"the roster {path} is empty")
    header = {name.strip().casefold(): i for i, name in enumerate(rows[0])}
    columns = {name: header.get(name.casefold()) for name in CANVAS_STUDENT_COLUMNS}
    if columns["Student"] is None or all(columns[c] is None for c in
                                         ("ID", "SIS User ID", "SIS Login ID")):
        raise AutograderError(f"the roster {path} needs a Student column and an ID, SIS User ID "
                              f"or SIS Login ID column (found: {', '.join(rows[0])})")

    def cell(row: list[str], name: str) -> str:
        index = columns[name]
        return row[index].strip() if index is not None and index < len(row) else ""

    students = []
    for row in rows[1:]:
        if not any(c.strip() for c in row) or CANVAS_POINTS_POSSIBLE in cell(row, "Student"):
            continue
        if all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", c, re.I) for c in row):
            continue
        students.append(Student(name=cell(row, "Student"), canvas_id=cell(row, "ID"),
                                sis_user_id=cell(row, "SIS User ID"),
                                sis_login_id=cell(row, "SIS Login ID"),
                                section=cell(row, "Section")))
    return tuple(students)


def _names(result: SubmissionResult) -> list[str]:
    """The names a submission goes by: its original file name, and its stem."""
    names = [Path(result.source).stem, result.submission] if result.source else \
        [result.submission]
    return list(dict.fromkeys(n for n in names if n))


def _parts(name: str) -> set[str]:
    parts = {name.split("@", 1)[0]} if "@" in name else set()
    for separators in _SEPARATORS:
        parts.update(separators.split(name))
    return {p.casefold() for p in parts if p and not _COUNTER.fullmatch(p)}


def candidates(names: Iterable[str], students: Sequence[Student]) -> tuple[int, ...]:
    """Indices of the students a submission called ``names`` fits, by the first rule that
    finds any (see the module docstring)."""
    names = list(names)
    ids = [s.identifiers() for s in students]
    exact = {n.strip().casefold() for n in names}
    found = [i for i, keys in enumerate(ids) if keys & exact]
    if not found:
        parts = set().union(*(_parts(n) for n in names))
        found = [i for i, keys in enumerate(ids) if keys & parts]
    return tuple(found)


def match_submissions(results: Sequence[SubmissionResult],
                      students: Sequence[Student]) -> Matching:
    students = tuple(students)
    by_student: dict[int, list[str]] = {}
    unmatched, ambiguous = [], []
    for result in results:
        found = candidates(_names(result), students)
        if not found:
            unmatched.append(result.submission)
        elif len(found) > 1:
            ambiguous.append(Ambiguous(result.submission,
                                       tuple(students[i].login for i in found)))
        else:
            by_student.setdefault(found[0], []).append(result.submission)
    return Matching(
        students=students,
        matched={stems[0]: i for i, stems in by_student.items() if len(stems) == 1},
        unmatched=tuple(unmatched), ambiguous=tuple(ambiguous),
        conflicts=tuple(Conflict(students[i].login, tuple(stems))
                        for i, stems in sorted(by_student.items()) if len(stems) > 1),
        missing=tuple(s for i, s in enumerate(students) if i not in by_student))


def _load(out_dir: Path) -> list[SubmissionResult]:
    results = load_results(Path(out_dir))
    if not results:
        raise AutograderError(f"no graded submissions in {out_dir} (expected the output folder "
                              "of `autograder grade`)")
    assignments = sorted({r.assignment for r in results})
    if len(assignments) > 1:
        raise AutograderError(f"{out_dir} mixes assignments: {', '.join(assignments)}")
    return results


def points_possible(results: Sequence[SubmissionResult]) -> float:
    """Full marks: the largest total of the graded submissions.

    A check that needs CUDA is skipped on a CPU grader and counts no points, so graded
    submissions can total less than the bundle; an ungraded one keeps every check's points.
    """
    graded = [r.possible for r in results if r.status == "graded"]
    return max(graded or [r.possible for r in results])


# --- Canvas -----------------------------------------------------------------------------------


def canvas_csv(results: Sequence[SubmissionResult], matching: Matching, column: str,
               possible: float) -> str:
    """The Canvas import file: header, Points Possible row, one row per roster student."""
    scores = {matching.matched[r.submission]: r.score for r in results
              if r.submission in matching.matched}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CANVAS_STUDENT_COLUMNS, column])
    writer.writerow([CANVAS_POINTS_POSSIBLE, "", "", "", "", points_text(possible)])
    for index, student in enumerate(matching.students):
        score = scores.get(index)
        writer.writerow([student.name, student.canvas_id, student.sis_user_id,
                         student.sis_login_id, student.section,
                         "" if score is None else points_text(score)])
    return out.getvalue()


def _check_column(column: str) -> str:
    column = column.strip()
    if not column:
        raise AutograderError("the assignment column needs a name")
    if column in CANVAS_STUDENT_COLUMNS or CANVAS_POINTS_POSSIBLE in column or any(
            name in column for name in CANVAS_READ_ONLY_COLUMNS):
        raise AutograderError(f"Canvas would not import a column named {column!r}: it reads "
                              "it as a student or read-only column")
    return column


def export_canvas(out_dir: Path, roster: Path, *, assignment_column: str | None = None,
                  dest: Path | None = None) -> ExportReport:
    """Write a CSV that Canvas's gradebook import (Grades > Import) accepts.

    Canvas requires the header ``Student, ID, SIS User ID, SIS Login ID, Section`` in that
    order, then one column per assignment. ``assignment_column`` names ours: ``"01-tensors
    (12345)"`` (the header Canvas's own export uses, with the assignment's id) updates that
    assignment; a plain title updates the assignment with exactly that title or, if there is
    none, creates it. The default is the assignment's name. The second row, ``Points
    Possible``, which Canvas accepts and its own export writes, gives the assignment its
    maximum: for a new assignment the only way to set it; for an existing one it should agree
    with Canvas (a different value would change the assignment's points possible).

    Every roster student gets a row, identified by the roster's ID, SIS User ID and SIS Login
    ID exactly as Canvas exported them. A student without a (unique) submission gets an empty
    cell, not 0: Canvas reads an empty cell as "no score" and leaves the gradebook cell as it
    is (ungraded, or a grade entered by hand, e.g. a late submission graded separately), where
    a 0 would overwrite it and count as a graded zero. Ungraded submissions (timeout, ...)
    score 0, as in grades.csv. Submissions without a student, or fitting several, are not in
    the file; the report lists them all (see the module docstring for the matching rules).
    """
    results = _load(out_dir)
    column = _check_column(assignment_column or results[0].assignment)
    matching = match_submissions(results, read_roster(roster))
    possible = points_possible(results)
    dest = Path(dest) if dest is not None else Path(out_dir) / "canvas.csv"
    atomic_write(dest, canvas_csv(results, matching, column, possible))
    by_stem = {r.submission: r for r in results}
    return ExportReport(
        path=dest, assignment_column=column, points_possible=possible,
        matched=len(matching.matched), unmatched=matching.unmatched,
        missing=tuple(s.login for s in matching.missing), ambiguous=matching.ambiguous,
        conflicts=matching.conflicts,
        ungraded=tuple(stem for stem in matching.matched if by_stem[stem].status != "graded"))


# --- long format ------------------------------------------------------------------------------


def long_csv(results: Sequence[SubmissionResult], matching: Matching | None) -> str:
    """One row per submission per question. ``student`` is the matched login with a roster
    (empty when there is no unique match: never a guess), else the submission's stem."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LONG_COLUMNS)
    for result in results:
        if matching is None:
            student = result.submission
        else:
            found = matching.student_of(result.submission)
            student = found.login if found is not None else ""
        for question in result.questions:
            writer.writerow([student, result.assignment, question.name,
                             points_text(question.score), points_text(question.possible),
                             result.submission, result.status])
    return out.getvalue()


def export_long(out_dir: Path, dest: Path, *, roster: Path | None = None) -> Path:
    """Write the long-format CSV (student, assignment, question, score, max, submission,
    status) of a grading output folder, for any LMS or spreadsheet; return its path."""
    results = _load(out_dir)
    matching = match_submissions(results, read_roster(roster)) if roster is not None else None
    atomic_write(Path(dest), long_csv(results, matching))
    return Path(dest)
