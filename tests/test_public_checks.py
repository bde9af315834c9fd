"""A public check catches the central mistake its question warns about (issue 20): a student
who makes it sees a failing `grader.check` (and `validate`) before submitting, with a message
that names the mistake, instead of leaving sure of it and losing the hidden points later.

Each entry is a wrong answer variant of ``tests/answers`` (the mistake the prompt warns
about), the public check that must fail on it, and words its message must hold. Graded with
the real engine; the public check runs the same in the student's kernel
(``tests/test_answers.py`` checks they agree)."""

from __future__ import annotations

import pytest
from conftest import notebook_with_answer
from make_examples import variants_for

from autograder.grading.grader import grade_submissions

CENTRAL_MISTAKES = {
    ("01-tensors", "q1", "scalar wrapped in brackets (a vector)"): ("test_q1_public", "scalar"),
    ("01-tensors", "q1", "floats instead of integers"):
        ("test_q1_public", "`vector` has the wrong dtype -- got: torch.float32"),
    ("01-tensors", "q2", "forgot the seeds"):
        ("test_q2_public", "right after `torch.manual_seed(42)`"),
    ("01-tensors", "q2", "seeded once with 42 for both"):
        ("test_q2_public", "`image` continues the draws after seed 42"),
    ("01-tensors", "q5", "cast result not kept"):
        ("test_q5_public", "`prices_half` has the wrong dtype -- got: torch.float32"),
    ("01-tensors", "q6", "element-wise and matrix product swapped"):
        ("test_q6_public", "`matrix_product` is the element-wise product"),
    ("01-tensors", "q6", "B on the left of the matrix product"):
        ("test_q6_public", "`matrix_product` is `B @ A`"),
    ("01-tensors", "q8", "integer division for the mean"):
        ("test_q8_public", "`x_mean` has the wrong dtype -- got: torch.int64"),
    ("01-tensors", "q14", "middle row instead of column"):
        ("test_q14_public", "`middle_column` is the middle row"),
    ("01-tensors", "q14", "last column instead of last row"):
        ("test_q14_public", "`last_row` is the last column"),
    ("01-tensors", "q17", "float64 drawn as float32, then converted"):
        ("test_q17_public", "`noise64` is a torch.float32 draw converted to torch.float64"),
    ("01-tensors", "q17", "seeded once with 3 for both"):
        ("test_q17_public", "`noise64` continues the draws after seed 3"),
    ("02-reproducibility", "q11", "two draws of 8 (the trap)"):
        ("test_q11_public", "two draws of 8"),
    ("03-gpu", "q5", "forgets to move x"):
        ("test_q5_public", "with the model on meta and x on the CPU"),
    ("03-gpu", "q7", "no map_location"):
        ("test_q7_public", "is on the wrong device -- got: cpu, expected: meta"),
    ("03-gpu", "q9", "torch only, forgets NumPy and Python"):
        ("test_q9_public", "`np.random.rand(4)` gives other numbers"),
}


@pytest.fixture(scope="module")
def graded(releases, tmp_path_factory):
    folder = tmp_path_factory.mktemp("central")
    results = {}
    for assignment in sorted({a for a, _, _ in CENTRAL_MISTAKES}):
        release = releases[assignment]
        cases = [(q, label) for a, q, label in CENTRAL_MISTAKES if a == assignment]
        paths = {}
        for number, (question, label) in enumerate(cases):
            code = variants_for(assignment)[question]["wrong"][label]
            paths[(assignment, question, label)] = notebook_with_answer(
                release.solution, question, code, folder / assignment / f"m{number}.ipynb")
        by_stem = {r.submission: r for r in grade_submissions(
            release.bundle, list(paths.values()))}
        results.update({key: by_stem[path.stem] for key, path in paths.items()})
    return results


@pytest.mark.parametrize("case", sorted(CENTRAL_MISTAKES), ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
def test_the_central_mistake_fails_a_public_check(graded, case):
    result = graded[case]
    check, words = CENTRAL_MISTAKES[case]
    assert result.status == "graded", result.message
    [question] = [q for q in result.questions if q.name == case[1]]
    outcome = {c.name: (c.outcome, c.message) for c in question.checks}
    assert outcome[check][0] == "failed", outcome
    assert words in outcome[check][1], outcome[check]
