"""Session 49 (c49): autograd node names and graph structure as torch 2.13, part 2.

* F.linear of a matrix records torch's composite: addmm(bias, input, weight.t())
  (AddmmBackward0 -> (AccumulateGrad(b), input's, TBackward0 -> AccumulateGrad(w))), without
  a bias mm(input, weight.t()) (MmBackward0). addmm / mm save the operands' strides
  (`<arg>_strides`, ATen's mat2_sym_strides) and lay the gradient of a column-major operand
  out as ATen's mm_mat1_backward / mm_mat2_backward do: the transposed product, transposed
  back (the weight's gradient is grad.T @ x, the GEMM F.linear's one node ran before).
* F.cross_entropy (float32 / float64) records log_softmax then nll_loss_nd
  (NllLossBackward0 -> LogSoftmaxBackward0), label smoothing and class probabilities as
  torch's cross_entropy_loss_label_smoothing / _prob_target; nll_loss and log_softmax have
  array (raw) backwards.
* A recorded backward (create_graph) names what torch names: select / slice / narrow's
  backward is ATen's select_backward / slice_backward (SelectBackwardBackward0 /
  SliceBackwardBackward0, one edge), the formulas' Python numbers are Scalar overloads
  (mean's DivBackward1, pow's MulBackward1), unsqueeze's backward is squeeze(dim)
  (SqueezeBackward1), squeeze's unsqueeze_to (UnsqueezeBackward0 per size-1 dim), cat's a
  narrow (SliceBackward0), stack's a select per input (SelectBackward0).
Expected structures were printed by torch 2.13 (CPU); tests that need torch itself skip
without it."""
import numpy as np
import pytest

import gpujit
from gpujit.ops import registry

F = gpujit.nn.functional

try:
    import torch
except ImportError:           # CI has no torch
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="needs PyTorch")


def _names(fn):
    return [None if n is None else n.name() for n, _ in fn.next_functions]


def _r(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- F.linear of a matrix

def test_linear_records_addmm_of_the_transposed_weight():
    x = gpujit.from_numpy(_r(3, 4)).requires_grad_()
    w = gpujit.from_numpy(_r(5, 4, seed=1)).requires_grad_()
    b = gpujit.from_numpy(_r(5, seed=2)).requires_grad_()
    for _ in range(2):          # (the general path, then the recorders)
        y = F.linear(x, w, b)
        assert y.grad_fn.name() == "AddmmBackward0"
        acc = "torch::autograd::AccumulateGrad"
        assert _names(y.grad_fn) == [acc, acc, "TBackward0"]
        assert _names(y.grad_fn.next_functions[2][0]) == [acc]
        assert y.grad_fn.next_functions[0][0].variable is b
        assert y.grad_fn.next_functions[2][0].next_functions[0][0].variable is w
        y = F.linear(x, w)
        assert y.grad_fn.name() == "MmBackward0"
        assert _names(y.grad_fn) == [acc, "TBackward0"]
        y = F.linear(x.detach(), w, b)
        assert _names(y.grad_fn) == [acc, None, "TBackward0"]


def test_linear_gradients_are_the_transposed_products():
    xv, wv, bv, gv = _r(6, 4), _r(3, 4, seed=1), _r(3, seed=2), _r(6, 3, seed=3)
    x = gpujit.from_numpy(xv).requires_grad_()
    w = gpujit.from_numpy(wv).requires_grad_()
    b = gpujit.from_numpy(bv).requires_grad_()
    y = F.linear(x, w, b)
    np.testing.assert_array_equal(y.detach().numpy(), xv @ wv.T + bv)
    y.backward(gpujit.from_numpy(gv))
    # ATen's mm_mat2_backward of the column-major w.t(): (grad.T @ x).T, transposed back by
    # TBackward0: grad.T @ x itself, C-contiguous as w
    np.testing.assert_array_equal(w.grad.numpy(), gv.T @ xv)
    assert w.grad.is_contiguous() and w.grad.numpy().flags.owndata
    np.testing.assert_array_equal(x.grad.numpy(), gv @ wv)
    np.testing.assert_allclose(b.grad.numpy(), gv.sum(0), rtol=1e-6)
    # accumulated into the existing .grad (a view of the product is added in place)
    g0 = w.grad
    F.linear(x, w, b).backward(gpujit.from_numpy(gv))
    assert w.grad is g0
    np.testing.assert_array_equal(w.grad.numpy(), 2 * (gv.T @ xv))


def test_linear_create_graph_path_equals_the_array_path():
    xv, wv, bv = _r(5, 3), _r(4, 3, seed=1), _r(4, seed=2)
    out = []
    for create in (False, True):
        x = gpujit.from_numpy(xv).requires_grad_()
        w = gpujit.from_numpy(wv).requires_grad_()
        b = gpujit.from_numpy(bv).requires_grad_()
        y = (F.linear(x, w, b) ** 2).sum()
        gs = gpujit.autograd.grad(y, (x, w, b), create_graph=create)
        out.append([g.detach().numpy() for g in gs])
    for a, c in zip(*out):
        np.testing.assert_array_equal(a, c)


def test_linear_saves_the_transposed_weight_and_checks_its_version():
    x = gpujit.from_numpy(_r(2, 3)).requires_grad_()
    w = gpujit.from_numpy(_r(2, 3, seed=1)).requires_grad_()
    b = gpujit.zeros(2, requires_grad=True)
    packed = []
    with gpujit.autograd.graph.saved_tensors_hooks(
            lambda t: packed.append(tuple(t.shape)) or t, lambda t: t):
        y = F.linear(x, w, b)
    assert packed == [(2, 3), (3, 2)]       # (torch 2.13: x and w.t())
    with gpujit.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_linear_shape_errors_are_addmms():
    x = gpujit.ones(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^mat1 and mat2 shapes cannot be multiplied "
                                           r"\(3x4 and 5x6\)$"):
        F.linear(x, gpujit.ones(6, 5))


def test_linear_three_dims_records_torchs_addmm_chain():
    # (torch's _flatten_nd_linear: addmm of the rows, viewed back; e50's s50 change)
    x = gpujit.ones(2, 3, 4, requires_grad=True)
    w = gpujit.ones(5, 4, requires_grad=True)
    y = F.linear(x, w, gpujit.zeros(5, requires_grad=True))
    assert y.grad_fn.name() == "ViewBackward0"
    assert _names(y.grad_fn) == ["AddmmBackward0"]
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.full((5, 4), 6.0))


def test_mm_gradient_of_a_column_major_operand():
    # mm(a, b.t()) and mm(a.t(), b): ATen lays each column-major operand's gradient out by
    # columns (the product of the transposes, transposed): values as NumPy's
    av, bv, gv = _r(4, 3), _r(5, 3, seed=1), _r(4, 5, seed=2)
    a = gpujit.from_numpy(av).requires_grad_()
    b = gpujit.from_numpy(bv).requires_grad_()
    y = a.mm(b.t())
    y.backward(gpujit.from_numpy(gv))
    np.testing.assert_array_equal(b.grad.numpy(), gv.T @ av)
    np.testing.assert_array_equal(a.grad.numpy(), gv @ bv)
    c = gpujit.from_numpy(_r(3, 4, seed=3)).requires_grad_()
    y = c.t().mm(gpujit.from_numpy(_r(3, 5, seed=4)))     # (mat1 column-major)
    y.backward(gpujit.from_numpy(gv))
    np.testing.assert_array_equal(c.grad.numpy(), (_r(3, 5, seed=4) @ gv.T))


def test_strides_parameter_of_a_derivative():
    # `<arg>_strides`: the argument's strides in elements, saved at record time
    from gpujit.ops.derivatives import param_names, strides_param
    op = registry.OPS["aten::addmm"]
    assert "mat2_strides" in param_names(op.schema)
    w = gpujit.ones(3, 4)
    assert strides_param(w) == (4, 1) and strides_param(w.t()) == (1, 4)
    assert strides_param(None) is None
    x = gpujit.ones(2, 4, requires_grad=True)
    y = gpujit.addmm(gpujit.zeros(3), x, w.t())
    assert y.grad_fn.saved["mat2_strides"] == (1, 4)


# ---------------------------------------------------------------- cross_entropy

def _softmax(x):
    e = np.exp(x - x.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_cross_entropy_records_nll_of_log_softmax(dt):
    xv = _r(6, 5, dtype=dt) * 2
    t = np.array([0, 4, 2, -100, 1, 3])
    x = gpujit.from_numpy(xv).requires_grad_()
    for _ in range(2):
        loss = F.cross_entropy(x, gpujit.from_numpy(t))
        assert loss.grad_fn.name() == "NllLossBackward0"
        assert _names(loss.grad_fn) == ["LogSoftmaxBackward0"]
        assert _names(loss.grad_fn.next_functions[0][0]) == ["torch::autograd::AccumulateGrad"]
        x.grad = None
        loss.backward()
        keep = t != -100
        ref = _softmax(xv.astype(np.float64))
        ref[np.arange(6)[keep], t[keep]] -= 1
        ref[~keep] = 0
        np.testing.assert_allclose(x.grad.numpy(), ref / keep.sum(), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(
            loss.item(), -np.log(_softmax(xv.astype(np.float64))[np.arange(6)[keep],
                                                                  t[keep]]).mean(), rtol=1e-5)


def test_cross_entropy_label_smoothing_and_probabilities_structure():
    x = gpujit.from_numpy(_r(3, 5)).requires_grad_()
    t = gpujit.tensor([1, 2, 0])
    loss = F.cross_entropy(x, t, label_smoothing=0.1)
    # torch 2.13: AddBackward0 -> (MulBackward1 -> NllLossBackward0 -> LogSoftmaxBackward0,
    # MulBackward1 -> DivBackward0 -> (SumBackward0 -> MaskedFillBackward0, None))
    assert loss.grad_fn.name() == "AddBackward0"
    assert _names(loss.grad_fn) == ["MulBackward1", "MulBackward1"]
    nll_side, smooth_side = (n for n, _ in loss.grad_fn.next_functions)
    assert _names(nll_side) == ["NllLossBackward0"]
    assert _names(smooth_side) == ["DivBackward0"]
    assert _names(smooth_side.next_functions[0][0]) == ["SumBackward0", None]
    q = gpujit.from_numpy(_softmax(_r(3, 5, seed=1)))
    loss = F.cross_entropy(x, q)
    # torch 2.13: DivBackward1 -> NegBackward0 -> SumBackward0 -> MulBackward0 ->
    # (LogSoftmaxBackward0, None)
    assert loss.grad_fn.name() == "DivBackward1"
    assert _names(loss.grad_fn) == ["NegBackward0"]
    mul = loss.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0]
    assert mul.name() == "MulBackward0" and _names(mul) == ["LogSoftmaxBackward0", None]
    loss.backward()
    ref = (_softmax(x.detach().numpy().astype(np.float64)) - q.numpy()) / 3
    np.testing.assert_allclose(x.grad.numpy(), ref, rtol=1e-5, atol=1e-7)


def test_cross_entropy_errors_keep_their_words():
    x = gpujit.ones(3, 5, requires_grad=True)
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, gpujit.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="Expected floating point type for target with "
                                           "class probabilities, got Long"):
        F.cross_entropy(x, gpujit.ones(3, 5, dtype=gpujit.int64))
    with pytest.raises(IndexError, match="Target 7 is out of bounds."):
        F.cross_entropy(x, gpujit.tensor([0, 7, 2]))


def test_nll_and_log_softmax_array_backwards_equal_their_formulas():
    # the raw (array) backwards of nll_loss and log_softmax give the registry formulas'
    # bits (create_graph runs the formulas); float64: a float32 last-dim backward without
    # create_graph is ATen's kernel, its bits, where create_graph records the formula's ops
    # (tests/test_user_programs_s49.py)
    xv = (_r(7, 6) * 3).astype(np.float64)
    t = gpujit.tensor([0, 5, 2, -100, 1, 3, 3])
    res = []
    for create in (False, True):
        for red in ("mean", "sum"):
            x = gpujit.from_numpy(xv).requires_grad_()
            loss = F.cross_entropy(x, t, reduction=red) * 1.5
            (g,) = gpujit.autograd.grad(loss, x, create_graph=create)
            res.append(g.detach().numpy())
    np.testing.assert_array_equal(res[0], res[2])
    np.testing.assert_array_equal(res[1], res[3])
    gv = _r(7, 6, seed=5).astype(np.float64)
    res = []
    for create in (False, True):
        x = gpujit.from_numpy(xv).requires_grad_()
        (g,) = gpujit.autograd.grad(x.log_softmax(1), x, gpujit.from_numpy(gv),
                                    create_graph=create)
        res.append(g.detach().numpy())
    np.testing.assert_array_equal(res[0], res[1])
    ls = xv - np.log(np.exp(xv - xv.max(1, keepdims=True)).sum(1, keepdims=True)) - \
        xv.max(1, keepdims=True)
    np.testing.assert_allclose(res[0], gv - np.exp(ls) * gv.sum(1, keepdims=True),
                               rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- recorded backwards

def _dbl(prog, shape=(3, 4)):
    y = gpujit.from_numpy(np.arange(np.prod(shape), dtype=np.float64).reshape(shape) * 0.5
                          - 1).requires_grad_()
    (g,) = gpujit.autograd.grad((prog(y) ** 2).sum(), y, create_graph=True)
    return y, g


@pytest.mark.parametrize("prog,name,edges", [
    (lambda y: y[1], "SelectBackwardBackward0", ["MulBackward0"]),
    (lambda y: y.select(1, -1), "SelectBackwardBackward0", ["MulBackward0"]),
    (lambda y: y[:, 1:3], "SliceBackwardBackward0", ["MulBackward0"]),
    (lambda y: y.narrow(1, 1, 2), "SliceBackwardBackward0", ["MulBackward0"]),
    (lambda y: y[::2], "SliceBackwardBackward0", ["MulBackward0"]),
    (lambda y: y.unsqueeze(-1), "SqueezeBackward1", ["MulBackward0"]),
    (lambda y: y.mean(1), "DivBackward1", ["ExpandBackward0"]),
    (lambda y: gpujit.cat([y, y]), "AddBackward0", ["SliceBackward0", "SliceBackward0"]),
    (lambda y: gpujit.stack([y, y]), "AddBackward0", ["SelectBackward0", "SelectBackward0"]),
])
def test_recorded_backward_nodes_are_torchs(prog, name, edges):
    y, g = _dbl(prog)
    assert g.grad_fn.name() == name
    assert _names(g.grad_fn) == edges
    # the second derivative: d/dy sum(g) through the recorded backward
    (h,) = gpujit.autograd.grad(g.sum(), y)
    yv = y.detach().numpy()
    eps = 1e-6
    num = np.zeros_like(yv)
    for i in np.ndindex(yv.shape):
        for s in (1, -1):
            yy = yv.copy()
            yy[i] += s * eps
            t = gpujit.from_numpy(yy).requires_grad_()
            (gg,) = gpujit.autograd.grad((prog(t) ** 2).sum(), t)
            num[i] += s * gg.sum().item() / (2 * eps)
    np.testing.assert_allclose(h.numpy(), num, rtol=1e-5, atol=1e-5)


def test_number_operand_of_a_formula_stays_a_wrapped_number():
    # x * 1 saves the number for a Tensor argument (a wrapped-number tensor in torch): its
    # recorded backward is mul.Tensor's MulBackward0 with a None edge for it (torch 2.13)
    t = gpujit.tensor([1.0, -2.0], requires_grad=True)
    y = (t * 1).relu()
    (g,) = gpujit.autograd.grad(y.sum(), t, create_graph=True)
    assert g.grad_fn.name() == "MulBackward0" and _names(g.grad_fn)[1] is None


@pytest.mark.parametrize("prog,chain", [
    (lambda y: y.squeeze(), ["UnsqueezeBackward0", "UnsqueezeBackward0"]),
    (lambda y: y.squeeze(2), ["UnsqueezeBackward0"]),
    (lambda y: y.squeeze((0, 2)), ["UnsqueezeBackward0", "UnsqueezeBackward0"]),
    (lambda y: y.squeeze(1), []),
    (lambda y: y.unsqueeze(-1), ["SqueezeBackward1"]),
])
def test_squeeze_backwards_unsqueeze_the_size_one_dims(prog, chain):
    y, g = _dbl(prog, (1, 3, 1))
    fn, got = g.grad_fn, []
    while fn is not None and fn.name() != "MulBackward0":
        got.append(fn.name())
        fn = fn.next_functions[0][0]
    assert got == chain and tuple(g.shape) == (1, 3, 1)
    np.testing.assert_array_equal(g.detach().numpy(), 2 * y.detach().numpy())


@pytest.mark.parametrize("dt", ["float32", "bfloat16", "float16", "complex64"])
def test_select_backward_op_values(dt):
    op = registry.OPS["aten::select_backward"]
    g = gpujit.tensor([1.0, -2.0, 3.0]).to(getattr(gpujit, dt))
    r = op.public(g, (2, 3), 0, -1)
    assert r.dtype == getattr(gpujit, dt) and tuple(r.shape) == (2, 3)
    np.testing.assert_array_equal(r.to(gpujit.complex128 if dt.startswith("complex")
                                       else gpujit.float64).numpy().real,
                                  [[0, 0, 0], [1, -2, 3]])
    s = registry.OPS["aten::slice_backward"].public(g, (7,), 0, 1, 7, 2)
    np.testing.assert_array_equal(s.to(gpujit.complex128 if dt.startswith("complex")
                                       else gpujit.float64).numpy().real,
                                  [0, 1, 0, -2, 0, 3, 0])


# ---------------------------------------------------------------- against torch

def _structure(out, depth=3):
    fn = out.grad_fn

    def walk(f, d):
        if f is None:
            return None
        if d == 0:
            return f.name()
        return [f.name()] + [walk(n, d - 1) for n, _ in f.next_functions]
    return walk(fn, depth)


_VS_TORCH = [
    ("linear", lambda L, x, w, b: L.nn.functional.linear(x, w, b)),
    ("linear_no_bias", lambda L, x, w, b: L.nn.functional.linear(x, w)),
    ("linear_1d", lambda L, x, w, b: L.nn.functional.linear(x[0], w, b)),
    ("nn_linear_relu", lambda L, x, w, b: L.nn.functional.relu(
        L.nn.functional.linear(x, w, b))),
    ("ce", lambda L, x, w, b: L.nn.functional.cross_entropy(
        L.nn.functional.linear(x, w, b), L.tensor([1, 0, 4]))),
    ("ce_ls", lambda L, x, w, b: L.nn.functional.cross_entropy(
        x, L.tensor([1, 0, 3]), label_smoothing=0.2)),
    ("ce_sum_weight", lambda L, x, w, b: L.nn.functional.cross_entropy(
        x, L.tensor([1, 0, 3]), weight=L.ones(4), reduction="sum")),
    ("ce_probs", lambda L, x, w, b: L.nn.functional.cross_entropy(x, x.detach().softmax(1))),
    ("ce_unbatched", lambda L, x, w, b: L.nn.functional.cross_entropy(x[0], L.tensor(2))),
    ("addmm_t", lambda L, x, w, b: L.addmm(b, x, w.t())),
]


def _lib_inputs(L):
    x = L.from_numpy(_r(3, 4)).requires_grad_()
    w = L.from_numpy(_r(5, 4, seed=1)).requires_grad_()
    b = L.from_numpy(_r(5, seed=2)).requires_grad_()
    return x, w, b


@needs_torch
@pytest.mark.parametrize("name,prog", _VS_TORCH, ids=[p[0] for p in _VS_TORCH])
def test_structure_and_gradients_as_torch(name, prog):
    mine, theirs = _lib_inputs(gpujit), _lib_inputs(torch)
    a, b = prog(gpujit, *mine), prog(torch, *theirs)
    assert _structure(a) == _structure(b)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-6)
    a.sum().backward()
    b.sum().backward()
    for p, q in zip(mine, theirs):
        assert (p.grad is None) == (q.grad is None)
        if p.grad is not None:
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)


@needs_torch
def test_linear_weight_gradient_bits_are_torchs():
    xv, wv, bv, gv = _r(64, 32), _r(48, 32, seed=1), _r(48, seed=2), _r(64, 48, seed=3)
    got = []
    for L in (gpujit, torch):
        x, w, b = (L.from_numpy(v.copy()).requires_grad_() for v in (xv, wv, bv))
        L.nn.functional.linear(x, w, b).backward(L.from_numpy(gv.copy()))
        got.append([t.grad.numpy() for t in (x, w, b)])
    from torch_bits import assert_torch_bits
    assert_torch_bits(got[0][1], got[1][1], torch, atol=1e-5)
    np.testing.assert_allclose(got[0][0], got[1][0], rtol=1e-5, atol=1e-5)


_DBL_VS_TORCH = [
    ("select", lambda y: y[1]), ("slice", lambda y: y[:, 1:3]),
    ("narrow", lambda y: y.narrow(1, 1, 2)), ("step", lambda y: y[::2]),
    ("expand", lambda y: y[:1].expand(3, 4)), ("unsqueeze", lambda y: y.unsqueeze(0)),
    ("squeeze", lambda y: y[:1].squeeze(0)), ("mean1", lambda y: y.mean(1)),
    ("cat", lambda y: (y, y)), ("stack", lambda y: (y, y, 0)),
    ("chunk", lambda y: y.chunk(2, 1)[1]), ("unbind", lambda y: y.unbind(0)[1]),
    ("t", lambda y: y.t()), ("sum1", lambda y: y.sum(1)),
]


@needs_torch
@pytest.mark.parametrize("name,prog", _DBL_VS_TORCH, ids=[p[0] for p in _DBL_VS_TORCH])
def test_recorded_backward_structure_as_torch(name, prog):
    out = []
    for L in (gpujit, torch):
        y = L.from_numpy(_r(3, 4)).requires_grad_()
        if name == "cat":
            z = L.cat(list(prog(y)))
        elif name == "stack":
            z = L.stack(list(prog(y)[:2]))
        else:
            z = prog(y)
        (g,) = L.autograd.grad((z ** 2).sum(), y, create_graph=True)
        out.append((_structure(g, 2), g.detach().numpy()))
    assert out[0][0] == out[1][0]
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-6)
