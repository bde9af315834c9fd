"""Fingerprints of an answer: its code normalised with Python's ``tokenize``, cut into k-grams
of tokens, and winnowed (the method of MOSS, copydetect and Dolos).

Normalising makes the usual disguises invisible: comments, blank lines and indentation are
dropped, every name a student chose (variables, functions, parameters) is the same token
``V``, and every number or string literal is ``N`` or ``S``. Names a student did not choose stay
as they are (``torch``, ``zeros``, ``len``, ``dtype=``), so ``x.sum()`` and ``x.mean()`` still
differ. Winnowing keeps, from every window of consecutive k-gram hashes, the smallest: any
passage of at least ``K + WINDOW - 1`` tokens that two answers share gives them a shared
fingerprint, whatever surrounds it, so reordered lines keep most of their fingerprints.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import keyword
import re
import tokenize
from collections.abc import Iterable, Sequence
from typing import NamedTuple

K = 5  # tokens per k-gram: about half a beginner's line (`V = torch . zeros ( N , N )`)
WINDOW = 4  # k-grams per winnowing window: a shared run of 8 tokens always shows

_BUILTINS = frozenset(dir(builtins))
_DROPPED = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
_STRING_PARTS = {getattr(tokenize, name) for name in
                 ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END") if hasattr(tokenize, name)}
_FALLBACK_TOKEN = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|'[^']*'?|\"[^\"]*\"?|\S")


class Token(NamedTuple):  # tuples: an answer has hundreds, a class hundreds of thousands
    text: str  # normalised: ``V``, ``N``, ``S``, or the token itself
    line: int  # the line of the answer it comes from


class Fingerprint(NamedTuple):
    hash: int
    first_line: int  # the lines of the answer its k-gram spans
    last_line: int


def normalised_tokens(text: str, kept_names: Iterable[str] = (),
                      line_numbers: Sequence[int] | None = None) -> list[Token]:
    """The answer's tokens, normalised (module docstring). ``kept_names``: names the release
    gave (``torch``, ``np``, a function it defines), kept as they are; ``line_numbers``: the
    line number each line of ``text`` has in the answer (default: its index). Code that does
    not tokenize (an unclosed bracket) is split by a simpler rule instead of refused."""
    keep = _BUILTINS | frozenset(kept_names)
    # Indentation is whitespace: removing it first also spares tokenize the indentation
    # errors of a body whose given ``def`` line was removed.
    flat = "\n".join(line.strip() for line in text.splitlines()) + "\n"
    try:
        raw = [(t.type, t.string, t.start[0] - 1) for t in
               tokenize.generate_tokens(io.StringIO(flat).readline)]
    except (tokenize.TokenError, SyntaxError):
        raw = [(_fallback_kind(m.group()), m.group(), number)
               for number, line in enumerate(flat.splitlines())
               for m in _FALLBACK_TOKEN.finditer(line)]
    out: list[Token] = []
    depth = 0
    numbers = line_numbers if line_numbers is not None else range(flat.count("\n") + 1)
    for index, (kind, string, row) in enumerate(raw):
        line = numbers[min(row, len(numbers) - 1)] if numbers else 0
        if kind in _DROPPED:
            continue
        if kind == tokenize.OP:
            if string in "([{":
                depth += 1
            elif string in ")]}":
                depth = max(0, depth - 1)
            out.append(Token(string, line))
        elif kind == tokenize.NUMBER:
            out.append(Token("N", line))
        elif kind == tokenize.STRING or kind in _STRING_PARTS:
            if not (out and out[-1].text == "S" and kind in _STRING_PARTS):
                out.append(Token("S", line))  # an f-string's parts are one literal
        elif kind == tokenize.NEWLINE:
            out.append(Token(";", line))
        elif kind == tokenize.NAME:
            after_dot = bool(out) and out[-1].text == "."
            keyword_argument = depth > 0 and index + 1 < len(raw) and raw[index + 1][1] == "="
            given = keyword.iskeyword(string) or string in keep
            out.append(Token(string if after_dot or keyword_argument or given else "V", line))
        else:
            out.append(Token(string, line))
    return out


def _fallback_kind(text: str) -> int:
    if text[0].isdigit():
        return tokenize.NUMBER
    if text[0] in "'\"":
        return tokenize.STRING
    return tokenize.NAME if text[0].isalpha() or text[0] == "_" else tokenize.OP


_TOKEN_CODES: dict[str, int] = {}
_BASE = 1_000_003
_MASK = (1 << 64) - 1


def _code(text: str) -> int:
    """A token's 64-bit code: the same in every process (``hash`` of a str is not)."""
    code = _TOKEN_CODES.get(text)
    if code is None:
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        code = _TOKEN_CODES[text] = int.from_bytes(digest, "big")
    return code


def fingerprints(tokens: Sequence[Token]) -> list[Fingerprint]:
    """The winnowed k-gram fingerprints of ``tokens`` (each selected k-gram once). An answer
    shorter than ``K`` tokens is one fingerprint of its whole."""
    if not tokens:
        return []
    codes = [_code(t.text) for t in tokens]
    k = min(K, len(tokens))
    grams = []
    for start in range(len(codes) - k + 1):
        value = 0
        for code in codes[start:start + k]:  # a polynomial hash of the k-gram, in 64 bits
            value = (value * _BASE + code) & _MASK
        grams.append(value)
    width = min(WINDOW, len(grams))
    chosen: list[int] = []
    for start in range(len(grams) - width + 1):
        window = grams[start:start + width]
        # The rightmost minimum (Schleimer et al.): the same choice whatever precedes it.
        best = start + width - 1 - window[::-1].index(min(window))
        if not chosen or chosen[-1] != best:
            chosen.append(best)
    return [Fingerprint(grams[i], tokens[i].line, tokens[i + k - 1].line) for i in chosen]


def answer_signature(tokens: Sequence[Token]) -> int | None:
    """One hash for the whole answer, the same whatever the order of its lines (None for an
    empty answer)."""
    if not tokens:
        return None
    lines: dict[int, list[str]] = {}
    for token in tokens:
        lines.setdefault(token.line, []).append(token.text)
    return _code("\n".join(sorted(" ".join(texts) for texts in lines.values())))


def together(signatures: Sequence[int | None]) -> Fingerprint | None:
    """The fingerprint of consecutive answers written together: a pair that shares it shares
    all of them, which is rarer than sharing any one (it has no line to highlight)."""
    if not signatures or any(s is None for s in signatures):
        return None
    value = 0
    for signature in signatures:
        value = (value * _BASE + (signature or 0)) & _MASK
    return Fingerprint(value, -1, -1)
