"""The grader checks itself before it grades anyone: a small probe submission, shipped with the
engine, graded by a freshly started worker pool, must get its known score (every check
passed). It exercises what student code and tests need from the environment the sandbox
builds: NumPy, torch's lazily imported modules (``torch.save`` and ``torch.load`` pull in
``torch.utils.serialization``), files in the box (a file the student's code writes and the
judge reads back, a checkpoint the judge writes and student code loads), a handle (a model
that stays in the student's process), the simulated GPU and an instrument.

If it does not, grading stops before the first submission with one line naming what failed:
a grader installed where the view hides part of it, a package missing from it, a kernel that
refuses a layer. No submission is ever graded in an environment that grades the probe wrong.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from autograder.bundle import Bundle, CheckSpec, QuestionTests
from autograder.errors import AutograderError
from autograder.grading.job import Limits
from autograder.grading.submission import Submission

if TYPE_CHECKING:
    from autograder.grading.grader import Worker

PROBE_CELLS = (
    '''
import os

import numpy as np
import torch
from torch import nn

values = np.arange(4) * 2


def save_and_load(path):
    torch.save({"w": torch.arange(3.0)}, path)
    return torch.load(path, weights_only=True)["w"]


def load(path):
    return torch.load(path, weights_only=True)


def make_model():
    torch.manual_seed(5)
    return nn.Linear(2, 1)


def move(tensor, device):
    return str(tensor.to(device).device)


def reseed():
    torch.manual_seed(1)
''',
)

PROBE_TESTS = '''
def test_environment(values, save_and_load, load, make_model, move, reseed):
    import os
    import tempfile

    import numpy as np
    import torch
    from torch import nn
    from autograder.kit.checks import (assert_equal_state_dicts, assert_tensor,
                                       call, read_state_dict_file, recorded_calls, seeded,
                                       simulated_machine, student_folder)

    if not isinstance(values, np.ndarray) or values.tolist() != [0, 2, 4, 6]:
        raise AssertionError(f"numpy: got {values!r}")
    with student_folder() as folder:
        path = os.path.join(folder, "w.pt")
        got = call("save_and_load(path)", save_and_load, path)
        assert_tensor(got, torch.arange(3.0), name="torch.save then torch.load in the box")
        assert_equal_state_dicts(read_state_dict_file(path), {"w": torch.arange(3.0)},
                                 name="the file as the judge reads it")
    with seeded(3):
        state = nn.Linear(3, 2).state_dict()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "checkpoint.pt")
        torch.save(state, path)
        assert_equal_state_dicts(call("load(path)", load, path), state,
                                 name="a checkpoint the judge wrote")
    model = call("make_model()", make_model)
    with seeded(5):
        expected = nn.Linear(2, 1)
    x = torch.ones(4, 2)
    assert_tensor(model(x), expected(x), name="a model kept in the student's process")
    with simulated_machine(cuda=True, cuda_moves=True):
        moved = call("move(x, 'cuda')", move, x, "cuda")
    if moved != "cuda:0":
        raise AssertionError(f"a move to the simulated GPU: got {moved!r}")
    with recorded_calls("torch.manual_seed") as seeds:
        call("reseed()", reseed)
    if [args for _, args, _ in seeds] != [(1,)]:
        raise AssertionError(f"the recorded calls: got {seeds!r}")
'''

PROBE_BUNDLE = Bundle(
    path=Path("<the engine's self-check>"), digest="", assignment="self-check",
    questions=(QuestionTests(name="environment", module=PROBE_TESTS,
                             checks=(CheckSpec(name="test_environment", points=1.0,
                                               hidden=False),)),),
    answer_cells={})
PROBE_LIMITS = Limits(submission_seconds=120.0, cell_seconds=60.0)


class BrokenEnvironment(AutograderError):
    """The engine graded its own probe wrong: nothing is graded here."""


def verify(worker: Worker) -> float:
    """Grade the probe on ``worker``; its seconds, or ``BrokenEnvironment`` naming what
    failed."""
    began = time.monotonic()
    submission = Submission(stem="self-check", path=Path("<self-check>"), cells=PROBE_CELLS)
    outcome = worker.run(submission, PROBE_BUNDLE, PROBE_LIMITS)
    failures = [f"{check.get('name')}: {check.get('message')}"
                for question in outcome.questions for check in question.get("checks", [])
                if check.get("outcome") != "passed"]
    if outcome.status != "graded":
        failures.insert(0, f"{outcome.status}: {outcome.message}")
    elif not outcome.questions:
        failures.append("no verdict")
    if failures:
        raise BrokenEnvironment("the grading environment is broken: the engine's self-check "
                                f"failed ({'; '.join(failures)[:600]}); nothing was graded")
    return time.monotonic() - began
