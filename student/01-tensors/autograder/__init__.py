"""Auto-graded PyTorch assignments.

Data flow, one module per stage:
instructor notebook -> ``release`` (student release + autograder bundle)
-> ``grade`` (one ``SubmissionResult`` per submission, run by ``sandbox`` workers)
-> ``reports`` (gradebook CSV, Gradescope JSON, Markdown feedback).
``checks`` holds the helpers that assignment tests import; it is shipped to students.

Kept import-free: this file is copied into every student release next to ``checks.py``.
"""

__version__ = "0.1.0"
