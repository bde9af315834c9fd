"""The records passed from grading to reports: one ``SubmissionResult`` per submission.

Plain frozen dataclasses that know no output format (CSV, Gradescope JSON and Markdown are
renderers in ``reports``). They cross process boundaries as JSON, never as pickles.

Their text fields hold what a submission printed, raised or was named; each record makes
them ``printable`` when it is built (from the grader or from JSON), so no renderer can fail
on a lone surrogate, a NUL byte or a control character.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from autograder.text import printable

Outcome = Literal["passed", "failed", "skipped"]
# graded: the tests ran. The others scored 0 and say why in ``message``.
Status = Literal["graded", "timeout", "crashed", "invalid", "tampered", "error"]
STATUSES: tuple[Status, ...] = ("graded", "timeout", "crashed", "invalid", "tampered", "error")
# The sandbox a submission ran in, as the grader's worker recorded it: full (namespaces and a
# uid of its own), no-uid (namespaces, the grader's uid), no-namespaces (a uid of its own
# only), none. Empty: nothing ran (an invalid file), or a record older than the field.
ISOLATION_LEVELS = ("full", "no-uid", "no-namespaces", "none")


@dataclass(frozen=True)
class CheckResult:
    """One test function of a question, run against one submission."""

    name: str
    outcome: Outcome
    points: float  # earned
    max_points: float
    hidden: bool
    message: str = ""  # what went wrong (or why skipped); never the test's source

    def __post_init__(self) -> None:
        _make_printable(self, "name", "message")


@dataclass(frozen=True)
class QuestionResult:
    name: str
    checks: tuple[CheckResult, ...]

    def __post_init__(self) -> None:
        _make_printable(self, "name")

    @property
    def score(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def possible(self) -> float:
        return sum(c.max_points for c in self.checks)


@dataclass(frozen=True)
class SubmissionResult:
    """The result of grading one submission. Written even when nothing could run."""

    submission: str  # its name in the gradebook (the file's or folder's own), unique in a batch
    source: str  # the path it was read from
    assignment: str
    status: Status
    questions: tuple[QuestionResult, ...]
    message: str = ""  # for the instructor: why it was not graded, or notes (output cut, ...)
    duration: float = 0.0  # seconds of wall time
    peak_memory_mb: float = 0.0  # the sandboxed process's peak resident memory
    judge_peak_memory_mb: float = 0.0  # the judge's (it decodes what the student's sends)
    log: str = field(default="", repr=False)  # captured student output (capped)
    # per question: the judge's seconds and its round trips to the student's process
    judge: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)
    # names its output files (results/, feedback/, .records/): a file-system-safe form of
    # ``submission``, unique in a batch; empty in records written before it existed
    file_stem: str = ""
    isolation: str = ""  # one of ISOLATION_LEVELS, or empty (nothing ran)

    def __post_init__(self) -> None:
        _make_printable(self, "submission", "source", "assignment", "message", "log")
        if not self.file_stem:
            object.__setattr__(self, "file_stem", self.submission)

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
        known = {f.name for f in fields(cls)}
        return cls(**{**{k: v for k, v in data.items() if k in known}, "questions": questions})


def _make_printable(record: object, *names: str) -> None:
    for name in names:  # frozen: set through object, once, while the record is being built
        object.__setattr__(record, name, printable(getattr(record, name)))


def points_text(value: float) -> str:
    """Points as people write them: ``4``, ``2.5``."""
    return f"{value:g}"
