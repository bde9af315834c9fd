"""Grading end to end with the real engine: scores, skips, outputs, determinism, resume,
the Gradescope entry point, and agreement with ``otter run``."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import ASSIGNMENT_NAMES, ROOT, copy_to, graded_once, notebook_with_answer
from make_examples import example_notebooks

from autograder.bundle import load_bundle
from autograder.grading.grader import grade_submissions
from autograder.grading.isolation import landlock_abi
from autograder.kit.checks import cuda_available
from autograder.reports.feedback import feedback_markdown
from autograder.results import SubmissionResult


@pytest.fixture(scope="session")
def example_batches(releases, build_root: Path) -> dict[str, Path]:
    """Per assignment: a folder with the reference, the blank release and the examples."""
    batches = {}
    for name in ASSIGNMENT_NAMES:
        release = releases[name]
        folder = build_root / "examples" / name
        copy_to(release.solution, folder / "reference.ipynb")
        copy_to(release.student_notebook, folder / "blank.ipynb")
        for file_name, text in example_notebooks(release).items():
            (folder / file_name).write_text(text)
        batches[name] = folder
    return batches


def examples_out(shared_root: Path, name: str) -> Path:
    """Where ``graded_examples`` wrote an assignment's outputs (grades.csv, results, feedback)."""
    return shared_root / "graded-examples" / name


@pytest.fixture(scope="session")
def graded_examples(releases, example_batches, shared_root):
    """Each assignment's examples graded once per test run (``graded_once``: the tests of
    both processes read them), with two workers and outputs written."""
    cache: dict[str, dict[str, SubmissionResult]] = {}

    def results_for(name: str) -> dict[str, SubmissionResult]:
        if name not in cache:
            cache[name] = graded_once(shared_root, f"examples-{name}", lambda: grade_submissions(
                releases[name].bundle, [example_batches[name]], workers=2,
                out_dir=examples_out(shared_root, name)))
        return cache[name]

    return results_for


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_reference_scores_full_marks_and_blank_scores_zero_everywhere(graded_examples, name):
    results = graded_examples(name)
    reference, blank = results["reference"], results["blank"]
    assert reference.status == "graded" and reference.score == reference.possible > 0, [
        (c.name, c.message) for q in reference.questions for c in q.checks
        if c.outcome == "failed"]
    assert blank.status == "graded"
    assert all(q.score == 0 for q in blank.questions), [
        (q.name, q.score) for q in blank.questions if q.score]


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_examples_score_as_designed(graded_examples, name):
    results = graded_examples(name)
    assert results["alternative"].percent == 100.0
    assert 0 < results["partly_wrong"].percent < 100.0


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_committed_examples_are_up_to_date(releases, name):
    for file_name, text in example_notebooks(releases[name]).items():
        committed = ROOT / "examples" / name / file_name
        assert committed.exists() and committed.read_text() == text, \
            f"examples/{name}/{file_name} is stale: run `make examples`"


def test_cuda_checks_are_skipped_and_count_no_points(graded_examples, shared_root):
    if cuda_available():
        pytest.skip("this machine has CUDA: the checks run for real")
    reference = graded_examples("03-gpu")["reference"]
    skipped = [c for q in reference.questions for c in q.checks if c.outcome == "skipped"]
    assert skipped, "the GPU assignment should have CUDA-only checks"
    assert all(c.points == 0 and c.max_points == 0 and "CUDA" in c.message for c in skipped)
    assert reference.score == reference.possible
    gradescope = json.loads((examples_out(shared_root, "03-gpu") / "results" /
                             "reference.json").read_text())
    names = [t["name"] for t in gradescope["tests"] if t["name"].endswith("(skipped)")]
    assert len(names) == len(skipped)
    assert all("status" not in t for t in gradescope["tests"] if "(skipped)" in t["name"])


def test_outputs_gradebook_results_and_feedback(releases, graded_examples, shared_root):
    graded_examples("01-tensors")
    out = examples_out(shared_root, "01-tensors")
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert [r["submission"] for r in rows] == ["alternative", "blank", "partly_wrong",
                                               "reference"]
    questions = [q.name for q in load_bundle(releases["01-tensors"].bundle).questions]
    assert len(questions) >= 16
    assert list(rows[0]) == ["submission", "status", "score", "possible", "percent",
                             *questions, "message"]
    reference = next(r for r in rows if r["submission"] == "reference")
    assert reference["status"] == "graded" and reference["percent"] == "100.0"
    results = json.loads((out / "results" / "partly_wrong.json").read_text())
    assert results["score"] == float(next(r["score"] for r in rows
                                          if r["submission"] == "partly_wrong"))
    hidden = [t for t in results["tests"] if t["visibility"] != "visible"]
    assert hidden and all(t["visibility"] == "after_published" for t in hidden)
    with zipfile.ZipFile(releases["01-tensors"].bundle) as zf:
        test_source = zf.read("tests/q3.py").decode()
    hidden_body = [ln for ln in test_source.splitlines() if ln.startswith("    ")][-1].strip()
    feedback = (out / "feedback" / "partly_wrong.md").read_text()
    assert hidden_body not in feedback and "hidden check(s)" in feedback
    assert "FAILED" in feedback


def _outcomes(results: list[SubmissionResult]) -> list[tuple]:
    return [(r.submission, r.status, r.score,
             tuple((c.name, c.outcome, c.message) for q in r.questions for c in q.checks))
            for r in results]


def test_same_scores_with_one_or_two_workers(releases, example_batches, graded_examples):
    """One worker grades the examples as the two of ``graded_examples`` did."""
    for name in ("01-tensors", "02-reproducibility"):
        one = grade_submissions(releases[name].bundle, [example_batches[name]], workers=1)
        two = graded_examples(name).values()
        assert _outcomes(sorted(one, key=_name)) == _outcomes(sorted(two, key=_name))


def _name(result: SubmissionResult) -> str:
    return result.submission


def test_state_left_by_one_submission_does_not_reach_the_next(releases, build_root):
    """The same worker grades a polluting submission, then the reference: still 100%."""
    release = releases["01-tensors"]
    folder = build_root / "pollution"
    nb = json.loads(release.student_notebook.read_text())
    nb["cells"].insert(1, {"cell_type": "code", "metadata": {}, "outputs": [],
                           "execution_count": None, "source": (
        "import torch, threading, time, builtins, numpy\n"
        "torch.manual_seed(999)\nnumpy.random.seed(999)\ntorch.set_default_dtype(torch.float64)\n"
        "torch.zeros = lambda *a, **k: torch.ones(*a, **k)\n"
        "builtins.POLLUTED = True\nglobal_state = 'dirty'\n"
        "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n")})
    (folder).mkdir(parents=True, exist_ok=True)
    (folder / "a_polluter.ipynb").write_text(json.dumps(nb))
    copy_to(release.solution, folder / "b_reference.ipynb")
    polluter, reference = grade_submissions(release.bundle, [folder], workers=1)
    assert polluter.status == "graded" and polluter.score == 0, polluter.message
    assert reference.status == "graded" and reference.percent == 100.0


def test_kill_and_resume_completes_and_keeps_finished_results(releases, example_batches,
                                                             build_root, tmp_path):
    folder = tmp_path / "submissions"
    slow = json.loads((example_batches["01-tensors"] / "partly_wrong.ipynb").read_text())
    slow["cells"].insert(1, {"cell_type": "code", "metadata": {}, "outputs": [],
                             "execution_count": None, "source": "import time\ntime.sleep(1)"})
    folder.mkdir()
    for i in range(6):
        (folder / f"s{i}.ipynb").write_text(json.dumps(slow))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "autograder", "grade", str(releases["01-tensors"].bundle),
               str(folder), "--out", str(out), "--workers", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    records = out / ".records"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(records.glob("*.json"))
                                               if records.exists() else []) < 2:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = {p.name: p.stat().st_mtime_ns for p in records.glob("*.json")}
    assert 2 <= len(done_before) < 6, "the run should have been cut off part way"
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert len(rows) == 6, "the gradebook has a row per submission even after kill -9"
    assert {r["status"] for r in rows} <= {"graded", "pending"}

    rerun = subprocess.run(command, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert len(rows) == 6 and {r["status"] for r in rows} == {"graded"}
    assert len({r["score"] for r in rows}) == 1
    for name, mtime in done_before.items():
        assert (records / name).stat().st_mtime_ns == mtime, f"{name} was graded again"
    # The rerun says which rows it kept rather than graded (no old timing shown as new).
    kept = [line for line in rerun.stderr.splitlines() if "kept from an earlier run" in line]
    assert len(kept) == len(done_before), rerun.stderr


def test_gradescope_layout_runs_the_bundled_engine(releases, example_batches, tmp_path):
    root = tmp_path / "autograder"
    with zipfile.ZipFile(releases["01-tensors"].bundle) as zf:
        zf.extractall(root / "source")
    (root / "source" / "run_autograder").chmod(0o755)
    copy_to(example_batches["01-tensors"] / "partly_wrong.ipynb",
            root / "submission" / "partly_wrong.ipynb")
    (root / "results").mkdir()
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    run = subprocess.run([str(root / "source" / "run_autograder")], env=env,
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert isinstance(results["score"], float) and results["tests"]
    for test in results["tests"]:
        assert {"name", "score", "max_score", "visibility"} <= set(test)
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
        assert test.get("status", "passed") in ("passed", "failed")
    assert results["score"] == sum(t["score"] for t in results["tests"])
    expected = grade_submissions(releases["01-tensors"].bundle,
                                 [example_batches["01-tensors"] / "partly_wrong.ipynb"])[0]
    assert results["score"] == expected.score


def test_gradescope_layout_with_no_notebook_still_writes_a_result(releases, tmp_path):
    root = tmp_path / "autograder"
    with zipfile.ZipFile(releases["01-tensors"].bundle) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir()
    (root / "submission" / "notes.txt").write_text("I forgot my notebook")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, check=True)
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0.0 and "exactly one notebook" in results["output"]


# --- agreement with otter run -----------------------------------------------------------------


def _otter_scores(bundle: Path, submission: Path, workdir: Path) -> dict[str, float]:
    out = workdir / submission.stem
    out.mkdir(parents=True)
    otter = shutil.which("otter", path=str(Path(sys.executable).parent))
    subprocess.run([otter, "run", "-a", str(bundle), "-o", str(out), str(submission)],
                   check=True, capture_output=True, cwd=workdir, timeout=600)
    tests = json.loads((out / "results.json").read_text())["tests"]
    return {t["name"]: float(t["score"]) for t in tests if "score" in t}


OTTER_COMPARED = ("alternative", "partly_wrong")


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_same_scores_as_otter_run_on_honest_submissions(releases, example_batches,
                                                        graded_examples, name, tmp_path):
    """Our per-question scores equal `otter run`'s on two of the four honest submissions: the
    partly wrong example (every third question one of its wrong answers, the others the
    reference's) and the alternative example (every question one of its other correct
    answers: full marks).

    Sampled: each otter run is a fresh process and kernel running a whole notebook (about 12 s
    of CPU), and these comparisons were the slowest tests of the suite. The reference's answers
    are those of two questions in three of the partly wrong example, and full marks on every
    question the alternative example shows. The blank release scores 0 on every question, as
    ``test_reference_scores_full_marks_and_blank_scores_zero_everywhere`` checks; otter
    agreeing on it added nothing a wrong answer in the partly wrong example does not show."""
    results = graded_examples(name)
    assert {s.stem for s in example_batches[name].iterdir()} == {*OTTER_COMPARED, "blank",
                                                                  "reference"}
    for stem in OTTER_COMPARED:
        submission = example_batches[name] / f"{stem}.ipynb"
        ours = {q.name: q.score for q in results[stem].questions}
        theirs = _otter_scores(releases[name].bundle, submission, tmp_path)
        assert theirs == ours, f"{name}/{submission.name}: otter {theirs} vs ours {ours}"


def test_feedback_shows_hidden_scores_only_when_configured(graded_examples):
    result = graded_examples("01-tensors")["partly_wrong"]
    public_messages = {c.message for q in result.questions for c in q.checks if not c.hidden}
    hidden_messages = [c.message for q in result.questions for c in q.checks
                       if c.hidden and c.outcome == "failed" and c.message
                       and c.message not in public_messages]
    assert hidden_messages
    default = feedback_markdown(result)
    shown = feedback_markdown(result, show_hidden_scores=True)
    assert "hidden checks:" not in default and "hidden checks:" in shown
    assert f"Score: {result.score:g} / {result.possible:g}" in shown
    for message in hidden_messages:
        assert message not in default and message not in shown


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("capsh"), reason="needs root, capsh")
def test_root_without_cap_sys_admin_still_grades_and_says_what_is_missing(releases, tmp_path):
    """A Docker CI runner is root without CAP_SYS_ADMIN: no namespaces, same scores, and
    Landlock still keeps the student's process to its allow-list (where the kernel has it)."""
    secret = tmp_path / "beside" / "instructor.ipynb"
    secret.parent.mkdir()
    secret.write_text("hidden tests")
    secret.chmod(0o644)
    nb = json.loads(releases["01-tensors"].solution.read_text())
    nb["cells"].append(_code_cell(f"open({str(secret)!r}).read()\n"
                                  "raise RuntimeError('READ A FILE OUTSIDE THE ALLOW-LIST')"))
    submission = tmp_path / "reader.ipynb"
    submission.write_text(json.dumps(nb))
    command = (f"{sys.executable} -m autograder grade {releases['01-tensors'].bundle} "
               f"{submission} --out {tmp_path / 'out'}")
    run = subprocess.run(["capsh", "--drop=cap_sys_admin", "--", "-c", command],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    [row] = list(csv.DictReader((tmp_path / "out" / "grades.csv").open()))
    expected = grade_submissions(releases["01-tensors"].bundle, [submission])[0]
    assert row["status"] == "graded" and float(row["score"]) == expected.score
    assert "no private namespaces or filesystem view, disk use not bounded" in row["message"]
    if landlock_abi() >= 1:
        assert "PermissionError" in row["message"] and "READ A FILE" not in row["message"], \
            row["message"]


# --- each question judged at its own check cell -------------------------------------------------


def _code_cell(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": source}


def _check_cell_index(nb: dict, question: str) -> int:
    return next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and
                "".join(c["source"]).strip() == f'grader.check("{question}")')


def test_a_later_cell_reusing_a_name_does_not_change_an_earlier_question(releases, tmp_path):
    """q1 is judged at its own check cell: a later cell that rebinds `matrix` (as a q14 answer
    that reuses the name would) and `describe` changes nothing of q1 or q4."""
    release = releases["01-tensors"]
    nb = json.loads(release.solution.read_text())
    nb["cells"].append(_code_cell("matrix = torch.zeros(9)\ndef describe(t):\n    return None\n"))
    later = tmp_path / "reuses_names.ipynb"
    later.write_text(json.dumps(nb))
    # The same rebinding before q1's check cell is what that check sees, and loses points.
    early_nb = json.loads(release.solution.read_text())
    early_nb["cells"].insert(_check_cell_index(early_nb, "q1"),
                             _code_cell("matrix = torch.zeros(9)"))
    early = tmp_path / "rebinds_before_check.ipynb"
    early.write_text(json.dumps(early_nb))
    by_name = {r.submission: r for r in grade_submissions(release.bundle, [later, early])}
    reused, rebound = by_name["reuses_names"], by_name["rebinds_before_check"]
    assert reused.status == "graded" and reused.score == reused.possible, reused.message
    [q1] = [q for q in rebound.questions if q.name == "q1"]
    assert q1.score < q1.possible


def test_a_deleted_check_cell_is_judged_after_the_questions_answer(releases, tmp_path):
    """Without q1's check cell, q1 is judged right after its answer cell, not at the end."""
    release = releases["01-tensors"]
    nb = json.loads(release.solution.read_text())
    del nb["cells"][_check_cell_index(nb, "q1")]
    nb["cells"].append(_code_cell("matrix = None"))
    path = tmp_path / "no_check_cell.ipynb"
    path.write_text(json.dumps(nb))
    [result] = grade_submissions(release.bundle, [path])
    assert result.status == "graded" and result.score == result.possible, result.message


def test_the_judge_reports_its_round_trips(graded_examples):
    reference = graded_examples("01-tensors")["reference"]
    assert set(reference.judge) == {q.name for q in reference.questions}
    assert all(t["requests"] >= 1 and t["seconds"] >= 0 for t in reference.judge.values())


# --- what a student reads about a failed check ------------------------------------------------


def _graded_with_answers(release, answers: dict[str, str], folder: Path) -> list:
    """The reference solution with each named answer, graded with outputs written."""
    for stem, (question, code) in answers.items():
        notebook_with_answer(release.solution, question, code, folder / "in" / f"{stem}.ipynb")
    return grade_submissions(release.bundle, [folder / "in"], workers=2, out_dir=folder / "out")


def _messages(folder: Path, stem: str, question: str) -> tuple[str, dict[str, str]]:
    """The feedback file, and the question's check messages in results/<stem>.json."""
    feedback = (folder / "out" / "feedback" / f"{stem}.md").read_text()
    tests = json.loads((folder / "out" / "results" / f"{stem}.json").read_text())["tests"]
    return feedback, {t["name"].split(": ", 1)[1]: t["output"] for t in tests
                      if t["name"].startswith(f"{question}: ")}


def test_reproducibility_q9_messages_reach_the_student(releases, tmp_path):
    # Every q9 message names `enable_deterministic_mode()`, a line of its tests too: they are
    # shown as they are (hidden test source never reaches the student's process to be quoted).
    _graded_with_answers(releases["02-reproducibility"], {
        "warns": ("q9", "def enable_deterministic_mode():\n"
                        "    torch.use_deterministic_algorithms(True, warn_only=True)\n"),
        "raises": ("q9", "def enable_deterministic_mode():\n"
                         "    raise ValueError('not written yet')\n"),
    }, tmp_path)
    feedback, checks = _messages(tmp_path, "warns", "q9")
    assert checks["test_q9_raises"].startswith(
        "after `enable_deterministic_mode()`, deterministic algorithms only warn")
    feedback, checks = _messages(tmp_path, "raises", "q9")
    named = "`enable_deterministic_mode()` raised ValueError: not written yet"
    assert f"`test_q9_public`: FAILED (0/1): {named}" in feedback
    assert checks == {"test_q9_public": named, "test_q9_raises": named}
    assert "withheld" not in feedback


def test_a_raising_student_function_is_named_in_public_and_hidden_checks(releases, tmp_path):
    [result] = _graded_with_answers(releases["01-tensors"], {
        "describe": ("q4", "def describe(t):\n    return t.dtype, tuple(t.shape), t.device.kind\n"),
    }, tmp_path)
    [q4] = [q for q in result.questions if q.name == "q4"]
    assert q4.score == 0
    error = "raised AttributeError: 'torch.device' object has no attribute 'kind'"
    feedback, checks = _messages(tmp_path, "describe", "q4")
    checks = {name: text for name, text in checks.items() if not text.startswith("Skipped")}
    assert f"`describe(torch.zeros(2, 3))` {error}" in feedback
    assert all(f"{error}" in message for message in checks.values()), checks
    assert all(message.startswith("`describe(") for message in checks.values()), checks


def test_a_slot_folder_others_can_write_to_is_refused_with_a_message(tmp_path, monkeypatch):
    import tempfile

    from autograder.errors import AutograderError
    from autograder.grading import grader as grade

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    planted = tmp_path / f".autograder-slots-{os.getuid()}"
    planted.mkdir()
    planted.chmod(0o777)  # made by someone else, or open to them: its locks cannot be trusted
    with pytest.raises(AutograderError, match="not a private folder of this user"):
        with grade.worker_pool(1):
            pass
    planted.chmod(0o700)
    with grade._slots(2) as slots, grade._slots(1) as more:
        assert (slots, more) == ([0, 1], [2])  # held slots are not handed out twice


def test_a_cell_is_named_by_the_number_a_person_sees(tensors_release, tmp_path):
    """The grader names a failing cell as JupyterLab numbers it (from 1, over every cell,
    markdown included) with its first line, as validate and release do; not by its place
    among the code cells."""
    from conftest import answer_cell_index

    path = notebook_with_answer(tensors_release.solution, "q2",
                                "# my q2 answer\nraise ValueError('boom')", tmp_path / "nb.ipynb")
    nb = json.loads(path.read_text())
    index = answer_cell_index(nb, "q2")
    code_index = sum(1 for c in nb["cells"][:index] if c["cell_type"] == "code")
    assert code_index != index  # markdown cells before it: the two numberings differ
    [result] = grade_submissions(tensors_release.bundle, [path], workers=1)
    assert f"cell {index + 1} ('# my q2 answer') raised ValueError: boom" in result.message, \
        result.message
