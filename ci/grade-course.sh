#!/usr/bin/env bash
# Grade every assignment of a course repository: the one shell step of both CI templates
# (github-actions.yml, gitlab-ci.yml), so that they run, and tests/test_ci.py tests, the same.
#
#   grade-course.sh SUITE_DIR SUBMISSIONS_DIR OUT_DIR
#
# For each folder SUBMISSIONS_DIR/NAME, NAME being an assignment of SUITE_DIR/assignments/:
# build its release (skipped when up to date), then
#   autograder ci NAME SUBMISSIONS_DIR/NAME --out OUT_DIR/NAME
# which writes the gradebook, feedback and OUT_DIR/NAME/summary.md (and appends the summary
# to $GITHUB_STEP_SUMMARY on GitHub). Every assignment is graded even if one fails; the exit
# code is 1 if any could not be graded (unknown name, a release that does not build, ...),
# never because of students' scores.
set -euo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 SUITE_DIR SUBMISSIONS_DIR OUT_DIR" >&2
    exit 2
fi
suite=$(cd "$1" && pwd)
submissions=$(cd "$2" && pwd)
mkdir -p "$3"
out=$(cd "$3" && pwd)

# `make -C SUITE_DIR install` puts the suite in SUITE_DIR/.venv; a pip install puts it on PATH.
autograder="$suite/.venv/bin/autograder"
if [ ! -x "$autograder" ]; then
    autograder=$(command -v autograder) || {
        echo "grade-course: autograder is not installed (run: make -C $1 install)" >&2
        exit 1
    }
fi

# The suite finds assignments (and builds bundles) relative to its own folder.
cd "$suite"

failed=()
found=0
for folder in "$submissions"/*/; do
    [ -d "$folder" ] || continue
    found=1
    name=$(basename "$folder")
    echo "== $name"
    if "$autograder" release "$name" &&
        "$autograder" ci "$name" "$submissions/$name" --out "$out/$name"; then
        :
    else
        failed+=("$name")
    fi
done

if [ "$found" = 0 ]; then
    echo "grade-course: no assignment folders in $submissions (expected $2/NAME/)" >&2
    exit 1
fi
if [ ${#failed[@]} -gt 0 ]; then
    echo "grade-course: could not grade: ${failed[*]}" >&2
    exit 1
fi
