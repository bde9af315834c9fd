"""A synthetic class of 01-tensors submissions for the similarity report (its tests and
``bench/similarity_bench.py``).

Honest students answer each question with one of its right variants from
``tests/answers/a01_tensors.py`` or the reference answer, chosen at random: beginners converge,
so honest pairs share many answers. Planted copies, disguised the usual ways:

- ``whole copy``: a classmate's whole notebook, local names renamed, comments reworded, two
  independent lines of q3 swapped;
- ``three questions``: three answers of a classmate who wrote them in her own way, renamed;
- ``reference copy``: the reference solution's answers, renamed and recommented.
"""

from __future__ import annotations

import builtins
import io
import json
import keyword
import random
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

from answers.a01_tensors import VARIANTS
from conftest import answer_cell_index

QUESTIONS = [f"q{i}" for i in range(1, 20)]

# Answers one student wrote in her own way (correct, but unlike anyone else's).
OWN_ANSWERS = {
    "q1": """
values = [4, 5, 6]
scalar = torch.tensor(values[0] + 3)
vector = torch.tensor(values)
pairs = [[2 * i + 1, 2 * i + 2] for i in range(3)]
matrix = torch.tensor(pairs)
tensor3 = torch.stack([torch.tensor([1, 2, 3]), torch.tensor(values)]).unsqueeze(0)
tensor3_ndim = len(tensor3.shape)
tensor3_shape = torch.Size(list(tensor3.shape))
""",
    "q9": """
torch.manual_seed(1)
scores = torch.rand(8)

ranked = torch.sort(scores, descending=True)
best = ranked.indices[0]
worst = ranked.indices[-1]
best_score = ranked.values[0].clone()
""",
    "q15": """
np_array = np.array([[1, 2], [3, 4]])

shared = torch.as_tensor(np_array)
copied = torch.tensor(np_array.copy(), dtype=torch.int64)
back = np.asarray(copied.detach().cpu().numpy())
""",
}


def _student_notebook(release_notebook: Path) -> dict:
    return json.loads(release_notebook.read_text(encoding="utf-8"))


def reference_answers(solution: Path) -> dict[str, str]:
    nb = json.loads(solution.read_text(encoding="utf-8"))
    return {q: "".join(nb["cells"][answer_cell_index(nb, q)]["source"]) for q in QUESTIONS}


def notebook_text(student: dict, answers: dict[str, str]) -> str:
    nb = json.loads(json.dumps(student))
    for question, code in answers.items():
        nb["cells"][answer_cell_index(nb, question)]["source"] = code
    return json.dumps(nb)


def disguise(code: str, kept: set[str]) -> str:
    """Local names renamed (``x`` -> ``my_x``; names in ``kept`` and attributes stay),
    every comment reworded, blank lines added."""
    out = []
    previous = ""
    tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    for index, token in enumerate(tokens):
        text = token.string
        keyword_argument = index + 1 < len(tokens) and tokens[index + 1].string == "=" \
            and previous in ("(", ",")
        if token.type == tokenize.NAME and previous != "." and text not in kept \
                and not keyword_argument and not keyword.iskeyword(text) \
                and text not in dir(builtins):
            text = f"my_{text}"
        elif token.type == tokenize.COMMENT:
            text = "# done this way on purpose"
        out.append((token.type, text))
        if token.type not in (tokenize.NL, tokenize.COMMENT):
            previous = token.string
    return "\n\n".join(tokenize.untokenize(out).splitlines()) + "\n"


def swap_first_two_lines(code: str) -> str:
    lines = [line for line in code.strip().splitlines() if line.strip()]
    lines[0], lines[1] = lines[1], lines[0]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SyntheticClass:
    folder: Path
    honest: list[str]  # names of the honest students
    planted: dict[str, tuple[str, str]]  # what was planted -> the pair (gradebook names)


def graded_names(solution: Path, release_notebook: Path) -> set[str]:
    """Names a disguise keeps: the ones the release gives or the tests read (graded names,
    ``torch``, ``np``), i.e. every name in the release's or the reference's answers."""
    names: set[str] = {"torch", "np", "nn", "F"}
    student = _student_notebook(release_notebook)
    for cell in student["cells"]:
        source = "".join(cell["source"])
        names |= set(re.findall(r"[A-Za-z_]\w*", source)) if cell["cell_type"] == "code" \
            and not source.startswith("# Initialize Otter") else set()
    for code in reference_answers(solution).values():
        names |= {m.group(1) for m in re.finditer(r"^\s*([A-Za-z_]\w*)\s*=", code, re.M)}
    return names


def build_class(release_notebook: Path, solution: Path, folder: Path, honest: int,
                seed: int = 0) -> SyntheticClass:
    """``honest`` honest students plus the planted copies, as notebooks in ``folder``."""
    rng = random.Random(seed)
    student = _student_notebook(release_notebook)
    reference = reference_answers(solution)
    options = {q: [reference[q], *VARIANTS[q]["right"].values()] for q in QUESTIONS}
    kept = graded_names(solution, release_notebook)
    folder.mkdir(parents=True, exist_ok=True)
    sheets = {f"student-{i:04d}": {q: rng.choice(options[q]) for q in QUESTIONS}
              for i in range(honest)}
    source, own_style, copier_of_three = "student-0007", "student-0011", "student-0023"
    sheets[own_style].update(OWN_ANSWERS)
    copied = dict(sheets[source])
    copied["q3"] = swap_first_two_lines(copied["q3"])
    planted_sheets = {
        "whole copy": {q: disguise(code, kept) for q, code in copied.items()},
        "reference copy": {q: disguise(code, kept) for q, code in reference.items()},
    }
    sheets[copier_of_three].update({q: disguise(code, kept)
                                    for q, code in OWN_ANSWERS.items()})
    sheets["zz-whole-copy"] = planted_sheets["whole copy"]
    sheets["zz-reference-copy"] = planted_sheets["reference copy"]
    for name, answers in sheets.items():
        (folder / f"{name}.ipynb").write_text(notebook_text(student, answers), encoding="utf-8")
    return SyntheticClass(
        folder=folder, honest=[f"student-{i:04d}" for i in range(honest)],
        planted={"whole copy": (source, "zz-whole-copy"),
                 "three questions": (own_style, copier_of_three),
                 "reference copy": ("(reference solution)", "zz-reference-copy")})
