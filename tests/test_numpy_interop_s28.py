"""NumPy interop of Tensors as torch 2.13's: __array_wrap__ (NumPy results over Tensors are
Tensors), __array__ (x.numpy()'s refusals), __eq__ with an ndarray, NumPy scalars read as
Python numbers, Tensor[] arguments, reflected operators' parameters, bitwise dtype errors.
Every expectation checked against torch 2.13 (numpy 2.4)."""
import warnings

import numpy as np
import pytest

import gpujit as torch


def _x():
    return torch.tensor([1.0, 2.0, 4.0])


def _t(r, dtype, values):
    assert isinstance(r, torch.Tensor) and r.dtype == dtype, (type(r), getattr(r, "dtype", None))
    np.testing.assert_allclose(r.numpy(), values, rtol=1e-6)


def test_numpy_functions_over_tensors_give_tensors():
    x, xi, xb = _x(), torch.tensor([1, 2, 3]), torch.tensor([True, False, True])
    with warnings.catch_warnings():
        # (torch 2.13's __array_wrap__ takes no context / return_scalar: NumPy warns)
        warnings.simplefilter("ignore", DeprecationWarning)
        _t(np.sin(x), torch.float32, np.sin([1.0, 2.0, 4.0]))
        _t(np.add(x, 1), torch.float32, [2.0, 3.0, 5.0])
        _t(np.add(xi, 1), torch.int64, [2, 3, 4])
        _t(np.sqrt(xi), torch.float64, np.sqrt([1.0, 2.0, 3.0]))
        _t(np.negative(xi), torch.int64, [-1, -2, -3])
        _t(np.sin(xb), torch.float16, np.sin(np.array([1, 0, 1], np.float16)))
        _t(np.cumsum(x), torch.float32, [1.0, 3.0, 7.0])
        # a bool result is uint8, as torch's __array_wrap__
        _t(np.greater(x, 1), torch.uint8, [0, 1, 1])
        _t(np.isnan(x), torch.uint8, [0, 0, 0])
        _t(np.logical_not(xb), torch.uint8, [0, 1, 0])
        # a 0-dim result is a 0-dim Tensor
        r = np.add.reduce(x)
        assert r.shape == () and r.dtype == torch.float32 and r.item() == 7.0
        r = np.sin(torch.tensor(2.0))
        assert isinstance(r, torch.Tensor) and r.shape == ()
        q, m = np.divmod(x, 2)
        _t(q, torch.float32, [0.0, 1.0, 2.0])
        _t(m, torch.float32, [1.0, 0.0, 0.0])
    # an out= array stays NumPy's; array constructors give arrays
    assert type(np.add(x, x, out=np.empty(3))) is np.ndarray
    assert type(np.concatenate([x, x])) is np.ndarray and type(np.asarray(x)) is np.ndarray


def test_operators_with_ndarrays_fall_back_to_numpy():
    x = _x()
    _t(x + np.ones(3, np.float32), torch.float32, [2.0, 3.0, 5.0])
    _t(x + np.ones(3), torch.float64, [2.0, 3.0, 5.0])
    _t(x / np.ones(3), torch.float64, [1.0, 2.0, 4.0])
    _t(x + np.array(2.0), torch.float64, [3.0, 4.0, 6.0])
    r = x @ np.ones(3)
    assert isinstance(r, torch.Tensor) and r.shape == () and r.dtype == torch.float64
    assert r.item() == 7.0
    with pytest.raises(ValueError, match="operands could not be broadcast"):
        x + np.ones(2)
    # ndarray on the left: NumPy defers to the Tensor (__array_priority__), whose reflected
    # operator refuses an ndarray: Python's error (+: ndarray's sequence concatenation)
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for -: 'numpy.ndarray' "
                                        r"and 'Tensor'"):
        np.ones(3) - x
    with pytest.raises(TypeError, match="Concatenation operation is not implemented for NumPy"):
        np.ones(3) + x
    with pytest.raises(TypeError, match="'<' not supported between instances of 'Tensor' and "
                                        "'numpy.ndarray'"):
        x < np.ones(3)


def test_array_refuses_what_numpy_refuses():
    xg = torch.tensor([1.0, 2.0], requires_grad=True)
    msg = "Can't call numpy\\(\\) on Tensor that requires grad"
    for f in (np.asarray, np.sin, lambda t: t + np.ones(2)):
        with pytest.raises(RuntimeError, match=msg):
            f(xg)
    # np.array copies, np.asarray shares
    t = torch.ones(2)
    a = np.array(t)
    a[0] = 5
    assert t[0].item() == 1.0
    b = np.asarray(t)
    b[0] = 5
    assert t[0].item() == 5.0
    assert np.asarray(t, np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="Unable to avoid copy"):
        np.asarray(t, dtype=np.float64, copy=False)


def test_eq_takes_an_ndarray_as_its_tensor():
    x, x0 = torch.tensor([0.1, 2.0]), torch.tensor(0.1)
    _t(x == np.array([0.1, 2.0], np.float32), torch.bool, [True, True])
    # the ndarray keeps its dtype: float64 0.1 is not float32 0.1
    _t(x == np.array([0.1, 2.0]), torch.bool, [False, True])
    _t(x0.__eq__(np.array(0.1)), torch.bool, False)
    _t(np.ones(2) == torch.tensor([1, 2]), torch.bool, [True, False])
    _t(torch.ones(2, requires_grad=True) == np.ones(2), torch.bool, [True, True])
    assert x.__eq__(np.ones(2, object)) is NotImplemented
    assert x.__eq__(np.array(["a", "b"])) is NotImplemented
    # __ne__ does not (torch 2.13): Python's identity test
    assert x.__ne__(np.ones(2)) is NotImplemented and (x != np.ones(2)) is True
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(2\) must match the size of "
                                           r"tensor b \(3\)"):
        x == np.ones(3)
    with pytest.raises(ValueError, match="byte order different from the native byte order"):
        x == np.ones(2, ">f8")


def test_from_numpy_refusals():
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.object_. The "
                                        "only supported types are"):
        torch.from_numpy(np.ones(3, object))
    with pytest.raises(ValueError, match="given numpy array has byte order different"):
        torch.from_numpy(np.ones(3, ">f8"))


def test_numpy_scalars_are_python_numbers():
    x0, xi = torch.tensor(0.1), torch.tensor([1, 2])
    u8 = torch.tensor([200], dtype=torch.uint8)
    assert (x0 == np.float64(0.1)).item() is True          # compared in float32
    assert x0.eq(np.float64(0.1)).item() is True
    _t(np.float64(2) * _x(), torch.float32, [2.0, 4.0, 8.0])
    _t(np.float32(2) + xi, torch.float32, [3.0, 4.0])
    _t(np.int64(2) + xi, torch.int64, [3, 4])
    _t(u8 + np.int64(100), torch.uint8, [44])
    assert (u8 == np.int64(456)).item() is True            # 456 wraps to 200
    _t(torch.clamp(u8, np.int64(-1)), torch.uint8, [255])  # -1 wraps to 255
    # np.bool_ is read as a float
    _t(xi + np.bool_(True), torch.float32, [2.0, 3.0])
    _t(torch.full((2,), np.bool_(True)), torch.float32, [1.0, 1.0])
    with pytest.raises(NotImplementedError, match="\"bitwise_and_cpu\" not implemented for "
                                                  "'Float'"):
        torch.tensor([True]) & np.bool_(True)


def test_tensor_lists_take_tensors_only():
    x = _x()
    for f, msg in [
            (lambda: torch.cat([x, np.ones(3)]), "element 1 in argument 0, but got numpy.ndarray"),
            (lambda: torch.cat((np.ones(3), x)), "element 0 in argument 0, but got numpy.ndarray"),
            (lambda: torch.stack([x, np.ones(3)]), "element 1 in argument 0, but got numpy.ndarray"),
            (lambda: torch.cat([np.float64(1), x]), "element 0 in argument 0, but got numpy.float64"),
            (lambda: torch.index_put(x, (np.array([0]),), torch.tensor(1.0)),
             "element 0 in argument 1, but got numpy.ndarray"),
            (lambda: x.index_put_((np.array([0]),), torch.tensor(1.0)),
             "element 0 in argument 0, but got numpy.ndarray"),
            (lambda: torch.cat([x, 1]), "element 1 in argument 0, but got int")]:
        with pytest.raises(TypeError, match="expected Tensor as " + msg):
            f()


def test_reflected_operators_take_self_and_other():
    x, xi = _x(), torch.tensor([1, 2, 3])
    _t(x.__rtruediv__(other=2), torch.float32, [2.0, 1.0, 0.5])
    _t(x.__rsub__(other=2), torch.float32, [1.0, 0.0, -2.0])
    _t(x.__rpow__(other=2), torch.float32, [2.0, 4.0, 16.0])
    _t(x.__rfloordiv__(other=2), torch.float32, [2.0, 1.0, 0.0])
    _t(x.__rmod__(other=2), torch.float32, [0.0, 0.0, 2.0])
    _t(xi.__rlshift__(other=2), torch.int64, [4, 8, 16])
    _t(x.__rmatmul__(other=x), torch.float32, 21.0)
    _t(x.__radd__(2, alpha=2), torch.float32, [5.0, 6.0, 8.0])
    # torch's Python-level ones take nothing else; an argument no operator takes
    assert x.__rsub__(2, alpha=2) is NotImplemented
    assert x.__rtruediv__(2, rounding_mode="floor") is NotImplemented
    assert x.__mul__(2, 3) is NotImplemented and x.__lt__(2, foo=1) is NotImplemented
    with pytest.raises(TypeError, match="got multiple values for argument 'self'"):
        x.__rtruediv__(self=2)
    assert torch.Tensor.__rtruediv__.__name__ == "__rdiv__"
    assert torch.Tensor.__itruediv__.__name__ == "__idiv__"
    _t(x.__rdiv__(2), torch.float32, [2.0, 1.0, 0.5])
    _t(x.__div__(2), torch.float32, [0.5, 1.0, 2.0])


@pytest.mark.parametrize("expr,msg", [
    (lambda: torch.ones(3) & 1, "\"bitwise_and_cpu\" not implemented for 'Float'"),
    (lambda: 1 ^ torch.ones(3), "\"bitwise_xor_cpu\" not implemented for 'Float'"),
    (lambda: torch.ones(3, dtype=torch.float64) | torch.ones(3, dtype=torch.int64),
     "\"bitwise_or_cpu\" not implemented for 'Double'"),
    (lambda: torch.ones(3, dtype=torch.float16) | 1, "\"bitwise_or_cpu\" not implemented for 'Half'"),
    (lambda: torch.ones(3) << 1, "\"lshift_cpu\" not implemented for 'Float'"),
    (lambda: 2 << torch.ones(3), "\"lshift_cpu\" not implemented for 'Float'"),
    (lambda: torch.ones(3, dtype=torch.float64) >> 1, "\"rshift_cpu\" not implemented for 'Double'"),
    (lambda: torch.ones(3, dtype=torch.bool) << True, "\"lshift_cpu\" not implemented for 'Bool'"),
    (lambda: torch.ones(3).__iand__(1), "\"bitwise_and_cpu\" not implemented for 'Float'"),
    (lambda: torch.ones(3).bitwise_not(), "\"bitwise_not_cpu\" not implemented for 'Float'"),
])
def test_bitwise_dtype_errors_are_the_kernels(expr, msg):
    with pytest.raises(NotImplementedError, match=msg):
        expr()


def test_bitwise_shapes_are_checked_first():
    for f in (lambda: torch.ones(3) & torch.ones(2), lambda: torch.ones(3).__iand__(torch.ones(2))):
        with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size "
                                               r"of tensor b \(2\) at non-singleton dimension 0"):
            f()
    with pytest.raises(TypeError, match=r"~ \(operator.invert\) is only implemented on integer "
                                        r"and Boolean-type tensors"):
        ~torch.ones(3)
    np.testing.assert_array_equal((~torch.tensor([1, 2])).numpy(), [-2, -3])
