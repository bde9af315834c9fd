"""The bundle's Gradescope entry point: ``run_autograder`` runs our own engine.

Gradescope unpacks the bundle into ``$ROOT/source``, the student's files into
``$ROOT/submission``, and reads ``$ROOT/results/results.json``. ``ROOT`` is ``/autograder`` on
Gradescope; tests point ``AUTOGRADER_ROOT`` at a temporary folder laid out the same way.
"""

from __future__ import annotations

import json
import tempfile
import traceback
from pathlib import Path

from autograder.reports import atomic_write, gradescope_json

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT_DIR = PACKAGE_DIR.parent

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this once per submission. It grades with the bundled engine (autograder/).
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
cd "$ROOT/source" || exit 1
PYTHONPATH="$ROOT/source" exec "$PYTHON" -m autograder gradescope --root "$ROOT"
"""

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once to build the grading image.
set -euo pipefail
apt-get update -q && apt-get install -y -q python3 python3-venv python3-pip
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q -c /autograder/source/constraints.txt \\
    -r /autograder/source/requirements.txt
"""

REQUIREMENTS = """--extra-index-url https://download.pytorch.org/whl/cpu
torch
numpy
ipython
scikit-learn
tqdm
cloudpickle
pyseccomp
"""


def bundle_entries() -> dict[str, bytes]:
    """Files our bundle adds to otter's: the entry point, the engine, the pinned versions."""
    entries = {
        "run_autograder": RUN_AUTOGRADER.encode(),
        "setup.sh": SETUP_SH.encode(),
        "requirements.txt": REQUIREMENTS.encode(),
        "constraints.txt": (ROOT_DIR / "constraints.txt").read_bytes(),
    }
    for module in sorted(PACKAGE_DIR.rglob("*.py")):
        entries[f"autograder/{module.relative_to(PACKAGE_DIR).as_posix()}"] = module.read_bytes()
    return entries


def run_gradescope(root: Path) -> int:
    """Grade ``root/submission`` with ``root/source``; always write results/results.json."""
    from autograder.grade import grade_submissions

    results_path = root / "results" / "results.json"
    try:
        submission_dir = root / "submission"
        files = sorted(p for p in submission_dir.iterdir()
                       if p.is_file() and p.suffix.lower() in (".ipynb", ".zip"))
        if len(files) != 1:
            names = ", ".join(p.name for p in files) or "none"
            results = {"score": 0.0, "output": f"Submit exactly one notebook (.ipynb) or otter "
                       f"export (.zip); found: {names}.", "tests": []}
        else:
            with tempfile.TemporaryDirectory() as tmp:
                [result] = grade_submissions(root / "source", files, workers=1,
                                             out_dir=Path(tmp))
            results = gradescope_json(result)
    except Exception:  # noqa: BLE001 - the trusted side always writes a result
        results = {"score": 0.0, "tests": [],
                   "output": "The autograder failed on this submission; your instructor has "
                   "been told. " + traceback.format_exc(limit=1).splitlines()[-1]}
    atomic_write(results_path, json.dumps(results, indent=1))
    return 0


