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
4. Convolutions and 1-D pools recording gradients are PyTorch's composites: an unbatched
   conv input is unsqueezed, convolved and squeezed (SqueezeBackward1 -> ConvolutionBackward0
   -> UnsqueezeBackward0; gpujit: SqueezeBackward1 straight to the inputs); padding='same'
   with an even kernel pads first (ConvolutionBackward0 -> ConstantPadNdBackward0); the 1-D
   pools are their 2-D pools of x.unsqueeze(-2) (SqueezeBackward1 -> AvgPool2DBackward0 /
   MaxPool2DWithIndicesBackward0 / AdaptiveAvgPool2DBackward0 (MeanBackward1 for an output
   of 1) / AdaptiveMaxPool2DBackward0 -> UnsqueezeBackward0).
5. Convolution dtype words (PyTorch 2.13 CPU): conv{n}d with numeric padding checks the
   bias first, "Input type (double) and bias type (float) should be the same" (gpujit named
   the weight: "Input type (CPUDoubleType) and weight type (CPUFloatType) ..."); a weight of
   another dtype is "expected scalar type Double but found Float" (float64 / float16 input,
   or a float32 batch of one) or, for a float32 batch > 1 (mkldnn), "Input type
   (torch.FloatTensor) and weight type (torch.DoubleTensor) should be the same or input
   should be a MKLDNN tensor and weight is a dense tensor"; padding='same' / transposed
   convolutions of float64 take a float32 bias (gpujit refused it).
6. Pooling argument words (pooling_output_shape's checks come first): avg_pool1d(x, 0) and
   avg_pool2d / max_pool2d / avg_pool3d / max_pool3d with kernel 0 or stride 0 say "stride
   should not be zero" (gpujit: "kernel size should be greater than zero ..." / "avg_pool1d()
   kernel_size must be greater than zero, but got 0"), avg_pool1d(x, 0, 1) "kernel size
   should be greater than zero, but got kH: 1 kW: 0", avg_pool3d "... kT: 0 kH: 0 kW: 0",
   avg_pool1d(x, [2, 2]) "avg_pool1d() argument 'kernel_size' should contain one int (got
   2)", a negative pad "pad must be non-negative, but got pad: -1".
7. An in-place view op on a view (`y[0].t_()`, transpose_, squeeze_, unsqueeze_,
   as_strided_) gives the view the op's node with an edge to the view's old grad_fn
   (TBackward1 -> SelectBackward0, as PyTorch's); gpujit regenerated it as
   AsStridedBackward0 (the version the op bumped made the view look stale).
8. More CompositeImplicitAutograd ops record their decomposition (gpujit: one node with
   edges straight to the inputs): l1_loss MeanBackward0 -> AbsBackward0 -> SubBackward0;
   kl_div SubBackward0 -> (XlogyBackward0, MulBackward0) / with log_target MulBackward0 ->
   (ExpBackward0, SubBackward0), batchmean DivBackward0 -> SumBackward0; cosine_similarity
   SumBackward1 -> MulBackward0 -> DivBackward0 -> (x, CloneBackward0 ->
   LinalgVectorNormBackward0), ExpandBackward0 for broadcast operands; diagflat
   DiagEmbedBackward0 -> ViewBackward0; take_along_dim GatherBackward0 -> ExpandBackward0
   (ViewBackward0 with no dim; a transposed input then fails in view, as torch);
   linalg.vecdot SumBackward1 -> MulBackward0, of two vectors VdotBackward0 (gpujit:
   LinalgVecdotBackward0). F.l1_loss / mse_loss / smooth_l1_loss / huber_loss broadcast
   their operands with broadcast_tensors first (an ExpandBackward0 edge for the one that
   grows), and broadcast_tensors' expanded outputs are ExpandBackward0 (gpujit:
   BroadcastTensorsBackward0).
9. diff records narrow - narrow (SubBackward0 -> SliceBackward0, SliceBackward0; n=0
   CopyBackwards; an empty dim hands back the input itself); nanmean nansum / count
   (DivBackward0 -> (NansumBackward0, None)); logdet where(sign == -1, nan, logabsdet)
   (WhereBackward0 -> (None, LinalgSlogdetBackward0)). nansum's backward multiplies by the
   not-NaN mask, as PyTorch's nansum_backward: nanmean of an all-NaN row gives NaN
   gradients there (gpujit: 0).
10. Random fills of integer tensors in PyTorch 2.13's CPU kernel words: normal_ / randn /
   normal '"normal_kernel_cpu" not implemented for 'Long'' (gpujit: "normal_kernel" /
   "normal"), uniform_ / rand '"check_uniform_bounds" not implemented for 'Long'' (gpujit:
   "uniform"); normal_ checks std >= 0 first. nn.init's zero-element warning points at the
   caller (stacklevel=2), so one warning per call site as torch's.
11. Small nodes and shapes: x.mT / x.mH / x.H / torch.adjoint(x) of a 0-dim x hand back x
   itself (gpujit: a new TransposeBackward0 view); chunk along a dim of size 0 is
   SplitWithSizesBackward0 (torch's split_with_sizes of zeros; gpujit SplitBackward0);
   adaptive_avg_pool2d checks only the spatial dims, so a batch of no channels pools to
   none (gpujit refused it: "Expected input to have non-zero size for non-batch
   dimensions"; adaptive_avg_pool1d's composite hit it); avg_pool1d's dim refusal is the
   2-D pool's, of the unsqueezed shape ("Expected 3D or 4D (batch mode) tensor ... but
   got:[2, 0, 1, 6]").
12. Matrix norms record PyTorch's linalg_matrix_norm composite: 'nuc' / +-2 are
   svdvals of the input permuted with the two dims last, reduced (SumBackward1 / Amax /
   Amin -> LinalgSvdBackward0 -> PermuteBackward0; keepdim: PermuteBackward0 ->
   UnsqueezeBackward0 -> ...), +-1 / +-inf amax / amin of a 1-norm (AmaxBackward0 ->
   LinalgVectorNormBackward0); linalg.norm of a matrix ord and nuclear_norm the same
   (gpujit: edges straight to the input). float16 'nuc' / +-2 is refused as torch's
   ("linalg.matrix_norm: Low precision dtypes not supported. Got Half", even with
   dtype=float64; gpujit computed it), after the at-least-2-dims check.
13. repeat_interleave records PyTorch's composites: an int count unsqueeze, expand,
   contiguous clone, flatten (ViewBackward0 -> CloneBackward0 -> ExpandBackward0 ->
   UnsqueezeBackward0; gpujit RepeatInterleaveBackward0), a tensor of counts index_select
   (IndexSelectBackward0). Words: a negative int count "Repeats must be non-negative", a
   2-D counts tensor "repeats must be 0-dim or 1-dim tensor" (gpujit: "repeats can not be
   negative" / "repeat_interleave only accept 1D vector as repeat", which torch says of
   counts tensors / of torch.repeat_interleave(counts)).
"""
import re

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


# ------------------------------------------------------------------ 4. conv / pool composites

def _tree(g, depth=0):
    if g is None:
        return None
    name = type(g).__name__
    if depth == 3 or name == "AccumulateGrad":
        return name
    return [name, [_tree(n, depth + 1) for n, _ in g.next_functions]]


_ACC = "AccumulateGrad"


def test_unbatched_and_same_padded_convolutions_record_torchs_composite():
    x3 = torch.randn(2, 3, 8, requires_grad=True)
    x2 = torch.randn(3, 8, requires_grad=True)
    w = torch.randn(4, 3, 3, requires_grad=True)
    w4 = torch.randn(4, 3, 4, requires_grad=True)
    b = torch.randn(4, requires_grad=True)
    assert _tree(F.conv1d(x2, w, b).grad_fn) == ["SqueezeBackward1", [[
        "ConvolutionBackward0", [["UnsqueezeBackward0", [_ACC]], _ACC, _ACC]]]]
    assert _tree(F.conv1d(x3, w, b).grad_fn) == ["ConvolutionBackward0", [_ACC, _ACC, _ACC]]
    assert _tree(F.conv1d(x3, w4, b, padding="same").grad_fn) == [
        "ConvolutionBackward0", [["ConstantPadNdBackward0", [_ACC]], _ACC, _ACC]]
    assert _tree(F.conv1d(x3, w, b, padding="same").grad_fn) == [
        "ConvolutionBackward0", [_ACC, _ACC, _ACC]]
    # (an even kernel with an even dilation pads symmetrically: no ConstantPadNd)
    assert _tree(F.conv1d(x3, w4, None, padding="same", dilation=2).grad_fn) == [
        "ConvolutionBackward0", [_ACC, _ACC, None]]
    assert _tree(F.conv1d(x2, w4, b, padding="same").grad_fn)[1][0][1][0] == [
        "ConstantPadNdBackward0", ["UnsqueezeBackward0"]]
    assert _tree(F.conv_transpose1d(x2, w.transpose(0, 1), None).grad_fn) == [
        "SqueezeBackward1", [["ConvolutionBackward0", [["UnsqueezeBackward0", [_ACC]],
                                                       ["TransposeBackward0", [_ACC]], None]]]]
    assert _tree(torch.nn.Conv2d(3, 2, 2)(torch.randn(3, 5, 5)).grad_fn)[1][0][0] == \
        "ConvolutionBackward0"


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_same_padding_values_and_gradients(nd):
    # the composite's values and gradients are the op's own (padded explicitly by hand)
    rng = np.random.default_rng(nd)
    x = torch.tensor(rng.standard_normal((2, 3) + (6,) * nd), requires_grad=True)
    w = torch.tensor(rng.standard_normal((4, 3) + (2,) * nd), requires_grad=True)
    conv = getattr(F, f"conv{nd}d")
    y = conv(x, w, padding="same")
    assert y.shape == x.shape[:1] + (4,) + x.shape[2:]
    y.sum().backward()
    gx, gw = x.grad.clone(), w.grad.clone()
    x.grad = w.grad = None
    ref = conv(F.pad(x, [0, 1] * nd), w)          # (total padding 1: all on the far side)
    np.testing.assert_allclose(y.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
    ref.sum().backward()
    np.testing.assert_allclose(gx.numpy(), x.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gw.numpy(), w.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call,node", [
    (lambda x: F.avg_pool1d(x, 2), "AvgPool2DBackward0"),
    (lambda x: F.avg_pool1d(x, 3, 2, 1, True, False), "AvgPool2DBackward0"),
    (lambda x: F.max_pool1d(x, 2), "MaxPool2DWithIndicesBackward0"),
    (lambda x: F.max_pool1d(x, 3, 2, 1, 2, True), "MaxPool2DWithIndicesBackward0"),
    (lambda x: F.max_pool1d(x, 2, return_indices=True)[0], "MaxPool2DWithIndicesBackward0"),
    (lambda x: F.adaptive_max_pool1d(x, 3), "AdaptiveMaxPool2DBackward0"),
    (lambda x: F.adaptive_avg_pool1d(x, 3), "AdaptiveAvgPool2DBackward0"),
    (lambda x: F.adaptive_avg_pool1d(x, 1), "MeanBackward1"),
])
@pytest.mark.parametrize("shape", [(2, 3, 8), (3, 8)])
def test_pool1d_records_the_2d_pool_of_an_unsqueezed_input(call, node, shape):
    x = torch.randn(*shape, requires_grad=True)
    assert _tree(call(x).grad_fn) == ["SqueezeBackward1", [[node, [["UnsqueezeBackward0",
                                                                     [_ACC]]]]]]


def test_pool1d_values_gradients_and_indices():
    x = torch.tensor([[[1.0, 5.0, 2.0, 4.0, 3.0, 0.0, 7.0]]], requires_grad=True)
    y, i = F.max_pool1d(x, 2, return_indices=True)
    assert y.tolist() == [[[5.0, 4.0, 3.0]]] and i.tolist() == [[[1, 3, 4]]]
    assert i.grad_fn is None and i.dtype == torch.int64
    y.sum().backward()
    assert x.grad.tolist() == [[[0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0]]]
    x.grad = None
    a = F.avg_pool1d(x, 3, 2, 1, False, False)
    np.testing.assert_allclose(a.detach().numpy(), [[[3.0, 11 / 3, 7 / 3, 3.5]]], rtol=1e-6)
    a.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[[0.5, 0.5 + 1 / 3, 1 / 3, 2 / 3, 1 / 3,
                                                   1 / 3 + 0.5, 0.5]]], rtol=1e-6)
    # (max_pool1d checks in max_pool1d_impl's words, max_pool1d_with_indices in ATen's
    # pooling words)
    with pytest.raises(RuntimeError, match=r"^max_pool1d\(\) padding should be at most half of "
                                           r"kernel size, but got padding=2 and kernel_size=2$"):
        F.max_pool1d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match=r"^pad should be at most half of effective kernel "
                                           r"size, but got pad=2, kernel_size=2 and "
                                           r"dilation=1$"):
        F.max_pool1d(x, 2, padding=2, return_indices=True)
    with pytest.raises(RuntimeError, match=r"^stride should not be zero$"):
        torch.max_pool1d_with_indices(x, 2, 0)
    with pytest.raises(RuntimeError, match=r"^max_pool1d\(\) stride must be greater than zero, "
                                           r"but got 0$"):
        F.max_pool1d(x, 2, 0)
    with pytest.raises(RuntimeError, match=r"^Given input size: \(1x1x7\). Calculated output "
                                           r"size: \(1x1x0\). Output size is too small$"):
        F.max_pool1d(x, 20, return_indices=True)
    with pytest.raises(RuntimeError, match=r"^max_pool1d\(\) Invalid computed output size: 0$"):
        F.max_pool1d(x, 20)
    with pytest.raises(RuntimeError, match=r"^adaptive_avg_pool2d: elements of output_size "
                                           r"must be greater than or equal to 0 but received "
                                           r"\{1, -1\}$"):
        F.adaptive_avg_pool1d(x, -1)


# ------------------------------------------------------------------ 5. conv dtype words

_D, _S, _H = torch.float64, torch.float32, torch.float16


@pytest.mark.parametrize("n,dx,dw,db,msg", [
    (2, _D, _S, _S, "Input type (double) and bias type (float) should be the same"),
    (2, _D, _D, _S, "Input type (double) and bias type (float) should be the same"),
    (2, _S, _S, _D, "Input type (float) and bias type (double) should be the same"),
    (2, _H, _H, _S, "Input type (c10::Half) and bias type (float) should be the same"),
    (2, _S, _H, _D, "Input type (float) and bias type (double) should be the same"),
    (2, _D, _S, None, "expected scalar type Double but found Float"),
    (2, _H, _D, None, "expected scalar type Half but found Double"),
    (1, _S, _D, None, "expected scalar type Float but found Double"),
    (2, _S, _D, None, "Input type (torch.FloatTensor) and weight type (torch.DoubleTensor) "
                      "should be the same or input should be a MKLDNN tensor and weight is a "
                      "dense tensor"),
    (2, _S, _H, _S, "Input type (torch.FloatTensor) and weight type (torch.HalfTensor) "
                    "should be the same or input should be a MKLDNN tensor and weight is a "
                    "dense tensor"),
])
@pytest.mark.parametrize("nd", [1, 2])
def test_conv_dtype_words(n, dx, dw, db, msg, nd):
    x = torch.ones(n, 3, *([5] * nd), dtype=dx)
    w = torch.ones(4, 3, *([3] * nd), dtype=dw)
    b = None if db is None else torch.ones(4, dtype=db)
    with pytest.raises(RuntimeError, match="^" + re.escape(msg) + "$"):
        getattr(F, f"conv{nd}d")(x, w, b)


def test_conv_backend_dtype_words_and_converted_bias():
    x, w = torch.ones(2, 3, 5), torch.ones(4, 3, 3)
    with pytest.raises(RuntimeError, match=re.escape(
            "Input type (torch.FloatTensor) and bias type (torch.DoubleTensor) should be the "
            "same or input should be a MKLDNN tensor and bias is a dense tensor")):
        F.conv1d(x, w, torch.ones(4, dtype=_D), padding="same")
    with pytest.raises(RuntimeError, match="^expected scalar type Double but found Float$"):
        F.conv_transpose1d(x.double(), w.transpose(0, 1))
    # the slow kernels of float64 take a float32 bias ('same' padding, transposed)
    y = F.conv1d(x.double(), w.double(), torch.full((4,), 0.5), padding="same")
    assert y.dtype == _D and y[0, 0].tolist() == [6.5, 9.5, 9.5, 9.5, 6.5]
    y = F.conv_transpose1d(x.double(), w.transpose(0, 1).double(), torch.full((4,), 0.5))
    assert y.dtype == _D and y[0, 0].tolist() == [3.5, 6.5, 9.5, 9.5, 9.5, 6.5, 3.5]
    with pytest.raises(RuntimeError, match="^expected scalar type Double but found Float$"):
        F.conv_transpose3d(torch.ones(1, 3, 2, 2, 2, dtype=_D),
                           torch.ones(3, 4, 1, 1, 1, dtype=_D), torch.ones(4))


# ------------------------------------------------------------------ 6. pooling words

_X3, _X4, _X5 = (2, 3, 9), (2, 3, 9, 9), (2, 3, 5, 5, 5)


@pytest.mark.parametrize("shape,call,msg", [
    (_X3, lambda x: F.avg_pool1d(x, 0), "stride should not be zero"),
    (_X3, lambda x: F.avg_pool1d(x, 0, 1),
     "kernel size should be greater than zero, but got kH: 1 kW: 0"),
    (_X3, lambda x: F.avg_pool1d(x, 2, 0), "stride should not be zero"),
    (_X3, lambda x: F.avg_pool1d(x, -1),
     "kernel size should be greater than zero, but got kH: 1 kW: -1"),
    (_X3, lambda x: F.avg_pool1d(x, 2, -1),
     "stride should be greater than zero, but got dH: 1 dW: -1"),
    (_X3, lambda x: F.avg_pool1d(x, [2, 2]),
     "avg_pool1d() argument 'kernel_size' should contain one int (got 2)"),
    (_X3, lambda x: F.avg_pool1d(x, []),
     "avg_pool1d() argument 'kernel_size' should contain one int (got 0)"),
    (_X3, lambda x: F.avg_pool1d(x, 2, [1, 1]),
     "avg_pool1d() argument 'stride' should contain one int (got 2)"),
    (_X3, lambda x: F.avg_pool1d(x, 2, 1, [1, 1]),
     "avg_pool1d() argument 'padding' should contain one int (got 2)"),
    (_X3, lambda x: F.avg_pool1d(x, 2, 1, -1), "pad must be non-negative, but got pad: -1"),
    (_X3, lambda x: F.lp_pool1d(x, 2, 0), "stride should not be zero"),
    (_X4, lambda x: F.avg_pool2d(x, 0), "stride should not be zero"),
    (_X4, lambda x: F.avg_pool2d(x, 2, 0), "stride should not be zero"),
    (_X4, lambda x: F.max_pool2d(x, 0), "stride should not be zero"),
    (_X4, lambda x: F.max_pool2d(x, 2, 0), "stride should not be zero"),
    (_X4, lambda x: F.avg_pool2d(x, (0, 2), (1, 0)), "stride should not be zero"),
    (_X5, lambda x: F.avg_pool3d(x, 0), "stride should not be zero"),
    (_X5, lambda x: F.avg_pool3d(x, 0, 1),
     "kernel size should be greater than zero, but got kT: 0 kH: 0 kW: 0"),
    (_X5, lambda x: F.avg_pool3d(x, (2, 0, 2), 1),
     "kernel size should be greater than zero, but got kT: 2 kH: 0 kW: 2"),
    (_X5, lambda x: F.avg_pool3d(x, 2, (1, -1, 1)),
     "stride should be greater than zero, but got dT: 1 dH: -1 dW: 1"),
    (_X5, lambda x: F.max_pool3d(x, 2, 0), "stride should not be zero"),
    (_X5, lambda x: F.max_pool3d(x, 2, padding=-1), "pad must be non-negative, but got pad: -1"),
    (_X5, lambda x: F.max_pool3d(x, 2, dilation=0),
     "dilation should be greater than zero, but got dilationT: 0 dilationH: 0 dilationW: 0"),
])
def test_pooling_argument_words(shape, call, msg):
    with pytest.raises(RuntimeError, match="^" + re.escape(msg) + "$"):
        call(torch.ones(*shape))


# ------------------------------------------------------------------ 7. in-place view ops on views

@pytest.mark.parametrize("call,name,edge", [
    (lambda y: y[0].t_(), "TBackward1", "SelectBackward0"),
    (lambda y: y[:, 0].transpose_(0, 1), "TransposeBackward1", "SelectBackward0"),
    (lambda y: y[0].unsqueeze_(0), "UnsqueezeBackward1", "SelectBackward0"),
    (lambda y: y[0:1].squeeze_(0), "SqueezeBackward4", "SliceBackward0"),
    (lambda y: y[0].as_strided_((2,), (1,)), "AsStridedBackward1", "SelectBackward0"),
])
def test_inplace_view_op_on_a_view_records_its_node(call, name, edge):
    x = torch.ones(2, 2, 3, requires_grad=True)
    r = call(x.clone())
    assert r.grad_fn.name() == name and _edges(r) == [edge]


def test_inplace_view_op_on_a_view_then_writes_keep_gradients():
    # torch 2.13: the same node names and x.grad
    x = torch.ones(2, 2, 3, requires_grad=True)
    w = torch.arange(12.0).reshape(2, 2, 3)
    y = x.clone()
    v = y[0]
    assert v.t_() is v and v.shape == (3, 2) and v.stride() == (1, 3) and v._base is y
    assert y._version == 1 and v._version == 1
    v.mul_(2)
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    assert v.grad_fn.name() == "AsStridedBackward0" and _edges(v) == ["CopySlices"]
    (y * w).sum().backward()
    assert x.grad.flatten().tolist() == [0, 2, 4, 6, 8, 10, 6, 7, 8, 9, 10, 11]
    x.grad = None
    y = x.clone()
    v = y[0]
    v.t_()
    u = v[1]
    assert u.grad_fn.name() == "SelectBackward0" and _edges(u) == ["TBackward1"]
    u.mul_(3)
    (y * w).sum().backward()
    assert x.grad.flatten().tolist() == [0, 3, 2, 3, 12, 5, 6, 7, 8, 9, 10, 11]
    y = x.clone()
    v = y[0]
    v.squeeze_()
    v.unsqueeze_(0)
    assert v.grad_fn.name() == "UnsqueezeBackward1" and _edges(v) == ["SqueezeBackward3"]


# ------------------------------------------------------------------ 8. more composites

def _lt():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, generator=g).requires_grad_()
    t = torch.randn(3, 4, generator=g).requires_grad_()
    t1 = torch.randn(4, generator=g).requires_grad_()
    return x, t, t1


_CLONE_NORM = "CloneBackward0"        # (the tree stops at depth 3)


@pytest.mark.parametrize("call,tree", [
    (lambda x, t, t1: F.l1_loss(x, t), ["MeanBackward0", [["AbsBackward0", [[
        "SubBackward0", [_ACC, _ACC]]]]]]),
    (lambda x, t, t1: F.l1_loss(x, t, reduction="sum"), ["SumBackward0", [["AbsBackward0", [[
        "SubBackward0", [_ACC, _ACC]]]]]]),
    (lambda x, t, t1: F.l1_loss(x, t.detach(), reduction="none"), ["AbsBackward0", [[
        "SubBackward0", [_ACC, None]]]]),
    (lambda x, t, t1: F.l1_loss(x, t1, reduction="none"), ["AbsBackward0", [[
        "SubBackward0", [_ACC, ["ExpandBackward0", [_ACC]]]]]]),
    (lambda x, t, t1: F.mse_loss(x, t1), ["MseLossBackward0", [_ACC, ["ExpandBackward0",
                                                                     [_ACC]]]]),
    (lambda x, t, t1: F.kl_div(x, t, reduction="none"), ["SubBackward0", [
        ["XlogyBackward0", [_ACC, _ACC]], ["MulBackward0", [_ACC, _ACC]]]]),
    (lambda x, t, t1: F.kl_div(x, t, reduction="sum", log_target=True), ["SumBackward0", [[
        "MulBackward0", [["ExpBackward0", [_ACC]], ["SubBackward0", [_ACC, _ACC]]]]]]),
    (lambda x, t, t1: F.kl_div(x, t.detach(), reduction="batchmean"), ["DivBackward0", [[
        "SumBackward0", [["SubBackward0", [None, "MulBackward0"]]]], None]]),
    (lambda x, t, t1: F.cosine_similarity(x, t), ["SumBackward1", [["MulBackward0", [
        ["DivBackward0", [_ACC, _CLONE_NORM]], ["DivBackward0", [_ACC, _CLONE_NORM]]]]]]),
    (lambda x, t, t1: F.cosine_similarity(x, t1, dim=-1)[1][0][1][0][1][0],
     None),
    (lambda x, t, t1: torch.diagflat(t1), ["DiagEmbedBackward0", [["ViewBackward0", [_ACC]]]]),
    (lambda x, t, t1: torch.diagflat(x, 1), ["DiagEmbedBackward0", [["ViewBackward0",
                                                                       [_ACC]]]]),
    (lambda x, t, t1: torch.take_along_dim(x, torch.tensor([[0], [1], [2]]), 1),
     ["GatherBackward0", [["ExpandBackward0", [_ACC]]]]),
    (lambda x, t, t1: torch.take_along_dim(x, torch.tensor([0, 5])),
     ["GatherBackward0", [["ViewBackward0", [_ACC]]]]),
    (lambda x, t, t1: torch.linalg.vecdot(x, t1), ["SumBackward1", [["MulBackward0",
                                                                      [_ACC, _ACC]]]]),
    (lambda x, t, t1: torch.linalg.vecdot(t1, t1), ["VdotBackward0", [_ACC, _ACC]]),
])
def test_composites_record_torchs_nodes(call, tree):
    if tree is None:        # (cosine_similarity of broadcast operands: both expanded)
        x, t, t1 = _lt()
        g = F.cosine_similarity(x, t1, dim=-1).grad_fn
        divs = [n for n, _ in g.next_functions[0][0].next_functions]
        assert [_tree(d.next_functions[0][0]) for d in divs] == [
            ["ExpandBackward0", [_ACC]], ["ExpandBackward0", [_ACC]]]
        return
    assert _tree(call(*_lt()).grad_fn) == tree


def test_broadcast_tensors_nodes():
    x, t, t1 = _lt()
    a, b = torch.broadcast_tensors(x, t1)
    assert a is x and b.grad_fn.name() == "ExpandBackward0" and _edges(b) == [_ACC]
    a, b = torch.broadcast_tensors(t1[:, None], t1)
    assert a.shape == b.shape == (4, 4)
    assert _tree(a.grad_fn) == ["ExpandBackward0", [["UnsqueezeBackward0", [_ACC]]]]
    (a * 2 + b).sum().backward()
    assert t1.grad.tolist() == [12.0] * 4


def test_composite_values_and_gradients():
    x, t, t1 = _lt()
    xn, tn, t1n = (v.detach().numpy().astype(np.float64) for v in (x, t, t1))
    y = F.cosine_similarity(x, t)
    ref = (xn * tn).sum(1) / np.linalg.norm(xn, axis=1) / np.linalg.norm(tn, axis=1)
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-5)
    y.sum().backward()
    nx, nt = np.linalg.norm(xn, axis=1, keepdims=True), np.linalg.norm(tn, axis=1,
                                                                      keepdims=True)
    gx = tn / (nx * nt) - (xn * tn).sum(1, keepdims=True) * xn / (nx ** 3 * nt)
    np.testing.assert_allclose(x.grad.numpy(), gx, rtol=1e-4, atol=1e-6)
    # the eps clamp has no gradient: a zero row gives 0, not nan
    z = torch.zeros(2, 3, requires_grad=True)
    F.cosine_similarity(z, torch.ones(2, 3)).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), np.full((2, 3), 1 / 3 ** 0.5 / 1e-8), rtol=1e-6)
    x.grad = None
    F.l1_loss(x, t1).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.sign(xn - t1n) / 12)
    np.testing.assert_allclose(t1.grad.numpy(), -np.sign(xn - t1n).sum(0) / 12)
    p = t.detach().abs().requires_grad_()
    x.grad = None
    loss = F.kl_div(x, p, reduction="batchmean")
    pn = p.detach().numpy().astype(np.float64)
    np.testing.assert_allclose(loss.item(), (pn * (np.log(pn) - xn)).sum() / 3, rtol=1e-5)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), -pn / 3, rtol=1e-6)
    np.testing.assert_allclose(p.grad.numpy(), (np.log(pn) + 1 - xn) / 3, rtol=1e-5)
    v = torch.linalg.vecdot(t1, t1 * 2)
    np.testing.assert_allclose(v.item(), 2 * (t1n ** 2).sum(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        torch.take_along_dim(x.t(), torch.tensor([0, 5]))


# ------------------------------------------------------------------ 9. diff, nanmean, logdet

def test_diff_nanmean_logdet_nodes():
    x = torch.arange(15.0).reshape(3, 5).requires_grad_()
    assert _tree(torch.diff(x).grad_fn) == ["SubBackward0", [["SliceBackward0", [_ACC]],
                                                            ["SliceBackward0", [_ACC]]]]
    assert _tree(torch.diff(x, 2, 0).grad_fn)[0] == "SubBackward0"
    assert torch.diff(x, 0).grad_fn.name() == "torch::autograd::CopyBackwards"
    e = x[:, :0]
    assert torch.diff(e) is e
    p = torch.diff(x, 1, 1, x[:, :2], x[:, :1])
    assert p.shape == (3, 7) and _tree(p.grad_fn)[1][0][1][0][0] == "CatBackward0"
    assert torch.diff(x, 9).shape == (3, 0)
    n = torch.tensor([[1.0, float("nan"), 3.0], [float("nan")] * 3], requires_grad=True)
    y = n.nanmean(1, True)
    assert _tree(y.grad_fn) == ["DivBackward0", [["NansumBackward0", [_ACC]], None]]
    y.sum().backward()
    g = n.grad.numpy()
    assert g[0].tolist() == [0.5, 0.0, 0.5] and np.isnan(g[1]).all()
    n.grad = None
    torch.nansum(n).backward()
    assert n.grad.tolist() == [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    a = torch.tensor([[2.0, 0.5], [0.5, -1.0]], dtype=torch.float64, requires_grad=True)
    d = torch.logdet(a)
    assert _tree(d.grad_fn) == ["WhereBackward0", [None, ["LinalgSlogdetBackward0", [_ACC]]]]
    assert np.isnan(d.item())
    b = torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=torch.float64, requires_grad=True)
    torch.logdet(b).backward()
    np.testing.assert_allclose(b.grad.numpy(), np.linalg.inv(b.detach().numpy()).T)


# ------------------------------------------------------------------ 10. random fills' words

@pytest.mark.parametrize("call,msg", [
    (lambda: torch.empty(3, dtype=torch.long).normal_(), "normal_kernel_cpu"),
    (lambda: torch.empty(3, dtype=torch.bool).normal_(), "normal_kernel_cpu"),
    (lambda: torch.randn(3, dtype=torch.long), "normal_kernel_cpu"),
    (lambda: torch.randn_like(torch.zeros(3, dtype=torch.long)), "normal_kernel_cpu"),
    (lambda: torch.normal(0.0, 1.0, (3,), dtype=torch.long), "normal_kernel_cpu"),
    (lambda: torch.normal(torch.zeros(3, dtype=torch.long), 1.0), "normal_kernel_cpu"),
    (lambda: torch.normal(0.0, torch.ones(3, dtype=torch.long)), "normal_kernel_cpu"),
    (lambda: torch.empty(3, dtype=torch.long).uniform_(2, 1), "check_uniform_bounds"),
    (lambda: torch.rand(3, dtype=torch.int32), "check_uniform_bounds"),
    (lambda: torch.rand_like(torch.zeros(3, dtype=torch.long)), "check_uniform_bounds"),
    (lambda: torch.nn.init.xavier_uniform_(torch.empty(3, 3, dtype=torch.long)),
     "check_uniform_bounds"),
    (lambda: torch.nn.init.kaiming_normal_(torch.empty(3, 3, dtype=torch.long)),
     "normal_kernel_cpu"),
])
def test_random_fill_kernel_words(call, msg):
    with pytest.raises(NotImplementedError, match=f'^"{msg}" not implemented for '):
        call()


def test_normal_checks_std_first_and_init_warns_at_the_caller():
    with pytest.raises(RuntimeError, match=r"^normal expects std >= 0.0, but found std -1"):
        torch.empty(3, dtype=torch.long).normal_(0, -1)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op") as w:
        torch.nn.init.kaiming_uniform_(torch.empty(0, 3))
    assert w[0].filename == __file__


# ------------------------------------------------------------------ 11. small nodes and shapes

@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("call", [lambda x: x.mT, lambda x: x.mH, lambda x: x.H,
                                  lambda x: torch.adjoint(x), lambda x: x.adjoint()])
def test_matrix_transposes_of_a_scalar_are_itself(call):
    x = torch.tensor(2.0, requires_grad=True)
    assert call(x) is x
    m = torch.ones(2, 3, requires_grad=True)
    assert call(m).shape == (3, 2) and call(m).grad_fn.name() == "TransposeBackward0"


def test_chunk_of_an_empty_dim_and_empty_channel_pools():
    z = torch.zeros(0, 2, requires_grad=True)
    assert [c.grad_fn.name() for c in z.chunk(3)] == ["SplitWithSizesBackward0"] * 3
    assert [c.grad_fn.name() for c in z.chunk(3, 1)] == ["SplitBackward0"] * 2
    assert [c.grad_fn.name() for c in torch.zeros(2, 0, requires_grad=True).chunk(
        2, -1)] == ["SplitWithSizesBackward0"] * 2
    assert F.adaptive_avg_pool2d(torch.zeros(2, 0, 3, 3), 2).shape == (2, 0, 2, 2)
    assert F.adaptive_avg_pool2d(torch.zeros(2, 0, 3, 3), 1).shape == (2, 0, 1, 1)
    x = torch.zeros(2, 0, 6, requires_grad=True)
    y = F.adaptive_avg_pool1d(x, 2)
    assert y.shape == (2, 0, 2) and y.grad_fn.name() == "SqueezeBackward1"
    with pytest.raises(RuntimeError, match=r"^adaptive_avg_pool2d\(\): Expected input to have "
                                           r"non-zero size for non-batch dimensions, but input "
                                           r"has sizes \[2, 3, 0, 3\] with dimension 2 being "
                                           r"empty$"):
        F.adaptive_avg_pool2d(torch.zeros(2, 3, 0, 3), 2)
    with pytest.raises(RuntimeError, match=r"adaptive_avg_pool3d\(\): .* dimension 1 being"):
        F.adaptive_avg_pool3d(torch.zeros(2, 0, 3, 3, 3), 2)
    for t in (x, x.detach()):
        with pytest.raises(RuntimeError, match=r"^Expected 3D or 4D \(batch mode\) tensor with "
                                               r"optional 0 dim batch size for input, but "
                                               r"got:\[2, 0, 1, 6\]$"):
            F.avg_pool1d(t, 2)
    with pytest.raises(RuntimeError, match=r"^max_pool1d: Expected 2D or 3D \(batch mode\) "):
        F.max_pool1d(x, 2)


# ------------------------------------------------------------------ 12. matrix norms

_NORM_A = np.array([[1.0, -2.0, 0.5, 3.0], [0.0, 1.5, -1.0, 2.0], [2.5, 0.0, 1.0, -0.5]])


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("call,tree", [
    (lambda a: torch.linalg.matrix_norm(a, "nuc"), ["SumBackward1", [["LinalgSvdBackward0", [[
        "PermuteBackward0", [_ACC]]]]]]),
    (lambda a: torch.linalg.matrix_norm(a, 2), ["AmaxBackward0", [["LinalgSvdBackward0", [[
        "PermuteBackward0", [_ACC]]]]]]),
    (lambda a: torch.linalg.matrix_norm(a, -2), ["AminBackward0", [["LinalgSvdBackward0", [[
        "PermuteBackward0", [_ACC]]]]]]),
    (lambda a: torch.linalg.matrix_norm(a, 1), ["AmaxBackward0", [[
        "LinalgVectorNormBackward0", [_ACC]]]]),
    (lambda a: torch.linalg.matrix_norm(a, -float("inf")), ["AminBackward0", [[
        "LinalgVectorNormBackward0", [_ACC]]]]),
    (lambda a: torch.linalg.matrix_norm(a, "fro"), ["LinalgVectorNormBackward0", [_ACC]]),
    (lambda a: torch.linalg.norm(a, "nuc"), ["SumBackward1", [["LinalgSvdBackward0", [[
        "PermuteBackward0", [_ACC]]]]]]),
    (lambda a: torch.linalg.norm(a, 2), ["AmaxBackward0", [["LinalgSvdBackward0", [[
        "PermuteBackward0", [_ACC]]]]]]),
    (lambda a: torch.nuclear_norm(a), ["SumBackward1", [["LinalgSvdBackward0", [[
        "PermuteBackward0", [_ACC]]]]]]),
    (lambda a: torch.linalg.matrix_norm(a[None], "nuc", keepdim=True), [
        "PermuteBackward0", [["UnsqueezeBackward0", [["SumBackward1", [
            "LinalgSvdBackward0"]]]]]]),
])
def test_matrix_norms_record_torchs_composite(call, tree):
    a = torch.tensor(_NORM_A, requires_grad=True)
    assert _tree(call(a).grad_fn) == tree


@pytest.mark.filterwarnings("ignore")
def test_matrix_norm_values_gradients_and_words():
    a = torch.tensor(_NORM_A, requires_grad=True)
    u, sv, vt = np.linalg.svd(_NORM_A, full_matrices=False)
    n = torch.linalg.matrix_norm(a, "nuc")
    np.testing.assert_allclose(n.item(), sv.sum(), rtol=1e-12)
    n.backward()
    np.testing.assert_allclose(a.grad.numpy(), u @ vt, rtol=1e-10, atol=1e-12)
    b = torch.tensor(np.stack([_NORM_A, -2 * _NORM_A]), requires_grad=True)
    k = torch.linalg.matrix_norm(b, 2, dim=(2, 0), keepdim=True)
    assert k.shape == (1, 3, 1)
    ref = [np.linalg.norm(b.detach().numpy()[:, j, :].T, 2) for j in range(3)]
    np.testing.assert_allclose(k.flatten().detach().numpy(), ref, rtol=1e-12)
    m = torch.linalg.matrix_norm(b, -1, dim=(2, 0))
    np.testing.assert_allclose(m.detach().numpy(), np.abs(b.detach().numpy()).sum(2).min(0),
                               rtol=1e-12)
    h = torch.tensor(_NORM_A, dtype=torch.float16)
    for call in (lambda: torch.linalg.matrix_norm(h, "nuc"),
                 lambda: torch.linalg.matrix_norm(h, 2, dtype=torch.float64),
                 lambda: torch.linalg.norm(h, -2), lambda: torch.nuclear_norm(h)):
        with pytest.raises(RuntimeError, match=r"^linalg.matrix_norm: Low precision dtypes not "
                                               r"supported. Got Half$"):
            call()
    assert torch.linalg.matrix_norm(h, 1).dtype == torch.float16
    with pytest.raises(RuntimeError, match="must have at least 2 dimensions"):
        torch.linalg.matrix_norm(h[0], "nuc")


# ------------------------------------------------------------------ 13. repeat_interleave

def test_repeat_interleave_composites_and_words():
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    y = x.repeat_interleave(2)
    assert _tree(y.grad_fn) == ["ViewBackward0", [["CloneBackward0", [["ExpandBackward0", [
        "UnsqueezeBackward0"]]]]]]
    assert y.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    z = x.t().repeat_interleave(2, 1)
    assert z.grad_fn.name() == "ViewBackward0" and z.is_contiguous()
    assert z.tolist() == [[1, 1, 4, 4], [2, 2, 5, 5], [3, 3, 6, 6]]
    w = x.repeat_interleave(torch.tensor([1, 0, 2]), 1)
    assert _tree(w.grad_fn) == ["IndexSelectBackward0", [_ACC]]
    assert w.tolist() == [[1, 3, 3], [4, 6, 6]]
    (w.sum() + y.sum()).backward()
    assert x.grad.tolist() == [[3, 2, 4], [3, 2, 4]]
    assert x.repeat_interleave(torch.tensor(2), 0).grad_fn.name() == "IndexSelectBackward0"
    with pytest.raises(RuntimeError, match="^Repeats must be non-negative$"):
        x.repeat_interleave(-1)
    with pytest.raises(RuntimeError, match="^repeats can not be negative$"):
        x.repeat_interleave(torch.tensor([1, -2]), 0)
    with pytest.raises(RuntimeError, match="^repeats must be 0-dim or 1-dim tensor$"):
        x.repeat_interleave(torch.tensor([[1, 2]]), 0)
    with pytest.raises(RuntimeError, match="^repeat_interleave only accept 1D vector as "
                                           "repeat$"):
        torch.repeat_interleave(torch.tensor([[1, 2]]))
