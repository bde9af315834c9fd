"""Where the judge can observe an effect, it grades the effect, not a record: an optimizer by
the updates it makes (04 q4: steps on gradients the judge chose, made where the student's code
runs, against Adam's steps computed in the judge), so a reported type is no longer worth
points on its own.

The control is a partly wrong notebook (04 q4 "SGD instead of Adam"); the attack is the same
notebook whose process also reports its SGD optimizer as ``torch.optim.Adam`` (it patches the
function its side uses to report types). It must earn no more, on q4 and in total.
"""

from __future__ import annotations

import pytest
from conftest import notebook_with_answer
from make_examples import variants_for

from autograder.grading.grader import grade_submissions

ASSIGNMENT, QUESTION, WRONG = "04-mini-project", "q4", "SGD instead of Adam"

CLAIMS_ADAM = '''
import autograder.grading.wire as _wire
_real_mro = _wire.real_mro

def _claim_adam(obj):
    names = _real_mro(obj)
    if names and names[0] == "torch.optim.sgd.SGD":
        return ["torch.optim.adam.Adam", *names[1:]]
    return names

_wire.real_mro = _claim_adam
print("SGD CLAIMS TO BE ADAM")
'''


@pytest.fixture(scope="module")
def graded(releases, tmp_path_factory):
    release = releases[ASSIGNMENT]
    folder = tmp_path_factory.mktemp("effects")
    wrong = variants_for(ASSIGNMENT)[QUESTION]["wrong"][WRONG]
    notebook_with_answer(release.solution, QUESTION, wrong, folder / "control.ipynb")
    notebook_with_answer(release.solution, QUESTION, wrong + CLAIMS_ADAM, folder / "attack.ipynb")
    return {r.submission: r for r in grade_submissions(release.bundle, [folder])}


def test_an_optimizer_that_claims_to_be_adam_earns_nothing(graded):
    control, attack = graded["control"], graded["attack"]
    assert control.status == attack.status == "graded", (control.message, attack.message)
    assert "SGD CLAIMS TO BE ADAM" in attack.log
    scores = {name: {q.name: q.score for q in r.questions}
              for name, r in (("control", control), ("attack", attack))}
    [possible] = [q.possible for q in control.questions if q.name == QUESTION]
    assert scores["control"][QUESTION] < possible
    assert scores["attack"][QUESTION] <= scores["control"][QUESTION], scores
    assert attack.score <= control.score, (attack.score, control.score)
    # The claim passed the type checks; the updates did not.
    [question] = [q for q in attack.questions if q.name == QUESTION]
    messages = {c.name: c.message for c in question.checks if c.outcome == "failed"}
    assert any("after two steps" in m or "after one step" in m for m in messages.values()), \
        messages
