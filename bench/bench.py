"""Grading throughput: our engine against ``otter run``, side by side, in one run.

For every assignment it builds a batch of BENCH_N submissions (default 40): the reference, the
blank release, the shipped examples, honest submissions of varied quality (the reference with
1-3 answers swapped for wrong answers from tests/answers, chosen with a fixed seed) and a few
hostile ones. Then, in the same run, on the same machine:

- our engine grades the whole batch (``--workers`` = number of cores);
- ``otter run`` grades the first BENCH_OTTER_N honest submissions, one after another, as a
  course without Docker would (it cannot grade the hostile ones: an infinite loop hangs it);
- a warm interpreter (torch already imported) runs each honest submission's cells and tests
  in-process: the time the student code and tests themselves take.

Printed per assignment: submissions per minute for both, the ratio, score agreement on the
honest submissions both graded, our wall time per submission against 1.5 x warm + 0.3 s, and
the peak memory of a sandboxed submission and of its judge (hostile ones included).

Then the cold start (``bench/cold.py``): one submission graded from nothing, side by side with
``otter run``, under Gradescope's default limits.

    make bench                 # BENCH_N=40 BENCH_OTTER_N=12
    BENCH_N=10 BENCH_OTTER_N=3 make bench   # a quick run
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import answer_cell_index  # noqa: E402
from make_examples import example_notebooks, variants_for  # noqa: E402

from autograder.authoring.release import Release, build_releases, find_assignments  # noqa: E402
from autograder.bundle import Bundle, load_bundle  # noqa: E402
from autograder.grading.grader import grade_submissions, self_check_seconds  # noqa: E402
from autograder.grading.job import Limits  # noqa: E402

HOSTILE = {
    "hostile_infinite_loop": "while True:\n    pass",
    "hostile_patch_equal": "import torch\ntorch.equal = lambda *a, **k: True",
    "hostile_exit": "import os\nos._exit(1)",
}


@dataclass(frozen=True)
class Row:
    assignment: str
    submissions: int
    ours_per_min: float
    otter_graded: int
    otter_per_min: float
    agree: int
    ours_mean_s: float
    warm_mean_s: float
    peak_mb: float
    judge_peak_mb: float
    judge: dict  # question -> (mean round trips, mean judge ms) over the honest submissions

    @property
    def ratio(self) -> float:
        return self.ours_per_min / self.otter_per_min if self.otter_per_min else float("nan")

    @property
    def overhead_ok(self) -> bool:
        return self.ours_mean_s <= 1.5 * self.warm_mean_s + 0.3


def build_batch(release: Release, folder: Path, count: int) -> tuple[list[Path], list[Path]]:
    """(honest, hostile) submission files for one assignment."""
    folder.mkdir(parents=True)
    rng = random.Random(0)
    student = json.loads(release.student_notebook.read_text())
    solution = json.loads(release.solution.read_text())
    variants = variants_for(release.name)
    questions = [q for q in variants if variants[q].get("wrong")]
    honest: list[Path] = []
    shutil.copy2(release.solution, folder / "reference.ipynb")
    shutil.copy2(release.student_notebook, folder / "blank.ipynb")
    honest += [folder / "reference.ipynb", folder / "blank.ipynb"]
    for name, text in example_notebooks(release).items():
        (folder / name).write_text(text)
        honest.append(folder / name)
    index = 0
    while len(honest) < count - len(HOSTILE):
        nb = json.loads(json.dumps(solution))
        for question in rng.sample(questions, k=min(len(questions), rng.randint(1, 3))):
            wrong = variants[question]["wrong"]
            nb["cells"][answer_cell_index(nb, question)]["source"] = wrong[rng.choice(
                sorted(wrong))]
        path = folder / f"student_{index:03d}.ipynb"
        path.write_text(json.dumps(nb))
        honest.append(path)
        index += 1
    hostile = []
    for name, code in HOSTILE.items():
        nb = json.loads(json.dumps(student))
        nb["cells"].insert(2, {"cell_type": "code", "metadata": {}, "outputs": [],
                               "execution_count": None, "source": code})
        path = folder / f"{name}.ipynb"
        path.write_text(json.dumps(nb))
        hostile.append(path)
    return honest, hostile


def _run_tests_in_process(bundle: Bundle, namespace: dict) -> None:
    """The tests called on the real objects, in the process the cells ran in (what otter
    does, and what ``grader.check`` does in the student's kernel): the cost floor."""
    import builtins
    import inspect

    from autograder.kit import checks

    for question in bundle.questions:
        module = {"__builtins__": builtins, "__name__": question.name}
        exec(compile(question.module, question.name, "exec"), module)
        for check in question.checks:
            function = module[check.name]
            try:
                function(**{p: namespace.get(p)
                            for p in inspect.signature(function).parameters})
            except (Exception, checks.CheckSkipped):  # noqa: BLE001
                pass


def warm_seconds(bundle: Bundle, notebooks: list[Path]) -> list[float]:
    """Student code + tests in a warm interpreter (this one), without any isolation."""
    from autograder.grading.sandbox import _prepare_interpreter
    from autograder.grading.submission import is_otter_cell
    from autograder.grading.untrusted.runner import CappedText

    shell = _prepare_interpreter()
    times = []
    for path in notebooks:
        cells = [("".join(c["source"]) if isinstance(c["source"], list) else c["source"])
                 for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        with tempfile.TemporaryDirectory() as scratch:
            here = os.getcwd()
            os.chdir(scratch)
            shell.reset(new_session=False)
            real = sys.stdout, sys.stderr
            sys.stdout = sys.stderr = CappedText(100_000)
            try:
                began = time.perf_counter()
                for cell in cells:
                    if not is_otter_cell(cell):
                        shell.run_cell(cell, store_history=True)
                _run_tests_in_process(bundle, shell.user_ns)
                times.append(time.perf_counter() - began)
            finally:
                sys.stdout, sys.stderr = real
                os.chdir(here)
    return times


def otter_scores(bundle: Path, notebooks: list[Path], workdir: Path) -> dict[str, dict]:
    otter = shutil.which("otter", path=str(Path(sys.executable).parent))
    scores = {}
    for path in notebooks:
        out = workdir / path.stem
        out.mkdir(parents=True)
        subprocess.run([otter, "run", "-a", str(bundle), "-o", str(out), str(path)],
                       check=True, capture_output=True, cwd=workdir)
        tests = json.loads((out / "results.json").read_text())["tests"]
        scores[path.stem] = {t["name"]: float(t["score"]) for t in tests if "score" in t}
    return scores


def bench_assignment(release: Release, count: int, otter_count: int, workdir: Path) -> Row:
    honest, hostile = build_batch(release, workdir / "batch", count)
    bundle = load_bundle(release.bundle)
    limits = Limits(cell_seconds=5, submission_seconds=60)

    began = time.perf_counter()
    results = grade_submissions(release.bundle, [workdir / "batch"],
                                workers=os.cpu_count(), limits=limits)
    ours_wall = time.perf_counter() - began
    by_stem = {r.submission: r for r in results}

    sample = honest[:otter_count]
    began = time.perf_counter()
    theirs = otter_scores(release.bundle, sample, workdir / "otter")
    otter_wall = time.perf_counter() - began
    agree = sum(1 for p in sample if theirs[p.stem] ==
                {q.name: q.score for q in by_stem[p.stem].questions})

    warm = warm_seconds(bundle, honest)
    ours_honest = [by_stem[p.stem].duration for p in honest]
    return Row(
        assignment=release.name, submissions=len(results),
        ours_per_min=60 * len(results) / ours_wall,
        otter_graded=len(sample), otter_per_min=60 * len(sample) / otter_wall,
        agree=agree, ours_mean_s=statistics.mean(ours_honest),
        warm_mean_s=statistics.mean(warm),
        peak_mb=max(r.peak_memory_mb for r in results),
        judge_peak_mb=max(r.judge_peak_memory_mb for r in results),
        judge=_judge_profile([by_stem[p.stem] for p in honest]))


def _judge_profile(results: list) -> dict:
    profile = {}
    for question in results[0].judge if results else []:
        seen = [r.judge[question] for r in results if question in r.judge]
        profile[question] = (statistics.mean(s["requests"] for s in seen),
                             1000 * statistics.mean(s["seconds"] for s in seen))
    return profile


def print_table(rows: list[Row]) -> None:
    print("\n| assignment | submissions | ours / min | otter run / min | ratio | scores agree "
          "| ours s/sub | warm s/sub | target 1.5x warm + 0.3 s | peak MB / submission "
          "| judge peak MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        target = 1.5 * r.warm_mean_s + 0.3
        print(f"| {r.assignment} | {r.submissions} | {r.ours_per_min:.0f} | "
              f"{r.otter_per_min:.1f} | {r.ratio:.1f}x | {r.agree}/{r.otter_graded} | "
              f"{r.ours_mean_s:.2f} | {r.warm_mean_s:.2f} | {target:.2f} "
              f"({'met' if r.overhead_ok else 'MISSED'}) | {r.peak_mb:.0f} | "
              f"{r.judge_peak_mb:.0f} |")
    print("\nThe judge, per question (mean over the honest submissions): round trips to the "
          "student's process / judge time in ms")
    for r in rows:
        cells = ", ".join(f"{q} {n:.0f}/{ms:.0f}" for q, (n, ms) in r.judge.items())
        print(f"- {r.assignment}: {cells}")


def main() -> int:
    count = int(os.environ.get("BENCH_N", "40"))
    otter_count = int(os.environ.get("BENCH_OTTER_N", "12"))
    print(f"bench: {count} submissions per assignment, otter run on {otter_count}, "
          f"{os.cpu_count()} cores")
    releases = build_releases(find_assignments(ROOT / "assignments"),
                              student_root=ROOT / "student", dist_root=ROOT / "dist")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for release in releases:
            began = time.perf_counter()
            rows.append(bench_assignment(release, count, otter_count, Path(tmp) / release.name))
            print(f"{release.name}: done in {time.perf_counter() - began:.0f} s", flush=True)
    print_table(rows)
    seconds = self_check_seconds()
    print(f"\nThe engine's self-check (a probe graded before the first submission, once per "
          f"grading process): {seconds:.2f} s" if seconds is not None else
          "\nThe engine's self-check did not run.")
    warm_ok = all(r.ratio >= 10 and r.overhead_ok and r.agree == r.otter_graded for r in rows)
    import cold  # bench/cold.py: the cold start, under Gradescope's limits
    from similarity_bench import main as similarity_bench  # the similarity report at scale

    cold_ok = cold.main([]) == 0
    similarity_ok = similarity_bench() == 0
    return 0 if warm_ok and cold_ok and similarity_ok else 1


if __name__ == "__main__":
    sys.exit(main())
