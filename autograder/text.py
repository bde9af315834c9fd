"""Text that comes from a submission, made safe to write anywhere we write it.

What a submission prints or raises, the ``repr`` of its objects and even its file name can hold
things no output format takes as they are: lone surrogates (UTF-8 cannot encode them; they
also stand for the undecodable bytes of a file name), NUL bytes, terminal escape sequences,
other control characters, and the bidirectional controls that make a line read differently
from what it holds. ``printable`` shows each of them as a visible escape (``\\x00``,
``\\x1b``, ``\\ud800``, ``\\u202e``), so nothing is lost, nothing raises, and what the
instructor reads is what the student's code produced.

Records (``results``) pass their text through here when they are built, so every renderer
(gradebook CSV, Gradescope JSON, Markdown feedback, HTML report, CI summary, terminal) gets
text it can write.
"""

from __future__ import annotations

import re

# Kept as they are: tab and newline (feedback and logs are multi-line text).
_UNSAFE = re.compile(
    "["
    "\x00-\x08\x0b-\x1f\x7f"  # C0 controls but tab and newline (CR too: it rewrites a line)
    "\x80-\x9f"  # C1 controls
    "\u2028\u2029"  # line and paragraph separators (break lines in JS, CSV readers)
    "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"  # bidirectional controls
    "\ud800-\udfff"  # lone surrogates (in a str, a surrogate is always alone)
    "\ufeff\ufff9-\ufffb\ufffe\uffff"  # BOM, interlinear annotation, non-characters
    "]"
)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as Python's surrogateescape keeps it
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def printable(text: object) -> str:
    """``text`` (a str, bytes, or anything with a ``str``) with every character that an
    output file, a terminal or a spreadsheet could choke on or misdisplay shown escaped.
    Bytes are decoded as UTF-8; what is not UTF-8 is shown as ``\\xNN``."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", "surrogateescape")
    elif not isinstance(text, str):
        try:
            text = str(text)
        except Exception as error:  # noqa: BLE001 - a hostile __str__ must not stop a write
            text = f"<unprintable {type(text).__name__}: {type(error).__name__}>"
    return _UNSAFE.sub(_escape, text)


def one_line(text: object) -> str:
    """``printable`` text on one line: runs of whitespace (newlines too) become one space."""
    return " ".join(printable(text).split())
