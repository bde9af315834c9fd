"""Every question rejects plausible wrong answers and accepts alternative correct ones.

The variants live in ``tests/answers/aNN_*.py``; each is the reference solution with one
question's answer cell replaced, graded by the real engine.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ASSIGNMENT_NAMES, notebook_with_answer
from make_examples import variants_for

from autograder.bundle import load_bundle
from autograder.grade import grade_submissions
from autograder.results import SubmissionResult

CASES = [
    (assignment, question, kind, label)
    for assignment in ASSIGNMENT_NAMES
    for question, kinds in variants_for(assignment).items()
    for kind in ("wrong", "right")
    for label in kinds.get(kind, {})
]


def _file_name(question: str, kind: str, label: str) -> str:
    return f"{question}__{kind}__{re.sub(r'[^A-Za-z0-9]+', '-', label).strip('-')}"


@pytest.fixture(scope="session")
def graded_variants(releases, build_root: Path):
    """Grades an assignment's variants on first use (one batch), then serves them from cache."""
    graded: dict[str, dict[str, SubmissionResult]] = {}

    def results_for(assignment: str) -> dict[str, SubmissionResult]:
        if assignment not in graded:
            release = releases[assignment]
            folder = build_root / "variants" / assignment
            for question, kinds in variants_for(assignment).items():
                for kind, labelled in kinds.items():
                    for label, code in labelled.items():
                        notebook_with_answer(release.solution, question, code,
                                             folder / f"{_file_name(question, kind, label)}.ipynb")
            results = grade_submissions(release.bundle, [folder], workers=2)
            graded[assignment] = {r.submission: r for r in results}
        return graded[assignment]

    return results_for


def test_every_question_has_enough_variants(releases):
    for assignment in ASSIGNMENT_NAMES:
        variants = variants_for(assignment)
        bundle_questions = {q.name for q in load_bundle(releases[assignment].bundle).questions}
        missing = sorted(bundle_questions - set(variants))
        assert not missing, f"{assignment}: no answer variants for {missing}"
        for question, kinds in variants.items():
            assert len(kinds.get("wrong", {})) >= 3, f"{assignment} {question}: < 3 wrong"
            assert len(kinds.get("right", {})) >= 1, f"{assignment} {question}: no right"


@pytest.mark.parametrize(("assignment", "question", "kind", "label"), CASES,
                         ids=[f"{a}-{q}-{k}-{lbl}" for a, q, k, lbl in CASES])
def test_variant(graded_variants, assignment, question, kind, label):
    result = graded_variants(assignment)[_file_name(question, kind, label)]
    assert result.status == "graded", result.message
    [scored] = [q for q in result.questions if q.name == question]
    failures = [f"{c.name}: {c.message}" for c in scored.checks if c.outcome == "failed"]
    if kind == "wrong":
        assert scored.score < scored.possible, f"wrong answer earned full marks: {label}"
    else:
        assert scored.score == scored.possible, f"correct answer lost points: {failures}"
