"""The bundle's Gradescope entry point: ``run_autograder`` runs our own engine.

(The bundle's other files, ``setup.sh`` and the pins, are made by ``bundle_files``.)
Gradescope unpacks the bundle into ``$ROOT/source``, the student's files into
``$ROOT/submission``, and reads ``$ROOT/results/results.json``. ``ROOT`` is ``/autograder`` on
Gradescope; tests point ``AUTOGRADER_ROOT`` at a temporary folder laid out the same way.
"""

from __future__ import annotations

import json
import tempfile
import traceback
from pathlib import Path

from autograder.reports.gradescope_json import gradescope_json
from autograder.reports.output_folder import atomic_write
from autograder.text import printable


def run_gradescope(root: Path) -> int:
    """Grade ``root/submission`` with ``root/source``; always write results/results.json."""
    from autograder.grading.grader import grade_submissions

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
                   "been told. " + printable(traceback.format_exc(limit=1).splitlines()[-1])}
    atomic_write(results_path, json.dumps(results, indent=1))
    return 0


