"""``autograder ci``: what a CI job needs in one command.

Resolve the assignment (building its bundle if needed), grade a folder of submissions into
an output folder (gradebook, Gradescope results, feedback), and write a Markdown summary of
the class: to ``OUT/summary.md``, and appended to a CI summary file such as GitHub's
``$GITHUB_STEP_SUMMARY``. Scores never fail the job; only a grader that could not run does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import AutograderError
from autograder.grading.job import Limits
from autograder.reports.output_folder import atomic_write, check_out_dir
from autograder.results import STATUSES, SubmissionResult, points_text

SUMMARY_FILE = "summary.md"
MESSAGE_CHARS = 300  # of each ungraded submission's reason, in the summary


@dataclass(frozen=True)
class QuestionStats:
    """How the class did on one question."""

    name: str
    full_marks: int  # submissions with every point of the question
    counted: int  # submissions where the question had points (all its checks skipped: not)
    mean_score: float  # over all submissions; ungraded ones count 0, as in the gradebook
    max_points: float

    @property
    def pass_rate(self) -> float | None:
        return self.full_marks / self.counted if self.counted else None


def question_stats(results: Sequence[SubmissionResult]) -> list[QuestionStats]:
    """Per question, in the bundle's order: pass rate (full marks) and mean score."""
    names = list(dict.fromkeys(q.name for r in results for q in r.questions))
    stats = []
    for name in names:
        found = [q for r in results for q in r.questions if q.name == name]
        counted = [q for q in found if q.possible > 0]
        stats.append(QuestionStats(
            name=name, full_marks=sum(1 for q in counted if q.score >= q.possible),
            counted=len(counted), mean_score=sum(q.score for q in found) / len(results),
            max_points=max(q.possible for q in found)))
    return stats


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(text: str) -> str:
    """Text shown literally (a code span): messages can quote student output, which must not
    render as Markdown or HTML in the CI page."""
    text = " ".join(text.split())
    if len(text) > MESSAGE_CHARS:
        text = text[:MESSAGE_CHARS] + "..."
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def isolation_line(results: Sequence[SubmissionResult], *, as_root: bool) -> str:
    """Which of the sandbox's protections grading had, in one line: a CI job must say
    whether student code could read the hidden tests and the other submissions. Read from the
    grader's own record of each run (``isolation``), never from a row's text, which a
    submission's output can fill; the weakest run decides. With no run, from this machine:
    whether it is root."""
    levels = {r.isolation for r in results if r.isolation}
    namespaces = not levels & {"no-namespaces", "none"}
    if levels:
        as_root = not levels & {"no-uid", "none"}
    if as_root and namespaces:
        return ("**Isolation: on.** Graded as root: student code ran as an unprivileged user of "
                "its own, without network, in a view of the filesystem holding only Python and "
                "its own folder (not the suite, the bundle, the other submissions or the "
                "outputs).")
    if namespaces:
        return ("**Isolation: partial.** Graded without root, in a user namespace: no network "
                "and the same view of the filesystem, but no uid of its own and no process "
                "cap. Run the grading step with `sudo`.")
    if as_root:
        return ("**Isolation: partial.** Graded as root, but without CAP_SYS_ADMIN: no network "
                "cut and no private view of the filesystem (Landlock, where the kernel has it, "
                "still limits what it reads; see the submissions' messages). Use a privileged "
                "or shell runner, or a VM.")
    return ("**Isolation: off.** Graded without root or namespaces: student code ran as the "
            "grading user and could read what it can read, bar what Landlock denies (this "
            "suite's hidden tests, the other submissions). Run the grading step with `sudo`.")


def summary_markdown(results: Sequence[SubmissionResult], *, assignment: str,
                     as_root: bool | None = None) -> str:
    """The class at a glance, as GitHub-flavoured Markdown: the isolation grading had, one
    row per submission, then per question the pass rate (fraction of submissions with full
    marks) and the mean score. ``as_root``: whether grading ran as root (default: this
    process does)."""
    as_root = os.geteuid() == 0 if as_root is None else as_root
    lines = [f"## Grading: {_cell(assignment)}", "", isolation_line(results, as_root=as_root),
             ""]
    if not results:
        return "\n".join([*lines, "No submissions to grade.", ""])
    counts = {s: sum(1 for r in results if r.status == s) for s in STATUSES}
    mean = sum(r.percent for r in results) / len(results)
    lines += [f"{len(results)} submission(s): "
              + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
              + f". Mean {mean:.1f}%.", ""]
    lines += ["| submission | status | score | percent |", "|:--|:--|--:|--:|"]
    for r in results:
        lines.append(f"| {_cell(r.submission)} | {r.status} | {points_text(r.score)} / "
                     f"{points_text(r.possible)} | {r.percent:.1f}% |")
    lines += ["", "### Questions", "",
              "Pass rate: the fraction of submissions with full marks on the question.", "",
              "| question | pass rate | full marks | mean score |", "|:--|--:|--:|--:|"]
    for q in question_stats(results):
        rate = "n/a (no points)" if q.pass_rate is None else f"{100 * q.pass_rate:.1f}%"
        lines.append(f"| {_cell(q.name)} | {rate} | {q.full_marks} / {q.counted} | "
                     f"{q.mean_score:.2f} / {points_text(q.max_points)} |")
    ungraded = [r for r in results if r.status != "graded"]
    if ungraded:
        lines += ["", "### Not graded (scored 0)", ""]
        lines += [f"- {_cell(r.submission)} ({r.status}): {_code(r.message)}" for r in ungraded]
    return "\n".join([*lines, ""])


def write_summaries(markdown: str, out: Path, summary_path: Path | None) -> None:
    """``OUT/summary.md`` (replaced) and the CI's summary file (appended to, as GitHub
    expects: every step may add to it)."""
    atomic_write(Path(out) / SUMMARY_FILE, markdown)
    if summary_path is not None:
        Path(summary_path).parent.mkdir(parents=True, exist_ok=True)
        with open(summary_path, "a", encoding="utf-8") as handle:
            handle.write(markdown if markdown.endswith("\n") else markdown + "\n")


def run_ci(assignment: str, submissions: Path, *, out: Path, workers: int | None = None,
           limits: Limits | None = None, summary_path: Path | None = None,
           show_hidden_scores: bool = False, suite: str | None = None) -> int:
    """Grade the folder ``submissions`` for ``assignment`` (a name or a bundle) into ``out``
    and write the summaries (``summary_path``: appended to, e.g. ``$GITHUB_STEP_SUMMARY``).
    ``workers``, ``limits``, ``show_hidden_scores`` and ``suite`` are those of
    ``autograder grade``.

    Returns 0 whatever the scores; raises ``AutograderError`` (the CLI prints it and exits 1)
    when grading could not run: unknown assignment, a bundle that does not build, no
    submissions folder, grading workers that do not start."""
    from autograder.bundle import load_bundle
    from autograder.grading.grader import grade_submissions
    from autograder.grading.submission import collect_submissions
    from autograder.reports.terminal import Progress, print_gradebook
    from autograder.suite import resolve_bundle

    submissions, out = Path(submissions), Path(out)
    if not submissions.is_dir():
        raise AutograderError(f"no submissions folder {submissions}")
    check_out_dir(out)  # before a bundle is built
    bundle = resolve_bundle(assignment, suite=suite)
    name = load_bundle(bundle).assignment
    progress = Progress(len(collect_submissions([submissions])))
    try:
        results = grade_submissions(bundle, [submissions], workers=workers, limits=limits,
                                    out_dir=out, progress=progress,
                                    show_hidden_scores=show_hidden_scores)
    except (OSError, RuntimeError) as error:
        raise AutograderError(f"grading {name} failed: {error}") from error
    finally:
        progress.close()
    write_summaries(summary_markdown(results, assignment=name), out, summary_path)
    print_gradebook(results)
    where = f" and {summary_path}" if summary_path is not None else ""
    print(f"\n{name}: wrote {out / 'grades.csv'}, results/, feedback/, "
          f"{out / SUMMARY_FILE}{where}")
    return 0
