#!/usr/bin/env bash
# Collect one assignment's submissions from per-student git repositories (a Classroom-style
# setup: one repository per student, named from a template) into the layout the CI templates
# grade: SUBMISSIONS_DIR/NAME/<login>.ipynb.
#
#   collect-submissions.sh NAME ROSTER URL_TEMPLATE SUBMISSIONS_DIR [--before DATE]
#
#   NAME          the assignment (the folder name under assignments/, e.g. 01-tensors)
#   ROSTER        a text file, one student login per line (# starts a comment)
#   URL_TEMPLATE  the repository of each student, {login} standing for the login, e.g.
#                 https://github.com/my-course/01-tensors-{login}.git
#                 (private repositories: a credential helper or a token in the URL, set up
#                 by the job, never committed)
#   --before DATE the last commit before the deadline (any date git understands, e.g.
#                 "2026-10-01 23:59 +0200"); default: the latest commit
#
# For each login it clones the repository (shallow, no prompt), takes the notebook named as
# the release's (or the only notebook in the repository), and copies it to
# SUBMISSIONS_DIR/NAME/<login>.ipynb. A student whose repository or notebook cannot be found
# is reported on stderr and in SUBMISSIONS_DIR/NAME.not-collected.txt, and the others go on.
# Exit code: 0 when at least one notebook was collected, 1 otherwise, 2 for bad arguments.
set -uo pipefail

usage() { echo "usage: $0 NAME ROSTER URL_TEMPLATE SUBMISSIONS_DIR [--before DATE]" >&2; exit 2; }
[ $# -eq 4 ] || [ $# -eq 6 ] || usage
name=$1 roster=$2 template=$3 dest=$4
before=""
if [ $# -eq 6 ]; then
    [ "$5" = "--before" ] || usage
    before=$6
fi
[ -f "$roster" ] || { echo "collect: no roster file $roster" >&2; exit 2; }
case "$template" in *"{login}"*) ;; *) echo "collect: URL_TEMPLATE has no {login}" >&2; exit 2;; esac

# The release's notebook name, when the suite is beside this script (the course layout).
suite=$(cd "$(dirname "$0")/.." && pwd)
expected=""
if [ -d "$suite/assignments/$name" ]; then
    expected=$(cd "$suite/assignments/$name" && ls -- *.ipynb 2>/dev/null | head -n 1)
fi

mkdir -p "$dest/$name"
missing="$dest/$name.not-collected.txt"
: > "$missing"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_TERMINAL_PROMPT=0
collected=0

not_collected() {
    echo "collect: $1: not collected ($2)" >&2
    printf '%s\t%s\n' "$1" "$2" >> "$missing"
}

while IFS= read -r line || [ -n "$line" ]; do
    login=${line%%#*}
    login=$(echo "$login" | tr -d '[:space:]')
    [ -n "$login" ] || continue
    if ! [[ "$login" =~ ^[A-Za-z0-9._-]+$ ]]; then
        not_collected "$login" "not a login: letters, digits, '.', '_' and '-' only"
        continue
    fi
    url=${template//\{login\}/$login}
    repo="$work/$login"
    if [ -n "$before" ]; then
        # The history is needed to pick the last commit before the deadline.
        clone=(git clone --quiet -- "$url" "$repo")
    else
        clone=(git clone --quiet --depth 1 -- "$url" "$repo")
    fi
    if ! "${clone[@]}" 2>/dev/null; then
        not_collected "$login" "no repository at $url, or no access"
        continue
    fi
    if [ -n "$before" ]; then
        commit=$(git -C "$repo" rev-list -n 1 --before="$before" HEAD)
        if [ -z "$commit" ]; then
            not_collected "$login" "no commit before $before"
            continue
        fi
        git -C "$repo" checkout --quiet "$commit"
    fi
    notebook=""
    if [ -n "$expected" ] && [ -f "$repo/$expected" ]; then
        notebook="$repo/$expected"
    else
        found=$(find "$repo" -name '*.ipynb' -not -path '*/.*' | head -n 2)
        if [ "$(printf '%s' "$found" | grep -c .)" -eq 1 ]; then
            notebook=$found
        fi
    fi
    if [ -z "$notebook" ]; then
        not_collected "$login" "no ${expected:-notebook} in the repository (or several notebooks)"
        continue
    fi
    cp -- "$notebook" "$dest/$name/$login.ipynb"
    collected=$((collected + 1))
done < "$roster"

echo "collect: $collected notebook(s) in $dest/$name; not collected: $(grep -c . "$missing" || true)"
[ "$collected" -gt 0 ]
