"""Every question rejects plausible wrong answers and accepts alternative correct ones.

The variants live in ``tests/answers/aNN_*.py``; each is the reference solution with one
question's answer cell replaced, graded by the real engine.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import ASSIGNMENT_NAMES, answer_cell_index, graded_once, notebook_with_answer
from make_examples import variants_for

from autograder.bundle import load_bundle
from autograder.grading.grader import grade_submissions
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
def graded_variants(releases, build_root: Path, shared_root: Path):
    """An assignment's variants, graded as one batch once per test run (``graded_once``) on
    first use: its variant tests and its kernel agreement test read the same results."""
    graded: dict[str, dict[str, SubmissionResult]] = {}

    def results_for(assignment: str) -> dict[str, SubmissionResult]:
        if assignment not in graded:
            graded[assignment] = graded_once(shared_root, f"variants-{assignment}",
                                             lambda: _grade_variants(releases[assignment],
                                                                     build_root))
        return graded[assignment]

    return results_for


def _grade_variants(release, build_root: Path) -> list[SubmissionResult]:
    folder = build_root / "variants" / release.name
    for question, kinds in variants_for(release.name).items():
        for kind, labelled in kinds.items():
            for label, code in labelled.items():
                notebook_with_answer(release.solution, question, code,
                                     folder / f"{_file_name(question, kind, label)}.ipynb")
    return grade_submissions(release.bundle, [folder], workers=2)


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


# --- the student's own kernel and the judge agree on the public checks ------------------------

AGREE_MARKER = "AUTOGRADER-AGREE "


def _kernel_public_checks(release, variants: dict, folder: Path) -> dict[str, list[bool]]:
    """Every variant's public checks as the notebook's ``grader.check`` sees them in a real
    Jupyter kernel, in the student release's folder: one kernel runs the reference notebook
    and, at each question's answer cell, each variant of it followed by ``grader.check``. Before
    each variant the reference cells above it run again, so that a variant which changes shared
    data in place (``digits.data /= 16``) does not reach the next one."""
    import nbformat
    from nbclient import NotebookClient

    shutil.copytree(release.student_notebook.parent, folder)
    solution = json.loads(release.solution.read_text())
    answer_at = {}
    for question in variants:
        answer_at[answer_cell_index(solution, question)] = question
    cells, above = [], []
    for index, cell in enumerate(solution["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        question = answer_at.get(index)
        # The reference cells above, as one cell: the same code, without a kernel round trip
        # per cell (thousands of them for 01's variants).
        rerun_above = "\n\n".join(above)
        if question is not None:
            for kind, labelled in variants[question].items():
                for label, code in labelled.items():
                    cells.append(nbformat.v4.new_code_cell(rerun_above))
                    cells.append(nbformat.v4.new_code_cell(code))
                    name = _file_name(question, kind, label)
                    cells.append(nbformat.v4.new_code_cell(
                        "import json as _json\n"
                        f"_results = grader.check({question!r}).test_case_results\n"
                        f"print({AGREE_MARKER!r} + _json.dumps([{name!r}, "
                        "[bool(r.passed) for r in _results]]))"))
            cells.append(nbformat.v4.new_code_cell(rerun_above))
        if not source.lstrip().startswith("grader."):
            cells.append(nbformat.v4.new_code_cell(source))
            above.append(source)
    nb = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    seen = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                if line.startswith(AGREE_MARKER):
                    name, checks = json.loads(line[len(AGREE_MARKER):])
                    seen[name] = checks
    return seen


@pytest.mark.parametrize("assignment", ASSIGNMENT_NAMES)
def test_public_checks_agree_between_the_students_kernel_and_the_judge(
        releases, graded_variants, assignment, tmp_path):
    variants = variants_for(assignment)
    in_kernel = _kernel_public_checks(releases[assignment], variants, tmp_path / "release")
    judged = graded_variants(assignment)
    disagree = []
    for question, kinds in variants.items():
        for kind, labelled in kinds.items():
            for label in labelled:
                name = _file_name(question, kind, label)
                [scored] = [q for q in judged[name].questions if q.name == question]
                # otter names a question's test cases by position ("q1 - 1"): compare in order
                judge = [c.outcome == "passed" for c in scored.checks if not c.hidden]
                if in_kernel.get(name) != judge:
                    disagree.append(f"{name}: kernel {in_kernel.get(name)} judge {judge}")
    assert not disagree, "\n".join(disagree)
