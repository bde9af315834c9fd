"""Every fact the judge takes from the student's process is either checked by the judge (the
protocol's own fields, values rebuilt from bytes) or a claim listed in the README.

The facts are enumerated from the code, not from a list kept by hand: every key the judge
reads from a message of the student's process (``.get("key")`` or ``["key"]`` on a message,
a reply, a value node, a write-back entry, an error, the ambient state). A key that appears in
the code and not below fails this test until it is classified; a claim whose README phrase
is gone fails it too.
"""

from __future__ import annotations

import ast

from conftest import ROOT

# What the student's process sends, as the judge's code names it.
RECEIVERS = {"header", "hello", "message", "entry", "error", "node", "state"}
SOURCES = ("autograder/grading/judge.py", "autograder/grading/wire.py")

# Checked by the judge: the protocol's order and shape, or a value it rebuilds and type-checks
# itself (a tensor's dtype, shape and bytes; a float from its hex form).
CHECKED = {
    "type": "the message kind, checked against what the judge expects next",
    "seq": "the reply's sequence number, checked against the request's",
    "ok": "whether the reply holds a value or an error, then checked for that shape",
    "stop": "the end of an iterator (the value is then absent)",
    "index": "a cell's index, checked against the plan the grader made",
    "question": "a checkpoint's question, checked against the plan",
    "value": "a value: rebuilt from its wire form into fresh objects of exact types",
    "items": "a tuple's or dict's items, decoded as values",
    "v": "a scalar's, size's, dtype's or float's own field",
    "$": "a value's tag, from a fixed list",
    "re": "a complex number's real part", "im": "a complex number's imaginary part",
    "blob": "the index of bytes a value is rebuilt from (counted per use)",
    "dtype": "a tensor's or array's dtype, from a fixed list",
    "shape": "a tensor's or array's shape, matched against its bytes",
    "device": "a tensor's device, from a fixed list and this machine's devices",
    "requires_grad": "a tensor's flag, part of the value the student's code produced",
    "parameter": "whether a tensor is a parameter, part of the value",
    "id": "a handle's number in the student's process (a name for its object, no more)",
    "callable": "a handle's flag: whether the judge may call it (the call goes back there)",
    "iterator": "a handle's flag: whether the judge may iterate it",
    "class": "a handle's flag: a class never passes for one here",
    "h": "the judge's own request field (the handle it asks about)",
    "attr": "the judge's own request field", "name": "the judge's own request field",
    "live": "the judge's own request field", "questions": "the grader's message, not the "
    "student's: the tests",
}
# Claims: taken as the student's process says; each maps to the README phrase that lists it.
CLAIMS = {
    "span": "where a tensor's storage lies",
    "subclass": "whether a tensor was a subclass",
    "repr": "a handle's type",  # its type and its text, listed together
    "class_mro": "a handle's type",
    "ambient": "the random generators' state, the determinism/cuDNN flags and grad mode",
    "torch": "the random generators' state", "numpy": "the random generators' state",
    "python": "the random generators' state", "cuda": "the random generators' state",
    "deterministic": "the determinism/cuDNN flags", "cudnn": "the determinism/cuDNN flags",
    "grad": "grad mode",
    "records": "what an instrument recorded",
    "token": "what a student function changed in place in an object a test lent it",
    "kind": "what a student function changed in place in an object a test lent it",
    "training": "what a student function changed in place in an object a test lent it",
    "tensors": "what a student function changed in place in an object a test lent it",
    "attrs": "what a student function changed in place in an object a test lent it",
    "groups": "an optimizer's state and hyper-parameters",
    "state": "an optimizer's state and hyper-parameters",
    "writeback": "what a student function changed in place in an object a test lent it",
    "oid": "the same tensor under two names",
    "message": "the type and message of an exception student code raised",
    "error": "the type and message of an exception student code raised",
    "log": "what the notebook printed and which cells raised",
    "errors": "what the notebook printed and which cells raised",
    "notes": "notes on the sandbox layers the student's process applied",
}


def _keys_read() -> dict[str, set[str]]:
    """key -> the files where the judge reads it from a student's message."""
    found: dict[str, set[str]] = {}
    for source in SOURCES:
        tree = ast.parse((ROOT / source).read_text())
        for node in ast.walk(tree):
            key = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr == "get" and isinstance(node.func.value, ast.Name) and \
                    node.func.value.id in RECEIVERS and node.args and \
                    isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                key = node.args[0].value
            elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and \
                    node.value.id in RECEIVERS and isinstance(node.slice, ast.Constant) and \
                    isinstance(node.slice.value, str):
                key = node.slice.value
            if key is not None:
                found.setdefault(key, set()).add(source)
    return found


def test_every_fact_taken_from_the_students_process_is_checked_or_a_listed_claim():
    keys = _keys_read()
    assert len(keys) > 30, keys  # the walk found the protocol
    unclassified = {k: sorted(v) for k, v in keys.items() if k not in CHECKED and k not in CLAIMS}
    assert not unclassified, (
        "the judge reads these from the student's process, and they are neither checked nor "
        f"a listed claim: {unclassified}; classify each here, and list a claim in the README")
    assert not set(CHECKED) & set(CLAIMS)


def test_every_claim_is_in_the_readmes_list_of_claims():
    readme = " ".join((ROOT / "README.md").read_text().split())
    start = readme.index("Reported facts (claims).")
    claims_text = readme[start:start + 6000]
    missing = sorted({phrase for phrase in CLAIMS.values() if phrase not in claims_text})
    assert not missing, f"claims the README does not list: {missing}"
