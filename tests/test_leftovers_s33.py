"""Session 33 (helper c33): view / alias fidelity and numeric leftovers, against PyTorch 2.13.

ldexp with a bool exponent tensor. PyTorch 2.13 gives a floating-point self scaled by an
integer-tensor exponent its own kernel (ldexp_cpu_exp: exact, no 2.0 ** other in between),
and that kernel has no bool case:
    torch.ldexp(torch.tensor([1.]), torch.tensor([True]))
    -> NotImplementedError: "ldexp_cpu_exp" not implemented for 'Bool'
(also float16 / float64 self, a 0-dim exponent, ldexp_, out=, and in TorchScript), while an
integer or bool self takes the self * 2.0 ** other path and works:
    torch.ldexp(torch.tensor([3]), torch.tensor([True]))  -> tensor([6.])  (float32)
    torch.ldexp(torch.tensor([True]), torch.tensor([True])) -> tensor([2.])
gpujit computed 2.0 for every one of them.
"""
import numpy as np
import pytest

import gpujit as torch

_WORDS = "\"ldexp_cpu_exp\" not implemented for 'Bool'"


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("zero_dim", [False, True])
def test_ldexp_float_self_bool_exponent_raises(dtype, zero_dim):
    x = torch.tensor([1.0], dtype=getattr(torch, dtype))
    e = torch.tensor(True) if zero_dim else torch.tensor([True])
    with pytest.raises(NotImplementedError) as ei:
        torch.ldexp(x, e)
    assert _WORDS in str(ei.value)
    with pytest.raises(NotImplementedError, match="ldexp_cpu_exp"):
        x.ldexp(e)
    with pytest.raises(NotImplementedError, match="ldexp_cpu_exp"):
        x.clone().ldexp_(e)
    with pytest.raises(NotImplementedError, match="ldexp_cpu_exp"):
        torch.ldexp(x, e, out=torch.empty(1, dtype=x.dtype))


def test_ldexp_integer_or_bool_self_bool_exponent_works():
    r = torch.ldexp(torch.tensor([3]), torch.tensor([True]))
    assert r.dtype == torch.float32
    np.testing.assert_array_equal(r.numpy(), np.array([6.0], np.float32))
    r = torch.ldexp(torch.tensor([True]), torch.tensor([True]))
    assert r.dtype == torch.float32
    np.testing.assert_array_equal(r.numpy(), np.array([2.0], np.float32))
    r = torch.ldexp(torch.tensor([True]), torch.tensor([2.0]))
    np.testing.assert_array_equal(r.numpy(), np.array([4.0], np.float32))
    # an integer exponent with a float self is the exact kernel: 1e-4 * 2 ** 20 in float16
    r = torch.ldexp(torch.tensor([1e-4], dtype=torch.float16), torch.tensor([20], dtype=torch.int8))
    assert r.dtype == torch.float16
    np.testing.assert_array_equal(r.numpy(), np.array([104.875], np.float16))


@torch.jit.script
def _scripted_ldexp(x, y):
    return torch.ldexp(x * 2, y)


def test_ldexp_bool_exponent_scripted():
    for _ in range(2):      # (the profiling run and the optimized one)
        with pytest.raises(Exception, match="ldexp_cpu_exp"):
            _scripted_ldexp(torch.tensor([1.0]), torch.tensor([True]))
    np.testing.assert_array_equal(_scripted_ldexp(torch.tensor([1.0]), torch.tensor([3])).numpy(),
                                  np.array([16.0], np.float32))
