"""The sandbox at the OS level: what a submission can see, reach and keep
(autograder.grading.isolation).

Each case is the reference solution of 01-tensors with one probing cell at its end, graded by
the real engine. Probes print what they reached; the tests read the rows and the host. These
need root with namespaces (a GitHub runner under sudo, Gradescope, this machine); the degraded
modes are tested in test_grading (root without CAP_SYS_ADMIN).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT

from autograder.grading.grader import grade_submissions
from autograder.grading.job import Limits
from autograder.grading.sandbox import SANDBOX_UID_BASE, STUDENT_ENVIRONMENT_KEPT

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the full sandbox needs root")

ASSIGNMENT = "01-tensors"
LIMITS = Limits(submission_seconds=60.0, cell_seconds=20.0, memory_mb=256, disk_mb=64)
SHM_KEY = 0x5EED5EED

# A SysV shared-memory segment and a POSIX one, each holding a note for whoever comes next.
WRITE_NOTES = f"""
import ctypes, mmap, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
segment = libc.shmget({SHM_KEY}, 4096, 0o1000 | 0o666)
address = libc.shmat(segment, None, 0)
ctypes.memmove(address, b"SYSV NOTE", 9)
with open("/dev/shm/posix-note", "w") as note:
    note.write("POSIX NOTE")
print("NOTES WRITTEN", segment)
"""
READ_NOTES = f"""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
segment = libc.shmget({SHM_KEY}, 4096, 0o666)
if segment >= 0:
    print("SYSV NOTE FOUND", ctypes.string_at(libc.shmat(segment, None, 0), 9))
if os.path.exists("/dev/shm/posix-note"):
    print("POSIX NOTE FOUND")
print("NOTES LOOKED FOR")
"""
# Eight 64 MiB segments, each touched then detached: resident memory outside the address space.
EAT_SHARED_MEMORY = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
made = 0
for _ in range(8):
    segment = libc.shmget(0, 64 << 20, 0o1000 | 0o600)
    if segment < 0:
        break
    address = libc.shmat(segment, None, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        break
    ctypes.memset(address, 1, 64 << 20)
    libc.shmdt(ctypes.c_void_p(address))
    made += 1
print("SHM SEGMENTS", made)
"""
# A listener of the host's, by path and in the abstract namespace.
CONNECT_TO_HOST = """
import socket
for address in (@PATH@, "\\0@ABSTRACT@"):
    try:
        client = socket.socket(socket.AF_UNIX)
        client.connect(address)
        client.sendall(b"HELLO FROM A SUBMISSION")
        print("CONNECTED", repr(address))
    except OSError as error:
        print("REFUSED", repr(address), type(error).__name__)
"""
# An instructor's checkout beside the bundle: its notebook, and the grader's command line.
LOOK_AROUND = """
import os
for path in (@PATHS@):
    try:
        print("READ", path, open(path).read()[:40])
    except OSError as error:
        print("UNREADABLE", path, type(error).__name__)
    print("EXISTS" if os.path.exists(path) else "ABSENT", path)
pids = [p for p in os.listdir("/proc") if p.isdigit()]
print("PROCESSES", len(pids))
for pid in pids:
    try:
        line = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ")
    except OSError:
        continue
    if b"@MARKER@" in line:
        print("SEEN IN PROC", pid, line[:200])
print("LOOKED AROUND", sorted(os.listdir("/")))
"""
# What the student's process sees of the grader's environment.
ENVIRONMENT = """
import os
print("ENVIRONMENT", sorted(os.environ))
print("SECRET", os.environ.get("AUTOGRADER_TEST_CI_TOKEN", "absent"))
"""
SECRET = "ghp_not-for-students"
# System calls grading never needs.
FORBIDDEN_CALLS = """
import ctypes, errno, os, platform, socket
libc = ctypes.CDLL(None, use_errno=True)
numbers = {"x86_64": (250, 321), "aarch64": (219, 280)}[platform.machine()]
attempts = {
    "ptrace": lambda: libc.ptrace(0, 0, None, None),
    "unshare": lambda: libc.unshare(0x10000000),
    "mount": lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None),
    "keyctl": lambda: libc.syscall(numbers[0], 0, 0, 0, 0),
    "bpf": lambda: libc.syscall(numbers[1], 0, None, 0),
}
for name, call in attempts.items():
    result = call()
    print("CALL", name, "REFUSED" if result == -1 else f"ALLOWED {result}",
          errno.errorcode.get(ctypes.get_errno(), ""))
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    print("CALL inet-socket ALLOWED")
except OSError as error:
    print("CALL inet-socket REFUSED", errno.errorcode.get(error.errno, ""))
a, b = socket.socketpair()
a.sendall(b"x")
print("UNIX SOCKETS WORK", b.recv(1))
pid = os.fork()
if pid == 0:
    os._exit(7)
print("FORK WORKS", os.waitpid(pid, 0)[1] >> 8)
"""
# Fills its folder and /tmp until the disk limit stops it.
FILL_DISK = """
import os
chunk = b"x" * (1 << 20)
written = 0
for index, folder in enumerate([os.getcwd(), "/tmp"] * 200):
    try:
        with open(os.path.join(folder, f"fill-{index}"), "wb") as out:
            for _ in range(8):
                out.write(chunk)
                out.flush()
                written += 1
    except OSError as error:
        print("STOPPED AFTER", written, "MB:", os.strerror(error.errno))
        break
else:
    print("NOT STOPPED", written, "MB")
"""


def _with_cell(solution: Path, code: str, dest: Path) -> Path:
    nb = json.loads(solution.read_text())
    nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [],
                        "execution_count": None, "source": code})
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(nb))
    return dest


def _sysv_segments_of_sandbox_uids() -> list[str]:
    lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    uids = range(SANDBOX_UID_BASE, SANDBOX_UID_BASE + 1000)
    return [line for line in lines if int(line.split()[7]) in uids]  # the "uid" column


@pytest.fixture(scope="module")
def arena():
    """A world-readable folder outside the grader's: an instructor's course checkout (the
    bundle given by path from inside it) and a host socket listener."""
    folder = Path(tempfile.mkdtemp(prefix="isolation-arena-"))
    os.chmod(folder, 0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def one_worker(releases, arena):
    """Graded one after another on one worker: what one submission leaves for the next."""
    release = releases[ASSIGNMENT]
    course = arena / "course"
    instructor = course / "assignments" / ASSIGNMENT / "tensors.ipynb"
    instructor.parent.mkdir(parents=True)
    instructor.write_text("INSTRUCTOR NOTEBOOK with hidden tests\n")
    bundle = course / "dist" / ASSIGNMENT / "autograder.zip"
    bundle.parent.mkdir(parents=True)
    shutil.copy2(release.bundle, bundle)
    for path in [course, *course.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)

    path_listener = socket.socket(socket.AF_UNIX)
    socket_path = str(arena / "host.sock")
    path_listener.bind(socket_path)
    os.chmod(socket_path, 0o777)
    abstract = f"isolation-test-{os.getpid()}"
    abstract_listener = socket.socket(socket.AF_UNIX)
    abstract_listener.bind("\0" + abstract)
    listeners = [path_listener, abstract_listener]
    for listener in listeners:
        listener.listen()
        listener.setblocking(False)

    submissions = arena / "submissions"
    probes = {
        "a-write-notes": WRITE_NOTES,
        "b-read-notes": READ_NOTES,
        "c-eat-shared-memory": EAT_SHARED_MEMORY,
        "d-connect-to-host": CONNECT_TO_HOST.replace("@PATH@", repr(socket_path))
                                            .replace("@ABSTRACT@", abstract),
        "e-look-around": LOOK_AROUND.replace("@PATHS@", repr((str(instructor), str(bundle),
                                                               str(ROOT / "assignments"))))
                                    .replace("@MARKER@", str(course)),
        "f-forbidden-calls": FORBIDDEN_CALLS,
        "g-environment": ENVIRONMENT,
    }
    paths = [_with_cell(release.solution, code, submissions / f"{name}.ipynb")
             for name, code in probes.items()]
    cwd = os.getcwd()
    os.chdir(tempfile.gettempdir())  # the grader runs elsewhere: only the path names the bundle
    os.environ["AUTOGRADER_TEST_CI_TOKEN"] = SECRET  # as a CI job's token would be
    try:
        results = grade_submissions(bundle, paths, workers=1, limits=LIMITS)
    finally:
        os.chdir(cwd)
        del os.environ["AUTOGRADER_TEST_CI_TOKEN"]
    received = []
    for listener in listeners:
        try:
            connection, _ = listener.accept()
            received.append(connection.recv(100))
        except BlockingIOError:
            pass
        listener.close()
    return {"results": {p.stem: r for p, r in zip(paths, results, strict=True)},
            "received": received, "possible": results[0].possible}


def test_every_probe_was_graded_in_full(one_worker):
    for name, result in one_worker["results"].items():
        assert result.status == "graded" and result.score == result.possible, (name, result)


def test_a_sysv_or_posix_note_does_not_reach_the_next_submission(one_worker):
    results = one_worker["results"]
    assert "NOTES WRITTEN" in results["a-write-notes"].log, results["a-write-notes"].log
    log = results["b-read-notes"].log
    assert "NOTES LOOKED FOR" in log and "NOTE FOUND" not in log, log


def test_sysv_memory_is_bounded_and_nothing_outlives_the_batch(one_worker):
    log = one_worker["results"]["c-eat-shared-memory"].log
    made = int(log.split("SHM SEGMENTS ", 1)[1].split()[0])
    assert made <= LIMITS.memory_mb // 64, log
    assert not _sysv_segments_of_sandbox_uids()


def test_a_host_unix_socket_receives_nothing(one_worker):
    log = one_worker["results"]["d-connect-to-host"].log
    assert log.count("REFUSED") == 2 and "CONNECTED" not in log, log
    assert one_worker["received"] == []


def test_an_instructor_checkout_beside_the_bundle_is_neither_readable_nor_visible(one_worker):
    log = one_worker["results"]["e-look-around"].log
    assert "LOOKED AROUND" in log, log
    assert "READ " not in log and "EXISTS" not in log and "SEEN IN PROC" not in log, log
    processes = int(log.split("PROCESSES ", 1)[1].split()[0])
    assert processes <= 2, log  # itself (and a helper of its own, at most)


def test_the_graders_environment_does_not_reach_student_code(one_worker):
    log = one_worker["results"]["g-environment"].log
    assert "SECRET absent" in log and SECRET not in log, log
    names = set(ast.literal_eval(log.split("ENVIRONMENT ", 1)[1].splitlines()[0]))
    # Of the grader's own variables, only the allow-list's reach it (set anew: HOME, PATH...).
    passed = (names & set(os.environ)) - set(STUDENT_ENVIRONMENT_KEPT)
    assert passed <= {"PATH", "HOME", "TMPDIR", "USER", "LOGNAME", "OMP_NUM_THREADS",
                      "MKL_NUM_THREADS", "MPLBACKEND", "PYTHONHASHSEED"}, passed


def test_system_calls_grading_never_needs_are_refused(one_worker):
    log = one_worker["results"]["f-forbidden-calls"].log
    for name in ("ptrace", "unshare", "mount", "keyctl", "bpf", "inet-socket"):
        assert f"CALL {name} REFUSED" in log, log
    assert "UNIX SOCKETS WORK b'x'" in log and "FORK WORKS 7" in log, log


def test_a_disk_filler_is_stopped_and_its_neighbour_keeps_its_score(releases, tmp_path):
    release = releases[ASSIGNMENT]
    filler = _with_cell(release.solution, FILL_DISK, tmp_path / "filler.ipynb")
    honest = [shutil.copy2(release.solution, tmp_path / f"honest-{i}.ipynb") for i in (1, 2)]
    results = grade_submissions(release.bundle, [filler, *honest], workers=2, limits=LIMITS)
    filled = results[0]
    written = int(filled.log.split("STOPPED AFTER ", 1)[1].split()[0])
    assert written <= LIMITS.disk_mb and "No space left on device" in filled.log, filled.log
    assert "filled its disk space (--disk-mb 64)" in filled.message, filled.message
    for result in results[1:]:
        assert result.status == "graded" and result.score == result.possible, result
        assert "disk" not in result.message
