"""Command line: a thin layer over ``release``, ``grade`` and ``reports``.

Exit codes: 0 when the command did its job (a gradebook row for every submission, whatever
the scores); 1 when a grade or release could not run; 2 for bad arguments. Every failure is
one line on stderr, never a traceback (``AUTOGRADER_DEBUG=1`` shows the traceback of an
unexpected one).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from autograder.errors import AutograderError
from autograder.grading.job import Limits
from autograder.reports.terminal import Progress, print_gradebook
from autograder.suite import SUITE_ENV, find_suite, resolve_bundle
from autograder.text import one_line

DEBUG_ENV = "AUTOGRADER_DEBUG"


def cmd_release(args: argparse.Namespace) -> int:
    from autograder.authoring.release import build_each, find_assignments, resolve_assignment

    suite = find_suite(args.suite)
    folders = [resolve_assignment(suite.assignments, n) for n in args.names] if args.names \
        else find_assignments(suite.assignments)
    outcomes = build_each(folders, student_root=suite.student, dist_root=suite.dist,
                          force=args.force)
    if len(outcomes) == 1 and isinstance(outcomes[0], Exception):
        return _fail(str(outcomes[0]))  # one assignment: its reason is the one line
    refused = 0
    for folder, outcome in zip(folders, outcomes, strict=True):
        if isinstance(outcome, Exception):
            refused += 1
            print(f"{folder.name}: refused (its last good release is kept): "
                  f"{one_line(str(outcome))}",
                  file=sys.stderr)
            continue
        state = "built" if outcome.rebuilt else "up to date"
        print(f"{outcome.name}: {state} -> {outcome.student_notebook.parent}/, {outcome.bundle}")
    if refused:
        return _fail(f"{refused} of {len(folders)} assignment(s) refused; see above")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from autograder.authoring.skeleton import write_skeleton

    notebook = write_skeleton(find_suite(args.suite, new_here=True).assignments, args.name)
    print(f"wrote {notebook}: edit it, then `autograder release {args.name}` "
          "(see assignments/README.md)")
    return 0


def _limits(args: argparse.Namespace) -> Limits:
    return Limits(submission_seconds=args.timeout, cell_seconds=args.cell_timeout,
                  memory_mb=args.memory_mb, disk_mb=args.disk_mb)


def cmd_grade(args: argparse.Namespace) -> int:
    from autograder.grading.grader import grade_submissions
    from autograder.grading.submission import collect_submissions
    from autograder.reports.output_folder import check_out_dir

    check_out_dir(Path(args.out))  # before a bundle is built
    bundle = resolve_bundle(args.assignment, suite=args.suite)
    total = len(collect_submissions([Path(s) for s in args.submissions]))
    progress = Progress(total)
    options = {"limits": _limits(args), "out_dir": Path(args.out), "progress": progress,
               "show_hidden_scores": args.feedback_hidden_scores}
    try:
        if args.scheduler:
            from autograder.grading.dask_cluster import grade_submissions_on_cluster  # dask is slow

            results = grade_submissions_on_cluster(
                bundle, [Path(s) for s in args.submissions], scheduler=args.scheduler,
                **options)
        else:
            results = grade_submissions(bundle, [Path(s) for s in args.submissions],
                                        workers=args.workers, **options)
    finally:
        progress.close()
    print_gradebook(results)
    print(f"\nwrote {Path(args.out) / 'grades.csv'}, results/ and feedback/")
    return 0


def cmd_grade_examples(args: argparse.Namespace) -> int:
    """The demo: every assignment's examples (reference, blank release, shipped examples)."""
    import shutil

    from autograder.authoring.release import build_releases, find_assignments
    from autograder.grading.grader import grade_submissions
    from autograder.reports.html import write_html_report

    suite = find_suite(args.suite)
    for release in build_releases(find_assignments(suite.assignments),
                                  student_root=suite.student, dist_root=suite.dist):
        batch = Path(args.out) / release.name / "submissions"
        batch.mkdir(parents=True, exist_ok=True)
        shutil.copy2(release.solution, batch / "reference.ipynb")
        shutil.copy2(release.student_notebook, batch / "blank.ipynb")
        examples = suite.examples / release.name
        for example in sorted(examples.glob("*.ipynb")) if examples.is_dir() else []:
            shutil.copy2(example, batch / example.name)
        print(f"\n== {release.name}")
        progress = Progress(len(list(batch.iterdir())))
        try:
            results = grade_submissions(release.bundle, [batch], workers=args.workers,
                                        limits=_limits(args),
                                        out_dir=Path(args.out) / release.name,
                                        progress=progress)
        finally:
            progress.close()
        print_gradebook(results)
        print(f"report: {write_html_report(Path(args.out) / release.name)}")
    print(f"\nGradebooks, feedback and reports under {args.out}/")
    return 0


def cmd_ci(args: argparse.Namespace) -> int:
    from autograder.ci import run_ci

    summary = args.summary or os.environ.get("GITHUB_STEP_SUMMARY")
    return run_ci(args.assignment, Path(args.submissions), out=Path(args.out),
                  workers=args.workers, limits=_limits(args),
                  summary_path=Path(summary) if summary else None,
                  show_hidden_scores=args.feedback_hidden_scores, suite=args.suite)


def cmd_export(args: argparse.Namespace) -> int:
    from autograder.reports.lms_export import export_canvas, export_long

    out_dir = Path(args.out_dir)
    if args.format == "canvas":
        if not args.roster:
            raise AutograderError("export canvas needs --roster (Canvas's gradebook export)")
        report = export_canvas(out_dir, Path(args.roster), assignment_column=args.column,
                               dest=Path(args.dest) if args.dest else None)
        print(report.summary())
    else:
        dest = Path(args.dest) if args.dest else out_dir / "scores-long.csv"
        roster = Path(args.roster) if args.roster else None
        print(f"wrote {export_long(out_dir, dest, roster=roster)}")
    return 0


def cmd_similarity(args: argparse.Namespace) -> int:
    from autograder.reports.output_folder import check_out_dir
    from autograder.similarity.compare import compare_submissions
    from autograder.similarity.output import write_similarity_report
    from autograder.suite import resolve_release_files

    check_out_dir(Path(args.out))
    release = resolve_release_files(args.assignment, suite=args.suite)
    comparison = compare_submissions(release.bundle, release.student_notebook, release.solution,
                                     [Path(s) for s in args.submissions])
    written = write_similarity_report(comparison, Path(args.out))
    flagged = comparison.scores.flagged
    print(f"compared {len(comparison.sheets)} submissions (the reference solution among "
          f"them), {comparison.scores.pair_count} pairs: {len(flagged)} flagged at similarity "
          f">= {comparison.scores.threshold:.2f}; {len(comparison.not_compared)} not compared")
    for pair in flagged[:10]:
        print(f"  {pair.similarity:.3f}  {comparison.sheets[pair.a].name}  "
              f"{comparison.sheets[pair.b].name}")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from autograder.reports.html import write_html_report

    print(f"wrote {write_html_report(Path(args.out_dir))}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from autograder.kit.validate import render_report, validate_notebook

    report = validate_notebook(Path(args.notebook), assignment=args.assignment,
                               cell_timeout=args.cell_timeout)
    print(render_report(report))
    return 0 if report.ok else 1


def cmd_audit(args: argparse.Namespace) -> int:
    import json

    from autograder.audit.run import (
        audit_assignment,
        format_report,
        read_record,
        unrecorded,
        updated_record,
    )
    from autograder.authoring.release import resolve_assignment
    from autograder.suite import find_suite

    folder = resolve_assignment(find_suite(args.suite).assignments, args.name)
    report = audit_assignment(args.name, suite=args.suite, budget=args.budget, seed=args.seed,
                              workers=args.workers, limits=_limits(args),
                              questions=args.question or None,
                              progress=lambda text: print(text, file=sys.stderr))
    record = read_record(folder)
    print(format_report(report, record=record))
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_json(), indent=1) + "\n")
        print(f"\nwrote {args.json}")
    if args.update_record:
        path = folder / "audit.json"
        path.write_text(json.dumps(updated_record(report, record), indent=1,
                                   ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {path}: give every TODO a reason, or kill the mutant")
    missing = unrecorded(report, record)
    if missing:
        print(f"\n{len(missing)} mutant(s) with full marks not in {folder / 'audit.json'}")
    if report.errors:
        return 1
    if args.fail_under is not None and report.kill_rate < args.fail_under:
        print(f"kill rate {report.kill_rate:.1f}% is under --fail-under {args.fail_under}")
        return 1
    return 0


def cmd_gradescope(args: argparse.Namespace) -> int:
    from autograder.grading.gradescope import run_gradescope

    return run_gradescope(Path(args.root))


def _add_limit_options(parser: argparse.ArgumentParser) -> None:
    defaults = Limits()
    parser.add_argument("--workers", type=int, default=None,
                        help="parallel grading workers (default: one per 4 submissions, up "
                             "to the number of cores)")
    parser.add_argument("--timeout", type=float, default=defaults.submission_seconds,
                        help="wall-clock seconds per submission")
    parser.add_argument("--cell-timeout", type=float, default=defaults.cell_seconds,
                        help="wall-clock seconds per notebook cell")
    parser.add_argument("--memory-mb", type=int, default=defaults.memory_mb,
                        help="memory a submission may allocate beyond torch itself")
    parser.add_argument("--disk-mb", type=int, default=defaults.disk_mb,
                        help="space a submission may write: its folder, /tmp and /dev/shm "
                             "together")


def _add_suite_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--suite", help="the suite's folder (the one holding assignments/); "
                        f"default: ${SUITE_ENV}, else the working folder or one above it, "
                        "else this installation's checkout")


class _Parser(argparse.ArgumentParser):
    """Bad arguments are one line too, naming the help to read."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="autograder", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser("release", help="build student releases and bundles")
    release.add_argument("names", nargs="*",
                         help="assignment names or folders (default: all)")
    release.add_argument("--force", action="store_true", help="rebuild even if unchanged")
    _add_suite_option(release)
    release.set_defaults(run=cmd_release)

    new = commands.add_parser("new", help="write a skeleton assignment to start from")
    new.add_argument("name", help="NN-topic, e.g. 05-autograd")
    _add_suite_option(new)
    new.set_defaults(run=cmd_new)

    grade = commands.add_parser("grade", help="grade submissions into a gradebook")
    grade.add_argument("assignment", help="assignment name or autograder bundle (.zip)")
    grade.add_argument("submissions", nargs="+", help=".ipynb / .zip files or folders")
    grade.add_argument("--out", required=True, help="output folder")
    grade.add_argument("--feedback-hidden-scores", action="store_true",
                       help="feedback shows hidden checks' scores and the total (never their "
                       "source or messages); default: the public checks' score, and how many "
                       "hidden checks there are and what they are worth")
    grade.add_argument("--scheduler", help="grade on a Dask cluster (tcp://HOST:PORT) "
                       "instead of local workers")
    _add_limit_options(grade)
    _add_suite_option(grade)
    grade.set_defaults(run=cmd_grade)

    examples = commands.add_parser("grade-examples", help="grade every assignment's examples")
    examples.add_argument("--out", default="out/demo")
    _add_limit_options(examples)
    _add_suite_option(examples)
    examples.set_defaults(run=cmd_grade_examples)

    ci = commands.add_parser("ci", help="grade, write gradebook, feedback and a CI summary")
    ci.add_argument("assignment", help="assignment name or autograder bundle (.zip)")
    ci.add_argument("submissions", help="folder of submissions")
    ci.add_argument("--out", required=True, help="output folder")
    ci.add_argument("--summary", help="Markdown summary to append to "
                    "(default: $GITHUB_STEP_SUMMARY when set)")
    ci.add_argument("--feedback-hidden-scores", action="store_true",
                    help="as for grade: hidden checks' scores in feedback")
    _add_limit_options(ci)
    _add_suite_option(ci)
    ci.set_defaults(run=cmd_ci)

    export = commands.add_parser("export", help="gradebook for an LMS (Canvas) or long CSV")
    export.add_argument("format", choices=["canvas", "long"])
    export.add_argument("out_dir", help="a grading output folder")
    export.add_argument("--roster", help="the LMS roster CSV (required for canvas)")
    export.add_argument("--column", help="Canvas assignment column (default: its name)")
    export.add_argument("--dest", help="where to write the CSV")
    export.set_defaults(run=cmd_export)

    similarity = commands.add_parser(
        "similarity", help="which submissions share code: pairs ranked, evidence to read")
    similarity.add_argument("assignment", help="assignment name or autograder bundle (.zip)")
    similarity.add_argument("submissions", nargs="+", help=".ipynb / .zip files or folders")
    similarity.add_argument("--out", required=True, help="output folder (a grading --out "
                            "folder puts a similarity section in its report)")
    _add_suite_option(similarity)
    similarity.set_defaults(run=cmd_similarity)

    report = commands.add_parser("report", help="an HTML report of a grading output folder")
    report.add_argument("out_dir", help="the --out folder of `autograder grade`")
    report.set_defaults(run=cmd_report)

    validate = commands.add_parser("validate", help="check a notebook before submitting it")
    validate.add_argument("notebook")
    validate.add_argument("--assignment", help="the assignment it must belong to")
    validate.add_argument("--cell-timeout", type=float, default=Limits().cell_seconds)
    validate.set_defaults(run=cmd_validate)

    audit = commands.add_parser("audit", help="mutation-test an assignment's tests")
    audit.add_argument("name", help="assignment name or folder")
    audit.add_argument("--budget", type=int, default=None,
                       help="at most N mutants per question (a seeded, operator-balanced "
                            "selection; default: all)")
    audit.add_argument("--seed", type=int, default=0, help="seed of the selection")
    audit.add_argument("--question", action="append", help="only this question (repeatable)")
    audit.add_argument("--json", help="write the report as JSON to this file")
    audit.add_argument("--fail-under", type=float, default=None, metavar="PCT",
                       help="exit 1 when the kill rate is under PCT")
    audit.add_argument("--update-record", action="store_true",
                       help="add this run's full-marks mutants to the assignment's audit.json")
    _add_limit_options(audit)
    _add_suite_option(audit)
    audit.set_defaults(run=cmd_audit)

    gradescope = commands.add_parser("gradescope", help="entry point inside a Gradescope image")
    gradescope.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    gradescope.set_defaults(run=cmd_gradescope)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except AutograderError as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        print("autograder: interrupted; rerun the same command to finish", file=sys.stderr)
        return 130
    except OSError as error:  # a file or folder the command needed: say which
        where = f": {error.filename}" if error.filename else ""
        return _fail(f"{error.strerror or error}{where}")
    except Exception as error:
        if os.environ.get(DEBUG_ENV):
            raise
        return _fail(f"unexpected {type(error).__name__}: {error} (rerun with {DEBUG_ENV}=1 "
                     "for the traceback)")


def _fail(message: str) -> int:
    print(f"autograder: error: {one_line(message)}", file=sys.stderr)
    return 1
