"""What a student function changes in an object the judge lent it comes back typed and bounded:
the values of the module's own parameters and buffers (same names, shapes, dtypes) and of its
plain-data attributes; never a new tensor or attribute, never a callable or a handle, and never
for a token another request lent.

The entries are encoded as the student's process encodes them (``wire.Encoder``) and applied by
the judge's own ``Session``: what a hostile student's process could send, sent.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import torch

from autograder.grading import judge, wire


class Scaled(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(3, 2)
        self.scale = 1.0
        self.calls: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) * self.scale


def _session() -> judge.Session:
    ours, _theirs = socket.socketpair()
    return judge.Session(ours, judge.Deadlines(time.monotonic() + 60, 10.0))


def _encoder() -> wire.Encoder:
    def handle_for(obj):
        return {"$": "handle", "id": 7, "type": wire.real_mro(obj), "callable": callable(obj),
                "iterator": False, "class": False, "repr": "f"}

    return wire.Encoder(handle_for, lambda obj: None)


def _apply(session: judge.Session, encoder: wire.Encoder, entry: dict) -> None:
    session._write_back(entry, session.decoder(encoder.blobs, values=False))


def test_only_the_modules_own_tensors_and_plain_attributes_come_back():
    model = Scaled()
    session = _session()
    session.originals = {1: model.linear, 2: model}  # as a call lending the model sets them
    weight, bias = model.linear.weight.detach().clone(), model.linear.bias.detach().clone()
    encoder = _encoder()
    _apply(session, encoder, {
        "token": 1, "kind": "module", "training": True, "attrs": [], "tensors": [
            ["parameter", "weight", encoder.encode(torch.full((2, 3), 5.0))],
            ["parameter", "bias", encoder.encode(torch.zeros(7))],  # another shape
            ["parameter", "planted", encoder.encode(torch.ones(1))],  # a new one
            ["buffer", "weight", encoder.encode(torch.ones(2, 3))],  # a buffer it never had
        ]})
    assert torch.equal(model.linear.weight, torch.full((2, 3), 5.0))
    assert torch.equal(model.linear.bias, bias) and not torch.equal(weight, model.linear.weight)
    assert set(dict(model.linear.named_parameters())) == {"weight", "bias"}
    assert dict(model.linear.named_buffers()) == {}

    _apply(session, encoder, {
        "token": 2, "kind": "module", "training": False, "tensors": [], "attrs": [
            ["forward", encoder.encode(print)],  # a callable of the student's: a handle
            ["scale", encoder.encode(2.0)],
            ["calls", encoder.encode([1, 2, 3])],
            ["named_parameters", encoder.encode(len)],
            ["planted", encoder.encode(5)],  # an attribute it never had
        ]})
    assert model.scale == 2.0 and model.calls == [1, 2, 3] and model.training is False
    assert "forward" not in vars(model) and "named_parameters" not in vars(model)
    assert not hasattr(model, "planted")
    assert model(torch.ones(1, 3)).shape == (1, 2)  # the judge's own forward


def test_a_token_from_an_earlier_check_names_nothing():
    """A first check's call lends ``kept`` (token 1); in the next check, the reply to a call
    that lends something else writes back to token 1: a replay, refused as a protocol
    violation."""
    ours, theirs = socket.socketpair()
    session = judge.Session(ours, judge.Deadlines(time.monotonic() + 60, 10.0))
    kept = torch.zeros(3)

    def student() -> None:
        encoder = _encoder()
        for writeback in ([], [{"token": 1, "kind": "tensor",
                                "value": encoder.encode(torch.ones(3)), "grad": None}]):
            seq = wire.receive(theirs, time.monotonic() + 10).header["seq"]
            wire.send(theirs, {"type": "reply", "seq": seq, "ok": True, "value": None,
                               "writeback": writeback}, encoder.blobs)

    peer = threading.Thread(target=student)
    peer.start()
    function = judge.RemoteCallable(session, wire.HandleInfo(
        id=3, type_names=("builtins.function",), callable=True, iterator=False,
        is_class=False, repr="f", class_mro=()))
    function(kept)
    session.start_check()
    with pytest.raises(judge.ProtocolViolation, match="never sent"):
        function(torch.zeros(2))
    peer.join()
    assert torch.equal(kept, torch.zeros(3))
