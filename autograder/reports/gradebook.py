"""The gradebook: one CSV row per submission, by name, with a column per question."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from autograder.bundle import Bundle
from autograder.results import SubmissionResult, points_text


def gradebook_csv(bundle: Bundle, names: Sequence[str],
                  results: Mapping[int, SubmissionResult]) -> str:
    """One row per submission, in batch order; ``names``: the gradebook names (for the
    rows still pending)."""
    questions = [q.name for q in bundle.questions]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["submission", "status", "score", "possible", "percent", *questions,
                     "message"])
    possible = points_text(sum(q.points for q in bundle.questions))
    for index, name in enumerate(names):
        result = results.get(index)
        if result is None:
            writer.writerow([name, "pending", "", possible, "", *[""] * len(questions), ""])
            continue
        by_name = {q.name: q.score for q in result.questions}
        writer.writerow([name, result.status, points_text(result.score),
                         points_text(result.possible), f"{result.percent:.1f}",
                         *[points_text(by_name.get(q, 0.0)) for q in questions],
                         result.message.replace("\n", " ")[:500]])
    return out.getvalue()
