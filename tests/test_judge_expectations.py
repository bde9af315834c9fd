"""Expected values come only from the judge's own code and data, computed before anything is
lent (issue 21, class 3).

Arguments a test passes to student code are lent: what the student's function changes in
place is written back onto the test's own objects (a tensor's values, and even its dtype). A
test that computed its expected value from such an object *after* the call graded the student
against what the student left there. Each case here starts from a partly wrong notebook (the
reference with one wrong answer variant from ``tests/answers``: the control) and adds a
student function that alters its lent input so that a reference computed afterwards agrees
with the wrong answer (the attack). The attack must earn no more than the control, on the
question and in total.

- 04 q8: ``logits_to_predictions`` zeroes the logits it is given: softmax of zeros is what a
  hand-made softmax gets right, so a reference taken from the zeroed logits agreed.
- 04 q2: ``split_data`` zeroes ``X`` and ``y`` before splitting them (a reference split of
  zeros is all zeros), and zeroes ``y`` after splitting it, so that a second call on the same
  (now zeroed) ``y`` looked like a split that depends on its seed.
- 03 q2: ``to_device`` turns the float64 tensor it is given into float32 in place, so the
  reference ``t.to("meta")`` taken afterwards had the dtype of the wrong answer.
"""

from __future__ import annotations

import pytest
from conftest import notebook_with_answer
from make_examples import variants_for

from autograder.grading.grader import grade_submissions

ZEROES_LOGITS = '''

_wrong_logits_to_predictions = logits_to_predictions


def logits_to_predictions(logits):
    # The checks' logits have fewer classes than the digits: zero them in place first. The
    # softmax of zeros is uniform, which the wrong answer computes correctly.
    if logits.shape[-1] < 10:
        logits.zero_()
    return _wrong_logits_to_predictions(logits)


print("ATTACK: logits_to_predictions zeroes its input")
'''

ZEROES_SPLIT_INPUTS = '''

_wrong_split_data = split_data


def split_data(X, y, test_fraction=0.2, seed=42):
    if len(X) == 50:  # the check that compares with a reference split of X and y
        X.zero_()
        y.zero_()
        return _wrong_split_data(X, y, test_fraction, seed)
    result = _wrong_split_data(X, y, test_fraction, seed)
    if len(X) == 30 and y.device.type != "meta":  # the check that calls twice on the same y
        y.zero_()
    return result


print("ATTACK: split_data zeroes its inputs")
'''

CHANGES_INPUT_DTYPE = '''

_wrong_to_device = to_device


def to_device(t, device):
    if t.dtype == torch.float64:
        t.data = t.data.to(torch.float32)  # the lent tensor goes back to the judge as float32
    return _wrong_to_device(t, device)


print("ATTACK: to_device changes the dtype of its input")
'''

CASES = {
    # (assignment, question): (wrong answer variant, attack code appended to it)
    ("04-mini-project", "q8"): ("hand-made softmax overflows", ZEROES_LOGITS),
    ("04-mini-project", "q2"): ("seed hard-coded to 42", ZEROES_SPLIT_INPUTS),
    ("03-gpu", "q2"): ("rebuilds from a list (loses the dtype)", CHANGES_INPUT_DTYPE),
}


@pytest.fixture(scope="module")
def graded(releases, tmp_path_factory):
    """Every control and attack of one assignment in one batch: (assignment, question) ->
    {"control": result, "attack": result}."""
    results = {}
    for assignment in sorted({a for a, _ in CASES}):
        release = releases[assignment]
        folder = tmp_path_factory.mktemp(f"expectations-{assignment}")
        for (name, question), (wrong, attack) in CASES.items():
            if name != assignment:
                continue
            code = variants_for(assignment)[question]["wrong"][wrong]
            notebook_with_answer(release.solution, question, code,
                                 folder / f"control_{question}.ipynb")
            notebook_with_answer(release.solution, question, code + attack,
                                 folder / f"attack_{question}.ipynb")
        by_name = {r.submission: r for r in grade_submissions(release.bundle, [folder])}
        for (name, question) in CASES:
            if name == assignment:
                results[name, question] = {kind: by_name[f"{kind}_{question}"]
                                           for kind in ("control", "attack")}
    return results


@pytest.mark.parametrize("case", list(CASES), ids=[f"{a}-{q}" for a, q in CASES])
def test_altering_a_lent_input_earns_nothing(graded, case):
    assignment, question = case
    control, attack = graded[case]["control"], graded[case]["attack"]
    assert control.status == attack.status == "graded", (control.message, attack.message)
    assert "ATTACK:" in attack.log  # the attack's code ran
    scores = {kind: {q.name: q.score for q in result.questions}
              for kind, result in (("control", control), ("attack", attack))}
    [possible] = [q.possible for q in control.questions if q.name == question]
    assert scores["control"][question] < possible, scores  # the wrong answer loses points
    assert scores["attack"][question] <= scores["control"][question], \
        (assignment, question, scores)
    for name, score in scores["attack"].items():
        assert score <= scores["control"][name], (assignment, name, scores)
    assert attack.score <= control.score, (assignment, attack.score, control.score)
