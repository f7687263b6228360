"""torch.linalg's composite functions added in session 25: linalg.cond, vander, tensorinv,
tensorsolve, diagonal and lu_factor_ex (NumPy references; their gradients against finite
differences), callable from scripted code; lu_factor's singular-matrix error is a plain
RuntimeError as PyTorch's; nn.init's deprecated pre-0.4 names (nn.init.normal ...)."""
import math

import numpy as np
import pytest

import gpujit as torch

RNG = np.random.default_rng(25)
A = RNG.standard_normal((2, 3, 3))


def npy(t):
    return np.asarray(t.tolist())


# ------------------------------------------------------------------ cond

@pytest.mark.parametrize("p", [None, 2, -2, 1, -1, math.inf, -math.inf, "fro", "nuc"])
def test_cond_values(p):
    got = torch.linalg.cond(torch.tensor(A), p)
    want = np.linalg.cond(A, p)
    assert got.shape == (2,) and got.dtype == torch.float64
    np.testing.assert_allclose(npy(got), want, rtol=1e-10)
    got32 = torch.linalg.cond(torch.tensor(A, dtype=torch.float32), p)
    assert got32.dtype == torch.float32
    np.testing.assert_allclose(npy(got32), want, rtol=1e-4)


def test_cond_special_inputs():
    # a singular matrix: inf for the norms through the inverse, NumPy's answer
    assert torch.linalg.cond(torch.zeros(2, 2), 1).item() == math.inf
    assert torch.linalg.cond(torch.zeros(2, 2), "fro").item() == math.inf
    assert math.isnan(torch.linalg.cond(torch.zeros(2, 2)).item())
    # empty matrices: zeros of the batch shape
    z = torch.linalg.cond(torch.zeros(2, 0, 0), 1)
    assert z.shape == (2,) and npy(z).tolist() == [0.0, 0.0]
    # the 2-norm of a non-square matrix is defined; the others are not
    M = RNG.standard_normal((2, 3))
    np.testing.assert_allclose(torch.linalg.cond(torch.tensor(M)).item(),
                               np.linalg.cond(M), rtol=1e-10)
    with pytest.raises(RuntimeError, match=r"linalg.cond\(ord=1\): A must be batches of "
                                           r"square matrices, but they are 2 by 3 matrices"):
        torch.linalg.cond(torch.tensor(M), 1)
    with pytest.raises(RuntimeError, match="linalg.cond got an invalid norm type: 3"):
        torch.linalg.cond(torch.tensor(A), 3)
    with pytest.raises(RuntimeError, match="linalg.cond got an invalid norm type: spam"):
        torch.linalg.cond(torch.tensor(A), "spam")
    with pytest.raises(RuntimeError, match="must have at least 2 dimensions"):
        torch.linalg.cond(torch.ones(3))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor"):
        torch.linalg.cond(torch.eye(2, dtype=torch.int64))


@pytest.mark.parametrize("p", [None, -2, "nuc"])
def test_cond_gradient(p):
    a = torch.tensor(A, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: torch.linalg.cond(x, p), (a,))


@pytest.mark.parametrize("p", ["fro", 1, math.inf])
def test_cond_gradient_refused_as_pytorch(p):
    # (session 39: PyTorch 2.13's linalg_cond overwrites the inverse linalg.inv_ex saved
    # (masked_fill_), so its backward raises; gpujit records the same nodes)
    a = torch.tensor(A, requires_grad=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        torch.linalg.cond(a, p).sum().backward()


# ------------------------------------------------------------------ vander

def test_vander_values_and_dtypes():
    x = np.array([[2.0, 3.0, -1.5], [0.5, 0.0, 4.0]])
    got = torch.linalg.vander(torch.tensor(x))
    np.testing.assert_allclose(npy(got), x[..., None] ** np.arange(3))
    got = torch.linalg.vander(torch.tensor(x, dtype=torch.float32), N=5)
    assert got.dtype == torch.float32 and got.shape == (2, 3, 5)
    np.testing.assert_allclose(npy(got), x[..., None] ** np.arange(5), rtol=1e-6)
    # integers: cumprod's int64 (no uint8 wrap)
    got = torch.linalg.vander(torch.tensor([2, 3], dtype=torch.uint8), N=9)
    assert got.dtype == torch.int64 and npy(got)[1, -1] == 3 ** 8
    assert torch.linalg.vander(torch.zeros(2, 0), N=3).shape == (2, 0, 3)
    with pytest.raises(RuntimeError, match="N must be greater than 1."):
        torch.linalg.vander(torch.tensor([2.0, 3.0]), N=1)
    with pytest.raises(RuntimeError, match="N must be greater than 1."):
        torch.linalg.vander(torch.tensor(2.0))
    with pytest.raises(RuntimeError, match="but got Bool"):
        torch.linalg.vander(torch.tensor([True, False]))


def test_vander_gradient():
    x = torch.tensor([[0.5, -1.2, 2.0]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: torch.linalg.vander(t, N=4), (x,))


# ------------------------------------------------------------------ tensorinv / tensorsolve

def test_tensorinv():
    B = RNG.standard_normal((6, 2, 3))
    inv = torch.linalg.tensorinv(torch.tensor(B), ind=1)
    assert inv.shape == (2, 3, 6)
    np.testing.assert_allclose(npy(inv), np.linalg.tensorinv(B, ind=1), rtol=1e-10)
    C = RNG.standard_normal((2, 3, 6))
    np.testing.assert_allclose(npy(torch.linalg.tensorinv(torch.tensor(C))),
                               np.linalg.tensorinv(C), rtol=1e-10)
    with pytest.raises(RuntimeError, match="Expected a strictly positive integer for 'ind', "
                                           "but got 0"):
        torch.linalg.tensorinv(torch.tensor(B), ind=0)
    with pytest.raises(RuntimeError, match=r"prod\(self.shape\[ind:\]\) == prod\(self.shape"
                                           r"\[:ind\]\), but got 3 != 4"):
        torch.linalg.tensorinv(torch.ones(4, 3), ind=1)
    with pytest.raises(torch.linalg.LinAlgError, match="inv: The diagonal element 1 is zero"):
        torch.linalg.tensorinv(torch.zeros(4, 2, 2), ind=1)
    b = torch.tensor(B, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: torch.linalg.tensorinv(t, ind=1), (b,))


def test_tensorsolve():
    B = RNG.standard_normal((6, 2, 3))
    rhs = RNG.standard_normal(6)
    got = torch.linalg.tensorsolve(torch.tensor(B), torch.tensor(rhs))
    np.testing.assert_allclose(npy(got), np.linalg.tensorsolve(B, rhs), rtol=1e-9)
    P = B.transpose(1, 0, 2)            # (2, 6, 3): dim 0 moved to the end
    got = torch.linalg.tensorsolve(torch.tensor(P), torch.tensor(rhs), dims=(0,))
    assert got.shape == (3, 2)
    np.testing.assert_allclose(npy(got), np.linalg.tensorsolve(P, rhs, axes=(0,)),
                               rtol=1e-9)
    with pytest.raises(RuntimeError, match=r"but got 4 != 6"):
        torch.linalg.tensorsolve(torch.ones(6, 4), torch.ones(6))
    b = torch.tensor(B, requires_grad=True)
    r = torch.tensor(rhs, requires_grad=True)
    assert torch.autograd.gradcheck(torch.linalg.tensorsolve, (b, r))


# ------------------------------------------------------------------ diagonal

def test_linalg_diagonal_is_a_view_of_the_last_two_dims():
    x = torch.arange(24.0).reshape(2, 3, 4)
    d = torch.linalg.diagonal(x, offset=1)
    ref = np.arange(24.0).reshape(2, 3, 4)
    assert npy(d).tolist() == np.diagonal(ref, 1, -2, -1).tolist()
    d.mul_(0)                           # writes through to x
    assert npy(x)[0, 0, 1] == 0 and npy(x)[1, 2, 3] == 0
    assert npy(torch.linalg.diagonal(x, dim1=0, dim2=2)).tolist() == \
        np.diagonal(np.asarray(x.tolist()), 0, 0, 2).tolist()
    a = torch.tensor(A, requires_grad=True)
    torch.linalg.diagonal(a).sum().backward()
    assert npy(a.grad).tolist() == np.broadcast_to(np.eye(3), (2, 3, 3)).tolist()


# ------------------------------------------------------------------ lu_factor_ex

def test_lu_factor_ex():
    LU, piv, info = torch.linalg.lu_factor_ex(torch.tensor(A))
    LU2, piv2 = torch.linalg.lu_factor(torch.tensor(A))
    assert npy(LU).tolist() == npy(LU2).tolist() and npy(piv).tolist() == npy(piv2).tolist()
    assert info.dtype == torch.int32 and info.shape == (2,) and not npy(info).any()
    r = torch.linalg.lu_factor_ex(torch.zeros(3, 2, 2))
    assert npy(r.info).tolist() == [1, 1, 1] and npy(r.pivots).tolist() == [[1, 2]] * 3
    with pytest.raises(RuntimeError, match=r"torch.linalg.lu_factor_ex: \(Batch element 0\): "
                                           r"U\[1,1\] is zero") as e:
        torch.linalg.lu_factor_ex(torch.zeros(3, 2, 2), check_errors=True)
    assert type(e.value) is RuntimeError
    a = torch.tensor(A, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: torch.linalg.lu_factor_ex(t).LU, (a,))


def test_lu_factor_singular_is_a_plain_runtime_error():
    with pytest.raises(RuntimeError, match=r"torch.linalg.lu_factor: U\[1,1\] is zero") as e:
        torch.linalg.lu_factor(torch.zeros(2, 2))
    assert type(e.value) is RuntimeError


# ------------------------------------------------------------------ scripted

def test_scripted_calls():
    @torch.jit.script
    def f(a, x, b, rhs):
        c = torch.linalg.cond(a) + torch.linalg.cond(a, "fro")
        v = torch.linalg.vander(x, N=3)
        inv = torch.linalg.tensorinv(b, ind=1)
        s = torch.linalg.tensorsolve(b, rhs)
        d = torch.linalg.diagonal(a)
        lu = torch.linalg.lu_factor_ex(a)
        return c, v, inv, s, d, lu.info
    B = RNG.standard_normal((6, 2, 3))
    rhs = RNG.standard_normal(6)
    x = np.array([1.5, -2.0])
    for _ in range(2):
        c, v, inv, s, d, info = f(torch.tensor(A), torch.tensor(x), torch.tensor(B),
                                  torch.tensor(rhs))
        np.testing.assert_allclose(npy(c), np.linalg.cond(A) + np.linalg.cond(A, "fro"))
        np.testing.assert_allclose(npy(v), x[:, None] ** np.arange(3))
        np.testing.assert_allclose(npy(inv), np.linalg.tensorinv(B, ind=1), rtol=1e-10)
        np.testing.assert_allclose(npy(s), np.linalg.tensorsolve(B, rhs), rtol=1e-9)
        assert npy(d).tolist() == np.diagonal(A, 0, -2, -1).tolist()
        assert npy(info).tolist() == [0, 0]
    assert "aten::linalg_cond" in str(f.graph) and "aten::linalg_vander" in str(f.graph)


# ------------------------------------------------------------------ nn.init's old names

def test_nn_init_deprecated_names_warn_and_initialize():
    w = torch.empty(3, 4)
    with pytest.warns(FutureWarning, match=r"`nn.init.constant` is now deprecated in favor "
                                           r"of `nn.init.constant_`."):
        r = torch.nn.init.constant(w, 0.5)
    assert r is w and npy(w).tolist() == [[0.5] * 4] * 3
    torch.manual_seed(0)
    with pytest.warns(FutureWarning, match="nn.init.xavier_uniform"):
        torch.nn.init.xavier_uniform(w, gain=2.0)
    bound = 2.0 * math.sqrt(6.0 / 7)
    assert np.abs(npy(w)).max() <= bound and np.abs(npy(w)).max() > 0
    for name in ("uniform", "normal", "eye", "dirac", "xavier_normal", "kaiming_uniform",
                 "kaiming_normal", "orthogonal", "sparse"):
        assert getattr(torch.nn.init, name).__name__ == name


# ------------------------------------------------------------------ tensordot's size-1 dims

def test_tensordot_contracts_a_size_one_dim_with_a_bigger_one():
    # PyTorch sums the other side's dim first (gpujit raised "contracted dimensions need
    # to match"); the gradient sums / expands back
    a = RNG.standard_normal((3, 1))
    b = RNG.standard_normal((4, 3))
    got = torch.tensordot(torch.tensor(a), torch.tensor(b), ([1], [0]))
    np.testing.assert_allclose(npy(got), np.tensordot(a, b.sum(0, keepdims=True),
                                                      ([1], [0])), rtol=1e-12)
    ta = torch.tensor(a, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, y: torch.tensordot(x, y, ([1], [0])), (ta, tb))
    c = torch.tensor(RNG.standard_normal((2, 1, 5)), requires_grad=True)
    d = torch.tensor(RNG.standard_normal((5, 3, 4)), requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, y: torch.tensordot(x, y, ([1, 2], [2, 0])),
                                    (c, d))
    with pytest.raises(RuntimeError, match="contracted dimensions need to match, but first "
                                           "has size 2 in dim 1 and second has size 4"):
        torch.tensordot(torch.ones(3, 2), torch.ones(4, 3), ([1], [0]))


# ------------------------------------------------------------------ a non-Tensor argument

@pytest.mark.parametrize("call, message", [
    (lambda: torch.matmul(torch.ones(3), 2),
     r"matmul\(\): argument 'other' \(position 2\) must be Tensor, not int"),
    (lambda: torch.dot(torch.ones(2), None),
     r"dot\(\): argument 'tensor' \(position 2\) must be Tensor, not NoneType"),
    (lambda: torch.softmax(2, 0),
     r"softmax\(\): argument 'input' \(position 1\) must be Tensor, not int"),
    (lambda: torch.polygamma(1, 2.5),
     r"polygamma\(\): argument 'input' \(position 2\) must be Tensor, not float"),
    (lambda: torch.igamma(torch.ones(3), 2),
     r"igamma\(\): argument 'other' \(position 2\) must be Tensor, not int"),
    (lambda: torch.cat([torch.ones(2), 2]),
     r"expected Tensor as element 1 in argument 0, but got int"),
    (lambda: torch.stack((torch.ones(2), "x")),
     r"expected Tensor as element 1 in argument 0, but got str"),
])
def test_a_non_tensor_for_a_tensor_argument_is_a_type_error(call, message):
    # (it was an AttributeError from inside the op: "'int' object has no attribute 'dtype'")
    with pytest.raises(TypeError, match=message):
        call()


def test_numbers_still_work_where_the_op_takes_them():
    assert npy(torch.add(torch.ones(2), 1)).tolist() == [2.0, 2.0]
    assert npy(torch.where(torch.tensor([True, False]), 1, 0)).tolist() == [1, 0]
