"""The errors the suite reports to its users (instructors, CI). One base class; the CLI prints
``str(error)`` without a traceback for any of them."""

from __future__ import annotations

from pathlib import Path


class AutograderError(Exception):
    """Something the user can fix: bad arguments, a malformed notebook, an unknown assignment."""


class ReleaseError(AutograderError):
    """An instructor notebook cannot be released; names the notebook, question and problem."""

    def __init__(self, notebook: Path | str, problem: str, *, question: str | None = None) -> None:
        self.notebook = str(notebook)
        self.question = question
        self.problem = problem
        where = f"{self.notebook}, question {question}" if question else self.notebook
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_release_error, (self.notebook, self.problem, self.question))


def _rebuild_release_error(notebook: str, problem: str, question: str | None) -> ReleaseError:
    return ReleaseError(notebook, problem, question=question)


class UnknownAssignmentError(AutograderError):
    """The name given is neither an assignment folder nor an autograder bundle."""
