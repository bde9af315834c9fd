"""The worker (zygote) and the isolated, bounded process that runs one submission.

Per submission, three processes and one trust boundary:

- the **zygote** (this module's ``main``, trusted, one per worker: it never runs student code
  and never holds a test) imports torch, numpy and IPython once, then forks two children;
- the **student's process** (untrusted from the moment student code runs) isolates itself
  (new session, no network, hidden paths, resource limits, an unprivileged uid when started as
  root), then runs the notebook and answers requests (``autograder.grading.untrusted.runner``);
- the **judge** (trusted, ``autograder.grading.judge``) gets the tests from the grader over its own
  channel, asks the student's process what it needs, and sends the grader the verdicts.

The student's process is forked before the judge exists and before any test reaches this
machine's memory, and it keeps only its end of the channel to the judge.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any

from autograder.bundle import COMPILER_CONFIG, SYMBOLIC_SHAPES
from autograder.grading import isolation, wire
from autograder.grading.job import JOB_MARK, JOB_MAX_BYTES, Job
from autograder.kit.compiler_on_demand import defer_compiler_import
from autograder.kit.notebook_shell import new_shell

# Each worker's child runs as its own uid (when the grader is root), so one worker's
# kill-everything-of-my-uid sweep never touches another's, and RLIMIT_NPROC is per worker.
SANDBOX_UID_BASE = 61000
# The judge drops root too, to a uid of its own per slot: it works in a folder the student's
# process can write to (tests hand it paths), so it must not be able to write anything else.
JUDGE_UID_BASE = 62000

PR_SET_CHILD_SUBREAPER = 36

# Modules a course's notebooks and tests may use that cost seconds to import, warmed by a
# worker that serves any bundle (``Bundle.warm_modules`` picks an assignment's own).
OPTIONAL_WARM_MODULES = ("sklearn.datasets", "sklearn.model_selection", SYMBOLIC_SHAPES,
                         COMPILER_CONFIG)


# What the student's process keeps of the grader's environment: the language, the time zone,
# which GPUs it may use, and where Python finds the engine's packages (a spawned interpreter
# needs them). Everything else is dropped.
STUDENT_ENVIRONMENT_KEPT = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONPATH",
                            "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES")
STUDENT_PATH = os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin",
                                "/bin"])
# --- the zygote -------------------------------------------------------------------------------


def _prepare_interpreter(warm: tuple[str, ...] | None = None) -> Any:
    """Import what every submission needs, once, and build the IPython shell children reuse.
    ``warm``: the other modules this assignment uses (``Bundle.warm_modules``), imported here
    too so that each submission's two processes find them ready; None: every module an
    assignment of this course may use (a worker that serves any bundle)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import numpy  # noqa: F401
    import torch

    torch.set_num_threads(1)  # one thread per worker: deterministic, no oversubscription
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    # Imported here, once per worker, so that every submission's two processes start warm.
    import torch.nn  # noqa: F401
    import torch.optim  # noqa: F401
    import torch.testing  # noqa: F401
    import torch.utils.data  # noqa: F401

    # torch's compiler front end waits until a student compiles something: a second or two of
    # CPU that every optimizer would otherwise pay, in every worker and every cold grade.
    defer_compiler_import()
    # Seconds each: a cold start (one submission: Gradescope) pays only for what it uses.
    for name in OPTIONAL_WARM_MODULES if warm is None else warm:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S110 - not installed, or broken: the code that
            pass  # needs it will say so where it imports it
    try:
        import tqdm

        tqdm.tqdm.monitor_interval = 0  # no monitor thread left running after a progress bar
    except ImportError:
        pass
    import unittest.mock  # noqa: F401  - what the tests and the judge use, warm in both

    import cloudpickle  # noqa: F401
    import torch.overrides  # noqa: F401

    import autograder.grading.judge  # noqa: F401
    import autograder.grading.untrusted.runner  # noqa: F401
    import autograder.kit.checks  # noqa: F401

    shell = new_shell()  # the shell validate runs notebooks in too
    # Warm the paths every submission takes (IPython's cell compiler, torch's first ops, the
    # meta device), so each forked child inherits them ready instead of paying again; a
    # module's forward there too where the assignment builds models. A forward on meta imports
    # sympy and torch's symbolic shapes, so only then (a cold 01 saves a third of a second).
    warm_up = ("import torch\n_ = (torch.ones(2, 2) @ torch.ones(2, 2)).sum().item()\n"
               "_ = torch.ones(1, 2).to('meta')\n")
    if SYMBOLIC_SHAPES in sys.modules:
        warm_up += "_ = torch.nn.Linear(2, 2).to('meta')(torch.ones(1, 2, device='meta'))\n"
    shell.run_cell(warm_up, store_history=True)
    shell.reset(new_session=False)
    return shell


def main(ctrl_fd: int, warm: tuple[str, ...] | None = None) -> None:
    """Zygote loop: receive a job and the judge's channel to the grader, fork the student's
    process and the judge, report their exit."""
    ctrl = socket.socket(fileno=ctrl_fd)
    # Orphans of a submission (double forks) become our children, so we can reap them:
    # zombies left over would count against the next submission's process cap.
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    worker = isolation.enter_worker_namespace()  # before torch starts any thread
    shell = _prepare_interpreter(warm)
    isolation.python_paths()  # once, here: every submission's view is built from it
    isolation.compiled_seccomp_filter()  # and its filter
    wire.send(ctrl, {"type": "ready"})
    while True:
        try:
            raw, fds, _, _ = socket.recv_fds(ctrl, len(JOB_MARK), 1)
            job = Job.from_json(wire.receive(ctrl, limit=JOB_MAX_BYTES).header) \
                if raw == JOB_MARK and fds else None
        except (OSError, wire.WireError):
            job = None
        if job is None:
            # The grader closed the control channel: done. No interpreter shutdown (seconds
            # of torch's clean-up), nothing of ours is left to flush.
            os._exit(0)
        wire.send(ctrl, {"type": "exited", **_run_submission(job, fds[0], ctrl, shell, worker)})


def _run_submission(job: Job, grader_fd: int, ctrl: socket.socket, shell: Any,
                    worker: isolation.WorkerNamespace) -> dict[str, Any]:
    """Fork the student's process (two, when the tests ask for a fresh run) and the judge for
    one job; wait for them; clean up."""
    students = [_fork_student(job, shell, worker)]
    fresh_job = job.fresh_job()
    if fresh_job is not None:
        students.append(_fork_student(fresh_job, shell, worker))
    judge = os.fork()
    if judge == 0:
        ctrl.close()
        for student in students:
            os.close(student.report)
        _judge_child(job, students[0].channel, socket.socket(fileno=grader_fd),
                     [s.pid for s in students],
                     students[1].channel if len(students) > 1 else None)
    for student in students:
        student.channel.close()
    os.close(grader_fd)
    wire.send(ctrl, {"type": "started", "pid": students[0].pid, "judge": judge,
                     "isolation": _isolation_level(job, worker)})
    _, _, judge_usage = os.wait4(judge, 0)
    # The judge has spoken (or died): nothing the student's processes do matters any more.
    # Killing the first process of a PID namespace ends every process in it.
    for student in students:
        for kill in (os.kill, os.killpg):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(student.pid, signal.SIGKILL)
    # Every student's process is waited for before any sweep: a sweep reaps whatever ended.
    ended = [os.wait4(student.pid, 0) for student in students]  # usage: with what it reaped
    jobs = [job] if fresh_job is None else [job, fresh_job]
    [(status, disk_full), *_] = [_collect(student, exit_status, student_job, worker)
                                 for student, (_, exit_status, _), student_job
                                 in zip(students, ended, jobs, strict=True)]
    usage = ended[0][2]
    return {"status": _describe_status(status), "max_rss_kb": usage.ru_maxrss,
            "judge_max_rss_kb": judge_usage.ru_maxrss, "disk_full": disk_full}


@dataclass(frozen=True)
class _Student:
    pid: int  # the first process of its PID namespace (or the student's process itself)
    channel: socket.socket  # the judge's end
    report: int  # read end: the student's process's exit status, from the first process


def _fork_student(job: Job, shell: Any, worker: isolation.WorkerNamespace) -> _Student:
    """Mount the job's box and fork a student's process for it (see ``_student_child``)."""
    isolation.mount_box(job.box, job.limits.disk_mb, _student_uid(job, worker),
                        _judge_uid(job), mounts=worker.mounts)
    judge_end, student_end = socket.socketpair()
    report_read, report_write = os.pipe()
    # The child is born as the first process of a PID namespace of its own; the judge and
    # later submissions are born here again.
    in_pid_namespace = worker.mounts and isolation.next_child_in_new_pid_namespace(worker)
    child = os.fork()
    if child == 0:
        os.close(report_read)
        judge_end.close()
        _student_child(job, student_end.detach(), report_write, shell, worker,
                       in_pid_namespace)  # never returns
    if in_pid_namespace:
        isolation.next_child_in_this_pid_namespace(worker)
    student_end.close()
    os.close(report_write)
    return _Student(child, judge_end, report_read)


def _collect(student: _Student, status: int, job: Job, worker: isolation.WorkerNamespace
             ) -> tuple[int, bool]:
    """After a student's process ended: sweep what it left and release its box. (Its exit
    status, as its PID namespace's first process reported it; whether it filled its box.)"""
    with os.fdopen(student.report, "rb") as report:
        reported = report.read().strip()  # the student's process's status, from the first
    status = int(reported) if reported.isdigit() else status
    _sweep(job, student.pid)
    return status, isolation.release_box(job.box, mounts=worker.mounts)


def _judge_child(job: Job, channel: socket.socket, grader: socket.socket, students: list[int],
                 fresh_channel: socket.socket | None) -> None:
    """Runs in the forked judge. Never returns."""
    try:
        _drop_judge_privileges(job)
        # The judge is bounded like the student's process: what it decodes from replies
        # cannot take the machine's memory, nor its work the CPU, past the submission's share.
        isolation.apply_resource_limits(job.limits.memory_mb, int(job.limits.submission_seconds)
                                        + 10, job.limits.max_file_mb, max_processes=0)
        from autograder.grading import judge

        judge.serve(job, channel, grader, students, fresh_channel)
    finally:
        os._exit(0)


def _drop_judge_privileges(job: Job) -> None:
    """As root: become the slot's judge uid, keeping Python's files readable (a mount
    namespace of the judge's own shows them under a private home such as /root). Where that
    cannot be arranged (no CAP_SYS_ADMIN) the student's process kept the grader's uid too."""
    if os.geteuid() != 0:
        return
    blocked = _private_python_folders()
    if blocked:
        try:
            isolation.unshare(isolation.CLONE_NEWNS)
            isolation.libc_call("mount", None, b"/", None,
                                ctypes.c_ulong(isolation.MS_REC | isolation.MS_PRIVATE), None)
            for folder, keep in sorted(blocked.items()):
                _cover(folder, keep=keep, options="size=64k,mode=711")
        except OSError:
            return
    uid = JUDGE_UID_BASE + job.slot
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def _describe_status(status: int) -> dict[str, Any]:
    if os.WIFSIGNALED(status):
        return {"signal": signal.Signals(os.WTERMSIG(status)).name}
    return {"exit_code": os.WEXITSTATUS(status)}


def _isolation_level(job: Job, worker: isolation.WorkerNamespace) -> str:
    """The grader's own record of the sandbox this worker gives a submission (what the CI
    summary reports), never read from what a submission's process says."""
    own_uid = _student_uid(job, worker) is not None
    if worker.mounts:
        return "full" if own_uid else "no-uid"
    return "no-namespaces" if own_uid else "none"


def _judge_uid(job: Job) -> int | None:
    return JUDGE_UID_BASE + job.slot if os.geteuid() == 0 else None


def _sandbox_uid(job: Job) -> int | None:
    return SANDBOX_UID_BASE + job.slot if os.geteuid() == 0 else None


def _student_uid(job: Job, worker: isolation.WorkerNamespace) -> int | None:
    """The uid student code runs as: the slot's sandbox uid, unless the grader is not root,
    or Python lives in a private folder and no view can expose it (then the grader's)."""
    uid = _sandbox_uid(job)
    if uid is not None and not worker.mounts and _private_python_folders():
        return None
    return uid


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


def _private_python_folders() -> dict[str, set[str]]:
    """Folders others may not enter on the way to Python's files, each with the paths under
    it that Python needs (``{"/root": {"/root/.pyenv/versions/3.11.7", ...}}``)."""
    blocked: dict[str, set[str]] = {}
    for path in isolation.python_paths():
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
    isolation.libc_call("mount", b"tmpfs", folder.encode(), b"tmpfs",
                        ctypes.c_ulong(isolation.MS_NOSUID | isolation.MS_NODEV),
                        options.encode())
    for path, handle in handles.items():
        if os.path.isdir(f"/proc/self/fd/{handle}"):
            os.makedirs(path, mode=0o711, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), mode=0o711, exist_ok=True)
            open(path, "w").close()
        isolation.libc_call("mount", f"/proc/self/fd/{handle}".encode(), path.encode(), None,
                            ctypes.c_ulong(isolation.MS_BIND | isolation.MS_REC), None)
        os.close(handle)


def _reap_as_first_process(student: int, report_fd: int) -> None:
    """The PID namespace's first process: reap whatever ends (orphans come here), and when
    the student's process ends, report its exit status and end the namespace."""
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(0)
        except InterruptedError:
            continue
        if pid == student:
            with contextlib.suppress(OSError):
                os.write(report_fd, f"{status}\n".encode())
            os._exit(0)


def _isolate(job: Job, keep_fd: int, report_fd: int, worker: isolation.WorkerNamespace,
             in_pid_namespace: bool) -> list[str]:
    """Cut the child off; return notes on protections that could not be applied.

    In a PID namespace of its own, the child is its first process: it builds the view, forks
    the student's process (this function returns there, in an ordinary process: a signal it
    sends itself works), then only reaps; when it ends, every process of the namespace ends.
    Through ``report_fd`` it tells the zygote the student's process's exit status."""
    notes = [worker.note] if worker.note else []
    os.setsid()
    # Only the result channel stays open: not the zygote's control socket, not its stdio.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    low = 3
    for fd in sorted((keep_fd, report_fd)):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 65536)
    os.set_inheritable(keep_fd, False)

    uid = _sandbox_uid(job)
    limits = job.limits
    if worker.mounts and not in_pid_namespace and isolation.next_child_in_new_pid_namespace():
        first = os.fork()  # without root: this child makes the PID namespace, and waits
        if first:
            os.close(keep_fd)
            os.close(report_fd)
            os.waitpid(first, 0)  # the zygote kills it with this process group
            os._exit(0)
        in_pid_namespace = True
    view = in_pid_namespace
    if view:
        try:
            isolation.enter_submission_namespaces()
            isolation.build_view(job.box, uid)
            notes += isolation.limit_ipc(limits.memory_mb)
        except OSError as error:  # the zygote could, so this should not happen: say so
            notes.append(f"no private namespaces or filesystem view ({error.strerror})")
            view = False
    if view:
        student = os.fork()
        if student:
            os.close(keep_fd)  # only the student's process may hold the channel: when it
            # ends, the judge must see the channel close
            _reap_as_first_process(student, report_fd)  # never returns
    elif worker.mounts:
        notes.append("no private PID namespace")
    os.close(report_fd)
    if not view and uid is not None and _student_uid(job, worker) is None:
        notes.append("student code kept the grader's uid (without its capabilities): "
                     "Python lives in a private folder that only mounts could expose")
        uid = None

    isolation.apply_resource_limits(limits.memory_mb, int(limits.submission_seconds) + 5,
                                    limits.max_file_mb, limits.max_processes)
    isolation.drop_privileges(uid)
    readable, writable = isolation.allowed_paths(job.box, view=view)
    for note in (isolation.restrict_with_landlock(readable, writable),
                 isolation.load_seccomp_filter()):
        if note:
            notes.append(note)
    os.chdir(job.scratch)
    tmp = os.path.join(job.box, isolation.TMP)
    # An environment of its own, from an allow-list: never the grader's (a CI token, cloud
    # credentials, the grader's paths). Cleared through os.environ, so the C library's copy
    # (what a subprocess inherits) is cleared too.
    kept = {key: os.environ[key] for key in STUDENT_ENVIRONMENT_KEPT if key in os.environ}
    os.environ.clear()
    os.environ.update(kept, PATH=STUDENT_PATH, HOME=job.scratch, TMPDIR=tmp, USER="student",
                      LOGNAME="student", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                      MPLBACKEND="Agg", PYTHONHASHSEED="0")
    return notes


# --- the student's process ------------------------------------------------------------


def _student_child(job: Job, channel_fd: int, report_fd: int, shell: Any,
                   worker: isolation.WorkerNamespace, in_pid_namespace: bool) -> None:
    """Runs in the forked student's process. Never returns."""
    channel = socket.socket(fileno=channel_fd)
    try:
        notes = _isolate(job, channel_fd, report_fd, worker, in_pid_namespace)
        import random

        import numpy
        import torch

        from autograder.grading.untrusted import runner

        random.seed(job.seed)
        numpy.random.seed(job.seed)
        torch.manual_seed(job.seed)
        plan = runner.Plan(cells=job.cells, checkpoints=job.checkpoints,
                           max_output_bytes=job.limits.max_output_bytes,
                           cell_positions=job.cell_positions)
        runner.serve(shell, channel, plan, notes)
    except BaseException:  # noqa: BLE001 - the judge sees the channel close
        pass
    finally:
        os._exit(0)


if __name__ == "__main__":
    # argv: the control channel's descriptor, then the modules to warm ("-": all of them).
    main(int(sys.argv[1]), None if sys.argv[2:] == ["-"] or len(sys.argv) < 3
         else tuple(filter(None, sys.argv[2].split(","))))
