"""Finds of session 25's program fuzz hunt (helper a25), each with its minimised program
and a NumPy (or own) reference."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit


def test_setitem_of_a_broadcast_piece_of_the_written_memory_is_not_an_overlap():
    # (mode 3, seed 25020 k6) `x2[1:] = x2.narrow(0, 1, 1)`: PyTorch's setitem expands the
    # value to the slice's shape before copy_ (copy_to / expand_inplace), and the expanded
    # value (stride 0) is not dense, so copy_'s overlap check lets it through ("too hard");
    # gpujit copied the [1] value as it was and refused it as a partial overlap
    x = gpujit.arange(5).float()
    x[1:] = x.narrow(0, 1, 1)
    assert x.tolist() == [0.0, 1.0, 1.0, 1.0, 1.0]
    y = gpujit.arange(12).float().view(4, 3)
    y[1:] = y[0]                       # a row of the base into the rows below it
    np.testing.assert_array_equal(y.numpy(), np.tile(np.arange(3.0), (4, 1)))
    # the same shapes: copy_ itself, whose check still refuses a partial overlap
    z = gpujit.arange(5).float()
    with pytest.raises(RuntimeError, match="refer to a single memory location"):
        z[1:3] = z[2:4]
    with pytest.raises(RuntimeError, match="refer to a single memory location"):
        z[1:].copy_(z[1:2])
    # a value that does not broadcast: expand's error
    w = gpujit.zeros(4, 3)
    with pytest.raises(RuntimeError, match="must match the existing size"):
        w[1:] = gpujit.ones(2)
    # gradients flow through the broadcast value
    a = gpujit.ones(3, requires_grad=True)
    b = gpujit.tensor([2.0], requires_grad=True)
    c = a * 1
    c[1:] = b * 3
    c.sum().backward()
    assert a.grad.tolist() == [1.0, 0.0, 0.0] and b.grad.tolist() == [6.0]


def test_addmm_family_truncates_float_scalars_for_integer_tensors():
    # (extended mode 2, seed 25501 k8) torch.addmm(int32, int32, int32, alpha=0.5)
    # answers in PyTorch: the addmm family's integer kernels read beta and alpha as the
    # dtype (Scalar::to<T>, truncated toward zero; out of range, nan or inf: an overflow
    # error); gpujit refused it with addr's (and add's) "must not be a floating point
    # number", which addr keeps
    a = np.arange(6).reshape(2, 3) - 2
    m = a.T @ a
    g = gpujit.from_numpy(a)
    gm = gpujit.from_numpy(m)
    for dt, npdt in ((gpujit.int64, np.int64), (gpujit.int32, np.int32)):
        x, xm = g.to(dt), gm.to(dt)
        for alpha, beta in ((0.5, 1), (-1.5, 1), (2.7, -0.9), (1, 2.5)):
            ia, ib = int(alpha), int(beta)
            want = (ib * m + ia * m).astype(npdt)
            r = gpujit.addmm(xm, x.t(), x, alpha=alpha, beta=beta)
            assert r.dtype is dt and r.numpy().tolist() == want.tolist(), (dt, alpha, beta)
            r = gpujit.baddbmm(xm[None], x.t()[None], x[None], alpha=alpha, beta=beta)
            assert r.numpy().tolist() == [want.tolist()]
            r = gpujit.addbmm(xm, x.t()[None], x[None], alpha=alpha, beta=beta)
            assert r.numpy().tolist() == want.tolist()
            r = xm.clone().addmm_(x.t(), x, alpha=alpha, beta=beta)
            assert r.numpy().tolist() == want.tolist()
            r = gpujit.addmv(x[:, 0], x, x[0], alpha=alpha, beta=beta)
            assert r.numpy().tolist() == (ib * a[:, 0] + ia * (a @ a[0])).tolist()
    name = {gpujit.int64: "int64_t", gpujit.int32: "int", gpujit.uint8: "uint8_t"}
    for dt, alpha in ((gpujit.int64, float("nan")), (gpujit.int32, 1e30),
                      (gpujit.uint8, -0.5), (gpujit.int64, float("inf"))):
        x = g.abs().to(dt)
        with pytest.raises(RuntimeError, match=f"converted to type {name[dt]} without overflow"):
            gpujit.addmm(x.t() @ x, x.t(), x, alpha=alpha)
        with pytest.raises(RuntimeError, match="without overflow"):
            gpujit.addmv(x[:, 0], x, x[0], beta=alpha)
    # float tensors take the numbers as they are; addr still refuses floats for ints
    f = g.float()
    assert gpujit.addmm(f.t() @ f, f.t(), f, alpha=0.5).numpy().tolist() == (1.5 * m).tolist()
    with pytest.raises(RuntimeError, match="argument alpha must not be a floating point"):
        gpujit.addr(gm, g[:, 0].repeat(2)[:3], g[0], alpha=0.5)

    def h(x, y):
        return gpujit.addmm(x.t() @ x, x.t(), y, alpha=0.5) + 1
    s = gpujit.jit.script(h)
    x = g.to(gpujit.int32)
    for _ in range(3):
        assert s(x, x).numpy().tolist() == (m + 1).tolist()


def test_heaviside_refuses_values_of_another_dtype():
    # (extended mode 2, seed 25501 k4) torch.heaviside(float32, int64) raises in PyTorch
    # (its meta: "not yet implemented for tensors with different dtypes", a 0-dim values
    # tensor too); gpujit promoted them
    t = gpujit.tensor
    a = t([1.0, 0.0, -2.0])
    for v in (t([2.0, 2.0, 2.0], dtype=gpujit.float64), t(2.0, dtype=gpujit.float64), t(2),
              t([3, 4, 5])):
        with pytest.raises(RuntimeError, match="heaviside is not yet implemented for tensors "
                                               "with different dtypes"):
            gpujit.heaviside(a, v)
        with pytest.raises(RuntimeError, match="different dtypes"):
            a.clone().heaviside_(v)
    assert gpujit.heaviside(a, t(0.5)).tolist() == [1.0, 0.5, 0.0]
    assert gpujit.heaviside(t([0, 3]), t(7)).tolist() == [7, 1]

    def f(x, v):
        return gpujit.heaviside(x * 2, v) + 1
    s = gpujit.jit.script(f)
    for _ in range(3):
        with pytest.raises(RuntimeError, match="different dtypes"):
            s(a, t([0, 2, 3]))
        assert s(a, t([3.0, 2.0, 5.0])).tolist() == [2.0, 3.0, 1.0]


def test_heaviside_records_and_refuses_its_backward_nextafter_differentiates():
    # (extended mode 2, gradients, seed 2600000) PyTorch records heaviside (its output
    # requires grad, grad_fn NotImplemented) and raises at the backward ("derivative for
    # aten::heaviside is not implemented"); gpujit marked it non-differentiable (no
    # requires_grad: the backward of a sum reaching it answered). nextafter, marked the
    # same way, is differentiable in PyTorch 2.13: self's gradient where self != other (0
    # where they are equal, even an inf / nan gradient), zeros for other
    x = gpujit.tensor([1.0, 0.0, -1.0], requires_grad=True)
    v = gpujit.tensor([0.5, 0.5, 0.5])
    for y in (gpujit.heaviside(x, v), gpujit.heaviside(v, x)):
        assert y.requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::heaviside is not"):
            (y * 2 + x).sum().backward()
    y = (x * 1).heaviside_(v)
    assert y.requires_grad
    with pytest.raises(RuntimeError, match="derivative for aten::heaviside_ is not"):
        y.sum().backward()

    def h(a, b):
        return gpujit.heaviside(a * 2, b) * 3 + a
    s = gpujit.jit.script(h)
    for _ in range(3):
        with pytest.raises(RuntimeError, match="derivative for aten::heaviside"):
            s(x, v).sum().backward()

    nan = float("nan")
    x = gpujit.tensor([1.0, 2.0, -1.0, nan, 2.0], requires_grad=True)
    o = gpujit.tensor([2.0, 2.0, 2.0, 1.0, nan], requires_grad=True)
    (gpujit.nextafter(x, o) * gpujit.arange(1.0, 6.0)).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 3.0, 4.0, 5.0] and o.grad.tolist() == [0.0] * 5
    x = gpujit.tensor([2.0, 1.0], requires_grad=True)
    gpujit.nextafter(x, gpujit.tensor([2.0, 2.0])).backward(gpujit.tensor([float("inf"), nan]))
    g = x.grad.numpy()
    assert g[0] == 0.0 and np.isnan(g[1])
    x = gpujit.tensor([2.0], requires_grad=True)             # broadcast: summed back
    (gpujit.nextafter(x, gpujit.tensor([2.0, 2.0, 3.0])) * gpujit.arange(1.0, 4.0)).sum().backward()
    assert x.grad.tolist() == [3.0]

    def f(a, b):
        return (gpujit.nextafter(a * 2, b) * 3).sin() + b
    s = gpujit.jit.script(f)
    for _ in range(3):
        a = gpujit.tensor([1.0, 0.0, -1.0], requires_grad=True)
        b = gpujit.tensor([2.0, 2.0, 2.0], requires_grad=True)
        s(a, b).sum().backward()
        want = [0.0] + [6 * float(np.cos(np.float32(np.nextafter(np.float32(2 * t), np.float32(2))) * 3))
                        for t in (0.0, -1.0)]
        np.testing.assert_allclose(a.grad.numpy(), want, rtol=1e-5)
        assert b.grad.tolist() == [1.0, 1.0, 1.0]


def test_scans_along_a_dim_of_size_one_return_new_memory():
    # (extended mode 2, seed 25513 k0) `v1 = torch.cummax(x0, 1)[0]; v1.mul_(s)` with x0 of
    # shape [4, 1] changed x0: the doubling scan behind cummax / cummin / logcumsumexp ran
    # no step for a dim of size 1 and handed back the input's memory. pixel_shuffle /
    # pixel_unshuffle with a factor of 1 did the same (ascontiguousarray of a contiguous
    # array); PyTorch's results are new tensors
    base = np.array([[0.5], [-1.0], [2.0], [3.0]], np.float32)
    for name in ("cummax", "cummin", "logcumsumexp"):
        for shape, dim in (((4, 1), 1), ((4, 1), -1), ((1,), 0), ((1, 3), 0)):
            a = base.reshape(-1)[:int(np.prod(shape))].reshape(shape).copy()
            x = gpujit.from_numpy(a.copy())
            r = getattr(gpujit, name)(x, dim)
            v = r[0] if isinstance(r, tuple) else r
            v.mul_(0.5)
            assert x.numpy().tolist() == a.tolist(), (name, shape, dim)
    x = gpujit.from_numpy(np.arange(16.0, dtype=np.float32).reshape(1, 4, 2, 2))
    for f in (gpujit.nn.functional.pixel_shuffle, gpujit.nn.functional.pixel_unshuffle):
        y = f(x, 1)
        y.zero_()
        assert x.sum().item() == 120.0

    def g(a, s: float):
        v = gpujit.cummax(a, 1)[0]
        v.mul_(s)
        return v + 1
    sg = gpujit.jit.script(g)
    for _ in range(3):
        a = gpujit.from_numpy(base.copy())
        out = sg(a, 0.5)
        assert a.numpy().tolist() == base.tolist()
        np.testing.assert_allclose(out.numpy(), base * 0.5 + 1)


def test_take_along_dim_and_repeat_interleave_with_a_dim_refuse_a_0_dim_self():
    # (extended mode 2, seeds 25508 k13 and 25510 k9: a 0-dim x2) PyTorch's
    # take_along_dim(x, idx, dim) reads indices.size(dim) of the 0-dim indices and
    # repeat_interleave(x, 2, dim=d) unsqueezes at dim + 1: both IndexError; gpujit
    # answered (a copy of x, a [2] tensor). Without a dim both flatten and answer.
    z, i = gpujit.tensor(1.5), gpujit.tensor(0)
    for d in (0, -1):
        with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no "
                                             "dimensions"):
            gpujit.take_along_dim(z, i, d)
        with pytest.raises(IndexError, match=r"expected to be in range of \[-1, 0\], but got 1"):
            z.repeat_interleave(2, dim=d)
        for reps in (gpujit.tensor([2]), gpujit.tensor(2)):
            with pytest.raises(IndexError, match=f"Dimension specified as {d} but tensor has "
                                                 f"no dimensions"):
                z.repeat_interleave(reps, dim=d)
    with pytest.raises(IndexError, match=r"expected to be in range of \[-1, 0\], but got 1"):
        gpujit.take_along_dim(z, i, 1)
    with pytest.raises(IndexError, match="Dimension specified as 1 but tensor has no dim"):
        z.repeat_interleave(gpujit.tensor([2]), dim=1)
    assert gpujit.take_along_dim(z, i).tolist() == [1.5]
    assert z.repeat_interleave(2).tolist() == [1.5, 1.5]
    x = gpujit.tensor([3.0, 1.0, 2.0])
    assert gpujit.take_along_dim(x, x.argsort(0), 0).tolist() == [1.0, 2.0, 3.0]
    assert x.repeat_interleave(2, dim=0).tolist() == [3.0, 3.0, 1.0, 1.0, 2.0, 2.0]

    def f(a):
        return a.repeat_interleave(2, dim=0).sum() + gpujit.take_along_dim(a, a.argsort(0), 0)
    s = gpujit.jit.script(f)
    for _ in range(2):
        assert s(x).tolist() == [13.0, 14.0, 15.0]
        with pytest.raises(IndexError):
            s(z)


def _welford_mean_ref(row):
    """PyTorch's var_mean mean: a sequential Welford update over the row."""
    mean = 0.0
    with np.errstate(invalid="ignore"):
        for k, v in enumerate(row, 1):
            mean = mean + (v - mean) / k
    return mean


def test_var_mean_and_std_mean_give_welford_s_nan_mean_after_an_infinity():
    # (extended mode 2, seed 25524 k9) torch.var_mean(v, -1)[1] of [4.4, 1.9, inf, 0.8] is
    # nan in PyTorch (its Welford update: inf, then 0.8 - inf ...), inf in gpujit (the
    # sum's mean); the program's `if bool(v6.sum() > -1.3)` took the other branch. An
    # infinity last in the reduced slice leaves the mean +-inf; torch.mean is the sum's
    inf = float("inf")
    rows = [[4.4, 1.9, inf, 0.8], [1.0, 2.0, inf], [inf, 1.0], [1.0, -inf], [inf, inf],
            [-inf, 2.0, 3.0], [inf], [1.0, 2.0]]
    for row in rows:
        want = _welford_mean_ref(np.array(row, np.float64))
        for fn in (gpujit.var_mean, gpujit.std_mean):
            for dt in (gpujit.float32, gpujit.float64):
                got = fn(gpujit.tensor(row, dtype=dt), 0)[1].item()
                assert (np.isnan(got) and np.isnan(want)) or got == want, (row, fn, got, want)
        assert gpujit.mean(gpujit.tensor(row)).item() == np.mean(np.array(row, np.float32))
    a = np.array([[1.0, inf, 2.0], [inf, 1.0, 1.0]], np.float32)
    t = gpujit.from_numpy(a)
    for dim in (0, 1):
        want = [_welford_mean_ref(r) for r in np.moveaxis(a.astype(np.float64), dim, -1)]
        got = gpujit.var_mean(t, dim)[1].numpy()
        np.testing.assert_array_equal(got, np.array(want, np.float32))
        got = gpujit.std_mean(t.t().contiguous().t(), dim, keepdim=True)[1].numpy()
        np.testing.assert_array_equal(got, np.expand_dims(np.array(want, np.float32), dim))
    got = gpujit.var_mean(t)[1].item()             # all dims: in index order
    assert np.isnan(got)
    got = gpujit.var_mean(t[:1, :2].flip(1), correction=0)[1].item()     # [inf, 1]
    assert np.isnan(got)
    assert gpujit.var_mean(t[:1, :2], [0, 1])[1].item() == inf          # [1, inf]

    def f(x):
        v, m = gpujit.var_mean(x, -1)
        return m * 2
    s = gpujit.jit.script(f)
    for _ in range(3):
        assert np.isnan(s(gpujit.tensor([4.4, 1.9, inf, 0.8])).item())
        assert s(gpujit.tensor([4.0, 2.0])).item() == 6.0


def test_addcdiv_refuses_integer_tensor1_and_tensor2_whatever_self_is():
    # (extended mode 2, seed 25522 k9) torch.addcdiv(float, int64, int64) raises in PyTorch
    # (tensor1 and tensor2 both integer or bool: "Integer division with addcdiv is no
    # longer supported"); gpujit checked the promoted type of all three, float here
    fl, i = gpujit.ones(3), gpujit.ones(3, dtype=gpujit.int64)
    b = gpujit.ones(3, dtype=gpujit.bool)
    for args in ((fl, i, i), (fl, b, b), (i, i, i), (fl, i, gpujit.tensor(2))):
        with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer "
                                               "supported, and in a future  release"):
            gpujit.addcdiv(*args, value=0.5)
        with pytest.raises(RuntimeError, match="Integer division with addcdiv"):
            args[0].clone().addcdiv_(*args[1:])
    assert gpujit.addcdiv(fl, i, fl * 4, value=0.5).tolist() == [1.125] * 3
    assert gpujit.addcdiv(fl, fl * 2, i).tolist() == [3.0] * 3

    def f(x, t1, t2):
        return gpujit.addcdiv(x * 2, t1, t2 + 1) + 1
    s = gpujit.jit.script(f)
    for _ in range(3):
        with pytest.raises(RuntimeError, match="Integer division with addcdiv"):
            s(fl, i, i)
        assert s(fl, fl, i).tolist() == [3.5] * 3


def test_einsum_of_mixed_dtypes_promotes_where_no_step_contracts():
    # (extended mode 2, seed 25517 k11) torch.einsum('ij,j->i', float32 [2, 1], float16
    # [1]) answers float32 in PyTorch: its left-to-right fold contracts a dim (a bmm: one
    # dtype, "expected scalar type Float but found Half") only where both operands have it
    # with a size != 1, and multiplies (promoting) otherwise; gpujit refused any mix
    f32, f16 = gpujit.ones(2, 3), gpujit.ones(3, dtype=gpujit.float16)
    i64 = gpujit.ones(3, dtype=gpujit.int64)
    ok = [("ij,j->i", f32[:, :1], f16[:1], gpujit.float32, [1.0, 1.0]),
          ("ij,j->ij", f32, f16, gpujit.float32, [[1.0] * 3] * 2),
          ("i,j->ij", f16[:2], i64, gpujit.float16, [[1.0] * 3] * 2),
          ("ij,k->", f32, f16, gpujit.float32, 18.0),
          ("ii,i->i", gpujit.ones(3, 3), f16, gpujit.float32, [1.0] * 3)]
    for eq, a, b, dt, want in ok:
        r = gpujit.einsum(eq, a, b)
        assert r.dtype is dt and r.tolist() == want, eq
    for eq, a, b, msg in [("ij,j->i", f32, f16, "Float but found Half"),
                          ("j,ij->i", f16, f32, "Half but found Float"),
                          ("ij,i->j", f32, gpujit.ones(2, dtype=gpujit.float64),
                           "Float but found Double"),
                          ("ij,j->i", f32, i64, "Float but found Long")]:
        with pytest.raises(RuntimeError, match=f"expected scalar type {msg}"):
            gpujit.einsum(eq, a, b)
    # three operands: the fold's second step contracts i (Half with Float)
    assert gpujit.einsum("i,j,k->ijk", f16, f32[0], i64).dtype is gpujit.float32
    with pytest.raises(RuntimeError, match="expected scalar type Half but found Float"):
        gpujit.einsum("i,i,i->", f16, f16, f32[0])
    # gradients in each operand's dtype
    a = gpujit.tensor([1.0, 2.0, 3.0], dtype=gpujit.float16, requires_grad=True)
    b = gpujit.tensor([2.0, 3.0], requires_grad=True)
    (gpujit.einsum("i,j->ij", a, b) * 1.5).sum().backward()
    assert a.grad.dtype is gpujit.float16 and a.grad.tolist() == [7.5] * 3
    assert b.grad.dtype is gpujit.float32 and b.grad.tolist() == [9.0] * 2

    def f(x, y):
        return gpujit.einsum("ij,j->i", x, y) + 1
    s = gpujit.jit.script(f)
    for _ in range(3):
        assert s(f32[:, :1], f16[:1]).tolist() == [2.0, 2.0]
        with pytest.raises(RuntimeError, match="expected scalar type Float but found Half"):
            s(f32, f16)


def test_ops_pytorch_records_without_a_derivative_require_grad_and_refuse_backward():
    # (an audit after heaviside's find: every op gpujit marked non-differentiable, against
    # PyTorch on its OpInfo samples) unique / unique_dim / unique_consecutive's values,
    # bincount's weighted counts, histogram, binomial and detach_copy require grad in
    # PyTorch and their backward raises; gpujit's outputs did not require grad, so a
    # backward through them answered (or said nothing required grad)
    x = gpujit.tensor([1.0, 2.0, 2.0, 3.0], requires_grad=True)
    cases = [(lambda: gpujit.unique(x), "the derivative for '_unique2' is not implemented."),
             (lambda: gpujit.unique(x, return_inverse=True)[0],
              "the derivative for '_unique2' is not implemented."),
             (lambda: gpujit.unique(x, dim=0), "the derivative for 'unique_dim' is not "
                                               "implemented."),
             (lambda: gpujit.unique_consecutive(x),
              "the derivative for 'unique_consecutive' is not implemented."),
             (lambda: gpujit.bincount(gpujit.tensor([0, 1, 1, 2]), x),
              "derivative for aten::bincount is not implemented"),
             (lambda: gpujit.histogram(x, 3)[0], "derivative for aten::histogram is not "
                                                 "implemented"),
             (lambda: gpujit.binomial(gpujit.tensor([3.0], requires_grad=True),
                                      gpujit.tensor([0.5])),
              "derivative for aten::binomial is not implemented"),
             (lambda: gpujit.detach_copy(x), "derivative for aten::detach_copy is not "
                                             "implemented")]
    for make, msg in cases:
        y = make()
        assert y.requires_grad, msg
        with pytest.raises(RuntimeError) as e:
            (y * 2).sum().backward()
        assert str(e.value) == msg
    # integer results and inputs that do not require grad stay out of the graph
    assert not gpujit.unique(x, return_inverse=True)[1].requires_grad
    assert not gpujit.bincount(gpujit.tensor([0, 1, 1, 2])).requires_grad
    assert not gpujit.unique(x.detach()).requires_grad
    assert not gpujit.histc(x, 4).requires_grad            # (PyTorch: no grad either)
    np.testing.assert_array_equal(gpujit.unique(x).detach().numpy(), [1.0, 2.0, 3.0])


def test_logaddexp_refuses_integer_and_bool_operands():
    # (extended mode 2, seed 25540 k12) torch.logaddexp(int64, int64) raises
    # NotImplementedError ("logaddexp_cpu" not implemented for 'Long'): it computes in the
    # promoted dtype, floating point only; gpujit promoted integers to float
    i, b = gpujit.tensor([1, 2, 3]), gpujit.tensor([True, False, True])
    f = gpujit.tensor([0.5, 1.5, 2.5])
    for fn in (gpujit.logaddexp, gpujit.logaddexp2):
        for x, y in ((i, i), (b, b), (i, b)):
            with pytest.raises(NotImplementedError):
                fn(x, y)
        r = fn(i, f)
        assert r.dtype is gpujit.float32
        ref = np.logaddexp(np.array([1.0, 2, 3]), [0.5, 1.5, 2.5]) if fn is gpujit.logaddexp \
            else np.logaddexp2(np.array([1.0, 2, 3]), [0.5, 1.5, 2.5])
        np.testing.assert_allclose(r.numpy(), ref, rtol=1e-6)
        assert fn(f.half(), f.half()).dtype is gpujit.float16

    def g(x, y):
        return gpujit.logaddexp(x, y) - y
    s = gpujit.jit.script(g)
    for _ in range(3):
        with pytest.raises(NotImplementedError):
            s(i, i)
        np.testing.assert_allclose(s(f, f).numpy(), np.log(2.0) * np.ones(3), rtol=1e-6)
