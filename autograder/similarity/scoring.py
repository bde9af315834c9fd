"""Scores of pairs of students, question by question, weighing shared code by its rarity.

For each question, a fingerprint that ``df`` of the ``n`` compared students share weighs
``idf = ln((n + 1) / df)``: shared by two, it weighs most; shared by everyone, almost nothing.
A pair's score on a question is, in [0, 1]:

    match  = weight of the fingerprints both answers hold / weight of the smaller answer's
    rarity = mean weight of the shared fingerprints (each counted by its weight, so code
             everyone has does not dilute it) / the weight of one shared by two
    length = min(1, shared fingerprints / MIN_SHARED)      a one-liner is thin evidence
    score  = match * rarity * length

and the pair's similarity is the mean over the assignment's questions, so sharing several
questions counts more than one. A question's fingerprints also hold one for its answer
together with the previous question's (``compare.RUN``): shared, it adds the rarity of that
combination; unshared, it takes nothing away (the match is measured against code only).

Every pair is scored, not only the pairs that share a rare fingerprint (the inverted-index
shortcut): a copy made of answers a third of the class also wrote shares no rare fingerprint
and is told from chance only by how many questions it shares. Pairs are scored in blocks of
rows with sparse products, so memory grows with the students, never with the pairs; only the
histogram of all scores and the best ``KEPT_PAIRS`` pairs are kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from autograder.similarity.answers import Answer
from autograder.similarity.fingerprints import Fingerprint

MIN_SHARED = 3  # fingerprints: fewer shared is a short passage, counted in proportion
KEPT_PAIRS = 200  # the best pairs kept for the report
BLOCK_ROWS = 256  # students scored against everyone at a time: memory BLOCK_ROWS x n
HISTOGRAM_BINS = 1000  # of [0, 1]: the class's median and spread are read from it
FLOOR = 0.1  # never flagged below: a tenth of the answers matching, rarity-weighted
SMALL_CLASS_THRESHOLD = 0.5  # under 5 students, what few wrote is not rare: half must match
CHANCE_PER_CLASS = 0.25  # flagged: what pairs reach by chance once in four classes


@dataclass(frozen=True)
class Sheet:
    """One compared submission: its gradebook name, answers and their fingerprints."""

    name: str
    answers: dict[str, Answer]
    prints: dict[str, list[Fingerprint]]


@dataclass(frozen=True)
class PairScore:
    a: int  # indexes into the sheets
    b: int
    similarity: float
    questions: dict[str, float]  # question -> its score, for the questions that score


@dataclass(frozen=True)
class ClassScores:
    questions: tuple[str, ...]
    pairs: tuple[PairScore, ...]  # the best pairs, highest first
    pair_count: int
    histogram: np.ndarray  # counts of all pair scores in HISTOGRAM_BINS bins of [0, 1]
    threshold: float  # flagged at or above
    weights: dict[str, dict[int, float]]  # question -> fingerprint hash -> idf, if shared

    @property
    def flagged(self) -> tuple[PairScore, ...]:
        return tuple(p for p in self.pairs if p.similarity >= self.threshold)


def question_score(shared_weight: np.ndarray, shared_squares: np.ndarray,
                   shared_count: np.ndarray, total_a: np.ndarray, total_b: np.ndarray,
                   rare_weight: float) -> np.ndarray:
    """The module docstring's per-question score, for arrays of pairs (or scalars):
    ``shared_weight``, ``shared_squares``, ``shared_count``: the sum of the shared
    fingerprints' weights, of their squares, and their number."""
    with np.errstate(divide="ignore", invalid="ignore"):
        smaller = np.minimum(total_a, total_b)
        match = np.where(smaller > 0, shared_weight / smaller, 0.0)
        mean_weight = np.where(shared_weight > 0, shared_squares / shared_weight, 0.0)
    rarity = np.clip(mean_weight / rare_weight, 0.0, 1.0)
    length = np.minimum(1.0, shared_count / MIN_SHARED)
    return np.clip(match, 0.0, 1.0) * rarity * length


@dataclass(frozen=True)
class _Question:
    name: str
    members: sparse.csr_matrix  # students x shared fingerprints, 1 where held
    weighted: sparse.csr_matrix  # the same, times each fingerprint's weight
    squared: sparse.csr_matrix  # the same, times its square
    totals: np.ndarray  # each student's total weight on the question (unshared included)
    weights: dict[int, float]  # shared fingerprint hash -> weight


def _question(name: str, sheets: Sequence[Sheet]) -> _Question:
    n = len(sheets)
    held = [{fp.hash for fp in sheet.prints.get(name, [])} for sheet in sheets]
    df: dict[int, int] = {}
    for hashes in held:
        for h in hashes:
            df[h] = df.get(h, 0) + 1
    weight = {h: math.log((n + 1) / d) for h, d in df.items()}
    # Answers shared together with the ones before them (``compare.RUN``) only add evidence:
    # the answer's own weight, against which the match is measured, is its code's.
    totals = np.array([sum(weight[fp.hash] for fp in set(sheet.prints.get(name, []))
                           if fp.first_line >= 0) for sheet in sheets])
    column = {h: i for i, h in enumerate(h for h, d in df.items() if d >= 2)}
    rows = [r for r, hashes in enumerate(held) for h in hashes if h in column]
    cols = [column[h] for hashes in held for h in hashes if h in column]
    members = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, len(column)))
    column_weight = np.zeros(len(column))
    for h, i in column.items():
        column_weight[i] = weight[h]
    weighted = sparse.csr_matrix(members.multiply(column_weight[np.newaxis, :]))
    squared = sparse.csr_matrix(members.multiply(column_weight[np.newaxis, :] ** 2))
    return _Question(name, members, weighted, squared, totals,
                     {h: weight[h] for h in column})


def rare_weight(n: int) -> float:
    """The weight of a fingerprint only two of ``n`` students hold."""
    return max(math.log((n + 1) / 2), 1e-9)  # one student alone has no pair: never 0


def _quantile(histogram: np.ndarray, pair_count: int, fraction: float) -> float:
    """The score below which ``fraction`` of the pairs lie (to the histogram's bin)."""
    index = int(np.searchsorted(np.cumsum(histogram), fraction * pair_count))
    return min(1.0, (index + 1) / HISTOGRAM_BINS)


def _threshold(histogram: np.ndarray, pair_count: int) -> float:
    """The score that pairs of this class reach by chance about once in four classes.

    The upper tail of the scores of pairs that did not copy falls off exponentially (each
    score sums many small, independent coincidences), so the tail is extrapolated from the
    distance between two upper quantiles (the top 1% and top 0.1% in a class of 45 or more):
    each further tenfold rarer score lies that much higher. Never under FLOOR; in a class
    too small to have a tail, SMALL_CLASS_THRESHOLD."""
    if pair_count < 10:
        return SMALL_CLASS_THRESHOLD
    decades = min(3, int(math.log10(pair_count)))
    lower = _quantile(histogram, pair_count, 1 - 10.0 ** -(decades - 1))
    upper = _quantile(histogram, pair_count, 1 - 10.0 ** -decades)
    spacing = max(upper - lower, 1 / HISTOGRAM_BINS)
    needed = math.log10(pair_count / CHANCE_PER_CLASS)
    return min(1.0, max(FLOOR, upper + (needed - decades) * spacing))


def score_class(sheets: Sequence[Sheet], questions: Sequence[str]) -> ClassScores:
    n = len(sheets)
    parsed = [_question(q, sheets) for q in questions]
    rare = rare_weight(n)
    histogram = np.zeros(HISTOGRAM_BINS, dtype=np.int64)
    best_scores = np.zeros(0)
    best_a = np.zeros(0, dtype=np.int64)
    best_b = np.zeros(0, dtype=np.int64)
    for start in range(0, n, BLOCK_ROWS):
        stop = min(n, start + BLOCK_ROWS)
        total = np.zeros((stop - start, n))
        for q in parsed:
            shared_weight = (q.weighted[start:stop] @ q.members.T).toarray()
            shared_squares = (q.squared[start:stop] @ q.members.T).toarray()
            shared_count = (q.members[start:stop] @ q.members.T).toarray()
            total += question_score(shared_weight, shared_squares, shared_count,
                                    q.totals[start:stop, np.newaxis], q.totals[np.newaxis, :],
                                    rare)
        similarity = total / max(1, len(parsed))
        rows, cols = np.nonzero(np.arange(n)[np.newaxis, :] > np.arange(start, stop)[:, np.newaxis])
        scores = similarity[rows, cols]
        histogram += np.bincount(np.minimum((scores * HISTOGRAM_BINS).astype(np.int64),
                                            HISTOGRAM_BINS - 1), minlength=HISTOGRAM_BINS)
        best_scores = np.concatenate([best_scores, scores])
        best_a = np.concatenate([best_a, rows + start])
        best_b = np.concatenate([best_b, cols])
        if len(best_scores) > KEPT_PAIRS:
            keep = np.argpartition(-best_scores, KEPT_PAIRS)[:KEPT_PAIRS]
            best_scores, best_a, best_b = best_scores[keep], best_a[keep], best_b[keep]
    pair_count = n * (n - 1) // 2
    found = [_pair(int(a), int(b), sheets, parsed, rare)
             for a, b, score in zip(best_a, best_b, best_scores, strict=True) if score > 0]
    pairs = tuple(sorted(found, key=lambda p: (-p.similarity, sheets[p.a].name,
                                               sheets[p.b].name)))
    return ClassScores(questions=tuple(questions), pairs=pairs, pair_count=pair_count,
                       histogram=histogram, threshold=_threshold(histogram, pair_count),
                       weights={q.name: q.weights for q in parsed})


def _pair(a: int, b: int, sheets: Sequence[Sheet], parsed: Sequence[_Question],
          rare: float) -> PairScore:
    """One pair's scores, question by question (the same formula, from their fingerprints)."""
    per_question = {}
    for q in parsed:
        shared = {fp.hash for fp in sheets[a].prints.get(q.name, [])} & \
            {fp.hash for fp in sheets[b].prints.get(q.name, [])}
        weights = [q.weights[h] for h in shared]
        score = float(question_score(np.array(sum(weights)),
                                     np.array(sum(w * w for w in weights)),
                                     np.array(float(len(weights))), q.totals[a], q.totals[b],
                                     rare))
        if score > 0:
            per_question[q.name] = score
    similarity = sum(per_question.values()) / max(1, len(parsed))
    return PairScore(a=a, b=b, similarity=similarity, questions=per_question)
