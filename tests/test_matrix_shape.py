"""The matrix-shape family (gpujit/ops/matrix_shape.py): diag/diagonal/diag_embed/diagflat,
fill_diagonal_, tril/triu_indices, kron, rot90, block_diag, meshgrid, cartesian_prod,
tensordot, cdist, addmv, addr, chain_matmul, vander and the in-place view ops (t_,
transpose_, squeeze_, unsqueeze_). Values against NumPy are in tests/opinfo/matrix_shape.py;
here: views and memory sharing, warnings, PyTorch's Python signatures, scripted calls,
gradients, and CUDA."""
import warnings

import numpy as np
import pytest

import gpujit as torch
from gpujit.ops import registry
from gpujit.ops.meta import meta_of, run_meta


def T(a):
    return torch.from_numpy(np.asarray(a))


# ------------------------------------------------------------------ views

def test_diagonal_is_a_view_writes_go_through():
    x = torch.zeros(3, 4)
    d = x.diagonal(1)
    d += 5
    np.testing.assert_array_equal(x.numpy(), np.eye(3, 4, 1, dtype=np.float32) * 5)
    y = torch.ones(2, 3, 3)
    y.diagonal(0, 1, 2).mul_(0)
    assert float(y.sum()) == 12.0
    torch.diagonal(y, -1, 2, 1).fill_(7)                 # y[b, i, i + 1], as torch
    assert (y == 7).nonzero().tolist() == [[0, 0, 1], [0, 1, 2], [1, 0, 1], [1, 1, 2]]


def test_diagonal_strides_and_offset_as_torch():
    y = torch.ones(2, 3, 3)
    v = y.diagonal(1, 0, 2)
    assert tuple(v.shape) == (3, 2) and v.stride() == (3, 10) and v.storage_offset() == 1
    w = y.diagonal(-1, -1, 0)
    assert tuple(w.shape) == (3, 2) and w.storage_offset() == 1
    assert torch.diagonal(torch.zeros(3, 4), 9).shape == (0,)


def test_diag_of_a_matrix_is_a_copy():
    x = torch.arange(9.).reshape(3, 3)
    d = torch.diag(x)
    d += 1
    assert float(x[0, 0]) == 0.0


def test_fill_diagonal_in_place_and_wrap():
    x = torch.zeros(7, 3)
    r = x.fill_diagonal_(2.0, wrap=True)
    assert r is x and x._version == 1
    want = np.zeros((7, 3), np.float32)
    np.fill_diagonal(want, 2.0, wrap=True)
    np.testing.assert_array_equal(x.numpy(), want)
    i = torch.zeros(3, 3, dtype=torch.int64).fill_diagonal_(1.5)
    assert i.dtype is torch.int64 and i.numpy().trace() == 3


def test_meshgrid_outputs_are_expanded_views():
    a, b = torch.tensor([1, 2]), torch.tensor([3, 4, 5])
    ga, gb = torch.meshgrid(a, b, indexing="ij")
    assert ga.stride() == (1, 0) and gb.stride() == (0, 1)
    xa, xb = torch.meshgrid([a, b], indexing="xy")
    assert tuple(xa.shape) == (3, 2)
    np.testing.assert_array_equal(xa.numpy(), np.meshgrid([1, 2], [3, 4, 5])[0])


def test_meshgrid_warns_without_indexing_as_torch():
    a = torch.arange(2)
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        out = torch.meshgrid(a, a)
    assert isinstance(out, tuple) and len(out) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.meshgrid(a, a, indexing="ij")


def test_chain_matmul_is_deprecated():
    a = torch.ones(2, 3)
    with pytest.warns(UserWarning, match="torch.chain_matmul is deprecated"):
        r = torch.chain_matmul(a, a.t(), a)
    np.testing.assert_array_equal(r.numpy(), np.full((2, 3), 6.0, np.float32))


# ------------------------------------------------------------------ in-place views

@pytest.mark.parametrize("name,shape,args,want,strides", [
    ("t_", (2, 3), (), (3, 2), (1, 3)),
    ("transpose_", (2, 3, 4), (0, 2), (4, 3, 2), (1, 4, 12)),
    ("squeeze_", (2, 1, 4, 1), (), (2, 4), None),
    ("squeeze_", (2, 1, 4, 1), (1,), (2, 4, 1), None),
    ("squeeze_", (2, 1, 4, 1), ((1, 3),), (2, 4), None),
    ("unsqueeze_", (2, 3), (-1,), (2, 3, 1), None),
])
def test_inplace_view_ops_restride_self(name, shape, args, want, strides):
    x = torch.arange(float(np.prod(shape))).reshape(shape)
    before = x.numpy().copy()
    qualified = f"aten::{name}"
    if name == "squeeze_" and args:         # (squeeze_.dim / squeeze_.dims, as PyTorch's)
        qualified += ".dim" if isinstance(args[0], int) else ".dims"
    op = registry.OPS[qualified]
    m = run_meta(op, meta_of(x), *args)
    r = getattr(x, name)(*args)
    assert r is x and x._version == 1
    assert tuple(x.shape) == want and m.shape == want
    if strides is not None:
        assert x.stride() == strides
    ref = {"t_": lambda a: a.T, "transpose_": lambda a: np.swapaxes(a, *args)}.get(
        name, lambda a: a.reshape(want))(before)
    np.testing.assert_array_equal(x.numpy(), ref)


def test_t_error_names_t_():
    with pytest.raises(RuntimeError, match=r"t_\(\) expects a tensor with <= 2 dimensions, "
                       r"but self is 3D"):
        torch.ones(2, 3, 4).t_()


def test_inplace_view_op_keeps_sharing_memory():
    base = torch.zeros(2, 3)
    v = base[:]
    v.t_()
    v[0, 1] = 4.0
    assert float(base[1, 0]) == 4.0


# ------------------------------------------------------------------ Python signatures

def test_tensordot_dims_forms():
    a, b = torch.arange(24.).reshape(2, 3, 4), torch.arange(12.).reshape(4, 3)
    na, nb = a.numpy(), b.numpy()
    np.testing.assert_allclose(torch.tensordot(a, b, dims=([1, 2], [1, 0])).numpy(),
                               np.tensordot(na, nb, ([1, 2], [1, 0])))
    np.testing.assert_allclose(torch.tensordot(a, b, 1).numpy(), np.tensordot(na, nb, 1))
    np.testing.assert_allclose(torch.tensordot(a, b, torch.tensor(1)).numpy(),
                               np.tensordot(na, nb, 1))
    assert tuple(torch.tensordot(a, b, 0).shape) == (2, 3, 4, 4, 3)
    with pytest.raises(RuntimeError, match="tensordot expects dims >= 0, but got dims=-1"):
        torch.tensordot(a, b, -1)
    with pytest.raises(RuntimeError, match="tensordot expects dims < ndim_a or ndim_b, but "
                       "got dims=3"):
        torch.tensordot(a, b, 3)


def test_varargs_functions():
    assert tuple(torch.block_diag(torch.ones(2, 2), torch.ones(3)).shape) == (3, 5)
    assert tuple(torch.block_diag().shape) == (1, 0)
    assert tuple(torch.cartesian_prod(torch.arange(2), torch.arange(3)).shape) == (6, 2)
    with pytest.raises(RuntimeError, match="meshgrid expects a non-empty TensorList"):
        torch.cartesian_prod()


def test_methods():
    x = torch.arange(6.).reshape(2, 3)
    assert tuple(x.diag().shape) == (2,)
    assert tuple(x.kron(torch.ones(2, 1)).shape) == (4, 3)
    assert tuple(x.rot90().shape) == (3, 2)
    assert tuple(x.diag_embed().shape) == (2, 3, 3)
    assert tuple(x.diagflat().shape) == (6, 6)
    assert tuple(torch.ones(3).addmv(x.t(), torch.ones(2)).shape) == (3,)
    assert tuple(torch.zeros(2, 3).addr(torch.ones(2), torch.ones(3)).shape) == (2, 3)


def test_factories_take_dtype_and_device():
    t = torch.tril_indices(3, 3, dtype=torch.int32, device="cpu")
    assert t.dtype is torch.int32 and tuple(t.shape) == (2, 6)
    assert torch.triu_indices(3, 3).dtype is torch.int64


# ------------------------------------------------------------------ scripted

def test_scripted_calls():
    def f(x):
        a, b = torch.meshgrid([x, x + 1], indexing="xy")
        m = torch.kron(a, b).rot90(1, [0, 1])
        d = torch.diag(m, 1).sum() + m.diagonal(0, 0, 1).sum()
        y = m.clone()
        y.t_()
        return torch.tensordot(y, m, 2) + d + torch.block_diag(a, b).sum() + \
            torch.tensordot(a, b, dims=([1], [0])).sum()
    x = torch.arange(3.)
    s = torch.jit.script(f)
    assert float(s(x)) == pytest.approx(float(f(x)))
    code = s.code
    assert "aten::tensordot" in code or "tensordot" in code


def test_scripted_meshgrid_varargs_and_cartesian_prod():
    def f(x):
        g = torch.meshgrid(x, x * 2, indexing="ij")
        return g[0] + g[1] + torch.cartesian_prod(x, x).sum()
    x = torch.arange(3.)
    assert torch.jit.script(f)(x).allclose(f(x))


# ------------------------------------------------------------------ gradients

def test_gradients_flow():
    x = torch.arange(9., dtype=torch.float64).reshape(3, 3).requires_grad_()
    (x.diagonal(1).sum() * 2 + torch.diag(x).sum()).backward()
    want = np.eye(3) + 2 * np.eye(3, k=1)
    np.testing.assert_allclose(x.grad.numpy(), want)
    y = (x * 1).t_()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), want + 1)
    v = torch.tensor([1., 2., 3.], dtype=torch.float64, requires_grad=True)
    # (session 39: PyTorch 2.13's vander overwrites the slice its cumprod saved, so its
    # backward raises; gpujit records the same nodes)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        torch.vander(v, 3).sum().backward()


# ------------------------------------------------------------------ CUDA

@pytest.mark.cuda
def test_cuda_matches_cpu():
    if not torch.cuda.is_available():
        pytest.skip("needs CuPy and an NVIDIA GPU")
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    c = T(a).to("cuda")
    d = c.diagonal(1)
    d += 10
    assert d.device.type == "cuda"
    np.testing.assert_array_equal(c.cpu().numpy(), a + 10 * np.eye(3, 4, 1, dtype=np.float32))
    c.t_()
    assert tuple(c.shape) == (4, 3) and c.device.type == "cuda"
    t = torch.tril_indices(3, 3, device="cuda")
    assert t.device.type == "cuda"
    np.testing.assert_array_equal(t.cpu().numpy(), np.stack(np.tril_indices(3)))
    g = torch.meshgrid(torch.arange(2, device="cuda"), torch.arange(3, device="cuda"),
                       indexing="ij")
    assert g[0].device.type == "cuda" and tuple(g[1].shape) == (2, 3)
    np.testing.assert_allclose(torch.cdist(T(a).cuda(), T(a).cuda()).cpu().numpy(),
                               torch.cdist(T(a), T(a)).numpy(), rtol=1e-6)
    z = torch.zeros(4, 4, device="cuda").fill_diagonal_(3.0)
    assert float(z.sum().cpu()) == 12.0


def test_scripted_inplace_view_ops_after_profiling():
    """The compiled code (after the profiling runs) restrides self's variable and its
    Tensor object: later uses, the caller's tensor and branches/loops see the new shape."""
    @torch.jit.script
    def f(x, z, flag: bool):
        x.t_()
        y = z * 2.0 + 1
        if flag:
            y.t_()
        for i in range(3):
            y.unsqueeze_(0)
            y.squeeze_(0)
            y.transpose_(0, 1)
        return x * 2, y * z if flag else y * z.t(), x.shape[0]

    for i in range(5):
        flag = i % 2 == 0
        x, z = torch.arange(6.).reshape(2, 3), torch.arange(6.).reshape(3, 2)
        a, b, n = f(x, z, flag)
        nz = np.arange(6.0, dtype=np.float32).reshape(3, 2)
        y = nz * 2 + 1
        want = y * nz if flag else y.T * nz.T    # t_ and 3 transposes, or 3 transposes
        assert tuple(x.shape) == (3, 2) and n == 3
        np.testing.assert_array_equal(a.numpy(), np.arange(6.0).reshape(2, 3).T * 2)
        np.testing.assert_array_equal(b.numpy(), want)
