"""torch.nested, strided layout (gpujit/nested/): construction, facts, repr, errors in
torch 2.13's words, the ops of PyTorch's NestedTensorCPU backend the Transformer fast path
and ragged code use, autograd through the buffer, and scripted functions with nested
inputs (run op by op, never fused). Expected values are NumPy / hand-written so the tests
run without torch; the ones marked importorskip compare with torch too."""
import os
import warnings
from typing import List

import numpy as np
import pytest

import gpujit
import gpujit.nn.functional as F

pytestmark = pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")

A0 = np.arange(6, dtype=np.float32).reshape(2, 3)
A1 = np.arange(3, dtype=np.float32).reshape(1, 3)


def _nt(*arrays, mod=gpujit, **kw):
    return mod.nested.nested_tensor([mod.tensor(a) for a in arrays], **kw)


def _parts(nt):
    return [c.detach().numpy() for c in nt.unbind()]


def _same_parts(nt, expected, **tol):
    got = _parts(nt)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == np.shape(e) and g.dtype == np.asarray(e).dtype
        np.testing.assert_allclose(g, e, **tol)


def _torch():
    return pytest.importorskip("torch")


# ---------------------------------------------------------------- construction and facts
def test_facts_of_a_nested_tensor():
    a = _nt(A0, A1)
    assert a.is_nested and not gpujit.ones(2).is_nested
    assert a.dim() == 3 and a.ndim == 3 and a.size(0) == 2 and a.size(2) == 3
    assert a.size(-1) == 3 and a.numel() == 9 and a.layout is gpujit.strided
    assert a.dtype is gpujit.float32 and a.is_contiguous()
    assert a._nested_tensor_size().tolist() == [[2, 3], [1, 3]]
    assert a._nested_tensor_strides().tolist() == [[3, 1], [3, 1]]
    assert a._nested_tensor_storage_offsets().tolist() == [0, 6]
    assert a.values().tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2]
    _same_parts(a, [A0, A1])
    np.testing.assert_array_equal(a[1].numpy(), A1)


@pytest.mark.parametrize("call, exc, words", [
    (lambda a: a.size(1), RuntimeError, "Given dimension 1 is irregular and does not have a size."),
    (lambda a: a.size(), RuntimeError, "NestedTensorImpl doesn't support sizes"),
    (lambda a: a.shape, RuntimeError, "NestedTensorImpl doesn't support sizes"),
    (lambda a: a.stride(), RuntimeError, "NestedTensorImpl doesn't support strides"),
    (lambda a: len(a), RuntimeError, "NestedTensorImpl doesn't support sizes"),
    (lambda a: a.size(3), IndexError, r"range of \[-3, 2\], but got 3"),
    (lambda a: a.unbind(1), RuntimeError, "can only be unbound along dimension 0 got dimension 1"),
    (lambda a: a.exp(), NotImplementedError, "Could not run 'aten::exp' with arguments from "
                                             "the 'NestedTensorCPU' backend"),
    (lambda a: a.sigmoid(), NotImplementedError, "'aten::sigmoid'"),
    (lambda a: a[:, 0], NotImplementedError, "'aten::slice.Tensor'"),
    (lambda a: 1 - a, NotImplementedError, "'aten::rsub.Scalar'"),
    (lambda a: 2 / a, NotImplementedError, "'aten::reciprocal'"),
    (lambda a: a < 1, NotImplementedError, "'aten::lt.Scalar'"),
])
def test_refusals_in_torch_words(call, exc, words):
    a = _nt(A0, A1)
    with pytest.raises(exc, match=words):
        call(a)


def test_refusals_match_torch():
    torch = _torch()
    calls = [lambda a: a.size(1), lambda a: a.size(), lambda a: a.unbind(-3),
             lambda a: a.exp(), lambda a: a + a.transpose(1, 2), lambda a: a.softmax(0),
             lambda a: a.transpose(0, 1), lambda a: a.unsqueeze(0),
             lambda a: a.to_padded_tensor(0., (2, 3)), lambda a: a.to_padded_tensor(0., (1, 1, 1)),
             lambda a, m=None: None]
    for call in calls[:-1]:
        outcomes = []
        for mod in (torch, gpujit):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                a = _nt(A0, A1, mod=mod)
                try:
                    call(a)
                    outcomes.append(None)
                except Exception as e:      # noqa: BLE001 -- compared below
                    outcomes.append((isinstance(e, NotImplementedError), str(e).split(
                        " This could be")[0]))
        assert outcomes[0] == outcomes[1]


def test_construction_rules():
    b = gpujit.nested.nested_tensor([[1, 2], [3]])
    assert b.dtype is gpujit.int64 and _parts(b)[1].tolist() == [3]
    c = gpujit.nested.nested_tensor([gpujit.ones(2), gpujit.ones(3, dtype=gpujit.int64)])
    assert c.dtype is gpujit.float32        # (the first component's dtype)
    d = gpujit.nested.nested_tensor([gpujit.arange(3), gpujit.arange(2)], dtype=gpujit.float64,
                                    requires_grad=True)
    assert d.dtype is gpujit.float64 and d.requires_grad and d.is_leaf
    with pytest.raises(RuntimeError, match="must have the same dimension. Found dimension 2 "
                                           "for Tensor at index 1 and dimension 1"):
        gpujit.nested.nested_tensor([gpujit.ones(2), gpujit.ones(2, 2)])
    with pytest.raises(TypeError, match=r"Only lists \(List\[Tensor\]"):
        gpujit.nested.nested_tensor(gpujit.ones(2, 3))
    with pytest.raises(RuntimeError, match="Specified layout is unsupported for nested "
                                           "tensors: torch.sparse_coo"):
        gpujit.nested.nested_tensor([gpujit.ones(2)], layout=gpujit.sparse_coo)
    with pytest.raises(RuntimeError, match="floating point and complex dtype"):
        gpujit.nested.nested_tensor([gpujit.ones(2, dtype=gpujit.int64)], requires_grad=True)
    # nested_tensor copies; as_nested_tensor of a dense batch keeps its memory
    src = gpujit.ones(2, 3)
    n = gpujit.nested.nested_tensor([src])
    src.add_(1)
    assert _parts(n)[0].tolist() == [[1.0] * 3] * 2
    dense = gpujit.arange(6.).reshape(2, 3)
    v = gpujit.nested.as_nested_tensor(dense)
    assert v._nested_tensor_size().tolist() == [[3], [3]]
    _same_parts(v, [np.array([0., 1, 2], np.float32), np.array([3., 4, 5], np.float32)])
    with pytest.raises(RuntimeError, match=r"Expected tensor argument to have dim\(\) > 1"):
        gpujit.nested.as_nested_tensor(gpujit.ones(3))
    f = gpujit._nested_tensor_from_tensor_list([gpujit.ones(2), gpujit.ones(3)])
    assert f._nested_tensor_size().tolist() == [[2], [3]]


def test_unbind_views_share_the_buffer():
    a = _nt(A0, A1)
    first = a.unbind()[0]
    first.mul_(10)
    assert a.to_padded_tensor(0.)[0].tolist() == (A0 * 10).tolist()
    assert a.unbind()[1].storage_offset() == 6


def test_prototype_warning_once_and_always():
    gpujit.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            gpujit.nested.nested_tensor([gpujit.ones(2)])
        msgs = [str(x.message) for x in w]
        assert any(m.startswith("The PyTorch API of nested tensors is in prototype stage")
                   for m in msgs)
        assert all(x.category is UserWarning for x in w)
        # (torch.nested's own line, as torch's points at torch/nested/__init__.py)
        assert w[-1].filename.endswith(os.path.join("gpujit", "nested", "__init__.py"))
        a = _nt(A0, A1)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            a + 1                   # (each nested tensor made warns, as torch's)
            a.relu()
        assert len(w) == 2 and all(x.filename == __file__ for x in w)
    finally:
        gpujit.set_warn_always(False)


# ---------------------------------------------------------------- repr
def test_repr_as_torch_prints_it():
    a = _nt(A0, A1)
    assert repr(a) == ("nested_tensor([\n  tensor([[0., 1., 2.],\n          [3., 4., 5.]]),\n"
                       "  tensor([[0., 1., 2.]])\n])")
    x = gpujit.nested.nested_tensor([gpujit.ones(2)], dtype=gpujit.float64,
                                    requires_grad=True)
    assert repr(x).endswith("], requires_grad=True)")
    assert "requires_grad=True),\n" not in repr(x) and "requires_grad=True)\n]" in repr(x)
    assert repr(x * 2).endswith("], grad_fn=<MulBackward0>)")


def test_repr_matches_torch():
    torch = _torch()
    for build in (lambda m: _nt(A0, A1, mod=m),
                  lambda m: m.nested.nested_tensor([m.ones(2), m.ones(3)], dtype=m.float64,
                                                   requires_grad=True),
                  lambda m: m.nested.nested_tensor([[1, 2], [3]]),
                  lambda m: m.nested.nested_tensor([m.ones(2, 2, dtype=m.int32)])):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = repr(build(torch)).replace("torch.", "")
            got = repr(build(gpujit)).replace("gpujit.", "")
        assert got == want


# ---------------------------------------------------------------- to_padded_tensor
def test_to_padded_tensor():
    a = _nt(A0, A1)
    p = a.to_padded_tensor(0.0)
    want = np.zeros((2, 2, 3), np.float32)
    want[0], want[1, :1] = A0, A1
    np.testing.assert_array_equal(p.numpy(), want)
    q = gpujit.nested.to_padded_tensor(a, -1.0, (2, 3, 4))
    want = np.full((2, 3, 4), -1, np.float32)
    want[0, :2, :3], want[1, :1, :3] = A0, A1
    np.testing.assert_array_equal(q.numpy(), want)
    with pytest.raises(RuntimeError, match="Truncation is not supported"):
        a.to_padded_tensor(0.0, (1, 1, 1))
    with pytest.raises(RuntimeError, match="Length of output_size does not match NestedTensor "
                                           "dims. Broadcasting is not supported."):
        a.to_padded_tensor(0.0, (2, 3))
    with pytest.raises(NotImplementedError, match="Could not run 'aten::to_padded_tensor' "
                                                  "with arguments from the 'CPU' backend"):
        gpujit.ones(2, 3).to_padded_tensor(0.0)


# ---------------------------------------------------------------- _nested_tensor_from_mask
def test_nested_tensor_from_mask():
    t = gpujit.arange(12.).reshape(2, 3, 2)
    m = gpujit.tensor([[True, True, False], [True, False, False]])
    nt = gpujit._nested_tensor_from_mask(t, m)
    _same_parts(nt, [np.array([[0., 1], [2, 3]], np.float32), np.array([[6., 7]], np.float32)])
    gap = gpujit.tensor([[True, False, True], [True, False, False]])
    with pytest.raises(RuntimeError, match="Mask must be left-aligned without gaps"):
        gpujit._nested_tensor_from_mask(t, gap)
    # (mask_check=False: the first mask.sum(1) tokens of each row, as torch's)
    nt = gpujit._nested_tensor_from_mask(t, gap, mask_check=False)
    assert nt._nested_tensor_size().tolist() == [[2, 2], [1, 2]]
    with pytest.raises(RuntimeError, match="Expected mask to be of ScalarType Bool, but got "
                                           "Long instead."):
        gpujit._nested_tensor_from_mask(t, gpujit.ones(2, 3, dtype=gpujit.int64))
    with pytest.raises(RuntimeError, match="Mask size should match input size"):
        gpujit._nested_tensor_from_mask(t, gpujit.ones(2, 4, dtype=gpujit.bool))


# ---------------------------------------------------------------- ops
def test_pointwise_with_numbers_and_nested():
    a = _nt(A0, A1)
    _same_parts(a + 1, [A0 + 1, A1 + 1])
    _same_parts(2 * a, [A0 * 2, A1 * 2])
    _same_parts(a * a - a, [A0 * A0 - A0, A1 * A1 - A1])
    _same_parts(a / 2, [A0 / 2, A1 / 2])
    _same_parts(a * gpujit.tensor(3.0), [A0 * 3, A1 * 3])
    _same_parts(a == 1, [A0 == 1, A1 == 1])
    _same_parts(a.relu(), [A0, A1])
    _same_parts(a.neg().abs(), [A0, A1])
    _same_parts(gpujit.tanh(a), [np.tanh(A0), np.tanh(A1)], rtol=1e-6)
    with pytest.raises(RuntimeError, match="add does not support broadcasting when given a "
                                           "NestedTensor"):
        a + a.transpose(1, 2)
    with pytest.raises(RuntimeError, match="Expected both self and other to be nested, but "
                                           "got a nested self and non-nested other"):
        a + gpujit.ones(3)
    with pytest.raises(RuntimeError, match="but got a non-nested self and nested other"):
        gpujit.ones(3) + a
    b = _nt(A0, A1)
    b.mul_(2).add_(1)
    _same_parts(b, [A0 * 2 + 1, A1 * 2 + 1])


def _softmax(x, axis):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def test_nn_ops_per_component():
    a = _nt(A0, A1)
    _same_parts(a.softmax(-1), [_softmax(A0, -1), _softmax(A1, -1)], rtol=1e-6)
    _same_parts(F.softmax(a, 1), [_softmax(A0, 0), _softmax(A1, 0)], rtol=1e-6)
    with pytest.raises(RuntimeError, match="Cannot apply softmax across nested dimension 0"):
        a.softmax(0)
    w = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    bias = np.array([1, 2, 3, 4], np.float32)
    y = F.linear(a, gpujit.tensor(w), gpujit.tensor(bias))
    _same_parts(y, [A0 @ w.T + bias, A1 @ w.T + bias], rtol=1e-6)
    assert y._nested_tensor_size().tolist() == [[2, 4], [1, 4]]
    with pytest.raises(RuntimeError, match="Linear requires nested_tensor.dim == 3 and "
                                           "dense_matrix.dim == 2. Nested tensor dim: 2"):
        F.linear(gpujit.nested.nested_tensor([gpujit.ones(3)]), gpujit.ones(4, 3))
    b = _nt(A0.T.copy(), A1.T.copy())
    _same_parts(gpujit.matmul(a, b), [A0 @ A0.T, A1 @ A1.T])
    _same_parts(gpujit.bmm(a, b), [A0 @ A0.T, A1 @ A1.T])
    with pytest.raises(RuntimeError, match="Expected both to be nested, but got a nested self "
                                           "and non-nested other"):
        gpujit.matmul(a, gpujit.ones(3, 4))
    ln = F.layer_norm(a, (3,), gpujit.ones(3), gpujit.zeros(3))
    m = A0 - A0.mean(-1, keepdims=True)
    _same_parts(ln, [m / np.sqrt((m * m).mean(-1, keepdims=True) + 1e-5),
                 (A1 - A1.mean()) / np.sqrt(((A1 - A1.mean()) ** 2).mean() + 1e-5)],
                rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="NestedTensor layer_norm requires weight and bias"):
        F.layer_norm(a, (3,))
    with pytest.raises(RuntimeError, match="normalized_shape extends into irregular dimensions"):
        F.layer_norm(a, (2, 3), gpujit.ones(2, 3), gpujit.zeros(2, 3))
    _same_parts(F.dropout(a, 0.5, training=False), [A0, A1])
    _same_parts(F.gelu(a, approximate="tanh"), [F.gelu(gpujit.tensor(A0), approximate="tanh")
                                                .numpy(), F.gelu(gpujit.tensor(A1),
                                                                 approximate="tanh").numpy()])


def test_transpose_is_a_view_of_the_buffer():
    a = _nt(A0, A1)
    t = a.transpose(1, 2)
    assert t._nested_tensor_size().tolist() == [[3, 2], [3, 1]]
    assert t._nested_tensor_strides().tolist() == [[1, 3], [1, 3]]
    assert not t.is_contiguous() and t.contiguous().is_contiguous()
    _same_parts(t, [A0.T, A1.T])
    with pytest.raises(RuntimeError, match="Nested tensor dimension 0 cannot be transposed"):
        a.transpose(0, 1)
    four = gpujit.nested.nested_tensor([gpujit.arange(24.).reshape(2, 3, 4),
                                        gpujit.arange(12.).reshape(1, 3, 4)])
    x = four.transpose(1, 2)
    assert x._nested_tensor_size().tolist() == [[3, 2, 4], [3, 1, 4]]
    _same_parts(x, [np.arange(24, dtype=np.float32).reshape(2, 3, 4).transpose(1, 0, 2),
                    np.arange(12, dtype=np.float32).reshape(1, 3, 4).transpose(1, 0, 2)])
    u = a.unsqueeze(-1)
    assert u._nested_tensor_size().tolist() == [[2, 3, 1], [1, 3, 1]]


def test_ops_match_torch():
    torch = _torch()
    w = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)

    def run(m):
        a = _nt(A0, A1, mod=m)
        wt = m.tensor(w)
        y = m.nn.functional.linear(a, wt, m.ones(4)).relu() * 0.5 + 1
        y = m.nn.functional.softmax(y, -1)
        y = m.nn.functional.layer_norm(y, (4,), m.ones(4), m.zeros(4))
        z = m.matmul(y, y.transpose(1, 2))
        return [y.to_padded_tensor(0.0), z.to_padded_tensor(-1.0),
                y._nested_tensor_strides(), z._nested_tensor_size()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want, got = run(torch), run(gpujit)
    for g, e in zip(got, want):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- autograd
def test_gradients_through_the_buffer():
    x = gpujit.nested.nested_tensor([gpujit.ones(2, 3), gpujit.ones(1, 3)], requires_grad=True)
    y = (x * 3).relu()
    assert type(y.grad_fn).__name__ == "ReluBackward0" and not y.is_leaf and x.is_leaf
    # (node names as torch's, also where the dense op's name reads its operands: div)
    assert [type(t.grad_fn).__name__ for t in (x / 2, x.softmax(-1), x.unbind()[0],
                                               x.chunk(3, -1)[0])] == [
        "DivBackward0", "SoftmaxBackward0", "UnbindBackwardAutogradNestedTensor0",
        "ChunkBackwardAutogradNestedTensor0"]
    w = gpujit.arange(12.).reshape(4, 3).requires_grad_()
    F.linear(y, w).to_padded_tensor(0.0).sum().backward()
    g = x.grad
    assert g.is_nested
    col = w.detach().numpy().sum(0) * 3
    _same_parts(g, [np.tile(col, (2, 1)), np.tile(col, (1, 1))])
    np.testing.assert_allclose(w.grad.numpy(), np.full((4, 3), 9.0))   # 3 rows of 3s


# ---------------------------------------------------------------- scripted functions
def test_scripted_function_with_nested_inputs_runs_unfused():
    @gpujit.jit.script
    def f(x: gpujit.Tensor, w: gpujit.Tensor) -> gpujit.Tensor:
        y = F.linear(x, w).relu() * 2.0 + 1.0
        return F.softmax(y, -1).to_padded_tensor(0.0)

    x = _nt(A0, A1)
    w = gpujit.ones(4, 3) / 3
    want = np.zeros((2, 2, 4), np.float32)
    want[0], want[1, 0] = 0.25, 0.25
    for _ in range(3):      # (profiling runs, then the specialization)
        np.testing.assert_allclose(f(x, w).numpy(), want, rtol=1e-6)
    assert "TensorExprGroup" not in str(f.graph_for(x, w))
    # (the same function's dense calls still fuse)
    @gpujit.jit.script
    def g(x: gpujit.Tensor, w: gpujit.Tensor) -> gpujit.Tensor:
        return F.softmax(F.linear(x, w).relu() * 2.0 + 1.0, -1)
    d = gpujit.ones(2, 2, 3)
    for _ in range(3):
        g(d, w)
    assert "TensorExprGroup" in str(g.graph_for(d, w))
    for _ in range(3):
        np.testing.assert_allclose(g(x, w).to_padded_tensor(0.0).numpy(), want, rtol=1e-6)
    assert "TensorExprGroup" not in str(g.graph_for(x, w))


# ---------------------------------------------------------------- TransformerEncoder fast path
_ARCHIVES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "torch_archives")


def _encoder_case():
    io = gpujit.load(os.path.join(_ARCHIVES, "io_nested.pt"), weights_only=False)
    return os.path.join(_ARCHIVES, "encoder_nested.pt"), io["encoder_nested"]


def test_torch_archive_of_transformer_encoder_takes_the_nested_path():
    """nn.TransformerEncoder(enable_nested_tensor=True) scripted and saved by torch 2.13:
    in eval without gradients, given a padding mask, its code converts the batch with
    aten::_nested_tensor_from_mask, runs aten::_transformer_encoder_layer_fwd on the nested
    batch and pads back with aten::to_padded_tensor; gpujit's results are torch's, the
    padded positions 0."""
    path, rec = _encoder_case()
    m = gpujit.jit.load(path)
    assert "_nested_tensor_from_mask" in m.code and "to_padded_tensor" in m.code
    src, _, pad = rec["args"]
    with gpujit.no_grad():
        for _ in range(3):
            out = m(*rec["args"])
            np.testing.assert_allclose(out.numpy(), rec["out"].numpy(), rtol=1e-5, atol=2e-6)
    padded = pad.numpy()
    assert (out.numpy()[padded] == 0).all() and (rec["out"].numpy()[padded] == 0).all()
    # with gradients the archive takes the layers' Python path (no nested tensors): the
    # same values at the real tokens
    with_grad = m(*rec["args"])
    assert with_grad.requires_grad
    np.testing.assert_allclose(with_grad.detach().numpy()[~padded],
                               rec["out"].numpy()[~padded], rtol=1e-5, atol=2e-6)


def test_gpujit_transformer_encoder_matches_the_nested_path():
    """gpujit's own nn.TransformerEncoder (its padded computation) with the archive's
    weights gives torch's nested-path output, zeros at the padded positions included."""
    path, rec = _encoder_case()
    arch = gpujit.jit.load(path)
    layer = gpujit.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                              batch_first=True)
    enc = gpujit.nn.TransformerEncoder(layer, 2, enable_nested_tensor=True).eval()
    enc.load_state_dict(arch.state_dict())
    src, _, pad = rec["args"]
    with gpujit.no_grad():
        out = enc(src, src_key_padding_mask=pad)
    np.testing.assert_allclose(out.numpy(), rec["out"].numpy(), rtol=1e-5, atol=2e-6)


def test_encoder_layer_fast_path_op_on_a_nested_batch():
    """aten::_transformer_encoder_layer_fwd of a nested batch: each sequence attends to its
    own tokens only (the same as the dense op on each sequence alone)."""
    rng = np.random.default_rng(1)
    D, H, FF = 8, 2, 16

    def r(*s):
        return gpujit.tensor(rng.standard_normal(s).astype(np.float32) * 0.3)
    w = [r(3 * D, D), r(3 * D), r(D, D), r(D), gpujit.ones(D), gpujit.zeros(D),
         gpujit.ones(D), gpujit.zeros(D), r(FF, D), r(FF), r(D, FF), r(D)]
    seqs = [r(4, D), r(2, D)]
    nt = gpujit.nested.nested_tensor(seqs)
    fwd = gpujit._transformer_encoder_layer_fwd
    out = fwd(nt, D, H, *w[:4], False, False, 1e-5, *w[4:], None, None)
    assert out.is_nested and out._nested_tensor_size().tolist() == [[4, D], [2, D]]
    for got, s in zip(out.unbind(), seqs):
        alone = fwd(s.unsqueeze(0), D, H, *w[:4], False, False, 1e-5, *w[4:], None, None)
        np.testing.assert_allclose(got.numpy(), alone[0].numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="not supported with NestedTensor input"):
        fwd(nt, D, H, *w[:4], False, False, 1e-5, *w[4:], gpujit.zeros(2, 4, dtype=gpujit.bool),
            1)


# ---------------------------------------------------------------- reshape, view, sum, masked_fill
B0 = np.arange(8, dtype=np.float32).reshape(2, 4)
B1 = np.arange(4, dtype=np.float32).reshape(1, 4)


def test_reshape_and_view_keep_the_batch_and_inherit_minus_one():
    a = _nt(B0, B1)
    v = a.view(2, -1, 2, 2)
    assert v._nested_tensor_size().tolist() == [[2, 2, 2], [1, 2, 2]]
    assert v._nested_tensor_strides().tolist() == [[4, 2, 1], [4, 2, 1]]
    _same_parts(v, [B0.reshape(2, 2, 2), B1.reshape(1, 2, 2)])
    v.unbind()[0].zero_()               # (a view: the buffer is written)
    assert a.unbind()[0].abs().sum().item() == 0
    a = _nt(B0, B1)
    t = a.reshape(2, -1, 2, 2).transpose(1, 2)      # (B, H, T, Dh)
    back = t.transpose(1, 2).reshape(2, -1, 4)
    _same_parts(back, [B0, B1])
    r = a.transpose(1, 2).reshape(2, 4, -1)     # (same shape: a view, strides kept)
    assert r._nested_tensor_strides().tolist() == [[1, 4], [1, 4]]
    for call, words in [(lambda: a.reshape(-1, 2, 4), "nested reshape cannot change or infer "
                                                      "the implicit batch dimension"),
                        (lambda: a.view(3, -1, 4), "nested view cannot change"),
                        (lambda: a.reshape(2, 2, 4), r"shape '\[2, 2, 4\]' is invalid for "
                                                     r"input of size 4"),
                        (lambda: a.reshape(2, -1, 2, -1), "nested tensor does not infer shape")]:
        with pytest.raises(RuntimeError, match=words):
            call()


def test_sum_over_the_last_dim_and_masked_fill():
    a = _nt(B0, B1)
    _same_parts(a.sum(-1, keepdim=True), [B0.sum(-1, keepdims=True), B1.sum(-1, keepdims=True)])
    for call, words in [(lambda: a.sum(-1), "always requires keepdim=True"),
                        (lambda: a.sum(1, keepdim=True), "can only be reduced across the last "
                                                         "dimension for now got dimension 1"),
                        (lambda: a.sum((1, 2)), "only allows reduction of a single dimension"),
                        (lambda: a.sum(-1, True, dtype=gpujit.float64), "does not support dtype")]:
        with pytest.raises(RuntimeError, match=words):
            call()
    _same_parts(a.masked_fill(a > 2, 0.0), [np.where(B0 > 2, 0, B0), np.where(B1 > 2, 0, B1)])
    with pytest.raises(RuntimeError, match="but got a nested self and non-nested other"):
        a.masked_fill(gpujit.ones(4, dtype=gpujit.bool), 0.0)


# ---------------------------------------------------------------- autograd: backward, node names
def test_backward_of_a_nested_tensor():
    a1 = gpujit.arange(3.).requires_grad_()
    b1 = gpujit.arange(5.).requires_grad_()
    nt = gpujit.nested.as_nested_tensor([a1, b1])
    assert not nt.is_leaf and type(nt.grad_fn).__name__ == "NestedTensorFromTensorListBackward0"
    nt.backward(gpujit.nested.nested_tensor([gpujit.ones(3), gpujit.zeros(5)]))
    assert a1.grad.tolist() == [1, 1, 1] and b1.grad.tolist() == [0] * 5
    x = gpujit.nested.nested_tensor([gpujit.ones(2, 4), gpujit.ones(1, 4)], requires_grad=True)
    (x * 2).transpose(1, 2).backward(gpujit.nested.nested_tensor([gpujit.ones(4, 2),
                                                                  gpujit.ones(4, 1)]))
    _same_parts(x.grad, [np.full((2, 4), 2, np.float32), np.full((1, 4), 2, np.float32)])


def test_node_names_match_torch():
    torch = _torch()

    def names(m):
        x = m.nested.nested_tensor([m.ones(2, 4), m.ones(1, 4)], requires_grad=True)
        F_ = m.nn.functional
        ys = [x.softmax(-1), F_.linear(x, m.ones(3, 4)), x * 2, x + x, x.relu(),
              F_.layer_norm(x, (4,), m.ones(4), m.zeros(4)), m.matmul(x, x.transpose(1, 2)),
              m.bmm(x, x.transpose(1, 2)), x.transpose(1, 2), x.reshape(2, -1, 2, 2),
              x.clone(), x.unsqueeze(1), x.to(m.float64), x.sum(-1, keepdim=True),
              x.masked_fill(x > 0, 1.0), F_.dropout(x, 0.5, training=False),
              F_.gelu(x), m.nested.as_nested_tensor([m.ones(2, requires_grad=True)]),
              x.to_padded_tensor(0.0), (x * 1).to_padded_tensor(0.0, (2, 3, 5)),
              x / 2, x - 1, x.select(0, 1), x.select(2, 1), x.mT,
              x.unsqueeze(1).squeeze(1), x.view(2, -1, 2, 2),
              F_.scaled_dot_product_attention(x.unsqueeze(1), x.unsqueeze(1),
                                              x.unsqueeze(1))]
        ys += list(x.chunk(2, -1)) + list(x.split([1, 3], -1)) + list(x.unbind())
        return [type(y.grad_fn).__name__ for y in ys]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert names(gpujit) == names(torch)


# ---------------------------------------------------------------- save / load
def test_save_and_load_round_trip(tmp_path):
    a = _nt(A0, A1).transpose(1, 2)
    p = tmp_path / "nt.pt"
    gpujit.save({"nt": a}, p)
    b = gpujit.load(p)["nt"]            # (weights_only: torch's rebuild function is allowed)
    assert b.is_nested and b._nested_tensor_strides().tolist() == [[1, 3], [1, 3]]
    _same_parts(b, [A0.T, A1.T])


def test_save_and_load_with_torch(tmp_path):
    torch = _torch()
    p = tmp_path / "g.pt"
    gpujit.save(_nt(A0, A1), p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.load(p)
        assert t.is_nested and [c.tolist() for c in t.unbind()] == [A0.tolist(), A1.tolist()]
        q = tmp_path / "t.pt"
        torch.save(torch.nested.nested_tensor([torch.ones(2), torch.zeros(3)]), q)
    g = gpujit.load(q)
    _same_parts(g, [np.ones(2, np.float32), np.zeros(3, np.float32)])


# ---------------------------------------------------------------- views, selection, attention
def test_select_narrow_chunk_split_squeeze_cat_where_copy():
    a = _nt(B0, B1)
    np.testing.assert_array_equal(a.select(0, 1).numpy(), B1)
    s = a.select(-1, 1)
    assert s._nested_tensor_strides().tolist() == [[4], [4]]
    _same_parts(s, [B0[:, 1], B1[:, 1]])
    n = a.narrow(0, 1, 1)
    assert n._nested_tensor_storage_offsets().tolist() == [8]
    _same_parts(n, [B1])
    with pytest.raises(RuntimeError, match="only dim=0 supported for nested tensors, but got: -1"):
        a.narrow(-1, 1, 2)
    c0, c1 = a.chunk(2, -1)
    assert c0._nested_tensor_strides().tolist() == [[4, 1], [4, 1]]
    _same_parts(c1, [B0[:, 2:], B1[:, 2:]])
    with pytest.raises(RuntimeError, match="only supported for the last dimension"):
        a.chunk(2, 1)
    with pytest.raises(RuntimeError, match=r"divisible by chunks, got: 4 % 3 != 0"):
        a.chunk(3, -1)
    p0, p1 = a.split([1, 3], -1)
    _same_parts(p0, [B0[:, :1], B1[:, :1]])
    _same_parts(p1, [B0[:, 1:], B1[:, 1:]])
    assert a.unsqueeze(1).squeeze(1)._nested_tensor_strides().tolist() == [[4, 1], [4, 1]]
    with pytest.raises(RuntimeError, match="squeezing dimension 0 is not supported"):
        a.squeeze(0)
    with pytest.raises(RuntimeError, match="squeeze without the dim argument is not supported"):
        a.squeeze()
    _same_parts(gpujit.cat([a, a], -1), [np.concatenate([B0, B0], -1),
                                         np.concatenate([B1, B1], -1)])
    with pytest.raises(RuntimeError, match="Expected each tensor in given list to be nested."):
        gpujit.cat([a, gpujit.ones(2, 4)], 0)
    z = _nt(np.zeros_like(B0), np.zeros_like(B1))
    # (torch's nested where takes a dense self only, s47)
    _same_parts(gpujit.where(a > 2, gpujit.tensor(7.0), a),
                [np.where(B0 > 2, 7, B0), np.where(B1 > 2, 7, B1)])
    with pytest.raises(RuntimeError, match="self must not be nested"):
        gpujit.where(a > 2, a, z)
    with pytest.raises(RuntimeError, match="other must be nested"):
        gpujit.where(a > 2, a, 0.0)
    _same_parts((a > 1).all(-1), [(B0 > 1).all(-1), (B1 > 1).all(-1)])
    with pytest.raises(RuntimeError, match="all only supports bool tensor for result, got: Float"):
        a.all(-1)
    with pytest.raises(RuntimeError, match="eq does not support nested tensor as other value."):
        a.eq(a)
    z.copy_(a)
    _same_parts(z, [B0, B1])
    leaf = _nt(B0, B1).requires_grad_()
    with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad is being "
                                           "used in an in-place operation."):
        leaf.copy_(a)
    with pytest.raises(RuntimeError, match="get_nested_tensor_impl requires a NestedTensor."):
        z.copy_(gpujit.ones(4))
    z.fill_(gpujit.tensor(2.0))
    _same_parts(z, [np.full_like(B0, 2), np.full_like(B1, 2)])
    assert a.data_ptr() == a.values().data_ptr() and a.storage_offset() == 0


def _attention_block(m, x, w_qkv, w_o, heads):
    """What nn.MultiheadAttention's nested path does: qkv projection, heads split off,
    attention per sequence, heads merged, output projection."""
    F_ = m.nn.functional
    B, D = x.size(0), x.size(-1)
    q, k, v = F_.linear(x, w_qkv).chunk(3, -1)
    split = [t.reshape(B, -1, heads, D // heads).transpose(1, 2).contiguous()
             for t in (q, k, v)]
    o = F_.scaled_dot_product_attention(*split)
    return F_.linear(o.transpose(1, 2).reshape(B, -1, D), w_o)


def test_attention_over_a_ragged_batch():
    rng = np.random.default_rng(3)
    seqs = [rng.standard_normal((n, 8)).astype(np.float32) for n in (3, 1, 5)]
    w_qkv = rng.standard_normal((24, 8)).astype(np.float32) * 0.3
    w_o = rng.standard_normal((8, 8)).astype(np.float32) * 0.3
    x = gpujit.nested.nested_tensor([gpujit.tensor(s) for s in seqs])
    y = _attention_block(gpujit, x, gpujit.tensor(w_qkv), gpujit.tensor(w_o), 2)
    assert y._nested_tensor_size().tolist() == [[3, 8], [1, 8], [5, 8]]
    for got, s in zip(y.unbind(), seqs):       # (each sequence alone, by NumPy)
        q, k, v = np.split(s @ w_qkv.T, 3, -1)
        heads = [t.reshape(len(s), 2, 4).transpose(1, 0, 2) for t in (q, k, v)]
        att = _softmax(heads[0] @ heads[1].transpose(0, 2, 1) / 2.0, -1) @ heads[2]
        want = att.transpose(1, 0, 2).reshape(len(s), 8) @ w_o.T
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError, match="not supported when is_causal=True"):
        F.scaled_dot_product_attention(x.unsqueeze(1), x.unsqueeze(1), x.unsqueeze(1),
                                       is_causal=True)
    t = x.unsqueeze(1).transpose(1, 2)
    with pytest.raises(RuntimeError, match="If inputs are nested tensors they must be "
                                           "contiguous"):
        F.scaled_dot_product_attention(t, t, t)


def test_attention_over_a_ragged_batch_matches_torch():
    torch = _torch()
    rng = np.random.default_rng(4)
    seqs = [rng.standard_normal((n, 8)).astype(np.float32) for n in (3, 1, 5)]
    w = [rng.standard_normal(s).astype(np.float32) * 0.3 for s in ((24, 8), (8, 8))]

    def run(m):
        x = m.nested.nested_tensor([m.tensor(s) for s in seqs])
        return _attention_block(m, x, m.tensor(w[0]), m.tensor(w[1]), 2).to_padded_tensor(0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(run(gpujit).numpy(), run(torch).numpy(), rtol=1e-5,
                                   atol=1e-6)


# ---------------------------------------------------------------- nn modules with nested inputs
def _modules(m, seed=5):
    """An attention, an encoder layer and an encoder of m (gpujit or torch) with the same
    weights (NumPy's)."""
    nn = m.nn
    mha = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).eval()
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0,
                                                           batch_first=True), 2,
                                enable_nested_tensor=False).eval()
    rng = np.random.default_rng(seed)
    with m.no_grad():
        for mod in (mha, layer, enc):
            for p in mod.parameters():
                p.copy_(m.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.3))
    return mha, layer, enc


_SEQS = [np.random.default_rng(6).standard_normal((n, 8)).astype(np.float32) for n in (3, 1, 4)]


def test_modules_take_the_nested_fast_path():
    mha, layer, enc = _modules(gpujit)
    x = gpujit.nested.nested_tensor([gpujit.tensor(s) for s in _SEQS])
    with gpujit.no_grad():
        out, w = mha(x, x, x)
        assert out.is_nested and not w.is_nested and tuple(w.shape) == (3, 4, 4)
        for i, s in enumerate(_SEQS):       # (each sequence alone, the dense module)
            t = gpujit.tensor(s).unsqueeze(0)
            o1, w1 = mha(t, t, t)
            np.testing.assert_allclose(out.unbind()[i].numpy(), o1[0].numpy(), rtol=1e-5,
                                       atol=1e-6)
            n = len(s)
            np.testing.assert_allclose(w[i, :n, :n].numpy(), w1[0].numpy(), rtol=1e-5,
                                       atol=1e-6)
            assert w[i, n:].abs().sum().item() == 0 and w[i, :, n:].abs().sum().item() == 0
            np.testing.assert_allclose(layer(x).unbind()[i].numpy(), layer(t)[0].numpy(),
                                       rtol=1e-5, atol=1e-6)
        y = enc(x)
        assert y.is_nested and y._nested_tensor_size().tolist() == [[3, 8], [1, 8], [4, 8]]
    with pytest.raises(AssertionError, match="MultiheadAttention does not support NestedTensor "
                                             "outside of its fast path. The fast path was not "
                                             "hit because grad is enabled"):
        mha(x, x, x)
    with pytest.raises(AssertionError, match="because grad is enabled"):
        layer(x)            # (not fast: the Python path, whose attention refuses it)
    mha.train()
    with gpujit.no_grad(), pytest.raises(AssertionError, match="training is enabled"):
        mha(x, x, x)
    emb = gpujit.nn.Embedding(5, 4)
    idx = gpujit.nested.nested_tensor([gpujit.tensor([0, 2, 1]), gpujit.tensor([3])])
    e = emb(idx)
    _same_parts(e, [emb.weight.detach().numpy()[[0, 2, 1]], emb.weight.detach().numpy()[[3]]])


def test_modules_with_nested_inputs_match_torch():
    torch = _torch()

    def run(m):
        mha, layer, enc = _modules(m)
        x = m.nested.nested_tensor([m.tensor(s) for s in _SEQS])
        with m.no_grad():
            o, w = mha(x, x, x)
            o2, w2 = mha(x, x, x, need_weights=False)
            return [o.to_padded_tensor(0.0), w, o2.to_padded_tensor(0.0),
                    layer(x).to_padded_tensor(0.0), enc(x).to_padded_tensor(0.0)], w2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want, w2_t = run(torch)
        got, w2_g = run(gpujit)
    assert w2_t is None and w2_g is None
    for g, e in zip(got, want):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-5, atol=2e-6)


def test_tracing_records_nested_ops_as_torch():
    """A trace with a nested input records the nested ops themselves (their kernels run
    unrecorded); nested values are typed FloatTensor(...) without sizes, as PyTorch's."""
    x = gpujit.nested.nested_tensor([gpujit.ones(2, 3), gpujit.ones(1, 3)])
    w = gpujit.ones(4, 3)
    f = gpujit.jit.trace(lambda a, w: F.linear(a, w).relu().softmax(-1).to_padded_tensor(0.0),
                         (x, w))
    g = str(f.graph)
    assert "graph(%a : FloatTensor(requires_grad=0, device=cpu)," in g
    assert "%4 : FloatTensor(requires_grad=0, device=cpu) = aten::relu(%3)" in g
    assert "Float(2, 2, 4, strides=[8, 4, 1], requires_grad=0, device=cpu) = " \
           "aten::to_padded_tensor(%7, %8, %9)" in g
    assert "aten::pad" not in g and "aten::cat" not in g        # (no kernel internals)
    want = np.zeros((2, 2, 4), np.float32)
    want[0], want[1, 0] = 0.25, 0.25
    for _ in range(3):
        np.testing.assert_allclose(f(x, w).numpy(), want, rtol=1e-6)
    assert "TensorExprGroup" not in str(f.graph_for(x, w))
    f3 = gpujit.jit.trace(lambda a: a.unbind()[1] + a[0].sum(), (x,))
    g3 = str(f3.graph)
    assert "%2 : Tensor[] = aten::unbind(%a, %1)" in g3 and "aten::select(%a, %5, %6)" in g3
    assert f3(x).tolist() == [[7.0, 7.0, 7.0]]


def test_traced_graph_matches_torch():
    torch = _torch()
    import re

    def graph(m):
        x = m.nested.nested_tensor([m.ones(2, 3), m.ones(1, 3)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = m.jit.trace(lambda a, w: m.nn.functional.linear(a, w).relu().softmax(-1)
                            .to_padded_tensor(0.0), (x, m.ones(4, 3)))
        return re.sub(r" # .*", "", str(f.graph))
    assert graph(gpujit) == graph(torch)


def test_scripted_facts_of_a_nested_tensor():
    @gpujit.jit.script
    def f(a):
        parts = a.unbind()
        return a.is_nested, a.size(0), a.dim(), len(parts), parts[1], a.to_padded_tensor(
            1.0, [2, 3, 4])

    x = _nt(A0, A1)
    for _ in range(3):
        nested, n, d, k, p1, padded = f(x)
        assert (nested, n, d, k) == (True, 2, 3, 2)
        np.testing.assert_array_equal(p1.numpy(), A1)
        want = np.ones((2, 3, 4), np.float32)
        want[0, :2, :3], want[1, :1, :3] = A0, A1
        np.testing.assert_array_equal(padded.numpy(), want)


def test_more_facts_and_refusals_in_torch_words():
    a = _nt(B0, B1)
    try:
        a.flatten()
    except RuntimeError as e:       # (shown as torch's RuntimeError)
        assert type(e).__name__ == "RuntimeError" and "doesn't support sizes" in str(e)
    else:
        raise AssertionError("flatten of a nested tensor did not raise")
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value "
                                           "is ambiguous"):
        bool(a)
    with pytest.raises(NotImplementedError, match="'aten::pow.Tensor_Scalar'"):
        a ** 2
    with pytest.raises(NotImplementedError, match="'aten::div_.Tensor'"):
        a.clone().div_(2)
    with pytest.raises(NotImplementedError, match="'aten::_log_softmax'"):
        a.log_softmax(-1)
    with pytest.raises(NotImplementedError, match="'aten::permute'"):
        a.T
    _same_parts(a.mT, [B0.T, B1.T])
    n = gpujit.nested.narrow(gpujit.arange(12.).reshape(3, 4), 0, 1, 2)
    _same_parts(n, [np.arange(4, 8, dtype=np.float32), np.arange(8, 12, dtype=np.float32)])
    with pytest.raises(RuntimeError, match="only dim=0 supported for nested tensors"):
        gpujit.nested.narrow(gpujit.arange(12.).reshape(3, 4), 1, 1, 2)
    with pytest.raises(RuntimeError, match="start must be an integer or a tensor"):
        gpujit.nested.narrow(gpujit.arange(12.).reshape(3, 4), 0, 1.0, 2)
    with pytest.raises(RuntimeError, match="must be integers for the strided layout NT impl"):
        gpujit.nested.narrow(gpujit.arange(12.).reshape(3, 4), 0, gpujit.tensor([0, 1, 2]), 2)


def _ragged_chain(m, x, w, wo, g, b):
    """attention + residual + layer_norm + softmax over a (possibly nested) batch x."""
    F_ = m.nn.functional
    B, D = x.size(0), 8
    q, k, v = F_.linear(x, w[:8]), F_.linear(x, w[8:16]), F_.linear(x, w[16:])
    sp = [t.reshape(B, -1, 2, 4).transpose(1, 2).contiguous() for t in (q, k, v)]
    o = F_.scaled_dot_product_attention(*sp).transpose(1, 2).reshape(B, -1, D)
    return F_.softmax(F_.layer_norm(F_.linear(o, wo).relu() + x, (D,), g, b) * 2, -1)


def _chain_grads(m, nested):
    rng = np.random.default_rng(0)
    seqs = [rng.standard_normal((n, 8)).astype(np.float32) for n in (3, 1, 4)]
    params = [m.tensor(rng.standard_normal(s).astype(np.float32) * 0.3).requires_grad_()
              for s in ((24, 8), (8, 8))] + [m.ones(8).requires_grad_(),
                                             m.zeros(8).requires_grad_()]
    if nested:
        x = m.nested.nested_tensor([m.tensor(s) for s in seqs], requires_grad=True)
        y = _ragged_chain(m, x, *params).to_padded_tensor(0.0)
        (y * m.arange(y.numel()).reshape(y.shape).float()).sum().backward()
        xg = [c.numpy() for c in x.grad.unbind()]
    else:       # (each sequence alone, dense, weighted as its rows of the padded result)
        xs = [m.tensor(s).unsqueeze(0).requires_grad_() for s in seqs]
        T = max(len(s) for s in seqs)
        for i, xi in enumerate(xs):
            y = _ragged_chain(m, xi, *params)[0]
            n = y.size(0)
            wt = m.arange(3 * T * 8).reshape(3, T, 8)[i, :n].float()
            (y * wt).sum().backward()
        xg = [xi.grad[0].numpy() for xi in xs]
    return [p.grad.numpy() for p in params], xg


def test_gradients_of_a_ragged_block_equal_per_sequence_dense_ones():
    (pn, xn), (pd, xd) = _chain_grads(gpujit, True), _chain_grads(gpujit, False)
    for a, b in zip(pn + xn, pd + xd):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_gradients_of_a_ragged_block_match_torch():
    torch = _torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (pt, xt), (pg, xg) = _chain_grads(torch, True), _chain_grads(gpujit, True)
    for a, b in zip(pg + xg, pt + xt):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_torch_archive_called_with_a_nested_batch():
    """A torch-scripted TransformerEncoderLayer (gelu) called with a nested batch (loaded
    from torch.save's file, as torch wrote it): its code takes the fast path on the nested
    input; gpujit's results are torch's, nested."""
    io = gpujit.load(os.path.join(_ARCHIVES, "io_nested.pt"), weights_only=False)
    rec = io["layer_nested_input"]
    (x,) = rec["args"]
    assert x.is_nested and x._nested_tensor_size().tolist() == [[3, 8], [1, 8], [4, 8]]
    m = gpujit.jit.load(os.path.join(_ARCHIVES, "layer_nested_input.pt"))
    with gpujit.no_grad():
        for _ in range(3):
            out = m(x)
            assert out.is_nested
            for g, w in zip(out.unbind(), rec["out"].unbind()):
                np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5, atol=2e-6)


def test_small_facts_retain_grad_and_random_fill():
    a = _nt(B0, B1)
    assert a.is_same_size(_nt(B0 * 0, B1 * 0)) and not a.is_same_size(a.transpose(1, 2))
    with pytest.raises(RuntimeError, match="Self is nested. While Other is not nested."):
        a.is_same_size(gpujit.ones(2, 4))
    assert a.nbytes == 48 and not a.is_pinned() and not a.is_shared() and a.get_device() == -1
    assert a.to(gpujit.ones(1, dtype=gpujit.float64)).dtype is gpujit.float64
    s = _nt(B0 - 4, B1 - 4)
    _same_parts(s.clone().sgn_(), [np.sign(B0 - 4), np.sign(B1 - 4)])
    _same_parts(s.clone().logical_not_(), [(B0 == 4).astype(np.float32),
                                           (B1 == 4).astype(np.float32)])
    with pytest.raises(NotImplementedError, match="'aten::sqrt_'"):
        s.clone().sqrt_()
    r = a.clone().normal_()
    assert r.is_nested and r._nested_tensor_size().tolist() == [[2, 4], [1, 4]]
    x = a.detach().requires_grad_() * 2
    x.retain_grad()
    x.to_padded_tensor(0.0).sum().backward()
    assert x.retains_grad
    _same_parts(x.grad, [np.ones_like(B0), np.ones_like(B1)])
    import copy
    import pickle
    for c in (copy.deepcopy(a), pickle.loads(pickle.dumps(a))):
        _same_parts(c, [B0, B1])


def test_scripted_nested_tensor_from_tensor_list():
    """torch._nested_tensor_from_tensor_list is a registry op: scripted code calls it as
    TorchScript's graph does."""
    @gpujit.jit.script
    def k(xs: List[gpujit.Tensor]):
        return gpujit._nested_tensor_from_tensor_list(xs).to_padded_tensor(0.0)

    # (torch 2.13 names the input %xs.1: the load of xs renamed it)
    assert "aten::_nested_tensor_from_tensor_list(%xs.1, %2, %2, %2, %2)" in str(k.graph)
    for _ in range(3):
        assert k([gpujit.ones(2), gpujit.ones(3)]).tolist() == [[1, 1, 0], [1, 1, 1]]
    with pytest.raises(TypeError, match=r"argument 'list' \(position 1\) must be tuple of "
                                        r"Tensors, not Tensor"):
        gpujit._nested_tensor_from_tensor_list(gpujit.ones(2))


def test_sizes_errors_are_runtime_errors_as_torch():
    a = _nt(A0, A1)
    with pytest.raises(RuntimeError, match="doesn't support sizes"):
        hasattr(a, "shape")         # (torch's RuntimeError escapes hasattr)
    for call in (lambda: a.size(), lambda: a.stride(), lambda: len(a)):
        with pytest.raises(RuntimeError) as info:
            call()
        assert not isinstance(info.value, AttributeError)


def test_torch_nested_to_padded_tensor_is_its_own_op_in_graphs():
    """torch.nested.to_padded_tensor is aten::nested_to_padded_tensor in scripted and
    traced graphs, as torch's (x.to_padded_tensor is aten::to_padded_tensor)."""
    @gpujit.jit.script
    def p(x):
        return gpujit.nested.to_padded_tensor(x, 0.0)

    x = _nt(A0, A1)
    assert "aten::nested_to_padded_tensor(%x.1, " in str(p.graph)     # (torch 2.13: %x.1)
    t = gpujit.jit.trace(lambda a: gpujit.nested.to_padded_tensor(a, 0.0), (x,))
    assert "aten::nested_to_padded_tensor(%a, %1, %2)" in str(t.graph)
    want = np.zeros((2, 2, 3), np.float32)
    want[0], want[1, :1] = A0, A1
    for _ in range(3):
        np.testing.assert_array_equal(p(x).numpy(), want)
        np.testing.assert_array_equal(t(x).numpy(), want)


def test_bmm_with_a_dense_batch_and_products_errors_as_torch():
    a = _nt(B0, B1)
    d = np.arange(24, dtype=np.float32).reshape(2, 4, 3)
    _same_parts(gpujit.bmm(a, gpujit.tensor(d)), [B0 @ d[0], B1 @ d[1]])
    w = _nt(np.ones((4, 3), np.float32), np.ones((4, 2), np.float32))
    s = np.ones((2, 2, 4), np.float32)
    _same_parts(gpujit.bmm(gpujit.tensor(s), w), [s[0] @ np.ones((4, 3), np.float32),
                                                 s[1] @ np.ones((4, 2), np.float32)])
    one = _nt(np.ones((4, 3), np.float32))
    for call, words in [
            (lambda: gpujit.bmm(a, one), "Expected size for the 1st dimension of batch2 tensor "
                                         "to be: 2 but got: 1."),
            (lambda: gpujit.matmul(a, one), "matmul: Expected size for the 1st dimension of 2nd "
                                            "input tensor to be: 2 but got: 1."),
            (lambda: gpujit.bmm(a, a), r"0-th nested matrices in batch cannot be multiplied "
                                       r"\(2x4 and 2x4\)"),
            (lambda: gpujit.bmm(a.unsqueeze(1), w.unsqueeze(1)), "batch1 must be a 3D tensor"),
            (lambda: F.linear(a.transpose(1, 2), gpujit.ones(3, 2)),
             "for now linear only supports contiguous nested tensor")]:
        with pytest.raises(RuntimeError, match=words):
            call()
    with pytest.raises(NotImplementedError, match="'aten::div.Tensor_mode'"):
        gpujit.div(a, 2, rounding_mode="floor")


def test_non_contiguous_nested_tensors_as_torch():
    """Ops PyTorch computes on the whole buffer refuse a non-contiguous nested tensor
    (transposed, narrowed) in its words; a number operand and clone keep the layout."""
    a = _nt(B0, B1)
    t = a.transpose(1, 2)
    for call in (lambda: t.relu(), lambda: a.narrow(0, 1, 1).relu(),
                 lambda: t.to(gpujit.float64), lambda: t.relu_(), lambda: t.mul_(2),
                 lambda: t.add_(t), lambda: t.fill_(1.0), lambda: t.copy_(t.clone()),
                 lambda: t.zero_()):
        with pytest.raises(RuntimeError, match="NestedTensor must be contiguous to get buffer."):
            call()
    assert t.to(gpujit.float32) is t
    m = t * 2
    assert m._nested_tensor_strides().tolist() == [[1, 4], [1, 4]]
    _same_parts(m, [B0.T * 2, B1.T * 2])
    c = t.clone()
    assert c._nested_tensor_strides().tolist() == [[1, 4], [1, 4]]
    _same_parts(c, [B0.T, B1.T])
    assert t.contiguous()._nested_tensor_strides().tolist() == [[2, 1], [1, 1]]
    assert t.softmax(-1)._nested_tensor_strides().tolist() == [[2, 1], [1, 1]]
    with pytest.raises(RuntimeError,
                       match=r"Expected nested_tensor_impl_is_contiguous\(nt_input\)"):
        F.layer_norm(t, (2,), gpujit.ones(2), gpujit.zeros(2))


def test_scripted_sizes_of_a_nested_tensor_refused_as_torch():
    @gpujit.jit.script
    def sizes(x):
        return x.size()

    @gpujit.jit.script
    def length(x):
        return len(x)

    @gpujit.jit.script
    def loop(x):
        out: List[gpujit.Tensor] = []
        for c in x.unbind():
            out.append(c.sum(0))
        return gpujit.stack(out)

    x = _nt(A0, A1)
    for f in (sizes, length):
        with pytest.raises(RuntimeError, match="NestedTensorImpl doesn't support sizes"):
            f(x)
    for _ in range(3):
        np.testing.assert_array_equal(loop(x).numpy(), np.stack([A0.sum(0), A1.sum(0)]))


def test_in_place_ops_on_a_leaf_that_requires_grad_refused_first():
    """PyTorch's autograd refuses an in-place op on a nested leaf that requires grad (or a
    view of one) before its nested dispatch: exp_ (no nested kernel) says so too."""
    x = _nt(B0, B1).requires_grad_()
    for call in (lambda: x.relu_(), lambda: x.exp_(), lambda: x.zero_(), lambda: x.mul_(2),
                 lambda: x.fill_(1.0), lambda: x.copy_(x.detach())):
        with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad is being "
                                               "used in an in-place operation."):
            call()
    t = x.transpose(1, 2)
    for call in (lambda: t.relu_(), lambda: t.zero_(), lambda: t.normal_()):
        with pytest.raises(RuntimeError, match="^a view of a leaf Variable that requires grad"):
            call()
    with pytest.raises(RuntimeError, match="NestedTensor must be contiguous to get buffer."):
        (t > 0).logical_not_()      # (no gradient: no autograd check first)
    with gpujit.no_grad():
        x.mul_(2)
    _same_parts(x.detach(), [B0 * 2, B1 * 2])
