"""``autograder ci`` and the course-repository CI templates: ``run_ci`` with the real engine
(summaries, exit codes), and the templates' own shell steps run as written in a temporary
course repository laid out as ci/README.md says."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, copy_to
from make_examples import example_notebooks

from autograder.ci import SUMMARY_FILE, isolation_line, question_stats, run_ci, summary_markdown
from autograder.errors import AutograderError
from autograder.grading.isolation import NO_NAMESPACES
from autograder.reports.output_folder import load_results
from autograder.results import ISOLATION_LEVELS, SubmissionResult

TABLE_HEADER = "| submission | status | score | percent |"
QUESTIONS_HEADER = "| question | pass rate | full marks | mean score |"


def _gradebook(out: Path) -> list[dict[str, str]]:
    return _gradebook_file(out / "grades.csv")


def _gradebook_file(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def ci_run(releases, tmp_path_factory):
    """``run_ci`` once, on a batch with full marks, zero, partial and an unreadable file,
    with a step-summary file that an earlier step already wrote to."""
    release = releases["01-tensors"]
    root = tmp_path_factory.mktemp("ci")
    batch = root / "submissions"
    copy_to(release.solution, batch / "reference.ipynb")
    copy_to(release.student_notebook, batch / "blank.ipynb")
    (batch / "partly_wrong.ipynb").write_text(example_notebooks(release)["partly_wrong.ipynb"])
    (batch / "broken.ipynb").write_text("{not a notebook")
    summary = root / "step_summary.md"
    summary.write_text("# Earlier step\n")
    code = run_ci(str(release.bundle), batch, out=root / "out", workers=2,
                  summary_path=summary)
    return {"code": code, "batch": batch, "out": root / "out", "summary": summary,
            "bundle": release.bundle}


def test_run_ci_grades_and_appends_the_summary(ci_run):
    out, summary = ci_run["out"], ci_run["summary"]
    assert ci_run["code"] == 0  # scores (0%, an invalid file) never fail the job
    rows = _gradebook(out)
    assert [r["submission"] for r in rows] == ["blank", "broken", "partly_wrong", "reference"]
    assert (out / "feedback" / "reference.md").exists()
    own = (out / SUMMARY_FILE).read_text()
    assert summary.read_text() == "# Earlier step\n" + own  # appended, not replaced
    lines = own.splitlines()
    assert lines[0] == "## Grading: 01-tensors"
    assert lines[2].startswith("**Isolation: ")
    table = lines.index(TABLE_HEADER)
    body = lines[table + 2:table + 2 + len(rows)]
    for line, row in zip(body, rows, strict=True):
        assert line == (f"| {row['submission']} | {row['status']} | {row['score']} / "
                        f"{row['possible']} | {row['percent']}% |")
    assert "- broken (invalid): ` broken.ipynb: not valid notebook JSON" in own


def test_question_pass_rates_and_means_agree_with_the_gradebook(ci_run):
    rows = _gradebook(ci_run["out"])
    full = next(r for r in rows if r["submission"] == "reference")
    questions = [column for column in rows[0] if re.fullmatch(r"q\d+", column)]
    own = (ci_run["out"] / SUMMARY_FILE).read_text().splitlines()
    start = own.index(QUESTIONS_HEADER) + 2
    for q, line in zip(questions, own[start:start + len(questions)], strict=True):
        full_marks = sum(1 for r in rows if r[q] == full[q])
        mean = sum(float(r[q]) for r in rows) / len(rows)
        assert line == (f"| {q} | {100 * full_marks / len(rows):.1f}% | {full_marks} / "
                        f"{len(rows)} | {mean:.2f} / {full[q]} |")
    stats = question_stats(load_results(ci_run["out"]))
    assert [s.name for s in stats] == questions
    assert any(0 < s.pass_rate < 1 for s in stats)  # partly_wrong misses some, not all


def test_run_ci_again_appends_again_and_reuses_the_results(ci_run):
    before = ci_run["summary"].read_text()
    records = {p.name: p.stat().st_mtime_ns for p in (ci_run["out"] / ".records").iterdir()}
    assert run_ci(str(ci_run["bundle"]), ci_run["batch"], out=ci_run["out"],
                  summary_path=ci_run["summary"]) == 0
    own = (ci_run["out"] / SUMMARY_FILE).read_text()
    assert ci_run["summary"].read_text() == before + own
    assert {p.name: p.stat().st_mtime_ns
            for p in (ci_run["out"] / ".records").iterdir()} == records


def test_run_ci_fails_only_when_the_grader_cannot_run(ci_run, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # assignment names are resolved under ./assignments
    with pytest.raises(AutograderError, match="no submissions folder"):
        run_ci(str(ci_run["bundle"]), tmp_path / "nowhere", out=tmp_path / "out")
    with pytest.raises(AutograderError, match="no assignment named 'no-such-assignment'"):
        run_ci("no-such-assignment", ci_run["batch"], out=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    (tmp_path / "empty").mkdir()
    summary = tmp_path / "summary.md"
    assert run_ci(str(ci_run["bundle"]), tmp_path / "empty", out=tmp_path / "out",
                  summary_path=summary) == 0
    assert "No submissions to grade." in summary.read_text()
    assert _gradebook(tmp_path / "out") == []


def test_summary_shows_student_text_literally():
    from autograder.results import SubmissionResult

    result = SubmissionResult(submission="eve", source="eve.ipynb", assignment="01-tensors",
                              status="crashed", questions=(),
                              message="boom ``` <img src=x> [link](http://x) | cell")
    text = summary_markdown([result], assignment="01-tensors")
    assert "- eve (crashed): ```` boom ``` <img src=x> [link](http://x) | cell ````" in text


# --- the course-repository templates ------------------------------------------------------------

CI = ROOT / "ci"
# Steps that install software: recognised one by one, so that a new step in a template is
# either run below or added here on purpose.
GITHUB_INSTALL = [{"uses": "actions/checkout@v6"}, {"uses": "actions/setup-python@v6"},
                  {"uses": "actions/cache/restore@v5"},
                  {"run": "make -C autograder-suite install-grader"},
                  {"uses": "actions/cache/restore@v5"}]
GITHUB_AFTER = [{"uses": "actions/cache/save@v5"}, {"uses": "actions/cache/save@v5"},
                {"uses": "actions/upload-artifact@v6"}]
# The last major of each action whose action.yml runs on Node 20 or older (read from each
# action's tags): GitHub's runners no longer have Node 20.
NODE20_MAJORS = {"actions/checkout": 4, "actions/setup-python": 5, "actions/cache": 4,
                 "actions/upload-artifact": 5}
GITLAB_INSTALL = ["make -C autograder-suite install-grader"]
# GitHub's grading step runs under sudo (hosted runners run jobs unprivileged); GitLab's
# Docker executor is root already. Otherwise the two run the same commands.
SUDO = re.compile(r"^sudo(?: --preserve-env=\S+| -E)* ")
SUITE_FILES = ["autograder", "assignments", "ci", "Makefile", "pyproject.toml",
               "constraints.txt"]


def _github_steps() -> list[dict]:
    workflow = yaml.safe_load((CI / "github-actions.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as true
    assert "push" in triggers
    [job] = workflow["jobs"].values()
    return [{k: v for k, v in step.items() if k in ("uses", "run")} for step in job["steps"]]


def _gitlab_job() -> dict:
    [job] = yaml.safe_load((CI / "gitlab-ci.yml").read_text()).values()
    return job


def template_commands() -> list[str]:
    """The shell commands the GitHub template runs, in order, minus the install steps;
    asserts that GitLab's are the same (but for sudo) and that neither holds a step this
    test does not know."""
    steps = _github_steps()
    after = len(steps) - len(GITHUB_AFTER)
    assert steps[:len(GITHUB_INSTALL)] == GITHUB_INSTALL and steps[after:] == GITHUB_AFTER, \
        f"the GitHub template's steps changed: update this test ({steps})"
    assert all(set(s) == {"run"} for s in steps[len(GITHUB_INSTALL):after]), steps
    github = [s["run"] for s in steps[len(GITHUB_INSTALL):after]]
    job = _gitlab_job()
    script = [*job.get("before_script", []), *job["script"], *job.get("after_script", [])]
    assert script[:len(GITLAB_INSTALL)] == GITLAB_INSTALL, script
    assert [SUDO.sub("", c) for c in github] == script[len(GITLAB_INSTALL):], \
        "the templates' shell steps differ"
    assert github, "no grading step"
    for command in github:  # an install step must be in GITHUB_INSTALL, never run here
        assert not re.search(r"\b(pip|pip3|apt|apt-get|conda|uv)\b|make\b.*\binstall\b",
                             command), command
    return github


def test_templates_keep_graded_as_artifact():
    steps = yaml.safe_load((CI / "github-actions.yml").read_text())["jobs"]["grade"]["steps"]
    upload = steps[-1]
    assert upload["if"] == "always()" and upload["with"]["path"] == "graded/"
    assert _gitlab_job()["artifacts"] == {"when": "always", "expire_in": "90 days",
                                          "paths": ["graded/"]}
    assert template_commands() == [
        "sudo --preserve-env=GITHUB_STEP_SUMMARY "
        "bash autograder-suite/ci/grade-course.sh autograder-suite submissions graded"]


def test_github_actions_run_on_a_node_the_runners_still_have():
    steps = yaml.safe_load((CI / "github-actions.yml").read_text())["jobs"]["grade"]["steps"]
    used = [s["uses"] for s in steps if "uses" in s]
    assert used
    for action in used:
        name, _, version = action.partition("@")
        repository = "/".join(name.split("/")[:2])  # actions/cache/save is actions/cache's
        assert repository in NODE20_MAJORS, f"{action}: which Node does it run on? add it"
        major = int(version.lstrip("v").split(".")[0])
        assert major > NODE20_MAJORS[repository], f"{action} runs on Node 20 or older"


def test_templates_install_no_dev_tools_and_cache_the_environment(tmp_path):
    steps = yaml.safe_load((CI / "github-actions.yml").read_text())["jobs"]["grade"]["steps"]
    [restore] = [s for s in steps if s.get("uses") == "actions/cache/restore@v5"
                 and s["id"] == "grader-env"]
    [save] = [s for s in steps if s.get("uses") == "actions/cache/save@v5"
              and "grader-env" in s["with"]["key"]]
    assert restore["with"]["path"] == save["with"]["path"] == "autograder-suite/.venv"
    for name in ("steps.python.outputs.python-version", "autograder-suite/pyproject.toml",
                 "autograder-suite/constraints.txt"):
        assert name in restore["with"]["key"]
    # Saved under the key it was looked up by, also after a failed grading step.
    assert save["with"]["key"] == "${{ steps.grader-env.outputs.cache-primary-key }}"
    assert save["if"].startswith("always()") and restore["id"] == "grader-env"
    assert steps.index(save) > max(i for i, s in enumerate(steps) if "run" in s)
    assert _gitlab_job()["cache"][0]["paths"] == ["autograder-suite/.venv"]
    # The install step, as make reads it: no dev extras, and nothing to do in an
    # environment restored from the cache (whatever the files' dates after a checkout).
    suite = _course(tmp_path / "course") / "autograder-suite"
    (suite / ".venv").unlink()
    plan = subprocess.run(["make", "-n", "-C", str(suite), "install-grader"],
                          capture_output=True, text=True, check=True).stdout
    assert "pip install --quiet -c constraints.txt -e ." in plan and "[dev]" not in plan
    (suite / ".venv").mkdir()
    stamp = re.search(r"touch (\S+)", plan).group(1)
    (suite / stamp).touch()
    for name in ("pyproject.toml", "constraints.txt"):
        (suite / name).touch()  # newer than the stamp, as after a fresh checkout
    assert subprocess.run(["make", "-q", "-C", str(suite), "install-grader"]).returncode == 0


def test_templates_cache_the_releases():
    """A release is verified by grading (minutes): CI keeps dist/ between runs, keyed on what
    it is built from, so a push that changes only submissions rebuilds nothing."""
    steps = yaml.safe_load((CI / "github-actions.yml").read_text())["jobs"]["grade"]["steps"]
    [restore] = [s for s in steps if s.get("id") == "releases"]
    [save] = [s for s in steps if s.get("uses") == "actions/cache/save@v5"
              and "steps.releases" in s["with"]["key"]]
    assert restore["uses"] == "actions/cache/restore@v5"
    assert restore["with"]["path"] == save["with"]["path"] == "autograder-suite/dist"
    for inputs in ("autograder-suite/assignments/**", "autograder-suite/autograder/**",
                   "autograder-suite/constraints.txt"):
        assert inputs in restore["with"]["key"]
    assert restore["with"]["restore-keys"] == "releases-${{ runner.os }}-"
    assert save["if"].startswith("always()")
    grading = next(i for i, s in enumerate(steps) if "grade-course.sh" in s.get("run", ""))
    assert steps.index(restore) < grading < steps.index(save)
    [cache] = [c for c in _gitlab_job()["cache"] if c["paths"] == ["autograder-suite/dist"]]
    assert cache["key"] == "releases"


def _course(root: Path) -> Path:
    """A course repository as ci/README.md describes it, this suite copied in (its venv
    linked: the install steps are the ones not run)."""
    suite = root / "autograder-suite"
    suite.mkdir(parents=True)
    for name in SUITE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, suite / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, suite / name)
    (suite / ".venv").symlink_to(ROOT / ".venv")
    return root


def _ci_command_exists() -> bool:
    from autograder.cli import build_parser

    with contextlib.redirect_stderr(io.StringIO()):
        try:
            build_parser().parse_args(["ci", "01-tensors", "submissions", "--out", "graded"])
        except SystemExit:
            return False
    return True


def _run(command: str, course: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-e", "-c", command], cwd=course, env=env,
                          capture_output=True, text=True, timeout=1800)


def _sudo_env(tmp_path: Path) -> dict[str, str]:
    """The environment to run a template's ``sudo`` steps in: sudo itself where it works
    without a password; where it does not (no sudo, as in a root container) and we are
    root already, a stand-in that runs the command as it is."""
    env = dict(os.environ)
    usable = shutil.which("sudo") and subprocess.run(
        ["sudo", "-n", "true"], capture_output=True).returncode == 0
    if not usable:
        if os.geteuid() != 0:
            pytest.skip("the template grades under sudo; no passwordless sudo here")
        shim = tmp_path / "bin" / "sudo"
        shim.parent.mkdir()
        shim.write_text('#!/usr/bin/env bash\nwhile [[ "$1" == -* ]]; do shift; done\n'
                        'exec "$@"\n')
        shim.chmod(0o755)
        env["PATH"] = f"{shim.parent}{os.pathsep}{env['PATH']}"
    return env


def _pack_like_upload_artifact(source: Path, dest: Path, *, include_hidden: bool) -> Path:
    """What actions/upload-artifact (v4.4 and later) stores of ``source``: every file, but those
    with a hidden part in their path unless ``include-hidden-files`` is true."""
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_file() and (include_hidden or
                               not any(p.startswith(".") for p in relative.parts)):
            copy_to(path, dest / relative)
    return dest


def test_templates_run_as_written_in_a_course_repository(request, tmp_path):
    assert _ci_command_exists(), "`autograder ci` is not wired into autograder/cli.py yet"
    release = request.getfixturevalue("releases")["01-tensors"]
    course = _course(tmp_path / "course")
    copy_to(release.solution, course / "submissions" / "01-tensors" / "alice.ipynb")
    copy_to(release.student_notebook, course / "submissions" / "01-tensors" / "bob.ipynb")
    step_summary = tmp_path / "github_step_summary.md"
    step_summary.touch()  # the runner creates it; steps append
    env = {**_sudo_env(tmp_path), "GITHUB_STEP_SUMMARY": str(step_summary)}
    for command in template_commands():
        run = _run(command, course, env)
        assert run.returncode == 0, f"{command}\n{run.stdout}\n{run.stderr}"

    graded = course / "graded" / "01-tensors"
    rows = _gradebook(graded)
    assert [(r["submission"], r["status"], r["percent"]) for r in rows] == [
        ("alice", "graded", "100.0"), ("bob", "graded", "0.0")]
    assert (graded / "feedback" / "alice.md").exists()
    assert (graded / "results" / "bob.json").exists()
    summary = (graded / SUMMARY_FILE).read_text()
    alice = next(r for r in rows if r["submission"] == "alice")
    assert TABLE_HEADER in summary
    assert f"| alice | graded | {alice['score']} / {alice['possible']} | 100.0% |" in summary
    assert step_summary.read_text() == summary
    assert (course / "autograder-suite" / "dist" / "01-tensors" / "autograder.zip").exists()
    # Graded as root (sudo): the summary says the protections were on.
    records = [json.loads(p.read_text()) for p in (graded / ".records").glob("*.json")]
    levels = {r["result"]["isolation"] for r in records}
    assert levels and levels <= set(ISOLATION_LEVELS), levels
    expected = "on" if levels == {"full"} else "off" if "none" in levels else "partial"
    assert f"**Isolation: {expected}.**" in summary

    # What a TA downloads: the artifact as upload-artifact packs it, then report and export.
    upload = yaml.safe_load((CI / "github-actions.yml").read_text())["jobs"]["grade"][
        "steps"][-1]["with"]
    artifact = _pack_like_upload_artifact(
        course / "graded", tmp_path / "artifact",
        include_hidden=upload.get("include-hidden-files", False) is True)
    autograder = str(ROOT / ".venv" / "bin" / "autograder")
    for command in (["report", "01-tensors"], ["export", "long", "01-tensors"]):
        run = subprocess.run([autograder, *command], cwd=artifact, capture_output=True,
                             text=True, timeout=300)
        assert run.returncode == 0, f"{command}: {run.stderr}"
    assert "alice" in (artifact / "01-tensors" / "report.html").read_text()
    long_rows = _gradebook_file(artifact / "01-tensors" / "scores-long.csv")
    assert {r["student"] for r in long_rows} == {"alice", "bob"}


def test_course_script_fails_for_an_unknown_assignment_or_no_submissions(tmp_path):
    script = "bash autograder-suite/ci/grade-course.sh autograder-suite submissions graded"
    course = _course(tmp_path / "course")
    (course / "submissions").mkdir()
    run = _run(script, course, dict(os.environ))
    assert run.returncode == 1 and "no assignment folders" in run.stderr
    (course / "submissions" / "99-nope").mkdir()
    (course / "submissions" / "99-nope" / "alice.ipynb").write_text("{}")
    run = _run(script, course, dict(os.environ))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "no assignment named '99-nope'" in run.stderr
    assert "could not grade: 99-nope" in run.stderr


def test_the_isolation_line_reads_the_graders_record_not_a_rows_text():
    """A submission's message can quote its own output: text there changes nothing."""
    def row(name: str, isolation: str, message: str = "") -> SubmissionResult:
        return SubmissionResult(submission=name, source=name, assignment="01-tensors",
                                status="graded", questions=(), message=message,
                                isolation=isolation)

    forged = row("forger", "full", f"cell 3: {NO_NAMESPACES}, disk use not bounded")
    assert isolation_line([forged, row("honest", "full")], as_root=True).startswith(
        "**Isolation: on.**")
    weakest = [row("a", "full"), row("b", "no-namespaces"), row("c", "")]
    assert isolation_line(weakest, as_root=True).startswith("**Isolation: partial.** Graded as "
                                                            "root, but without CAP_SYS_ADMIN")
    assert isolation_line([row("a", "full"), row("b", "none")], as_root=True).startswith(
        "**Isolation: off.**")
    assert isolation_line([row("a", "no-uid")], as_root=True).startswith(
        "**Isolation: partial.** Graded without root")
    # nothing ran (only unreadable files): this machine decides
    assert isolation_line([row("x", "")], as_root=False).startswith("**Isolation: partial.**")


def _student_repo(folder: Path, commits: list[tuple[str, str, str]]) -> Path:
    """A student's repository: (date, file, content) committed in order."""
    folder.mkdir(parents=True)
    git = ["git", "-C", str(folder), "-c", "user.name=s", "-c", "user.email=s@example.org"]
    subprocess.run([*git, "init", "--quiet"], check=True)
    for date, name, content in commits:
        (folder / name).write_text(content)
        subprocess.run([*git, "add", name], check=True)
        subprocess.run([*git, "commit", "--quiet", "-m", name, f"--date={date}"], check=True,
                       env={**os.environ, "GIT_COMMITTER_DATE": date})
    return folder


def test_collecting_from_student_repositories(tmp_path):
    """ci/collect-submissions.sh, as ci/README.md runs it: one repository per student, the
    release's notebook taken from each (the last commit before the deadline), every student
    that cannot be collected named with the reason, the others collected."""
    course = _course(tmp_path / "course")
    remotes = tmp_path / "remotes"
    _student_repo(remotes / "01-tensors-ada", [
        ("2026-09-30T10:00:00", "tensors.ipynb", '{"v": "early"}'),
        ("2026-10-02T10:00:00", "tensors.ipynb", '{"v": "late"}')])
    _student_repo(remotes / "01-tensors-bob", [
        ("2026-09-29T10:00:00", "my work.ipynb", '{"v": "bob"}')])
    _student_repo(remotes / "01-tensors-cy", [("2026-09-29T10:00:00", "notes.txt", "no nb")])
    _student_repo(remotes / "01-tensors-dee", [("2026-10-03T10:00:00", "tensors.ipynb", "{}")])
    roster = tmp_path / "roster.txt"
    roster.write_text("# 2026 class\nada\nbob  # renamed his notebook\ncy\ndee\neve\nx;rm\n")
    run = subprocess.run(
        ["bash", str(course / "autograder-suite/ci/collect-submissions.sh"), "01-tensors",
         str(roster), f"{remotes}/01-tensors-{{login}}", str(course / "submissions"),
         "--before", "2026-10-01T00:00:00"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    folder = course / "submissions" / "01-tensors"
    assert sorted(p.name for p in folder.iterdir()) == ["ada.ipynb", "bob.ipynb"]
    assert (folder / "ada.ipynb").read_text() == '{"v": "early"}'  # before the deadline
    assert (folder / "bob.ipynb").read_text() == '{"v": "bob"}'  # the only notebook
    missing = dict(line.split("\t") for line in
                   (course / "submissions" / "01-tensors.not-collected.txt").read_text()
                   .splitlines())
    assert sorted(missing) == ["cy", "dee", "eve", "x;rm"]
    assert "no tensors.ipynb" in missing["cy"]
    assert "no commit before" in missing["dee"]
    assert "no repository" in missing["eve"]
    assert "not a login" in missing["x;rm"]
    assert "collect: 2 notebook(s)" in run.stdout
    # Nobody collected: exit 1.
    roster.write_text("eve\n")
    again = subprocess.run(
        ["bash", str(course / "autograder-suite/ci/collect-submissions.sh"), "01-tensors",
         str(roster), f"{remotes}/01-tensors-{{login}}", str(tmp_path / "none")],
        capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and "eve: not collected" in again.stderr
