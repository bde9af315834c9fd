"""``autograder new NN-topic``: a skeleton instructor notebook to start an assignment from.

The skeleton follows every rule of ``assignments/README.md`` in one small question (a public
sanity check and a hidden grading test through the check helpers, a seeded value recomputed in
the test, a CUDA-only check worth 0 points), and releases and grades cleanly as it is: the
reference solution scores 100%, the blank release 0.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from autograder.errors import AutograderError

NAME = re.compile(r"\d\d-[a-z][a-z0-9]*(-[a-z0-9]+)*")

_CONFIG = """# ASSIGNMENT CONFIG
name: {name}
tests:
  ok_format: false"""

_INTRO = """# {title}

What this assignment teaches, in a sentence or two.

Answer each question in the cells marked `...`, then run its `grader.check("qN")` cell: a
sanity check only; the grade comes from more (hidden) checks after you submit."""

_SETUP = "import torch"

_QUESTION_1 = """## Question 1: Seeded random numbers

`torch.manual_seed(seed)` makes the random numbers that follow the same on every run.

**Your task.** Write `random_matrix(rows, cols, device="cpu")` that sets the seed to 42 and
returns `torch.rand(rows, cols)` on `device`."""

_SOLUTION_1 = """def random_matrix(rows, cols, device="cpu"):
    # BEGIN SOLUTION
    torch.manual_seed(42)
    return torch.rand(rows, cols, device=device)
    # END SOLUTION"""

_PUBLIC_1 = '''""" # BEGIN TEST CONFIG
points: 1
hidden: false
""" # END TEST CONFIG
def test_q1_shape(random_matrix):
    import torch
    from autograder.kit.checks import assert_dtype, assert_shape, call_for_value

    result = call_for_value("random_matrix(2, 3)", random_matrix, 2, 3)
    assert_shape(result, (2, 3), name="random_matrix(2, 3)")
    assert_dtype(result, torch.float32, name="random_matrix(2, 3)")'''

_HIDDEN_1 = '''""" # BEGIN TEST CONFIG
points: 2
hidden: true
""" # END TEST CONFIG
def test_q1_values(random_matrix):
    import torch
    from autograder.kit.checks import assert_tensor, call_for_value, seeded

    for rows, cols in ((3, 4), (1, 5)):
        with seeded(42):  # the expected value is recomputed here, never pasted
            expected = torch.rand(rows, cols)
        shown = f"random_matrix({rows}, {cols})"
        result = call_for_value(shown, random_matrix, rows, cols)
        assert_tensor(result, expected, name=shown, exact=True)'''

_CUDA_1 = '''""" # BEGIN TEST CONFIG
points: 0
hidden: true
""" # END TEST CONFIG
def test_q1_on_a_gpu(random_matrix):
    from autograder.kit.checks import skip_without_cuda
    if skip_without_cuda():  # reported as skipped without a GPU; worth 0 points either way
        return
    from autograder.kit.checks import assert_device, call_for_value

    shown = 'random_matrix(2, 3, device="cuda")'
    assert_device(call_for_value(shown, random_matrix, 2, 3, device="cuda"), "cuda", name=shown)'''


def skeleton_notebook(name: str) -> nbformat.NotebookNode:
    """The skeleton instructor notebook of assignment ``name`` (stored without outputs)."""
    title = name.split("-", 1)[1].replace("-", " ").capitalize()
    raw, md, code = (nbformat.v4.new_raw_cell, nbformat.v4.new_markdown_cell,
                     nbformat.v4.new_code_cell)
    cells = [
        raw(_CONFIG.format(name=name)),
        md(_INTRO.format(title=f"Assignment {int(name[:2])}: {title}")),
        code(_SETUP),
        raw("# BEGIN QUESTION\nname: q1"),
        md(_QUESTION_1),
        raw("# BEGIN SOLUTION"),
        code(_SOLUTION_1),
        raw("# END SOLUTION"),
        raw("# BEGIN TESTS"),
        code(_PUBLIC_1),
        code(_HIDDEN_1),
        code(_CUDA_1),
        raw("# END TESTS"),
        raw("# END QUESTION"),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python",
                                  "name": "python3"},
                   "language_info": {"name": "python"}}
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index:03d}"
    return nb


def write_skeleton(assignments_root: Path, name: str) -> Path:
    """Write ``assignments_root/name/<topic>.ipynb``; refuse a bad name or an existing folder."""
    if not NAME.fullmatch(name):
        raise AutograderError(f"an assignment name is two digits, a dash and a topic in "
                              f"lower case (05-autograd); got {name!r}")
    folder = Path(assignments_root) / name
    if folder.exists():
        raise AutograderError(f"{folder} already exists")
    notebook = folder / f"{name.split('-', 1)[1].replace('-', '_')}.ipynb"
    folder.mkdir(parents=True)
    nbformat.write(skeleton_notebook(name), notebook)
    return notebook
