"""The similarity report at scale: a synthetic class of 01-tensors (``tests/synthetic_class``:
honest students converging on a few right answers per question, three planted copies), timed
from the submissions on disk to the written report.

Prints the submissions, the pairs scored, the seconds and the peak memory (resident size of
this process, and how much the report added to it), and the planted pairs' ranks against the
best honest pair. Exits 1 past SIMILARITY_SECONDS. Part of ``make bench``; alone:

    .venv/bin/python bench/similarity_bench.py          # SIMILARITY_N=1000 honest students
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from synthetic_class import build_class  # noqa: E402

from autograder.authoring.release import build_release  # noqa: E402
from autograder.similarity.compare import compare_submissions  # noqa: E402
from autograder.similarity.output import write_similarity_report  # noqa: E402

SIMILARITY_SECONDS = 60.0


def _peak_mb() -> float:
    """This process's peak resident size so far (torch and the release's imports included)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_similarity(honest: int) -> bool:
    """Times one report of ``honest`` students (plus the planted copies); True when in time."""
    release = build_release(ROOT / "assignments" / "01-tensors", student_root=ROOT / "student",
                            dist_root=ROOT / "dist")
    with tempfile.TemporaryDirectory(prefix="similarity-bench-") as tmp:
        made = build_class(release.student_notebook, release.solution, Path(tmp) / "class",
                           honest)
        before_mb = _peak_mb()
        began = time.perf_counter()
        comparison = compare_submissions(release.bundle, release.student_notebook,
                                         release.solution, [made.folder])
        write_similarity_report(comparison, Path(tmp) / "out")
        seconds = time.perf_counter() - began
    peak_mb = _peak_mb()
    names = [s.name for s in comparison.sheets]
    ranked = [frozenset((names[p.a], names[p.b])) for p in comparison.scores.pairs]
    planted = {frozenset(pair): what for what, pair in made.planted.items()}
    best_honest = next(p for p in comparison.scores.pairs
                       if frozenset((names[p.a], names[p.b])) not in planted)
    print(f"\nsimilarity report: {len(names)} submissions compared, "
          f"{comparison.scores.pair_count} pairs, {seconds:.1f} s "
          f"(limit {SIMILARITY_SECONDS:.0f} s), peak memory {peak_mb:.0f} MB "
          f"({peak_mb - before_mb:.0f} MB more than before the report); "
          f"{len(comparison.scores.flagged)} flagged at {comparison.scores.threshold:.3f}")
    for pair in comparison.scores.pairs:
        key = frozenset((names[pair.a], names[pair.b]))
        if key in planted:
            print(f"  {planted[key]}: rank {ranked.index(key) + 1}, {pair.similarity:.3f}")
    print(f"  best honest pair: {best_honest.similarity:.3f}")
    return seconds <= SIMILARITY_SECONDS


def main() -> int:
    return 0 if bench_similarity(int(os.environ.get("SIMILARITY_N", "1000"))) else 1


if __name__ == "__main__":
    sys.exit(main())
