"""The grader grades the same wherever it is installed, or not at all. The student's view
binds the grader's Python and packages at their own paths and mounts the submission's box as
/tmp, /var/tmp and /dev/shm: a grader installed under one of those (a CI workspace, a scratch
folder) must keep every module torch imports lazily inside student code
(``torch.utils.serialization``, ``torch.load``), or honest students lose points with status
``graded`` and no warning.

Each case is this suite and its virtual environment, copied under the folder (hard links where
it is the same file system), in a folder whose name holds a space, grading the reference of
every assignment from there. And where the environment is broken (a module torch imports
lazily, removed from the copy), the engine's self-check stops grading before the first
submission, with one line saying so, and no score is written.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import ASSIGNMENT_NAMES, ROOT

VENV = ROOT / ".venv"


def _install_copy(where: str) -> Path:
    """This suite's package and venv under ``where``; returns the copy's folder."""
    same_device = os.stat(where).st_dev == os.stat(VENV).st_dev
    if not same_device:  # a real copy: it must fit (a small /dev/shm is a machine's choice)
        size = sum(os.lstat(os.path.join(top, name)).st_size
                   for top, _, names in os.walk(VENV) for name in names)
        if shutil.disk_usage(where).free < 1.5 * size:
            pytest.skip(f"{where} has no room for a {size >> 20} MB copy of the venv")
    suite = Path(tempfile.mkdtemp(prefix="autograder suite ", dir=where))
    subprocess.run(["cp", "-al" if same_device else "-a", str(VENV), str(suite / ".venv")],
                   check=True)
    shutil.copytree(ROOT / "autograder", suite / "autograder",
                    ignore=shutil.ignore_patterns("__pycache__"))
    # The editable install's finder names the package folder: point it at the copy (a new
    # file, not the hard-linked one).
    [finder] = (suite / ".venv").glob("lib/python*/site-packages/__editable__*_finder.py")
    text = finder.read_text()
    finder.unlink()
    finder.write_text(re.sub(r"'autograder': '[^']*'", repr("autograder") + ": "
                             + repr(str(suite / "autograder")), text))
    return suite


def _env() -> dict[str, str]:
    """Run from outside any checkout, so only the installed copy can be imported."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


@pytest.mark.skipif(os.geteuid() != 0, reason="the view (and its mount order) needs root")
@pytest.mark.parametrize("where", ["/tmp", "/dev/shm"])
def test_a_grader_installed_under_the_boxs_folders_grades_every_reference_at_100(
        releases, where, tmp_path):
    if not os.path.isdir(where):
        pytest.skip(f"no {where} on this machine")
    suite = _install_copy(where)
    try:
        python = suite / ".venv" / "bin" / "python"
        env = _env()
        where_from = subprocess.run([str(python), "-c", "import autograder; "
                                     "print(autograder.__file__)"], check=True, env=env,
                                    capture_output=True, text=True, cwd=tmp_path).stdout.strip()
        assert where_from.startswith(str(suite)), where_from
        for name in ASSIGNMENT_NAMES:
            release = releases[name]
            out = tmp_path / name
            run = subprocess.run([str(python), "-m", "autograder", "grade", str(release.bundle),
                                  str(release.solution), "--out", str(out)],
                                 capture_output=True, text=True, cwd=tmp_path, env=env)
            assert run.returncode == 0, run.stdout + run.stderr
            with open(out / "grades.csv", newline="") as handle:
                [row] = list(csv.DictReader(handle))
            assert (row["status"], row["percent"]) == ("graded", "100.0"), (name, row)
    finally:
        shutil.rmtree(suite, ignore_errors=True)


def test_a_broken_environment_grades_nobody(releases, tmp_path):
    suite = _install_copy("/tmp")
    try:
        [site] = (suite / ".venv").glob("lib/python*/site-packages")
        shutil.rmtree(site / "torch" / "utils" / "serialization")  # the copy's links only
        release = releases["01-tensors"]
        out = tmp_path / "out"
        run = subprocess.run([str(suite / ".venv" / "bin" / "python"), "-m", "autograder",
                              "grade", str(release.bundle), str(release.solution), "--out",
                              str(out)], capture_output=True, text=True, cwd=tmp_path,
                             env=_env())
    finally:
        shutil.rmtree(suite, ignore_errors=True)
    assert run.returncode != 0, run.stdout
    lines = [line for line in run.stderr.splitlines() if "grading environment is broken" in line]
    assert len(lines) == 1 and "serialization" in lines[0], run.stderr
    # The gradebook lists the batch as pending, as an interrupted run leaves it; no score.
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["grades.csv"], written
    with open(out / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["status"], r["score"]) for r in rows] == [("pending", "")], rows
