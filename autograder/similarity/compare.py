"""Compare a batch: read every submission as the grader does (same rows, same names, same
messages for a file that is not a notebook), add the reference solution, extract and
fingerprint each answer, and score every pair."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.bundle import Bundle, load_bundle
from autograder.grading.names import unique_names
from autograder.grading.submission import collect_submissions, read_submission
from autograder.similarity.answers import Release, read_release, student_answers
from autograder.similarity.fingerprints import (
    answer_signature,
    fingerprints,
    normalised_tokens,
    together,
)
from autograder.similarity.scoring import ClassScores, Sheet, score_class

REFERENCE_NAME = "(reference solution)"
RUN = 2  # answers to consecutive questions shared together: the longest run fingerprinted
NOTHING_WRITTEN = "nothing written in the answer cells (only what the release gave)"


@dataclass(frozen=True)
class Comparison:
    assignment: str
    sheets: tuple[Sheet, ...]  # the compared submissions, the reference solution last
    not_compared: tuple[tuple[str, str], ...]  # (gradebook name, why), in batch order
    scores: ClassScores


def _sheet(name: str, path: Path, stem: str, bundle: Bundle,
           release: Release) -> Sheet | str:
    """The submission's sheet, or why it cannot be compared."""
    submission = read_submission(path, stem, bundle, name=name)
    if submission.problem:
        return submission.problem
    answers = student_answers(submission, bundle, release)
    prints = {}
    signatures: list[int | None] = []
    for question, answer in answers.items():  # in the assignment's order
        tokens = normalised_tokens(answer.own_text, release.names, answer.own_lines)
        prints[question] = fingerprints(tokens)
        signatures.append(answer_signature(tokens))
        for run in range(2, RUN + 1):  # this answer with the ones before it
            if len(signatures) >= run:
                found = together(signatures[-run:])
                if found is not None:
                    prints[question].append(found)
    if not any(prints.values()):
        return NOTHING_WRITTEN
    return Sheet(name=name, answers=answers, prints=prints)


def compare_submissions(bundle_path: Path, student_notebook: Path, solution: Path,
                        paths: list[Path]) -> Comparison:
    """Every submission in ``paths`` (files, folders, export zips, as ``grade`` takes them)
    and the reference solution ``solution``, against the release ``student_notebook``."""
    bundle = load_bundle(bundle_path)
    release = read_release(student_notebook, bundle)
    entries = collect_submissions(paths)
    reference_name = unique_names([*(e.name for e in entries), REFERENCE_NAME])[-1]
    sheets: list[Sheet] = []
    not_compared: list[tuple[str, str]] = []
    found = [(e.name, e.path, e.stem, e.problem) for e in entries]
    found.append((reference_name, solution, "reference solution", ""))
    for name, path, stem, problem in found:
        outcome = problem or _sheet(name, path, stem, bundle, release)
        if isinstance(outcome, str):
            not_compared.append((name, outcome))
        else:
            sheets.append(outcome)
    questions = [q.name for q in bundle.questions]
    return Comparison(assignment=bundle.assignment, sheets=tuple(sheets),
                      not_compared=tuple(not_compared), scores=score_class(sheets, questions))
