"""Check helpers that assignment tests import.

Every helper has the same shape: ``assert_xxx(got, expected, *, name=...)`` and raises
``AssertionError`` with one message shape::

    `x` has the wrong shape -- got: (3, 2), expected: (2, 3)

so every question gives the same quality of feedback: which of the three big errors it is
(shape, dtype, device) or which values differ, never the whole expected tensor.

This file is copied unchanged into every student release and autograder bundle, so it may
import only the standard library, numpy, torch and the kit's own ``regular_files``.

Two places run them. In the student's own kernel (``grader.check``) they see real objects.
In the grader's judge (a trusted process where no student code runs) they see what the
student's process sent: tensors and arrays rebuilt from their bytes, plain values, and
*handles* (remote objects) for everything else. A handle is never taken for a class:
``is_instance``, ``is_subclass``, ``type_is`` and ``type_name`` read its reported type instead.
What only the student's process can know (where a tensor's storage lives, a subclass it was)
is a reported fact (``reported_facts``).
"""

from __future__ import annotations

import contextlib
import random
import types
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

import numpy as np
import torch

__all__ = [
    "CheckSkipped",
    "assert_close",
    "assert_device",
    "assert_dtype",
    "assert_equal_state_dicts",
    "assert_raises",
    "assert_shape",
    "assert_shares_memory",
    "assert_tensor",
    "assert_value",
    "call",
    "call_for_value",
    "cuda_available",
    "from_fresh_process",
    "device_type",
    "in_student_process",
    "is_instance",
    "is_subclass",
    "matmul_clock",
    "names_a_missing_gpu",
    "preserved_rng",
    "read_state_dict_file",
    "recorded_calls",
    "reported_facts",
    "seeded",
    "simulated_machine",
    "skip_without_cuda",
    "student_flags",
    "student_folder",
    "student_wrote_file",
    "student_generators",
    "type_is",
    "type_name",
]

#: True in the grader's judge, which reports ``CheckSkipped`` as "skipped" and sends the
#: instruments below along with every call of student code. Under otter's own
#: ``grader.check`` (no notion of a skip; student code in this same process) it stays False.
IN_JUDGE = False
#: In the judge: its session with the student's process (set by the judge), which keeps what
#: that process last reported of its generators and flags (a claim). Tests reach it only
#: through ``student_generators`` and ``student_flags``; the judge never takes that state on
#: as its own.
STUDENT_SESSION: Any = None


class CheckSkipped(BaseException):
    """A check that cannot run on this machine (e.g. it needs CUDA).

    A ``BaseException``, like pytest's ``skip``, so a student's ``except Exception`` inside a
    function the test calls cannot swallow it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- types: real objects and the judge's handles -------------------------------------------

_REPORTED: dict[int, tuple[Any, dict[str, Any]]] = {}


def report_facts(obj: Any, facts: dict[str, Any]) -> None:
    """Record what the student's process reported about a value the judge rebuilt (its storage
    span, a subclass it was). Called by the judge's decoder."""
    key = id(obj)
    _REPORTED[key] = (weakref.ref(obj, lambda _: _REPORTED.pop(key, None)), facts)


def reported_facts(obj: Any) -> dict[str, Any] | None:
    """The facts reported for a value that came from the student's process (None for a value
    made here)."""
    entry = _REPORTED.get(id(obj))
    return entry[1] if entry is not None and entry[0]() is obj else None


def _remote(obj: Any) -> Any:
    """The reported type facts of a judge handle, or None for a real object. Read on the
    class, so nothing is asked of the object itself."""
    info = getattr(type(obj), "_autograder_remote_info", None)
    return info(obj) if info is not None else None


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def type_name(obj: Any) -> str:
    """The name of ``obj``'s type, for messages (a handle: its reported type)."""
    info = _remote(obj)
    if info is not None:
        return info.type_names[0].rsplit(".", 1)[-1] if info.type_names else "object"
    return type(obj).__name__


def is_instance(obj: Any, cls: Any) -> bool:
    """``isinstance`` that also answers for handles, from their reported type (never from a
    ``__class__`` the object claims). ``cls`` may itself be a handle (a student's class)."""
    info, cls_info = _remote(obj), _remote(cls)
    if info is None and cls_info is None:
        return isinstance(obj, cls)
    if info is None:
        return False  # a real object here is never an instance of a student's class
    if cls_info is not None:
        return bool(obj._autograder_ask("isinstance", cls=cls))
    return _qualified(cls) in info.type_names


def type_is(obj: Any, cls: type) -> bool:
    """``type(obj) is cls``, also for handles (their reported type)."""
    info = _remote(obj)
    if info is None:
        return type(obj) is cls
    return bool(info.type_names) and info.type_names[0] == _qualified(cls)


def is_subclass(obj: Any, cls: type) -> bool:
    """Whether ``obj`` is a class deriving from ``cls`` (a student's class: from its reported
    bases)."""
    info = _remote(obj)
    if info is None:
        return isinstance(obj, type) and issubclass(obj, cls)
    return info.is_class and _qualified(cls) in info.class_mro


# --- devices -----------------------------------------------------------------------------


# Whether the machine has CUDA must not follow a simulated machine (``simulated_machine``, a
# test's own ``mock.patch``): taken when this module loads.
_cuda_is_available = torch.cuda.is_available


def cuda_available() -> bool:
    """Whether a CUDA GPU is really present (not what a simulation makes it say)."""
    return bool(_cuda_is_available())


def skip_without_cuda(reason: str = "needs a CUDA GPU, and this machine has none") -> bool:
    """Skip the calling check when there is no CUDA GPU.

    Use as ``if skip_without_cuda(): return`` at the top of a CUDA-only check, which must carry
    0 points. Under the grading engine it raises ``CheckSkipped`` (reported as skipped); under
    the notebook's ``grader.check`` (or otter's) it returns True so the check returns early and
    cannot fail a student on a machine without a GPU. Returns False when CUDA is present.
    """
    if cuda_available():
        return False
    if IN_JUDGE:
        raise CheckSkipped(reason)
    return True


def device_type(obj: Any) -> str:
    """The device type (``"cpu"``, ``"cuda"``, ``"meta"``, ...) of a tensor, module or device.

    A module's device is that of its first parameter (or buffer); a module with neither has no
    device and raises ``AssertionError``.
    """
    return _device_of(obj, "object").type


def _device_of(obj: Any, name: str) -> torch.device:
    if isinstance(obj, torch.Tensor):
        return obj.device
    if isinstance(obj, torch.device):
        return obj
    if isinstance(obj, str):
        try:
            return torch.device(obj)
        except RuntimeError:
            raise AssertionError(f"`{name}` is not a device name -- got: {obj!r}") from None
    if is_instance(obj, torch.nn.Module):
        for tensor in [*obj.parameters(), *obj.buffers()]:
            return tensor.device
        raise AssertionError(f"`{name}` has no parameters, so it is on no device")
    raise AssertionError(
        f"`{name}` should be a tensor, a model or a device -- got: {_describe_type(obj)}"
    )


def assert_device(got: Any, expected: str | torch.device, *, name: str = "result") -> None:
    """Assert ``got`` (tensor, module or device) lives on ``expected``.

    Compared by device type, as ``.device.type`` does: ``"cuda"`` accepts ``cuda:0``. An
    expected device with an index (``"cuda:1"``) must match the index too.
    """
    want = torch.device(expected)
    have = _device_of(got, name)
    if have.type != want.type or (want.index is not None and have.index != want.index):
        raise AssertionError(f"`{name}` is on the wrong device -- got: {have}, expected: {want}")


# --- tensors -----------------------------------------------------------------------------


def _describe_type(obj: Any) -> str:
    if obj is None:
        return "None (did you assign it?)"
    if obj is Ellipsis:
        return "... (the placeholder: replace it with your answer)"
    return type_name(obj)


def _require_tensor(got: Any, name: str) -> torch.Tensor:
    # Exact types only: a Tensor subclass can override __torch_function__ and lie to
    # torch.equal, so it is refused rather than compared (in the judge: one that was a
    # subclass in the student's process).
    facts = reported_facts(got)
    if facts is not None and facts.get("subclass"):
        raise AssertionError(f"`{name}` should be a plain torch.Tensor -- got: a subclass, "
                             f"{facts['subclass'].rsplit('.', 1)[-1]}")
    if type(got) is torch.Tensor or type(got) is torch.nn.Parameter:
        return got
    if isinstance(got, torch.Tensor):
        raise AssertionError(
            f"`{name}` should be a plain torch.Tensor -- got: a subclass, {_describe_type(got)}"
        )
    raise AssertionError(f"`{name}` should be a torch.Tensor -- got: {_describe_type(got)}")


def assert_shape(got: Any, expected: tuple[int, ...] | torch.Size, *,
                 name: str = "result") -> None:
    """Assert a tensor's shape, with a hint when it is the transpose of the expected one."""
    tensor = _require_tensor(got, name)
    have, want = tuple(tensor.shape), tuple(expected)
    if have == want:
        return
    hint = ""
    if len(have) == 2 and have == want[::-1]:
        hint = " (transposed?)"
    elif [d for d in have if d != 1] == [d for d in want if d != 1]:
        hint = " (a dimension of size 1 added or missing?)"
    raise AssertionError(f"`{name}` has the wrong shape -- got: {have}, expected: {want}{hint}")


def assert_dtype(got: Any, expected: torch.dtype, *, name: str = "result") -> None:
    """Assert a tensor's dtype."""
    tensor = _require_tensor(got, name)
    if tensor.dtype != expected:
        raise AssertionError(
            f"`{name}` has the wrong dtype -- got: {tensor.dtype}, expected: {expected}"
        )


def _format_index(flat: int, shape: tuple[int, ...]) -> str:
    if not shape:
        return "()"
    return str(tuple(int(i) for i in np.unravel_index(flat, shape)))


def _format_number(value: torch.Tensor) -> str:
    number = value.item()
    return f"{number:.6g}" if isinstance(number, float) else str(number)


def assert_tensor(
    got: Any,
    expected: torch.Tensor,
    *,
    name: str = "result",
    exact: bool = False,
    rtol: float | None = None,
    atol: float | None = None,
    check_device: bool = True,
    show_values: bool = True,
) -> None:
    """Assert ``got`` is a tensor matching ``expected`` in shape, dtype, device and values.

    Checks run in that order, so the message names the first of the three big errors before
    it talks about values. Values are compared exactly with ``exact=True`` (raw RNG draws,
    integer results), otherwise with ``torch.testing.assert_close``'s default tolerances for
    the dtype unless ``rtol``/``atol`` are given. A value mismatch reports how many elements
    differ and the first one (``show_values=False`` hides the numbers too).
    """
    tensor = _require_tensor(got, name)
    assert_shape(tensor, expected.shape, name=name)
    assert_dtype(tensor, expected.dtype, name=name)
    if check_device:
        assert_device(tensor, expected.device, name=name)
    if tensor.device.type == "meta" or expected.device.type == "meta":
        return  # meta tensors have no values to compare
    have = tensor.detach().cpu()
    want = expected.detach().cpu()
    if exact or not (want.is_floating_point() or want.is_complex()):
        same = have == want
        if want.is_floating_point():
            same = same | (torch.isnan(have) & torch.isnan(want))
    else:
        default_rtol, default_atol = _default_tolerances(want.dtype)
        same = torch.isclose(
            have,
            want,
            rtol=default_rtol if rtol is None else rtol,
            atol=default_atol if atol is None else atol,
            equal_nan=True,
        )
    if bool(same.all()):
        return
    wrong = (~same).reshape(-1)
    count = int(wrong.sum())
    first = int(wrong.nonzero()[0, 0])
    where = _format_index(first, tuple(want.shape))
    message = f"`{name}` has wrong values -- {count} of {want.numel()} elements differ"
    if show_values:
        message += (
            f"; first at index {where}: got: {_format_number(have.reshape(-1)[first])}, "
            f"expected: {_format_number(want.reshape(-1)[first])}"
        )
    else:
        message += f"; first at index {where}"
    raise AssertionError(message)


def _default_tolerances(dtype: torch.dtype) -> tuple[float, float]:
    # torch.testing.assert_close's defaults.
    return {
        torch.float16: (1e-3, 1e-5),
        torch.bfloat16: (1.6e-2, 1e-5),
        torch.float32: (1.3e-6, 1e-5),
        torch.float64: (1e-7, 1e-7),
        torch.complex64: (1.3e-6, 1e-5),
        torch.complex128: (1e-7, 1e-7),
    }.get(dtype, (1.3e-6, 1e-5))


def assert_close(
    got: Any,
    expected: float,
    *,
    name: str = "result",
    rtol: float = 1e-5,
    atol: float = 1e-8,
    show_values: bool = True,
) -> None:
    """Assert a Python number (or one-element tensor) is close to ``expected``."""
    if isinstance(got, torch.Tensor):
        tensor = _require_tensor(got, name)
        if tensor.numel() != 1:
            raise AssertionError(
                f"`{name}` should be a single number -- got: a tensor of shape "
                f"{tuple(tensor.shape)}"
            )
        got = tensor.item()
    if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)):
        raise AssertionError(f"`{name}` should be a number -- got: {_describe_type(got)}")
    if abs(float(got) - expected) <= atol + rtol * abs(expected):
        return
    if show_values:
        raise AssertionError(f"`{name}` has the wrong value -- got: {got}, expected: {expected}")
    raise AssertionError(f"`{name}` has the wrong value -- got: {got}")


def assert_value(got: Any, expected: Any, *, name: str = "result",
                 show_expected: bool = True) -> None:
    """Assert a plain Python value (int, str, bool, tuple, ...) equals ``expected``, type included.

    ``show_expected=False`` keeps the answer out of the message, for public checks.
    """
    if type(got) is not type(expected):
        raise AssertionError(
            f"`{name}` should be of type {type(expected).__name__} -- got: "
            f"{_describe_type(got)}"
        )
    if got != expected:
        suffix = f", expected: {expected!r}" if show_expected else ""
        raise AssertionError(f"`{name}` has the wrong value -- got: {got!r}{suffix}")


def assert_shares_memory(a: Any, b: Any, *, name: str = "result", shared: bool = True) -> None:
    """Assert tensor/array ``a`` shares memory with ``b`` (``shared=False``: does not)."""

    def address(x: Any) -> tuple[int, int]:
        facts = reported_facts(x)
        if facts is not None and (isinstance(x, np.ndarray) or _require_tensor(x, name) is x):
            return facts["span"]
        if isinstance(x, np.ndarray):
            start = x.__array_interface__["data"][0]
            return start, start + x.nbytes
        tensor = _require_tensor(x, name)
        start = tensor.untyped_storage().data_ptr()
        return start, start + tensor.untyped_storage().nbytes()

    (a0, a1), (b0, b1) = address(a), address(b)
    # Addresses of the student's process and of this one never overlap.
    same_process = (reported_facts(a) is None) == (reported_facts(b) is None)
    overlaps = same_process and a0 < b1 and b0 < a1
    if overlaps and not shared:
        raise AssertionError(
            f"`{name}` shares memory with the original -- got: a view, expected: a copy"
        )
    if not overlaps and shared:
        raise AssertionError(
            f"`{name}` does not share memory with the original -- got: a copy, expected: a view"
        )


def assert_equal_state_dicts(
    got: Mapping[str, torch.Tensor],
    expected: Mapping[str, torch.Tensor],
    *,
    name: str = "state_dict",
    exact: bool = True,
    atol: float | None = None,
) -> None:
    """Assert two state_dicts have the same keys and matching tensors."""
    if not isinstance(got, Mapping):
        raise AssertionError(f"`{name}` should be a state_dict -- got: {_describe_type(got)}")
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    if missing or extra:
        raise AssertionError(
            f"`{name}` has the wrong keys -- missing: {missing or 'none'}, unexpected: "
            f"{extra or 'none'}"
        )
    for key in expected:
        assert_tensor(got[key], expected[key], name=f"{name}[{key!r}]", exact=exact, atol=atol,
                      rtol=0.0 if atol is not None else None)


# --- calling student code ------------------------------------------------------------------

# What torch says when code asks for CUDA on a machine without it (a CPU-only build, no
# driver, no device): the message a student would otherwise get bare.
_NO_CUDA = ("Torch not compiled with CUDA enabled", "Found no NVIDIA driver",
            "No CUDA GPUs are available", "no CUDA-capable device")


def names_a_missing_gpu(message: str) -> bool:
    """Whether an error message is torch saying there is no CUDA GPU here."""
    return any(words in message for words in _NO_CUDA)


def call(code: str, function: Any, /, *args: Any, **kwargs: Any) -> Any:
    """Call student code for a check and return what it returns; when it raises, fail the
    check with a message that names the call::

        result = call("describe(t)", describe, t)
        # `describe(t)` raised TypeError: unsupported operand type(s) ...

    ``code`` is the call as the student would read it; it is shown as code (in backticks)
    unless it holds backticks itself, so it may say more about the input:
    ``call("`to_numpy(t)` on a tensor that requires grad", to_numpy, t)``. A ``function`` that
    is not callable (``None``, ``...``) fails first, naming the function. Code that needs a
    GPU on a machine without one fails with a message that says so. The same in the student's
    kernel (real functions) and in the judge (handles): both raise an exception of the type
    the student's code raised.
    """
    shown = _shown_call(code)
    if not callable(function):
        called = code.strip("`").split("(", 1)[0].strip()
        raise AssertionError(f"`{called}` should be a function -- got: "
                             f"{_describe_type(function)}")
    try:
        return function(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - the point is to name what was raised
        message = str(error)
        if len(message) > 600:  # keep both ends: a DataLoader worker's cause comes last
            message = f"{message[:200]} [...] {message[-400:]}"
        if names_a_missing_gpu(message):
            raise AssertionError(
                f"{shown} needs a CUDA GPU, and this machine has none ({type_name(error)}: "
                f"{message}); use the GPU only when torch.cuda.is_available()") from None
        raise AssertionError(f"{shown} raised {type_name(error)}: {message}") from None


def _shown_call(code: str) -> str:
    """``code`` as ``call`` shows it: as code, unless it holds backticks itself."""
    return code if "`" in code else f"`{code}`"


def call_for_value(code: str, function: Any, /, *args: Any, **kwargs: Any) -> Any:
    """``call`` for student code that must return something: a function that returns
    ``None`` fails the check with the likely cause, not a type error about ``None`` later::

        result = call_for_value("fix_batch(t)", fix_batch, t)
        # `fix_batch(t)` returned None -- did you forget `return`?
    """
    result = call(code, function, *args, **kwargs)
    if result is None:
        raise AssertionError(f"{_shown_call(code)} returned None -- did you forget `return`?")
    return result


def in_student_process(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, run where the student's code runs: for a check that grades what student
    code *does* to objects over several steps of its own (an optimizer's updates), which a
    single call cannot show. ``function`` must be public (``autograder.kit.probes``): it
    travels by reference. In the judge, each call sends it to the student's process with its
    arguments (lent as for ``call``) and returns its result; in the student's kernel it is
    ``function`` itself::

        got = call("make_optimizer(model) then two steps", in_student_process(optimizer_steps),
                   make_optimizer, model, gradients, steps=2)
    """
    if not IN_JUDGE or STUDENT_SESSION is None:
        return function
    session = STUDENT_SESSION

    def run(*args: Any, **kwargs: Any) -> Any:
        return session.run(function, args, kwargs)

    return run


def from_fresh_process(**objects: Any) -> types.SimpleNamespace:
    """The notebook's objects of these names, from a run of it that has not reached this
    question: for a check that reruns student code and compares with the notebook's result
    (training is reproducible), so the rerun cannot be answered by the process that already
    ran it (a ``train`` that replays the notebook's trained weights)::

        fresh = from_fresh_process(train=train, DigitsClassifier=DigitsClassifier)
        model = call("DigitsClassifier()", fresh.DigitsClassifier)

    In the judge, a second student's process, started with the submission and kept apart
    from the first (its own box, no channel to it), runs the notebook up to the check of the
    previous question and answers for these names; it serves one question per submission. In
    the student's kernel it is the objects themselves (there is only the one process).
    """
    if not IN_JUDGE or STUDENT_SESSION is None:
        return types.SimpleNamespace(**objects)
    fresh = STUDENT_SESSION.fresh_session()
    return types.SimpleNamespace(**{name: fresh.fetch(name) for name in objects})


def assert_raises(
    expected: type[BaseException], call: Callable[[], Any], *, name: str = "the call"
) -> BaseException:
    """Assert ``call()`` raises ``expected`` (by type, never by message: torch rewords them)."""
    try:
        call()
    except expected as error:
        return error
    except Exception as error:  # noqa: BLE001 - the point is to name what was raised instead
        raise AssertionError(
            f"{name} raised the wrong error -- got: {type(error).__name__}, "
            f"expected: {expected.__name__}"
        ) from None
    raise AssertionError(f"{name} did not raise -- expected: {expected.__name__}")


# --- seeded expectations -----------------------------------------------------------------


@contextlib.contextmanager
def preserved_rng() -> Iterator[None]:
    """Restore the torch (CPU and CUDA), NumPy and ``random`` RNG states on exit."""
    torch_state = torch.get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if cuda_available() else None
    np_state = np.random.get_state()
    py_state = random.getstate()
    try:
        yield
    finally:
        torch.set_rng_state(torch_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)
        np.random.set_state(np_state)
        random.setstate(py_state)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the body with every RNG seeded to ``seed``, restoring the RNG state after.

    Use it to recompute a seeded expectation inside a test::

        with seeded(42):
            expected = torch.rand(3, 4)
    """
    with preserved_rng():
        torch.manual_seed(seed)  # seeds CUDA too when present
        np.random.seed(seed)
        random.seed(seed)
        yield


@contextlib.contextmanager
def student_generators() -> Iterator[None]:
    """Draw from the random generators as the student's code left them, to check that it
    seeds them::

        call("set_seed(0)", set_seed, 0)
        with student_generators():
            got = torch.rand(3)

    In the grader's judge, the body draws from the torch (CPU and CUDA), NumPy and ``random``
    states the student's process reported after the last call (a claim); what the body drew is
    used up there too (its process gets the generators back as the body left them), and the
    judge's own generators are restored. In the student's kernel, where student code runs in
    this same process, they already are the student's, and this does nothing.
    """
    if not IN_JUDGE or STUDENT_SESSION is None:
        yield
        return
    with STUDENT_SESSION.student_generators():
        yield


def student_flags() -> dict[str, bool]:
    """torch's determinism flags and grad mode as the student's code left them:
    ``deterministic``, ``warn_only`` (``torch.use_deterministic_algorithms``),
    ``cudnn_deterministic``, ``cudnn_benchmark`` and ``grad_enabled``. In the judge, what the
    student's process reported after the last call (a claim); in the student's kernel, read
    here."""
    state = STUDENT_SESSION.student_state if IN_JUDGE and STUDENT_SESSION is not None else None
    if state is None:
        deterministic = (torch.are_deterministic_algorithms_enabled(),
                         torch.is_deterministic_algorithms_warn_only_enabled())
        cudnn = (bool(torch.backends.cudnn.deterministic), bool(torch.backends.cudnn.benchmark))
        grad = torch.is_grad_enabled()
    else:
        deterministic, cudnn, grad = state["deterministic"], state["cudnn"], state["grad"]
    return {"deterministic": deterministic[0], "warn_only": deterministic[1],
            "cudnn_deterministic": cudnn[0], "cudnn_benchmark": cudnn[1], "grad_enabled": grad}


# --- files a student's code wrote ---------------------------------------------------------

#: The most a file a student's function writes for a check may hold.
STUDENT_FILE_MAX_BYTES = 64 * 2**20


@contextlib.contextmanager
def student_folder() -> Iterator[str]:
    """A temporary folder student code may write in, for a check that hands it a path to
    save to::

        with student_folder() as folder:
            path = os.path.join(folder, "model.pt")
            call("save_model(model, path)", save_model, model, path)
            saved = read_state_dict_file(path)

    Every other folder a test makes (``tempfile``) the student's process may read but not
    write: the judge writes its own files (a checkpoint to load) there, where nothing of the
    student's can be planted. In a student folder the judge writes nothing; it reads what is
    there only with ``read_state_dict_file`` or ``student_wrote_file``, which never follow a
    link. In the student's kernel it is a plain temporary folder.
    """
    import os
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="student-")
    try:
        if IN_JUDGE:
            os.chmod(folder, 0o1777)  # sticky: the student cannot move what is not its own
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # never follows a link out of the folder


def student_wrote_file(path: str) -> bool:
    """Whether ``path`` is a regular file (not a link, a folder or a FIFO): what a check asks
    of a path student code was told to write, without following anything it planted there."""
    import os
    import stat

    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False

_STORAGES = {"FloatStorage": torch.float32, "DoubleStorage": torch.float64,
             "HalfStorage": torch.float16, "BFloat16Storage": torch.bfloat16,
             "LongStorage": torch.int64, "IntStorage": torch.int32,
             "ShortStorage": torch.int16, "CharStorage": torch.int8,
             "ByteStorage": torch.uint8, "BoolStorage": torch.bool}
_STATE_DICT_GLOBALS = {"collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                       "torch._utils._rebuild_parameter",
                       *(f"torch.{name}" for name in _STORAGES)}


def read_state_dict_file(path: str) -> Any:
    """The state_dict in a file ``torch.save`` wrote, read without running anything in it.

    ``torch.load`` unpickles, and unpickling a file a student's code wrote runs whatever it
    names. Here ``pickletools`` only parses the opcodes of its ``data.pkl``; every global it
    names must be one a plain state_dict of tensors uses, and the tensors are rebuilt from
    the raw storage records beside it. Raises ``ValueError`` saying what the file is instead
    (``"a file that refers to __main__.DigitsClassifier"`` for a whole pickled model).
    The file is read once, as a regular file of at most ``STUDENT_FILE_MAX_BYTES`` and never
    through a link, and parsed from those bytes.
    """
    import io
    import pickletools
    import zipfile

    from autograder.kit.regular_files import NotARegularFile, read_regular_file

    try:
        data = read_regular_file(path, STUDENT_FILE_MAX_BYTES)
    except NotARegularFile as error:
        raise ValueError(f"not a file torch.save wrote: {error}") from None
    except OSError:
        raise ValueError("no file at `path`") from None
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ValueError("a file torch.save did not write (not a zip archive)")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        if sum(info.file_size for info in infos.values()) > 16 * 2**20:
            raise ValueError("a file larger than 16 MB, more than a state_dict here holds")
        pickles = [n for n in infos if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise ValueError("a file torch.save did not write (no data.pkl)")
        prefix = pickles[0][:-len("data.pkl")]
        if prefix + "byteorder" in infos and \
                archive.read(prefix + "byteorder") != b"little":
            raise ValueError("a file saved with another byte order")
        stack: list[Any] = []  # the unpickler's stack: any value a record holds
        marks: list[int] = []
        memo: dict[Any, Any] = {}
        loaded: dict[str, torch.Tensor] = {}

        def pop_mark() -> list[Any]:
            start = marks.pop()
            items = stack[start:]
            del stack[start:]
            return items

        def storage(pid: Any) -> torch.Tensor:
            if not (type(pid) is tuple and len(pid) == 5 and pid[0] == "storage"
                    and type(pid[1]) is tuple and pid[1][0] == "global"
                    and type(pid[2]) is str and type(pid[3]) is str
                    and type(pid[4]) is int):
                raise ValueError("a file with a record that is not a tensor's storage")
            _, (_, kind), key, location, numel = pid
            if key not in loaded:
                dtype = _STORAGES[kind.split(".", 1)[1]]
                raw = archive.read(prefix + "data/" + key)
                if len(raw) != numel * torch.empty((), dtype=dtype).element_size():
                    raise ValueError("a file whose storage sizes do not match")
                flat = torch.frombuffer(bytearray(raw), dtype=dtype) if numel else \
                    torch.empty(0, dtype=dtype)
                loaded[key] = flat if location == "cpu" else flat.to(location)
            return loaded[key]

        def call(function: Any, args: Any) -> Any:
            if type(args) is not tuple:
                raise ValueError("a file with a malformed call")
            if function == ("global", "collections.OrderedDict") and args == ():
                return {}
            if function == ("global", "torch._utils._rebuild_tensor_v2") and \
                    len(args) in (6, 7) and isinstance(args[0], torch.Tensor):
                flat, offset, size, stride, requires_grad = args[:5]
                tensor = torch.as_strided(flat, size, stride, offset)
                return tensor.requires_grad_(True) if requires_grad is True else tensor
            if function == ("global", "torch._utils._rebuild_parameter") and \
                    len(args) == 3 and isinstance(args[0], torch.Tensor):
                return torch.nn.Parameter(args[0], requires_grad=args[1] is True)
            raise ValueError(f"a file that calls {function[1]} unexpectedly")

        result = None
        for opcode, arg, _ in pickletools.genops(archive.read(pickles[0])):
            name = opcode.name
            if name in ("GLOBAL", "STACK_GLOBAL"):
                if name == "GLOBAL":
                    module, _, attribute = cast(str, arg).partition(" ")  # "module name"
                else:
                    attribute, module = stack.pop(), stack.pop()
                if type(module) is not str or type(attribute) is not str:
                    raise ValueError("a file with a malformed global")
                qualified = f"{module}.{attribute}"[:200]
                if qualified not in _STATE_DICT_GLOBALS:
                    raise ValueError(f"a file that refers to {qualified}")
                stack.append(("global", qualified))
            elif name in ("PROTO", "FRAME"):
                pass
            elif name == "STOP":
                result = stack.pop()
                break
            elif name == "MARK":
                marks.append(len(stack))
            elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
                memo[arg] = stack[-1]
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif name in ("BINGET", "LONG_BINGET", "GET"):
                stack.append(memo[arg])
            elif name in ("BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "UNICODE",
                          "BININT", "BININT1", "BININT2", "INT", "LONG1", "LONG4", "LONG",
                          "BINFLOAT", "FLOAT"):
                stack.append(arg)
            elif name in ("NONE", "NEWTRUE", "NEWFALSE"):
                stack.append({"NONE": None, "NEWTRUE": True, "NEWFALSE": False}[name])
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name == "TUPLE":
                stack.append(tuple(pop_mark()))
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                count = int(name[-1])
                popped = tuple(stack[-count:])
                del stack[-count:]
                stack.append(popped)
            elif name == "EMPTY_DICT":
                stack.append({})
            elif name == "EMPTY_LIST":
                stack.append([])
            elif name == "SETITEM":
                value, key = stack.pop(), stack.pop()
                stack[-1][key] = value
            elif name == "SETITEMS":
                items = pop_mark()
                for key, value in zip(items[::2], items[1::2], strict=False):
                    stack[-1][key] = value
            elif name == "APPEND":
                value = stack.pop()
                stack[-1].append(value)
            elif name == "APPENDS":
                items = pop_mark()
                stack[-1].extend(items)
            elif name == "BINPERSID":
                stack.append(storage(stack.pop()))
            elif name == "REDUCE":
                args = stack.pop()
                stack.append(call(stack.pop(), args))
            elif name == "BUILD":
                state = stack.pop()  # an OrderedDict's attributes (its _metadata)
                if type(stack[-1]) is not dict or type(state) is not dict:
                    raise ValueError("a file that sets attributes of an object")
            else:
                raise ValueError(f"a file with an unexpected pickle opcode {name}")
        if type(result) is tuple and result[:1] == ("global",):
            raise ValueError(f"a file that holds {result[1]} itself")
        return result


# --- instruments: the conditions a check calls student code under -----------------------
#
# A check that needs student code to run on a simulated machine, or wants to see which
# library functions it calls, says so with one of these context managers. In the student's own
# kernel they patch this process. In the judge, where no student code runs, they travel with
# every call the check makes and are applied around it in the student's process; what they
# record there comes back as reported facts.

_ACTIVE: list[tuple[str, dict[str, Any], list[Any]]] = []


@contextlib.contextmanager
def _simulated_machine(options: dict[str, Any], record: list[Any]) -> Iterator[None]:
    from unittest import mock

    cuda, mps = options["cuda"], options["mps"]
    built = mps or bool(options.get("mps_built"))
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch("torch.cuda.is_available", return_value=cuda))
        stack.enter_context(mock.patch("torch.backends.mps.is_available", return_value=mps))
        stack.enter_context(mock.patch("torch.backends.mps.is_built", return_value=built))
        if options.get("cuda_moves"):
            stack.enter_context(_simulated_gpu())
        yield


def _is_cuda(location: Any) -> bool:
    try:
        return isinstance(location, (str, torch.device)) and \
            torch.device(location).type == "cuda"
    except RuntimeError:
        return False


@contextlib.contextmanager
def _simulated_gpu() -> Iterator[None]:
    """A GPU without a GPU, for the call it is applied around: moves to CUDA give ``meta``
    tensors (no values), which inside the call say they are on ``cuda:0`` (``.device``,
    ``.is_cuda``, ``.get_device()``), so code that reads the device sees what a GPU machine
    shows; tensors made with ``device=<cuda>`` are ``meta`` too; ``torch.load`` with a CUDA
    ``map_location`` loads onto the CPU. After the call, what was moved to the GPU is on
    ``meta`` and what was not is still on the CPU."""
    from unittest import mock

    from torch.overrides import TorchFunctionMode

    on_gpu = torch.device("cuda", 0)

    class SimulatedGpu(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: Any = (),
                               kwargs: Any = None) -> Any:
            kwargs = kwargs or {}
            owner = getattr(func, "__self__", None)  # a property's getter: its descriptor
            if owner is torch.Tensor.device:
                device = func(*args, **kwargs)
                return on_gpu if device.type == "meta" else device
            if owner is torch.Tensor.is_cuda:
                return args[0].device.type in ("cuda", "meta")
            if func is torch.Tensor.get_device and args[0].device.type == "meta":
                return 0
            if func is torch.Tensor.cuda:
                return args[0].to("meta")
            if func is torch.Tensor.to:
                device, dtype, _, _ = torch._C._nn._parse_to(*args[1:], **kwargs)
                if device is not None and device.type == "cuda":
                    return args[0].to(device="meta", dtype=dtype)
            elif _is_cuda(kwargs.get("device")):  # torch.zeros(..., device=x.device)
                kwargs = {**kwargs, "device": "meta"}
            return func(*args, **kwargs)

    real_load = torch.load

    def load(f: Any, map_location: Any = None, *args: Any, **kwargs: Any) -> Any:
        return real_load(f, "cpu" if _is_cuda(map_location) else map_location, *args,
                         **kwargs)

    with mock.patch("torch.load", load), SimulatedGpu():
        yield


@contextlib.contextmanager
def _recorded_calls(options: dict[str, Any], calls: list[Any]) -> Iterator[None]:
    import importlib
    from unittest import mock

    with contextlib.ExitStack() as stack:
        for dotted in options["names"]:
            module_name, attribute = dotted.rsplit(".", 1)
            module = importlib.import_module(module_name)
            original = getattr(module, attribute)

            def recorder(*args: Any, _name: str = dotted, _original: Any = original,
                         **kwargs: Any) -> Any:
                calls.append((_name, args, kwargs))
                return None if options["replace"] else _original(*args, **kwargs)

            stack.enter_context(mock.patch.object(module, attribute, recorder))
        yield


_MATMULS = ("matmul", "mm", "__matmul__", "__rmatmul__")


@contextlib.contextmanager
def _matmul_clock(options: dict[str, Any], events: list[Any]) -> Iterator[None]:
    import threading
    import time
    from unittest import mock

    from torch.overrides import TorchFunctionMode

    function, simulate_cuda = options["function"], options["simulate_cuda"]
    real_clock, me = time.perf_counter, threading.get_ident()
    matmuls = [0]

    def fake_clock() -> float:
        if threading.get_ident() != me:
            return real_clock()
        events.append("clock")
        return float(matmuls[0])  # every matrix multiplication takes exactly one second

    class Clocked(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: Any = (),
                               kwargs: Any = None) -> Any:
            result = func(*(args or ()), **(kwargs or {}))
            if getattr(func, "__name__", "") in _MATMULS:
                matmuls[0] += 1
                off_gpu = simulate_cuda and any(
                    isinstance(a, torch.Tensor) and a.device.type == "cpu" for a in args)
                events.append("matmul on the CPU" if off_gpu else "matmul")
            return result

    names = getattr(function, "__globals__", {})
    aliases = {k: fake_clock for k, v in names.items() if v is time.perf_counter}
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.dict(names, aliases))
        stack.enter_context(mock.patch("time.perf_counter", fake_clock))
        if simulate_cuda:
            stack.enter_context(mock.patch("torch.cuda.is_available", return_value=True))
            stack.enter_context(mock.patch("torch.cuda.synchronize",
                                           side_effect=lambda *a, **k: events.append("sync")))
            stack.enter_context(_simulated_gpu())
        stack.enter_context(Clocked())
        yield


_INSTRUMENTS: dict[str, Callable[[dict[str, Any], list[Any]], Any]] = {
    "simulated_machine": _simulated_machine,
    "recorded_calls": _recorded_calls,
    "matmul_clock": _matmul_clock,
}


@contextlib.contextmanager
def _instrument(name: str, options: dict[str, Any]) -> Iterator[list[Any]]:
    record: list[Any] = []
    if IN_JUDGE:  # nothing to patch here: the calls carry it to the student's process
        _ACTIVE.append((name, options, record))
        try:
            yield record
        finally:
            _ACTIVE.pop()
    else:
        with _INSTRUMENTS[name](options, record):
            yield record


def active_instruments() -> list[tuple[str, dict[str, Any], list[Any]]]:
    """The instruments a call of student code made now runs under (used by the judge)."""
    return list(_ACTIVE)


@contextlib.contextmanager
def applied_instruments(specs: list[tuple[str, dict[str, Any]]]) -> Iterator[list[list[Any]]]:
    """Apply instruments sent by the judge around one request (in the student's process)."""
    records: list[list[Any]] = [[] for _ in specs]
    with contextlib.ExitStack() as stack:
        for (name, options), record in zip(specs, records, strict=True):
            stack.enter_context(_INSTRUMENTS[name](options, record))
        yield records


def simulated_machine(*, cuda: bool, mps: bool = False, cuda_moves: bool = False,
                      mps_built: bool = False) -> contextlib.AbstractContextManager[Any]:
    """Student code called inside sees ``torch.cuda.is_available()`` (and MPS's
    ``is_available``/``is_built``) answer as given; ``mps_built``: PyTorch was built with MPS
    (``is_built()`` is true) but the machine has no usable Apple GPU (a Mac without one, an
    older macOS). With ``cuda_moves``, moving a tensor or a
    model to ``"cuda"`` works without a GPU: it ends on the ``meta`` device (values dropped),
    which student code sees as ``cuda:0`` (so does a ``meta`` tensor a check passes in), and
    ``torch.load(..., map_location=<cuda>)`` loads onto the CPU; so after the call, what
    was moved to the GPU is on ``meta`` and what was not is still on the CPU."""
    return _instrument("simulated_machine", {"cuda": bool(cuda), "mps": bool(mps),
                                             "cuda_moves": bool(cuda_moves),
                                             "mps_built": bool(mps_built)})


def recorded_calls(*names: str, replace: bool = False) -> contextlib.AbstractContextManager[Any]:
    """Record the calls student code makes to library functions (``"torch.cuda.synchronize"``)
    as ``(name, args, kwargs)`` tuples; ``replace=True`` does not call the real function."""
    return _instrument("recorded_calls", {"names": list(names), "replace": bool(replace)})


def matmul_clock(function: Any, *, simulate_cuda: bool = False
                 ) -> contextlib.AbstractContextManager[Any]:
    """A clock on which every matrix multiplication takes one second, for timing code:
    ``time.perf_counter`` (also as a name in ``function``'s module) reads it. Yields the list of
    events, in order: ``"clock"`` (a read), ``"matmul"``, and with ``simulate_cuda`` (CUDA
    reported available, the simulated GPU of ``simulated_machine(cuda=True, cuda_moves=True)``)
    ``"sync"`` for ``torch.cuda.synchronize()`` and ``"matmul on the CPU"`` for a
    multiplication of tensors that were not moved to the GPU."""
    return _instrument("matmul_clock", {"function": function,
                                        "simulate_cuda": bool(simulate_cuda)})
