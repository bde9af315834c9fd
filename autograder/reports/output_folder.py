"""An output folder: where each result and its renderings are written, and read back.

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
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from autograder.bundle import Bundle
from autograder.errors import AutograderError
from autograder.reports.feedback import feedback_markdown
from autograder.reports.gradebook import gradebook_csv
from autograder.reports.gradescope_json import gradescope_json
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



def write_gradebook(out_dir: Path, bundle: Bundle, names: Sequence[str],
                    results: Mapping[int, SubmissionResult]) -> None:
    atomic_write(out_dir / "grades.csv", gradebook_csv(bundle, names, results))


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
