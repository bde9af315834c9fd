"""What a student wrote for each question: the code of the question's answer cells, less what
the release gave.

A question's answer is its answer cells (the release's cell ids, from the bundle) and the
other code cells between the previous question's ``grader.check`` cell and its own (cells the
student added, or given cells she wrote in). A line the release's code holds
anywhere (starter lines, otter's ``...`` placeholders, given code in the same cell, an import)
is the release's, not the student's, and is never compared.
"""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

from autograder.bundle import Bundle
from autograder.errors import AutograderError
from autograder.grading.submission import (
    Submission,
    checkpoints,
    is_otter_cell,
    read_submission,
)


def line_key(line: str) -> str:
    """A line as compared with the release's: without whitespace, and without a comment where
    the line holds no string (where it does, a ``#`` may be in the string)."""
    if "#" in line and "'" not in line and '"' not in line:
        line = line[:line.index("#")]
    return "".join(line.split())


@dataclass(frozen=True)
class Release:
    """What every student was given: the code lines of the student notebook, and the names
    its code defines or uses (kept as they are when normalising)."""

    lines: frozenset[str]  # ``line_key`` of each line of code, blank ones aside
    names: frozenset[str]


@dataclass(frozen=True)
class Answer:
    text: str  # the question's cells as the student left them, joined by a blank line
    own_lines: tuple[int, ...]  # lines of ``text`` (0-based) that the release did not give

    @property
    def own_text(self) -> str:
        lines = self.text.splitlines()
        return "\n".join(lines[i] for i in self.own_lines)


def _names(code: str) -> set[str]:
    try:
        return {t.string for t in tokenize.generate_tokens(io.StringIO(code).readline)
                if t.type == tokenize.NAME}
    except (tokenize.TokenError, SyntaxError):
        return set()


def read_release(student_notebook: Path, bundle: Bundle) -> Release:
    """The student release notebook, read as the grader reads a submission."""
    release = read_submission(student_notebook, "release", bundle)
    if release.problem:
        raise AutograderError(f"the student release notebook: {release.problem}")
    lines = {line_key(line) for source in release.cells for line in source.splitlines()}
    names: set[str] = set()
    for source in release.cells:
        if not is_otter_cell(source):  # otter's init cell: names no student uses
            names |= _names(source)
    return Release(lines=frozenset(lines - {""}), names=frozenset(names))


def _own(line: str, release: Release) -> bool:
    """The line is code the release did not give."""
    key = line_key(line)
    return bool(key) and key not in release.lines


def student_answers(submission: Submission, bundle: Bundle,
                    release: Release) -> dict[str, Answer]:
    """Question -> the student's answer, for every question of the bundle (an answer whose
    cells are gone has no text)."""
    questions = [q.name for q in bundle.questions]
    question_of_cell = {cell_id: q for q, ids in bundle.answer_cells.items() for cell_id in ids}
    judged_at = checkpoints(submission, bundle)
    cells: dict[str, list[str]] = {q: [] for q in questions}
    for index, (source, cell_id) in enumerate(zip(submission.cells, submission.cell_ids,
                                                  strict=True)):
        if cell_id in question_of_cell:
            cells[question_of_cell[cell_id]].append(source)
        elif not is_otter_cell(source) and any(_own(line, release) for line in
                                                 source.splitlines()):
            # a cell the student added, or a given one she wrote in: it belongs to the next
            # question judged after it (what the release gave of it is removed below)
            following = next((q for at, q in judged_at if at > index), None)
            if following is not None:
                cells[following].append(source)
    answers = {}
    for question, sources in cells.items():
        text = "\n\n".join(s.rstrip("\n") for s in sources)
        own = tuple(i for i, line in enumerate(text.splitlines()) if _own(line, release))
        answers[question] = Answer(text=text, own_lines=own)
    return answers
