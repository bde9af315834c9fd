"""``similarity.html``: one self-contained page (inline CSS, the histogram as a base64 PNG)
with the ranked pairs, the histogram of all pair scores with the threshold marked, and, for
each flagged pair, the two students' answers side by side, question by question, with the
matching lines highlighted. Everything a student wrote is HTML-escaped."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
from matplotlib import style

from autograder.reports.html import CSS, PLOT_STYLE, new_figure, png_base64
from autograder.similarity.compare import Comparison
from autograder.similarity.scoring import HISTOGRAM_BINS, PairScore, rare_weight

EXPLANATION = (
    "Each question scores from 0 to 1: how much of the two answers' own code matches (after "
    "removing what the release gave, with names, comments, spacing and literals ignored), "
    "each matching passage counted by how few classmates wrote it, so code most of the class "
    "wrote counts little and code only these two wrote counts fully. The pair's similarity is "
    "the mean over the questions, and an answer matching together with the answer before it "
    "counts more, so several questions shared together weigh more than one.")
VERDICT = ("A high score is evidence for a person to read, never a verdict: students who "
           "worked from the same example, or the reference, can match honestly.")
DISPLAY_BINS = 50


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def histogram_png(histogram: np.ndarray, threshold: float) -> str:
    """All pair scores in DISPLAY_BINS bins (log scale: most pairs share little), the
    threshold as a vertical line."""
    counts = histogram.reshape(DISPLAY_BINS, HISTOGRAM_BINS // DISPLAY_BINS).sum(axis=1)
    edges = np.linspace(0, 1, DISPLAY_BINS + 1)
    with style.context(PLOT_STYLE):
        fig = new_figure(7.2, 2.6)
        ax = fig.add_subplot()
        ax.bar(edges[:-1], counts, width=1 / DISPLAY_BINS, align="edge", color="#4a72b0")
        ax.axvline(threshold, color="#d1495b", linestyle="--", linewidth=1.2)
        ax.annotate(f"flagged at {threshold:.2f}", (threshold, 1), xytext=(4, -12),
                    xycoords=("data", "axes fraction"), textcoords="offset points",
                    color="#d1495b", fontsize=8)
        if counts.any():  # a log scale needs a pair; a class of one has none
            ax.set_yscale("log")
            ax.set_ylim(0.8, max(10, int(counts.max()) * 2))
        ax.set_xlim(0, 1)
        ax.set_xlabel("similarity of a pair")
        ax.set_ylabel("pairs")
        return png_base64(fig)


def _highlighted(text: str, marks: dict[int, str]) -> str:
    """``text`` line by line, each marked line in a span of its class."""
    out = []
    for number, line in enumerate(text.splitlines() or [""]):
        kind = marks.get(number)
        escaped = _e(line) or " "
        out.append(f'<span class="{kind}">{escaped}</span>' if kind else escaped)
    return "\n".join(out)


def _marks(comparison: Comparison, pair: PairScore, question: str,
           side: int) -> dict[int, str]:
    """Line -> ``rare`` or ``common``: the lines of ``side``'s answer that a fingerprint shared
    with the other side covers (rare: shared by few; common: by many)."""
    sheets = comparison.sheets
    mine, theirs = sheets[side].prints.get(question, []), \
        sheets[pair.b if side == pair.a else pair.a].prints.get(question, [])
    shared = {fp.hash for fp in theirs}
    weights = comparison.scores.weights.get(question, {})
    rare = rare_weight(len(sheets))
    marks: dict[int, str] = {}
    own = set(sheets[side].answers[question].own_lines)
    for fp in mine:
        if fp.hash not in shared or fp.first_line < 0:
            continue
        kind = "rare" if weights.get(fp.hash, 0.0) >= rare / 2 else "common"
        for line in range(fp.first_line, fp.last_line + 1):
            if marks.get(line) != "rare":
                marks[line] = kind
    for line in set(range(len(sheets[side].answers[question].text.splitlines()))) - own:
        marks[line] = "given"
    return marks


def pair_section(comparison: Comparison, pair: PairScore, anchor: str) -> str:
    a, b = comparison.sheets[pair.a], comparison.sheets[pair.b]
    out = [f'<section class="pair" id="{anchor}"><h3>{_e(a.name)} · {_e(b.name)} '
           f'<span class="score">similarity {pair.similarity:.2f}</span></h3>']
    for question, score in sorted(pair.questions.items(), key=lambda item: -item[1]):
        if score < 0.05:
            continue
        out.append(f'<h4>{_e(question)} <span class="score">{score:.2f}</span></h4>'
                   '<div class="side-by-side">')
        for side in (pair.a, pair.b):
            sheet = comparison.sheets[side]
            code = _highlighted(sheet.answers[question].text,
                                _marks(comparison, pair, question, side))
            out.append(f'<div class="answer"><div class="who">{_e(sheet.name)}</div>'
                       f"<pre>{code}</pre></div>")
        out.append("</div>")
    out.append('<p class="top"><a href="#top">back to top</a></p></section>')
    return "\n".join(out)


def pairs_table(comparison: Comparison, pairs: Sequence[PairScore],
                anchors: dict[tuple[int, int], str]) -> str:
    if not pairs:
        return '<p class="note">No pair shares more than chance and common code explain.</p>'
    threshold = comparison.scores.threshold
    out = ['<table class="pairs"><thead><tr><th class="num">#</th><th>a</th><th>b</th>'
           '<th class="num">similarity</th><th>questions (score)</th></tr></thead><tbody>']
    for rank, pair in enumerate(pairs, 1):
        a, b = comparison.sheets[pair.a].name, comparison.sheets[pair.b].name
        flagged = pair.similarity >= threshold
        link = anchors.get((pair.a, pair.b))
        score = f'<a href="#{link}">{pair.similarity:.3f}</a>' if link else \
            f"{pair.similarity:.3f}"
        questions = ", ".join(f"{_e(q)} {v:.2f}" for q, v in
                              sorted(pair.questions.items(), key=lambda item: -item[1])
                              if v >= 0.1)
        out.append(f'<tr class="{"flagged" if flagged else "muted"}"><td class="num">{rank}</td>'
                   f"<td>{_e(a)}</td><td>{_e(b)}</td><td class=\"num\">{score}</td>"
                   f"<td>{questions}</td></tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def not_compared_table(rows: Sequence[tuple[str, str]]) -> str:
    if not rows:
        return '<p class="note">Every submission was compared.</p>'
    body = "".join(f"<tr><td>{_e(name)}</td><td>{_e(reason)}</td></tr>" for name, reason in rows)
    return (f'<table class="not-compared"><thead><tr><th>submission</th><th>why not compared'
            f"</th></tr></thead><tbody>{body}</tbody></table>")


def similarity_html(comparison: Comparison, listed: Sequence[PairScore]) -> str:
    scores = comparison.scores
    flagged = [p for p in listed if p.similarity >= scores.threshold]
    anchors = {(p.a, p.b): f"pair-{n}" for n, p in enumerate(flagged, 1)}
    summary = (f"{len(comparison.sheets)} submissions compared (the reference solution among "
               f"them), {scores.pair_count} pairs, {len(flagged)} flagged at similarity ≥ "
               f"{scores.threshold:.2f} (what pairs of this class reach by chance about once "
               f"in four classes); {len(comparison.not_compared)} not compared.")
    sections = [
        ("how", "How the score is made",
         f'<p>{_e(EXPLANATION)}</p><p class="warning">{_e(VERDICT)}</p>'
         f'<p class="note">{_e(summary)}</p>'),
        ("pairs", "Pairs worth a look, most similar first",
         pairs_table(comparison, listed, anchors)),
        ("histogram", "All pairs",
         f'<img class="plot" src="data:image/png;base64,'
         f'{histogram_png(scores.histogram, scores.threshold)}" '
         'alt="histogram of pair similarities, threshold marked" width="720">'),
        ("flagged", "Flagged pairs, answer by answer",
         '<p class="note">Highlighted: lines that match the other answer (dark: code few '
         'classmates wrote; light: common code); grey: what the release gave.</p>' +
         ("\n".join(pair_section(comparison, p, anchors[(p.a, p.b)]) for p in flagged)
          or '<p class="note">No pair flagged.</p>')),
        ("not-compared", "Not compared", not_compared_table(comparison.not_compared)),
    ]
    nav = " ".join(f'<a href="#{key}">{_e(title)}</a>' for key, title, _ in sections)
    body = "\n".join(f'<section id="{key}"><h2>{_e(title)}</h2>\n{content}\n</section>'
                     for key, title, content in sections)
    title = f"Similarity: {_e(comparison.assignment)}"
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n<style>{CSS}{PAGE_CSS}</style>\n</head>\n"
            f'<body id="top">\n<header><h1>{title}</h1>\n<nav>{nav}</nav></header>\n'
            f"<main>\n{body}\n</main>\n</body>\n</html>\n")


PAGE_CSS = """
section.pair { border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px;
  margin: 14px 0; }
section.pair .score, h4 .score { font-weight: 400; color: var(--muted); margin-left: 6px; }
h4 { margin: 12px 0 4px; }
.side-by-side .answer { flex: 1 1 0; min-width: 280px; }
.answer .who { color: var(--muted); font-size: 12px; margin-bottom: 2px; }
.answer pre { background: var(--bg-alt); padding: 6px 8px; border-radius: 4px; }
span.rare { background: #f4a7b2; }
span.common { background: #fbe3c0; }
span.given { color: #9aa1a9; }
table.pairs tr.flagged td { font-weight: 600; }
"""
