"""Write the shipped example submissions under ``examples/<assignment>/``.

Each is the student release with its answer cells filled in, as a student would hand it in:

- ``partly_wrong.ipynb``: the reference answers, except every third question, which gets the
  first wrong answer from ``tests/answers``;
- ``alternative.ipynb``: every question answered with an alternative correct answer.

Run ``make examples`` after changing an assignment; ``tests/test_grading.py`` fails when the
committed examples differ from what this writes.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from conftest import answer_cell_index  # noqa: E402

from autograder.authoring.release import Release  # noqa: E402


def variants_for(assignment: str) -> dict:
    name = "answers.a" + re.sub(r"[^0-9a-z]+", "_", assignment.lower())
    try:
        return importlib.import_module(name).VARIANTS
    except ModuleNotFoundError:
        return {}


def _questions(nb: dict) -> list[str]:
    found = []
    for cell in nb["cells"]:
        match = re.match(r'\s*grader\.check\("(\w+)"\)', "".join(cell["source"]))
        if cell["cell_type"] == "code" and match:
            found.append(match.group(1))
    return found


def example_notebooks(release: Release) -> dict[str, str]:
    """File name -> notebook JSON text, for one assignment."""
    student = json.loads(release.student_notebook.read_text())
    solution = json.loads(release.solution.read_text())
    variants = variants_for(release.name)
    answers = {q: "".join(solution["cells"][answer_cell_index(solution, q)]["source"])
               for q in _questions(solution)}
    out = {}
    plans = {
        "partly_wrong.ipynb": lambda i, q: next(iter(variants[q]["wrong"].values()))
        if i % 3 == 2 and variants.get(q, {}).get("wrong") else answers[q],
        "alternative.ipynb": lambda i, q: next(iter(variants[q]["right"].values()))
        if variants.get(q, {}).get("right") else answers[q],
    }
    for file_name, choose in plans.items():
        nb = json.loads(json.dumps(student))
        for index, question in enumerate(_questions(student)):
            nb["cells"][answer_cell_index(nb, question)]["source"] = choose(index, question)
        out[file_name] = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    return out


def main() -> None:
    from autograder.authoring.release import build_releases, find_assignments

    root = HERE.parent
    for release in build_releases(find_assignments(root / "assignments"),
                                  student_root=root / "student", dist_root=root / "dist"):
        folder = root / "examples" / release.name
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in example_notebooks(release).items():
            (folder / name).write_text(text, encoding="utf-8")
            print(f"wrote {folder / name}")


if __name__ == "__main__":
    main()
