"""The GPU path, checked in one short run on a machine with CUDA (issue 19).

What it settles:

- grading on a machine with a GPU: 03's reference and blank release, every 03 answer variant
  of ``tests/answers/a03_gpu.py``, and 04's reference, graded by the engine with CUDA visible
  and again with it hidden (``CUDA_VISIBLE_DEVICES=""``, a CPU grader) on the same machine.
  Checked: with CUDA, no check is skipped; the references score 100 %; every submission gets
  the same per-question scores on both (grades do not depend on the grader's hardware);
- the students' side: each student release, filled in with the reference answers, run in a
  Jupyter kernel with CUDA visible: every public check passes.

On a machine without CUDA it runs what it can and says which checks it could not run. One
summary line per assignment; exit 1 when a check fails.

    bench/gpu_check.sh          # on the GPU machine (installs what it lacks from wheels)
    .venv/bin/python bench/gpu_check.py   # here: the CPU half
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import filled_in, notebook_with_answer  # noqa: E402
from make_examples import variants_for  # noqa: E402

from autograder.authoring.release import Release, build_releases, find_assignments  # noqa: E402

GRADED = ("03-gpu", "04-mini-project")


def submissions(release: Release, folder: Path) -> list[Path]:
    """The reference and the blank release, and for 03 every answer variant."""
    folder.mkdir(parents=True)
    made = [Path(release.solution), Path(release.student_notebook)]
    if release.name == "03-gpu":
        for question, kinds in variants_for(release.name).items():
            for kind, variants in kinds.items():
                for number, code in enumerate(variants.values()):
                    made.append(notebook_with_answer(
                        release.solution, question, code,
                        folder / f"{question}-{kind}-{number}.ipynb"))
    return made


def grade(release: Release, notebooks: list[Path], *, cuda: bool) -> dict[str, dict]:
    """Per notebook: status, per-question scores and the checks skipped, graded in a process
    of its own with CUDA visible or hidden."""
    code = (
        "import json, os, sys\n"
        "from pathlib import Path\n"
        "from autograder.grading.grader import grade_submissions\n"
        "results = grade_submissions(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]],"
        " workers=os.cpu_count())\n"
        "print(json.dumps({r.submission: {'status': r.status, 'message': r.message,"
        " 'scores': {q.name: q.score for q in r.questions},"
        " 'possible': sum(q.possible for q in r.questions),"
        " 'skipped': [c.name for q in r.questions for c in q.checks"
        " if c.outcome == 'skipped']} for r in results}))\n")
    env = dict(os.environ)
    if not cuda:
        env["CUDA_VISIBLE_DEVICES"] = ""
    run = subprocess.run([sys.executable, "-c", code, str(release.bundle), *map(str, notebooks)],
                         capture_output=True, text=True, env=env, check=True, cwd=ROOT)
    return json.loads(run.stdout.strip().splitlines()[-1])


def public_checks_in_kernel(release: Release, folder: Path) -> tuple[int, list[str]]:
    """Run the student release, filled in with the reference answers, in a Jupyter kernel with
    CUDA as it is here: (public checks run, the ones that did not pass)."""
    import nbclient
    import nbformat

    notebook = nbformat.from_dict(filled_in(release))
    # The export cell writes a zip beside the notebook: not needed here.
    notebook.cells = [c for c in notebook.cells if "grader.export" not in c.source]
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    folder.mkdir(parents=True, exist_ok=True)
    for item in release.student_notebook.parent.iterdir():
        target = folder / item.name
        if item.is_dir():
            subprocess.run(["cp", "-r", str(item), str(target)], check=True)
    client.execute()
    ran, failed = 0, []
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.source.startswith("grader.check("):
            ran += 1
            text = "".join(str(o.get("text", "")) + json.dumps(o.get("data", {}))
                           for o in cell.get("outputs", []))
            if "All test cases passed" not in text:
                failed.append(cell.source.split('"')[1])
    return ran, failed


def check_assignment(release: Release, work: Path, cuda_here: bool) -> tuple[bool, str]:
    problems: list[str] = []
    notes: list[str] = []
    if release.name in GRADED:
        notebooks = submissions(release, work / "submissions")
        cpu = grade(release, notebooks, cuda=False)
        reference = Path(release.solution).stem
        if cuda_here:
            gpu = grade(release, notebooks, cuda=True)
            skipped = sorted({c for r in gpu.values() for c in r["skipped"]})
            if skipped:
                problems.append(f"skipped with CUDA: {', '.join(skipped)}")
            differ = [name for name in cpu if cpu[name]["scores"] != gpu[name]["scores"]
                      or cpu[name]["status"] != gpu[name]["status"]]
            if differ:
                problems.append(f"GPU and CPU scores differ for {', '.join(sorted(differ))}")
            ref = gpu[reference]
        else:
            ref = cpu[reference]
            notes.append(f"no CUDA here: {len(cpu[reference]['skipped'])} CUDA check(s) "
                         "skipped, GPU-vs-CPU scores not compared")
        if ref["status"] != "graded" or sum(ref["scores"].values()) != ref["possible"]:
            problems.append(f"reference scored {sum(ref['scores'].values()):g}/"
                            f"{ref['possible']:g} ({ref['status']}: {ref['message']})")
        notes.append(f"{len(notebooks)} submissions graded")
    ran, failed = public_checks_in_kernel(release, work / "student")
    if failed:
        problems.append(f"public checks failed in a kernel: {', '.join(failed)}")
    notes.append(f"{ran} public checks run in a kernel"
                 + (" with CUDA" if cuda_here else " (no CUDA)"))
    return not problems, "; ".join(problems + notes)


def main() -> int:
    import torch

    cuda_here = torch.cuda.is_available()
    device = torch.cuda.get_device_name(0) if cuda_here else "no CUDA device"
    print(f"gpu check: torch {torch.__version__}, {device}")
    releases = build_releases(find_assignments(ROOT / "assignments"),
                              student_root=ROOT / "student", dist_root=ROOT / "dist")
    all_ok = True
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        for release in releases:
            ok, summary = check_assignment(release, Path(tmp) / release.name, cuda_here)
            all_ok &= ok
            print(f"{release.name}: {'ok' if ok else 'FAILED'}: {summary}", flush=True)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
