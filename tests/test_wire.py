"""The wire between the judge and the student's process: what crosses, and what is refused.

Values are encoded as the student's process does (``wire.Encoder``) and decoded as the judge
does (``wire.Decoder``); the decoded objects must be fresh objects of exact types, whatever the
student's objects claimed to be.
"""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pytest
import torch

from autograder.grading import wire


def _round_trip(value):
    handles = []

    def handle_for(obj):
        handles.append(obj)
        return {"$": "handle", "id": len(handles), "type": wire.real_mro(obj),
                "callable": callable(obj), "iterator": False, "class": isinstance(obj, type),
                "repr": "x"}

    encoder = wire.Encoder(handle_for, lambda obj: None)
    node = encoder.encode(value)
    facts = {}
    decoder = wire.Decoder(encoder.blobs, make_handle=lambda info: ("handle", info),
                           resolve_ref=lambda token: None,
                           record_facts=lambda obj, f: facts.__setitem__(id(obj), f),
                           cuda_devices=0, same_objects={})
    return decoder.decode(node)


def _decode(node, blobs=()):
    return wire.Decoder(list(blobs), make_handle=lambda info: info, resolve_ref=lambda t: None,
                        record_facts=lambda obj, f: None, cuda_devices=0,
                        same_objects={}).decode(node)


def test_values_cross_by_value_as_exact_types():
    t = torch.arange(6, dtype=torch.float64).reshape(2, 3).t()  # not contiguous
    value = {"t": t, "a": np.arange(4, dtype=np.int32), "n": np.float32(1.5), "f": 0.1,
             "c": 1 + 2j, "s": "é\udcff", "b": b"\x00", "none": None, "e": ...,
             "dtype": torch.bfloat16, "device": torch.device("meta"),
             "size": torch.Size([2, 3]), "nested": [(1, True), {"k": [2.5]}],
             "meta": torch.empty(10**9, device="meta"),
             "param": torch.nn.Parameter(torch.ones(2)),
             "bf16": torch.ones(2, dtype=torch.bfloat16)}
    got = _round_trip(value)
    assert type(got["t"]) is torch.Tensor and torch.equal(got["t"], t)
    assert type(got["a"]) is np.ndarray and got["a"].dtype == np.int32 and got["a"].flags.writeable
    assert type(got["n"]) is np.float32 and got["n"] == 1.5
    assert got["f"] == 0.1 and got["c"] == 1 + 2j and got["s"] == "é\udcff" and got["b"] == b"\x00"
    assert got["none"] is None and got["e"] is Ellipsis and got["dtype"] is torch.bfloat16
    assert got["device"] == torch.device("meta") and type(got["size"]) is torch.Size
    assert got["nested"] == [(1, True), {"k": [2.5]}] and type(got["nested"][0]) is tuple
    assert got["meta"].device.type == "meta" and got["meta"].shape == (10**9,)
    assert type(got["param"]) is torch.nn.Parameter and got["param"].requires_grad
    assert torch.equal(got["bf16"], torch.ones(2, dtype=torch.bfloat16))


def test_objects_that_lie_about_themselves_become_handles():
    class Claims(list):
        @property
        def __class__(self):
            return tuple

    class AlwaysEqual:
        def __eq__(self, other):
            return True

    class Float(float):
        def __float__(self):
            return 42.0

    class Shaped(np.ndarray):
        @property
        def shape(self):
            return (3, 3)

    got = _round_trip([Claims([1]), AlwaysEqual(), Float(1.0), np.zeros(2).view(Shaped),
                       np.array([object()])])
    assert got[0][0] == "handle" and got[0][1].type_names[0].endswith("Claims")
    assert got[1][0] == "handle" and got[2][0] == "handle"
    assert type(got[3]) is np.ndarray and got[3].shape == (2,)  # the real shape
    assert got[4][0] == "handle"  # no object arrays by value


def test_a_tensor_subclass_arrives_as_a_plain_tensor_with_the_fact_reported():
    class Liar(torch.Tensor):
        pass

    facts = {}
    encoder = wire.Encoder(lambda o: None, lambda o: None)
    node = encoder.encode(torch.ones(2).as_subclass(Liar))
    value = wire.Decoder(encoder.blobs, make_handle=None, resolve_ref=None,
                         record_facts=lambda obj, f: facts.update(f), cuda_devices=0,
                         same_objects={}).decode(node)
    assert type(value) is torch.Tensor and facts["subclass"].endswith("Liar")


@pytest.mark.parametrize("node, blobs", [
    ({"$": "pickle", "v": "..."}, ()),
    ({"v": 1}, ()),
    ({"$": "tensor", "dtype": "object", "shape": [1], "device": {"type": "cpu"}, "blob": 0,
      "span": [0, 0], "oid": 1}, [b"x"]),
    ({"$": "tensor", "dtype": "float32", "shape": [4], "device": {"type": "cpu",
      "index": None}, "blob": 0, "span": [0, 0], "oid": 1}, [b"\x00" * 15]),
    ({"$": "tensor", "dtype": "float32", "shape": [1], "device": {"type": "cuda",
      "index": 0}, "blob": 0, "span": [0, 0], "oid": 1}, [b"\x00" * 4]),
    ({"$": "ndarray", "dtype": "|O", "shape": [1], "blob": 0, "span": [0, 0], "oid": 1},
     [b"\x00" * 8]),
    ({"$": "dict", "items": [[[1], 2]]}, ()),
    ({"$": "float", "v": 1.0}, ()),
    ({"$": "handle", "id": 1, "type": "x", "callable": 1, "iterator": False, "class": False,
      "repr": ""}, ()),
])
def test_malformed_values_are_refused(node, blobs):
    with pytest.raises(wire.WireError):
        _decode(node, blobs)


def test_too_deep_is_refused():
    node = 1
    for _ in range(wire.MAX_DEPTH + 2):
        node = [node]
    with pytest.raises(wire.WireError):
        _decode(node)


def test_a_message_dribbled_byte_by_byte_cannot_stretch_the_deadline():
    ours, theirs = socket.socketpair()
    stop = threading.Event()

    def dribble():
        body = b'{"type": "reply"}'
        data = len(body).to_bytes(4, "big") + body + (0).to_bytes(4, "big")
        for byte in data:
            if stop.wait(0.2):
                return
            theirs.send(bytes([byte]))

    thread = threading.Thread(target=dribble)
    thread.start()
    began = time.monotonic()
    try:
        with pytest.raises(wire.DeadlinePassed):
            wire.receive(ours, time.monotonic() + 1.0)
        assert time.monotonic() - began < 2.0
    finally:
        stop.set()
        thread.join()
        ours.close()
        theirs.close()


def test_a_message_over_the_size_cap_is_refused():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall((10**9).to_bytes(4, "big"))
        with pytest.raises(wire.WireError):
            wire.receive(ours, time.monotonic() + 5)


def test_ambient_state_round_trips_and_malformed_state_is_refused():
    torch.manual_seed(3)
    state = wire.capture_ambient()
    expected = torch.rand(2)
    torch.manual_seed(99)
    wire.apply_ambient(_round_trip(state))
    assert torch.equal(torch.rand(2), expected)
    broken = {**state, "numpy": ("MT19937", np.zeros(3, dtype=np.uint32), 0, 0, 0.0)}
    with pytest.raises(wire.WireError):
        wire.apply_ambient(broken)
