"""gpujit.testing: assert_close reports like torch.testing, assert_consistent skips or runs."""
import collections
import math
import unittest

import numpy as np
import pytest

import gpujit
from gpujit.testing import assert_close, assert_consistent, default_tolerances


def t(data, **kw):
    return gpujit.tensor(data, **kw)


def failure(actual, expected, **kw):
    with pytest.raises(AssertionError) as info:
        assert_close(actual, expected, **kw)
    return str(info.value)


def test_passes_within_default_tolerance():
    assert_close(t([1.0, 2.0]), t([1.0, 2.0 + 1e-6]))
    assert_close(t([1.0, 2.0]), np.array([1.0, 2.0], dtype=np.float32))
    assert_close(t([[1, 2], [3, 4]]), [[1, 2], [3, 4]])
    assert_close(t(2.5), 2.5)
    assert_close(1, 1)
    assert_close(None, None)


def test_float_mismatch_report_matches_torch():
    msg = failure(t([1.0, 2.0, 3.0]), t([1.0, 2.5, 3.0]))
    assert msg == (
        "Tensor-likes are not close!\n\n"
        "Mismatched elements: 1 / 3 (33.3%)\n"
        "Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)\n"
        "Greatest relative difference: 0.20000000298023224 at index (1,) (up to 1.3e-06 "
        "allowed)")


def test_report_points_at_greatest_absolute_and_relative_differences_separately():
    actual = t([[0.0, 10.0], [1.5, 3.0]])
    expected = t([[0.0, 12.0], [1.0, 3.0]])
    msg = failure(actual, expected)
    assert "Mismatched elements: 2 / 4 (50.0%)" in msg
    assert "Greatest absolute difference: 2.0 at index (0, 1)" in msg
    assert "Greatest relative difference: 0.5 at index (1, 0)" in msg


def test_integers_compare_exactly():
    msg = failure(t([[1, 2], [3, 4]]), np.array([[1, 2], [3, 5]]))
    assert msg == (
        "Tensor-likes are not equal!\n\n"
        "Mismatched elements: 1 / 4 (25.0%)\n"
        "Greatest absolute difference: 1 at index (1, 1)\n"
        # (torch 2.13 divides an integer difference in float32: 1 / 5 -> 0.2f)
        "Greatest relative difference: 0.20000000298023224 at index (1, 1)")
    # no wrap-around in the difference of small integer types
    msg = failure(t([0], dtype=gpujit.uint8), t([255], dtype=gpujit.uint8))
    assert "Greatest absolute difference: 255 at index (0,)" in msg


def test_bool_mismatch_fails():
    assert "Mismatched elements: 1 / 2" in failure(t([True, False]), t([True, True]))


def test_scalar_report():
    assert failure(1.5, 1.0) == (
        "Scalars are not close!\n\n"
        "Expected 1.0 but got 1.5.\n"
        "Absolute difference: 0.5 (up to 1e-07 allowed)\n"
        "Relative difference: 0.5 (up to 1e-07 allowed)")
    msg = failure(t(1.0), t(0.0))
    assert "Expected 0.0 but got 1.0." in msg
    assert "Relative difference: inf" in msg


def test_tolerances_come_from_the_less_precise_dtype():
    assert default_tolerances(gpujit.float32, gpujit.float64) == (1.3e-6, 1e-5)
    assert default_tolerances(gpujit.float16, gpujit.float32) == (1e-3, 1e-5)
    assert default_tolerances(gpujit.float64) == (1e-7, 1e-7)
    assert default_tolerances(gpujit.int64, gpujit.bool) == (0.0, 0.0)
    # 1e-6 relative is fine for float32 against float64, not for float64 alone
    x64 = t([1.0], dtype=gpujit.float64)
    assert_close(t([1.000001]), x64, check_dtype=False)
    assert "up to 1e-07 allowed" in failure(t([1.000001], dtype=gpujit.float64), x64)
    # float16 tolerances
    assert_close(t([1.0005], dtype=gpujit.float16), t([1.0], dtype=gpujit.float16))


def test_explicit_tolerances():
    assert_close(t([1.0]), t([1.1]), rtol=0, atol=0.2)
    msg = failure(t([1.0]), t([1.1]), rtol=0.01, atol=0.0)
    assert "(up to 0.01 allowed)" in msg
    assert "Greatest absolute difference" in msg and "allowed)\nGreatest relative" not in msg
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol'"):
        assert_close(t([1.0]), t([1.0]), rtol=1e-3)


def test_nan_and_inf():
    nan = t([1.0, math.nan])
    assert "Mismatched elements: 1 / 2" in failure(nan, nan)
    assert_close(nan, t([1.0, math.nan]), equal_nan=True)
    assert_close(t([math.inf, -math.inf]), t([math.inf, -math.inf]))
    assert "Mismatched elements: 1 / 1" in failure(t([math.inf]), t([-math.inf]))


def test_shape_dtype_device_checks():
    assert failure(t([1.0, 2.0]), t([1.0, 2.0, 3.0])) == (
        "The values for attribute 'shape' do not match: gpujit.Size([2]) != "
        "gpujit.Size([3]).")
    # dtype differences of two tensors fail by default, as PyTorch's (they passed before:
    # a float32 result checked against a float64 expectation was silently accepted)
    assert failure(t([1.0]), t([1.0], dtype=gpujit.float64)) == (
        "The values for attribute 'dtype' do not match: gpujit.float32 != gpujit.float64.")
    assert_close(t([1.0]), t([1.0], dtype=gpujit.float64), check_dtype=False)
    assert failure(1, 1.0) == "The (d)types do not match: <class 'int'> != <class 'float'>."
    assert_close(1, 1.0, check_dtype=False)
    # a tensor against an array / list / number (gpujit's extension): values only
    assert_close(t([1.0]), np.array([1.0], dtype=np.float64))
    assert_close(t([1.0]), [1.0])


def test_assert_close_defaults_equal_torch():
    torch = pytest.importorskip("torch")
    import inspect
    ps = inspect.signature(torch.testing.assert_close).parameters
    mine = inspect.signature(assert_close).parameters
    for name in ("check_dtype", "check_device", "equal_nan", "rtol", "atol"):
        assert mine[name].default == ps[name].default, name
    for a, b in ((torch.ones(2), torch.ones(2, dtype=torch.float64)), (1, 1.0)):
        with pytest.raises(AssertionError) as want:
            torch.testing.assert_close(a, b)
        ga = gpujit.tensor(a.numpy()) if hasattr(a, "numpy") else a
        gb = gpujit.tensor(b.numpy()) if hasattr(b, "numpy") else b
        with pytest.raises(AssertionError) as got:
            assert_close(ga, gb)
        assert str(got.value).replace("gpujit.", "torch.") == str(want.value)


def test_nested_structures_name_the_failing_item():
    actual = {"a": (1, t([1.0, 2.0])), "b": [t([3])]}
    assert_close(actual, {"a": (1, t([1.0, 2.0])), "b": [t([3])]})
    msg = failure(actual, {"a": (1, t([1.0, 2.1])), "b": [t([3])]})
    assert msg.startswith("Tensor-likes are not close!")
    assert msg.endswith("The failure occurred for item ['a'][1]")
    msg = failure([t([1.0]), t([2.0])], [t([1.0]), t([2.5])])
    assert msg.endswith("The failure occurred for item [1]")
    assert failure([1, 2], [1, 2, 3]) == "The length of the sequences mismatch: 2 != 3"
    msg = failure({"a": 1}, {"a": 1, "b": 2})
    assert "Missing keys in the actual mapping: ['b']" in msg
    Pair = collections.namedtuple("Pair", "x y")
    assert "item [1]" in failure(Pair(t([1.0]), t([1.0])), Pair(t([1.0]), t([3.0])))


def test_msg_replaces_or_rewrites_the_report():
    assert failure(t([1.0]), t([2.0]), msg="custom") == "custom"
    msg = failure(t([1.0]), t([2.0]), msg=lambda m: "context\n" + m)
    assert msg.startswith("context\nTensor-likes are not close!")


def test_incomparable_types_fail_clearly():
    assert "No comparison between" in failure(t([1.0]), "abc")


def test_assert_consistent_without_gpu_skips_with_the_install_hint():
    if gpujit.cuda.is_available():
        pytest.skip("this machine has a GPU; the CUDA tests below cover it")
    with pytest.raises(pytest.skip.Exception, match=r'pip install "gpujit\[cuda12\]"'):
        assert_consistent(gpujit.tanh, t([1.0]))


def test_assert_consistent_raises_unittest_skip_outside_pytest(monkeypatch):
    if gpujit.cuda.is_available():
        pytest.skip("this machine has a GPU")
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    with pytest.raises(unittest.SkipTest, match="needs CuPy and an NVIDIA GPU"):
        assert_consistent(gpujit.tanh, t([1.0]))


@pytest.mark.cuda
def test_assert_consistent_passes_for_agreeing_functions():
    x = gpujit.tensor(np.linspace(-2, 2, 64, dtype=np.float32).reshape(8, 8))
    assert_consistent(lambda a, b: (gpujit.tanh(a) + b["y"] * 2, [a - 1]), x, {"y": x})


@pytest.mark.cuda
def test_assert_consistent_moves_modules():
    model = gpujit.nn.Sequential(gpujit.nn.Linear(8, 4), gpujit.nn.Tanh())
    assert_consistent(model, gpujit.tensor(np.ones((2, 8), dtype=np.float32)))
    assert next(model.parameters()).device == gpujit.device("cpu")   # the original stays


@pytest.mark.cuda
def test_assert_consistent_fails_on_device_dependent_results():
    def f(x):
        return x + (1.0 if x.is_cuda else 0.0)
    with pytest.raises(AssertionError, match="Mismatched elements: 4 / 4"):
        assert_consistent(f, gpujit.ones(4))


@pytest.mark.cuda
def test_assert_consistent_fails_when_cuda_run_returns_cpu_tensors():
    with pytest.raises(AssertionError, match=r"not on CUDA: output\[1\] on cpu"):
        assert_consistent(lambda x: (x, x.cpu()), gpujit.ones(2))


@pytest.mark.cuda
def test_assert_consistent_compares_the_fused_code_of_compiled_functions(monkeypatch):
    """A scripted function's first call only profiles: assert_consistent runs it until
    its optimized (fused) code runs, on each device, and compares every run."""
    from gpujit import kernels

    build = kernels.build

    def off_by_one_on_cuda(spec, target):
        k = build(spec, target)
        if target != "cuda":
            return k
        return lambda *args: tuple(o + 1 for o in k(*args))

    monkeypatch.setattr(kernels, "build", off_by_one_on_cuda)

    @gpujit.jit.script
    def f(x, y):
        return gpujit.tanh(x * 0.375 + y) * gpujit.sigmoid(x - y)

    x = gpujit.tensor(np.linspace(-2, 2, 64, dtype=np.float32))
    with pytest.raises(AssertionError, match=r"CUDA result \(run 2 of 2: optimized\)"):
        assert_consistent(f, x, x * 2)
