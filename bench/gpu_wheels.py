"""The wheels ``bench/gpu_check.sh`` installs on a GPU machine with no internet.

The device machines here (``/work/.library/device/KINDS.md``) run Python 3.12 with a CUDA
build of torch and many packages (numpy, scipy, scikit-learn, pandas, matplotlib, jinja2, ...)
but not the grader's own (otter-grader, nbclient, ipykernel, ...). This downloads, for
CPython 3.12 on x86-64 Linux, the versions installed here of every package the grader needs
that such a machine lacks (the dependency closure, minus what it holds), into ``.gpu-wheels/``,
which is git-ignored and travels with ``carry``.

    .venv/bin/python bench/gpu_wheels.py      # then: device run, carry [".gpu-wheels"]
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEELS = ROOT / ".gpu-wheels"
NEEDED = ("otter-grader", "nbclient", "nbformat", "ipykernel", "ipython", "pyseccomp")
# What the device image holds already (KINDS.md, "Python packages already there").
ON_DEVICE = {
    "attrs", "certifi", "charset-normalizer", "click", "cloudpickle", "filelock", "fsspec",
    "idna", "jinja2", "joblib", "markupsafe", "matplotlib", "numpy", "packaging", "pandas",
    "pillow", "pip", "psutil", "pygments", "python-dateutil", "pytz", "pyyaml", "requests",
    "rich", "scikit-learn", "scipy", "setuptools", "six", "threadpoolctl", "torch", "tqdm",
    "typing-extensions", "urllib3", "wheel", "wrapt", "pyarrow", "tabulate", "narwhals",
    "anyio", "h11", "httpx", "httpcore", "sniffio", "typer", "shellingham", "mdurl",
    "markdown-it-py", "sympy", "mpmath", "networkx", "triton", "zipp", "pyparsing",
}


def _name(requirement: str) -> str:
    return re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def closure(roots: tuple[str, ...]) -> set[str]:
    """The installed distributions ``roots`` need, transitively (markers for this Python)."""
    seen: set[str] = set()
    todo = [r.lower() for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for requirement in dist.requires or []:
            if "extra ==" in requirement:
                continue
            todo.append(_name(requirement))
    return seen


def main() -> int:
    wanted = sorted(closure(NEEDED) - ON_DEVICE)
    pins = [f"{name}=={metadata.version(name)}" for name in wanted]
    WHEELS.mkdir(exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--only-binary=:all:", "--python-version", "3.12", "--implementation", "cp",
                    "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64",
                    "--platform", "manylinux_2_28_x86_64", "--platform", "any",
                    "--dest", str(WHEELS), *pins], check=True)
    (WHEELS / "requirements.txt").write_text("".join(f"{p}\n" for p in pins))
    size = sum(f.stat().st_size for f in WHEELS.iterdir())
    print(f"{len(pins)} wheels, {size / 2**20:.1f} MiB in {WHEELS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
