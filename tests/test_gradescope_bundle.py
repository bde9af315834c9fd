"""The Gradescope bundle as built: what it installs (only what grading needs, pinned as the
suite pins it), that it installs on Gradescope's default image (python3 3.10) by bringing
its own Python, and that its setup.sh and run_autograder work in an /autograder tree."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

from autograder.authoring.bundle_files import GRADING_PACKAGES, grading_python, suite_pins
from autograder.authoring.pins import project_name

DEV_ONLY = ("playwright", "ruff", "pytest", "dask", "distributed", "otter-grader",
            "nbformat", "nbclient", "ipykernel", "matplotlib", "pyyaml")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, releases) -> dict:
    root = tmp_path_factory.mktemp("bundle")
    release = releases["01-tensors"]
    with zipfile.ZipFile(release.bundle) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    return {"release": release, "files": files, "root": root}


def _lines(text: bytes) -> list[str]:
    return [ln.strip() for ln in text.decode().splitlines()
            if ln.strip() and not ln.startswith(("#", "--"))]


def test_bundle_installs_only_what_grading_needs_pinned_as_the_suite_pins_it(bundle):
    files, pins = bundle["files"], suite_pins()
    assert _lines(files["requirements.txt"]) == list(GRADING_PACKAGES)
    constraints = _lines(files["constraints.txt"])
    assert constraints[:len(GRADING_PACKAGES)] == [pins[name] for name in GRADING_PACKAGES]
    assert set(constraints) <= set(pins.values())  # every pin is the suite's own
    # What scikit-learn computes with is pinned too, else the image could resolve other
    # versions than the ones we test with: its numerics, and any dependency of it the suite
    # pins (read from its installed metadata, so a new one is not forgotten).
    for name in ("scipy", "joblib", "threadpoolctl", *_pinned_requirements("scikit-learn")):
        assert pins[name] in constraints, f"the bundle's constraints.txt does not pin {name}"
    for name in DEV_ONLY:
        assert not any(line.lower().startswith(name) for line in constraints), name
    assert _lines(files["installer.txt"]) == [pins["uv"]]
    setup = files["setup.sh"].decode()
    assert f'python install --no-bin "{grading_python()}"' in setup
    assert zipfile.ZipFile(bundle["release"].bundle).getinfo("setup.sh").external_attr >> 16 \
        & 0o111


def _pinned_requirements(project: str) -> list[str]:
    """The installed ``project``'s unconditional requirements that the suite pins."""
    from importlib import metadata

    from packaging.requirements import Requirement

    names = [project_name(Requirement(text).name) for text in metadata.requires(project) or []
             if Requirement(text).marker is None]
    return [name for name in names if name in suite_pins()]


def _python310() -> str | None:
    """A working Python 3.10 (pyenv's shims exist for versions they will not run: checked)."""
    candidates = [shutil.which("python3.10")]
    if shutil.which("pyenv"):
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip()
        candidates += sorted(glob.glob(f"{root}/versions/3.10*/bin/python3.10"), reverse=True)
    for python in filter(None, candidates):
        probe = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == "(3, 10)":
            return python
    return None


def _registry_reachable(python: str) -> bool:
    probe = subprocess.run([python, "-m", "pip", "index", "versions", "pip"],
                           capture_output=True, text=True, timeout=120)
    return probe.returncode == 0 and "versions" in probe.stdout.lower()


def _dry_run(python: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                           "--quiet", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_bundle_requirements_resolve_on_gradescopes_default_python(bundle, tmp_path):
    """Ubuntu 22.04's python3 is 3.10: it installs the pinned installer, and the pinned
    grading packages resolve for the Python the bundle brings (pip's --python-version)."""
    python = _python310()
    if python is None:
        pytest.skip("no Python 3.10 interpreter here (python3.10 or pyenv's)")
    if not _registry_reachable(python):
        pytest.skip("the package registry is not reachable from here")
    for name in ("installer.txt", "constraints.txt", "requirements.txt"):
        text = bundle["files"][name].decode()
        # torch's CPU index: where it is unreachable, torch resolves from PyPI (same pin).
        (tmp_path / name).write_text("\n".join(ln for ln in text.splitlines()
                                               if not ln.startswith("--extra-index-url")))
    run = _dry_run(python, "-r", "installer.txt", cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    # Wheel tags for that Python decide; this pip (the 3.10's) would also hold each
    # package's Requires-Python against itself, not against the target.
    run = _dry_run(python, "--python-version", grading_python(), "--only-binary=:all:",
                   "--ignore-requires-python",
                   "--target", str(tmp_path / "target"), "-c", "constraints.txt",
                   "-r", "requirements.txt", cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]


FAKE = r'''#!/usr/bin/env bash
# Stands in for the network steps of setup.sh: records each call, makes what it would make.
echo "$(basename "$0") $*" >> "$SETUP_LOG"
case "$(basename "$0") $1 $2" in
  "python3 -m venv"|"python3.11 -m venv")
    mkdir -p "$3/bin"
    cp "$0" "$3/bin/python"; cp "$0" "$3/bin/uv" ;;
  "python -m pip") ;;
  "python -c "*) exec "$REAL_PYTHON" "$@" ;;
  "uv python install") ;;
  "uv python find") echo "$FAKE_BIN/python3.11" ;;
  "apt-get "*) ;;
  *) echo "unexpected: $0 $*" >&2; exit 1 ;;
esac
'''


def test_setup_sh_runs_its_steps_in_a_simulated_autograder_tree(bundle, tmp_path):
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle["release"].bundle) as zf:
        zf.extractall(root / "source")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name in ("apt-get", "python3", "python3.11"):
        (fake_bin / name).write_text(FAKE)
        (fake_bin / name).chmod(0o755)
    log = tmp_path / "setup.log"
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHONS": str(tmp_path / "py"),
           "PATH": f"{fake_bin}:{os.environ['PATH']}", "SETUP_LOG": str(log),
           "FAKE_BIN": str(fake_bin), "REAL_PYTHON": sys.executable}
    run = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    calls = log.read_text().splitlines()
    source, version = root / "source", grading_python()
    assert calls[:2] == ["apt-get update -q", "apt-get install -y -q --no-install-recommends "
                         "python3 python3-venv ca-certificates libseccomp2"]
    assert calls[2:6] == [
        f"python3 -m venv {root}/installer",
        f"python -m pip install -q -r {source}/installer.txt",
        f"uv python install --no-bin {version}",
        f"uv python find --managed-python {version}"]
    assert calls[6:8] == [f"python3.11 -m venv {root}/venv",
                          f"python -m pip install -q -c {source}/constraints.txt "
                          f"-r {source}/requirements.txt"]
    assert calls[8].startswith("python -c import sys")  # the import check, really run
    assert (root / "venv" / "bin" / "python").exists()


def _distributions_outside(requirements: list[str]) -> set[str]:
    """Top-level modules installed here whose distributions the bundle does not install
    (its requirements and what they depend on)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    def norm(name: str) -> str:
        return name.lower().replace("_", "-").replace(".", "-")

    wanted, todo = set(), [norm(r) for r in requirements]
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        wanted.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(norm(requirement.name))
    blocked = set()
    for module, dists in metadata.packages_distributions().items():
        if module.isidentifier() and not any(norm(d) in wanted for d in dists) \
                and module != "autograder":
            blocked.add(module)
    return blocked


# Makes the blocked modules absent, as in an environment without them: not found (so
# ``importlib.util.find_spec`` says None, and an import raises ModuleNotFoundError).
BLOCKER = '''
from importlib.machinery import PathFinder
BLOCKED = set(%r)
_find_spec = PathFinder.find_spec.__func__
def _absent_if_blocked(cls, name, path=None, target=None):
    if name.split(".")[0] in BLOCKED:
        return None
    return _find_spec(cls, name, path, target)
PathFinder.find_spec = classmethod(_absent_if_blocked)
'''


def test_run_autograder_needs_only_what_the_bundle_installs(bundle, tmp_path):
    """Gradescope's per-submission step, in an environment holding only the bundle's
    requirements: anything else the engine imported would fail there."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle["release"].bundle) as zf:
        zf.extractall(root / "source")
    blocked = _distributions_outside(list(GRADING_PACKAGES))
    assert {"nbformat", "yaml", "otter", "dask"} <= blocked
    (root / "source" / "sitecustomize.py").write_text(BLOCKER % sorted(blocked))
    (root / "submission").mkdir()
    shutil.copy2(bundle["release"].solution, root / "submission" / "tensors.ipynb")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    full = sum(t["max_score"] for t in results["tests"])  # the reference solution: full marks
    assert full > 0 and results["score"] == full, results["output"]
