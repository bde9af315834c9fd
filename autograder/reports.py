"""Renderers of ``SubmissionResult``: gradebook CSV, Gradescope ``results.json``, Markdown feedback.

Layout of an output folder::

    grades.csv               one row per submission (pending rows until graded), by name
    results/<stem>.json      Gradescope's results.json format
    feedback/<stem>.md       what the student may see
    .records/<stem>.json     the full record, for resuming an interrupted run (and for
                             ``report`` and ``export``: keep it in archives and CI artifacts)

``<stem>`` is the file-system-safe form of the submission's name (``names.file_stem``).

Every file is written atomically (temporary file + rename), so an interrupted run leaves
either the old file or the new one, never half of one.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from autograder.bundle import Bundle
from autograder.errors import AutograderError
from autograder.results import SubmissionResult

RECORDS = ".records"


def check_out_dir(out_dir: Path) -> None:
    """An output folder can be made there (before any grading starts)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise AutograderError(f"the output folder {out_dir} is an existing file; "
                              "name a folder (new or an earlier output folder)")


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    # Records hold printable text (``results``); backslashreplace is the last guard, so a
    # write never fails on text that reached here some other way.
    with open(tmp, "w", encoding="utf-8", errors="backslashreplace", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _points(value: float) -> str:
    return f"{value:g}"


# --- gradebook ----------------------------------------------------------------------------


def gradebook_csv(bundle: Bundle, names: Sequence[str],
                  results: Mapping[int, SubmissionResult]) -> str:
    """One row per submission, in batch order; ``names``: the gradebook names (for the
    rows still pending)."""
    questions = [q.name for q in bundle.questions]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["submission", "status", "score", "possible", "percent", *questions,
                     "message"])
    possible = _points(sum(q.points for q in bundle.questions))
    for index, name in enumerate(names):
        result = results.get(index)
        if result is None:
            writer.writerow([name, "pending", "", possible, "", *[""] * len(questions), ""])
            continue
        by_name = {q.name: q.score for q in result.questions}
        writer.writerow([name, result.status, _points(result.score), _points(result.possible),
                         f"{result.percent:.1f}",
                         *[_points(by_name.get(q, 0.0)) for q in questions],
                         result.message.replace("\n", " ")[:500]])
    return out.getvalue()


def write_gradebook(out_dir: Path, bundle: Bundle, names: Sequence[str],
                    results: Mapping[int, SubmissionResult]) -> None:
    atomic_write(out_dir / "grades.csv", gradebook_csv(bundle, names, results))


# --- Gradescope -------------------------------------------------------------------------------


def gradescope_json(result: SubmissionResult, *, hidden_visibility: str = "after_published"
                    ) -> dict[str, Any]:
    """Gradescope's results.json for one submission (see docs: tests, score, visibility)."""
    tests = []
    for question in result.questions:
        for check in question.checks:
            test: dict[str, Any] = {
                "name": f"{question.name}: {check.name}",
                "score": check.points,
                "max_score": check.max_points,
                "visibility": hidden_visibility if check.hidden else "visible",
                "output_format": "text",
            }
            if check.outcome == "skipped":
                test["output"] = f"Skipped: {check.message}. This check counts no points."
                test["name"] += " (skipped)"
            else:
                test["status"] = check.outcome
                test["output"] = check.message or ("Passed" if check.outcome == "passed"
                                                   else "Failed")
            tests.append(test)
    output = f"Status: {result.status}."
    if result.status != "graded":
        output += f" This submission could not be graded and scores 0: {result.message}"
    elif result.message:
        output += f" Notes: {result.message}"
    return {
        "score": result.score,
        "execution_time": round(result.duration),
        "output": output,
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


# --- feedback ---------------------------------------------------------------------------------


def feedback_markdown(result: SubmissionResult, *, show_hidden_scores: bool = False) -> str:
    """What the student may see, never test source: the score they may see, public checks with
    their messages, hidden checks by the policy (``--feedback-hidden-scores``): by default only
    how many there are and what they are worth; with it, their scores (never their messages).
    """
    lines = [f"# Feedback: {result.assignment}", ""]
    if result.status != "graded":
        lines += [f"**This submission could not be graded ({result.status}).** "
                  f"{result.message}", ""]
    elif result.message:
        lines += [f"Notes: {result.message}", ""]
    checks = [c for q in result.questions for c in q.checks]
    public = [c for c in checks if not c.hidden]
    hidden = [c for c in checks if c.hidden]
    public_score = (f"{_points(sum(c.points for c in public))} / "
                    f"{_points(sum(c.max_points for c in public))}")
    hidden_top = _points(sum(c.max_points for c in hidden))
    if show_hidden_scores:
        lines += [f"**Score: {_points(result.score)} / {_points(result.possible)}** (public "
                  f"checks {public_score}, hidden checks "
                  f"{_points(sum(c.points for c in hidden))} / {hidden_top})", ""]
    else:
        lines += [f"**Score on the public checks: {public_score}.** The {len(hidden)} hidden "
                  f"check(s), worth {hidden_top} points, are not shown here; your course "
                  "publishes the final score.", ""]
    for question in result.questions:
        question_public = [c for c in question.checks if not c.hidden]
        question_hidden = [c for c in question.checks if c.hidden]
        lines.append(f"## {question.name}")
        for check in question_public:
            mark = {"passed": "passed", "failed": "FAILED", "skipped": "skipped"}[check.outcome]
            line = f"- `{check.name}`: {mark} ({_points(check.points)}/"
            line += f"{_points(check.max_points)})"
            if check.message and check.outcome != "passed":
                line += f": {check.message}"
            lines.append(line)
        if question_hidden and show_hidden_scores:
            earned = sum(c.points for c in question_hidden)
            top = sum(c.max_points for c in question_hidden)
            skipped = sum(1 for c in question_hidden if c.outcome == "skipped")
            note = f", {skipped} skipped (needs a GPU)" if skipped else ""
            lines.append(f"- hidden checks: {_points(earned)}/{_points(top)}{note}")
        elif question_hidden:
            top = _points(sum(c.max_points for c in question_hidden))
            lines.append(f"- {len(question_hidden)} hidden check(s) worth {top} points: "
                         "scores not shown")
        lines.append("")
    return "\n".join(lines)


# --- one result's files -------------------------------------------------------------------


def write_result(out_dir: Path, result: SubmissionResult, fingerprint: str, *,
                 show_hidden_scores: bool = False) -> None:
    """Write the record first (resume reads it), then its renderings."""
    record = {"fingerprint": fingerprint, "result": result.to_json()}
    atomic_write(out_dir / RECORDS / f"{result.file_stem}.json", json.dumps(record, indent=1))
    render_result(out_dir, result, show_hidden_scores=show_hidden_scores)


def render_result(out_dir: Path, result: SubmissionResult, *,
                  show_hidden_scores: bool = False) -> None:
    """The files made from a record: Gradescope JSON and feedback."""
    atomic_write(out_dir / "results" / f"{result.file_stem}.json",
                 json.dumps(gradescope_json(result), indent=1))
    atomic_write(out_dir / "feedback" / f"{result.file_stem}.md",
                 feedback_markdown(result, show_hidden_scores=show_hidden_scores))


def read_result(out_dir: Path, stem: str, fingerprint: str) -> SubmissionResult | None:
    """A finished result from an earlier run of the same grading, or None. ``stem``: the
    file stem its files are named by."""
    path = out_dir / RECORDS / f"{stem}.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("fingerprint") != fingerprint:
            return None
        return SubmissionResult.from_json(record["result"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_results(out_dir: Path) -> list[SubmissionResult]:
    """Every finished result of an output folder, in gradebook order (for reports, exports)."""
    out_dir = Path(out_dir)
    order = {}
    gradebook = out_dir / "grades.csv"
    if gradebook.exists():
        with open(gradebook, newline="", encoding="utf-8") as handle:
            order = {row["submission"]: i for i, row in enumerate(csv.DictReader(handle))}
    results = []
    for path in sorted((out_dir / RECORDS).glob("*.json")):
        try:
            results.append(SubmissionResult.from_json(
                json.loads(path.read_text(encoding="utf-8"))["result"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(results, key=lambda r: (order.get(r.submission, len(order)), r.submission))
