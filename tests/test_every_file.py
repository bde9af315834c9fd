"""Every file of a submissions folder gets exactly one row, under its own name, and whatever
a submission prints, raises or is named is written safely (the real engine, on 01-tensors).

One batch: a PDF and a .py file (invalid rows), students' folders (one holding a notebook and
a note, one an export zip, one nothing), names with spaces, accents and an undecodable byte,
and a submission whose output, errors and answers hold lone surrogates, NUL bytes, invalid
UTF-8 and terminal escapes.
"""

from __future__ import annotations

import csv
import json
import os
import re
import zipfile

import pytest
from conftest import notebook_with_answer

from autograder.grading.grader import grade_submissions
from autograder.grading.job import Limits

ODD_CODE = r'''
import sys
print("surrogate \ud800 nul \x00 escape \x1b[2J bell \x07 done")
if hasattr(sys.stdout, "buffer"):
    sys.stdout.buffer.write(b"invalid utf-8: \xff\xfe\xc3(\n")
class Odd:
    def __repr__(self):
        return "odd \udcff \x00 \u202e repr"
scalar = Odd()
raise ValueError("raised \ud800 \x00 \x1b[31m red")
'''
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\u202a-\u202e]")


@pytest.fixture(scope="module")
def batch(tmp_path_factory, releases):
    root = tmp_path_factory.mktemp("every-file")
    release = releases["01-tensors"]
    solution = release.solution.read_text()
    folder = root / "submissions"
    (folder / "frank").mkdir(parents=True)
    (folder / "dan.pdf").write_bytes(b"%PDF-1.4 not a notebook")
    (folder / "ellen.py").write_text("scalar = 7\n")
    (folder / "frank" / "frank.ipynb").write_text(solution)
    (folder / "frank" / "notes.txt").write_text("I did my best")
    (folder / "gina").mkdir()
    with zipfile.ZipFile(folder / "gina" / "tensors.zip", "w") as zf:
        zf.writestr("tensors.ipynb", solution)
    (folder / "harry").mkdir()
    (folder / "naïve name (copy).ipynb").write_text(solution)
    (folder / "José García.ipynb").write_text(solution)
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.ipynb"), "w") as handle:
        handle.write(solution)  # a name that is not UTF-8, as file systems allow
    notebook_with_answer(release.solution, "q1", ODD_CODE, folder / "odd.ipynb")
    out = root / "out"
    results = grade_submissions(release.bundle, [folder], out_dir=out,
                                limits=Limits(submission_seconds=120, cell_seconds=60))
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {row["submission"]: row for row in csv.DictReader(handle)}
    return {"folder": folder, "out": out, "rows": rows,
            "results": {r.submission: r for r in results}}


def test_every_file_and_folder_has_exactly_one_row(batch):
    assert sorted(batch["rows"]) == sorted([
        "dan.pdf", "ellen.py", "frank", "gina", "harry", "naïve name (copy)", "José García",
        "caf\\xe9", "odd"])
    assert len(batch["rows"]) == len(os.listdir(batch["folder"]))


def test_files_that_are_not_notebooks_are_invalid_with_a_message(batch):
    for name in ("dan.pdf", "ellen.py"):
        row = batch["rows"][name]
        assert row["status"] == "invalid", row
        assert name in row["message"] and "not a notebook" in row["message"]
    assert batch["rows"]["harry"]["status"] == "invalid"
    assert "no notebook" in batch["rows"]["harry"]["message"]


def test_a_students_folder_is_graded_and_named_by_the_folder(batch):
    for name in ("frank", "gina"):
        row = batch["rows"][name]
        assert (row["status"], row["percent"]) == ("graded", "100.0"), row
    assert "notes.txt" in batch["rows"]["frank"]["message"]  # listed, not lost
    assert batch["results"]["frank"].source.endswith(os.path.join("frank", "frank.ipynb"))


def test_names_are_kept_in_the_gradebook_and_name_the_files(batch):
    for name in ("naïve name (copy)", "José García"):
        assert batch["rows"][name]["status"] == "graded", batch["rows"][name]
        assert (batch["out"] / "results" / f"{name}.json").is_file()
        assert (batch["out"] / "feedback" / f"{name}.md").is_file()
    stems = {r.file_stem for r in batch["results"].values()}
    assert len(stems) == len(batch["results"])  # no two rows share an output file
    assert all(not s.startswith(".") and "/" not in s and "\\" not in s for s in stems)


def _strings(value: object):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_odd_output_is_written_safely_and_the_batch_goes_on(batch):
    odd = batch["rows"]["odd"]
    assert odd["status"] == "graded", odd
    assert float(odd["q1"]) == 0 and float(odd["q2"]) > 0  # q1 lost, the rest graded
    for folder, ext in (("results", "json"), ("feedback", "md"), (".records", "json")):
        for name in batch["results"]:
            path = batch["out"] / folder / f"{batch['results'][name].file_stem}.{ext}"
            text = path.read_bytes().decode("utf-8")  # strict: raises on anything invalid
            assert not UNSAFE.search(text.replace("\t", "")), (path, text[:300])
            if ext == "json":
                data = json.loads(text)
                for string in _strings(data):
                    assert not UNSAFE.search(string.replace("\t", "").replace("\n", "")), path
    record = json.loads((batch["out"] / ".records" / "odd.json").read_text())["result"]
    assert "\\x1b" in record["message"] or "\\x1b" in record["log"]  # shown, not dropped
    gradebook = (batch["out"] / "grades.csv").read_bytes().decode("utf-8")
    assert not UNSAFE.search(gradebook.replace("\t", "")), gradebook
