"""The instructor's HTML report of a grading output folder: ``OUT/report.html``.

One self-contained page: class summary, a histogram of total scores, per-question score
distributions, a per-check failure table (most failed first), a class table and one section
per submission with every check, hidden ones included. CSS is inline and the plots are
base64 PNGs, so the file opens offline and can be mailed as is. Everything shown is
HTML-escaped: messages carry what student code printed or raised.

Building the report twice from the same folder gives the same bytes: figures have fixed
sizes, PNGs carry no timestamp or version, and the page has no build date.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import style
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from autograder.errors import AutograderError
from autograder.reports.output_folder import RECORDS, atomic_write, load_results
from autograder.reports.similarity_table import (
    SIMILARITY_CSV,
    SIMILARITY_HTML,
    SimilarityRow,
    read_similarity_csv,
)
from autograder.results import STATUSES, QuestionResult, SubmissionResult, points_text

REPORT_NAME = "report.html"
DPI = 200  # PNGs at twice their displayed size (100 px per inch): sharp on HiDPI screens
TOP_MESSAGES = 3
MESSAGE_CHARS = 300  # of one message in the failure table; submission sections show it whole
LOG_CHARS = 4000  # tail of the captured output shown per submission

# Question outcome classes, in the order of the stacked bars and the legend.
LEVELS = ("full", "partial", "zero", "unscored")
LEVEL_LABELS = {"full": "full marks", "partial": "partial", "zero": "zero",
                "unscored": "no points possible (skipped)"}
COLORS = {"full": "#4c9a5b", "partial": "#e3a33b", "zero": "#d1495b", "unscored": "#b8b8b8",
          "graded": "#4a72b0", "ungraded": "#b8b8b8"}
# Matplotlib's defaults (not the user's matplotlibrc) plus these: the same pixels anywhere.
PLOT_STYLE: list[str | dict[str, Any]] = ["default", {
    "font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
    "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
}]


# --- statistics -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckStats:
    """One check (question + test function) across the graded submissions."""

    question: str
    check: str
    hidden: bool
    ran: int  # graded submissions where it passed or failed (not skipped)
    failed: int
    skipped: int
    top_messages: tuple[tuple[str, int], ...]  # most common failure messages, with counts

    @property
    def failure_rate(self) -> float:
        return self.failed / self.ran if self.ran else 0.0


@dataclass(frozen=True)
class QuestionStats:
    """One question across the graded submissions: how many got full, partial, zero."""

    name: str
    possible: float
    counts: dict[str, int]  # level (see LEVELS) -> number of submissions
    mean_score: float


def question_level(question: QuestionResult) -> str:
    if question.possible == 0:
        return "unscored"
    if question.score >= question.possible:
        return "full"
    return "zero" if question.score == 0 else "partial"


def question_names(results: Sequence[SubmissionResult]) -> list[str]:
    names: dict[str, None] = {}
    for result in results:
        names.update((q.name, None) for q in result.questions)
    return list(names)


def question_stats(results: Sequence[SubmissionResult]) -> list[QuestionStats]:
    """Over graded submissions only: the others ran no test and would read as zeros."""
    graded = [r for r in results if r.status == "graded"]
    stats = []
    for name in question_names(graded):
        found = [q for r in graded for q in r.questions if q.name == name]
        counts = Counter(question_level(q) for q in found)
        stats.append(QuestionStats(
            name=name, possible=max(q.possible for q in found),
            counts={level: counts.get(level, 0) for level in LEVELS},
            mean_score=statistics.fmean(q.score for q in found)))
    return stats


def check_stats(results: Sequence[SubmissionResult]) -> list[CheckStats]:
    """Every check of the graded submissions, most failed first (rate, then count, then the
    assignment's order). Ungraded submissions are left out: they ran no check."""
    graded = [r for r in results if r.status == "graded"]
    order: dict[tuple[str, str], list] = {}
    for result in graded:
        for question in result.questions:
            for check in question.checks:
                order.setdefault((question.name, check.name), []).append(check)
    stats = []
    for (question_name, name), checks in order.items():
        failures = Counter(c.message.strip() or "(no message)" for c in checks
                           if c.outcome == "failed")
        top = sorted(failures.items(), key=lambda item: (-item[1], item[0]))[:TOP_MESSAGES]
        skipped = sum(c.outcome == "skipped" for c in checks)
        stats.append(CheckStats(
            question=question_name, check=name, hidden=any(c.hidden for c in checks),
            ran=len(checks) - skipped, failed=sum(failures.values()), skipped=skipped,
            top_messages=tuple(top)))
    position = {key: i for i, key in enumerate(order)}
    return sorted(stats, key=lambda s: (-s.failure_rate, -s.failed,
                                        position[(s.question, s.check)]))


def pending_submissions(out_dir: Path, results: Iterable[SubmissionResult]) -> list[str]:
    """Rows of grades.csv without a finished result (an interrupted or running batch)."""
    gradebook = Path(out_dir) / "grades.csv"
    if not gradebook.exists():
        return []
    done = {r.submission for r in results}
    with open(gradebook, newline="", encoding="utf-8") as handle:
        return [row["submission"] for row in csv.DictReader(handle)
                if row.get("submission") and row["submission"] not in done]


# --- plots ------------------------------------------------------------------------------------


def png_base64(fig: Figure) -> str:
    """The figure as base64 PNG, without the metadata that would change between versions."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)  # the Agg backend, set per figure: no pyplot, no global state
    return fig


def score_histogram_png(results: Sequence[SubmissionResult]) -> str:
    """Total percent in ten bins of 10 points (100% in the last), graded and not stacked."""
    edges = np.linspace(0, 100, 11)
    graded = np.histogram([r.percent for r in results if r.status == "graded"], edges)[0]
    other = np.histogram([r.percent for r in results if r.status != "graded"], edges)[0]
    with style.context(PLOT_STYLE):
        fig = new_figure(7.2, 2.6)
        ax = fig.add_subplot()
        centers = edges[:-1] + 5
        ax.bar(centers, graded, width=9.2, color=COLORS["graded"], label="graded")
        if other.any():
            ax.bar(centers, other, width=9.2, bottom=graded, color=COLORS["ungraded"],
                   label="not graded (scored 0)")
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, 1.18), ncols=2, frameon=False)
        totals = graded + other
        for x, total in zip(centers, totals, strict=True):
            if total:
                ax.annotate(str(total), (x, total), xytext=(0, 2), textcoords="offset points",
                            ha="center", va="bottom", fontsize=8)
        ax.set_xlim(0, 100)
        ax.set_xticks(edges, [f"{e:g}%" for e in edges])
        ax.set_ylim(0, max(1, totals.max()) * 1.18)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("total score")
        ax.set_ylabel("submissions")
        return png_base64(fig)


def question_chart_png(stats: Sequence[QuestionStats]) -> str:
    """One stacked bar per question: graded submissions with full, partial, zero points."""
    names = [s.name for s in stats]
    x = np.arange(len(names))
    with style.context(PLOT_STYLE):
        fig = new_figure(min(12.0, max(5.0, 1.4 + 0.5 * len(names))), 2.8)
        ax = fig.add_subplot()
        bottom = np.zeros(len(names))
        levels = [lv for lv in LEVELS if lv != "unscored" or any(s.counts[lv] for s in stats)]
        for level in levels:
            counts = np.array([s.counts[level] for s in stats])
            ax.bar(x, counts, width=0.7, bottom=bottom, color=COLORS[level],
                   label=LEVEL_LABELS[level])
            bottom += counts
        ax.set_xticks(x, names)
        ax.set_xlim(-0.6, len(names) - 0.4)
        ax.set_ylim(0, max(1.0, bottom.max()))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("graded submissions")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, 1.2), ncols=len(levels),
                  frameon=False)
        return png_base64(fig)


def _img(png: str, alt: str, width: float) -> str:
    return (f'<img class="plot" src="data:image/png;base64,{png}" alt="{_e(alt)}" '
            f'width="{round(width * 100)}">')


# --- HTML -------------------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _percent(value: float) -> str:
    return f"{value:.1f}%"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def anchors(results: Sequence[SubmissionResult]) -> dict[str, str]:
    """Submission -> a unique fragment id made of safe characters (stems can be anything)."""
    taken: set[str] = set()
    out = {}
    for result in results:
        base = "sub-" + (re.sub(r"[^A-Za-z0-9_.-]+", "_", result.submission) or "_")
        anchor, n = base, 2
        while anchor in taken:
            anchor, n = f"{base}-{n}", n + 1
        taken.add(anchor)
        out[result.submission] = anchor
    return out


def _badge(kind: str, text: str | None = None) -> str:
    return f'<span class="badge {_e(kind)}">{_e(text or kind)}</span>'


def summary_html(results: Sequence[SubmissionResult], pending: Sequence[str]) -> str:
    graded = [r for r in results if r.status == "graded"]
    possible = max((r.possible for r in results), default=0.0)
    counts = Counter(r.status for r in results)
    cards = [("submissions", str(len(results) + len(pending))), ("graded", str(len(graded))),
             ("mean", _percent(statistics.fmean(r.percent for r in results))),
             ("median", _percent(statistics.median(r.percent for r in results))),
             ("points possible", points_text(possible))]
    out = ['<div class="cards">']
    out += [f'<div class="card"><div class="value">{_e(v)}</div><div class="label">{_e(k)}'
            '</div></div>' for k, v in cards]
    out.append("</div>")
    out.append('<div class="side-by-side"><table class="status-counts"><thead><tr>'
               '<th>status</th><th class="num">submissions</th></tr></thead><tbody>')
    rows: list[tuple[str, int]] = [(s, counts.get(s, 0)) for s in STATUSES]
    if pending:
        rows.append(("pending", len(pending)))
    for status, count in rows:
        muted = "" if count else ' class="muted"'
        out.append(f'<tr id="status-{_e(status)}"{muted}><td>{_badge(status)}</td>'
                   f'<td class="num">{count}</td></tr>')
    out.append("</tbody></table>")
    out.append('<table class="score-stats"><thead><tr><th></th><th class="num">n</th>'
               '<th class="num">mean score</th><th class="num">median score</th>'
               '<th class="num">mean %</th><th class="num">median %</th></tr></thead><tbody>')
    groups = [("all submissions (not graded = 0)", results), ("graded only", graded)]
    for label, group in groups:
        if not group:
            out.append(f'<tr><th>{_e(label)}</th><td class="num">0</td>'
                       '<td colspan="4" class="muted">none</td></tr>')
            continue
        scores, percents = [r.score for r in group], [r.percent for r in group]
        out.append(
            f'<tr><th>{_e(label)}</th><td class="num">{len(group)}</td>'
            f'<td class="num">{statistics.fmean(scores):.2f}</td>'
            f'<td class="num">{points_text(statistics.median(scores))}</td>'
            f'<td class="num">{_percent(statistics.fmean(percents))}</td>'
            f'<td class="num">{_percent(statistics.median(percents))}</td></tr>')
    out.append("</tbody></table></div>")
    if pending:
        out.append(f'<p class="note">{len(pending)} submission(s) in grades.csv have no result '
                   f'yet (pending): {_e(", ".join(pending))}. Run the same grade command again '
                   "to finish them.</p>")
    return "\n".join(out)


def questions_html(stats: Sequence[QuestionStats], ungraded: int) -> str:
    if not stats:
        return '<p class="note">No submission was graded, so no question has scores.</p>'
    width = min(12.0, max(5.0, 1.4 + 0.5 * len(stats)))
    graded = sum(stats[0].counts.values())
    out = [_img(question_chart_png(stats), "per-question score distribution", width)]
    note = f"Over the {graded} graded submission(s)"
    if ungraded:
        note += f"; the {ungraded} not graded are left out (they ran no test)"
    out.append(f'<p class="note">{note}. Mean score per question is in the class table\'s '
               "last row.</p>")
    nobody = [s.name for s in stats if s.possible and s.counts["full"] == 0]
    if nobody:
        out.append(f'<p class="warning">Nobody got full marks on: {_e(", ".join(nobody))}.</p>')
    return "\n".join(out)


def checks_html(stats: Sequence[CheckStats], ungraded: int) -> str:
    if not stats:
        return '<p class="note">No submission was graded, so no check ran.</p>'
    note = "Over the graded submissions, most failed first."
    if ungraded:
        note += f" The {ungraded} not graded are left out (they ran no check)."
    out = [f'<p class="note">{note}</p>',
           '<div class="scroll"><table class="checks"><thead><tr><th>#</th><th>question</th>'
           '<th>check</th><th>visibility</th><th class="num">failed</th><th>failure rate</th>'
           '<th class="num">skipped</th><th>most common failure messages</th></tr></thead>'
           "<tbody>"]
    for rank, s in enumerate(stats, 1):
        visibility = _badge("hidden") if s.hidden else _badge("public")
        rate = s.failure_rate
        bar = (f'<div class="rate"><div class="bar" style="width:{rate * 100:.1f}%"></div>'
               f'<span>{_percent(rate * 100)}</span></div>')
        messages = "".join(f'<li><span class="count">{n}×</span> '
                           f'<span class="msg">{_e(_clip(m, MESSAGE_CHARS))}</span></li>'
                           for m, n in s.top_messages)
        messages = f'<ul class="messages">{messages}</ul>' if messages else ""
        zero = "" if s.failed else ' class="muted"'
        out.append(
            f'<tr data-check="{_e(s.question)}/{_e(s.check)}"{zero}><td class="num">{rank}</td>'
            f"<td>{_e(s.question)}</td><td><code>{_e(s.check)}</code></td><td>{visibility}</td>"
            f'<td class="num">{s.failed}/{s.ran}</td><td>{bar}</td>'
            f'<td class="num">{s.skipped}</td><td>{messages}</td></tr>')
    out.append("</tbody></table></div>")
    return "\n".join(out)


def class_table_html(results: Sequence[SubmissionResult], pending: Sequence[str],
                     links: dict[str, str]) -> str:
    names = question_names(results)
    head = "".join(f'<th class="num">{_e(n)}</th>' for n in names)
    out = ['<div class="scroll"><table class="class-table"><thead><tr><th>submission</th>'
           f'<th>status</th><th class="num">score</th><th class="num">%</th>{head}</tr>'
           "</thead><tbody>"]
    for r in results:
        by_name = {q.name: q for q in r.questions}
        cells = []
        for name in names:
            question = by_name.get(name)
            if question is None or r.status != "graded":
                cells.append('<td class="q na">–</td>')
            else:
                cells.append(f'<td class="q {question_level(question)}" title="'
                             f'{_e(name)}: {points_text(question.score)}/'
                             f'{points_text(question.possible)}">{points_text(question.score)}</td>')
        out.append(
            f'<tr><td><a href="#{links[r.submission]}">{_e(r.submission)}</a></td>'
            f"<td>{_badge(r.status)}</td>"
            f'<td class="num">{points_text(r.score)}/{points_text(r.possible)}</td>'
            f'<td class="num">{_percent(r.percent)}</td>{"".join(cells)}</tr>')
    for stem in pending:
        out.append(f'<tr class="muted"><td>{_e(stem)}</td><td>{_badge("pending")}</td>'
                   f'<td colspan="{2 + len(names)}"></td></tr>')
    graded = [r for r in results if r.status == "graded"]
    if graded:
        means = []
        for name in names:
            found = [q for r in graded for q in r.questions if q.name == name]
            mean = statistics.fmean(q.score for q in found) if found else 0.0
            means.append(f'<td class="num">{mean:.2f}</td>')
        out.append(f'</tbody><tfoot><tr><th colspan="2">mean of {len(graded)} graded</th>'
                   f'<td class="num">{statistics.fmean(r.score for r in graded):.2f}</td>'
                   f'<td class="num">{_percent(statistics.fmean(r.percent for r in graded))}'
                   f'</td>{"".join(means)}</tr></tfoot>')
    else:
        out.append("</tbody>")
    out.append("</table></div>")
    return "\n".join(out)


def submission_html(result: SubmissionResult, anchor: str) -> str:
    outcomes = Counter(c.outcome for q in result.questions for c in q.checks)
    tally = ", ".join(f"{outcomes[o]} {o}" for o in ("passed", "failed", "skipped"))
    out = [f'<section class="submission" id="{anchor}">',
           f'<h3>{_e(result.submission)} {_badge(result.status)} '
           f'<span class="score">{points_text(result.score)}/{points_text(result.possible)} '
           f"({_percent(result.percent)})</span></h3>",
           f'<p class="meta">source: <code>{_e(result.source)}</code> · '
           f"{result.duration:.1f} s · checks: {tally}</p>"]
    if result.message:
        out.append(f'<pre class="message">{_e(result.message)}</pre>')
    out.append('<table class="outcomes"><thead><tr><th>question</th><th>check</th>'
               '<th>visibility</th><th>outcome</th><th class="num">points</th>'
               "<th>message</th></tr></thead><tbody>")
    for question in result.questions:
        for i, check in enumerate(question.checks):
            first = ""
            if i == 0:
                first = (f'<td rowspan="{len(question.checks)}" class="qcell">'
                         f"<strong>{_e(question.name)}</strong><br>"
                         f'<span class="muted">{points_text(question.score)}/'
                         f"{points_text(question.possible)}</span></td>")
            visibility = _badge("hidden") if check.hidden else _badge("public")
            message = f'<pre class="msg">{_e(check.message)}</pre>' if check.message else ""
            out.append(
                f'<tr class="{check.outcome}">{first}<td><code>{_e(check.name)}</code></td>'
                f"<td>{visibility}</td><td>{_badge(check.outcome)}</td>"
                f'<td class="num">{points_text(check.points)}/{points_text(check.max_points)}</td>'
                f"<td>{message}</td></tr>")
    out.append("</tbody></table>")
    if result.log.strip():
        log = result.log[-LOG_CHARS:]
        cut = " (last part)" if len(result.log) > LOG_CHARS else ""
        out.append(f"<details><summary>captured output{cut}</summary>"
                   f'<pre class="log">{_e(log)}</pre></details>')
    out.append('<p class="top"><a href="#top">back to top</a></p></section>')
    return "\n".join(out)


SIMILARITY_ROWS = 10  # pairs shown in the report; the similarity page has them all


def similarity_section_html(rows: Sequence[SimilarityRow]) -> str:
    """The most similar pairs of ``similarity.csv`` (``autograder similarity``), linked."""
    note = (f'<p class="note">The most similar pairs of <a href="{SIMILARITY_HTML}">'
            f"{SIMILARITY_HTML}</a> (answers compared question by question, shared code "
            "weighed by how few classmates wrote it): evidence to read there, never a verdict."
            "</p>")
    if not rows:
        return note + '<p class="note">No pair worth a look.</p>'
    out = [note, '<table class="similarity"><thead><tr><th>a</th><th>b</th>'
           '<th class="num">similarity</th><th>questions</th></tr></thead><tbody>']
    for row in rows[:SIMILARITY_ROWS]:
        out.append(f"<tr><td>{_e(row.a)}</td><td>{_e(row.b)}</td>"
                   f'<td class="num">{row.similarity:.3f}</td>'
                   f"<td>{_e(', '.join(f'{q} {v:.2f}' for q, v in row.questions))}</td></tr>")
    out.append("</tbody></table>")
    if len(rows) > SIMILARITY_ROWS:
        out.append(f'<p class="note">and {len(rows) - SIMILARITY_ROWS} more pairs.</p>')
    return "\n".join(out)


def report_html(results: Sequence[SubmissionResult], *, pending: Sequence[str] = (),
                similarity: Sequence[SimilarityRow] | None = None) -> str:
    """The whole page, from finished results (and the stems still pending in grades.csv);
    ``similarity``: the rows of the folder's ``similarity.csv``, where it has one."""
    if not results:
        raise AutograderError("no finished results to report on")
    assignment = ", ".join(dict.fromkeys(r.assignment for r in results))
    ungraded = sum(r.status != "graded" for r in results)
    links = anchors(results)
    sections = [
        ("summary", "Class summary", summary_html(results, pending)),
        ("scores", "Total scores",
         _img(score_histogram_png(results), "histogram of total scores", 7.2)),
        ("questions", "Scores per question", questions_html(question_stats(results), ungraded)),
        ("checks", "Checks, most failed first", checks_html(check_stats(results), ungraded)),
        ("class", "Class table", class_table_html(results, pending, links)),
        *([("similarity", "Similarity", similarity_section_html(similarity))]
          if similarity is not None else []),
        ("submissions", "Submissions",
         "\n".join(submission_html(r, links[r.submission]) for r in results)),
    ]
    nav = " ".join(f'<a href="#{key}">{_e(title)}</a>' for key, title, _ in sections)
    body = "\n".join(f'<section id="{key}"><h2>{_e(title)}</h2>\n{content}\n</section>'
                     for key, title, content in sections)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>Grading report: {_e(assignment)}</title>\n<style>{CSS}</style>\n"
            f'</head>\n<body id="top">\n<header><h1>Grading report: {_e(assignment)}</h1>\n'
            f"<nav>{nav}</nav></header>\n<main>\n{body}\n</main>\n</body>\n</html>\n")


def write_html_report(out_dir: Path) -> Path:
    """Write ``out_dir/report.html`` from a grading output folder and return its path."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise AutograderError(f"{out_dir}: no such folder")
    results = load_results(out_dir)
    pending = pending_submissions(out_dir, results)
    if not results:
        what = f"{len(pending)} submission(s) pending, none finished" if pending else \
            f"no {RECORDS}/<submission>.json"
        raise AutograderError(f"{out_dir}: nothing to report on ({what}); is it the --out "
                              "folder of `autograder grade`?")
    similarity = None
    if (out_dir / SIMILARITY_CSV).is_file():
        try:
            similarity = read_similarity_csv(out_dir / SIMILARITY_CSV)
        except (OSError, ValueError, KeyError) as error:
            raise AutograderError(f"{out_dir / SIMILARITY_CSV}: cannot read it ({error})") \
                from None
    path = out_dir / REPORT_NAME
    atomic_write(path, report_html(results, pending=pending, similarity=similarity))
    return path


CSS = """
:root { --fg: #1f2328; --muted: #6e7781; --line: #d8dee4; --bg-alt: #f6f8fa;
  --full: #dcefdf; --partial: #fbecd0; --zero: #f8d7dc; --na: #eeeeee; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: #fff; }
header { padding: 14px 28px 10px; border-bottom: 1px solid var(--line); background: var(--bg-alt); }
h1 { margin: 0 0 6px; font-size: 22px; }
nav a { margin-right: 16px; color: #0969da; text-decoration: none; }
nav a:hover, a:hover { text-decoration: underline; }
main { padding: 4px 28px 40px; max-width: 1280px; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px;
  border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 0 0 4px; }
a { color: #0969da; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word;
  font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
table { border-collapse: collapse; margin: 6px 0 10px; }
th, td { padding: 4px 9px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; }
thead th { background: var(--bg-alt); font-weight: 600; white-space: nowrap; }
tfoot th, tfoot td { background: var(--bg-alt); font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.muted, tr.muted td { color: var(--muted); }
.note { color: var(--muted); margin: 4px 0 8px; }
.warning { color: #9a3412; font-weight: 600; }
.scroll { overflow-x: auto; }
img.plot { display: block; max-width: 100%; height: auto; margin: 6px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 14px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 16px; min-width: 120px; }
.card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .label { color: var(--muted); }
.side-by-side { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
.badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px;
  line-height: 18px; background: var(--na); color: #333; white-space: nowrap; }
.badge.graded, .badge.passed { background: #d6ecd9; color: #1d5b2a; }
.badge.failed, .badge.crashed, .badge.tampered { background: #f8d7dc; color: #8a1c2b; }
.badge.timeout, .badge.skipped { background: #fbecd0; color: #7a4b00; }
.badge.invalid, .badge.error { background: #e5dcf3; color: #4b2a7b; }
.badge.hidden { background: #e1e4e8; color: #3d444d; }
.badge.public { background: #dbeafe; color: #1e40af; }
table.checks td { font-size: 13px; }
.rate { position: relative; width: 110px; height: 18px; background: var(--bg-alt);
  border: 1px solid var(--line); border-radius: 3px; }
.rate .bar { position: absolute; inset: 0 auto 0 0; background: #f1a3ae; }
.rate span { position: relative; padding-left: 5px; font-size: 12px; line-height: 16px;
  font-variant-numeric: tabular-nums; }
ul.messages { margin: 0; padding: 0; list-style: none; }
ul.messages li { margin: 0 0 3px; }
ul.messages .count { display: inline-block; min-width: 2.6em; color: var(--muted);
  font-variant-numeric: tabular-nums; }
ul.messages .msg { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  white-space: pre-wrap; word-break: break-word; }
table.class-table td.q { text-align: center; font-variant-numeric: tabular-nums; min-width: 30px; }
/* A 20-question class table fits a 1280-px screen: narrow cells, and a long submission name
   (as an LMS names downloads) wraps instead of widening the table. */
table.class-table th, table.class-table td { padding: 4px 5px; }
table.class-table td:first-child { overflow-wrap: anywhere; min-width: 10em; }
td.q.full { background: var(--full); } td.q.partial { background: var(--partial); }
td.q.zero { background: var(--zero); }
td.q.na, td.q.unscored { background: var(--na); color: var(--muted); }
section.submission { border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px;
  margin: 14px 0; scroll-margin-top: 12px; }
section.submission:target { border-color: #0969da; box-shadow: 0 0 0 2px #c8dcf5; }
section.submission .score { font-weight: 400; color: var(--muted); margin-left: 6px; }
.meta { margin: 0 0 8px; color: var(--muted); }
pre.message { background: #fff8e6; border: 1px solid #f0dca8; border-radius: 4px;
  padding: 6px 8px; margin-bottom: 8px; }
table.outcomes { width: 100%; }
table.outcomes td.qcell { background: var(--bg-alt); white-space: nowrap; }
table.outcomes tr.failed td:not(.qcell) { background: #fdf1f3; }
table.outcomes tr.skipped td:not(.qcell) { background: #fdf8ec; }
pre.msg { font-size: 12px; }
pre.log { background: var(--bg-alt); padding: 6px 8px; max-height: 320px; overflow: auto; }
details summary { cursor: pointer; color: var(--muted); }
p.top { margin: 6px 0 0; font-size: 12px; }
"""
