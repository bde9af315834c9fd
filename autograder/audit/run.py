"""Mutation audit: which wrong answers do an assignment's tests let through?

``autograder audit NAME`` takes every question's reference answer cell, makes *mutants* of it
(the reference with one small change of the kind a PyTorch beginner makes: a constant off by
one, a dimension swapped, a ``.to(device)`` whose result is dropped, the seed call dropped,
``train()`` for ``eval()``, ...), builds one submission per mutant (the reference solution with
that one cell replaced), grades them all with the real engine in one batch, and reports per
question: mutants made, killed (the question lost points) and survived (full points).

A survivor is then probed: the reference and the survivor each run, unsandboxed (both are the
instructor's code, one token changed), in one warm helper process, and the question's tests run
on them with every ``call(...)`` and every test argument fingerprinted. A survivor whose
fingerprints all equal the reference's computes the same values on every input the tests use:
a *suspected equivalent*, which no test of this kind can kill; the others are real survivors
(a test gap). On a grader without a GPU, a mutant that changes device code (a ``.to(...)`` or
``device=`` dropped, a ``torch.cuda`` call) is never called equivalent: there every move is to
the CPU and a no-op, so equal values there say nothing about a GPU machine. Cheaper,
source-level: mutants identical to the reference after parsing, or to an earlier mutant, are
never made.

The mutants themselves are made by ``mutants``; this module runs them, probes the survivors
(``probe``, in a helper process) and keeps the assignment's record (``audit.json``).
"""


from __future__ import annotations

import ast
import copy
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.audit.mutants import (
    Mutant,
    answer_cell_index,
    changes_device_code,
    make_mutants,
    reference_answers,
    select,
)

RECORD_NAME = "audit.json"
TODO = "TODO"

# --- the report -----------------------------------------------------------------------------


@dataclass
class QuestionAudit:
    mutants: int = 0
    killed: int = 0
    # Killed mutants a public check fails on too: the student sees the mistake before
    # submitting. The rest only hidden checks catch (the student leaves sure of it).
    killed_by_public: int = 0
    survived: list[dict[str, Any]] = field(default_factory=list)
    equivalent: list[dict[str, Any]] = field(default_factory=list)
    killed_ids: set[str] = field(default_factory=set)  # so that a record can forget them

    def to_json(self) -> dict[str, Any]:
        return {"mutants": self.mutants, "killed": self.killed,
                "killed_by_public": self.killed_by_public, "survived": self.survived,
                "equivalent": self.equivalent}

    @property
    def public_blind(self) -> bool:
        """Its public checks catch none of the mutants its hidden checks catch."""
        return self.killed > 0 and self.killed_by_public == 0


@dataclass
class AuditReport:
    assignment: str
    budget: int | None
    seed: int
    questions: dict[str, QuestionAudit]
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def mutants(self) -> int:
        return sum(q.mutants for q in self.questions.values())

    @property
    def killed(self) -> int:
        return sum(q.killed for q in self.questions.values())

    @property
    def kill_rate(self) -> float:
        """Killed among the mutants that are not suspected equivalents (100 when none)."""
        judged = self.mutants - sum(len(q.equivalent) for q in self.questions.values())
        return 100.0 * self.killed / judged if judged else 100.0

    def to_json(self) -> dict[str, Any]:
        return {"assignment": self.assignment, "budget": self.budget, "seed": self.seed,
                "mutants": self.mutants, "killed": self.killed,
                "kill_rate": round(self.kill_rate, 1), "seconds": round(self.seconds, 1),
                "questions": {q: a.to_json() for q, a in self.questions.items()},
                "errors": self.errors}


def format_report(report: AuditReport, *, record: dict[str, Any] | None = None) -> str:
    accepted = (record or {}).get("questions", {})
    rows = [f"{report.assignment}: {report.mutants} mutants, {report.killed} killed, "
            f"kill rate {report.kill_rate:.1f}% (suspected equivalents excluded), "
            f"{report.seconds:.0f} s",
            "",
            f"{'question':<10}{'mutants':>8}{'killed':>8}{'by public':>10}{'survived':>10}"
            f"{'equivalent':>12}"]
    for name, audit in report.questions.items():
        flag = "  <- public checks catch none" if audit.public_blind else ""
        rows.append(f"{name:<10}{audit.mutants:>8}{audit.killed:>8}{audit.killed_by_public:>10}"
                    f"{len(audit.survived):>10}{len(audit.equivalent):>12}{flag}")
    rows.append("(by public: killed mutants a public check catches too, so a student sees the "
                "mistake before submitting; the others only hidden checks catch)")
    for name, audit in report.questions.items():
        for kind, entries in (("survived", audit.survived), ("equivalent", audit.equivalent)):
            for entry in entries:
                reason = accepted.get(name, {}).get(entry["id"], {}).get("reason")
                note = f"  [recorded: {reason}]" if reason and reason != TODO else ""
                rows.append(f"\n{name} {kind} {entry['id']} ({entry['operator']}: "
                            f"{entry['what']}){note}")
                rows += ["    " + ln for ln in entry["diff"].splitlines()]
                if entry.get("passed"):
                    rows.append("    passed: " + ", ".join(entry["passed"]))
    for error in report.errors:
        rows.append(f"\nerror: {error}")
    return "\n".join(rows)


# --- record --------------------------------------------------------------------------------


def read_record(folder: Path) -> dict[str, Any]:
    path = Path(folder) / RECORD_NAME
    if not path.exists():
        return {"questions": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def unrecorded(report: AuditReport, record: dict[str, Any]) -> list[str]:
    """Mutants with full marks (survivors and suspected equivalents) the record does not
    list with a reason: what a test fails on."""
    missing = []
    for name, audit in report.questions.items():
        listed = record.get("questions", {}).get(name, {})
        for entry in (*audit.survived, *audit.equivalent):
            reason = listed.get(entry["id"], {}).get("reason", TODO)
            if reason == TODO or not reason.strip():
                missing.append(f"{name} {entry['id']} ({entry['operator']}: {entry['what']})\n"
                               + "\n".join("    " + ln for ln in entry["diff"].splitlines()))
    return missing


def updated_record(report: AuditReport, record: dict[str, Any]) -> dict[str, Any]:
    """The record with this run's full-marks mutants added (reasons kept; new survivors get
    TODO, new suspected equivalents a default reason to be checked) and the mutants this run
    killed taken out (a test now catches them)."""
    questions = {name: dict(entries) for name, entries in record.get("questions", {}).items()}
    for name, audit in report.questions.items():
        listed = questions.setdefault(name, {})
        for killed in audit.killed_ids & set(listed):
            del listed[killed]
        for kind, entries in (("survived", audit.survived), ("equivalent", audit.equivalent)):
            for entry in entries:
                default = TODO if kind == "survived" else \
                    "same values as the reference on every test input"
                old = listed.get(entry["id"], {})
                listed[entry["id"]] = {"kind": kind, "diff": entry["diff"],
                                       "reason": old.get("reason", default)}
    return {"assignment": report.assignment,
            "note": "mutants of the reference answers that earn full marks, each with why it is "
                    "acceptable; written by `autograder audit NAME --update-record`, reasons by "
                    "hand (see assignments/README.md)",
            "questions": {q: dict(sorted(v.items())) for q, v in sorted(questions.items())}}


# --- running --------------------------------------------------------------------------------


def _known_names(nb: dict) -> set[str]:
    names: set[str] = set()
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            try:
                tree = ast.parse("".join(cell["source"]))
            except SyntaxError:
                continue
            names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            names |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    return names


def _notebook_with(solution: dict, index: int, source: str) -> dict:
    nb = copy.deepcopy(solution)
    nb["cells"][index]["source"] = source
    nb["cells"][index]["outputs"] = []
    return nb


def _hard_coded(values: dict[str, str], question: str, source: str) -> list[tuple[str, str, str]]:
    """Mutants that replace a value the answer cell computes by the reference's value."""
    extra = []
    for name, literal in sorted(values.items()):
        extra.append(("hard-coded", f"{name} = reference value",
                      f"{source}\n{name} = {literal}  # hard-coded"))
    return extra


PROBE = Path(__file__).with_name("probe.py")


def _probe(notebooks: list[dict], bundle_path: Path, questions: list[str],
           timeout: float) -> list[dict[str, Any]]:
    """Run notebooks (trusted: the instructor's, with one change) in one helper process."""
    with tempfile.TemporaryDirectory(prefix="audit-probe-") as folder:
        request = Path(folder) / "request.json"  # the helper runs in `folder`: absolute paths
        request.write_text(json.dumps({"bundle": str(Path(bundle_path).resolve()), "runs": [
            {"notebook": nb, "question": q} for nb, q in zip(notebooks, questions, strict=True)]}))
        try:
            done = subprocess.run([sys.executable, str(PROBE), str(request)],
                                  capture_output=True, text=True, timeout=timeout, cwd=folder,
                                  env=_probe_env())
        except subprocess.TimeoutExpired:
            return [{"error": "probe timed out"} for _ in notebooks]
        answer = Path(folder) / "answer.json"
        if done.returncode != 0 or not answer.exists():
            return [{"error": f"probe failed: {done.stderr[-500:]}"} for _ in notebooks]
        return json.loads(answer.read_text())


def _probe_env() -> dict[str, str]:
    import os
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}


def run_audit(folder: Path, bundle_path: Path, solution_path: Path, *, budget: int | None = None,
              seed: int = 0, workers: int | None = None, limits: Any = None,
              questions: list[str] | None = None,
              progress: Callable[[str], None] | None = None) -> AuditReport:
    """Audit one built assignment: mutate, grade in one batch, probe the survivors."""
    from autograder.authoring.release import find_instructor_notebook
    from autograder.bundle import load_bundle
    from autograder.grading.grader import grade_submissions
    from autograder.kit.checks import cuda_available

    began = time.monotonic()
    say = progress or (lambda _: None)
    bundle = load_bundle(bundle_path)
    names = [q.name for q in bundle.questions if questions is None or q.name in questions]
    instructor = json.loads(find_instructor_notebook(folder).read_text(encoding="utf-8"))
    solution = json.loads(Path(solution_path).read_text(encoding="utf-8"))
    references = reference_answers(instructor, names)
    known = _known_names(solution)
    index_of = {q: answer_cell_index(solution, q) for q in names}

    # The reference once, unsandboxed: its values for the hard-coded mutants, and a check
    # that the instructor cells stripped of their markers are the solution's answer cells.
    reference_nb = copy.deepcopy(solution)
    for q in names:
        reference_nb["cells"][index_of[q]]["source"] = references[q][0]
    say("running the reference")
    [reference_run] = _probe([reference_nb], bundle_path, ["*values*"], timeout=600)
    literals = reference_run.get("values", {})
    if "error" in reference_run:  # no hard-coded-value mutants then: say so
        report_errors = [f"running the reference: {reference_run['error']}"]
    else:
        report_errors = []

    mutants: list[Mutant] = []
    for q in names:
        source, lines = references[q]
        made = make_mutants(q, source, lines, known,
                            _hard_coded(literals.get(q, {}), q, source))
        mutants += select(made, budget, seed)
    say(f"grading {len(mutants)} mutants")
    report = AuditReport(bundle.assignment, budget, seed, {q: QuestionAudit() for q in names},
                         errors=report_errors)
    with tempfile.TemporaryDirectory(prefix="audit-") as scratch:
        root = Path(scratch) / "mutants"
        root.mkdir()
        paths = []
        for number, mutant in enumerate(mutants):
            nb = _notebook_with(reference_nb, index_of[mutant.question], mutant.source)
            path = root / f"m{number:04d}.ipynb"
            path.write_text(json.dumps(nb), encoding="utf-8")
            paths.append(path)
        reference_path = Path(scratch) / "reference.ipynb"
        reference_path.write_text(json.dumps(reference_nb), encoding="utf-8")
        results = grade_submissions(bundle_path, [reference_path, *paths], workers=workers,
                                    limits=limits)
    baseline, results = results[0], results[1:]
    for question in baseline.questions:
        if question.name in report.questions and question.score < question.possible:
            report.errors.append(f"the reference scores {question.score}/{question.possible} "
                                 f"on {question.name}: {baseline.message}")
    survivors: list[tuple[Mutant, list[str]]] = []
    public = {q.name: {c.name for c in q.checks if not c.hidden} for q in bundle.questions}
    for mutant, result in zip(mutants, results, strict=True):
        audit = report.questions[mutant.question]
        audit.mutants += 1
        scored = next((q for q in result.questions if q.name == mutant.question), None)
        if result.status != "graded" or scored is None or scored.score < scored.possible:
            audit.killed += 1
            audit.killed_ids.add(mutant.id)
            # A notebook that cannot be graded (it raises, it hangs) fails in the student's
            # hands too; otherwise a public check must be among the failed ones.
            if scored is None or result.status != "graded" or any(
                    c.outcome == "failed" and c.name in public[mutant.question]
                    for c in scored.checks):
                audit.killed_by_public += 1
        else:
            survivors.append((mutant, [c.name for c in scored.checks if c.outcome == "passed"]))
    if survivors:
        say(f"probing {len(survivors)} survivors")
        no_gpu = not cuda_available()
        runs = [reference_nb] * len({m.question for m, _ in survivors})
        asked = sorted({m.question for m, _ in survivors})
        references_seen = dict(zip(asked, _probe(runs, bundle_path, asked, timeout=900),
                                   strict=True))
        probed = _probe([_notebook_with(reference_nb, index_of[m.question], m.source)
                         for m, _ in survivors], bundle_path, [m.question for m, _ in survivors],
                        timeout=1800)
        for asked_question, seen in references_seen.items():
            if "error" in seen:
                report.errors.append(f"probing the reference for {asked_question}: "
                                     f"{seen['error']}")
        for (mutant, passed), seen in zip(survivors, probed, strict=True):
            entry = {**mutant.to_json(), "passed": passed}
            if "error" in seen:  # not probed: it stays a survivor, and the report says why
                report.errors.append(f"probing {mutant.question} {mutant.id}: {seen['error']}")
            reference_fp = references_seen[mutant.question].get("fingerprint")
            same = reference_fp is not None and seen.get("fingerprint") == reference_fp and \
                not (no_gpu and changes_device_code(mutant))
            target = report.questions[mutant.question]
            (target.equivalent if same else target.survived).append(entry)
    report.seconds = time.monotonic() - began
    return report


def audit_assignment(name: str, *, suite: str | None = None, **options: Any) -> AuditReport:
    """``autograder audit NAME``: build (if stale) and audit one assignment of the suite."""
    from autograder.authoring.release import build_release, resolve_assignment
    from autograder.suite import find_suite

    found = find_suite(suite)
    folder = resolve_assignment(found.assignments, name)
    release = build_release(folder, student_root=found.student, dist_root=found.dist)
    return run_audit(folder, release.bundle, release.solution, **options)


def iter_entries(report: AuditReport) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, audit in report.questions.items():
        for entry in audit.survived:
            yield name, "survived", entry
        for entry in audit.equivalent:
            yield name, "equivalent", entry
