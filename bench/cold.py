"""Cold start: one submission graded from nothing, the path Gradescope and students take.

On Gradescope every submission starts a fresh container: nothing is warm. For each assignment
this grades the reference, from a fresh process each time, side by side in one run:

- ``autograder grade BUNDLE NOTEBOOK`` (one worker);
- the bundle's own ``run_autograder`` in a folder laid out as Gradescope's ``/autograder``;
- ``otter run`` on the same bundle;
- and the student's ``python -m autograder.kit.validate`` in the student release.

Each runs in a cgroup of half a CPU and 768 MB (Gradescope's default limits) where this machine
lets us make one (root, cgroup v1 or v2); otherwise unconstrained, and the table says so. Peak
memory is the largest sum of the proportional set sizes (PSS: shared pages split between the
processes sharing them) of the processes in the cgroup, sampled every 50 ms.

    .venv/bin/python bench/cold.py        # also run by `make bench`
    .venv/bin/python bench/cold.py 04     # only the assignments whose name starts so
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.authoring.release import Release, build_releases, find_assignments  # noqa: E402

CPU_SHARE = 0.5
MEMORY_MB = 768
TARGET_RATIO = 2.5  # at least this much faster than otter run, under the same limits
TARGET_PEAK_MB = 600
TARGET_01_SECONDS = 8.0
_PERIOD_US = 100_000


class Cgroup:
    """A cgroup of its own for one command, removed afterwards (v1: cpu and memory
    hierarchies; v2: the unified one)."""

    V1 = Path("/sys/fs/cgroup")

    def __init__(self, name: str) -> None:
        self.folders: list[Path] = []
        if (self.V1 / "cgroup.controllers").exists():  # v2
            folder = self.V1 / name
            folder.mkdir()
            self.folders = [folder]
            (folder / "cpu.max").write_text(f"{int(CPU_SHARE * _PERIOD_US)} {_PERIOD_US}")
            (folder / "memory.max").write_text(str(MEMORY_MB * 2**20))
            return
        cpu, memory = self.V1 / "cpu" / name, self.V1 / "memory" / name
        for folder in (cpu, memory):
            folder.mkdir()
            self.folders.append(folder)
        (cpu / "cpu.cfs_period_us").write_text(str(_PERIOD_US))
        (cpu / "cpu.cfs_quota_us").write_text(str(int(CPU_SHARE * _PERIOD_US)))
        (memory / "memory.limit_in_bytes").write_text(str(MEMORY_MB * 2**20))

    def enter(self) -> None:
        """Move the calling process in (a child, before it runs the command)."""
        for folder in self.folders:
            (folder / "cgroup.procs").write_text(str(os.getpid()))

    def pids(self) -> list[int]:
        text = (self.folders[-1] / "cgroup.procs").read_text()
        return [int(p) for p in text.split()]

    def remove(self) -> None:
        for folder in self.folders:
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except OSError:  # processes still leaving
                    time.sleep(0.1)


def cgroup_note() -> str:
    """'' when a limited cgroup can be made here, else why not."""
    try:
        Cgroup(f"autograder-cold-probe-{os.getpid()}").remove()
    except OSError as error:
        return f"unconstrained: no cgroup could be made here ({error.strerror})"
    return ""


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            return next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
    except (OSError, StopIteration, ValueError):
        return 0


@dataclass
class Run:
    seconds: float
    peak_mb: float
    ok: bool
    output: str


def run(argv: list[str], *, cwd: Path, env: dict[str, str] | None = None,
        limited: bool) -> Run:
    """``argv`` from a fresh process, in a limited cgroup if ``limited``."""
    group = Cgroup(f"autograder-cold-{os.getpid()}-{time.monotonic_ns()}") if limited else None
    peak = [0]
    done = threading.Event()

    def sample(process: subprocess.Popen[str]) -> None:
        while not done.wait(0.05):
            pids = group.pids() if group else [process.pid, *_descendants(process.pid)]
            peak[0] = max(peak[0], sum(_pss_kb(p) for p in pids))

    began = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT,
                               preexec_fn=group.enter if group else None)
    sampler = threading.Thread(target=sample, args=(process,), daemon=True)
    sampler.start()
    output, _ = process.communicate(timeout=600)
    seconds = time.perf_counter() - began
    done.set()
    sampler.join()
    if group:
        group.remove()
    return Run(seconds, peak[0] / 1024, process.returncode == 0, output)


def _descendants(pid: int) -> list[int]:
    children = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == pid:
                children += [int(name), *_descendants(int(name))]
    return children


def gradescope_root(release: Release, folder: Path) -> Path:
    """A folder laid out as Gradescope's /autograder: the bundle in source/, the submission in
    submission/, results/ for results.json."""
    with zipfile.ZipFile(release.bundle) as bundle:
        bundle.extractall(folder / "source")
    (folder / "submission").mkdir()
    (folder / "results").mkdir()
    shutil.copy2(release.solution, folder / "submission" / release.student_notebook.name)
    return folder


@dataclass
class Row:
    assignment: str
    ours: Run
    gradescope: Run
    otter: Run
    validate: Run

    @property
    def ratio(self) -> float:
        return self.otter.seconds / max(self.ours.seconds, self.gradescope.seconds)

    @property
    def validate_ratio(self) -> float:
        """The student's check before submitting, against otter grading the same notebook."""
        return self.otter.seconds / self.validate.seconds


def bench_assignment(release: Release, workdir: Path, limited: bool) -> Row:
    python = sys.executable
    otter = shutil.which("otter", path=str(Path(python).parent)) or "otter"
    ours = run([python, "-m", "autograder", "grade", str(release.bundle), str(release.solution),
                "--workers", "1", "--out", str(workdir / "ours")], cwd=workdir, limited=limited)
    root = gradescope_root(release, workdir / "gs")
    gradescope = run(["bash", str(root / "source" / "run_autograder")], cwd=workdir,
                     env={**os.environ, "AUTOGRADER_ROOT": str(root),
                          "AUTOGRADER_PYTHON": python}, limited=limited)
    gradescope.ok = gradescope.ok and (root / "results" / "results.json").exists()
    (workdir / "otter").mkdir()
    theirs = run([otter, "run", "-a", str(release.bundle), "-o", str(workdir / "otter"),
                  str(release.solution)], cwd=workdir, limited=limited)
    student = workdir / "student"
    shutil.copytree(release.student_notebook.parent, student)
    notebook = shutil.copy2(release.solution, student / release.student_notebook.name)
    validate = run([python, "-m", "autograder.kit.validate", str(notebook)], cwd=student,
                   env={**os.environ, "PYTHONPATH": str(student)}, limited=limited)
    return Row(release.name, ours, gradescope, theirs, validate)


def print_table(rows: list[Row], note: str) -> None:
    limits = note or f"{CPU_SHARE:g} CPU, {MEMORY_MB} MB (Gradescope's defaults), per command"
    print(f"\nCold start, the reference graded from a fresh process ({limits}):")
    print(f"{'assignment':<20} {'grade s':>8} {'run_autograder s':>17} {'otter run s':>12} "
          f"{'ratio':>6} {'peak MB ours/otter':>19} {'validate s':>11} {'ratio':>6} "
          f"{'validate MB':>12}")
    for r in rows:
        flags = "" if r.ours.ok and r.gradescope.ok and r.otter.ok and r.validate.ok \
            else "  (a command failed)"
        print(f"{r.assignment:<20} {r.ours.seconds:>8.1f} {r.gradescope.seconds:>17.1f} "
              f"{r.otter.seconds:>12.1f} {r.ratio:>5.1f}x "
              f"{max(r.ours.peak_mb, r.gradescope.peak_mb):>9.0f}/{r.otter.peak_mb:<9.0f} "
              f"{r.validate.seconds:>11.1f} {r.validate_ratio:>5.1f}x "
              f"{r.validate.peak_mb:>12.0f}{flags}")
    print(f"targets: ratio >= {TARGET_RATIO:g}x (grade and validate), peak < {TARGET_PEAK_MB} "
          f"MB, 01 graded in < {TARGET_01_SECONDS:g} s")


def targets_met(rows: list[Row]) -> bool:
    return all(r.ratio >= TARGET_RATIO and r.validate_ratio >= TARGET_RATIO and
               max(r.ours.peak_mb, r.gradescope.peak_mb, r.validate.peak_mb) < TARGET_PEAK_MB
               and r.ours.ok and r.gradescope.ok and r.validate.ok and
               (not r.assignment.startswith("01") or r.ours.seconds < TARGET_01_SECONDS)
               for r in rows)


def main(argv: list[str]) -> int:
    note = cgroup_note()
    assignments = [a for a in find_assignments(ROOT / "assignments")
                   if not argv or any(a.name.startswith(prefix) for prefix in argv)]
    releases = build_releases(assignments, student_root=ROOT / "student",
                              dist_root=ROOT / "dist")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        for release in releases:
            workdir = Path(tmp) / release.name
            workdir.mkdir()
            rows.append(bench_assignment(release, workdir, limited=not note))
            for name in ("ours", "gradescope", "otter", "validate"):
                failed = getattr(rows[-1], name)
                if not failed.ok:
                    print(f"{release.name}: {name} failed:\n{failed.output[-2000:]}")
    print_table(rows, note)
    return 0 if targets_met(rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
