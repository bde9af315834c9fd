"""The judge owns its state: what the student's process leaves in its own ambient state (grad
mode, determinism flags, generators) governs only the student's code, never how the judge
builds its inputs or computes its expected values.

Each case is a partly wrong notebook (the reference with one known-wrong answer variant) and the
same notebook whose answer cell ends by changing the student's process's state. The attack
must earn no more than the control, on that question and in total.
"""

from __future__ import annotations

import pytest
from conftest import notebook_with_answer
from make_examples import variants_for

from autograder.grading.grader import grade_submissions

# (assignment, question, wrong variant, what the cell does after it)
CASES = [
    ("03-gpu", "q4", "forgot to detach", "torch.set_grad_enabled(False)"),
    ("04-mini-project", "q9", "forgot torch.inference_mode()", "torch.set_grad_enabled(False)"),
    ("02-reproducibility", "q9", None, "torch.use_deterministic_algorithms(True)"),
]


@pytest.fixture(scope="module")
def graded(releases, tmp_path_factory):
    """Per case: the control and the attack, graded by the real engine (one batch each)."""
    results = {}
    for assignment, question, label, state in CASES:
        release = releases[assignment]
        folder = tmp_path_factory.mktemp(f"state-{assignment}")
        wrong = variants_for(assignment)[question]["wrong"]
        answer = wrong[label] if label else next(iter(wrong.values()))
        notebook_with_answer(release.solution, question, answer, folder / "control.ipynb")
        notebook_with_answer(release.solution, question, f"{answer}\nimport torch\n{state}\n",
                             folder / "attack.ipynb")
        batch = grade_submissions(release.bundle, [folder])
        results[(assignment, question)] = {r.submission: r for r in batch}
    return results


@pytest.mark.parametrize(("assignment", "question", "label", "state"), CASES,
                         ids=[f"{a}-{q}-{s}" for a, q, _, s in CASES])
def test_the_students_state_earns_nothing(graded, assignment, question, label, state):
    control, attack = graded[(assignment, question)]["control"], \
        graded[(assignment, question)]["attack"]
    assert control.status == attack.status == "graded", (control.message, attack.message)
    scored = {r.submission: {q.name: q.score for q in r.questions} for r in (control, attack)}
    [possible] = [q.possible for q in control.questions if q.name == question]
    assert scored["control"][question] < possible  # the control is wrong there
    assert scored["attack"][question] <= scored["control"][question], scored
    assert attack.score <= control.score, (attack.score, control.score)
