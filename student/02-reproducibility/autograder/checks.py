"""Check helpers that assignment tests import.

Every helper has the same shape: ``assert_xxx(got, expected, *, name=...)`` and raises
``AssertionError`` with one message shape::

    `x` has the wrong shape -- got: (3, 2), expected: (2, 3)

so every question gives the same quality of feedback: which of the three big errors it is
(shape, dtype, device) or which values differ, never the whole expected tensor.

This file is copied unchanged into every student release and autograder bundle, so it may
import only the standard library, numpy and torch.

Trust: the references to torch and builtins below are taken when this module is imported,
which the grading engine does before any student code runs. A student who later patches
``torch.equal`` or ``isinstance`` changes nothing these helpers compute.
"""

from __future__ import annotations

import builtins
import contextlib
import random
from collections.abc import Callable, Iterator, Mapping
from typing import Any

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
    "cuda_available",
    "device_type",
    "preserved_rng",
    "seeded",
    "skip_without_cuda",
]

# Originals, captured before student code can run (see module docstring).
_isinstance = builtins.isinstance
_type = builtins.type
_Tensor = torch.Tensor
_Parameter = torch.nn.Parameter
_Module = torch.nn.Module
_equal = torch.equal
_isclose = torch.isclose
_allclose = torch.allclose
_cuda_is_available = torch.cuda.is_available
_get_rng_state = torch.get_rng_state
_set_rng_state = torch.set_rng_state
_manual_seed = torch.manual_seed
_np_get_state = np.random.get_state
_np_set_state = np.random.set_state
_np_seed = np.random.seed
_py_getstate = random.getstate
_py_setstate = random.setstate
_py_seed = random.seed

#: Set to True by the grading engine, which reports ``CheckSkipped`` as "skipped".
#: Under otter's own ``grader.check`` (no notion of a skip) it stays False.
SKIPS_ARE_REPORTED = False


class CheckSkipped(BaseException):
    """A check that cannot run on this machine (e.g. it needs CUDA).

    A ``BaseException``, like pytest's ``skip``, so a student's ``except Exception`` inside a
    function the test calls cannot swallow it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- devices -----------------------------------------------------------------------------


def cuda_available() -> bool:
    """Whether a CUDA GPU is really present (not what a student patched it to say)."""
    return bool(_cuda_is_available())


def skip_without_cuda(reason: str = "needs a CUDA GPU, and this machine has none") -> bool:
    """Skip the calling check when there is no CUDA GPU.

    Use as ``if skip_without_cuda(): return`` at the top of a CUDA-only check, which must carry
    0 points. Under the grading engine it raises ``CheckSkipped`` (reported as skipped); under
    otter's ``grader.check`` it returns True so the check returns early and cannot fail a
    student on a machine without a GPU. Returns False when CUDA is present.
    """
    if cuda_available():
        return False
    if SKIPS_ARE_REPORTED:
        raise CheckSkipped(reason)
    return True


def device_type(obj: Any) -> str:
    """The device type (``"cpu"``, ``"cuda"``, ``"meta"``, ...) of a tensor, module or device.

    A module's device is that of its first parameter (or buffer); a module with neither has no
    device and raises ``AssertionError``.
    """
    return _device_of(obj, "object").type


def _device_of(obj: Any, name: str) -> torch.device:
    if _isinstance(obj, _Tensor):
        return obj.device
    if _isinstance(obj, torch.device):
        return obj
    if _isinstance(obj, str):
        try:
            return torch.device(obj)
        except RuntimeError:
            raise AssertionError(f"`{name}` is not a device name -- got: {obj!r}") from None
    if _isinstance(obj, _Module):
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
    return _type(obj).__name__


def _require_tensor(got: Any, name: str) -> torch.Tensor:
    # Exact types only: a Tensor subclass can override __torch_function__ and lie to
    # torch.equal, so it is refused rather than compared.
    if _type(got) is _Tensor or _type(got) is _Parameter:
        return got
    if _isinstance(got, _Tensor):
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
    return f"{number:.6g}" if _isinstance(number, float) else str(number)


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
        same = _isclose(
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
    if _isinstance(got, _Tensor):
        tensor = _require_tensor(got, name)
        if tensor.numel() != 1:
            raise AssertionError(
                f"`{name}` should be a single number -- got: a tensor of shape "
                f"{tuple(tensor.shape)}"
            )
        got = tensor.item()
    if _isinstance(got, bool) or not _isinstance(got, (int, float, np.integer, np.floating)):
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
    if _type(got) is not _type(expected):
        raise AssertionError(
            f"`{name}` should be of type {_type(expected).__name__} -- got: "
            f"{_describe_type(got)}"
        )
    if got != expected:
        suffix = f", expected: {expected!r}" if show_expected else ""
        raise AssertionError(f"`{name}` has the wrong value -- got: {got!r}{suffix}")


def assert_shares_memory(a: Any, b: Any, *, name: str = "result", shared: bool = True) -> None:
    """Assert tensor/array ``a`` shares memory with ``b`` (``shared=False``: does not)."""

    def address(x: Any) -> tuple[int, int]:
        if _isinstance(x, np.ndarray):
            start = x.__array_interface__["data"][0]
            return start, start + x.nbytes
        tensor = _require_tensor(x, name)
        start = tensor.untyped_storage().data_ptr()
        return start, start + tensor.untyped_storage().nbytes()

    (a0, a1), (b0, b1) = address(a), address(b)
    overlaps = a0 < b1 and b0 < a1
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
    if not _isinstance(got, Mapping):
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
            f"{name} raised the wrong error -- got: {_type(error).__name__}, "
            f"expected: {expected.__name__}"
        ) from None
    raise AssertionError(f"{name} did not raise -- expected: {expected.__name__}")


# --- seeded expectations -----------------------------------------------------------------


@contextlib.contextmanager
def preserved_rng() -> Iterator[None]:
    """Restore the torch (CPU and CUDA), NumPy and ``random`` RNG states on exit."""
    torch_state = _get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if cuda_available() else None
    np_state = _np_get_state()
    py_state = _py_getstate()
    try:
        yield
    finally:
        _set_rng_state(torch_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)
        _np_set_state(np_state)
        _py_setstate(py_state)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the body with every RNG seeded to ``seed``, restoring the student's RNG state after.

    Use it to recompute a seeded expectation inside a test::

        with seeded(42):
            expected = torch.rand(3, 4)
    """
    with preserved_rng():
        _manual_seed(seed)  # seeds CUDA too when present
        _np_seed(seed)
        _py_seed(seed)
        yield
