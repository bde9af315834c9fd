"""Run the student's cells, stop at each question's checkpoint, answer the judge's requests.

The judge asks; this process answers with values (by value, in the wire format) or handles to
objects it keeps. It never learns what a test checks: it sees only the names the judge asks
for and the arguments the judge passes to student functions.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import pickle
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from autograder.grading import wire
from autograder.kit import checks
from autograder.kit.notebook_file import code_cell_label


@dataclass(frozen=True)
class Plan:
    """What the judge and this process agree on before the cells run."""

    cells: list[str | None]  # None: otter's own cells (init, check, export), not run
    checkpoints: list[tuple[int, str]]  # (cell index, question): judged before that cell
    max_output_bytes: int
    cell_positions: list[int] = field(default_factory=list)  # each cell's place in the file


class CappedText:
    """A text stream that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0

    def write(self, text: str) -> int:
        text = str(text)
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def getvalue(self) -> str:
        note = f"\n[... {self.dropped} more characters of output cut]" if self.dropped else ""
        return "".join(self.parts) + note


class NoOpGrader:
    """Stands in for otter's ``grader`` while grading: the judge checks, not the notebook."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


class _ArgumentUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, objects: dict[int, Any]) -> None:
        super().__init__(io.BytesIO(data))
        self.objects = objects
        self.loaded: set[int] = set()  # ids of this process's own objects among the arguments

    def persistent_load(self, pid: Any) -> Any:
        kind, number = pid
        if kind == "h" and number in self.objects:
            self.loaded.add(id(self.objects[number]))
            return self.objects[number]
        raise pickle.UnpicklingError(f"unknown object {pid!r}")


@dataclass
class _Lent:
    """A copy of an object the judge passed to a call, and how it looked when it arrived."""

    token: int
    obj: Any
    signature: Any


# Attributes of nn.Module that are torch's bookkeeping, not state a test could look at.
_MODULE_INTERNALS = frozenset({"training", "_parameters", "_buffers", "_modules"})


def _grad(t: torch.Tensor) -> torch.Tensor | None:
    return t.grad if t.is_leaf else None  # only leaves keep one (and asking others warns)


def _tensor_signature(t: torch.Tensor) -> tuple[Any, ...]:
    grad = _grad(t)
    return (t._version, t.data_ptr() if t.device.type != "meta" else 0, str(t.device),
            tuple(t.shape), t.dtype, t.requires_grad, id(grad),
            grad._version if grad is not None else None)


def _array_signature(a: np.ndarray) -> tuple[Any, ...]:
    return (a.shape, a.dtype.str, hashlib.sha256(np.ascontiguousarray(a).tobytes()).digest())


class Runner:
    def __init__(self, shell: Any, channel: socket.socket, plan: Plan, out: CappedText) -> None:
        self.shell = shell
        self.channel = channel
        self.plan = plan
        self.out = out
        self.objects: dict[int, Any] = {}  # handle id -> object, kept alive for the session
        self.handle_ids: dict[int, int] = {}  # id(object) -> handle id
        self.lent: dict[int, _Lent] = {}  # id(copy) -> the judge's token for it
        self.lent_by_token: dict[int, _Lent] = {}
        self.ambient_digest = b""
        self.sent: list[Any] = []  # values sent during this checkpoint (see wire.Encoder)

    # --- the notebook ---------------------------------------------------------------------

    def run(self) -> None:
        errors: list[str] = []
        pending = list(self.plan.checkpoints)
        for index, source in enumerate(self.plan.cells):
            while pending and pending[0][0] <= index:
                self.checkpoint(pending.pop(0)[1])
            if source is None:
                continue
            wire.send(self.channel, {"type": "cell", "index": index})
            with self._captured():
                result = self.shell.run_cell(source, store_history=True)
            error = result.error_before_exec or result.error_in_exec
            if error is not None:
                where = code_cell_label(self.plan.cell_positions, index, source)
                errors.append(f"{where} raised {type(error).__name__}: "
                              f"{str(error)[:300]}")
        for _, question in pending:
            self.checkpoint(question)
        wire.send(self.channel, {"type": "done", "errors": errors, "log": self.out.getvalue()})

    @contextlib.contextmanager
    def _captured(self) -> Any:
        real = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = self.out
        try:
            yield
        finally:
            sys.stdout, sys.stderr = real

    def checkpoint(self, question: str) -> None:
        """Answer the judge about ``question`` until it says to go on. The student's own
        generators and flags are put back afterwards, as a check in the notebook leaves them."""
        saved = wire.capture_ambient()
        self.ambient_digest = wire.ambient_digest(saved)
        encoder = wire.Encoder(self._handle, self._token)
        wire.send(self.channel, {"type": "checkpoint", "question": question,
                                 "ambient": encoder.encode(saved)}, encoder.blobs)
        with self._captured():
            while True:
                message = wire.receive(self.channel)
                if message.header.get("op") == "resume":
                    break
                self.answer(message)
        self.sent.clear()
        wire.apply_ambient(saved)

    # --- requests -------------------------------------------------------------------------

    def answer(self, message: wire.Message) -> None:
        header = message.header
        seq = header.get("seq")
        payload: dict[str, Any] = {}
        encoder = wire.Encoder(self._handle, self._token, self.sent)
        reply: dict[str, Any] = {"type": "reply", "seq": seq}
        lent: list[_Lent] = []
        records: list[Any] = []
        try:
            own: set[int] = set()
            # The judge names what it lent by the tokens of the check in progress only:
            # copies of what an earlier check lent are plain objects of ours now.
            live = header.get("live")
            if type(live) is int:
                for token in [t for t in self.lent_by_token if t < live]:
                    item = self.lent_by_token.pop(token)
                    if self.lent.get(id(item.obj)) is item:
                        del self.lent[id(item.obj)]
            if message.blobs:
                unpickler = _ArgumentUnpickler(message.blobs[0], self.objects)
                payload = unpickler.load()
                own = unpickler.loaded
            ambient = payload.get("ambient")
            if ambient is not None:
                wire.apply_ambient(ambient)
                self.ambient_digest = wire.ambient_digest(ambient)
            lent = self._receive_lent(payload, own)
            with checks.applied_instruments(payload.get("instruments", [])) as records:
                reply.update(self._perform(header, payload, encoder))
        except BaseException as error:  # noqa: BLE001 - student code may raise anything
            reply.update(ok=False, error=self._describe_error(error))
        ambient = payload.get("ambient")
        reply["records"] = [encoder.encode(r) for r in records]
        reply["writeback"] = [w for w in (self._writeback(item, encoder) for item in lent) if w]
        now = wire.capture_ambient(cuda=bool(ambient and "cuda" in ambient))
        digest = wire.ambient_digest(now)
        reply["ambient"] = encoder.encode(now) if digest != self.ambient_digest else None
        self.ambient_digest = digest
        wire.send(self.channel, reply, encoder.blobs)

    def _perform(self, header: dict[str, Any], payload: dict[str, Any],
                 encoder: wire.Encoder) -> dict[str, Any]:
        op = header.get("op")
        if op == "name":
            return {"ok": True, "value": encoder.encode(self.shell.user_ns.get(header["name"]))}
        if op == "run":  # a public kit function, sent by reference, run here on the arguments
            value = payload["function"](*payload["args"], **payload["kwargs"])
            return {"ok": True, "value": encoder.encode(value)}
        target = self.objects[header["h"]]
        if op == "getattr":
            value = getattr(target, header["attr"])
        elif op == "setattr":
            setattr(target, header["attr"], payload["value"])
            value = None
        elif op == "call":
            value = target(*payload["args"], **payload["kwargs"])
        elif op == "getitem":
            value = target[payload["key"]]
        elif op == "iter":
            return {"ok": True, "value": self._handle(iter(target))}
        elif op == "next":
            try:
                value = next(target)
            except StopIteration:
                return {"ok": True, "stop": True}
        elif op == "len":
            value = len(target)
        elif op == "isinstance":
            cls = payload["cls"]
            value = isinstance(cls, type) and cls in type.__dict__["__mro__"].__get__(
                type(target))
        else:
            raise ValueError(f"unknown request {op!r}")
        return {"ok": True, "value": encoder.encode(value)}

    @staticmethod
    def _describe_error(error: BaseException) -> dict[str, Any]:
        try:
            text = wire.clip(str(error))
        except BaseException:  # noqa: BLE001
            text = "(the error's message could not be read)"
        return {"type": wire.real_mro(error), "message": text}

    # --- handles and lent objects ---------------------------------------------------------

    def _handle(self, obj: Any) -> dict[str, Any]:
        number = self.handle_ids.get(id(obj))
        if number is None or self.objects.get(number) is not obj:
            number = len(self.objects) + 1
            self.objects[number] = obj
            self.handle_ids[id(obj)] = number
        is_class = isinstance(obj, type)
        try:
            text = repr(obj)[:wire.MAX_REPR]
        except BaseException:  # noqa: BLE001
            text = "<unprintable object>"
        return {"$": "handle", "id": number, "type": wire.real_mro(obj),
                "callable": callable(obj), "iterator": hasattr(type(obj), "__next__"),
                "class": is_class, "repr": text,
                "class_mro": [wire.qualified_name(c) for c in type.__dict__["__mro__"].__get__(obj)]
                if is_class else []}

    def _token(self, obj: Any) -> int | None:
        item = self.lent.get(id(obj))
        return item.token if item is not None and item.obj is obj else None

    def _receive_lent(self, payload: dict[str, Any], own: set[int]) -> list[_Lent]:
        base = payload.get("token_base")
        if base is None:
            return []
        items = []
        lendable = (payload.get("args"), payload.get("kwargs"), payload.get("key"),
                    payload.get("value"))
        objects = wire.lent_objects(lendable, opaque=lambda o: id(o) in own)
        for index, grad in payload.get("grads", []):
            objects[index].grad = grad
        for offset, obj in enumerate(objects):
            item = _Lent(base + offset, obj, self._signature(obj))
            self.lent[id(obj)] = item
            self.lent_by_token[item.token] = item
            items.append(item)
        return items

    def _signature(self, obj: Any) -> Any:
        if isinstance(obj, torch.Tensor):
            return _tensor_signature(obj)
        if isinstance(obj, np.ndarray):
            return _array_signature(obj)
        if isinstance(obj, torch.nn.Module):
            return (obj.training, {k: id(v) for k, v in obj._parameters.items()},
                    {k: id(v) for k, v in obj._buffers.items()}, self._plain_attrs(obj)[1])
        if isinstance(obj, torch.optim.Optimizer):
            return self._optimizer_state(obj)[1]
        return None

    def _plain_attrs(self, module: torch.nn.Module) -> tuple[dict[str, Any], str]:
        """A module's own attributes that are plain data (``self.calls = []``), encoded."""
        attrs = {}
        for name, value in vars(module).items():
            if name in _MODULE_INTERNALS or name.startswith("_"):
                continue
            encoder = wire.Encoder(_refuse, self._token)
            try:
                attrs[name] = (encoder.encode(value), encoder.blobs)
            except TypeError:
                continue
        text = repr(sorted((k, repr(v[0]), [hashlib.sha256(b).hexdigest() for b in v[1]])
                           for k, v in attrs.items()))
        return attrs, text

    def _optimizer_state(self, optimizer: torch.optim.Optimizer) -> tuple[list[Any], str]:
        state: list[list[Any]] = [[self._token(p), dict(s)]
                                  for p, s in optimizer.state.items()
                                  if self._token(p) is not None]
        groups = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
        text = repr([(t, {k: (v._version, v.data_ptr()) if isinstance(v, torch.Tensor) else v
                          for k, v in s.items()}) for t, s in state]) + repr(groups)
        return [state, groups], text

    def _writeback(self, item: _Lent, encoder: wire.Encoder) -> dict[str, Any] | None:
        obj = item.obj
        if self._signature(obj) == item.signature:
            return None
        item.signature = self._signature(obj)
        entry: dict[str, Any] = {"token": item.token}
        if isinstance(obj, torch.Tensor):
            grad = _grad(obj)
            entry.update(kind="tensor", value=encoder._tensor(obj),
                         grad=encoder._tensor(grad) if grad is not None else None)
        elif isinstance(obj, np.ndarray):
            entry.update(kind="ndarray", value=encoder._ndarray(obj))
        elif isinstance(obj, torch.nn.Module):
            tensors = []
            for kind, table in (("parameter", obj._parameters), ("buffer", obj._buffers)):
                for name, tensor in table.items():
                    if tensor is not None and self._token(tensor) is None:
                        tensors.append([kind, name, encoder._tensor(tensor)])
            attrs = []
            for name, (encoded, blobs) in self._plain_attrs(obj)[0].items():
                offset = len(encoder.blobs)
                encoder.blobs.extend(blobs)
                attrs.append([name, _shift_blobs(encoded, offset)])
            entry.update(kind="module", training=bool(obj.training), tensors=tensors,
                         attrs=attrs)
        elif isinstance(obj, torch.optim.Optimizer):
            (state, groups), _ = self._optimizer_state(obj)
            entry.update(kind="optimizer", state=encoder.encode(state),
                         groups=encoder.encode(groups))
        return entry


def _refuse(obj: Any) -> Any:
    raise TypeError("not plain data")


def _shift_blobs(node: Any, offset: int) -> Any:
    """Renumber the blob indexes of a value encoded with its own encoder."""
    if isinstance(node, list):
        return [_shift_blobs(v, offset) for v in node]
    if isinstance(node, dict):
        return {k: (v + offset if k == "blob" and isinstance(v, int) else _shift_blobs(v, offset))
                for k, v in node.items()}
    return node


def serve(shell: Any, channel: socket.socket, plan: Plan, notes: list[str]) -> None:
    """The student's process, from isolation to its last answer."""
    shell.user_ns["grader"] = NoOpGrader()
    wire.send(channel, {"type": "hello", "notes": notes})
    Runner(shell, channel, plan, CappedText(plan.max_output_bytes)).run()
