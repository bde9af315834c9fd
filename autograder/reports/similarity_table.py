"""The similarity report's tables: ``similarity.csv`` (pairs worth a look, most similar first)
and ``not_compared.csv`` (submissions left out, and why). Written by ``autograder
similarity``, read back by the HTML report of a grading folder that holds them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SIMILARITY_CSV = "similarity.csv"
NOT_COMPARED_CSV = "not_compared.csv"
SIMILARITY_HTML = "similarity.html"


@dataclass(frozen=True)
class SimilarityRow:
    a: str  # gradebook names
    b: str
    similarity: float  # in [0, 1]
    questions: tuple[tuple[str, float], ...]  # the questions that match, best first

    @property
    def questions_text(self) -> str:
        return ";".join(f"{q}:{score:.2f}" for q, score in self.questions)


def similarity_csv(rows: Iterable[SimilarityRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["a", "b", "similarity", "questions"])
    for row in rows:
        writer.writerow([row.a, row.b, f"{row.similarity:.3f}", row.questions_text])
    return out.getvalue()


def not_compared_csv(rows: Iterable[tuple[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["submission", "reason"])
    writer.writerows(rows)
    return out.getvalue()


def _questions(text: str) -> tuple[tuple[str, float], ...]:
    found = []
    for item in filter(None, text.split(";")):
        question, _, score = item.rpartition(":")
        found.append((question, float(score)))
    return tuple(found)


def read_similarity_csv(path: Path) -> list[SimilarityRow]:
    """The rows of a ``similarity.csv``; ``ValueError`` for a file that is not one."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or \
                not {"a", "b", "similarity", "questions"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: not a similarity table (columns a,b,similarity,"
                             "questions)")
        return [SimilarityRow(a=r["a"], b=r["b"], similarity=float(r["similarity"]),
                              questions=_questions(r["questions"] or "")) for r in reader]
