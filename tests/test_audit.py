"""``autograder audit``: the mutation operators, the selection, and every assignment's audit
under a fixed budget against its committed record (``assignments/NN-name/audit.json``)."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest
from conftest import ASSIGNMENT_NAMES, ASSIGNMENTS

from autograder.audit.mutants import changes_device_code, make_mutants, select
from autograder.audit.run import (
    AuditReport,
    QuestionAudit,
    format_report,
    read_record,
    run_audit,
    unrecorded,
    updated_record,
)

# Mutants per question in `make test`: the first N of the seeded, operator-balanced order (a
# prefix of the full audit the record was made from). AUDIT_BUDGET=0 audits everything.
BUDGET = int(os.environ.get("AUDIT_BUDGET", "3")) or None

CELL = '''def f(t, device="cpu"):
    torch.manual_seed(0)
    x = t.to(device).reshape(2, 3).clone()
    model.train()
    optimizer.zero_grad()
    return x.sum(dim=1), x_train
'''


def test_operators_cover_the_beginner_mistakes():
    lines = set(range(2, 7))
    mutants = make_mutants("q1", CELL, lines, {"x_train", "x_test"})
    operators = {m.operator for m in mutants}
    assert {"constant", "device-move-dropped", "reshape-view", "copy-dropped", "train-eval",
            "call-dropped", "seed-dropped", "seed-moved", "reduction-dim", "train-test",
            "order"} <= operators, operators
    for mutant in mutants:
        ast.parse(mutant.source)  # every mutant is valid Python
        assert mutant.diff and mutant.source != CELL
        # only the marked solution lines change: the signature (line 1) never does
        assert mutant.source.splitlines()[0] == CELL.splitlines()[0] or \
            mutant.operator == "numpy-twin"
    assert len({m.id for m in mutants}) == len(mutants)
    dropped = next(m for m in mutants if m.operator == "device-move-dropped")
    assert dropped.diff == ("-    x = t.to(device).reshape(2, 3).clone()\n"
                            "+    x = t.reshape(2, 3).clone()")


def test_on_a_cpu_a_changed_move_is_never_called_equivalent():
    # on a machine without a GPU every move is a no-op: equal values there prove nothing
    mutants = {(m.operator, m.what): m for m in make_mutants("q1", CELL, set(range(2, 7)),
                                                             {"x_train", "x_test"})}
    moved = [m for m in mutants.values() if changes_device_code(m)]
    assert [m.operator for m in moved] == ["device-move-dropped"]
    # the same line, another change: not a move
    assert not changes_device_code(mutants[("reshape-view", "reshape -> view")])
    assert not changes_device_code(mutants[("copy-dropped", ".clone() dropped")])
    dropped_keyword = next(m for m in make_mutants(
        "q1", 'def g(m, device):\n    return torch.load("m.pt", map_location=device)\n', {2},
        set()) if m.operator == "keyword-dropped")
    assert changes_device_code(dropped_keyword), dropped_keyword.diff


def test_selection_is_seeded_and_a_budget_is_a_prefix():
    mutants = make_mutants("q1", CELL, set(range(2, 7)), {"x_train", "x_test"})
    full = select(mutants, None, 0)
    assert [m.id for m in select(mutants, 5, 0)] == [m.id for m in full[:5]]
    assert [m.id for m in select(list(reversed(mutants)), None, 0)] == [m.id for m in full]
    assert len({m.operator for m in full[:5]}) == 5  # round-robin over operators


def test_the_record_lists_every_full_marks_mutant_with_a_reason():
    report = AuditReport("x", 3, 0, {"q1": QuestionAudit(
        mutants=2, killed=1, survived=[{"id": "abc", "operator": "constant", "what": "1 -> 2",
                                        "diff": "-x = 1\n+x = 2", "passed": []}])})
    assert unrecorded(report, {"questions": {}})
    record = updated_record(report, {"questions": {}})
    assert record["questions"]["q1"]["abc"]["reason"] == "TODO"
    assert unrecorded(report, record)  # TODO is not a reason
    record["questions"]["q1"]["abc"]["reason"] = "x is never read"
    assert not unrecorded(report, record)
    # once a test kills it, the next update takes it out of the record
    later = AuditReport("x", 3, 0, {"q1": QuestionAudit(mutants=2, killed=2,
                                                        killed_ids={"abc", "def"})})
    assert updated_record(later, record)["questions"]["q1"] == {}


def test_the_report_flags_a_question_whose_public_checks_catch_none():
    report = AuditReport("x", 3, 0, {
        "q1": QuestionAudit(mutants=3, killed=3, killed_by_public=2),
        "q2": QuestionAudit(mutants=3, killed=2, killed_by_public=0),
        "q3": QuestionAudit(mutants=1, killed=0)})
    lines = {line.split()[0]: line for line in format_report(report).splitlines()
             if line.startswith("q")}
    assert "public checks catch none" in lines["q2"]
    assert "public checks catch none" not in lines["q1"]
    assert "public checks catch none" not in lines["q3"]  # nothing killed: nothing to see
    assert report.to_json()["questions"]["q2"]["killed_by_public"] == 0


@pytest.mark.parametrize("assignment", ASSIGNMENT_NAMES)
def test_no_new_survivors(releases, assignment, tmp_path, monkeypatch):
    release = releases[assignment]
    folder = ASSIGNMENTS / assignment
    # the bundle as the CLI passes it, relative to the working folder (the probe runs elsewhere)
    monkeypatch.chdir(release.bundle.parent)
    report = run_audit(folder, Path(release.bundle.name), release.solution, budget=BUDGET,
                       workers=2)
    (tmp_path / "audit.json").write_text(json.dumps(report.to_json(), indent=1))
    assert not report.errors, report.errors
    assert report.mutants > 0
    # Which killed mutants the public checks catch too (the student sees them) is counted
    # for every question, and some are caught by public checks in every assignment.
    assert all(0 <= q.killed_by_public <= q.killed for q in report.questions.values())
    assert any(q.killed_by_public for q in report.questions.values())
    missing = unrecorded(report, read_record(folder))
    assert not missing, (
        f"{len(missing)} mutant(s) of {assignment} earn full marks and are not in "
        f"{folder / 'audit.json'}: kill them with a test, or run `autograder audit "
        f"{assignment} --update-record` and give each a reason\n" + "\n".join(missing))
