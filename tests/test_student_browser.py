"""The student release in a real JupyterLab (a server this test starts), driven through its UI
by headless Chromium (playwright), as a student would: a renamed copy of the notebook
(``tensors (1).ipynb``, a browser download) open beside the blank original, a few answers filled
in, *Run All Cells*: a check passes, a failing check shows its message, and the export zips the
notebook that is open."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import filled_in

from autograder.bundle import load_bundle

CHROMIUM = Path("/usr/bin/chromium")
TOKEN = "student-release-test"
OPENED = "tensors (1).ipynb"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_server(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"jupyter lab exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"jupyter lab did not answer in 120 s: {log.read_text()[-2000:]}")


@pytest.fixture
def lab(tensors_release, tmp_path):
    """A JupyterLab server on a copy of the release, with the renamed notebook beside it."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: apt-get install -y chromium")
    try:
        import jupyterlab  # noqa: F401
        import playwright  # noqa: F401
    except ImportError as error:
        pytest.skip(f"{error.name} is not installed: make install (the dev extra has it)")
    folder = tmp_path / "release"
    shutil.copytree(tensors_release.student_notebook.parent, folder)
    questions = [q.name for q in load_bundle(tensors_release.bundle).questions
                 if q.name != "q2"]  # q2 left blank: its check fails
    (folder / OPENED).write_text(json.dumps(filled_in(tensors_release, questions)))
    port, log = _free_port(), tmp_path / "lab.log"
    state = tmp_path / "jupyter"
    # Every cell in the page (no windowing), so the test reads every output.
    tracker = state / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(state / "config"),
           "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
           "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
           "JUPYTERLAB_SETTINGS_DIR": str(state / "settings"),
           "CUDA_VISIBLE_DEVICES": ""}
    with open(log, "w") as handle:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
             "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
             f"--ServerApp.root_dir={folder}", "--ServerApp.allow_root=True"],
            cwd=folder, env=env, stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(url, server, log)
        yield url, folder
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_student_runs_checks_and_exports_in_jupyterlab(lab, tmp_path):
    from playwright.sync_api import sync_playwright

    url, folder = lab
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/lab/tree/{quote(OPENED)}?token={TOKEN}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            # Run All only once the kernel started for the notebook says it is idle (the
            # status bar): a click before that is lost.
            page.get_by_text(re.compile(r"\| Idle")).first.wait_for(timeout=120_000)
            page.locator(".jp-Notebook .jp-Cell").first.click()
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
            page.get_by_role("menuitem", name=re.compile("^Run All Cells")).click()
            read = ("cells => cells.map(c => [c.querySelector('.jp-InputArea')?.textContent "
                    "|| '', c.querySelector('.jp-OutputArea')?.textContent || ''])")
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                outputs = page.eval_on_selector_all(".jp-Cell", read)
                if any("Your submission has been exported" in out for _, out in outputs):
                    break
                page.wait_for_timeout(1000)
            page.screenshot(path=str(tmp_path / "lab.png"), full_page=True)
            assert any("has been exported" in out for _, out in outputs), \
                [out for _, out in outputs if out][-5:]
        finally:
            browser.close()

    def output_of(code: str) -> str:  # the last cell holding it (prose above may quote it)
        return [out for source, out in outputs if code in source][-1]

    assert "q1 passed!" in output_of('grader.check("q1")')  # otter's HTML result
    failing = output_of('grader.check("q2")')
    assert "q2 results" in failing and "passed!" not in failing
    assert "`" in failing, failing  # the helper's message names the variable
    export = output_of("grader.export(")
    assert f"Exporting {OPENED}" in export and "JPY_SESSION_NAME" in export
    [made] = folder.glob("*.zip")
    with zipfile.ZipFile(made) as zf:
        assert OPENED in zf.namelist() and "tensors.ipynb" not in zf.namelist()
