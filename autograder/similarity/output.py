"""Write a comparison into its folder: ``similarity.csv`` (the pairs worth a look: every
flagged pair and the next ones down to ``LISTED_FRACTION`` of the threshold, most similar
first), ``not_compared.csv`` and ``similarity.html``."""

from __future__ import annotations

from pathlib import Path

from autograder.reports.output_folder import atomic_write, check_out_dir
from autograder.reports.similarity_table import (
    NOT_COMPARED_CSV,
    SIMILARITY_CSV,
    SIMILARITY_HTML,
    SimilarityRow,
    not_compared_csv,
    similarity_csv,
)
from autograder.similarity.compare import Comparison
from autograder.similarity.page import similarity_html
from autograder.similarity.scoring import PairScore

LISTED_FRACTION = 0.75  # pairs this close under the threshold are listed too, for context
LISTED_QUESTION = 0.1  # a question's score shown in the table from this up


def listed_pairs(comparison: Comparison) -> list[PairScore]:
    cut = LISTED_FRACTION * comparison.scores.threshold
    return [p for p in comparison.scores.pairs if p.similarity >= cut]


def _row(comparison: Comparison, pair: PairScore) -> SimilarityRow:
    questions = sorted(((q, v) for q, v in pair.questions.items() if v >= LISTED_QUESTION),
                       key=lambda item: -item[1])
    return SimilarityRow(a=comparison.sheets[pair.a].name, b=comparison.sheets[pair.b].name,
                         similarity=pair.similarity, questions=tuple(questions))


def write_similarity_report(comparison: Comparison, out_dir: Path) -> list[Path]:
    """The three files, written atomically; returns their paths."""
    check_out_dir(out_dir)
    listed = listed_pairs(comparison)
    files = {
        SIMILARITY_CSV: similarity_csv(_row(comparison, p) for p in listed),
        NOT_COMPARED_CSV: not_compared_csv(comparison.not_compared),
        SIMILARITY_HTML: similarity_html(comparison, listed),
    }
    for name, text in files.items():
        atomic_write(out_dir / name, text)
    return [out_dir / name for name in files]
