"""Bad input: every malformed or unexpected submission gets its row, with a message that says
what is wrong, and the batch goes on. Also the shape of the outputs (gradebook CSV, Gradescope
results.json, feedback) and the command line's exit codes.

Built on 01-tensors: one batch of bad submissions graded by the real engine, plus the CLI run
as a subprocess.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, answer_cell_index

from autograder.bundle import load_bundle
from autograder.grading.grader import grade_submissions
from autograder.grading.job import Limits

ASSIGNMENT = "01-tensors"
LIMITS = Limits(submission_seconds=60.0, cell_seconds=30.0)
GRADESCOPE_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


@dataclass(frozen=True)
class Expect:
    status: str
    fragments: tuple[str, ...] = ()  # each must appear in the row's message (case-insensitive)
    full_marks: bool = False
    bug: str = ""  # the message check is xfail(strict=True) with this reason


EXPECTED = {
    "empty": Expect("invalid", ("empty.ipynb", "empty")),
    "truncated": Expect("invalid", ("truncated.ipynb", "json", "truncated")),
    "png-renamed": Expect("invalid", ("png-renamed.ipynb", "not text")),
    "not-a-notebook": Expect("invalid", ("not-a-notebook.ipynb", "not a jupyter notebook")),
    "json-list": Expect("invalid", ("json-list.ipynb", "not a jupyter notebook")),
    "nbformat3": Expect(
        "invalid", ("nbformat3.ipynb", "format 3")),
    "cell-source-number": Expect("invalid", ("cell-source-number.ipynb", "source")),
    "huge": Expect("invalid", ("huge.ipynb", "64 mb")),
    "deep-json": Expect("invalid", ("deep-json.ipynb", "nests")),
    "linked": Expect("invalid", ("linked.ipynb", "symbolic link")),
    "linked-folder": Expect("invalid", ("linked-folder/", "tensors.ipynb", "symbolic link")),
    "fifo": Expect("invalid", ("fifo", "not a regular file")),
    "not-a-zip": Expect("invalid", ("not-a-zip.zip", "not a readable zip")),
    "no-notebook": Expect("invalid", ("no-notebook.zip", "0 notebooks")),
    "two-notebooks": Expect("invalid", ("two-notebooks.zip", "2 notebooks")),
    "wrong-assignment": Expect("invalid", ("02-reproducibility", ASSIGNMENT)),
    "r-kernel": Expect("invalid", ("r-kernel.ipynb", "'ir'", "not python")),
    "reference": Expect("graded", full_marks=True),
    "export": Expect("graded", full_marks=True),
    "alice": Expect("graded", full_marks=True),
    "alice-2": Expect("graded", full_marks=True),
    "no-otter-metadata": Expect("graded", ("assignment name",), full_marks=True),
    "unknown-kernelspec": Expect("graded", ("conda-env-torch-py", "kernelspec"),
                                 full_marks=True),
    "missing-answer-q3": Expect("graded", ("q3", "missing")),
    "renamed-variable": Expect("graded"),
    "big-cell": Expect("graded", full_marks=True),  # a 3 MB code cell
    "big-outputs": Expect("graded", full_marks=True),  # a 50 MB notebook
}


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _write_submissions(folder: Path, release) -> None:
    """One file per case in EXPECTED (alice twice: alice.ipynb and alice.zip)."""
    solution_text = release.solution.read_text()
    solution = json.loads(solution_text)

    def notebook(name: str, nb: dict) -> None:
        (folder / f"{name}.ipynb").write_text(json.dumps(nb))

    def changed(edit) -> dict:
        nb = json.loads(solution_text)
        edit(nb)
        return nb

    (folder / "empty.ipynb").write_bytes(b"")
    (folder / "truncated.ipynb").write_text(solution_text[: len(solution_text) // 2])
    (folder / "png-renamed.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (folder / "not-a-notebook.ipynb").write_text(json.dumps({"student": "alice",
                                                             "answers": [1, 2, 3]}))
    (folder / "json-list.ipynb").write_text(json.dumps([solution]))
    notebook("nbformat3", {
        "nbformat": 3, "nbformat_minor": 0, "metadata": {"name": "tensors"},
        "worksheets": [{"metadata": {}, "cells": [
            {"cell_type": "code", "language": "python", "collapsed": False, "metadata": {},
             "outputs": [], "input": "import torch\nscalar = torch.tensor(7)"}]}]})
    notebook("cell-source-number", changed(lambda nb: nb["cells"][0].update(source=42)))
    notebook("huge", changed(lambda nb: nb["cells"].append(
        {"cell_type": "markdown", "metadata": {}, "source": "x" * (65 * 1024 * 1024)})))
    (folder / "deep-json.ipynb").write_text("[" * 100_000 + "]" * 100_000)
    # A link to a classmate's notebook, alone and inside a student's folder: never followed.
    (folder / "linked.ipynb").symlink_to(folder / "reference.ipynb")
    (folder / "linked-folder").mkdir()
    (folder / "linked-folder" / "tensors.ipynb").symlink_to(folder / "reference.ipynb")
    os.mkfifo(folder / "fifo")  # reading it would block: never opened
    (folder / "not-a-zip.zip").write_text("this is a text file named .zip\n")
    _zip(folder / "no-notebook.zip", {"README.txt": b"my submission", "tensors.py": b"x = 1"})
    _zip(folder / "two-notebooks.zip", {"tensors.ipynb": solution_text.encode(),
                                        "copy/tensors.ipynb": solution_text.encode()})
    notebook("wrong-assignment", changed(
        lambda nb: nb["metadata"]["otter"].update(assignment_name="02-reproducibility")))
    notebook("r-kernel", changed(lambda nb: nb["metadata"].update(
        kernelspec={"name": "ir", "display_name": "R", "language": "R"})))

    # Gradable ones.
    (folder / "reference.ipynb").write_text(solution_text)
    # What grader.export() produces: the notebook plus otter's log, zipped.
    _zip(folder / "export.zip", {"tensors.ipynb": solution_text.encode(),
                                 ".OTTER_LOG": b"\x80\x04log", "__MACOSX/._tensors.ipynb": b""})
    (folder / "alice.ipynb").write_text(solution_text)
    _zip(folder / "alice.zip", {"tensors.ipynb": solution_text.encode()})
    notebook("no-otter-metadata", changed(lambda nb: nb["metadata"].pop("otter")))
    notebook("unknown-kernelspec", changed(lambda nb: nb["metadata"].update(
        kernelspec={"name": "conda-env-torch-py", "display_name": "torch", "language": "python"})))
    notebook("big-cell", changed(lambda nb: nb["cells"].insert(-1, {
        "cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
        "source": "# notes\n" + "# " + "x" * (3 * 1024 * 1024) + "\nnote = 1\n"})))
    notebook("big-outputs", changed(lambda nb: nb["cells"].insert(-1, {
        "cell_type": "markdown", "metadata": {}, "source": "y" * (50 * 1024 * 1024)})))
    notebook("missing-answer-q3", changed(
        lambda nb: nb["cells"].pop(answer_cell_index(nb, "q3"))))

    def rename(nb: dict) -> None:
        cell = nb["cells"][answer_cell_index(nb, "q1")]
        source = "".join(cell["source"])
        assert "scalar = " in source
        cell["source"] = source.replace("scalar = ", "my_scalar = ")

    notebook("renamed-variable", changed(rename))


def _hidden_markers(bundle: Path) -> list[str]:
    """Text that only the hidden tests' source contains: their def lines and body lines."""
    hidden_names = {c.name for q in load_bundle(bundle).questions for c in q.checks if c.hidden}
    with zipfile.ZipFile(bundle) as zf:
        sources = [zf.read(n).decode() for n in zf.namelist()
                   if n.startswith("tests/") and n.endswith(".py")]
    hidden_lines, public_lines = set(), set()
    for source in sources:
        lines = source.splitlines()
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef):
                body = {ln.strip() for ln in lines[node.lineno - 1:node.end_lineno]}
                (hidden_lines if node.name in hidden_names else public_lines).update(body)
    markers = [f"def {name}(" for name in hidden_names]
    markers += [ln for ln in hidden_lines - public_lines if len(ln) >= 30]
    assert hidden_names and markers
    return markers


@pytest.fixture(scope="module")
def graded(releases, tmp_path_factory):
    release = releases[ASSIGNMENT]
    folder = tmp_path_factory.mktemp("bad-input")
    out = tmp_path_factory.mktemp("bad-input-out")
    _write_submissions(folder, release)
    results = grade_submissions(release.bundle, [folder], workers=2, limits=LIMITS, out_dir=out)
    return {"results": {r.submission: r for r in results}, "order": [r.submission for r in results],
            "out": out, "bundle": release.bundle, "folder": folder}


def _param(stem: str, expect: Expect) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=expect.bug)] if expect.bug else []
    return pytest.param(stem, expect, id=stem, marks=marks)


@pytest.mark.parametrize(("stem", "expect"), [_param(s, e) for s, e in EXPECTED.items()])
def test_bad_input_gets_a_row_and_a_clear_message(graded, stem, expect):
    result = graded["results"][stem]
    summary = f"{result.status} {result.score:g}/{result.possible:g}: {result.message}"
    assert result.status == expect.status, summary
    bundle = load_bundle(graded["bundle"])
    assert len(result.questions) == len(bundle.questions), summary
    assert result.possible == sum(q.points for q in bundle.questions) > 0, summary
    if expect.full_marks:
        assert result.score == result.possible, summary
    elif expect.status != "graded":
        assert result.score == 0, summary
    for fragment in expect.fragments:
        assert fragment.lower() in result.message.lower(), summary
    if expect.status == "invalid":
        assert "Traceback" not in result.message, summary
        assert len(result.message) < 400, summary


def test_feedback_of_an_ungradable_file_says_why_once(graded):
    result = graded["results"]["truncated"]
    feedback = (graded["out"] / "feedback" / f"{result.file_stem}.md").read_text()
    assert feedback.count("could not be graded (invalid)") == 1
    # The reason, once (the file's name says "truncated" too, and so may the reason's hint).
    assert feedback.count("not valid notebook JSON") == 1, feedback
    assert "FAILED" not in feedback and "## q1" not in feedback
    assert f"Score: 0 / {result.possible:g}" in feedback


def test_every_file_has_exactly_one_row(graded):
    files = sorted(p.name for p in graded["folder"].iterdir())
    assert len(graded["order"]) == len(files) == len(EXPECTED)
    assert sorted(graded["order"]) == sorted(EXPECTED)


def test_duplicate_stems_get_distinct_rows(graded):
    alice, alice_zip = graded["results"]["alice"], graded["results"]["alice-2"]
    assert alice.source.endswith("alice.ipynb")
    assert alice_zip.source.endswith("alice.zip")
    assert (graded["out"] / "results" / "alice.json").is_file()
    assert (graded["out"] / "results" / "alice-2.json").is_file()


def test_export_zip_is_graded_like_the_notebook(graded):
    export, reference = graded["results"]["export"], graded["results"]["reference"]
    assert export.status == reference.status == "graded"
    assert [(q.name, q.score) for q in export.questions] == \
        [(q.name, q.score) for q in reference.questions]


def test_missing_answer_cell_loses_only_that_question(graded):
    result = graded["results"]["missing-answer-q3"]
    lost = [q.name for q in result.questions if q.score < q.possible]
    assert lost == ["q3"], (lost, result.message)


def test_renamed_variable_says_it_is_unassigned(graded):
    result = graded["results"]["renamed-variable"]
    [q1] = [q for q in result.questions if q.name == "q1"]
    assert q1.score < q1.possible
    assert [q.name for q in result.questions if q.score < q.possible] == ["q1"]
    messages = " ".join(c.message for c in q1.checks)
    assert "None (did you assign it?)" in messages and "scalar" in messages, messages
    feedback = (graded["out"] / "feedback" / "renamed-variable.md").read_text()
    assert "did you assign it?" in feedback


def test_gradebook_columns_and_rows(graded):
    bundle = load_bundle(graded["bundle"])
    questions = [q.name for q in bundle.questions]
    possible = sum(q.points for q in bundle.questions)
    assert questions == [f"q{n}" for n in range(1, len(questions) + 1)]
    text = (graded["out"] / "grades.csv").read_text()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["submission", "status", "score", "possible", "percent", *questions,
                       "message"]
    body = rows[1:]
    assert [r[0] for r in body] == graded["order"]
    assert all(len(r) == len(rows[0]) for r in body)
    by_stem = {r[0]: dict(zip(rows[0], r, strict=True)) for r in body}
    for stem, result in graded["results"].items():
        row = by_stem[stem]
        assert row["status"] == result.status
        assert float(row["score"]) == result.score
        assert float(row["possible"]) == result.possible == possible
        assert float(row["percent"]) == pytest.approx(result.percent, abs=0.05)
        assert sum(float(row[q]) for q in questions) == pytest.approx(result.score)
        assert "\n" not in row["message"]


def test_results_json_has_gradescope_shape(graded):
    bundle = load_bundle(graded["bundle"])
    hidden = {f"{q.name}: {c.name}" for q in bundle.questions for c in q.checks if c.hidden}
    n_checks = sum(len(q.checks) for q in bundle.questions)
    for stem, result in graded["results"].items():
        report = json.loads((graded["out"] / "results" / f"{stem}.json").read_text())
        assert isinstance(report["score"], int | float) and report["score"] == result.score
        assert len(report["tests"]) == n_checks
        for test in report["tests"]:
            assert isinstance(test["name"], str) and test["name"]
            assert isinstance(test["score"], int | float)
            assert isinstance(test["max_score"], int | float)
            assert 0 <= test["score"] <= test["max_score"]
            assert test["visibility"] in GRADESCOPE_VISIBILITY
            name = test["name"].removesuffix(" (skipped)")
            assert (test["visibility"] != "visible") == (name in hidden), test
        assert sum(t["score"] for t in report["tests"]) == pytest.approx(report["score"])


def test_feedback_never_contains_hidden_test_source(graded):
    markers = _hidden_markers(graded["bundle"])
    for stem in graded["results"]:
        feedback = (graded["out"] / "feedback" / f"{stem}.md").read_text()
        leaked = [m for m in markers if m in feedback]
        assert not leaked, (stem, leaked)


# --- command line -----------------------------------------------------------------------------


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def _one_clear_line(stderr: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1 and lines[0].startswith("autograder: error: "), stderr
    return lines[0]


def test_cli_unknown_assignment_is_a_clear_error(tmp_path):
    run = _cli("grade", "no-such-assignment", "x.ipynb", "--out", str(tmp_path / "out"),
               cwd=ROOT)
    assert run.returncode != 0
    line = _one_clear_line(run.stderr)
    assert "no-such-assignment" in line and ASSIGNMENT in line  # names the known ones
    assert not (tmp_path / "out").exists()


def test_cli_missing_bundle_is_a_clear_error(tmp_path):
    run = _cli("grade", str(tmp_path / "no-such-bundle.zip"), "x.ipynb", "--out",
               str(tmp_path / "out"), cwd=tmp_path)
    assert run.returncode != 0
    assert "no-such-bundle.zip" in _one_clear_line(run.stderr)


def test_cli_missing_submission_is_a_clear_error(releases, tmp_path):
    missing = tmp_path / "no-such-folder" / "alice.ipynb"
    run = _cli("grade", str(releases[ASSIGNMENT].bundle), str(missing), "--out",
               str(tmp_path / "out"), cwd=tmp_path)
    assert run.returncode != 0
    assert str(missing) in _one_clear_line(run.stderr)


def test_cli_grading_bad_submissions_exits_zero(releases, tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    _write_submissions(folder, releases[ASSIGNMENT])
    for path in folder.iterdir():  # keep only the ungradable ones: no sandbox needed
        if EXPECTED.get(path.stem, Expect("graded")).status != "invalid":
            path.unlink()
    out = tmp_path / "out"
    run = _cli("grade", str(releases[ASSIGNMENT].bundle), str(folder), "--out", str(out),
               "--workers", "1", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert len(rows) == len(list(folder.iterdir())) > 5
    assert {r["status"] for r in rows} == {"invalid"}
    assert all(r["message"] for r in rows)
    # The terminal's gradebook says why under each row, cut to the width (80 columns without
    # a terminal, unless COLUMNS says otherwise).
    columns = int(os.environ.get("COLUMNS", "80"))
    lines = run.stdout.splitlines()
    for row in rows:
        [at] = [i for i, line in enumerate(lines) if line.startswith(row["submission"] + " ")]
        why = lines[at + 1]
        assert why.lstrip().startswith("^ ") and len(why) <= columns, why
        assert " ".join(row["message"].split())[:30] in why, (why, row["message"])
