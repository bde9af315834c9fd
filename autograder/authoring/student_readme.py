"""The student release's README: install, work, check, submit; locally and on Colab."""

from __future__ import annotations

from autograder.authoring.student_env import INSTALL_LINE, REQUIREMENTS_FILE, StudentEnvironment


def student_readme(assignment: str, notebook: str, environment: StudentEnvironment) -> str:
    pins = ", ".join(environment.requirements)
    return f"""# {assignment}

## Install (once)

With Python 3.11 or newer, in this folder (a virtual environment is best:
`python -m venv .venv` and activate it first):

```sh
{INSTALL_LINE}
```

`{REQUIREMENTS_FILE}` pins what this assignment needs, at the versions the grader uses
({pins}). Then open the notebook: `jupyter lab {notebook}`.

## On Google Colab

Upload `{notebook}` (*File > Upload notebook*) and run its cells from the top. The first
cell unpacks the checks; nothing needs installing or uploading (Colab has PyTorch and NumPy,
at its own versions). To use a GPU: *Runtime > Change runtime type*.

## Work, check, submit

- **The notebook is all you need.** Its first cell carries the checks (helpers and public
  tests) and makes them available wherever the notebook is, even alone in a folder. Run it
  first.
- **Check your work**: after each question, run its `grader.check("qN")` cell. These public
  checks are a sanity check only; the grade comes from more (hidden) checks after you submit.
  A check that needs a GPU is skipped on machines without one and never costs you points.
- **Before you submit**: *Kernel > Restart Kernel and Run All Cells*, and make sure every cell
  runs without an error and no cell takes more than a minute. Or let the computer check all
  of that, from this folder: `python -m autograder.kit.validate {notebook}` (or the `.zip` you
  are about to submit). It runs a copy as the grader will, on the CPU and alone in a temporary
  folder (a file you import from this folder is not submitted: it says so), and writes nothing
  here.
- **Export**: save the notebook (*File > Save Notebook*), then run the last cell
  (`grader.export(...)`). It zips the notebook that is open, whatever its name
  (`{notebook.removesuffix(".ipynb")} (1).ipynb` too), into a `.zip` next to it. When it
  cannot tell which notebook is open (two copies here, no Jupyter), it stops and names them:
  pass the one you worked in, `grader.export("my copy.ipynb", pdf=False)`.
- **Submit** that `.zip` (or the `.ipynb` itself) where your course tells you to.
- **On Colab** the export cell cannot zip (otter refuses to export there): download the
  notebook instead (*File > Download > Download .ipynb*) and submit that `.ipynb`; the
  grader accepts it as it is.

The `autograder/` folder holds the pre-submission check (`kit/validate.py`) and a readable
copy of the check helpers (`kit/checks.py`); the notebook does not need it.
"""
