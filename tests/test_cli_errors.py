"""Every failure of the command line is one line on stderr, never a traceback, with a non-zero
exit; an assignment name is found in the suite's assignments/ wherever the command runs."""

from __future__ import annotations

import csv
import os
import subprocess
from pathlib import Path

from conftest import ROOT

AUTOGRADER = str(ROOT / ".venv" / "bin" / "autograder")


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 900) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_SUITE"}
    return subprocess.run([AUTOGRADER, *args], cwd=cwd, env={**environment, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def _one_line(run: subprocess.CompletedProcess, code: int = 1) -> str:
    assert run.returncode == code, (run.returncode, run.stdout, run.stderr)
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    assert lines[0].startswith("autograder"), lines
    return lines[0]


def test_an_assignment_name_works_outside_the_suite(tmp_path):
    """From a course repository's folder (no assignments/ here): the installed suite's."""
    batch = tmp_path / "submissions"
    batch.mkdir()
    (batch / "dan.pdf").write_bytes(b"%PDF-1.4")
    run = _cli("grade", "01-tensors", str(batch), "--out", str(tmp_path / "out"),
               "--workers", "1", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    with open(tmp_path / "out" / "grades.csv", newline="", encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["submission"], row["status"]) == ("dan.pdf", "invalid")


def test_suite_option_and_environment_variable_name_the_suite(tmp_path):
    line = _one_line(_cli("release", "01-tensors", "--suite", str(tmp_path / "nowhere"),
                          cwd=tmp_path))
    assert "--suite" in line and "nowhere" in line and "no such folder" in line
    line = _one_line(_cli("release", "01-tensors", cwd=tmp_path,
                          env={"AUTOGRADER_SUITE": str(tmp_path)}))
    assert "AUTOGRADER_SUITE" in line and "assignments/" in line
    suite = tmp_path / "suite"
    (suite / "assignments").mkdir(parents=True)
    line = _one_line(_cli("release", "01-tensors", "--suite", str(suite), cwd=tmp_path))
    assert "no assignment named '01-tensors'" in line


def test_out_naming_an_existing_file_is_one_line(tmp_path):
    (tmp_path / "graded").write_text("not a folder")
    (tmp_path / "alice.ipynb").write_text("{}")
    bundle = tmp_path / "no-bundle-needed.zip"  # the output folder is checked first
    line = _one_line(_cli("grade", str(bundle), str(tmp_path / "alice.ipynb"), "--out",
                          str(tmp_path / "graded"), cwd=tmp_path))
    assert "graded" in line


def test_missing_folders_and_bad_arguments_are_one_line(tmp_path):
    assert "nowhere" in _one_line(_cli("report", str(tmp_path / "nowhere"), cwd=tmp_path))
    assert "nowhere" in _one_line(_cli("export", "long", str(tmp_path / "nowhere"),
                                       cwd=tmp_path))
    assert "nowhere" in _one_line(_cli("grade", "01-tensors", str(tmp_path / "nowhere"),
                                       "--out", str(tmp_path / "out"), cwd=tmp_path))
    assert "--out" in _one_line(_cli("grade", "01-tensors", "x.ipynb", cwd=tmp_path), code=2)
