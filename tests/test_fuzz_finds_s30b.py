"""Programs the fuzzers found in session 30 (helper r30, seeds 30003..), minimised;
expected values are PyTorch 2.13's (eager / torch.jit.script, x86-64), written out.

- test_program_fuzz_s20's gradient check of mode 6 (tests/program_fuzz_gen_f.py,
  GPUJIT_PROGRAM_FUZZ_SEED=30003, seed 30003*100003+2800000+14): `x2.logical_not_()` on
  an input that requires grad raised 'a leaf Variable that requires grad is being used in
  an in-place operation'; PyTorch gives logical_and/or/xor/not no derivative
  (gen_variable_type's DONT_REQUIRE_DERIVATIVE), so their in-place forms write past
  autograd: no leaf or view check, self keeps requires_grad and its grad_fn, only its
  version counts the write.
- test_program_fuzz_s24b (GPUJIT_PROGRAM_FUZZ_SEED=30004, seed 30004*100003+16): a scripted
  `xs.index(x)` of a missing element raised a ValueError that was no RuntimeError;
  TorchScript raises RuntimeError ("'5' is not in list"), as for xs.remove(x) and an index
  out of range: gpujit's are now both (ValueError / IndexError and RuntimeError)."""
from __future__ import annotations

from typing import List

import numpy as np
import pytest

import gpujit


# ------------------------------------------------------------------ logical_*_ in place

@pytest.mark.parametrize("name, other", [("logical_not_", None), ("logical_and_", [1.0, 0.0, 2.0]),
                                         ("logical_or_", [0.0, 0.0, 1.0]),
                                         ("logical_xor_", [1.0, 1.0, 0.0])])
def test_logical_in_place_on_a_leaf_that_requires_grad(name, other):
    x = gpujit.tensor([1.5, 0.0, -2.0], requires_grad=True)
    args = () if other is None else (gpujit.tensor(other),)
    r = getattr(x, name)(*args)
    assert r is x
    assert x.requires_grad and x.is_leaf and x.grad_fn is None and x._version == 1
    want = {"logical_not_": [0.0, 1.0, 0.0], "logical_and_": [1.0, 0.0, 1.0],
            "logical_or_": [1.0, 0.0, 1.0], "logical_xor_": [0.0, 1.0, 1.0]}[name]
    assert x.detach().numpy().tolist() == want
    (x * 2).sum().backward()            # still a leaf that gets its gradient
    assert x.grad.numpy().tolist() == [2.0, 2.0, 2.0]


def test_logical_not_in_place_keeps_a_non_leaf_grad_fn():
    a = gpujit.tensor([1.5, 0.0, -2.0], requires_grad=True)
    x = a * 3
    x.logical_not_()
    assert type(x.grad_fn).__name__ == "MulBackward0" and x._version == 1
    (x * a).sum().backward()
    # torch 2.13: d(x * a)/da with x's old graph (3 * a) and its new value [0, 1, 0]
    assert a.grad.numpy().tolist() == [4.5, 1.0, -6.0]


def test_logical_not_in_place_on_a_view_of_a_leaf_writes_it():
    a = gpujit.tensor([1.5, 0.0, -2.0], requires_grad=True)
    v = a[0:2]
    v.logical_and_(gpujit.tensor([1.0, 1.0]))
    assert a.detach().numpy().tolist() == [1.0, 0.0, -2.0]
    assert a.is_leaf and a.grad_fn is None
    (a * 2).sum().backward()
    assert a.grad.numpy().tolist() == [2.0, 2.0, 2.0]


def test_logical_not_in_place_of_a_saved_result_fails_backward():
    a = gpujit.tensor([1.5, 0.0, -2.0], requires_grad=True)
    x = a.exp()
    x.logical_not_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        x.sum().backward()


def test_logical_or_in_place_of_a_tensor_without_grad_stays_without():
    a = gpujit.tensor([1.5, 0.0, -2.0], requires_grad=True)
    b = gpujit.tensor([1.5, 0.0, -2.0])
    b.logical_or_(a)
    assert not b.requires_grad and b.grad_fn is None
    assert b.numpy().tolist() == [1.0, 0.0, 1.0]


def test_other_in_place_ops_on_a_leaf_still_refused():
    for name, args in (("sign_", ()), ("eq_", (gpujit.tensor([1.0, 0.0, 2.0]),)),
                       ("floor_", ())):
        x = gpujit.tensor([1.5, 0.0, -2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            getattr(x, name)(*args)


def _fuzz_program(x0, x1, x2):
    v = x1 * 2 + x0
    x2.logical_not_()
    return v * x2 + x0.exp()


@pytest.mark.parametrize("scripted", [False, True])
def test_the_fuzzed_program_differentiates(scripted):
    fn = gpujit.jit.script(_fuzz_program) if scripted else _fuzz_program
    rng = np.random.default_rng(0)
    data = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(3)]
    data[2][0, 1] = 0.0
    for _ in range(3):                  # (the profiling run, then the optimized ones)
        xs = [gpujit.from_numpy(d.copy()).requires_grad_(True) for d in data]
        fn(*xs).sum().backward()
        mask = (data[2] == 0).astype(np.float32)
        np.testing.assert_allclose(xs[0].grad.numpy(), 1 * mask + np.exp(data[0]), rtol=1e-6)
        np.testing.assert_allclose(xs[1].grad.numpy(), 2 * mask, rtol=1e-6)
        # (x2 stays a leaf that requires grad: v * x2 reaches it; torch 2.13 the same)
        np.testing.assert_allclose(xs[2].grad.numpy(), 2 * data[1] + data[0], rtol=1e-6)
        assert xs[2].is_leaf and xs[2].detach().numpy().tolist() == mask.tolist()


# ------------------------------------------------------------------ container errors

def _index(xs: List[str], s: str) -> int:
    return xs.index(s)


def _index_int(xs: List[int]) -> int:
    return xs.index(5)


def _remove(xs: List[int]) -> List[int]:
    xs.remove(5)
    return xs


def _get(xs: List[int]) -> int:
    return xs[9]


def _pop(xs: List[int]) -> int:
    return xs.pop(7)


@pytest.mark.parametrize("fn, args, cls, msg", [
    (_index, (["Hello"], "-4"), ValueError, "'-4' is not in list"),
    (_index_int, ([1, 2],), ValueError, "'5' is not in list"),
    (_remove, ([1, 2],), ValueError, "x not in list"),
    (_get, ([1, 2],), IndexError, "list index out of range"),
    (_pop, ([1, 2],), IndexError, "index out of range"),
])
def test_scripted_container_errors_are_runtime_errors_as_torchscripts(fn, args, cls, msg):
    # torch 2.13: RuntimeError: '-4' is not in list / list.remove(x): x not in list /
    # list index out of range (Python's class too, as Python raises it eagerly)
    f = gpujit.jit.script(fn)
    for _ in range(3):
        with pytest.raises(RuntimeError, match=msg) as info:
            f(*args)
        assert isinstance(info.value, cls)
        # (torch 2.13's interpreter report: its frame of the scripted line)
        assert str(info.value).startswith("The following operation failed in the "
                                          "TorchScript interpreter.\n"), str(info.value)


# ------------------------------------------------------------------ v[-1] = w, w of [1, ...]

def _set_last(a, b):
    a[-1] = b
    return a


def test_subscript_assignment_of_a_leading_one_eager_and_scripted():
    # (test_program_fuzz_s25, GPUJIT_PROGRAM_FUZZ_SEED=30005: `v4[-1] = v1` with v1 of
    # shape [1] into a dead v4) eager's __setitem__ drops the value's leading 1s; torch 2.13's
    # script emits select + copy_, which refuses them (its DCE drops the write when the
    # tensor is dead afterwards; gpujit's script keeps it: a documented difference)
    out = _set_last(gpujit.zeros(2), gpujit.ones(1))
    assert out.numpy().tolist() == [0.0, 1.0]
    f = gpujit.jit.script(_set_last)
    with pytest.raises(RuntimeError, match=r"output with shape \[\] doesn't match the "
                                           r"broadcast shape \[1\]"):
        f(gpujit.zeros(2), gpujit.ones(1))
    assert f(gpujit.zeros(2, 3), gpujit.ones(3)).numpy().tolist() == [[0.0] * 3, [1.0] * 3]


# ------------------------------------------------------------------ softmax of ints

@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dt", [np.int64, np.int32, np.bool_])
def test_softmax_of_an_empty_integral_tensor_is_returned(fn, dt):
    # (test_program_fuzz_s22, GPUJIT_PROGRAM_FUZZ_SEED=30005, seeds 30005*100003+220000+
    # 69, 70: `(x <= s).prod(1) - n).log_softmax(0)` of a (0, 5) input) torch 2.13 runs no
    # kernel for an empty input: an empty result of the input's dtype
    for shape, dim in (((0,), 0), ((0, 3), 0), ((0, 3), 1), ((3, 0), 0)):
        x = gpujit.from_numpy(np.zeros(shape, dtype=dt))
        r = getattr(gpujit, fn)(x, dim)
        assert r.dtype == x.dtype and tuple(r.shape) == shape


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_of_integers_names_torchs_kernel(fn):
    x = gpujit.from_numpy(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(NotImplementedError,
                       match=f"^\"{fn}_kernel_impl\" not implemented for 'Long'$"):
        getattr(gpujit, fn)(x, 0)
    for t, dim in ((x, 1), (x, -1), (gpujit.tensor(3), 0)):
        with pytest.raises(NotImplementedError,
                           match=f"^\"{fn}_lastdim_kernel_impl\" not implemented for 'Long'$"):
            getattr(gpujit, fn)(t, dim)
    b = gpujit.from_numpy(np.zeros((2, 3), dtype=np.bool_))
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        b.softmax(0)


def _int_log_softmax(x, s: float, n: int):
    v1 = (x <= s).prod(1)
    return (v1 - n).log_softmax(0)


def test_the_fuzzed_softmax_program_scripted():
    f = gpujit.jit.script(_int_log_softmax)
    for _ in range(3):
        r = f(gpujit.zeros(0, 5), -1.5, 2)
        assert r.dtype == gpujit.int64 and tuple(r.shape) == (0,)
    with pytest.raises(NotImplementedError, match="log_softmax_lastdim_kernel_impl"):
        f(gpujit.zeros(2, 5), -1.5, 2)


# ------------------------------------------------------------------ 0-dim output, permuted

def _zero_dim_tail(x, y, s: float):
    return x - s * x, y.tanh() * 3


def test_a_permuted_kernel_returns_a_zero_dim_output_as_it_is():
    # (test_guard_fuzz_s25, GPUJIT_GUARD_FUZZ_SEED=30005, seed 30005*100003+19) a group
    # with a transposed 2-D input and an output computed from a 0-dim input only: the
    # kernel runs in the 2-D input's layout and its 0-dim output was transposed back
    # ("axes don't match array": FusionWarning, run unfused)
    import warnings
    f = gpujit.jit.script(_zero_dim_tail)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gpujit.fusers.FusionWarning)
        for layout in ("c", "c", "t", "t", "c"):
            a = rng.standard_normal((3, 5) if layout == "t" else (5, 3)).astype(np.float32)
            b = np.float32(rng.standard_normal())
            x = gpujit.from_numpy(a)
            x = x.t() if layout == "t" else x
            y = gpujit.tensor(b)
            t0, t1 = f(x, y, 1.25)
            want0 = (a.T if layout == "t" else a) * np.float32(1 - 1.25)
            np.testing.assert_allclose(t0.numpy(), want0, rtol=1e-6)
            assert t0.stride() == x.stride()
            assert t1.dim() == 0
            np.testing.assert_allclose(t1.item(), np.tanh(b) * 3, rtol=1e-6)
            t1.add_(1)                  # (a result of its own: writable)
            np.testing.assert_allclose(t1.item(), np.tanh(b) * 3 + 1, rtol=1e-6)


# ------------------------------------------------------------------ version errors' words

_HINT = ("Hint: enable anomaly detection to find the operation that failed to compute its "
         "gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")


def _version_error(fn):
    with pytest.raises(RuntimeError) as info:
        fn()
    return str(info.value)


def test_version_error_names_the_node_as_torch_2_13():
    # (met triaging the logical_not_ find: torch 2.13's words, checked there)
    a = gpujit.tensor([1.5, 0.0, -2.0], requires_grad=True)

    def saved_output():
        x = a.exp()
        x.add_(1)           # an output its node saved: that node, 'Exp'
        x.sum().backward()

    def saved_input():
        x = a * 1
        y = x.sin()
        x.mul_(2)           # an input: its grad_fn now, 'Mul'
        y.sum().backward()

    def leaf():
        b = gpujit.tensor([1.5, 0.0, -2.0], requires_grad=True)
        y = b * b
        with gpujit.no_grad():
            b.add_(1)
        y.sum().backward()

    head = ("one of the variables needed for gradient computation has been modified by an "
            "inplace operation: [gpujit.FloatTensor [3]]")
    assert _version_error(saved_output) == (
        f"{head}, which is output 0 of Exp, is at version 1; expected version 0 instead. {_HINT}")
    assert _version_error(saved_input) == (
        f"{head}, which is output 0 of Mul, is at version 1; expected version 0 instead. {_HINT}")
    assert _version_error(leaf) == (
        f"{head} is at version 1; expected version 0 instead. {_HINT}")
    with gpujit.autograd.set_detect_anomaly(True):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            msg = _version_error(saved_output)
    assert msg.endswith("Hint: the backtrace further above shows the operation that failed "
                        "to compute its gradient. The variable in question was changed in "
                        "there or anywhere later. Good luck!"), msg


# ------------------------------------------------------------------ amax of a NaN slice

def test_amax_amin_aminmax_gradient_of_a_nan_slice_is_nan():
    # (mode 6's gradient check, GPUJIT_PROGRAM_FUZZ_SEED=30007, seed 30007*100003+
    # 2800018: x0.amax() of x0 ** x0 with a negative x0) torch 2.13's scale_grad_by_count masks
    # with `result == self`: no element equals a NaN extreme, 0 / 0 along its slice
    # (max()'s evenly_distribute_backward gives the gradient to the NaNs: unchanged)
    nan = float("nan")
    x = gpujit.tensor([[1.0, nan], [2.0, 3.0]], requires_grad=True)
    x.amax(1).sum().backward()
    g = x.grad.numpy()
    assert np.isnan(g[0]).all() and g[1].tolist() == [0.0, 1.0]
    x = gpujit.tensor([[1.0, nan], [2.0, 3.0]], requires_grad=True)
    x.amin(1).sum().backward()
    g = x.grad.numpy()
    assert np.isnan(g[0]).all() and g[1].tolist() == [1.0, 0.0]
    x = gpujit.tensor([1.0, nan, 2.0], requires_grad=True)
    a, b = gpujit.aminmax(x)
    (a + b * 2).backward()
    assert np.isnan(x.grad.numpy()).all()
    x = gpujit.tensor([1.0, nan, 2.0], requires_grad=True)
    x.max().backward()
    assert x.grad.numpy().tolist() == [0.0, 1.0, 0.0]
    x = gpujit.tensor([[1.0, 1.0], [2.0, 3.0]], requires_grad=True)
    x.amax(1).sum().backward()
    assert x.grad.numpy().tolist() == [[0.5, 0.5], [0.0, 1.0]]


# ------------------------------------------------------------------ range with a constant step

def _count_down(a: int) -> int:
    n = 0
    for v in range(a, 4, -1):
        n += 1
        if n > 5:
            break
    return n


def _comp_down(a: int) -> List[int]:
    return [v for v in range(a, 4, -2)][:3]


def _comp_up(a: int) -> List[int]:
    return [v for v in range(a, 40, 3)][:3]


def test_range_with_a_constant_step_counts_as_torchscript():
    # (test_program_fuzz_s24b, GPUJIT_PROGRAM_FUZZ_SEED=30007, seed 30007*100003+23:
    # `for v1 in range(a, 4, -1)` with a = -2**63) the trip count was a - 4, which wraps
    # around int64 to 2**63 - 4: the loop ran (for ever); TorchScript's __range_length
    # gives 0 (a is not above 4). Values checked against torch 2.13's torch.jit.script.
    m = 2 ** 63
    f = gpujit.jit.script(_count_down)
    assert [f(a) for a in (-m, m - 1, 0, 10, 5, 4)] == [0, 6, 0, 6, 1, 0]
    g = gpujit.jit.script(_comp_down)
    assert [g(a) for a in (-m, 0, 10, 5, 4)] == [[], [], [10, 8, 6], [5], []]
    h = gpujit.jit.script(_comp_up)
    assert [h(a) for a in (-m, m - 1, 39, 40, -40)] == [[], [], [39], [], [-40, -37, -34]]
