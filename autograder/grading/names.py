"""Names of submissions: the name the gradebook shows, and the form that names output files.

The gradebook keeps a submission's own name (``naïve name (copy)``, ``José García``): it is
how instructors and LMS rosters know the student. Output files (``results/NAME.json``,
``feedback/NAME.md``) need a name every file system and archive takes: no path separators,
no characters Windows refuses, no leading dot (hidden files are left out of CI artifacts), a
bounded length, and unique even where names differ only in case or Unicode normalisation
(macOS and Windows file systems, where a TA unzips the artifact, treat those as one file).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

from autograder.text import printable

# Refused in file names on Windows; "/" and NUL nowhere; "\\" also starts our escapes.
_RESERVED_CHARACTERS = re.compile(r'[<>:"/\\|?*\s]')
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                    *(f"LPT{i}" for i in range(1, 10))}
MAX_FILE_STEM_BYTES = 120  # room for ".json", a "-N" counter and the ".tmp" of atomic writes


def file_stem(name: str) -> str:
    """A file-system-safe form of ``name``: letters of any script, digits, spaces and most
    punctuation stay; the rest becomes ``_``."""
    text = unicodedata.normalize("NFC", printable(name))
    text = "".join(" " if c == " " else _RESERVED_CHARACTERS.sub("_", c) for c in text)
    text = text.lstrip(". -").rstrip(". ")
    encoded = text.encode("utf-8")
    if len(encoded) > MAX_FILE_STEM_BYTES:
        text = encoded[:MAX_FILE_STEM_BYTES].decode("utf-8", "ignore").rstrip(". ")
    if text.split(".")[0].upper() in _WINDOWS_DEVICES:
        text += "_"
    return text or "submission"


def _unique(names: Iterable[str], key: Callable[[str], str] = str) -> list[str]:
    """Each name, with ``-2``, ``-3``... added where ``key`` says it was taken already."""
    taken: set[str] = set()
    out: list[str] = []
    for base in names:
        name, n = base, 2
        while key(name) in taken:
            name, n = f"{base}-{n}", n + 1
        taken.add(key(name))
        out.append(name)
    return out


def _file_key(stem: str) -> str:
    return unicodedata.normalize("NFC", stem).casefold()


def unique_names(names: Iterable[str]) -> list[str]:
    """Gradebook names, unique in the batch (``alice``, ``alice-2`` for a second alice)."""
    return _unique(printable(n) for n in names)


def unique_file_stems(names: Iterable[str]) -> list[str]:
    """A file stem per name, unique in the batch ignoring case and Unicode normalisation."""
    return _unique((file_stem(n) for n in names), key=_file_key)
