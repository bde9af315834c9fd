"""What the judge sends to the student's process is data, and classes and functions by
reference (a module and a name the student's process imports), never code defined in a test:
a test's own class or function would travel with its bytecode and names, readable there.

Tests are loaded as the judge loads them (``exec`` of the test file into a namespace named
after the question) and the payload is pickled by the judge's own pickler.
"""

from __future__ import annotations

import io
import pickle

import pytest
import torch

from autograder.grading import judge
from autograder.kit import probes

HIDDEN_TEST = '''
import torch
from torch import nn

class Recorder(nn.Module):
    def forward(self, x):
        return x * 41  # SECRET_MARKER

def helper(x):
    return x + 41  # SECRET_MARKER

def test_q1(f):
    pass
'''


def _pickled(payload) -> bytes:
    buffer = io.BytesIO()
    judge._Pickler(buffer).dump(payload)
    return buffer.getvalue()


@pytest.fixture
def hidden_namespace():
    namespace = {"__name__": "q1"}
    exec(compile(HIDDEN_TEST, "<tests q1>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("make", [
    lambda ns: ns["Recorder"](),  # an instance: its class would travel by value
    lambda ns: ns["Recorder"],
    lambda ns: ns["helper"],
    lambda ns: {"args": ([1, 2], {"callback": ns["helper"]})},  # nested in data
    lambda ns: ns["helper"].__code__,
    lambda ns: (lambda x: x),  # a lambda in a test
], ids=["instance", "class", "function", "nested", "code", "lambda"])
def test_code_defined_in_a_test_is_refused(hidden_namespace, make):
    with pytest.raises(pickle.PicklingError, match="defined in a test"):
        _pickled(make(hidden_namespace))


def test_probes_torch_and_data_travel_by_reference_without_test_code(hidden_namespace):
    payload = {"args": (probes.BatchRecorder(features=3, classes=2), probes.NoisyDataset(8),
                        torch.nn.Sequential(torch.nn.Linear(2, 2)), torch.ones(3),
                        torch.nn.CrossEntropyLoss(), torch.optim.SGD, [1, "two", 3.0])}
    data = _pickled(payload)
    assert b"SECRET_MARKER" not in data and b"helper" not in data
    assert b"autograder.kit.probes" in data and b"BatchRecorder" in data
    back = pickle.loads(data)
    assert type(back["args"][0]) is probes.BatchRecorder
    assert back["args"][5] is torch.optim.SGD  # a class by reference: the same object
