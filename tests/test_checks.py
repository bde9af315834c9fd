"""The check helpers: each kind of mismatch gives its own message; CUDA-only checks skip."""

from __future__ import annotations

import json
import os
import random
from unittest import mock

import numpy as np
import pytest
import torch
from conftest import ASSIGNMENTS

from autograder.kit import checks
from autograder.kit.checks import (
    CheckSkipped,
    assert_close,
    assert_device,
    assert_dtype,
    assert_equal_state_dicts,
    assert_raises,
    assert_shape,
    assert_shares_memory,
    assert_tensor,
    assert_value,
    device_type,
    preserved_rng,
    seeded,
    skip_without_cuda,
)


def message_of(call) -> str:
    with pytest.raises(AssertionError) as info:
        call()
    return str(info.value)


# --- the three big errors, then values --------------------------------------------------------


def test_matching_tensor_passes():
    assert_tensor(torch.arange(6.0).reshape(2, 3), torch.arange(6.0).reshape(2, 3), name="x")


def test_not_a_tensor_names_the_type_and_the_placeholder():
    assert "got: list" in message_of(lambda: assert_tensor([1, 2], torch.ones(2), name="x"))
    assert "placeholder" in message_of(lambda: assert_tensor(..., torch.ones(2), name="x"))
    assert "did you assign it" in message_of(lambda: assert_tensor(None, torch.ones(2)))


def test_wrong_shape_says_got_and_expected_and_spots_a_transpose():
    msg = message_of(lambda: assert_tensor(torch.ones(3, 2), torch.ones(2, 3), name="x"))
    assert msg == "`x` has the wrong shape -- got: (3, 2), expected: (2, 3) (transposed?)"


def test_extra_dimension_of_size_one_gets_a_hint():
    msg = message_of(lambda: assert_shape(torch.ones(1, 3), (3,), name="v"))
    assert "got: (1, 3), expected: (3,)" in msg and "size 1" in msg


def test_wrong_dtype_is_reported_before_values():
    msg = message_of(lambda: assert_tensor(torch.ones(3, dtype=torch.int64), torch.zeros(3),
                                           name="x"))
    assert msg == "`x` has the wrong dtype -- got: torch.int64, expected: torch.float32"


def test_wrong_device_uses_the_meta_device():
    msg = message_of(lambda: assert_tensor(torch.ones(3), torch.ones(3, device="meta"),
                                           name="x"))
    assert msg == "`x` is on the wrong device -- got: cpu, expected: meta"


def test_wrong_values_give_count_and_first_index_not_the_whole_tensor():
    expected = torch.arange(12.0).reshape(3, 4)
    got = expected.clone()
    got[1, 2] = -1.0
    got[2, 3] = -5.0
    msg = message_of(lambda: assert_tensor(got, expected, name="x"))
    assert "2 of 12 elements differ" in msg
    assert "first at index (1, 2): got: -1, expected: 6" in msg
    assert "11" not in msg  # no dump of the expected tensor


def test_show_values_false_hides_the_numbers():
    msg = message_of(lambda: assert_tensor(torch.zeros(2), torch.ones(2), show_values=False))
    assert "first at index (0,)" in msg and "expected: 1" not in msg


def test_tolerance_accepts_float_noise_but_exact_does_not():
    a = torch.tensor([1.0, 2.0])
    b = a + 1e-7
    assert_tensor(b, a)
    with pytest.raises(AssertionError):
        assert_tensor(b, a, exact=True)


def test_nan_matches_nan():
    assert_tensor(torch.tensor([float("nan"), 1.0]), torch.tensor([float("nan"), 1.0]),
                  exact=True)


def test_tensor_subclass_is_refused_because_it_could_lie_to_torch_equal():
    class Liar(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return True

    liar = torch.zeros(3).as_subclass(Liar)
    assert "plain torch.Tensor" in message_of(lambda: assert_tensor(liar, torch.ones(3)))


def test_dtype_and_value_helpers():
    assert "got: torch.float64" in message_of(
        lambda: assert_dtype(torch.zeros(1, dtype=torch.float64), torch.float32))
    assert message_of(lambda: assert_value(3, 4, name="n")) == \
        "`n` has the wrong value -- got: 3, expected: 4"
    assert "expected" not in message_of(lambda: assert_value(3, 4, show_expected=False))
    assert "of type int" in message_of(lambda: assert_value("3", 3))
    assert_close(torch.tensor(0.1 + 0.2), 0.3)
    assert "single number" in message_of(lambda: assert_close(torch.ones(2), 1.0))
    assert "should be a number" in message_of(lambda: assert_close(True, 1.0))


def test_shares_memory_tells_views_from_copies():
    base = torch.arange(6)
    assert_shares_memory(base.view(2, 3), base)
    assert "got: a copy" in message_of(lambda: assert_shares_memory(base.clone(), base))
    array = np.arange(3)
    assert_shares_memory(torch.from_numpy(array), array)
    assert_shares_memory(torch.tensor(array), array, shared=False)
    assert "got: a view" in message_of(
        lambda: assert_shares_memory(torch.from_numpy(array), array, shared=False))


def test_state_dicts_compare_keys_then_tensors():
    torch.manual_seed(0)
    a = torch.nn.Linear(2, 2).state_dict()
    b = {k: v.clone() for k, v in a.items()}
    assert_equal_state_dicts(b, a)
    b["weight"][0, 0] += 1
    assert "state_dict['weight']" in message_of(lambda: assert_equal_state_dicts(b, a))
    assert "missing: ['bias']" in message_of(
        lambda: assert_equal_state_dicts({"weight": a["weight"]}, a))


def test_assert_raises_checks_the_type_not_the_words():
    assert_raises(RuntimeError, lambda: torch.ones(2, 3) @ torch.ones(2, 3))
    assert "did not raise" in message_of(lambda: assert_raises(ValueError, lambda: None))
    assert "got: ZeroDivisionError" in message_of(
        lambda: assert_raises(ValueError, lambda: 1 / 0))


# --- devices ----------------------------------------------------------------------------------


def test_device_by_type_semantics():
    assert_device(torch.ones(1), "cpu")
    assert_device(torch.ones(1, device="meta"), "meta")
    assert_device(torch.device("cuda:0"), "cuda")  # "cuda" accepts any index
    assert "got: cuda:0, expected: cuda:1" in message_of(
        lambda: assert_device(torch.device("cuda:0"), "cuda:1"))
    model = torch.nn.Linear(2, 2).to("meta")
    assert device_type(model) == "meta"
    assert_device(model, "meta", name="model")
    assert "wrong device" in message_of(lambda: assert_device(model, "cpu", name="model"))
    assert "no parameters" in message_of(lambda: device_type(torch.nn.ReLU()))


# --- skipping checks that need CUDA -------------------------------------------------------------


def test_without_cuda_the_engine_reports_a_skip():
    with mock.patch.object(checks, "_cuda_is_available", lambda: False), \
            mock.patch.object(checks, "IN_JUDGE", True):
        with pytest.raises(CheckSkipped) as info:
            skip_without_cuda()
    assert "CUDA" in info.value.reason
    assert not isinstance(info.value, Exception)  # `except Exception` cannot swallow it


def test_without_cuda_otter_grader_check_returns_early_instead_of_failing():
    with mock.patch.object(checks, "_cuda_is_available", lambda: False), \
            mock.patch.object(checks, "IN_JUDGE", False):
        assert skip_without_cuda() is True


def test_with_cuda_simulated_the_check_runs():
    with mock.patch.object(checks, "_cuda_is_available", lambda: True), \
            mock.patch.object(checks, "IN_JUDGE", True):
        assert skip_without_cuda() is False


def test_a_simulated_machine_does_not_change_what_the_machine_has():
    real = torch.cuda.is_available()
    with checks.simulated_machine(cuda=not real):
        assert torch.cuda.is_available() is not real
        assert checks.cuda_available() is real
    assert torch.cuda.is_available() is real


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_on_a_real_gpu_placement_is_checked():
    assert_device(torch.ones(1, device="cuda"), "cuda:0")
    assert skip_without_cuda() is False


# --- seeded expectations ------------------------------------------------------------------------


def test_seeded_recomputes_without_disturbing_the_student_rng():
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    reference = (torch.rand(2), np.random.rand(), random.random())
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    with seeded(42):
        inside = torch.rand(3)
        np.random.rand()
        random.random()
    after = (torch.rand(2), np.random.rand(), random.random())
    assert torch.equal(reference[0], after[0]) and reference[1:] == after[1:]
    torch.manual_seed(42)
    assert torch.equal(inside, torch.rand(3))


def test_preserved_rng_restores_after_an_error():
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    with pytest.raises(ZeroDivisionError), preserved_rng():
        torch.rand(10)
        raise ZeroDivisionError
    assert torch.equal(torch.rand(1), expected)


# --- types, reported facts and instruments (outside the judge: real objects) --------------------


def test_type_helpers_on_real_objects():
    model = torch.nn.Linear(2, 2)
    assert checks.is_instance(model, torch.nn.Module) and not checks.is_instance(3, str)
    assert checks.type_is(model, torch.nn.Linear) and not checks.type_is(model, torch.nn.Module)
    assert checks.is_subclass(torch.nn.Linear, torch.nn.Module)
    assert not checks.is_subclass(model, torch.nn.Module)  # an instance is not a class
    assert checks.type_name(model) == "Linear"


def test_reported_storage_spans_decide_sharing_between_values_from_the_student():
    a, b, c = torch.zeros(4), torch.zeros(4), torch.zeros(4)
    checks.report_facts(a, {"span": (1000, 1016), "subclass": None})
    checks.report_facts(b, {"span": (1008, 1016), "subclass": None})
    checks.report_facts(c, {"span": (2000, 2016), "subclass": None})
    assert_shares_memory(b, a)  # the student's process says they overlap
    assert "a copy" in message_of(lambda: assert_shares_memory(c, a))
    # a value made here never shares memory with one from the student's process
    assert "a copy" in message_of(lambda: assert_shares_memory(torch.zeros(4), a))


def test_a_reported_subclass_is_refused():
    t = torch.zeros(2)
    checks.report_facts(t, {"span": (0, 8), "subclass": "student.Liar"})
    assert "a subclass, Liar" in message_of(lambda: assert_tensor(t, torch.zeros(2)))


def test_a_simulated_gpu_moves_to_meta_and_loads_onto_the_cpu(tmp_path):
    path = tmp_path / "layer.pt"
    torch.save(torch.nn.Linear(2, 1).state_dict(), path)
    with checks.simulated_machine(cuda=True, cuda_moves=True):
        moved = torch.nn.Linear(2, 1).to("cuda")
        kept = torch.nn.Linear(2, 1)
        kept.load_state_dict(torch.load(path, map_location="cuda", weights_only=True))
        on_gpu = torch.ones(2).cuda()
        # inside, what moved reads as a GPU's: the device prints as cuda:0
        assert (str(on_gpu.device), on_gpu.device.type, on_gpu.is_cuda) == ("cuda:0", "cuda", True)
        assert on_gpu.get_device() == 0 and torch.ones(2).get_device() == -1
        assert torch.zeros(3, device=on_gpu.device).is_cuda  # made on "the GPU": meta too
        assert str(next(moved.parameters()).device) == "cuda:0"
        assert torch.ones(2).device.type == "cpu"
        assert torch.ones(2).to(torch.device("cuda"), torch.float16).dtype == torch.float16
    assert on_gpu.device.type == "meta"  # outside, it holds no values
    assert checks.device_type(moved) == "meta"
    assert checks.device_type(kept) == "cpu"  # loaded, but never moved to the GPU
    assert torch.ones(2).to("cpu").device.type == "cpu"


def test_recorded_calls_and_the_matmul_clock_in_this_process():
    def time_it(a, b, repeats):
        import time
        a @ b
        start = time.perf_counter()
        for _ in range(repeats):
            torch.matmul(a, b)
        return (time.perf_counter() - start) / repeats

    with checks.matmul_clock(time_it) as events:
        assert time_it(torch.ones(2, 2), torch.ones(2, 2), 3) == 1.0
    assert events == ["matmul", "clock", "matmul", "matmul", "matmul", "clock"]
    with checks.recorded_calls("torch.cuda.manual_seed_all", replace=True) as calls:
        torch.cuda.manual_seed_all(7)
    assert calls == [("torch.cuda.manual_seed_all", (7,), {})]


def test_a_state_dict_file_is_read_without_running_it(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    path = tmp_path / "model.pt"
    torch.save(model.state_dict(), path)
    assert_equal_state_dicts(checks.read_state_dict_file(str(path)), model.state_dict())
    torch.save(model, path)  # the whole model: its file names the classes, so it is refused
    with pytest.raises(ValueError, match="refers to torch.nn.modules"):
        checks.read_state_dict_file(str(path))

    class Boom:
        def __reduce__(self):
            return (os.system, ("echo ran > " + str(tmp_path / "ran"),))

    torch.save({"weight": Boom()}, path)
    with pytest.raises(ValueError, match="refers to"):
        checks.read_state_dict_file(str(path))
    assert not (tmp_path / "ran").exists()


# --- calling student code ------------------------------------------------------------------


def test_call_returns_what_the_function_returns_and_names_the_call_when_it_raises():
    from autograder.kit.checks import call

    assert call("double(2)", lambda x: 2 * x, 2) == 4
    with pytest.raises(AssertionError) as info:
        call("describe(t)", lambda t: t + "x", torch.zeros(2))
    assert str(info.value).startswith("`describe(t)` raised TypeError: ")
    with pytest.raises(AssertionError, match=r"^`to_numpy\(t\)` on a GPU tensor raised "):
        call("`to_numpy(t)` on a GPU tensor", lambda t: t.foo, torch.zeros(1))


def test_call_for_value_says_a_function_that_returned_nothing_forgot_return():
    from autograder.kit.checks import call_for_value

    assert call_for_value("double(2)", lambda x: 2 * x, 2) == 4
    assert call_for_value("zero()", lambda: 0) == 0  # a falsy value is a value
    assert message_of(lambda: call_for_value("fix_batch(t)", lambda t: None, 1)) == \
        "`fix_batch(t)` returned None -- did you forget `return`?"
    assert message_of(lambda: call_for_value("`f(t)` on a GPU tensor", lambda t: None, 1)) == \
        "`f(t)` on a GPU tensor returned None -- did you forget `return`?"


def test_assignments_say_forgot_return_through_the_one_helper():
    """No test cell writes the message itself: each calls ``call_for_value``."""
    for notebook in sorted(ASSIGNMENTS.glob("*/*.ipynb")):
        for cell in json.loads(notebook.read_text())["cells"]:
            source = "".join(cell["source"])
            assert "forget `return`" not in source, (notebook.name, source[:300])


def test_call_of_something_that_is_not_a_function_names_the_function():
    from autograder.kit.checks import call

    with pytest.raises(AssertionError, match=r"^`describe` should be a function -- got: None"):
        call("describe(t)", None, torch.zeros(2))
    with pytest.raises(AssertionError, match=r"^`describe` should be a function -- got: \.\.\."):
        call("describe(t)", ..., torch.zeros(2))


def test_call_says_that_code_needs_a_gpu_instead_of_torchs_words():
    from autograder.kit.checks import call

    def uses_the_gpu():
        raise AssertionError("Torch not compiled with CUDA enabled")

    with pytest.raises(AssertionError) as info:
        call("move(t)", uses_the_gpu)
    assert str(info.value).startswith("`move(t)` needs a CUDA GPU, and this machine has none")
    assert "torch.cuda.is_available()" in str(info.value)
