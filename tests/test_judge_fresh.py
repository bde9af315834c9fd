"""Expected values never come from the process that produced the answer (issue 21, class 3).

04 q10 asks for a reproducible training run. Its hidden check reruns the student's own code
with the notebook's settings and compares: that rerun now happens in a second student's
process that has run the notebook only up to Question 9 (``checks.from_fresh_process``), so a
``train`` that replays the notebook's trained weights has nothing to replay. Its accuracy is
computed by the judge from the trained weights, so a forward that looks up the test samples
the notebook holds scores nothing.

Each attack starts from a partly wrong notebook (the control) and must earn no more than it,
on q10 and in total. Both attacks earned points on the old engine (+2 and +4).
"""

from __future__ import annotations

import json

import pytest
from conftest import answer_cell_index, notebook_with_answer
from make_examples import variants_for

from autograder.grading.grader import grade_submissions

ASSIGNMENT, QUESTION = "04-mini-project", "q10"

# The notebook's `train` is replaced, after training, by one that trains and then loads the
# notebook's own weights: any rerun in this process "reproduces" the notebook exactly.
REPLAYS_THE_NOTEBOOK = '''
_notebook_weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
_notebook_losses = list(epoch_losses)
_real_train = train

def train(model, *args, **kwargs):
    _real_train(model, *args, **kwargs)
    model.load_state_dict(_notebook_weights)
    return list(_notebook_losses)

print("TRAIN REPLAYS THE NOTEBOOK")
'''

# An under-trained model whose forward looks the test samples up (the notebook holds them)
# and answers their labels: its own evaluation, and any call of the model, score 100 %.
LOOKS_THE_TEST_SET_UP = '''
_memory = {tuple(row.tolist()): int(label) for row, label in zip(X_test.cpu(), y_test.cpu())}
_learned_forward = model.forward

def _forward(x):
    logits = _learned_forward(x)
    known = torch.tensor([_memory.get(tuple(row.tolist()), -1) for row in x.detach().cpu()])
    hit = known >= 0
    if bool(hit.any()):
        logits = logits.clone()
        logits[hit] = 100 * torch.nn.functional.one_hot(known[hit], 10).float().to(logits.device)
    return logits

model.forward = _forward
test_loss, test_acc = evaluate(model, X_test, y_test, loss_fn, device=device)
print(f"FORWARD LOOKS THE TEST SET UP: {test_acc:.3f}")
'''

CASES = {
    "replay": ("forgot to seed", REPLAYS_THE_NOTEBOOK, "TRAIN REPLAYS THE NOTEBOOK"),
    "lookup": ("too few epochs", LOOKS_THE_TEST_SET_UP, "FORWARD LOOKS THE TEST SET UP: 1.000"),
    # The same replay, with Question 9's check cell moved below the training cell and the
    # release's cell ids stripped, so that the labels decide where q9 is judged: the fresh
    # process then runs the (unseeded) training too before its stop. It starts from other
    # seeds than the notebook's process, so what it trained differs all the same.
    "moved": ("forgot to seed", REPLAYS_THE_NOTEBOOK, "TRAIN REPLAYS THE NOTEBOOK"),
}


def _move_check_below_answer(path, moved: str, below: str) -> None:
    """Move ``grader.check(moved)``'s cell to just after ``below``'s answer cell, and drop the
    cells' ids (with them, the release's check cell would still say where ``moved`` is judged:
    tests/test_judge_check_cells.py)."""
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    [check] = [i for i, c in enumerate(cells)
               if "".join(c["source"]).strip() == f'grader.check("{moved}")']
    cell = cells.pop(check)
    cells.insert(answer_cell_index(nb, below) + 1, cell)
    for cell in cells:
        cell.pop("id", None)
    nb["nbformat_minor"] = 4
    path.write_text(json.dumps(nb))


@pytest.fixture(scope="module")
def graded(releases, tmp_path_factory):
    release = releases[ASSIGNMENT]
    folder = tmp_path_factory.mktemp("fresh")
    for case, (wrong, attack, _) in CASES.items():
        answer = variants_for(ASSIGNMENT)[QUESTION]["wrong"][wrong]
        notebook_with_answer(release.solution, QUESTION, answer, folder / f"{case}-control.ipynb")
        notebook_with_answer(release.solution, QUESTION, answer + attack,
                             folder / f"{case}-attack.ipynb")
        if case == "moved":
            _move_check_below_answer(folder / f"{case}-attack.ipynb", "q9", QUESTION)
    notebook_with_answer(release.solution, QUESTION,
                         variants_for(ASSIGNMENT)[QUESTION]["right"]["torch.random.manual_seed"],
                         folder / "honest.ipynb")
    return {r.submission: r for r in grade_submissions(release.bundle, [folder])}


def _scores(result):
    return {q.name: q.score for q in result.questions}


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_attack_on_q10_earns_no_more_than_the_mistake_it_hides(graded, case):
    control, attack = graded[f"{case}-control"], graded[f"{case}-attack"]
    assert control.status == attack.status == "graded", (control.message, attack.message)
    assert CASES[case][2] in attack.log, attack.log[-2000:]
    [possible] = [q.possible for q in control.questions if q.name == QUESTION]
    got, without = _scores(attack), _scores(control)
    assert without[QUESTION] < possible, without
    assert got[QUESTION] <= without[QUESTION], (got, without)
    assert attack.score <= control.score, (attack.score, control.score)


@pytest.mark.parametrize("case", ["replay", "moved"])
def test_the_replayed_run_is_compared_with_a_fresh_one(graded, case):
    [question] = [q for q in graded[f"{case}-attack"].questions if q.name == QUESTION]
    failed = {c.name: c.message for c in question.checks if c.outcome == "failed"}
    assert "test_q10_reproducible" in failed, failed
    assert "compared with a fresh run" in failed["test_q10_reproducible"]


def test_an_honest_run_passes_in_the_fresh_process(graded):
    honest = graded["honest"]
    assert honest.status == "graded", honest.message
    [question] = [q for q in honest.questions if q.name == QUESTION]
    assert question.score == question.possible, [(c.name, c.message) for c in question.checks]
