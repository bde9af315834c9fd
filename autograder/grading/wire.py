"""The wire between the judge (trusted) and the student's process (untrusted).

The one thing both sides share. A message is a length-prefixed JSON header followed by raw
binary blobs (tensor and array bytes), framed by ``framing`` (read under an absolute deadline
and a size cap).

Values from the student's process travel **by value** in a strict format that
``decode_value`` turns into fresh objects of exact, known types: ``torch.Tensor`` (dtype, shape,
bytes; where it lives, ``requires_grad`` and its storage span as *reported facts*),
``numpy.ndarray`` (no object dtype), NumPy scalars, Python scalars, ``str``, ``bytes``,
``None``, ``...``, ``torch.dtype`` / ``torch.device`` / ``torch.Size``, and tuples, lists and
dicts of these. Anything else is a **handle** (an id plus reported facts about its type) that the
judge turns into a remote object; an object the judge itself sent comes back as a **ref**.
Decoding never imports, evaluates or unpickles anything: a malformed value is a ``WireError``.

The judge sends the other way with pickle (``encode_arguments``): the student's process may
decode anything, since it only hurts itself.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch

# The framing is part of the wire format: both sides send and receive through ``wire``.
from autograder.grading.framing import (  # noqa: F401 - re-exported
    MAX_MESSAGE_BYTES,
    ChannelClosed,
    DeadlinePassed,
    Message,
    WireError,
    clip,
    receive,
    send,
)

# What the judge may build from one message's blobs, each use counted: a blob named by many
# values is as many copies. An honest encoder names each blob once, so it never gets near.
MAX_DECODED_BYTES = MAX_MESSAGE_BYTES
MAX_DEPTH = 48
MAX_NODES = 200_000
MAX_REPR = 200


# --- the closed set of types ------------------------------------------------------------------

TORCH_DTYPES: dict[str, torch.dtype] = {
    name: getattr(torch, name) for name in (
        "bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64",
        "float16", "bfloat16", "float32", "float64", "complex64", "complex128")
}
_DTYPE_NAMES = {dtype: name for name, dtype in TORCH_DTYPES.items()}
DEVICE_TYPES = ("cpu", "cuda", "meta", "mps")
# NumPy dtypes by their kind: bool, signed, unsigned, float, complex. Never object/void/str.
NUMPY_KINDS = "biufc"


def qualified_name(cls: type) -> str:
    """``module.QualName`` of a class, read with ``type``'s own descriptors (a class cannot
    override them on its instances)."""
    module = type.__dict__["__module__"].__get__(cls)
    qualname = type.__dict__["__qualname__"].__get__(cls)
    return f"{module}.{qualname}" if isinstance(module, str) and isinstance(qualname, str) \
        else "<unnamed>"


def real_mro(obj: Any) -> list[str]:
    """The qualified names of ``obj``'s real type and its bases (``type(obj)``, never a
    ``__class__`` the object reports)."""
    return [qualified_name(cls) for cls in type.__dict__["__mro__"].__get__(type(obj))]


# --- encoding (in the student's process) ------------------------------------------------------


class Encoder:
    """Turns a value into the strict format. Objects outside it become handles, through
    ``handle_for``; objects the judge sent become refs, through ``token_for``."""

    def __init__(self, handle_for: Any, token_for: Any, keep: list[Any] | None = None) -> None:
        self.handle_for = handle_for  # object -> handle description (dict)
        self.token_for = token_for  # object -> int token or None
        # Tensors and arrays sent, kept alive by the caller while their ids may be compared:
        # a freed object's id is reused.
        self.keep = keep if keep is not None else []
        self.blobs: list[bytes] = []
        self._nodes = 0

    def blob(self, data: bytes) -> int:
        self.blobs.append(data)
        return len(self.blobs) - 1

    def encode(self, value: Any, depth: int = 0, path: frozenset[int] = frozenset()) -> Any:
        self._nodes += 1
        if self._nodes > MAX_NODES or depth > MAX_DEPTH or id(value) in path:
            return self.handle_for(value)
        kind = type(value)
        if value is None or kind is bool or kind is str:
            return value
        if kind is int:
            return value if abs(value) < 1 << 1000 else self.handle_for(value)
        if kind is float:
            return {"$": "float", "v": value.hex()}
        if kind is complex:
            return {"$": "complex", "re": value.real.hex(), "im": value.imag.hex()}
        if kind is bytes:
            return {"$": "bytes", "blob": self.blob(value)}
        if value is Ellipsis:
            return {"$": "ellipsis"}
        token = self.token_for(value)
        if token is not None:
            return {"$": "ref", "token": token}
        inner = path | {id(value)}
        if kind is list:
            return [self.encode(v, depth + 1, inner) for v in value]
        if kind is tuple or isinstance(value, tuple) and kind.__module__ == "torch.return_types":
            return {"$": "tuple", "items": [self.encode(v, depth + 1, inner) for v in value]}
        if kind is dict or kind.__name__ == "OrderedDict" and kind.__module__ == "collections":
            return {"$": "dict", "items": [[self.encode(k, depth + 1, inner),
                                            self.encode(v, depth + 1, inner)]
                                           for k, v in dict.items(value)]}
        if kind is torch.Size:
            return {"$": "size", "v": [int(d) for d in tuple.__iter__(value)]}
        if kind is torch.dtype and value in _DTYPE_NAMES:
            return {"$": "dtype", "v": _DTYPE_NAMES[value]}
        if kind is torch.device:
            return {"$": "device", "type": value.type, "index": value.index}
        if isinstance(value, torch.Tensor):
            self.keep.append(value)
            return self._tensor(value)
        if isinstance(value, np.ndarray) and value.dtype.kind in NUMPY_KINDS:
            self.keep.append(value)
            return self._ndarray(value)
        if isinstance(value, np.generic) and kind.__module__ == "numpy" and \
                np.dtype(kind).kind in NUMPY_KINDS:
            return {"$": "npscalar", "dtype": np.dtype(kind).str,
                    "blob": self.blob(np.asarray(value).tobytes())}
        return self.handle_for(value)

    def _tensor(self, value: torch.Tensor) -> Any:
        plain = torch.Tensor._make_subclass(torch.Tensor, value.detach()) \
            if type(value) not in (torch.Tensor, torch.nn.Parameter) else value.detach()
        if plain.dtype not in _DTYPE_NAMES or plain.is_sparse or plain.layout != torch.strided:
            return self.handle_for(value)
        device = plain.device
        if device.type not in DEVICE_TYPES:
            return self.handle_for(value)
        blob = None
        span = [0, 0]
        if device.type != "meta":
            contiguous = plain.cpu().contiguous()
            if contiguous.dtype == torch.bfloat16:
                data = contiguous.view(torch.int16).numpy().tobytes()
            else:
                data = contiguous.resolve_conj().resolve_neg().numpy().tobytes()
            blob = self.blob(data)
            storage = plain.untyped_storage()
            span = [storage.data_ptr(), storage.data_ptr() + storage.nbytes()]
        subclass = None if type(value) in (torch.Tensor, torch.nn.Parameter) \
            else qualified_name(type(value))
        return {"$": "tensor", "dtype": _DTYPE_NAMES[plain.dtype],
                "shape": [int(d) for d in plain.shape],
                "device": {"type": device.type, "index": device.index}, "blob": blob,
                "requires_grad": bool(value.requires_grad),
                "parameter": type(value) is torch.nn.Parameter, "span": span,
                "subclass": subclass, "oid": id(value)}

    def _ndarray(self, value: np.ndarray) -> Any:
        plain = np.asarray(value)
        start = plain.__array_interface__["data"][0]
        subclass = None if type(value) is np.ndarray else qualified_name(type(value))
        return {"$": "ndarray", "dtype": plain.dtype.str, "shape": list(plain.shape),
                "blob": self.blob(np.ascontiguousarray(plain).tobytes()),
                "span": [start, start + plain.nbytes], "subclass": subclass,
                "oid": id(value)}


# --- decoding (in the judge) ------------------------------------------------------------------


@dataclass(frozen=True)
class HandleInfo:
    """What the student's process reports about an object it keeps: all claims."""

    id: int
    type_names: tuple[str, ...]  # real MRO, as reported
    callable: bool
    iterator: bool
    is_class: bool
    repr: str
    class_mro: tuple[str, ...] = ()  # for a class: its own MRO, as reported


def _want(condition: bool, what: str) -> None:
    if not condition:
        raise WireError(what)


def _hexfloat(text: Any) -> float:
    _want(isinstance(text, str) and len(text) < 64, "a float is not a hex string")
    try:
        return float.fromhex(text)
    except (ValueError, OverflowError):
        raise WireError("a float is not a hex string") from None


def _ints(values: Any, what: str) -> list[int]:
    _want(isinstance(values, list) and len(values) <= 64 and
          all(type(v) is int and v >= 0 for v in values), f"{what} is not a list of sizes")
    return values


class ByteBudget:
    """How many bytes the decoders of one message may still build."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def spend(self, size: int) -> None:
        self.left -= size
        _want(self.left >= 0, f"a message whose values would take over {self.limit} bytes "
                              "(a blob named many times)")


class Decoder:
    """Builds fresh judge-side objects from a reply. ``make_handle(HandleInfo)`` and
    ``resolve_ref(token)`` come from the judge's session; ``facts(obj, dict)`` records
    reported facts about a decoded tensor or array."""

    def __init__(self, blobs: list[bytes], *, make_handle: Any, resolve_ref: Any,
                 record_facts: Any, cuda_devices: int, same_objects: dict[int, Any],
                 budget: ByteBudget | None = None) -> None:
        self.blobs = blobs
        # Shared by every decoder of one message (its values, its state, its write-back).
        self.budget = budget or ByteBudget(MAX_DECODED_BYTES)
        self.make_handle = make_handle
        self.resolve_ref = resolve_ref
        self.record_facts = record_facts
        self.cuda_devices = cuda_devices
        # Reported object ids -> what was decoded for them: the same tensor under two names
        # is one object here too (``tensor_b is tensor_a``), for as long as the caller keeps it.
        self.same_objects = same_objects
        self._nodes = 0

    def _blob(self, index: Any) -> bytes:
        _want(type(index) is int and 0 <= index < len(self.blobs), "a blob index is wrong")
        self.budget.spend(len(self.blobs[index]))
        return self.blobs[index]

    def decode(self, node: Any, depth: int = 0) -> Any:
        self._nodes += 1
        _want(self._nodes <= MAX_NODES and depth <= MAX_DEPTH, "a value is too deep or too big")
        if node is None or type(node) in (bool, int, str):
            return node
        if type(node) is list:
            return [self.decode(v, depth + 1) for v in node]
        _want(type(node) is dict and type(node.get("$")) is str, "an untagged value")
        tag = node["$"]
        if tag == "float":
            return _hexfloat(node.get("v"))
        if tag == "complex":
            return complex(_hexfloat(node.get("re")), _hexfloat(node.get("im")))
        if tag == "bytes":
            return bytes(self._blob(node.get("blob")))
        if tag == "ellipsis":
            return Ellipsis
        if tag == "tuple":
            items = node.get("items")
            _want(type(items) is list, "a tuple without items")
            return tuple(self.decode(v, depth + 1) for v in items)
        if tag == "dict":
            items = node.get("items")
            _want(type(items) is list and all(type(p) is list and len(p) == 2 for p in items),
                  "a dict without key/value pairs")
            result = {}
            for key, value in items:
                key = self.decode(key, depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise WireError("a dict key that cannot be hashed") from None
                _want(type(key) in (str, int, bool, float, tuple, type(None), bytes),
                      "a dict key of a type keys may not have")
                result[key] = self.decode(value, depth + 1)
            return result
        if tag == "size":
            return torch.Size(_ints(node.get("v"), "a torch.Size"))
        if tag == "dtype":
            _want(node.get("v") in TORCH_DTYPES, "an unknown dtype")
            return TORCH_DTYPES[node["v"]]
        if tag == "device":
            return self._device(node)
        if tag in ("tensor", "ndarray"):
            oid = node.get("oid")
            _want(type(oid) is int, "a tensor or array without its object id")
            if oid in self.same_objects:
                return self.same_objects[oid]
            value = self._tensor(node) if tag == "tensor" else self._ndarray(node)
            self.same_objects[oid] = value
            return value
        if tag == "npscalar":
            dtype = self._numpy_dtype(node.get("dtype"))
            data = self._blob(node.get("blob"))
            _want(len(data) == dtype.itemsize, "a NumPy scalar of the wrong size")
            return np.frombuffer(data, dtype=dtype)[0]
        if tag == "handle":
            return self.make_handle(self._handle_info(node))
        if tag == "ref":
            _want(type(node.get("token")) is int, "a ref without a token")
            return self.resolve_ref(node["token"])
        raise WireError(f"an unknown value tag {tag[:20]!r}")

    def _device(self, node: dict[str, Any]) -> torch.device:
        kind, index = node.get("type"), node.get("index")
        _want(kind in DEVICE_TYPES and (index is None or type(index) is int and 0 <= index < 64),
              "an unknown device")
        kind = cast(str, kind)  # one of DEVICE_TYPES: checked just above
        return torch.device(kind, index) if index is not None else torch.device(kind)

    @staticmethod
    def _numpy_dtype(text: Any) -> np.dtype:
        _want(isinstance(text, str) and len(text) <= 8, "a NumPy dtype is not a string")
        try:
            dtype = np.dtype(text)
        except TypeError:
            raise WireError("an unknown NumPy dtype") from None
        _want(dtype.kind in NUMPY_KINDS and dtype.fields is None, "a NumPy dtype not allowed")
        return dtype

    def _tensor(self, node: dict[str, Any]) -> torch.Tensor:
        _want(node.get("dtype") in TORCH_DTYPES, "a tensor of an unknown dtype")
        dtype = TORCH_DTYPES[node["dtype"]]
        shape = _ints(node.get("shape"), "a tensor shape")
        device = self._device(node["device"] if type(node.get("device")) is dict else {})
        numel = math.prod(shape)
        if device.type == "meta":
            tensor = torch.empty(shape, dtype=dtype, device="meta")
        else:
            data = self._blob(node.get("blob"))
            itemsize = torch.empty((), dtype=dtype).element_size()
            _want(len(data) == numel * itemsize, "a tensor's bytes do not match its shape")
            if numel == 0:
                tensor = torch.empty(shape, dtype=dtype)
            elif dtype == torch.bfloat16:
                tensor = torch.frombuffer(bytearray(data), dtype=torch.int16).view(
                    torch.bfloat16).reshape(shape)
            else:
                tensor = torch.frombuffer(bytearray(data), dtype=dtype).reshape(shape)
            if device.type != "cpu":
                # A device this machine does not have cannot hold a student's tensor either.
                _want(device.type == "cuda" and (device.index or 0) < self.cuda_devices,
                      f"a tensor on {device}, which this machine does not have")
                tensor = tensor.to(device)
        requires_grad = node.get("requires_grad") is True and \
            (tensor.is_floating_point() or tensor.is_complex())
        if node.get("parameter") is True:
            tensor = torch.nn.Parameter(tensor, requires_grad=requires_grad)
        elif requires_grad:
            tensor.requires_grad_(True)
        self.record_facts(tensor, self._facts(node))
        return tensor

    def _ndarray(self, node: dict[str, Any]) -> np.ndarray:
        dtype = self._numpy_dtype(node.get("dtype"))
        shape = _ints(node.get("shape"), "an array shape")
        data = self._blob(node.get("blob"))
        _want(len(data) == math.prod(shape) * dtype.itemsize,
              "an array's bytes do not match its shape")
        array = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
        self.record_facts(array, self._facts(node))
        return array

    @staticmethod
    def _facts(node: dict[str, Any]) -> dict[str, Any]:
        span = node.get("span")
        _want(type(span) is list and len(span) == 2 and all(type(v) is int for v in span),
              "a storage span is not two integers")
        span = cast(list[int], span)  # checked just above
        subclass = node.get("subclass")
        _want(subclass is None or isinstance(subclass, str), "a subclass name is not text")
        return {"span": (span[0], span[1]), "subclass": subclass and subclass[:MAX_REPR]}

    @staticmethod
    def _handle_info(node: dict[str, Any]) -> HandleInfo:
        def names(value: Any) -> tuple[str, ...]:
            _want(type(value) is list and len(value) <= 64 and
                  all(isinstance(n, str) for n in value), "a handle's type is not a name list")
            return tuple(n[:MAX_REPR] for n in value)

        _want(type(node.get("id")) is int, "a handle without an id")
        flags = [node.get(k) for k in ("callable", "iterator", "class")]
        _want(all(type(f) is bool for f in flags), "a handle's flags are not booleans")
        is_callable, is_iterator, is_class = cast(list[bool], flags)  # checked just above
        text = node.get("repr")
        _want(isinstance(text, str), "a handle's repr is not text")
        text = cast(str, text)  # checked just above
        return HandleInfo(id=node["id"], type_names=names(node.get("type")),
                          callable=is_callable, iterator=is_iterator, is_class=is_class,
                          repr=text[:MAX_REPR],
                          class_mro=names(node.get("class_mro", [])))


# --- state both sides keep in step -------------------------------------------------------------
#
# A test seeds or sets the random number generators, torch's determinism flags or grad mode
# in the judge, then calls a student function that runs under them in the student's process.
# So a request carries the judge's ambient state there when it changed, and a reply reports
# the student's state when student code changed it. What comes back is a reported fact, like
# any value: the judge keeps it for the tests that ask (``checks.student_generators``,
# ``checks.student_flags``) and never takes it on as its own.


def capture_ambient(*, cuda: bool = False) -> dict[str, Any]:
    import random

    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
        "deterministic": (torch.are_deterministic_algorithms_enabled(),
                          torch.is_deterministic_algorithms_warn_only_enabled()),
        "cudnn": (bool(torch.backends.cudnn.deterministic), bool(torch.backends.cudnn.benchmark)),
        "grad": torch.is_grad_enabled(),
    }
    if cuda:
        state["cuda"] = list(torch.cuda.get_rng_state_all())
    return state


def ambient_digest(state: dict[str, Any]) -> bytes:
    import hashlib

    digest = hashlib.sha256()
    for key in sorted(state):
        value = state[key]
        if key == "torch":
            digest.update(value.numpy().tobytes())
        elif key == "numpy":
            digest.update(repr((value[0], value[2:])).encode() + value[1].tobytes())
        elif key == "cuda":
            for tensor in value:
                digest.update(tensor.numpy().tobytes())
        elif key == "python":
            digest.update(struct.pack("<q", hash(value)))  # 625 ints: repr() would cost more
        else:
            digest.update(repr(value).encode())
    return digest.digest()


def checked_ambient(state: Any) -> dict[str, Any]:
    """``state`` when it is a well-formed ambient state; else ``WireError``."""
    try:
        _want(type(state) is dict, "an ambient state is not a dict")
        torch_state = state["torch"]
        _want(type(torch_state) is torch.Tensor and torch_state.dtype == torch.uint8 and
              torch_state.dim() == 1, "a torch RNG state is not a byte tensor")
        numpy_state = state["numpy"]
        _want(type(numpy_state) is tuple and len(numpy_state) == 5 and
              numpy_state[0] == "MT19937" and type(numpy_state[1]) is np.ndarray and
              numpy_state[1].dtype == np.uint32 and numpy_state[1].shape == (624,),
              "a NumPy RNG state is malformed")
        python_state = state["python"]
        _want(type(python_state) is tuple and len(python_state) == 3 and
              type(python_state[1]) is tuple and len(python_state[1]) == 625 and
              all(type(v) is int for v in python_state[1]), "a Python RNG state is malformed")
        _want(all(type(state[k]) is tuple and len(state[k]) == 2
                  for k in ("deterministic", "cudnn")), "flags are malformed")
        flags = [*state["deterministic"], *state["cudnn"], state["grad"]]
        _want(all(type(f) is bool for f in flags), "flags are malformed")
        if "cuda" in state:
            _want(type(state["cuda"]) is list and
                  all(type(t) is torch.Tensor and t.dtype == torch.uint8 for t in state["cuda"]),
                  "a CUDA RNG state is malformed")
    except WireError:
        raise
    except Exception as error:  # noqa: BLE001 - a missing key, a wrong type: malformed
        raise WireError(f"a malformed ambient state: {str(error)[:200]}") from None
    return cast(dict[str, Any], state)


def set_deterministic_algorithms(enabled: bool, warn_only: bool) -> None:
    """``torch.use_deterministic_algorithms``, called only where it changes the flags: each
    call imports torch's compiler configuration, a second or more, in every process."""
    if (torch.are_deterministic_algorithms_enabled(),
            torch.is_deterministic_algorithms_warn_only_enabled()) != (enabled, warn_only):
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


def apply_ambient(state: dict[str, Any]) -> None:
    """Set this process's generators and flags; a malformed state raises ``WireError``."""
    import random

    state = checked_ambient(state)
    try:
        torch.set_rng_state(state["torch"])
        np.random.set_state(state["numpy"])
        random.setstate(state["python"])
        set_deterministic_algorithms(*state["deterministic"])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = state["cudnn"]
        torch.set_grad_enabled(state["grad"])
        if "cuda" in state:
            torch.cuda.set_rng_state_all(state["cuda"])
    except Exception as error:  # noqa: BLE001 - whatever the setters refuse, it is malformed
        raise WireError(f"an ambient state that cannot be applied: {str(error)[:200]}") from None


# --- objects the judge lends to a call ----------------------------------------------------------
#
# Arguments travel to the student's process as copies. Both sides list the tensors, arrays,
# modules and optimizers reachable from one call's arguments in the same order, so the k-th
# object on one side is the k-th on the other: what the student's function changed in place is
# written back to the judge's original, and an object the student returns or keeps (an
# optimizer holding the model's parameters) comes back as the original itself.


def lent_objects(value: Any, *, opaque: Any) -> list[Any]:
    """The objects of one call's arguments that are lent, in an order both sides agree on;
    ``opaque(obj)`` marks the student's own objects (handles), which are not lent."""
    found: list[Any] = []
    seen: set[int] = set()

    def visit(obj: Any, depth: int) -> None:
        if depth > 16 or id(obj) in seen or opaque(obj):
            return
        kind = type(obj)
        if isinstance(obj, torch.Tensor) or isinstance(obj, np.ndarray):
            seen.add(id(obj))
            found.append(obj)
        elif isinstance(obj, torch.nn.Module):
            seen.add(id(obj))
            found.append(obj)
            for tensor in [*obj._parameters.values(), *obj._buffers.values()]:
                if tensor is not None:
                    visit(tensor, depth + 1)
            for child in obj._modules.values():
                if child is not None:
                    visit(child, depth + 1)
        elif isinstance(obj, torch.optim.Optimizer):
            seen.add(id(obj))
            found.append(obj)
            for group in obj.param_groups:
                for tensor in group["params"]:
                    visit(tensor, depth + 1)
        elif kind in (list, tuple):
            seen.add(id(obj))
            for item in obj:
                visit(item, depth + 1)
        elif kind is dict:
            seen.add(id(obj))
            for item in obj.values():
                visit(item, depth + 1)

    visit(value, 0)
    return found
