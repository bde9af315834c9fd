"""The suite's pinned versions: ``constraints.txt``, the one place versions are pinned.

What installs a part of the suite elsewhere derives its pins from here: the Gradescope bundle
(``bundle_files``) and the student releases' ``requirements.txt`` (``student_env``).
"""

from __future__ import annotations

import re
from pathlib import Path

CONSTRAINTS = Path(__file__).resolve().parents[2] / "constraints.txt"
# A project's dependencies that compute part of its results: wherever the project is
# installed (a student release, the Gradescope bundle), they are pinned along with it.
COMPUTES_WITH = {"scikit-learn": ("scipy", "joblib", "threadpoolctl")}


def project_name(requirement: str) -> str:
    """A requirement's normalised project name (PEP 503): ``scikit_learn`` -> ``scikit-learn``."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""


def suite_pins(constraints: Path = CONSTRAINTS) -> dict[str, str]:
    """Project name -> its pin line (``numpy==2.4.6``), from the suite's constraints.txt."""
    pins = {}
    for line in constraints.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            pins[project_name(line)] = line
    return pins
