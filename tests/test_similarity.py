"""The similarity report (issue 23), on a synthetic class of real 01-tensors notebooks
(``synthetic_class``): 300 honest students who converge on a few right answers per question,
three planted copies in disguise, and odd files; through the real command line."""

from __future__ import annotations

import csv
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import answer_cell_index, copy_to, notebook_with_answer
from make_examples import example_notebooks
from synthetic_class import build_class, disguise, graded_names

from autograder.grading.grader import grade_submissions
from autograder.reports.html import write_html_report
from autograder.similarity.compare import NOTHING_WRITTEN, REFERENCE_NAME, compare_submissions
from autograder.similarity.fingerprints import fingerprints, normalised_tokens
from autograder.similarity.output import write_similarity_report

HONEST = 300
SCRIPT = "<script>alert(1)</script>"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _similarity(release_files, out: Path, *paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "similarity",
                           str(release_files.bundle), *map(str, paths), "--out", str(out)],
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def synthetic(tensors_release, tmp_path_factory):
    root = tmp_path_factory.mktemp("similarity")
    made = build_class(tensors_release.student_notebook, tensors_release.solution,
                       root / "class", HONEST)
    odd = root / "class"
    (odd / "unreadable.ipynb").write_bytes(b"\x00\xff not a notebook")
    (odd / "empty.ipynb").write_bytes(b"")
    (odd / "no_cells.ipynb").write_text('{"cells": 3}')
    (odd / "essay.pdf").write_text("%PDF-1.4")
    copy_to(tensors_release.student_notebook, odd / "blank.ipynb")
    out = root / "out"
    run = _similarity(tensors_release, out, made.folder)
    assert run.returncode == 0, run.stderr
    return made, out, run.stdout


def test_planted_copies_rank_above_every_honest_pair_and_only_they_are_flagged(synthetic):
    made, out, stdout = synthetic
    rows = _rows(out / "similarity.csv")
    pairs = [frozenset((r["a"], r["b"])) for r in rows]
    scores = [float(r["similarity"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    planted = {frozenset(pair): what for what, pair in made.planted.items()}
    ranks = {planted[p]: rank for rank, p in enumerate(pairs, 1) if p in planted}
    assert sorted(ranks.values()) == [1, 2, 3], ranks
    best_honest = next(s for p, s in zip(pairs, scores, strict=True) if p not in planted)
    worst_planted = min(s for p, s in zip(pairs, scores, strict=True) if p in planted)
    assert worst_planted > best_honest + 0.02, (worst_planted, best_honest)
    # only the planted pairs are flagged: the command names them, and no other
    flagged = re.search(r"(\d+) flagged at similarity >= ([\d.]+)", stdout)
    assert flagged and int(flagged.group(1)) == 3, stdout
    threshold = float(flagged.group(2))
    assert best_honest < threshold <= worst_planted
    for line in stdout.splitlines()[1:4]:
        assert frozenset(line.split()[1:]) in planted or REFERENCE_NAME in line


def test_each_copy_shows_in_the_questions_it_copied(synthetic):
    made, out, _ = synthetic
    by_pair = {frozenset((r["a"], r["b"])): r for r in _rows(out / "similarity.csv")}

    def questions(what: str) -> dict[str, float]:
        text = by_pair[frozenset(made.planted[what])]["questions"]
        assert re.fullmatch(r"(q\d+:\d\.\d\d)(;q\d+:\d\.\d\d)*", text), text
        return {q: float(v) for q, v in (item.split(":") for item in text.split(";"))}

    three = questions("three questions")
    assert set(sorted(three, key=three.__getitem__, reverse=True)[:3]) == {"q1", "q9", "q15"}
    assert min(three["q1"], three["q9"], three["q15"]) >= 0.8
    assert max(v for q, v in three.items() if q not in ("q1", "q9", "q15", "q10")) < 0.5
    # a whole copy matches on (nearly) every question, the swapped lines of q3 included
    assert len(questions("whole copy")) >= 17 and "q3" in questions("whole copy")
    assert len(questions("reference copy")) >= 17


def test_odd_submissions_are_listed_as_not_compared(synthetic):
    _, out, stdout = synthetic
    reasons = {r["submission"]: r["reason"] for r in _rows(out / "not_compared.csv")}
    assert reasons == {
        "blank": NOTHING_WRITTEN,
        "empty": "empty.ipynb: the file is empty",
        "essay.pdf": "essay.pdf: not a notebook (.ipynb) or an otter export (.zip); nothing "
                     "to grade",
        "no_cells": "no_cells.ipynb: the file is JSON but not a Jupyter notebook (no cells)",
        "unreadable": "unreadable.ipynb: the file is not text (not a notebook)",
    }
    assert "5 not compared" in stdout
    page = (out / "similarity.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="not-compared">'):]
    assert all(name in section for name in reasons)


def test_the_page_explains_ranks_and_shows_the_flagged_answers(synthetic):
    made, out, _ = synthetic
    page = (out / "similarity.html").read_text(encoding="utf-8")
    assert "How the score is made" in page and "never a verdict" in page
    assert page.count('<section class="pair"') == 3
    assert 'alt="histogram of pair similarities, threshold marked"' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # self-contained
    # the three-question copy: its copied lines are highlighted as rare on both sides
    source, copier = made.planted["three questions"]
    start = page.index(f"{source} · {copier}")
    pair = page[start:page.index("</section>", start)]
    assert pair.count('<span class="rare">') >= 2 * 10
    assert '<span class="rare">ranked = torch.sort(scores, descending=True)</span>' in pair


def test_starter_code_alone_is_not_similar(tensors_release, tmp_path):
    batch = tmp_path / "batch"
    copy_to(tensors_release.student_notebook, batch / "blank_one.ipynb")
    copy_to(tensors_release.student_notebook, batch / "blank_two.ipynb")
    comparison = compare_submissions(tensors_release.bundle, tensors_release.student_notebook,
                                     tensors_release.solution, [batch])
    assert dict(comparison.not_compared) == {"blank_one": NOTHING_WRITTEN,
                                             "blank_two": NOTHING_WRITTEN}
    assert [s.name for s in comparison.sheets] == [REFERENCE_NAME]
    assert comparison.scores.pairs == ()
    write_similarity_report(comparison, tmp_path / "out")  # a class of one: nothing to rank
    assert _rows(tmp_path / "out" / "similarity.csv") == []
    assert "No pair flagged." in (tmp_path / "out" / "similarity.html").read_text()


def test_only_what_the_student_wrote_is_compared(tensors_release, tmp_path):
    """q6 gives two lines in the answer cell; a student who leaves them and adds a cell of
    her own before the check has only her lines compared, the added cell included; so is a
    line she adds to a given cell."""
    path = notebook_with_answer(tensors_release.solution, "q6",
                                "A = torch.tensor([[1, 2], [3, 4]])\n"
                                "B = torch.tensor([[5, 6], [7, 8]])\n\n"
                                "elementwise = torch.mul(A, B)  # mine\n",
                                tmp_path / "batch" / "alice.ipynb")
    nb = json.loads(path.read_text())
    index = next(i for i, c in enumerate(nb["cells"])
                 if "".join(c["source"]).startswith('grader.check("q6")'))
    nb["cells"].insert(index, {"cell_type": "code", "metadata": {}, "outputs": [],
                               "execution_count": None, "source": "matrix_product = A.mm(B)"})
    imports = next(c for c in nb["cells"] if "".join(c["source"]).startswith("import numpy"))
    imports["source"] = "".join(imports["source"]) + "\nimport math as m\n"
    path.write_text(json.dumps(nb))
    comparison = compare_submissions(tensors_release.bundle, tensors_release.student_notebook,
                                     tensors_release.solution, [path.parent])
    alice = next(s for s in comparison.sheets if s.name == "alice")
    assert alice.answers["q6"].own_text == ("elementwise = torch.mul(A, B)  # mine\n"
                                            "matrix_product = A.mm(B)")
    # a line she added to a given cell counts for the question judged after it
    assert alice.answers["q1"].own_text.splitlines()[0] == "import math as m"
    assert "import torch" in alice.answers["q1"].text


def test_disguises_leave_the_fingerprints_as_they_were():
    original = ("odds = torch.arange(1, 11, 2)  # the odd numbers\n"
                "def first(t):\n    return t[0]\n")
    disguised = ("my_odds = torch.arange(1,  13, 2)\n\n"
                 "# the first one\ndef get_first(tensor):\n        return tensor[0]\n")
    def hashes(code: str) -> list[int]:
        return [fp.hash for fp in fingerprints(normalised_tokens(code, {"torch"}))]

    assert hashes(original) == hashes(disguised) and len(hashes(original)) >= 3
    # a different method is a different passage: names after a dot are kept
    assert [t.text for t in normalised_tokens("y = x.sum()")] != \
        [t.text for t in normalised_tokens("y = x.mean()")]


def test_student_text_is_escaped_on_the_page(tensors_release, tmp_path):
    """Two students hand in the same alternative answers (one disguised), a <script> in a
    comment and in a name: the pair is flagged and its answers shown, escaped."""
    kept = graded_names(tensors_release.solution, tensors_release.student_notebook)
    nb = json.loads(example_notebooks(tensors_release)["alternative.ipynb"])
    cell = nb["cells"][answer_cell_index(nb, "q6")]
    cell["source"] = "".join(cell["source"]) + f"\nprint('done')  # {SCRIPT}\n"
    batch = tmp_path / "batch"
    copy_to(tensors_release.student_notebook, batch / "blank.ipynb")
    (batch / "carol.ipynb").write_text(json.dumps(nb))
    cell["source"] = disguise("".join(cell["source"]), kept)
    (batch / f"dave {SCRIPT.replace('/', '')}.ipynb").write_text(json.dumps(nb))
    comparison = compare_submissions(tensors_release.bundle, tensors_release.student_notebook,
                                     tensors_release.solution, [batch])
    write_similarity_report(comparison, tmp_path / "out")
    assert [comparison.sheets[p.b].name for p in comparison.scores.flagged] == \
        [f"dave {SCRIPT.replace('/', '')}"]
    page = (tmp_path / "out" / "similarity.html").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert f"# {html.escape(SCRIPT)}" in page and "dave &lt;script&gt;" in page


def test_the_grading_report_has_a_similarity_section(tensors_release, tmp_path):
    batch = tmp_path / "batch"
    copy_to(tensors_release.solution, batch / "erin.ipynb")
    copy_to(tensors_release.solution, batch / "frank.ipynb")
    out = tmp_path / "graded"
    grade_submissions(tensors_release.bundle, [batch], workers=1, out_dir=out)
    assert _similarity(tensors_release, out, batch).returncode == 0
    rows = _rows(out / "similarity.csv")
    assert {frozenset((r["a"], r["b"])) for r in rows} == {
        frozenset(("erin", "frank")), frozenset(("erin", REFERENCE_NAME)),
        frozenset(("frank", REFERENCE_NAME))}
    page = write_html_report(out).read_text(encoding="utf-8")
    section = page[page.index('<section id="similarity">'):]
    assert '<a href="similarity.html">similarity.html</a>' in section
    for row in rows:
        assert f"<tr><td>{html.escape(row['a'])}</td><td>{html.escape(row['b'])}</td>" \
               f'<td class="num">{row["similarity"]}</td>' in section


def test_a_missing_submission_is_one_line_and_exit_1(tensors_release, tmp_path):
    run = _similarity(tensors_release, tmp_path / "out", tmp_path / "nobody.ipynb")
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines() == [
        f"autograder: error: no such submission file or folder: {tmp_path / 'nobody.ipynb'}"]
