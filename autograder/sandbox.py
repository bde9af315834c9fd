"""Run one submission's code and tests in an isolated, bounded process.

Three processes, one trust boundary:

- the **grader** (``grade.py``, trusted) owns deadlines, killing, the test source and the result;
- a **zygote** per worker (this module's ``main``, trusted: it never runs student code) imports
  torch, numpy and IPython once, then forks one child per submission, so start-up is paid once;
- the **child** (untrusted from the moment student code runs) isolates itself (new session, no
  network, hidden paths, resource limits, an unprivileged uid when started as root), runs the
  notebook's cells, then asks for the tests, which exist nowhere on disk it can read.

The grader hands the child one end of a fresh socketpair through the zygote (``SCM_RIGHTS``), so
tests and results travel over a channel the zygote never reads. The grader holds the child to a
strict order on it (each cell, one request for the tests, one result with the nonce it sent
with them) and kills the child once the result is in. Student code shares the child with the
test runner, so the runner guards itself: references to what it uses are taken before student
code runs, and an integrity snapshot catches patches. Every message is a length-prefixed JSON
object, never a pickle.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import socket
import struct
import sys
import time
import types
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

_THIS_MODULE = sys.modules[__name__]  # before IPython installs the student's __main__
_json_loads = json.loads
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
HEADER = struct.Struct(">I")
# Each worker's child runs as its own uid (when the grader is root), so one worker's
# kill-everything-of-my-uid sweep never touches another's, and RLIMIT_NPROC is per worker.
SANDBOX_UID_BASE = 61000

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PR_SET_CHILD_SUBREAPER = 36
MS_RDONLY = 0x1
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MS_NOSUID = 0x2
MS_NODEV = 0x4


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Wall-clock limits are enforced by the grader."""

    submission_seconds: float = 300.0
    cell_seconds: float = 120.0
    memory_mb: int = 2048  # address space on top of what torch itself maps
    max_processes: int = 64  # tasks (processes + threads) of the sandbox uid
    max_output_bytes: int = 200_000  # captured stdout/stderr kept for the instructor
    max_file_mb: int = 256  # largest file the code may write


@dataclass(frozen=True)
class Job:
    """What the zygote's child needs to run a submission (no tests: they come later)."""

    cells: list[str]
    scratch: str
    limits: Limits
    slot: int  # machine-wide unique while running: picks the sandbox uid
    hide_paths: list[str] = field(default_factory=list)
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        return cls(**{**data, "limits": Limits(**data["limits"])})


# --- framing ----------------------------------------------------------------------------------


class ChannelClosed(Exception):
    """The other end closed the channel (or sent something that is not a message)."""


def send_message(sock: socket.socket, message: dict[str, Any], *,
                 _dumps: Callable[..., str] = json.dumps,
                 _sendall: Callable[..., None] = socket.socket.sendall) -> None:
    # json.dumps and sendall are bound when this module loads, before any student code:
    # patching them later cannot rewrite what the sandbox sends.
    data = _dumps(message).encode()
    _sendall(sock, HEADER.pack(len(data)) + data)


def _recv_exact(sock: socket.socket, size: int, *,
                _recv: Callable[..., bytes] = socket.socket.recv) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = _recv(sock, min(remaining, 1 << 20))
        if not chunk:
            raise ChannelClosed("channel closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def recv_message(sock: socket.socket) -> dict[str, Any]:
    """Read one message; the caller sets the socket timeout (``socket.timeout`` on expiry)."""
    (size,) = HEADER.unpack(_recv_exact(sock, HEADER.size))
    if size > MAX_MESSAGE_BYTES:
        raise ChannelClosed(f"message of {size} bytes is over the limit")
    try:
        message = _json_loads(_recv_exact(sock, size))
    except ValueError as error:
        raise ChannelClosed(f"not a JSON message: {error}") from None
    if not isinstance(message, dict):
        raise ChannelClosed("message is not a JSON object")
    return message


# --- the zygote -------------------------------------------------------------------------------


def _prepare_interpreter() -> Any:
    """Import what every submission needs, once, and build the IPython shell children reuse."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import numpy  # noqa: F401
    import torch

    torch.set_num_threads(1)  # one thread per worker: deterministic, no oversubscription
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    # Imported here, once per worker, both to save every submission the time and because
    # some of them patch torch on import (torch._dynamo wraps torch.manual_seed): that must
    # happen before the integrity snapshot, not be mistaken for a student's patch.
    import torch._dynamo  # noqa: F401
    import torch.nn  # noqa: F401
    import torch.optim  # noqa: F401
    import torch.testing  # noqa: F401
    import torch.utils.data  # noqa: F401

    try:
        import sklearn.datasets  # noqa: F401
        import sklearn.model_selection  # noqa: F401
    except ImportError:
        pass
    try:
        import tqdm

        tqdm.tqdm.monitor_interval = 0  # no monitor thread left running after a progress bar
    except ImportError:
        pass
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    import autograder.checks  # noqa: F401  - captured references before any student code

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.xmode = "Minimal"
    # Student code gets a module of its own: by default IPython would run it in the
    # ``__main__`` module, which is this one (``python -m autograder.sandbox``).
    shell = InteractiveShell.instance(config=config, user_module=types.ModuleType("__main__"))
    # IPython keeps a copy of everything a cell prints (for %history -o), whatever the
    # history settings: endless printing would fill memory past our output cap.
    shell._tee = lambda channel: contextlib.nullcontext()
    # Warm the paths every submission takes (IPython's cell compiler, torch's first ops, the
    # meta device), so each forked child inherits them ready instead of paying again.
    shell.run_cell("import torch\n_ = (torch.ones(2, 2) @ torch.ones(2, 2)).sum().item()\n"
                   "_ = torch.nn.Linear(2, 2).to('meta')(torch.ones(1, 2, device='meta'))",
                   store_history=True)
    shell.reset(new_session=False)
    return shell


def main(ctrl_fd: int) -> None:
    """Zygote loop: receive a job and a channel fd, fork a child for it, report its exit."""
    ctrl = socket.socket(fileno=ctrl_fd)
    # Orphans of a submission (double forks) become our children, so we can reap them:
    # zombies left over would count against the next submission's process cap.
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    shell = _prepare_interpreter()
    send_message(ctrl, {"type": "ready"})
    while True:
        try:
            raw, fds, _, _ = socket.recv_fds(ctrl, MAX_MESSAGE_BYTES, 1)
        except OSError:
            raw = b""
        if not raw:
            # The grader closed the control channel: done. No interpreter shutdown (seconds
            # of torch's clean-up), nothing of ours is left to flush.
            os._exit(0)
        job = Job.from_json(json.loads(raw))
        channel_fd = fds[0]
        pid = os.fork()
        if pid == 0:
            _child(job, channel_fd, ctrl.fileno(), shell)  # never returns
        os.close(channel_fd)
        send_message(ctrl, {"type": "started", "pid": pid})
        _, status, usage = os.wait4(pid, 0)
        _sweep(job, pid)
        send_message(ctrl, {"type": "exited", "status": _describe_status(status),
                            "max_rss_kb": usage.ru_maxrss})


def _describe_status(status: int) -> dict[str, Any]:
    if os.WIFSIGNALED(status):
        return {"signal": signal.Signals(os.WTERMSIG(status)).name}
    return {"exit_code": os.WEXITSTATUS(status)}


def _sandbox_uid(job: Job) -> int | None:
    return SANDBOX_UID_BASE + job.slot if os.geteuid() == 0 else None


def _sweep(job: Job, pid: int) -> None:
    """Kill whatever the submission left behind: its session, and with a sandbox uid,
    everything of that uid (forks that called setsid, daemons)."""
    uid = _sandbox_uid(job)
    for _ in range(200):
        _reap()
        survivors = [p for p in _processes() if p != os.getpid() and _left_by(p, pid, uid)]
        if not survivors:
            return
        for survivor in survivors:
            with contextlib.suppress(ProcessLookupError):
                os.kill(survivor, signal.SIGKILL)
        time.sleep(0.01)


def _reap() -> None:
    """Collect every finished child (we are their subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _left_by(process: int, child: int, uid: int | None) -> bool:
    process_uid, session = p_uid_sid(process)
    return session == child or (uid is not None and process_uid == uid)


def _processes() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def p_uid_sid(pid: int) -> tuple[int | None, int | None]:
    """(real uid, session id) of a process, or Nones if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            uid = next(int(line.split()[1]) for line in status if line.startswith("Uid:"))
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return uid, int(fields[3])
    except (OSError, StopIteration, IndexError, ValueError):
        return None, None


# --- the child: isolation ---------------------------------------------------------------------


def _libc_call(name: str, *args: Any) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}: {os.strerror(errno)}")


# Never covered, whatever the grader's folders are: the system itself.
SYSTEM_FOLDERS = {"/", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/var", "/opt",
                  "/proc", "/sys", "/dev", "/run"}
# Replaced by fresh, empty folders, so nothing written there outlives the submission or is
# seen by the next one.
FRESH_TEMP_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm")


def _python_paths() -> set[str]:
    """The folders Python needs to import anything: its prefixes and their library folders
    (not every ``sys.path`` entry: an editable install's project folder is not needed)."""
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix)}
    paths = set(prefixes) | {os.path.dirname(os.path.realpath(sys.executable))}
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if real and os.path.exists(real) and any(real.startswith(p + os.sep) for p in prefixes):
            paths.add(real)
    return paths


def _private_python_folders() -> dict[str, set[str]]:
    """Folders others may not enter on the way to Python's files, each with the paths under
    it that Python needs (``{"/root": {"/root/.pyenv/versions/3.11.7", ...}}``)."""
    blocked: dict[str, set[str]] = {}
    for path in _python_paths():
        parts = path.split(os.sep)
        for depth in range(2, len(parts)):
            folder = os.sep.join(parts[:depth])
            if not os.stat(folder).st_mode & 0o001:
                blocked.setdefault(folder, set()).add(path)
                break
    return blocked


def _cover(folder: str, *, keep: set[str], options: str) -> None:
    """Mount an empty tmpfs over ``folder``, then bind the ``keep`` paths under it back.

    The kept paths are opened before the cover and bound from ``/proc/self/fd``, which still
    reaches them once the folder above is covered: no staging folder is needed.
    """
    outermost = {p for p in keep if not any(p.startswith(q + os.sep) for q in keep)}
    handles = {path: os.open(path, os.O_PATH) for path in sorted(outermost)
               if os.path.exists(path)}
    _libc_call("mount", b"tmpfs", folder.encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
               options.encode())
    for path, handle in handles.items():
        if os.path.isdir(f"/proc/self/fd/{handle}"):
            os.makedirs(path, mode=0o711, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), mode=0o711, exist_ok=True)
            open(path, "w").close()
        _libc_call("mount", f"/proc/self/fd/{handle}".encode(), path.encode(), None,
                   MS_BIND | MS_REC, None)
        os.close(handle)


def _build_filesystem_view(job: Job) -> None:
    """In the child's own mount namespace (nothing here is seen outside it): hide the
    grader's folders, give fresh temporary folders, and make everything else read-only.

    What stays visible and writable is the scratch folder; Python's own folders stay
    readable even when they live under a private home such as /root.
    """
    _libc_call("mount", None, b"/", None, MS_REC | MS_PRIVATE, None)
    scratch = os.path.realpath(job.scratch)
    needed = _python_paths() | {scratch}  # whatever is covered, these stay reachable

    def under(folder: str) -> set[str]:
        return {p for p in needed if p.startswith(folder + os.sep)}

    covers: dict[str, str] = {}  # folder -> tmpfs options
    for folder in {os.path.realpath(p) for p in job.hide_paths if os.path.isdir(p)}:
        if folder not in SYSTEM_FOLDERS:
            covers[folder] = "size=64k,mode=711" if under(folder) else "size=4k,mode=000"
    for folder in _private_python_folders():
        covers[folder] = "size=64k,mode=711"
    for folder in FRESH_TEMP_FOLDERS:
        if os.path.isdir(folder):
            covers[folder] = f"size={job.limits.max_file_mb}m,mode=1777"
    covered: list[str] = []
    for folder in sorted(covers, key=lambda f: f.count(os.sep)):
        if any(folder.startswith(c + os.sep) for c in covered):
            continue  # already inside a covered folder: hidden, but for what is needed
        _cover(folder, keep=under(folder), options=covers[folder])
        covered.append(folder)

    # Read-only: everything but the scratch folder, the fresh temporary folders and the
    # kernel's own (/proc, /sys, /dev). Python's folders too, wherever they were bound back.
    with open("/proc/self/mountinfo") as mountinfo:
        mounts = [line.split()[4] for line in mountinfo]
    for mount in mounts:
        if mount == scratch or mount in FRESH_TEMP_FOLDERS:
            continue
        if mount not in needed and any(mount == k or mount.startswith(k + os.sep)
                                       for k in ("/proc", "/sys", "/dev")):
            continue
        with contextlib.suppress(OSError):  # best effort: some mounts refuse a remount
            _libc_call("mount", None, mount.encode(), None,
                       MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None)


def _isolate(job: Job, keep_fd: int) -> list[str]:
    """Cut the child off; return notes on protections that could not be applied."""
    notes: list[str] = []
    os.setsid()
    # Only the result channel stays open: not the zygote's control socket, not its stdio.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.closerange(3, keep_fd)
    os.closerange(keep_fd + 1, 65536)
    os.set_inheritable(keep_fd, False)

    uid = _sandbox_uid(job)
    if uid is not None:
        try:
            _libc_call("unshare", CLONE_NEWNS | CLONE_NEWNET)
        except OSError as error:  # root without CAP_SYS_ADMIN (e.g. a Docker CI runner)
            notes.append(f"network and folders not isolated (unshare: {os.strerror(error.errno)}; "
                         "grant CAP_SYS_ADMIN to enable)")
            if _private_python_folders():
                notes.append("student code kept the grader's uid: Python lives in a private "
                             "folder that only mounts could expose")
                uid = None
        else:
            _build_filesystem_view(job)
    else:
        try:  # without root: a user namespace gives us network and mount namespaces
            real_uid, real_gid = os.getuid(), os.getgid()
            _libc_call("unshare", CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET)
            for name, text in (("setgroups", "deny"), ("uid_map", f"{real_uid} {real_uid} 1"),
                               ("gid_map", f"{real_gid} {real_gid} 1")):
                with open(f"/proc/self/{name}", "w") as handle:
                    handle.write(text)
        except OSError as error:
            notes.append(f"network not isolated ({error.strerror})")

    limits = job.limits
    vm_kb = int(next(line.split()[1] for line in open("/proc/self/status")
                     if line.startswith("VmSize:")))
    address_space = vm_kb * 1024 + limits.memory_mb * 1024 * 1024
    for which, value in (
        (resource.RLIMIT_AS, address_space),
        (resource.RLIMIT_CPU, int(limits.submission_seconds) + 5),
        (resource.RLIMIT_FSIZE, limits.max_file_mb * 1024 * 1024),
        (resource.RLIMIT_NOFILE, 256),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NPROC, limits.max_processes),
    ):
        resource.setrlimit(which, (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-big write fails instead of killing

    if uid is not None:
        os.chown(job.scratch, uid, uid)
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    os.chdir(job.scratch)
    os.environ.update(HOME=job.scratch, TMPDIR=job.scratch, OMP_NUM_THREADS="1",
                      MKL_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONHASHSEED="0")
    return notes


# --- the child: running cells and tests -----------------------------------------------------


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


class _NoOpGrader:
    """Stands in for otter's ``grader`` while grading: checks run once, by us, at the end."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def is_otter_cell(source: str) -> bool:
    """The cells otter assign adds (init, check, export) are not the student's work."""
    lines = [ln.strip() for ln in source.splitlines() if ln.strip() and
             not ln.strip().startswith("#")]
    if not lines:
        return False
    if source.lstrip().startswith("# Initialize Otter"):
        return True
    return all(ln.startswith(("grader.check", "grader.export")) for ln in lines)


def _watched_namespaces() -> dict[str, tuple[Any, bool]]:
    """What a cheat would patch, by label: (namespace, strict). For classes (strict), a new
    attribute counts too, since it shadows an inherited method (``Tensor.__eq__`` lives on
    ``TensorBase``); modules gain attributes legitimately (lazy submodules)."""
    import builtins
    import inspect
    import json
    import math
    import random

    import numpy
    import numpy.random
    import numpy.testing
    import torch
    import torch.cuda
    import torch.nn
    import torch.nn.functional
    import torch.random
    import torch.testing

    import autograder.checks

    modules = {
        "builtins": builtins, "math": math, "random": random, "inspect": inspect, "json": json,
        "socket": socket, "os": os, "numpy": numpy, "numpy.random": numpy.random,
        "numpy.testing": numpy.testing, "torch": torch, "torch.nn.functional":
        torch.nn.functional, "torch.testing": torch.testing, "torch.cuda": torch.cuda,
        "torch.random": torch.random, "autograder.checks": autograder.checks,
        "the sandbox runner": _THIS_MODULE,
    }
    classes = {
        "numpy.ndarray": numpy.ndarray, "torch.Tensor": torch.Tensor,
        "torch.TensorBase": torch._C.TensorBase, "torch.nn.Module": torch.nn.Module,
        "torch.nn.Parameter": torch.nn.Parameter, "socket.socket": socket.socket,
    }
    return {**{k: (v, False) for k, v in modules.items()},
            **{k: (v, True) for k, v in classes.items()}}


def _fingerprint(value: Any) -> tuple[int, ...]:
    # A Python function can be changed in place through __code__; include it.
    code = getattr(value, "__code__", None)
    defaults = getattr(value, "__defaults__", None)
    return (id(value), id(code), id(defaults)) if code is not None else (id(value),)


Snapshot = dict[str, dict[str, tuple[int, ...]]]
# Attributes Python itself caches on a class (copy/pickle), not a student's doing.
CACHED_BY_PYTHON = frozenset({"__slotnames__"})


def integrity_snapshot() -> Snapshot:
    snapshot: Snapshot = {}
    watched = _watched_namespaces()
    for label, (namespace, _) in watched.items():
        items = vars(namespace)
        snapshot[label] = {name: _fingerprint(value) for name, value in list(items.items())}
    snapshot["sys.modules"] = {name: (id(sys.modules.get(name)),)
                               for name in watched if name in sys.modules}
    return snapshot


def integrity_changes(before: Snapshot) -> list[str]:
    """What student code replaced, deleted (or, on classes, added) since ``before``."""
    after = integrity_snapshot()
    strict = {label for label, (_, is_class) in _watched_namespaces().items() if is_class}
    changes = []
    for label, names in before.items():
        now = after.get(label, {})
        for name, fingerprint in names.items():
            if name not in now:
                changes.append(f"{label}.{name} was deleted")
            elif now[name] != fingerprint:
                changes.append(f"{label}.{name} was replaced")
        if label in strict:
            changes += [f"{label}.{name} was added" for name in now
                        if name not in names and name not in CACHED_BY_PYTHON]
    return changes


def _run_cells(shell: Any, job: Job, channel: socket.socket) -> list[str]:
    errors = []
    for index, source in enumerate(job.cells):
        if is_otter_cell(source):
            continue
        send_message(channel, {"type": "cell", "index": index})
        result = shell.run_cell(source, store_history=True)
        error = result.error_before_exec or result.error_in_exec
        if error is not None:
            first = source.strip().splitlines()[0][:60] if source.strip() else ""
            errors.append(f"cell {index} ({first!r}) raised {type(error).__name__}: "
                          f"{str(error)[:300]}")
    return errors


def _run_check(function: Callable[..., Any], namespace: dict[str, Any]) -> tuple[str, str]:
    import inspect

    from autograder.checks import CheckSkipped

    params = list(inspect.signature(function).parameters)
    kwargs = {p: (namespace if p == "env" else namespace.get(p)) for p in params}
    try:
        function(**kwargs)
    except CheckSkipped as skip:
        return "skipped", skip.reason
    except AssertionError as error:
        return "failed", str(error) or "a check failed"
    except BaseException as error:  # noqa: BLE001 - a student function may raise anything
        if isinstance(error, KeyboardInterrupt | SystemExit | GeneratorExit):
            return "failed", f"the code called stopped the test ({type(error).__name__})"
        return "failed", f"{type(error).__name__}: {str(error)[:500]}"
    return "passed", ""


def _run_tests(tests: dict[str, Any], namespace: dict[str, Any]) -> list[dict[str, Any]]:
    """Run every check of every question; each question's module runs in its own namespace."""
    import builtins

    results = []
    for question in tests["questions"]:
        module_ns: dict[str, Any] = {"__builtins__": builtins, "__name__": question["name"]}
        checks = []
        # The source leaves the message as it is compiled: a student function called by a
        # test that walks up the stack finds no test text here.
        source = question.pop("module")
        try:
            code = compile(source, f"<tests {question['name']}>", "exec")
            del source
            exec(code, module_ns)
            load_error = ""
        except BaseException as error:  # noqa: BLE001
            load_error = f"{type(error).__name__}: {error}"
        for check in question["checks"]:
            function = module_ns.get(check["name"])
            if load_error or not callable(function):
                outcome, message = "failed", f"test could not be loaded ({load_error})"
            else:
                outcome, message = _run_check(function, namespace)
            checks.append({"name": check["name"], "outcome": outcome, "message": message})
        results.append({"name": question["name"], "checks": checks})
    return results


def _other_threads() -> int:
    """Threads besides this one, counted by the kernel (also those Python does not know)."""
    return len(os.listdir("/proc/self/task")) - 1


def _child(job: Job, channel_fd: int, ctrl_fd: int, shell: Any) -> None:
    """Runs in the forked child. Never returns."""
    try:
        os.close(ctrl_fd)
        channel = socket.socket(fileno=channel_fd)
        notes = _isolate(job, channel_fd)
        _grade_in_child(job, channel, shell, notes)
    except BaseException as error:  # noqa: BLE001 - report, then die
        try:
            send_message(channel, {"type": "error",
                                   "message": f"{type(error).__name__}: {error}"})
        except Exception:  # noqa: BLE001
            pass
    finally:
        os._exit(0)


def _grade_in_child(job: Job, channel: socket.socket, shell: Any, notes: list[str]) -> None:
    import random

    import numpy
    import torch

    import autograder.checks

    autograder.checks.SKIPS_ARE_REPORTED = True
    random.seed(job.seed)
    numpy.random.seed(job.seed)
    torch.manual_seed(job.seed)
    namespace = shell.user_ns
    namespace["grader"] = _NoOpGrader()
    # Local references: a student who replaces this module's functions afterwards does not
    # change what runs here.
    check_integrity, run_tests = integrity_changes, _run_tests
    send, receive = send_message, recv_message
    threads_before = _other_threads()
    before = integrity_snapshot()

    out = CappedText(job.limits.max_output_bytes)
    real_stdout, real_stderr = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    try:
        cell_errors = _run_cells(shell, job, channel)
    finally:
        sys.stdout, sys.stderr = real_stdout, real_stderr

    # Anything still running now could interfere with the tests: refuse to trust them.
    deadline = time.monotonic() + 1.0
    while _other_threads() > threads_before and time.monotonic() < deadline:
        time.sleep(0.05)
    threads = _other_threads() - threads_before
    send(channel, {"type": "cells_done", "errors": cell_errors, "notes": notes,
                   "log": out.getvalue()})
    tests = receive(channel)
    tampering = check_integrity(before)
    if threads > 0:
        tampering.append(f"student code left {threads} thread(s) running")
    results = [] if tampering else run_tests(tests, namespace)
    tampering += [c for c in check_integrity(before) if c not in tampering]
    send(channel, {"type": "result", "nonce": tests["nonce"], "questions": results,
                   "tampering": tampering})


if __name__ == "__main__":
    main(int(sys.argv[1]))
