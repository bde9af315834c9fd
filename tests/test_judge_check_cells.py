"""A question is judged where the release put its check, not where the student's labels say
(issue 21, class 8).

The release gives every cell an id, and the bundle records the order of its code cells and
which one is each question's ``grader.check`` cell. A question is judged before the first of
the release's code cells from its check cell on. Each attack starts from a partly wrong
notebook (q1's answer wrong) and appends a cell that redoes q1 right; it then makes q1 judged
after that cell: by a new ``grader.check("q1")`` cell with the release's one renamed, or by
moving the release's check cell below it. Both earned q1's points when the judge went by
labels; neither may earn more than the control now. A notebook that lost the release's ids
can only be judged by its labels, and one whose ids were changed at the end: its row says so.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from conftest import answer_cell_index, notebook_with_answer
from make_examples import variants_for

from autograder.grading.grader import grade_submissions

ASSIGNMENT, QUESTION = "01-tensors", "q1"
WRONG = variants_for(ASSIGNMENT)[QUESTION]["wrong"]["scalar wrapped in brackets (a vector)"]
NO_IDS_NOTE = "carry none of the release's cell ids"
_NEW_IDS = itertools.count()


def _cell(source: str) -> dict:
    """A cell the student adds: Jupyter gives it a new id."""
    return {"cell_type": "code", "id": f"student-{next(_NEW_IDS)}", "metadata": {},
            "outputs": [], "execution_count": None, "source": source}


def _check_index(nb: dict) -> int:
    return next(i for i, c in enumerate(nb["cells"])
                if "".join(c["source"]).strip() == f'grader.check("{QUESTION}")')


def _attacked(nb: dict, right: str, how: str) -> dict:
    nb["cells"].append(_cell(right))  # q1 redone right, at the end
    check = _check_index(nb)
    if how.startswith("moved"):
        nb["cells"].append(nb["cells"].pop(check))
    elif how == "renamed":
        nb["cells"][check]["source"] = 'grader.check("q0")'
        nb["cells"].append(_cell(f'grader.check("{QUESTION}")'))
    if how.endswith("ids stripped"):
        for cell in nb["cells"]:
            cell.pop("id", None)
        nb["nbformat_minor"] = 4
    if how.endswith("ids renamed"):  # all but the first cell's: the ids are kept, none placed
        for cell in nb["cells"][1:]:
            cell["id"] = f"student-{next(_NEW_IDS)}"
    return nb


ATTACKS = ("renamed", "moved", "moved, ids stripped", "moved, ids renamed")


@pytest.fixture(scope="module")
def graded(releases, tmp_path_factory) -> dict:
    release = releases[ASSIGNMENT]
    folder = tmp_path_factory.mktemp("check-cells")
    control = notebook_with_answer(release.solution, QUESTION, WRONG, folder / "control.ipynb")
    solution = json.loads(release.solution.read_text())
    right = "".join(solution["cells"][answer_cell_index(solution, QUESTION)]["source"])
    paths = [control]
    for how in ATTACKS:
        nb = _attacked(json.loads(control.read_text()), right, how)
        path: Path = folder / f"{_stem(how)}.ipynb"
        path.write_text(json.dumps(nb))
        paths.append(path)
    return {r.submission: r for r in grade_submissions(release.bundle, paths)}


def _stem(how: str) -> str:
    return how.replace(", ", "-").replace(" ", "-")


def _q1(result) -> float:
    return next(q.score for q in result.questions if q.name == QUESTION)


@pytest.mark.parametrize("how", ["renamed", "moved"])
def test_a_check_cell_renamed_or_moved_earns_nothing(graded, how):
    control, attacked = graded["control"], graded[how]
    assert control.status == attacked.status == "graded", (control.message, attacked.message)
    assert _q1(control) < next(q.possible for q in control.questions if q.name == QUESTION)
    assert _q1(attacked) <= _q1(control), attacked.message
    assert attacked.score <= control.score
    assert NO_IDS_NOTE not in attacked.message


@pytest.mark.parametrize("how, note", [
    ("moved, ids stripped", NO_IDS_NOTE),
    ("moved, ids renamed", "none of the release's cells from the question's check on is left"),
])
def test_a_notebook_that_lost_the_release_ids_says_so_in_its_row(graded, how, note):
    """Without the release's ids nothing tells its cells from the student's: the labels
    decide, or the question is judged at the end, and the instructor reads that in the row
    (a claim, listed in the README)."""
    result = graded[_stem(how)]
    assert result.status == "graded", result.message
    assert note in result.message, result.message
    assert NO_IDS_NOTE not in graded["control"].message
    assert "none of the release's cells" not in graded["control"].message
