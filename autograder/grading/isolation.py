"""Confinement of the student's process: what it can see, reach and use.

Applied in the child forked for one submission, before any student code runs. The layers
stand on their own, so a grader that lacks one (no root, root without CAP_SYS_ADMIN, an older
kernel, no libseccomp) keeps the others, and every row names what was off:

1. **Namespaces**: mount, network, IPC and PID. The student's process is PID 1 of its own PID
   namespace: ``/proc`` shows only its own processes, and when it ends the kernel ends all it
   started. SysV and POSIX IPC live and die with the submission.
2. **An allow-list view** of the filesystem (``pivot_root`` into a fresh root): read-only binds
   of what Python and the installed packages need, the submission's **box** (its working
   folder, the judge's folder (read-only to it), ``/tmp`` and ``/dev/shm``, all on one tmpfs of
   ``--disk-mb``), a minimal ``/dev`` and a ``/proc`` of its own. Nothing else of the host
   exists there: sibling folders, host sockets and other submissions are absent by
   construction, not by a list of what to hide.
3. **Resource limits, an unprivileged uid, no capabilities, no_new_privs.**
4. **Landlock** (where the kernel has it): reads limited to the same allow-list, writes to the
   box, no TCP, no signals or abstract sockets beyond the submission. A second layer under
   the view, and the only filesystem layer where mounts are refused.
5. **seccomp** (libseccomp, through ``pyseccomp``): system calls grading never needs fail
   with EPERM (ptrace, mount, namespaces, bpf, keys, perf, io_uring, kernel modules, ...),
   and sockets other than UNIX ones with EAFNOSUPPORT.

The zygote (the trusted worker) calls ``enter_worker_namespace`` once and ``mount_box`` /
``release_box`` around each submission; the rest runs in the child.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import platform
import resource
import signal
import socket
import sys
import tempfile
from dataclasses import dataclass

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
NAMESPACE_FLAGS = (0x00000080, CLONE_NEWNS, 0x02000000, 0x04000000, CLONE_NEWIPC,
                   CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET)  # + cgroup, uts, time
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_BIND, MS_REC = 0x20, 0x1000, 0x4000
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 0x400, 0x800, 1 << 21
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
PR_CAPBSET_DROP = 24
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
SYS_LANDLOCK = {"create_ruleset": 444, "add_rule": 445, "restrict_self": 446}  # all arches

# The box: one tmpfs per submission, mounted by the zygote where both children see it.
WORK, SHARED, TMP, SHM = "work", "work-shared", "tmp", "shm"

# What of the system the view holds, read-only. /etc only in part: the dynamic linker's
# cache, time zone and fonts, not the host's users, keys or configuration.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
ETC_PATHS = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
             "/etc/alternatives", "/etc/fonts")
DEVICES = ("null", "zero", "full", "random", "urandom")
GPU_DEVICE_PREFIXES = ("nvidia", "dri")  # CUDA needs these (and /sys) on a GPU grader


_LIBC = ctypes.CDLL(None, use_errno=True)


def libc_call(name: str, *args: object) -> int:
    result = getattr(_LIBC, name)(*args)
    if result < 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{name}: {os.strerror(error)}")
    return result


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           options: str | None = None) -> None:
    libc_call("mount", source and source.encode(), target.encode(), fstype and fstype.encode(),
              ctypes.c_ulong(flags), options and options.encode())


def unshare(flags: int) -> None:
    libc_call("unshare", flags)


# --- the zygote: a mount namespace of its own, one box per submission ------------------------


# The start of the note every row carries when the worker had no namespaces (for the
# instructor; the CI summary reads the grader's own record, ``SubmissionResult.isolation``).
NO_NAMESPACES = "no private namespaces or filesystem view"


@dataclass(frozen=True)
class WorkerNamespace:
    """What the zygote could arrange for the submissions it forks."""

    mounts: bool  # may mount (the box tmpfs, the children's views)
    note: str | None  # why not, for every row
    pid_namespace_fd: int = -1  # the zygote's own PID namespace, to return to after a fork


def enter_worker_namespace() -> WorkerNamespace:
    """Give the zygote a mount namespace of its own (the boxes it mounts are seen by its
    children only, and vanish with it). Without root, a user namespace grants that. Call before
    any thread starts: a user namespace needs a single-threaded process."""
    try:
        if os.geteuid() == 0:
            unshare(CLONE_NEWNS)
        else:
            uid, gid = os.getuid(), os.getgid()
            unshare(CLONE_NEWUSER | CLONE_NEWNS)
            for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                               ("gid_map", f"{gid} {gid} 1")):
                with open(f"/proc/self/{name}", "w") as handle:
                    handle.write(text)
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
    except OSError as error:
        hint = "grant CAP_SYS_ADMIN" if os.geteuid() == 0 else "allow user namespaces"
        return WorkerNamespace(False, f"{NO_NAMESPACES}, disk use not bounded "
                                      f"({error.strerror}; {hint} to enable)")
    # As root the zygote may return to its own PID namespace after forking a child into a new
    # one; in a user namespace it may not (that namespace belongs to the host's): there the
    # child makes the new one itself, at the cost of one more fork.
    own = os.open("/proc/self/ns/pid", os.O_RDONLY) if os.geteuid() == 0 else -1
    return WorkerNamespace(True, None, own)


def next_child_in_new_pid_namespace(worker: WorkerNamespace | None = None) -> bool:
    """The next process this one forks is the first of a new PID namespace (this process
    itself stays where it is). ``worker``: only if the zygote can come back (as root)."""
    if worker is not None and worker.pid_namespace_fd < 0:
        return False
    try:
        unshare(CLONE_NEWPID)
    except OSError:
        return False
    return True


def next_child_in_this_pid_namespace(worker: WorkerNamespace) -> None:
    """Undo ``next_child_in_new_pid_namespace`` for the forks that follow (the judge)."""
    libc_call("setns", worker.pid_namespace_fd, CLONE_NEWPID)


def mount_box(box: str, disk_mb: int, uid: int | None, judge_uid: int | None, *,
              mounts: bool) -> None:
    """The submission's writable space: one tmpfs of ``disk_mb`` holding its working folder,
    the judge's folder, its /tmp and its /dev/shm, so that together they cannot outgrow the
    limit, and nothing written there reaches the grader's disk. The judge's folder is the
    judge uid's: the student's process reads the files the judge leaves there for it, and
    writes only in a subfolder a check opens to it (``checks.student_folder``)."""
    if mounts:
        _mount("tmpfs", box, "tmpfs", MS_NOSUID | MS_NODEV, f"size={disk_mb}m,mode=711")
    for name, mode in ((WORK, 0o700), (SHARED, 0o755), (TMP, 0o1777), (SHM, 0o1777)):
        path = os.path.join(box, name)
        os.mkdir(path)
        os.chmod(path, mode)  # not left to the umask
    if uid is not None:
        os.chown(os.path.join(box, WORK), uid, uid)
    if judge_uid is not None:
        os.chown(os.path.join(box, SHARED), judge_uid, judge_uid)


def release_box(box: str, *, mounts: bool) -> bool:
    """Unmount the box; whether the submission had filled it."""
    if not mounts:
        return False
    try:
        stats = os.statvfs(box)
        full = stats.f_bavail * stats.f_frsize < 1024 * 1024
    except OSError:
        full = False
    with contextlib.suppress(OSError):
        libc_call("umount2", box.encode(), MNT_DETACH)
    return full


# --- the child: namespaces ---------------------------------------------------------------------


def enter_submission_namespaces() -> None:
    """New mount, network and IPC namespaces (the PID namespace came with the fork)."""
    unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)


def limit_ipc(memory_mb: int) -> list[str]:
    """Bound what SysV IPC may hold in this IPC namespace (its own: the settings and whatever
    is created under them end with it). Shared memory counts against the memory limit. Call
    inside the view: its /proc belongs to the submission's namespaces, so a grader without
    root may set them too."""
    page = os.sysconf("SC_PAGE_SIZE")
    settings = {"kernel/shmmax": memory_mb * 1024 * 1024, "kernel/shmall": memory_mb * 1024
                * 1024 // page, "kernel/shmmni": 64, "kernel/msgmni": 16,
                "kernel/msgmnb": 65536, "kernel/sem": "64 1024 32 16"}
    failed = []
    for name, value in settings.items():
        try:
            with open(f"/proc/sys/{name}", "w") as handle:
                handle.write(str(value))
        except OSError:
            failed.append(name.split("/")[1])
    return [f"SysV IPC limits not set ({', '.join(failed)})"] if failed else []


# --- the child: the allow-list view ---------------------------------------------------------


@functools.cache
def python_paths() -> frozenset[str]:
    """Folders Python needs to import what is installed: its prefixes and library folders,
    every site-packages on ``sys.path``, and the folder of each package already imported from
    elsewhere (an editable install's package, never the project folder around it). Computed
    once per worker, after its imports (the zygote calls it before forking)."""
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    paths = set(prefixes) | {os.path.dirname(os.path.realpath(sys.executable))}
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if real and os.path.isdir(real) and (
                _within(real, prefixes) or os.path.basename(real) in ("site-packages",
                                                                       "dist-packages")):
            paths.add(real)
    for module in list(sys.modules.values()):
        where = getattr(module, "__file__", None)
        if not where or (_within(where, paths) and _within(os.path.realpath(where), paths)):
            continue
        top = sys.modules.get(module.__name__.split(".")[0])
        package = getattr(top, "__path__", None)
        paths.add(os.path.realpath(list(package)[0]) if package else os.path.realpath(where))
    return frozenset(p for p in paths if os.path.exists(p))


def _within(path: str, folders: set[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


def _outermost(paths: frozenset[str]) -> list[str]:
    return sorted(p for p in paths if not _within(p, {q for q in paths if q != p}))


def _bind(source: str, root: str, *, target: str | None = None, writable: bool = False,
          device: bool = False) -> None:
    """Bind ``source`` at ``root + target`` (default: its own path), read-only unless asked,
    keeping the flags the kernel will not let a bind drop (nosuid, noexec, ...)."""
    destination = root + (target or source)
    if os.path.isdir(source):
        os.makedirs(destination, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(destination), mode=0o755, exist_ok=True)
        if not os.path.exists(destination):
            open(destination, "w").close()
    _mount(source, destination, None, MS_BIND)
    stats = os.statvfs(source)
    flags = MS_BIND | MS_REMOUNT | MS_NOSUID | (0 if writable else MS_RDONLY)
    flags |= 0 if device else MS_NODEV
    for st_flag, ms_flag in ((os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
                             (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME),
                             (os.ST_RELATIME, MS_RELATIME)):
        if stats.f_flag & st_flag:
            flags |= ms_flag
    _mount(None, destination, None, flags)


def _write(root: str, path: str, text: str) -> None:
    os.makedirs(os.path.dirname(root + path), mode=0o755, exist_ok=True)
    with open(root + path, "w") as handle:
        handle.write(text)


def build_view(box: str, uid: int | None) -> None:
    """In the submission's own mount namespace, as its PID namespace's first process: build a
    fresh root holding only what is allowed, and make it the root (``pivot_root``)."""
    root = os.path.join(box, ".root")
    os.mkdir(root, 0o755)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            os.symlink(os.readlink(path), root + path)
        elif os.path.isdir(path):
            _bind(path, root)
    for path in ETC_PATHS:
        if os.path.exists(path):
            _bind(os.path.realpath(path), root, target=path)
    name = "student"
    _write(root, "/etc/passwd", f"root:x:0:0::/:/bin/false\n"
                                f"{name}:x:{uid or os.getuid()}:{uid or os.getgid()}::"
                                f"{os.path.join(box, WORK)}:/bin/sh\n")
    _write(root, "/etc/group", f"root:x:0:\n{name}:x:{uid or os.getgid()}:\n")
    _write(root, "/etc/hosts", "127.0.0.1 localhost\n")
    _write(root, "/etc/hostname", "sandbox\n")
    # The box at its own path (the judge hands the student paths in the shared folder), and
    # as /tmp, /var/tmp and /dev/shm.
    _bind(os.path.join(box, TMP), root, target="/tmp", writable=True)
    _bind(os.path.join(box, TMP), root, target="/var/tmp", writable=True)
    _bind(box, root, writable=True)
    os.makedirs(root + "/dev", exist_ok=True)
    _mount("tmpfs", root + "/dev", "tmpfs", MS_NOSUID, "size=64k,mode=755")
    for device in DEVICES:
        _bind(f"/dev/{device}", root, writable=True, device=True)
    gpu = [d for d in sorted(os.listdir("/dev")) if d.startswith(GPU_DEVICE_PREFIXES)]
    for device in gpu:
        _bind(f"/dev/{device}", root, writable=True, device=True)
    _bind(os.path.join(box, SHM), root, target="/dev/shm", writable=True)
    # Python and the installed packages last, over the box's /tmp, /var/tmp and /dev/shm: a
    # grader installed under one of them (a CI workspace, a scratch folder) keeps every module
    # it imports lazily inside student code (torch.utils.serialization, ...).
    for path in _outermost(python_paths()):
        if not _within(path, {*SYSTEM_PATHS, box}):
            _bind(path, root)
    for link, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{root}/dev/{link}")
    _mount(None, root + "/dev", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID)
    if gpu and os.path.isdir("/sys"):
        _bind("/sys", root)  # the CUDA driver reads the PCI topology there
    os.makedirs(root + "/proc", exist_ok=True)
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)

    # The fresh root becomes "/"; the old one is detached, so nothing of it stays reachable.
    os.chdir(root)
    machine = platform.machine()
    if machine not in SYS_PIVOT_ROOT:
        raise OSError(errno.ENOSYS, f"pivot_root: unknown on {machine}")
    libc_call("syscall", ctypes.c_long(SYS_PIVOT_ROOT[machine]), b".", b".")
    libc_call("umount2", b".", MNT_DETACH)
    os.chdir("/")
    _mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


# --- the child: limits, privileges ---------------------------------------------------------


def apply_resource_limits(memory_mb: int, cpu_seconds: int, max_file_mb: int,
                          max_processes: int) -> None:
    """Caps on this process (and what it starts): address space beyond what it maps now, CPU
    seconds, file size, open files; ``max_processes`` 0 leaves the process count alone."""
    vm_kb = int(next(line.split()[1] for line in open("/proc/self/status")
                     if line.startswith("VmSize:")))
    for which, value in (
        (resource.RLIMIT_AS, vm_kb * 1024 + memory_mb * 1024 * 1024),
        (resource.RLIMIT_CPU, cpu_seconds),
        (resource.RLIMIT_FSIZE, max_file_mb * 1024 * 1024),
        (resource.RLIMIT_NOFILE, 256),
        (resource.RLIMIT_CORE, 0),
        *([(resource.RLIMIT_NPROC, max_processes)] if max_processes else []),
        (resource.RLIMIT_MSGQUEUE, 1024 * 1024),
    ):
        hard = resource.getrlimit(which)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-big write fails instead of killing


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_privileges(uid: int | None) -> None:
    """Become ``uid`` (when root), hold no capability whatever the uid (a user namespace
    grants them to a non-root grader too), and never gain one again (no_new_privs)."""
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    for capability in range(64):
        with contextlib.suppress(OSError):
            libc_call("prctl", PR_CAPBSET_DROP, capability, 0, 0, 0)
    none = (_CapData * 2)()
    libc_call("capset", ctypes.byref(_CapHeader(0x20080522, 0)), none)
    libc_call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


# --- the child: Landlock -------------------------------------------------------------------

FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_READ = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
FS_FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | (1 << 14)  # + truncate
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    try:
        return libc_call("syscall", ctypes.c_long(SYS_LANDLOCK["create_ruleset"]), None,
                         ctypes.c_size_t(0), ctypes.c_uint32(1))
    except OSError:
        return 0


def restrict_with_landlock(readable: set[str], writable: set[str]) -> str | None:
    """Allow reading ``readable`` and writing ``writable`` (with what is beneath), nothing else
    of the filesystem; no TCP; no signals or abstract sockets beyond this process's own
    descendants. Returns a note when the kernel cannot."""
    abi = landlock_abi()
    if abi < 1:
        return "second filesystem layer off (no Landlock in this kernel)"
    # Every right the ABI knows but device ioctls (v5): the CUDA driver's are needed.
    fs_all = (1 << 13) - 1 | (1 << 13 if abi >= 2 else 0) | (1 << 14 if abi >= 3 else 0)
    attr = _RulesetAttr(fs_all, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = libc_call("syscall", ctypes.c_long(SYS_LANDLOCK["create_ruleset"]),
                        ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    try:
        for paths, rights in ((readable, FS_READ), (writable, fs_all)):
            for path in sorted(paths):
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    allowed = rights if os.path.isdir(path) else rights & FS_FILE_RIGHTS
                    rule = _PathBeneathAttr(allowed, fd)
                    libc_call("syscall", ctypes.c_long(SYS_LANDLOCK["add_rule"]),
                              ctypes.c_int(ruleset), ctypes.c_int(1), ctypes.byref(rule),
                              ctypes.c_uint32(0))
                finally:
                    os.close(fd)
        libc_call("syscall", ctypes.c_long(SYS_LANDLOCK["restrict_self"]),
                  ctypes.c_int(ruleset), ctypes.c_uint32(0))
    finally:
        os.close(ruleset)
    return None


# --- the child: seccomp --------------------------------------------------------------------

# Refused with EPERM: nothing a notebook does needs them; each is a way out of the sandbox or
# into the kernel's less-trodden code (debugging other processes, mounts, namespaces, eBPF,
# keyrings, perf, io_uring (whose operations bypass this filter), modules, clocks, reboot).
REFUSED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick",
    "move_mount", "open_tree", "mount_setattr", "name_to_handle_at", "open_by_handle_at",
    "unshare", "setns", "bpf", "userfaultfd", "perf_event_open",
    "keyctl", "add_key", "request_key", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "syslog", "acct", "quotactl", "lookup_dcookie", "vhangup",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname",
    "setdomainname", "iopl", "ioperm", "move_pages", "migrate_pages", "personality",
)


class _SockFilterProgram(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


@functools.cache
def compiled_seccomp_filter() -> bytes | None:
    """The filter as a BPF program, compiled once per worker by libseccomp (``pyseccomp``);
    None when libseccomp is missing."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError, RuntimeError):
        return None
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in REFUSED_SYSCALLS:
        with contextlib.suppress(OSError, ValueError, RuntimeError):  # absent on this arch
            rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
    rules.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket",
                   seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
    for flag in NAMESPACE_FLAGS:  # threads and forks yes, new namespaces no
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone",
                       seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    # clone3 passes its flags in memory a filter cannot read: refused as "not implemented",
    # C libraries fall back to clone.
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    with tempfile.TemporaryFile() as program:
        rules.export_bpf(program)
        program.seek(0)
        return program.read()


def load_seccomp_filter() -> str | None:
    """Install the filter (inherited by every process the submission starts; needs
    no_new_privs); a note when libseccomp is missing."""
    program = compiled_seccomp_filter()
    if program is None:
        return "system call filter off (libseccomp not found)"
    fprog = _SockFilterProgram(len(program) // 8, program)  # 8 bytes per BPF instruction
    libc_call("prctl", PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0)
    return None


def allowed_paths(box: str, *, view: bool) -> tuple[set[str], set[str]]:
    """What Landlock lets the student's process read and write. Inside the view, all of it
    may be read (the view is the allow-list); without one, the same list, spelled out."""
    devices = {f"/dev/{d}" for d in DEVICES}
    devices |= {f"/dev/{d}" for d in os.listdir("/dev") if d.startswith(GPU_DEVICE_PREFIXES)}
    if view:
        return {"/"}, {box, "/tmp", "/var/tmp", "/dev/shm", *devices}
    readable = {*SYSTEM_PATHS, *ETC_PATHS, *python_paths(), "/dev", f"/proc/{os.getpid()}"}
    return readable, {box, *devices}
