"""How messages travel: a length-prefixed JSON header followed by raw binary blobs, read under
an absolute deadline and a size cap::

    >I header length | header JSON | >I blob count | (>Q length | bytes) per blob

The standard library only: the grader's own process frames its jobs and reads its verdicts
with it without importing torch (a cold start pays torch once, in the worker). What the
values inside mean is ``wire``'s part.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
_HEADER = struct.Struct(">I")
_BLOB = struct.Struct(">Q")


class WireError(Exception):
    """A message or value that does not follow the format (a forged or broken reply)."""


class ChannelClosed(WireError):
    """The other end closed the channel."""


class DeadlinePassed(Exception):
    """The absolute deadline passed before a whole message arrived."""


def clip(text: str, limit: int = 600) -> str:
    """``text`` cut to about ``limit`` characters, keeping both ends: an error's message often
    ends with its cause (a traceback from a DataLoader worker)."""
    if len(text) <= limit:
        return text
    head = limit // 3
    return f"{text[:head]} [...] {text[-(limit - head):]}"


@dataclass
class Message:
    header: dict[str, Any]
    blobs: list[bytes] = field(default_factory=list)


def send(sock: socket.socket, header: dict[str, Any], blobs: list[bytes] | None = None) -> None:
    body = json.dumps(header, allow_nan=False).encode()
    blobs = blobs or []
    parts = [_HEADER.pack(len(body)), body, _HEADER.pack(len(blobs))]
    for blob in blobs:
        parts += [_BLOB.pack(len(blob)), blob]
    sock.sendall(b"".join(parts))


def _recv_exact(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    buffer = bytearray()
    while len(buffer) < size:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlinePassed()
            # One deadline for the whole message: a reply dribbled byte by byte cannot
            # re-arm it.
            sock.settimeout(remaining)
        try:
            chunk = sock.recv(min(size - len(buffer), 1 << 20))
        except TimeoutError:
            raise DeadlinePassed() from None
        except OSError as error:
            raise ChannelClosed(f"channel failed: {error}") from None
        if not chunk:
            raise ChannelClosed("channel closed")
        buffer += chunk
    return bytes(buffer)


def receive(sock: socket.socket, deadline: float | None = None, *,
            limit: int = MAX_MESSAGE_BYTES) -> Message:
    """Read one whole message by ``deadline`` (``time.monotonic()``; None: wait forever)."""
    (size,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size, deadline))
    if size > limit:
        raise WireError(f"a message header of {size} bytes is over the limit")
    try:
        header = json.loads(_recv_exact(sock, size, deadline))
    except (ValueError, RecursionError) as error:
        raise WireError(f"not a JSON message: {str(error)[:200]}") from None
    if not isinstance(header, dict):
        raise WireError("the message is not a JSON object")
    (count,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size, deadline))
    total, blobs = size, []
    for _ in range(count):
        (length,) = _BLOB.unpack(_recv_exact(sock, _BLOB.size, deadline))
        total += length
        if total > limit:
            raise WireError(f"a message of over {limit} bytes")
        blobs.append(_recv_exact(sock, length, deadline))
    return Message(header, blobs)
