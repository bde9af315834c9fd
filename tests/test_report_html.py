"""The instructor's HTML report, built from real graded batches: what it says, that it escapes
student text, that it is the same bytes twice, its edge cases, and a real headless Chromium
rendering it (plots decoded, no console errors, links inside the page work)."""

from __future__ import annotations

import csv
import dataclasses
import re
import statistics
from pathlib import Path

import pytest
from answers.a01_tensors import VARIANTS
from conftest import copy_to, notebook_with_answer

from autograder.bundle import load_bundle
from autograder.errors import AutograderError
from autograder.grading.grader import grade_submissions
from autograder.reports.html import report_html, write_html_report
from autograder.reports.output_folder import load_results

CHROMIUM = Path("/usr/bin/chromium")
Q1_WRONG = VARIANTS["q1"]["wrong"]["scalar wrapped in brackets (a vector)"]
# The exception text ends up in the check messages of q4: student text in the report.
SCRIPT = "<script>alert(1)</script>"
Q4_HOSTILE = f'def describe(t):\n    raise ValueError("{SCRIPT}")\n'


@pytest.fixture(scope="module")
def graded(releases, tmp_path_factory) -> Path:
    """01-tensors: reference (100%), blank (0), q1 wrong, and q1 wrong + q4 raising a <script>.

    So q1's checks fail in 3 of 4 submissions, q4's in 2, q3's in 1 (the blank)."""
    release = releases["01-tensors"]
    root = tmp_path_factory.mktemp("report")
    batch = root / "submissions"
    copy_to(release.solution, batch / "reference.ipynb")
    copy_to(release.student_notebook, batch / "blank.ipynb")
    notebook_with_answer(release.solution, "q1", Q1_WRONG, batch / "wrong_q1.ipynb")
    step = notebook_with_answer(release.solution, "q1", Q1_WRONG, root / "step.ipynb")
    notebook_with_answer(step, "q4", Q4_HOSTILE, batch / "hostile.ipynb")
    out = root / "out"
    grade_submissions(release.bundle, [batch], out_dir=out)
    return out


@pytest.fixture(scope="module")
def report(graded) -> str:
    return write_html_report(graded).read_text(encoding="utf-8")


def _gradebook(out: Path) -> list[dict[str, str]]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _card(page: str, label: str) -> str:
    match = re.search(r'<div class="value">([^<]*)</div><div class="label">'
                      + re.escape(label) + "</div>", page)
    assert match, f"no {label!r} card"
    return match.group(1)


def _status_counts(page: str) -> dict[str, int]:
    rows = re.findall(r'<tr id="status-(\w+)"[^>]*><td>.*?</td><td class="num">(\d+)</td>', page)
    return {status: int(count) for status, count in rows}


def test_summary_matches_the_gradebook(graded, report):
    rows = _gradebook(graded)
    assert len(rows) == 4
    counts = _status_counts(report)
    assert {s: n for s, n in counts.items() if n} == {"graded": 4}
    assert sum(counts.values()) == len(rows)
    assert _card(report, "submissions") == str(len(rows))
    percents = [100 * float(r["score"]) / float(r["possible"]) for r in rows]  # unrounded
    assert _card(report, "mean") == f"{statistics.fmean(percents):.1f}%"
    assert _card(report, "median") == f"{statistics.median(percents):.1f}%"
    for row in rows:  # the class table: one linked row per submission with its score
        assert re.search(rf'>{row["submission"]}</a></td><td>.*?</td><td class="num">'
                         rf'{row["score"]}/{row["possible"]}</td>', report), row["submission"]


def test_failure_table_ranks_the_most_failed_checks_first(graded, report):
    order = re.findall(r'<tr data-check="([^"]+)"', report)
    every_check = [f"{q.name}/{c.name}" for q in load_results(graded)[0].questions
                   for c in q.checks]
    assert sorted(order) == sorted(every_check)  # every check, once
    assert order.index("q1/test_q1_public") < order.index("q4/test_q4_public") \
        < order.index("q3/test_q3_public")
    row = re.search(r'<tr data-check="q1/test_q1_public".*?</tr>', report).group(0)
    assert '<td class="num">3/4</td>' in row and "75.0%" in row and "public" in row
    hidden = re.search(r'<tr data-check="q4/test_q4_cpu".*?</tr>', report).group(0)
    assert '<td class="num">2/4</td>' in hidden and ">hidden<" in hidden
    # the most common message first, with its count
    assert re.search(r'<span class="count">2×</span> <span class="msg">`scalar` has the wrong '
                     r"shape", row)


def test_student_text_is_escaped(report):
    assert "<script" not in report.lower()
    escaped = "ValueError: &lt;script&gt;alert(1)&lt;/script&gt;"
    failure_row = re.search(r'<tr data-check="q4/test_q4_public".*?</tr>', report).group(0)
    assert escaped in failure_row
    section = re.search(r'<section class="submission" id="sub-hostile">.*?</section>', report,
                        re.S).group(0)
    assert escaped in section
    # hidden checks are shown too
    assert "test_q4_other_devices" in section and ">hidden<" in section


def test_every_link_has_its_target_and_nothing_is_fetched(report):
    ids = set(re.findall(r'\bid="([^"]+)"', report))
    targets = re.findall(r'href="#([^"]*)"', report)
    assert len(targets) >= 4 + 6 and set(targets) <= ids
    external = re.findall(r'(?:src|href)="(?!#|data:image/png;base64,)([^"]*)"', report)
    assert external == []
    assert "http://" not in report and "https://" not in report
    assert report.count('<img class="plot" src="data:image/png;base64,') == 2


def test_building_twice_gives_the_same_bytes(graded, report):
    path = graded / "report.html"
    first = path.read_bytes()
    path.unlink()
    assert write_html_report(graded).read_bytes() == first


def test_an_empty_or_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(AutograderError, match="nothing to report on"):
        write_html_report(tmp_path)
    with pytest.raises(AutograderError, match="no such folder"):
        write_html_report(tmp_path / "missing")
    assert not (tmp_path / "report.html").exists()


def test_all_submissions_ungraded(releases, tmp_path):
    batch = tmp_path / "submissions"
    batch.mkdir()
    (batch / "garbage.ipynb").write_text("not json")
    (batch / "no_cells.ipynb").write_text('{"cells": 3}')
    out = tmp_path / "out"
    results = grade_submissions(releases["01-tensors"].bundle, [batch], workers=1, out_dir=out)
    assert {r.status for r in results} == {"invalid"}
    page = write_html_report(out).read_text(encoding="utf-8")
    assert _status_counts(page)["invalid"] == 2 and _status_counts(page)["graded"] == 0
    assert "No submission was graded, so no check ran." in page
    assert page.count("<img ") == 1  # only the histogram: nothing per question
    assert 'id="sub-garbage"' in page and "not valid notebook JSON" in page


def test_a_single_submission_that_passes_nothing(releases, tmp_path):
    batch = tmp_path / "submissions"
    copy_to(releases["01-tensors"].student_notebook, batch / "only.ipynb")
    out = tmp_path / "out"
    grade_submissions(releases["01-tensors"].bundle, [batch], workers=1, out_dir=out)
    page = write_html_report(out).read_text(encoding="utf-8")
    assert _card(page, "submissions") == "1" and _card(page, "median") == "0.0%"
    nobody = re.search(r"Nobody got full marks on: ([^<]*)\.</p>", page)
    questions = [q.name for q in load_bundle(releases["01-tensors"].bundle).questions]
    assert nobody and nobody.group(1).split(", ") == questions
    row = re.search(r'<tr data-check="q1/test_q1_public".*?</tr>', page).group(0)
    assert '<td class="num">1/1</td>' in row and "100.0%" in row


# The page's own horizontal overflow (0 when nothing sticks out), then the elements that stick
# out of the page and lie in no box of their own that scrolls, to say which ones.
OVERFLOW = """(() => {
  const page = document.documentElement;
  if (page.scrollWidth <= page.clientWidth) return [];
  const scrolls = e => e.closest('.scroll, pre');
  return [`page ${page.scrollWidth} px wide in a ${page.clientWidth}-px window`].concat(
    [...document.body.querySelectorAll('*')]
      .filter(e => e.getBoundingClientRect().right > page.clientWidth + 0.5
                   && !(e.parentElement && scrolls(e.parentElement)))
      .slice(0, 8).map(e => `${e.tagName.toLowerCase()}.${e.className}: right edge at `
                            + Math.round(e.getBoundingClientRect().right)));
})()"""


# The class table's width and that of the box it would scroll in.
CLASS_TABLE_WIDTHS = """(() => { const box = document.querySelector('#class .scroll');
  return [box.scrollWidth, box.clientWidth]; })()"""


def _lms_named_report(graded: Path, folder: Path) -> Path:
    """The graded batch's report with submissions named as an LMS download names them: long
    names without spaces, read from a deep folder."""
    long = "lastname_firstname_1234567_9876543_01-tensors_final_submission_resubmitted"
    results = [dataclasses.replace(
        r, submission=f"{long}_{r.submission}", file_stem="",
        source=f"/home/instructor/courses/deep-learning-2026/lms-download/{long}/{r.submission}"
               f"/{long}_{r.submission}.ipynb") for r in load_results(graded)]
    path = folder / "lms-named.html"
    path.write_text(report_html(results), encoding="utf-8")
    return path


def test_chromium_renders_the_report(graded, report, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                    if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            # Nothing wider than a 1280-px screen, also for names as an LMS download makes
            # them: wide tables scroll inside their own box, long names and paths wrap.
            # The class table (19 questions) fits too, all its columns in sight.
            for report_page in (_lms_named_report(graded, tmp_path), graded / "report.html"):
                page.goto(report_page.as_uri(), wait_until="load")
                assert page.evaluate(OVERFLOW) == [], page.evaluate(OVERFLOW)
                table, box = page.evaluate(CLASS_TABLE_WIDTHS)
                assert table <= box, (report_page.name, table, box)
            widths = page.eval_on_selector_all(
                "img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.width])")
            assert len(widths) == 2
            assert all(done and natural > 0 and shown > 0 for done, natural, shown in widths)
            assert page.title() == "Grading report: 01-tensors"
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            # a class-table link jumps to that submission's section
            page.click('#class a[href="#sub-hostile"]')
            assert page.evaluate("location.hash") == "#sub-hostile"
            assert page.evaluate(
                "(() => { const r = document.getElementById('sub-hostile')"
                ".getBoundingClientRect(); return r.top >= -1 && r.top < innerHeight; })()")
            assert page.evaluate("typeof window.alert === 'function' && !document.scripts.length")
        finally:
            browser.close()
    assert problems == []
    assert (tmp_path / "report.png").stat().st_size > 10_000
