"""The student notebook's first cell: it carries the check helpers and the public tests, so
the notebook works wherever it is (alone in a folder, downloaded by itself, on Colab).

One source of truth: the helpers packed are this package's own files (``PACKED_HELPERS``),
read at release time; the tests packed are the public tests otter assign put in the
notebook's metadata. The cell unpacks them into a folder of the temporary directory named by
their hash (nothing is written next to the notebook), puts it first on ``sys.path``, and
creates ``grader`` (``notebook_grader.NotebookGrader``) with the tests as files, which take
their ``test_case`` from ``public_checks`` instead of otter. Where otter-grader is missing
(it makes the export's zip) it stops with the install line, except on Colab, which exports
no zip and has everything else: nothing is installed there.

The cell starts with otter's ``# Initialize Otter`` line: the grader does not run it (it is
not the student's work; ``submission.is_otter_cell``).
"""

from __future__ import annotations

import base64
import json
import textwrap
import zlib
from collections.abc import Mapping
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the autograder package
# What the tests import (checks, probes) and what the cell imports (notebook_grader, which
# runs the tests with public_checks and defers torch's compiler as the grader does).
PACKED_HELPERS = ("__init__.py", "kit/__init__.py", "kit/checks.py", "kit/probes.py",
                  "kit/regular_files.py", "kit/notebook_grader.py", "kit/public_checks.py",
                  "kit/compiler_on_demand.py")
# otter's test files import their decorator from otter; the packed ones take ours, so a check
# runs without importing otter (``public_checks``).
OTTER_TEST_CASE = "from otter.test_files import test_case"
OUR_TEST_CASE = "from autograder.kit.public_checks import test_case"
FIRST_LINE = "# Initialize Otter"

_TEMPLATE = '''\
# Initialize Otter: run this cell first. It unpacks what the checks need (the course's check
# helpers and this notebook's public tests, packed below) into a temporary folder, so they work
# wherever this notebook is: alone in a folder, in JupyterLab, or on Colab. Do not edit it.
def _set_up_grader():
    import base64, hashlib, importlib.util, json, os, shutil, sys, tempfile, zlib
    # otter-grader makes the export's zip (found here, not imported). Colab has the rest
    # (torch, NumPy, IPython) and exports no zip: nothing to install there.
    if importlib.util.find_spec("otter") is None and "google.colab" not in str(get_ipython()):
        raise ImportError("otter-grader is not installed: in the folder of this notebook "
                          "run `@INSTALL@` (see README.md)")
    data = zlib.decompress(base64.b64decode(_PACKED))
    folder = os.path.join(tempfile.gettempdir(),
                          "autograder-" + hashlib.sha256(data).hexdigest()[:16])
    if not os.path.isdir(folder):
        staging = tempfile.mkdtemp(prefix=".autograder-")
        for name, text in json.loads(data).items():
            path = os.path.join(staging, *name.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        try:
            os.rename(staging, folder)
        except OSError:  # another kernel unpacked the same files first
            shutil.rmtree(staging, ignore_errors=True)
    # These helpers, not another copy that happens to be importable.
    sys.path.insert(0, folder)
    for module in [m for m in sys.modules if m == "autograder" or m.startswith("autograder.")]:
        del sys.modules[module]
    importlib.invalidate_caches()
    from autograder.kit.notebook_grader import NotebookGrader
    return NotebookGrader(@ASSIGNMENT@, tests_dir=os.path.join(folder, "tests"))


_PACKED = (
@PACKED@
)
grader = _set_up_grader()
'''


def packed_files(public_tests: Mapping[str, str]) -> dict[str, str]:
    """Path inside the unpacked folder -> text: the helpers and one test file per question."""
    files = {f"autograder/{name}": (PACKAGE_DIR / name).read_text(encoding="utf-8")
             for name in PACKED_HELPERS}
    for question, source in public_tests.items():
        if OTTER_TEST_CASE not in source.splitlines():
            raise ValueError(f"the public test of {question} is not an otter exception-based "
                             f"test file (no line {OTTER_TEST_CASE!r})")
        files[f"tests/{question}.py"] = "\n".join(
            OUR_TEST_CASE if line == OTTER_TEST_CASE else line
            for line in source.split("\n"))
    return files


def pack(files: Mapping[str, str]) -> str:
    """JSON, compressed, base64: sorted, so the same files give the same text."""
    data = json.dumps(dict(sorted(files.items())), ensure_ascii=False).encode("utf-8")
    return base64.b64encode(zlib.compress(data, 9)).decode("ascii")


def unpack(packed: str) -> dict[str, str]:
    """The inverse of ``pack`` (the cell does the same, inline)."""
    return json.loads(zlib.decompress(base64.b64decode(packed)))


def setup_cell_source(assignment: str, public_tests: Mapping[str, str], *,
                      install_line: str) -> str:
    lines = textwrap.wrap(pack(packed_files(public_tests)), 96)
    return (_TEMPLATE.replace("@INSTALL@", install_line)
            .replace("@ASSIGNMENT@", repr(assignment))
            .replace("@PACKED@", "\n".join(f'    "{line}"' for line in lines)))


def packed_in(source: str) -> str:
    """The packed text of a setup cell (for tests and tools that read what a notebook
    carries)."""
    start = source.index("_PACKED = (\n") + len("_PACKED = (\n")
    body = source[start:source.index("\n)\n", start)]
    return "".join(line.strip().strip('"') for line in body.splitlines())
