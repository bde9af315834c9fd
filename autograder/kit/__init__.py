"""What ships to students and into bundles: the check helpers assignment tests import
(``checks``) and the objects they lend to student code (``probes``), the reader of files a
student's code controls (``regular_files``: intake and checks share it), the notebook a
submission file holds (``notebook_file``: intake and ``validate`` share it), IPython's shell as
the grader runs notebooks in it (``notebook_shell``: the sandbox and ``validate`` share it),
the pre-submission check (``validate``), the student notebook's ``grader``
(``notebook_grader``), the runner of its public checks (``public_checks``), and what keeps
torch's compiler front end unloaded in the student's process until it is used
(``compiler_on_demand``: the sandbox and the notebook's first cell apply it).

Imports nothing of the grader: these files are copied into every student release and packed
into every student notebook, and run where only the release's requirements are installed.
"""
