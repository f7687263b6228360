"""Session 38 (c38): eager tensor and autograd fidelity against PyTorch 2.13 (torch's answers
written out; no torch import).

1. Indexing's slice skipping: in an index tuple PyTorch's applySlice skips a slice that takes
   the whole dim (start 0 or none, step 1, stop none or >= the size), so `x[0, :2]` of a
   3x2 x is SelectBackward0 -> AccumulateGrad (gpujit: SliceBackward0 -> SelectBackward0),
   `x[0:5, 1]` SelectBackward0 alone, `x[::1, :]` / `x[:, :5]` AliasBackward0 (the whole
   index took nothing), `x[0:3, [0, 1]]` IndexBackward0 -> AccumulateGrad; a slice that is the
   whole index is never skipped: `x[:]` is SliceBackward0 (gpujit: AliasBackward0).
2. grad_fn names of linalg functions PyTorch runs through another kernel: linalg.inv /
   inverse LinalgInvExBackward0, linalg.solve LinalgSolveExBackward0, linalg.cholesky
   LinalgCholeskyExBackward0, linalg.lu_factor LinalgLuFactorExBackward0, linalg.eigvalsh
   LinalgEighBackward0, linalg.diagonal DiagonalBackward0 (gpujit: Linalg<Name>Backward0);
   clamp_max / clamp_min with a Tensor bound ClampMaxBackward1 / ClampMinBackward1 (its
   second derivatives.yaml entry; gpujit ...Backward0).
3. dropout recording gradients is PyTorch's CPU _dropout_impl: input * noise, MulBackward0
   with edges [input's, None] (gpujit: one edge); dropout_ MulBackward0 [CloneBackward0, None];
   torch.dropout(x, 0.0, True) and torch.dropout(x, 0.3, False) (and an empty x) return x
   itself (gpujit: a MulBackward0 node); torch.dropout(x, 1.5, True) is a RuntimeError
   (ATen's check; F.dropout's own check is the ValueError).
"""
import numpy as np
import pytest

import gpujit as torch

F = torch.nn.functional


def _chain(t):
    """The grad_fn names from t down its first edges to (not including) AccumulateGrad."""
    out, g = [], t.grad_fn
    while g is not None and type(g).__name__ != "AccumulateGrad":
        out.append(type(g).__name__)
        g = g.next_functions[0][0] if g.next_functions else None
    return out


def _edges(t):
    return [None if n is None else type(n).__name__ for n, _ in t.grad_fn.next_functions]


# ------------------------------------------------------------------ 1. indexing

@pytest.mark.parametrize("index,chain", [
    ((0, slice(None, 2)), ["SelectBackward0"]),
    ((0, slice(None)), ["SelectBackward0"]),
    ((0, slice(0, None)), ["SelectBackward0"]),
    ((0, slice(0, 5)), ["SelectBackward0"]),
    ((0, slice(None, None, 1)), ["SelectBackward0"]),
    ((0, slice(-2, None)), ["SliceBackward0", "SelectBackward0"]),
    ((0, slice(1, None)), ["SliceBackward0", "SelectBackward0"]),
    ((slice(0, 3), 0), ["SelectBackward0"]),
    ((slice(-3, None), 0), ["SelectBackward0", "SliceBackward0"]),
    ((slice(0, 5), 0), ["SelectBackward0"]),
    (slice(None), ["SliceBackward0"]),
    (slice(0, 3), ["SliceBackward0"]),
    (slice(0, 5), ["SliceBackward0"]),
    ((slice(None),), ["AliasBackward0"]),
    ((slice(None), slice(None)), ["AliasBackward0"]),
    ((slice(None, None, 1), slice(None)), ["AliasBackward0"]),
    ((slice(None), slice(None, 5)), ["AliasBackward0"]),
    ((slice(0, 2), slice(None)), ["SliceBackward0"]),
    ((slice(None), slice(0, 1)), ["SliceBackward0"]),
    ((Ellipsis, slice(None)), ["AliasBackward0"]),
    ((slice(0, 3), [0, 1]), ["IndexBackward0"]),
    ((None, slice(None)), ["UnsqueezeBackward0"]),
])
def test_full_slices_are_skipped_in_index_tuples(index, chain):
    x = torch.ones(3, 2, requires_grad=True)
    y = x[index]
    assert _chain(y) == chain
    ref = np.ones((3, 2))[index]
    assert y.shape == ref.shape


def test_full_slice_setitem_and_values():
    w = torch.arange(6.0).reshape(3, 2).requires_grad_()
    x = w.clone()
    x[0:5] = torch.zeros(3, 2)          # (the whole tensor: copy_, as torch)
    assert x.grad_fn.name() == "torch::autograd::CopyBackwards"
    x = w.clone()
    x[0, :] = torch.zeros(2)
    assert x.grad_fn.name() == "torch::autograd::CopySlices"
    assert w[0, 0:5].tolist() == [0.0, 1.0]
    assert w[0:5, 1].tolist() == [1.0, 3.0, 5.0]


# ------------------------------------------------------------------ 2. names

def _spd():
    a = torch.tensor([[2.0, 0.5, 0.1], [0.5, 3.0, 0.2], [0.1, 0.2, 4.0]], dtype=torch.float64)
    return a.requires_grad_()


@pytest.mark.parametrize("call,name", [
    (lambda a: torch.linalg.inv(a), "LinalgInvExBackward0"),
    (lambda a: a.inverse(), "LinalgInvExBackward0"),
    (lambda a: torch.inverse(a), "LinalgInvExBackward0"),
    (lambda a: torch.linalg.inv_ex(a).inverse, "LinalgInvExBackward0"),
    (lambda a: torch.linalg.solve(a, a), "LinalgSolveExBackward0"),
    (lambda a: torch.linalg.solve(a, a[0], left=True), "LinalgSolveExBackward0"),
    (lambda a: torch.linalg.cholesky(a), "LinalgCholeskyExBackward0"),
    (lambda a: torch.linalg.cholesky(a, upper=True), "LinalgCholeskyExBackward0"),
    (lambda a: torch.linalg.lu_factor(a)[0], "LinalgLuFactorExBackward0"),
    (lambda a: torch.linalg.eigvalsh(a), "LinalgEighBackward0"),
    (lambda a: torch.linalg.diagonal(a, offset=1), "DiagonalBackward0"),
    (lambda a: torch.clamp_max(a, a[0]), "ClampMaxBackward1"),
    (lambda a: torch.clamp_min(a, a.flip(0)), "ClampMinBackward1"),
    (lambda a: a.clamp_max(a[0]), "ClampMaxBackward1"),
    (lambda a: a.clone().clamp_min_(a[1]), "ClampMinBackward1"),
    (lambda a: torch.clamp_max(a, 0.5), "ClampMaxBackward0"),
    (lambda a: a.clamp_min(0.5), "ClampMinBackward0"),
])
def test_linalg_and_clamp_node_names(call, name):
    assert call(_spd()).grad_fn.name() == name


def test_renamed_nodes_keep_gradients():
    a = _spd()
    torch.linalg.inv(a).sum().backward()
    inv = np.linalg.inv(a.detach().numpy())
    np.testing.assert_allclose(a.grad.numpy(), -(inv.sum(0)[:, None] * inv.sum(1)[None, :]).T,
                               rtol=1e-10)


# ------------------------------------------------------------------ 3. dropout

def test_dropout_records_input_times_noise():
    x = torch.ones(4, 5, requires_grad=True)
    y = torch.dropout(x, 0.3, True)
    assert y.grad_fn.name() == "MulBackward0" and _edges(y) == ["AccumulateGrad", None]
    assert _edges(F.dropout(x, 0.3, True)) == ["AccumulateGrad", None]
    assert _edges(torch.nn.Dropout(0.5)(x)) == ["AccumulateGrad", None]
    y = F.dropout(x.clone(), 0.3, True, inplace=True)
    assert y.grad_fn.name() == "MulBackward0" and _edges(y) == ["CloneBackward0", None]
    y = torch.dropout(x, 1.0, True)
    assert _edges(y) == ["AccumulateGrad", None] and not y.detach().any()


def test_dropout_values_and_gradient_follow_the_seed():
    # torch 2.13, manual_seed(0), dropout(ones(4, 5), 0.3): row 0 [0, 0, 1.4286, 0, 1.4286]
    torch.manual_seed(0)
    x = torch.ones(4, 5, requires_grad=True)
    y = F.dropout(x, 0.3, True)
    keep = (y.detach() != 0).numpy()
    np.testing.assert_allclose(y[0].detach().numpy(), [0, 0, 1 / 0.7, 0, 1 / 0.7], rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), keep / 0.7, rtol=1e-6)
    # the same stream as empty_like(x).bernoulli_(0.7).div_(0.7), as torch's CPU dropout
    torch.manual_seed(0)
    noise = torch.empty(4, 5).bernoulli_(0.7).div_(0.7)
    np.testing.assert_array_equal(noise.numpy(), y.detach().numpy())
    xh = torch.ones(3, 3, dtype=torch.float16, requires_grad=True)
    torch.manual_seed(0)
    assert F.dropout(xh, 0.3, True)[0].tolist() == [0.0, 0.0, 1.4287109375]


@pytest.mark.parametrize("p,train", [(0.0, True), (0.3, False), (1.0, False)])
def test_dropout_returns_its_input_when_nothing_drops(p, train):
    x = torch.ones(4, 5, requires_grad=True)
    assert torch.dropout(x, p, train) is x
    xe = torch.ones(0, 3, requires_grad=True)
    assert torch.dropout(xe, 0.3, True) is xe


def test_dropout_probability_words():
    x = torch.ones(3, 3)
    with pytest.raises(RuntimeError, match=r"^dropout probability has to be between 0 and 1, "
                                           r"but got 1.5$"):
        torch.dropout(x, 1.5, True)
    with pytest.raises(RuntimeError, match="but got -0.5$"):
        torch.dropout_(x, -0.5, False)
    with pytest.raises(ValueError, match="but got 1.5$"):
        F.dropout(x, 1.5)
