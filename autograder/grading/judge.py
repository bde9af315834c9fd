"""The judge: runs a bundle's tests against the student's process, which it only queries.

Trusted. Forked per submission from the warm worker (torch imported), it holds the tests, runs
them here, computes every expected value and every verdict, and reports to the grader. The
student's process runs the notebook and, at each question's checkpoint, answers requests: the
value of a name, an attribute, a call, an item, an iteration, a length. Answers arrive in the
wire format (``autograder.grading.wire``) and are decoded into fresh objects of exact types, or into
``Remote`` handles for what cannot travel by value. Nothing that comes from the student's
process is executed, evaluated, imported or unpickled here.

Deadlines are absolute (``time.monotonic``): per cell, per request, per submission. A reply
that is malformed or out of order is a protocol violation (``tampered``); a process that dies
or overruns ends the conversation (``crashed``, ``timeout``).
"""

from __future__ import annotations

import builtins
import contextlib
import inspect
import io
import os
import pickle
import random
import signal
import socket
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import cloudpickle
import numpy as np
import torch

from autograder.grading import wire
from autograder.grading.job import FRESH_START
from autograder.kit import checks

# --- how a conversation ends early ----------------------------------------------------------
# BaseExceptions, so that a test's own ``except Exception`` around a call cannot swallow them.


class StudentGone(BaseException):
    status = "crashed"


class StudentTimedOut(StudentGone):
    status = "timeout"


class ProtocolViolation(StudentGone):
    status = "tampered"


class StudentCodeStopped(Exception):
    """Student code raised something that is not an ``Exception`` (``SystemExit``, ...)."""


# --- handles --------------------------------------------------------------------------------


class Remote:
    """An object that stays in the student's process. Attribute reads, items, iteration and
    length become requests; its type is what the student's process reported
    (``checks.type_name``, ``checks.is_instance``): it never passes for a class here."""

    __slots__ = ("_session", "_info", "__weakref__")

    def __init__(self, session: Session, info: wire.HandleInfo) -> None:
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_info", info)

    @staticmethod
    def _autograder_remote_info(handle: Remote) -> wire.HandleInfo:
        return object.__getattribute__(handle, "_info")

    def _autograder_ask(self, op: str, **payload: Any) -> Any:
        return self._session.request(op, self, **payload)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__") and name not in ("__name__",
                                                                          "__qualname__"):
            raise AttributeError(name)  # protocol probes (__array__, ...) stay local
        return self._session.request("getattr", self, attr=name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._session.request("setattr", self, attr=name, value=value)

    def __getitem__(self, key: Any) -> Any:
        return self._session.request("getitem", self, key=key)

    def __iter__(self) -> Any:
        return self._session.request("iter", self)

    def __len__(self) -> int:
        value = self._session.request("len", self)
        if type(value) is not int:
            raise TypeError(f"len() of {checks.type_name(self)} is not an int")
        return value

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return self._info.repr

    __str__ = __repr__


class RemoteCallable(Remote):
    __slots__ = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._session.request("call", self, args=args, kwargs=kwargs)


class RemoteIterator(Remote):
    __slots__ = ()

    def __iter__(self) -> RemoteIterator:
        return self

    def __next__(self) -> Any:
        return self._session.request("next", self)


_HANDLE_TYPES = (Remote, RemoteCallable, RemoteIterator)
_GENERATORS = ("torch", "numpy", "python", "cuda")  # the ambient state's random generators
_SCALARS = (bool, int, float, str, type(None))


def _plain_data(value: Any, depth: int = 0) -> bool:
    """Data and only data (what a module attribute a call may change can hold): scalars,
    tensors, arrays, and lists, tuples and dicts of them; never a callable or a handle."""
    if type(value) in _SCALARS or isinstance(value, torch.Tensor) or \
            type(value).__module__ == "numpy" and hasattr(value, "dtype"):
        return True
    if depth > 16:
        return False
    if type(value) in (list, tuple):
        return all(_plain_data(v, depth + 1) for v in value)
    if type(value) is dict:
        return all(type(k) in _SCALARS and _plain_data(v, depth + 1) for k, v in value.items())
    return False


_STOP = object()


class _Pickler(cloudpickle.Pickler):
    """Arguments for the student's process: any encoding will do that way; handles go back as
    references to the student's own objects. Classes and functions travel only by reference
    (module and name, imported there): one defined in a test would travel with its code,
    readable by student code, so it is refused."""

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) in _HANDLE_TYPES:
            return ("h", object.__getattribute__(obj, "_info").id)
        return None

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, (types.FunctionType, type, types.CodeType)) and \
                not _importable(obj):
            name = getattr(obj, "__qualname__", None) or type(obj).__name__
            raise pickle.PicklingError(
                f"{name} is defined in a test, and code defined in tests never travels to the "
                "student's process: lend an object of autograder.kit.probes or of torch")
        return super().reducer_override(obj)


def _importable(obj: Any) -> bool:
    """Whether ``obj`` is what its module's attribute of its qualified name holds: a class or
    function the student's process can import by name, not one made in a test."""
    target: Any = sys.modules.get(getattr(obj, "__module__", None) or "")
    for part in (getattr(obj, "__qualname__", None) or "<code>").split("."):
        target = getattr(target, part, None)
    return target is obj


def _builtin_exception(type_names: tuple[str, ...], message: str) -> BaseException:
    """A fresh exception of the nearest built-in type the student's error derives from (a
    student's own classes, and the helpers' skip exception, are never raised here)."""
    for name in type_names:
        module, _, attribute = name.rpartition(".")
        candidate = getattr(builtins, attribute, None) if module == "builtins" else None
        if isinstance(candidate, type) and issubclass(candidate, Exception):
            try:
                return candidate(message)
            except TypeError:  # UnicodeDecodeError and friends want more than a message
                continue
    raised = type_names[0].rsplit(".", 1)[-1] if type_names else "an exception"
    return StudentCodeStopped(f"the code called stopped the test ({raised})")


# --- the conversation -----------------------------------------------------------------------


@dataclass(frozen=True)
class Deadlines:
    submission: float  # monotonic
    request_seconds: float

    def request(self) -> float:
        return min(self.submission, time.monotonic() + self.request_seconds)


class Session:
    """One student's process, seen from the judge: requests, handles, lent objects."""

    def __init__(self, channel: socket.socket, deadlines: Deadlines) -> None:
        self.channel = channel
        self.deadlines = deadlines
        self.seq = 0
        self.handles: dict[int, Remote] = {}
        # token -> the judge's object lent during the check in progress: a reply may name
        # only those (identity is the judge's, per check; never replayed in a later one).
        self.originals: dict[int, Any] = {}
        self.check_tokens = 1  # the first token of the check in progress
        self.last_token = 0
        self.pushed = b""  # digest of the judge's ambient state as last sent to the student
        # The student's process's generators and flags as it last reported them (a claim),
        # for the tests that ask (``checks.student_generators``); never applied here.
        self.student_state: dict[str, Any] | None = None
        self.give_back: dict[str, Any] | None = None  # generators a test drew from, advanced
        self.cuda_devices = torch.cuda.device_count() if checks.cuda_available() else 0
        self.question = ""
        self.requests = 0
        self.waited = 0.0  # seconds spent waiting for the student's process to answer
        self.same_objects: dict[int, Any] = {}  # reported id -> decoded value, per check
        self.fresh: FreshProcess | None = None  # the submission's second process, if any

    # --- sending ----------------------------------------------------------------------------

    def _ambient(self) -> tuple[dict[str, Any] | None, bytes]:
        """This process's ambient state if it changed since it was last sent."""
        state = wire.capture_ambient(cuda=torch.cuda.is_initialized())
        digest = wire.ambient_digest(state)
        return (None if digest == self.pushed else state), digest

    @contextlib.contextmanager
    def student_generators(self) -> Iterator[None]:
        """The body draws from the student's generators as last reported (see
        ``checks.student_generators``); the judge's own flags and grad mode stay."""
        if self.student_state is None:
            raise ProtocolViolation("no state reported by the student's process")
        cuda = torch.cuda.is_initialized()
        own = wire.capture_ambient(cuda=cuda)
        wire.apply_ambient({**own, **{k: v for k, v in self.student_state.items()
                                      if k in _GENERATORS and (k != "cuda" or cuda)}})
        try:
            yield
        finally:
            drawn = wire.capture_ambient(cuda=cuda)
            wire.apply_ambient(own)
            # What the body drew is used up in the student's process too, as in a notebook.
            self.give_back = {**self.student_state,
                              **{k: v for k, v in drawn.items() if k in _GENERATORS}}

    def start_check(self) -> None:
        """Every check starts from the judge's own fixed state (seeds 0, grad mode on, no
        determinism flags), whatever the student's process is in, and student code the check
        calls runs under it (sent with the first request)."""
        torch.manual_seed(0)  # CUDA's generators too, where there are any
        np.random.seed(0)
        random.seed(0)
        wire.set_deterministic_algorithms(False, False)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = False, False
        torch.set_grad_enabled(True)
        self.begin_check()

    def begin_check(self) -> None:
        """This session's part of a new check: the judge's state is sent with the first
        request, and only what the check lends may be named in replies."""
        self.pushed, self.give_back = b"", None
        self.originals, self.check_tokens = {}, self.last_token + 1
        self.same_objects.clear()

    def fresh_session(self) -> Session:
        """The fresh process, stopped before this question's answers (see ``FreshProcess``)."""
        if self.fresh is None:
            raise AssertionError("this check needs a fresh run of the notebook, and none was "
                                 "started for this submission")
        return self.fresh.before(self.question)

    def request(self, op: str, target: Remote | None, *, args: Any = None, kwargs: Any = None,
                key: Any = None, value: Any = None, cls: Any = None, attr: str = "",
                name: str = "", function: Any = None) -> Any:
        self.seq += 1
        self.requests += 1
        header: dict[str, Any] = {"op": op, "seq": self.seq}
        if target is not None:
            header["h"] = object.__getattribute__(target, "_info").id
        if attr:
            header["attr"] = attr
        if name:
            header["name"] = name
        lendable = (args, kwargs, key, value)
        lent = wire.lent_objects(lendable, opaque=lambda o: type(o) in _HANDLE_TYPES)
        base = self.last_token + 1  # fresh tokens, never reused
        self.last_token += len(lent)
        self.originals.update({base + offset: obj for offset, obj in enumerate(lent)})
        header["live"] = self.check_tokens
        instruments = checks.active_instruments()
        ambient, digest = self._ambient()
        if ambient is None and self.give_back is not None:
            ambient = self.give_back  # an explicit change of the judge's own state wins
        self.give_back = None
        # Pickling a tensor drops its .grad: lend the gradients along (a training step that
        # forgets zero_grad() must see the ones left by the previous call).
        grads = [(i, t.grad) for i, t in enumerate(lent)
                 if isinstance(t, torch.Tensor) and t.is_leaf and t.grad is not None]
        payload = {"args": args, "kwargs": kwargs, "key": key, "value": value, "cls": cls,
                   "function": function,
                   "ambient": ambient, "token_base": base if lent else None, "grads": grads,
                   "instruments": [(n, o) for n, o, _ in instruments]}
        blobs = []
        # Most requests (a name, an attribute, the next item) carry nothing to pickle.
        if op in ("call", "run", "getitem", "setattr", "isinstance") or ambient is not None or \
                instruments or grads:
            buffer = io.BytesIO()
            try:
                _Pickler(buffer).dump(payload)
            except Exception as error:  # noqa: BLE001 - a test passed something unpicklable
                raise TypeError(f"cannot send this argument to the student's code: "
                                f"{error}") from None
            blobs.append(buffer.getvalue())
        try:
            wire.send(self.channel, header, blobs)
        except OSError as error:
            raise StudentGone(f"the submission's process ended ({error})") from None
        self.pushed = digest
        if ambient is not None:
            self.student_state = ambient  # the student's process now has the judge's
        reply = self._receive_reply()
        return self._decode_reply(reply, [r for _, _, r in instruments])

    def _receive_reply(self) -> wire.Message:
        began = time.monotonic()
        try:
            message = wire.receive(self.channel, self.deadlines.request())
        except wire.DeadlinePassed:
            if time.monotonic() >= self.deadlines.submission:
                raise StudentTimedOut("the submission ran out of time during the tests of "
                                      f"{self.question}") from None
            raise StudentTimedOut(f"a call made by the tests of {self.question} ran longer "
                                  f"than {self.deadlines.request_seconds:g} s") from None
        except wire.ChannelClosed:
            raise StudentGone("the submission's process ended during the tests of "
                              f"{self.question}") from None
        except wire.WireError as error:
            raise ProtocolViolation(f"a malformed reply ({error})") from None
        finally:
            self.waited += time.monotonic() - began
        header = message.header
        if header.get("type") != "reply" or header.get("seq") != self.seq:
            raise ProtocolViolation("a message that is not the reply to the judge's request")
        return message

    # --- receiving --------------------------------------------------------------------------

    def decoder(self, blobs: list[bytes], *, values: bool = True,
                budget: wire.ByteBudget | None = None) -> wire.Decoder:
        """``values``: decoding values a test sees (the same object under two names stays one
        object); otherwise state (write-back, generators), always fresh. ``budget``: shared
        by the decoders of one message."""
        return wire.Decoder(blobs, make_handle=self._remote, resolve_ref=self._original,
                            record_facts=checks.report_facts, cuda_devices=self.cuda_devices,
                            same_objects=self.same_objects if values else {}, budget=budget)

    def _remote(self, info: wire.HandleInfo) -> Remote:
        handle = self.handles.get(info.id)
        if handle is None:
            kind = RemoteIterator if info.iterator else RemoteCallable if info.callable \
                else Remote
            handle = kind(self, info)
            self.handles[info.id] = handle
        return handle

    def _original(self, token: int) -> Any:
        if token not in self.originals:
            raise wire.WireError("a reference to an object the judge never sent")
        return self.originals[token]

    def _decode_reply(self, message: wire.Message, records: list[list[Any]]) -> Any:
        header = message.header
        budget = wire.ByteBudget(wire.MAX_DECODED_BYTES)
        decoder = self.decoder(message.blobs, budget=budget)
        state = self.decoder(message.blobs, values=False, budget=budget)
        try:
            if header.get("ambient") is not None:
                self.student_state = wire.checked_ambient(state.decode(header["ambient"]))
            got = header.get("records", [])
            if type(got) is not list or len(got) != len(records):
                raise wire.WireError("instrument records do not match")
            for record, node in zip(records, got, strict=True):
                values = decoder.decode(node)
                if type(values) is not list:
                    raise wire.WireError("an instrument record is not a list")
                record.extend(values)
            writeback = header.get("writeback", [])
            if type(writeback) is not list:
                raise wire.WireError("write-back is not a list")
            for entry in writeback:
                self._write_back(entry, state)
            if header.get("ok") is True:
                if header.get("stop") is True:
                    raise StopIteration
                return decoder.decode(header.get("value"))
            error = header.get("error")
            if type(error) is not dict or type(error.get("message")) is not str:
                raise wire.WireError("an error reply without a message")
            names = decoder._handle_info({"id": 0, "type": error.get("type"), "callable": False,
                                          "iterator": False, "class": False, "repr": ""})
        except wire.WireError as error:
            raise ProtocolViolation(f"a malformed reply ({error})") from None
        raise _builtin_exception(names.type_names, wire.clip(error["message"]))

    def _write_back(self, entry: Any, decoder: wire.Decoder) -> None:
        """Apply what a student function changed in an object the judge lent it."""
        if type(entry) is not dict or type(entry.get("token")) is not int:
            raise wire.WireError("a write-back entry without a token")
        obj = self._original(entry["token"])
        kind = entry.get("kind")
        if kind == "tensor" and isinstance(obj, torch.Tensor):
            new = decoder.decode(entry.get("value"))
            if not isinstance(new, torch.Tensor):
                raise wire.WireError("a tensor write-back without a tensor")
            _replace_tensor(obj, new)
            grad = decoder.decode(entry.get("grad"))
            if obj.is_leaf and (grad is None or isinstance(grad, torch.Tensor) and
                                grad.shape == obj.shape):
                obj.grad = grad
        elif kind == "ndarray" and type(obj).__module__ == "numpy":
            new = decoder.decode(entry.get("value"))
            if getattr(new, "shape", None) == obj.shape and new.dtype == obj.dtype and \
                    obj.flags.writeable:
                obj[...] = new
        elif kind == "module" and isinstance(obj, torch.nn.Module):
            if type(entry.get("training")) is not bool:
                raise wire.WireError("a module write-back without its mode")
            object.__setattr__(obj, "training", entry["training"])
            for item in entry.get("tensors", []):
                if type(item) is not list or len(item) != 3 or type(item[1]) is not str:
                    raise wire.WireError("a module tensor write-back is malformed")
                new = decoder.decode(item[2])
                if not isinstance(new, torch.Tensor):
                    raise wire.WireError("a module tensor write-back without a tensor")
                # Only what the lent module already had, as it was shaped: values change,
                # never the module's make-up (no new tensor, no other shape or dtype).
                slots: dict[str, Any] = obj._parameters if item[0] == "parameter" \
                    else obj._buffers
                old = slots.get(item[1])
                if not isinstance(old, torch.Tensor) or old.shape != new.shape or \
                        old.dtype != new.dtype:
                    continue
                if item[0] == "parameter" and not isinstance(new, torch.nn.Parameter):
                    new = torch.nn.Parameter(new, requires_grad=new.requires_grad)
                slots[item[1]] = new
            for item in entry.get("attrs", []):
                if type(item) is not list or len(item) != 2 or type(item[0]) is not str or \
                        item[0].startswith("_"):
                    raise wire.WireError("a module attribute write-back is malformed")
                # Plain data the module already held, for plain data of the same type: never a
                # new attribute, never a callable or a handle (``forward`` stays the judge's).
                old, new = obj.__dict__.get(item[0], _STOP), decoder.decode(item[1])
                if _plain_data(old) and _plain_data(new) and type(new) is type(old):
                    obj.__dict__[item[0]] = new
        elif kind == "optimizer" and isinstance(obj, torch.optim.Optimizer):
            state, groups = decoder.decode(entry.get("state")), decoder.decode(entry.get("groups"))
            if type(state) is not list or type(groups) is not list or \
                    len(groups) != len(obj.param_groups):
                raise wire.WireError("an optimizer write-back is malformed")
            params = {id(p) for group in obj.param_groups for p in group["params"]}
            for item in state:
                if type(item) is not list or len(item) != 2 or type(item[1]) is not dict:
                    raise wire.WireError("an optimizer state write-back is malformed")
                # The state of its own parameters, as data (momentum buffers, step counts).
                param = self._original(item[0])
                if id(param) in params and _plain_data(item[1]):
                    obj.state[param] = item[1]
            for group, new in zip(obj.param_groups, groups, strict=True):
                if type(new) is not dict:
                    raise wire.WireError("an optimizer group write-back is malformed")
                # Hyper-parameters it already had (lr, momentum), as data of the same type.
                group.update({k: v for k, v in new.items() if k != "params" and k in group
                              and _plain_data(v) and type(v) is type(group[k])})
        else:
            raise wire.WireError(f"a write-back of kind {str(kind)[:20]!r} for a "
                                 f"{type(obj).__name__}")

    def note_checkpoint(self, message: wire.Message) -> None:
        """Keep the state the student's process reports at a checkpoint (its generators and
        flags, as the notebook left them) for the tests that ask for it."""
        try:
            state = self.decoder(message.blobs, values=False)
            self.student_state = wire.checked_ambient(state.decode(message.header.get("ambient")))
        except (wire.WireError, TypeError) as error:
            raise ProtocolViolation(f"a malformed checkpoint ({error})") from None

    def run(self, function: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``function(*args, **kwargs)`` in the student's process: ``function`` travels by
        reference (a public kit function; the pickler refuses a test's own)."""
        return self.request("run", None, args=args, kwargs=kwargs, function=function)

    def fetch(self, name: str) -> Any:
        return self.request("name", None, name=name)


def _replace_tensor(obj: torch.Tensor, new: torch.Tensor) -> None:
    with torch.no_grad():
        if new.shape == obj.shape and new.dtype == obj.dtype and new.device == obj.device:
            if obj.device.type != "meta":
                obj.copy_(new)
        else:
            try:
                obj.data = new
            except RuntimeError:
                return
    if obj.is_leaf and obj.requires_grad != new.requires_grad and \
            (new.is_floating_point() or new.is_complex()):
        obj.requires_grad_(new.requires_grad)


# --- running the tests ------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionTests:
    name: str
    module: str  # the test file's source (otter's decorators removed)
    checks: tuple[str, ...]


def _run_check(function: Any, session: Session) -> tuple[str, str]:
    params = list(inspect.signature(function).parameters)
    session.start_check()  # and it sees the student's objects as they are now
    try:
        kwargs = {p: session.fetch(p) for p in params}
        function(**kwargs)
    except checks.CheckSkipped as skip:
        return "skipped", skip.reason
    except AssertionError as error:
        message = str(error) or "a check failed"
    except StudentGone:
        raise
    except Exception as error:  # noqa: BLE001 - the test, or the student code it called
        message = f"{type(error).__name__}: {wire.clip(str(error))}"
    else:
        return "passed", ""
    if checks.names_a_missing_gpu(message) and "needs a CUDA GPU" not in message:
        message = f"this check needs a CUDA GPU, and this machine has none ({message})"
    return "failed", message


def judge_question(question: QuestionTests, session: Session) -> dict[str, Any]:
    session.question = question.name
    session.handles.clear()  # a question's handles end with it: the judge holds no backlog
    namespace: dict[str, Any] = {"__builtins__": builtins, "__name__": question.name}
    try:
        exec(compile(question.module, f"<tests {question.name}>", "exec"), namespace)
        load_error = ""
    except Exception as error:  # noqa: BLE001 - an instructor's broken test file
        load_error = f"{type(error).__name__}: {error}"
    results = []
    for name in question.checks:
        function = namespace.get(name)
        if load_error or not callable(function):
            outcome, message = "failed", f"test could not be loaded ({load_error})"
        else:
            outcome, message = _run_check(function, session)
        results.append({"name": name, "outcome": outcome, "message": message})
    return {"name": question.name, "checks": results}


class NotebookProgress:
    """A student's process as it works through its plan, seen from the judge: every message
    must be the next cell or the next checkpoint, each within its deadline."""

    def __init__(self, channel: socket.socket, cells: list[str | None],
                 checkpoints: list[tuple[int, str]], deadlines: Deadlines, *,
                 cell_seconds: float, submission_seconds: float,
                 cell_label: Callable[[int], str] = lambda index: f"cell {index}") -> None:
        self.channel = channel
        self.cell_label = cell_label
        self.deadlines = deadlines
        self.cell_seconds = cell_seconds
        self.submission_seconds = submission_seconds
        self.expected_cells = [i for i, cell in enumerate(cells) if cell is not None]
        self.pending = list(checkpoints)
        self.current: int | None = None
        self.cell_deadline = 0.0

    def receive(self, deadline: float) -> wire.Message:
        try:
            return wire.receive(self.channel, deadline)
        except wire.DeadlinePassed:
            if deadline >= self.deadlines.submission:
                raise StudentTimedOut(f"the submission ran longer than "
                                      f"{self.submission_seconds:g} s") from None
            raise StudentTimedOut(f"{self.cell_label(self.current or 0)} ran longer than "
                                  f"{self.cell_seconds:g} s (infinite loop?)") from None
        except wire.ChannelClosed:
            where = f" (during {self.cell_label(self.current)})" if self.current is not None \
                else ""
            raise StudentGone(f"the submission's process ended before grading "
                              f"finished{where}") from None
        except wire.WireError as error:
            raise ProtocolViolation(f"a malformed message ({error})") from None

    def hello(self) -> list[str]:
        """The process's first message: the protections it could not apply."""
        hello = self.receive(self.deadlines.submission).header
        if hello.get("type") != "hello" or type(hello.get("notes")) is not list:
            raise ProtocolViolation("the student's process did not start as expected")
        # Between two messages the student's process is always bound by a cell's time: the
        # first cell, and the next one after a checkpoint, must start within it.
        self.cell_deadline = time.monotonic() + self.cell_seconds
        return [str(n) for n in hello["notes"]]

    def next_stop(self) -> tuple[str | None, wire.Message]:
        """Follow the cells to the next checkpoint: (its question, its message), or (None,
        the last message) at the end of the notebook."""
        while True:
            received = self.receive(min(self.cell_deadline, self.deadlines.submission))
            message = received.header
            kind = message.get("type")
            if kind == "cell" and self.expected_cells and \
                    message.get("index") == self.expected_cells[0]:
                self.current = self.expected_cells.pop(0)
                self.cell_deadline = time.monotonic() + self.cell_seconds
            elif kind == "checkpoint" and self.pending and \
                    message.get("question") == self.pending[0][1] and \
                    (not self.expected_cells or self.expected_cells[0] >= self.pending[0][0]):
                return self.pending.pop(0)[1], received
            elif kind == "done" and not self.expected_cells and not self.pending:
                return None, received
            else:
                raise ProtocolViolation(f"an unexpected {str(kind)[:20]!r} message from the "
                                        "student's process")

    def resume(self, question: str) -> None:
        try:
            wire.send(self.channel, {"op": "resume"})
        except OSError:
            raise StudentGone("the submission's process ended during the tests of "
                              f"{question}") from None
        self.cell_deadline = time.monotonic() + self.cell_seconds


class FreshSession(Session):
    """The fresh process's session: what goes wrong there fails the check that asked, never
    the submission (the notebook's own process is fine)."""

    lost = ""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        if self.lost:
            raise AssertionError(self.lost)
        try:
            return super().request(*args, **kwargs)
        except StudentGone as gone:
            self.lost = f"the fresh run of the notebook stopped: {gone}"
            raise AssertionError(self.lost) from None


class FreshProcess:
    """The second student's process of a submission (``checks.from_fresh_process``): started
    with the first, in a box of its own, waiting before its first cell. For a question it runs
    the notebook up to the previous question's check and answers there, once."""

    def __init__(self, channel: socket.socket, cells: list[str | None],
                 checkpoints: list[tuple[int, str]], deadlines: Deadlines, *,
                 cell_seconds: float, submission_seconds: float,
                 cell_label: Callable[[int], str]) -> None:
        self.order = [FRESH_START, *(question for _, question in checkpoints)]
        self.progress = NotebookProgress(channel, cells, [(0, FRESH_START), *checkpoints],
                                         deadlines, cell_seconds=cell_seconds,
                                         submission_seconds=submission_seconds,
                                         cell_label=cell_label)
        self.session = FreshSession(channel, deadlines)
        self.at: str | None = None  # the checkpoint it waits at
        self.serves = ""  # the question it answered for

    def before(self, question: str) -> Session:
        """The session, the process stopped where ``question``'s answers have not run."""
        session = self.session
        if session.lost:
            raise AssertionError(session.lost)
        if self.serves and self.serves != question:
            raise AssertionError(f"the fresh run of the notebook served {self.serves} already "
                                 "(one question per submission may use it)")
        if question not in self.order:
            raise AssertionError(f"no checkpoint for {question} in the notebook")
        target = self.order[self.order.index(question) - 1]
        message: wire.Message | None = None
        try:
            if self.at is None:
                self.progress.hello()
                self.at, message = self.progress.next_stop()
            while self.at != target:
                self.progress.resume(str(self.at))
                self.at, message = self.progress.next_stop()
                if self.at is None:
                    raise ProtocolViolation("the notebook ended before its checkpoint")
            if message is not None:
                session.note_checkpoint(message)
        except StudentGone as gone:
            session.lost = f"the fresh run of the notebook stopped: {gone}"
            raise AssertionError(session.lost) from None
        self.serves = question
        session.question = question
        session.begin_check()
        return session


def converse(channel: socket.socket, cells: list[str | None],
             checkpoints: list[tuple[int, str]], tests: dict[str, QuestionTests], *,
             cell_seconds: float, submission_seconds: float,
             fresh_channel: socket.socket | None = None,
             cell_label: Callable[[int], str] = lambda index: f"cell {index}"
             ) -> dict[str, Any]:
    """Follow the student's process through its cells and judge each question at its
    checkpoint. Returns the result for the grader; never raises for the student's doing."""
    start = time.monotonic()
    deadlines = Deadlines(submission=start + submission_seconds, request_seconds=cell_seconds)
    session = Session(channel, deadlines)
    if fresh_channel is not None:
        session.fresh = FreshProcess(fresh_channel, cells, checkpoints, deadlines,
                                     cell_seconds=cell_seconds,
                                     submission_seconds=submission_seconds,
                                     cell_label=cell_label)
    checks.STUDENT_SESSION = session
    progress = NotebookProgress(channel, cells, checkpoints, deadlines,
                                cell_seconds=cell_seconds, submission_seconds=submission_seconds,
                                cell_label=cell_label)
    questions: list[dict[str, Any]] = []
    timing: dict[str, Any] = {}
    result: dict[str, Any] = {"questions": questions, "timing": timing, "log": "",
                              "cell_errors": [], "notes": []}
    try:
        result["notes"] = progress.hello()
        while True:
            name, received = progress.next_stop()
            if name is None:
                message = received.header
                log, errors = message.get("log"), message.get("errors")
                if type(log) is not str or type(errors) is not list or \
                        not all(type(e) is str for e in errors):
                    raise ProtocolViolation("a malformed end of the notebook")
                result["log"] = log[:1_000_000]
                result["cell_errors"] = [e[:1000] for e in errors][:500]
                result["status"] = "graded"
                return result
            session.note_checkpoint(received)
            began, requests, waited = time.monotonic(), session.requests, session.waited
            questions.append(judge_question(tests[name], session))
            timing[name] = {"seconds": round(time.monotonic() - began, 4),
                            "requests": session.requests - requests,
                            "student_seconds": round(session.waited - waited, 4)}
            progress.resume(name)
    except StudentGone as gone:
        result.update(status=gone.status, message=str(gone), questions=[])
        if gone.status == "tampered":
            result["message"] = f"the student's process broke the grading protocol: {gone}"
        return result


def serve(job: Any, channel: socket.socket, grader: socket.socket, students: list[int],
          fresh_channel: socket.socket | None = None) -> None:
    """The judge process: take the tests from the grader, converse, report, stop the student's
    processes (``students``: the notebook's, then the fresh one's if there is one)."""
    checks.IN_JUDGE = True
    os.chdir(job.shared)
    _share_temporary_folders(job.shared)
    try:
        message = wire.receive(grader, time.monotonic() + 60)
        tests = {q["name"]: QuestionTests(q["name"], q["module"], tuple(q["checks"]))
                 for q in message.header["questions"]}
        result = converse(channel, job.cells, job.checkpoints, tests,
                          cell_seconds=job.limits.cell_seconds,
                          submission_seconds=job.limits.submission_seconds,
                          fresh_channel=fresh_channel, cell_label=job.cell_label)
    except MemoryError:
        # Its own cap: what this submission's tests or replies took ends this row only.
        result = {"status": "crashed", "questions": [],
                  "message": "grading this submission took the judge past its memory limit "
                             "(--memory-mb)"}
    except BaseException as error:  # noqa: BLE001 - the grader must hear something
        result = {"status": "error", "message": f"the judge failed: {type(error).__name__}: "
                                                f"{error}", "questions": []}
    finally:
        # Stop them now where this uid may (the zygote makes sure once the judge is gone).
        for student in students:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(student, signal.SIGKILL)
    wire.send(grader, {"type": "result", **result})


def _share_temporary_folders(folder: str) -> None:
    """Tests make temporary folders and hand their paths to student functions (a checkpoint
    to load): make them in the shared folder, which the student's process sees at the same
    path, readable there but not writable. The judge's own files then sit where nothing of the
    student's can be planted or swapped, so the judge never writes through a link the student
    chose. A check that has student code write a file asks for ``checks.student_folder()``."""
    tempfile.tempdir = folder
    make = tempfile.mkdtemp

    def shared_mkdtemp(*args: Any, **kwargs: Any) -> str:
        path = make(*args, **kwargs)
        os.chmod(path, 0o755)
        return path

    tempfile.mkdtemp = shared_mkdtemp  # type: ignore[assignment]  # patched; not overloaded
