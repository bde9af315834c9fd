"""The records passed from grading to reports: one ``SubmissionResult`` per submission.

Plain frozen dataclasses that know no output format (CSV, Gradescope JSON and Markdown are
renderers in ``reports``). They cross process boundaries as JSON, never as pickles.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Outcome = Literal["passed", "failed", "skipped"]
# graded: the tests ran. The others scored 0 and say why in ``message``.
Status = Literal["graded", "timeout", "crashed", "invalid", "tampered", "error"]
STATUSES: tuple[str, ...] = ("graded", "timeout", "crashed", "invalid", "tampered", "error")


@dataclass(frozen=True)
class CheckResult:
    """One test function of a question, run against one submission."""

    name: str
    outcome: Outcome
    points: float  # earned
    max_points: float
    hidden: bool
    message: str = ""  # what went wrong (or why skipped); never the test's source


@dataclass(frozen=True)
class QuestionResult:
    name: str
    checks: tuple[CheckResult, ...]

    @property
    def score(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def possible(self) -> float:
        return sum(c.max_points for c in self.checks)


@dataclass(frozen=True)
class SubmissionResult:
    """The result of grading one submission. Written even when nothing could run."""

    submission: str  # the submission's stem: one row, one results file, one feedback file
    source: str  # the path it was read from
    assignment: str
    status: Status
    questions: tuple[QuestionResult, ...]
    message: str = ""  # for the instructor: why it was not graded, or notes (output cut, ...)
    duration: float = 0.0  # seconds of wall time
    peak_memory_mb: float = 0.0  # the sandboxed process's peak resident memory
    log: str = field(default="", repr=False)  # captured student output (capped)
    # per question: the judge's seconds and its round trips to the student's process
    judge: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)

    @property
    def score(self) -> float:
        return sum(q.score for q in self.questions)

    @property
    def possible(self) -> float:
        return sum(q.possible for q in self.questions)

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.possible if self.possible else 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SubmissionResult:
        questions = tuple(
            QuestionResult(name=q["name"], checks=tuple(CheckResult(**c) for c in q["checks"]))
            for q in data["questions"]
        )
        return cls(**{**data, "questions": questions})
