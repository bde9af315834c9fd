#!/usr/bin/env bash
# The GPU path in one short run (issue 19), on a Linux machine with CUDA and no internet, such
# as this workplace's device machines (Python 3.12 with a CUDA build of torch preinstalled).
# What the grader lacks there comes from wheels made here beforehand and carried along:
#   .venv/bin/python bench/gpu_wheels.py           # here: .gpu-wheels/ (about 40 MiB)
#   device run: bash bench/gpu_check.sh             # carry [".gpu-wheels"]
# It keeps the machine's own torch (a venv with its site packages), installs the rest from
# .gpu-wheels/ without an index, and runs bench/gpu_check.py: one summary line per assignment.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .gpu-venv/bin/python ]; then
    "$PYTHON" -m venv --system-site-packages .gpu-venv
    .gpu-venv/bin/python -m pip install --quiet --no-index --find-links .gpu-wheels \
        -r .gpu-wheels/requirements.txt
fi
# The engine from this checkout, as the bundle's run_autograder uses it (no install needed).
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec .gpu-venv/bin/python bench/gpu_check.py "$@"
