"""The files our bundle adds to otter's: the Gradescope entry point, the image's setup, the
engine, and the pinned versions grading needs (made at release time, never in the image).

Gradescope's default base image is Ubuntu 22.04, whose ``python3`` is 3.10; the suite needs
the Python it is tested with (pyproject's ``requires-python``), and its pins (numpy, IPython,
scikit-learn) have no 3.10 builds. Rather than grade with other versions on other images
(other scores), ``setup.sh`` brings its own CPython, a standalone build installed by uv (a
pinned wheel from PyPI, installed with whatever ``python3`` the image has), and installs the
suite's own pins into it. Only what grading imports is installed: no otter, Jupyter, Dask,
playwright, pytest or ruff.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from autograder.authoring.pins import COMPUTES_WITH, suite_pins

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the autograder package
ROOT_DIR = PACKAGE_DIR.parent

# What grading imports (the engine, the judge, the student's process warm imports) and what
# the assignments' notebooks import. Their versions come from constraints.txt (``pins``).
GRADING_PACKAGES = ("torch", "numpy", "ipython", "scikit-learn", "tqdm", "cloudpickle",
                    "pyseccomp")
# What the bundle's constraints.txt pins: those, and the dependencies that compute part of
# their results (scikit-learn's scipy, joblib, threadpoolctl), which pip would otherwise
# resolve to whatever is newest on the day the image is built.
PINNED_PACKAGES = GRADING_PACKAGES + tuple(
    companion for name in GRADING_PACKAGES for companion in COMPUTES_WITH.get(name, ()))
# Installs the bundle's Python; pinned in constraints.txt like everything else.
INSTALLER = "uv"
# torch's CPU-only wheels: Gradescope has no GPU, and PyPI's default wheels pull GBs of CUDA.
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this once per submission. It grades with the bundled engine (autograder/).
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
cd "$ROOT/source" || exit 1
PYTHONPATH="$ROOT/source" exec "$PYTHON" -m autograder gradescope --root "$ROOT"
"""

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once to build the grading image, on whatever base image the course
# chose (the default, Ubuntu 22.04, has Python 3.10). It brings CPython @PYTHON@, the version
# the suite is tested with, as a standalone build installed by a pinned uv, and installs the
# pinned packages grading needs (constraints.txt) into $ROOT/venv.
#   AUTOGRADER_ROOT     default /autograder (tests point it at a folder laid out the same way)
#   AUTOGRADER_PYTHONS  where the standalone Python goes; default /opt/autograder-python
#                       (student code sees it read-only, never the rest of $ROOT)
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
export UV_PYTHON_INSTALL_DIR="${AUTOGRADER_PYTHONS:-/opt/autograder-python}"

echo "setup: system packages (python3 runs the installer only)"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \\
    python3 python3-venv ca-certificates libseccomp2

echo "setup: the installer, pinned ($SOURCE/installer.txt)"
# In a venv of its own: images with PEP 668 (Ubuntu 24.04) refuse a system-wide pip install.
python3 -m venv "$ROOT/installer"
"$ROOT/installer/bin/python" -m pip install -q -r "$SOURCE/installer.txt"
UV="$ROOT/installer/bin/uv"

echo "setup: CPython @PYTHON@ into $UV_PYTHON_INSTALL_DIR"
"$UV" python install --no-bin "@PYTHON@"
PYTHON=$("$UV" python find --managed-python "@PYTHON@")

echo "setup: the grading environment $ROOT/venv ($PYTHON)"
"$PYTHON" -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install -q -c "$SOURCE/constraints.txt" \\
    -r "$SOURCE/requirements.txt"
# Fail here, at setup, rather than on every submission.
"$ROOT/venv/bin/python" -c "import sys; sys.path.insert(0, '$SOURCE'); \\
import autograder.grading.gradescope, autograder.grading.sandbox, \\
torch, numpy, IPython, sklearn, pyseccomp"
echo "setup: done"
"""


def grading_python(pyproject: Path = ROOT_DIR / "pyproject.toml") -> str:
    """The Python the bundle brings: the oldest the suite supports (and is tested with)."""
    spec = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["requires-python"]
    match = re.fullmatch(r"\s*>=\s*(3\.\d+)\s*", spec)
    if not match:
        raise ValueError(f"pyproject.toml: requires-python {spec!r} is not '>=3.N'")
    return match.group(1)


def bundle_constraints(pins: dict[str, str]) -> str:
    lines = [pins[name] for name in PINNED_PACKAGES if name in pins]
    return ("# Derived from the suite's constraints.txt (autograder/authoring/bundle_files.py):\n"
            "# the pins of what grading installs. Edit the suite's file, not this one.\n"
            + "\n".join(lines) + "\n")


def bundle_requirements() -> str:
    return f"--extra-index-url {TORCH_INDEX}\n" + "\n".join(GRADING_PACKAGES) + "\n"


def bundle_entries() -> dict[str, bytes]:
    """Files our bundle adds to otter's: the entry point, the engine, the pinned versions."""
    pins = suite_pins()
    missing = [n for n in (*PINNED_PACKAGES, INSTALLER) if n not in pins]
    if missing:
        raise ValueError(f"constraints.txt pins no version of {', '.join(missing)}")
    entries = {
        "run_autograder": RUN_AUTOGRADER.encode(),
        "setup.sh": SETUP_SH.replace("@PYTHON@", grading_python()).encode(),
        "requirements.txt": bundle_requirements().encode(),
        "constraints.txt": bundle_constraints(pins).encode(),
        "installer.txt": (pins[INSTALLER] + "\n").encode(),
    }
    for module in sorted(PACKAGE_DIR.rglob("*.py")):
        entries[f"autograder/{module.relative_to(PACKAGE_DIR).as_posix()}"] = module.read_bytes()
    return entries
