"""The student release works where students work: a fresh environment built from the
README's install line alone, the notebook alone in a folder, Colab (simulated the way otter
detects it), a renamed notebook beside the original, and the validator on the zip handed in."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, filled_in

from autograder.authoring.pins import suite_pins
from autograder.authoring.setup_cell import (
    OTTER_TEST_CASE,
    OUR_TEST_CASE,
    PACKED_HELPERS,
    packed_in,
    unpack,
)
from autograder.authoring.student_env import INSTALL_LINE
from autograder.bundle import load_bundle
from autograder.reports.feedback import feedback_markdown
from autograder.results import CheckResult, QuestionResult, SubmissionResult

# What otter looks for (str(get_ipython()) contains "google.colab"): the shell's class, renamed.
SIMULATE_COLAB = textwrap.dedent("""\
    _shell = get_ipython()
    class Shell(type(_shell)):
        pass
    Shell.__module__ = "google.colab._shell"
    _shell.__class__ = Shell
    del _shell, Shell
""")
CHECKS_MARKER = "ALL-CHECKS "
# Runs in the environment under test (it needs only nbformat and nbclient, which otter brings):
# executes a notebook in its own folder, with every public check collected at the end.
RUNNER = textwrap.dedent(f"""\
    import json, os, sys
    import nbformat
    from nbclient import NotebookClient
    path, out, first = sys.argv[1], sys.argv[2], sys.argv[3]
    nb = nbformat.read(path, 4)
    if first:
        nb.cells.insert(0, nbformat.v4.new_code_cell(first))
    questions = sorted(nb.metadata["otter"]["tests"], key=lambda q: (len(q), q))
    nb.cells.append(nbformat.v4.new_code_cell(
        "import json as _j\\n"
        f"_r = [[q, bool(r.passed), str(r.message)] for q in {{questions!r}}\\n"
        "      for r in grader.check(q).test_case_results]\\n"
        "print({CHECKS_MARKER!r} + _j.dumps(_r))"))
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={{"metadata": {{"path": os.path.dirname(path)}}}}).execute()
    with open(out, "w") as handle:
        json.dump(nb, handle)
""")
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
           "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
           "PIP_NO_INDEX": "1"}


def _outputs(nb: dict) -> list[tuple[str, str]]:
    """(cell source, output text) for every output of every code cell."""
    found = []
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        for output in cell.get("outputs", []):
            text = output.get("text") or "".join(output.get("data", {}).get("text/plain", ""))
            if output.get("output_type") == "error":
                text = f"{output['ename']}: {output['evalue']}"
            found.append((source, "".join(text)))
    return found


def _errors(nb: dict) -> list[str]:
    return [f"{o['ename']}: {o['evalue']}" for c in nb["cells"] for o in c.get("outputs", [])
            if o.get("output_type") == "error"]


def _checks(nb: dict) -> list[list]:
    for _, text in _outputs(nb):
        for line in text.splitlines():
            if line.startswith(CHECKS_MARKER):
                return json.loads(line[len(CHECKS_MARKER):])
    raise AssertionError(f"the checks did not run: {_errors(nb)}")


def _run(python: Path, notebook: Path, tmp_path: Path, first_cell: str = "",
         env: dict[str, str] | None = None) -> dict:
    runner, out = tmp_path / "runner.py", tmp_path / "executed.json"
    runner.write_text(RUNNER)
    result = subprocess.run([str(python), str(runner), str(notebook), str(out), first_cell],
                            capture_output=True, text=True, timeout=900,
                            env={**os.environ, **OFFLINE, **(env or {})})
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(out.read_text())


def _alone(release, folder: Path, name: str | None = None) -> Path:
    """The student notebook with the reference answers, alone in an empty folder."""
    folder.mkdir(parents=True)
    path = folder / (name or release.student_notebook.name)
    path.write_text(json.dumps(filled_in(release)))
    return path


# --- what the release says and carries ----------------------------------------------------


def test_release_says_how_to_install_pinned_like_the_suite(tensors_release):
    folder = tensors_release.student_notebook.parent
    lines = [ln for ln in (folder / "requirements.txt").read_text().splitlines()
             if ln and not ln.startswith("#")]
    pins = suite_pins()
    assert {"torch==2.13.0", pins["otter-grader"], pins["numpy"], pins["jupyterlab"]} \
        <= set(lines)
    assert all(line in pins.values() for line in lines), "a requirement not pinned by the suite"
    readme = (folder / "README.md").read_text()
    assert f"```sh\n{INSTALL_LINE}\n```" in readme
    assert "## On Google Colab" in readme and "%pip install" not in readme
    assert "Download .ipynb" in readme


def test_first_cell_carries_the_helpers_unchanged_and_the_public_tests(tensors_release):
    nb = json.loads(tensors_release.student_notebook.read_text())
    packed = unpack(packed_in(nb["cells"][0]["source"]))
    for helper in PACKED_HELPERS:  # one source of truth: the suite's own files
        assert packed[f"autograder/{helper}"] == (ROOT / "autograder" / helper).read_text()
    # The public tests otter assign wrote, taking ``test_case`` from the kit, not otter.
    tests = nb["metadata"]["otter"]["tests"]
    assert {f"tests/{q}.py": t.replace(OTTER_TEST_CASE, OUR_TEST_CASE)
            for q, t in tests.items()} == {k: v for k, v in packed.items()
                                          if k.startswith("tests/")}
    assert all(OTTER_TEST_CASE in t for t in tests.values())
    solution = json.loads(tensors_release.solution.read_text())
    assert solution["cells"][0]["source"] == nb["cells"][0]["source"]  # public tests only


# --- a fresh environment from the README's install line alone -----------------------------


@pytest.fixture(scope="module")
def fresh_python(tensors_release, tmp_path_factory) -> Path:
    """A virtual environment made by the README's install line alone, run in a copy of the
    release folder (the suite itself is not installed)."""
    root = tmp_path_factory.mktemp("fresh")
    release = root / "release"
    shutil.copytree(tensors_release.student_notebook.parent, release)
    readme = (release / "README.md").read_text()
    [install] = re.findall(r"```sh\n(pip install[^\n]*)\n```", readme)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    # The README's line, and pip's --no-compile: it skips compiling every installed module to
    # bytecode (torch's thousands: CPU the rest of the suite needs), which Python does on
    # import. (Not PIP_NO_COMPILE=1: pip reads that as compile=True.)
    result = subprocess.run([str(python), "-m", *install.split(), "--no-compile"], cwd=release,
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    probe = subprocess.run([str(python), "-c", "import autograder"], cwd=root,
                           capture_output=True, text=True)
    assert probe.returncode != 0, "the suite is importable in the fresh environment"
    return python


def test_notebook_alone_passes_every_check_in_a_fresh_environment(
        tensors_release, fresh_python, tmp_path):
    notebook = _alone(tensors_release, tmp_path / "empty")
    nb = _run(fresh_python, notebook, tmp_path)
    checks = _checks(nb)
    public = json.loads(tensors_release.student_notebook.read_text())["metadata"]["otter"]
    assert len({q for q, _, _ in checks}) == len(public["tests"])
    assert [c for c in checks if not c[1]] == []
    assert _errors(nb) == []
    zips = list(notebook.parent.glob("*.zip"))  # the export cell ran, outside of Colab
    assert len(zips) == 1 and notebook.name in zipfile.ZipFile(zips[0]).namelist()


def test_notebook_alone_on_simulated_colab_checks_and_says_how_to_submit(
        tensors_release, fresh_python, tmp_path):
    notebook = _alone(tensors_release, tmp_path / "content")
    nb = _run(fresh_python, notebook, tmp_path, first_cell=SIMULATE_COLAB)
    checks = _checks(nb)
    assert checks and [c for c in checks if not c[1]] == []
    assert _errors(nb) == []
    export = [t for s, t in _outputs(nb) if "grader.export" in s]
    # Only where otter's own detection sees Colab does the export cell say this.
    assert export and "File > Download > Download .ipynb" in export[0]
    assert not list(notebook.parent.glob("*.zip")) and not (notebook.parent / "tests").exists()


# --- the notebook that is open is the one exported ------------------------------------------


def _export_only(release, folder: Path, name: str) -> Path:
    """A notebook with the reference answers whose cells are only the set-up and export."""
    nb = filled_in(release)
    nb["cells"] = [nb["cells"][0], next(c for c in nb["cells"]
                                         if "".join(c["source"]).startswith("# Save"))]
    nb["cells"][1]["source"] = "grader.export(pdf=False)"
    nb["metadata"]["answers"] = "filled in"  # tells the two files apart in the zip
    path = folder / name
    path.write_text(json.dumps(nb))
    return path


def _execute_here(notebook: Path, env: dict[str, str]) -> dict:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, 4)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits it, as from jupyter_server
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(notebook.parent)}}).execute()
    finally:
        for key, value in saved.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
    return nb


def test_export_zips_the_renamed_notebook_that_is_open(tensors_release, tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    shutil.copy(tensors_release.student_notebook, folder / "tensors.ipynb")  # blank original
    opened = _export_only(tensors_release, folder, "tensors (1).ipynb")
    # What jupyter_server sets for the kernel of the notebook it opened.
    nb = _execute_here(opened, {"JPY_SESSION_NAME": str(opened)})
    assert _errors(nb) == []
    [made] = folder.glob("*.zip")
    assert made.name.startswith("tensors (1)_")
    with zipfile.ZipFile(made) as zf:
        [inside] = [n for n in zf.namelist() if n.endswith(".ipynb")]
        assert inside == "tensors (1).ipynb"
        assert json.loads(zf.read(inside))["metadata"]["answers"] == "filled in"


def test_export_refuses_naming_both_notebooks_when_it_cannot_tell(tensors_release, tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    shutil.copy(tensors_release.student_notebook, folder / "tensors.ipynb")
    opened = _export_only(tensors_release, folder, "tensors (1).ipynb")
    nb = _execute_here(opened, {"JPY_SESSION_NAME": ""})  # no Jupyter server said which
    [error] = _errors(nb)
    assert "ExportRefused" in error and "'tensors (1).ipynb' and 'tensors.ipynb'" in error
    assert not list(folder.glob("*.zip"))


# --- the validator checks what is handed in, and writes nothing ------------------------------


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*")}


def test_validator_on_the_export_zip_leaves_the_folder_unchanged(tensors_release, tmp_path):
    folder = tmp_path / "release"
    shutil.copytree(tensors_release.student_notebook.parent, folder)
    notebook = folder / "done.ipynb"
    notebook.write_text(json.dumps(filled_in(tensors_release)))
    with zipfile.ZipFile(folder / "done_export.zip", "w") as zf:
        zf.write(notebook, "done.ipynb")
        zf.writestr(".OTTER_LOG", "")
    notebook.unlink()
    before = _snapshot(folder)
    result = subprocess.run([sys.executable, "-m", "autograder.kit.validate", "done_export.zip"],
                            cwd=folder, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    last = load_bundle(tensors_release.bundle).questions[-1].name
    assert "ready to submit" in result.stdout and f"{last}: public checks pass" in result.stdout
    assert _snapshot(folder) == before


# --- feedback states the score the student may see -------------------------------------------


def _result() -> SubmissionResult:
    def check(name: str, points: float, top: float, hidden: bool) -> CheckResult:
        return CheckResult(name, "passed" if points == top else "failed", points, top, hidden,
                           "" if points == top else "`x` has the wrong shape")
    return SubmissionResult(
        submission="alice", source="alice.ipynb", assignment="01-tensors", status="graded",
        questions=(QuestionResult("q1", (check("test_q1_public", 1, 1, False),
                                         check("test_q1_values", 0, 2, True))),
                   QuestionResult("q2", (check("test_q2_public", 0, 1, False),
                                         check("test_q2_values", 3, 3, True)))))


def test_feedback_states_the_score_the_policy_lets_the_student_see():
    default = feedback_markdown(_result())
    assert "**Score on the public checks: 1 / 2.**" in default
    assert "2 hidden check(s), worth 5 points, are not shown" in default
    assert "after the deadline" not in default and "3/3" not in default
    shown = feedback_markdown(_result(), show_hidden_scores=True)
    assert "**Score: 4 / 7** (public checks 1 / 2, hidden checks 3 / 5)" in shown
    assert "- hidden checks: 0/2" in shown and "- hidden checks: 3/3" in shown
