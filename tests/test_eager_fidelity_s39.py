"""Session 39 (c39): eager tensor and autograd fidelity against PyTorch 2.13 (torch's answers
written out; no torch import).

1. torch.linalg's failures: PyTorch's class is torch._C._LinAlgError (type name
   '_LinAlgError', module torch._C; torch.linalg.LinAlgError is that class; gpujit's was
   named LinAlgError in gpujit.linalg). A NaN in an SVD's input (linalg.svd / svdvals /
   torch.svd / pinv / matrix_rank / matrix norms 'nuc' and 2 / cond / lstsq) raises
   _LinAlgError "linalg.svd: [(Batch element i): ]The algorithm failed to converge because
   the input matrix contained non-finite values.", in eigh's (eigh / eigvalsh / hermitian
   pinv and matrix_rank) "linalg.eigh: [(Batch element i): ]The algorithm failed to converge
   because the input matrix is ill-conditioned or has too many repeated eigenvalues (error
   code: k)." (gpujit leaked NumPy's LinAlgError, a ValueError: "SVD did not converge");
   an inf gives NaNs, no error, in both. linalg.cholesky of a matrix whose pivot meets a NaN
   is not positive-definite at that order (LAPACK potrf's isnan check; gpujit returned the
   NaNs; cholesky_ex's info says the same). torch.cholesky's error names "cholesky:" (gpujit
   "linalg.cholesky:"). cholesky_inverse of a factor with a zero on its diagonal raises
   "cholesky_inverse: [(Batch element i): ]The diagonal element k is zero, the inversion
   could not be completed because the input matrix is singular." (gpujit returned NaNs).
2. torch.unsafe_split / unsafe_split_with_sizes / unsafe_chunk return tensors sharing the
   input's memory (a write to one shows in the input; views' strides and storage offsets)
   that autograd does not track as views: each has its own version counter, _base None,
   _is_view() False, and an in-place op with gradients on one is a plain in-place op
   (MulBackward0 -> UnsafeSplitBackward0; the input's own grad_fn unchanged). gpujit
   copied them (a write never reached the input).
3. einsum's result strides are PyTorch's (Linear.cpp): operands permuted to the canonical
   dim order (output labels, then summed ones), contracted pairwise left to right, the last
   step's layout kept: a contracting step is bmm's (batch, left-only, right-only) product
   viewed and permuted back ('ij,jk,kl->il' of 3x4, 4x5, 5x2: (2, 1); 'ij,jk->ki': (2, 1);
   'bn,anm,bm->ba': (4, 1)), a step summing nothing a broadcast mul ('ij,kl->klij': (30, 6,
   3, 1); 'i,jk->kji': (2, 8, 1)), one operand summed C order ('ijk->kj': (3, 1)) or, with
   nothing summed, its permuted view ('ij->ji': (1, 3)). gpujit kept NumPy's einsum layout
   ('ij,jk,kl->il': (1, 3); 'ijk->kj': (1, 4)).
4. reshape / reshape_as / flatten record PyTorch's reshape: a contiguous self views
   (ViewBackward0), another whose strides allow a view is _reshape_alias
   (ReshapeAliasBackward0: x[:, :2].reshape(2, 2, 2), x.t().reshape(6, 2, 2)), else
   clone(contiguous_format) then _unsafe_view (UnsafeViewBackward0 -> CloneBackward0:
   x.t().reshape(24), x.t().flatten(), an expanded x reshaped); gpujit named every view
   ViewBackward0 and the copy one UnsafeViewBackward0 straight to the input.
5. More composites recorded as PyTorch records them (gpujit: one node, edges straight to the
   inputs): matmul of a vector and a matrix unsqueeze(0).mm().squeeze_(0) (SqueezeBackward4
   -> MmBackward0 -> UnsqueezeBackward0); linalg.matrix_power / matrix_power n=0 a
   contiguous clone overwritten (CopyBackwards -> (CloneBackward0, None)), 1 CloneBackward0,
   -1 LinalgInvExBackward0, else mm's of the binary decomposition (3: (a @ a) @ a, 5:
   a @ ((a @ a) @ (a @ a))); trapezoid / trapz with dx (MulBackward1 -> SubBackward0 ->
   (SumBackward1, MulBackward1 -> AddBackward0 -> SelectBackward0s)) or x (DivBackward1 ->
   SumBackward1 -> MulBackward0 -> (AddBackward0 -> SliceBackward0s, SubBackward0 ->
   SliceBackward0s)), cumulative_trapezoid (CumsumBackward0 -> MulBackward1 -> AddBackward0;
   DivBackward1 -> CumsumBackward0 -> MulBackward0). torch.trapz's x-count error says
   "trapezoid:" (gpujit "trapz:").
6. tensordot records its mm (ViewBackward0 -> MmBackward0 -> ViewBackward0 /
   ReshapeAliasBackward0 -> PermuteBackward0), or a dot when neither side keeps more than
   one element; inner is tensordot(.., [-1], [-1]) (a 0-dim side: MulBackward0); kron
   _unsafe_view(mul(_unsafe_view(a), _unsafe_view(b))) (and, as PyTorch's, refuses a
   transposed operand: "view size is not compatible"); linalg.cond +-2 / 'nuc' from
   svdvals, else matrix_norm(A) * matrix_norm(inverse masked_fill_'ed) nan_to_num_'ed (whose
   backward PyTorch 2.13 refuses: the inverse linalg.inv_ex saved was modified in place;
   gpujit computed a gradient); cond of no elements fresh zeros (no grad_fn); tensorinv
   ReshapeAliasBackward0 -> LinalgInvExBackward0 -> ViewBackward0; tensorsolve
   ViewBackward0 -> LinalgSolveExBackward0; linalg.vander CatBackward0 -> (None,
   CumprodBackward0); torch.vander FlipBackward0 -> CopySlices (its backward refused by
   PyTorch too: cumprod's saved slice overwritten); cov SqueezeBackward0 -> DivBackward0
   -> (MmBackward0, None); corrcoef ClampBackward1 -> DivBackward0s; combinations
   StackBackward0 -> MaskedSelectBackward0 -> ExpandBackward0 -> ViewBackward0 (r=0: no
   grad_fn); meshgrid ExpandBackward0 -> ViewBackward0 (gpujit MeshgridBackward0);
   cartesian_prod of one tensor is that tensor. cov with weights summing to zero raises
   "cov(): weights sum to zero, can't be normalized" (gpujit: NaNs).
7. torch.fft's complex-to-real transforms (irfft*, hfft*) lay their result out as
   PyTorch's c2r: the untransformed dims outermost, then the other transformed dims in dim
   order, the last transformed dim innermost (irfft(x, dim=0) of a 3x4x5 x: shape (4, 4,
   5), strides (1, 20, 4); irfftn dim=(2, 0, 1): (30, 1, 6)); gpujit's were C-contiguous.
8. torch.distributions: what a distribution does not implement (cdf / icdf / entropy /
   mean / variance / log_prob / rsample / expand / support / enumerate_support, and
   Constraint.check) raises a bare NotImplementedError, as torch's Distribution (only
   `mode` names the class); gpujit's said "Bernoulli.cdf" and the like.
9. batch_norm's node has edges for input, weight and bias only (NativeBatchNormBackward0
   -> (x, None, None) with no affine; gpujit had five, the running statistics' too), and
   running statistics that require grad are refused as PyTorch's check_no_requires_grad
   ("The function 'native_batch_norm' is not differentiable with respect to argument
   'running_mean'. This input cannot have requires_grad True."; gpujit differentiated
   them in evaluation); instance_norm records PyTorch's composite, batch_norm of the input
   viewed (1, N*C, ...) with repeated weight / bias (ViewBackward0 ->
   NativeBatchNormBackward0 -> (ViewBackward0, RepeatBackward0, RepeatBackward0)).
   tensordot contracting everything of non-contiguous sides is mul + sum (ViewBackward0
   -> SumBackward0 -> MulBackward0 -> SqueezeBackward0s), not a dot of copies, so writing
   an operand afterwards is PyTorch's "modified by an inplace operation" at backward.
10. hstack / vstack / dstack / column_stack record atleast_Nd (or column_stack's reshape)
   then cat: vstack of vectors CatBackward0 -> UnsqueezeBackward0s, dstack of vectors
   -> UnsqueezeBackward0 -> UnsqueezeBackward0, column_stack of vectors -> ViewBackward0s
   (gpujit: CatBackward0 straight to the inputs).
11. quantile / nanquantile record PyTorch's quantile_compute (sort of the flattened input
   or of the dim moved last, view, gather below / above, lerp_, then squeeze_ or the q dim
   moved first: SqueezeBackward4 -> TransposeBackward1 -> UnsqueezeBackward1 ->
   LerpBackward1 -> (GatherBackward0 -> ViewBackward0 -> SortBackward0, ..., None);
   gpujit QuantileBackward0), and a tensor q's result is laid out as PyTorch's, the q dim
   moved first from last (quantile(3x4, 3 q's, dim=0): strides (1, 3); gpujit C order).
12. F.pad(mode='circular') records PyTorch's _pad_circular: the cropped input copied into
   a new tensor, then its slices copied to the margins (CopySlices -> (CopySlices ->
   (None, SliceBackward0), SliceBackward0 -> CopySlices); gpujit CopySlices straight to
   the input).
13. torch.gradient records PyTorch's gradient_helper(_float) formulas: cat of the edge
   differences and the halved central ones (CatBackward0 -> (DivBackward1 -> SubBackward0
   -> SliceBackward0s, DivBackward1 -> DivBackward1 -> SubBackward0, ...); with coordinate
   tensors DivBackward0 / AddBackward0 parts; gpujit GradientBackward0).
14. F.linear with a 1-D input or weight records PyTorch's linear: matmul(input, weight.t())
   (MvBackward0 -> (x, TBackward0); DotBackward0; SqueezeBackward4 -> MmBackward0 ...)
   then add_(bias), a 2-D input with a bias addmm(bias, input, weight.t()) (a 1-D weight:
   "mat2 must be a matrix, got 1-D tensor"), a contiguous 1-D input with a 1-D bias the
   flattened addmm viewed back (ViewBackward0 -> AddmmBackward0); gpujit's one node had
   an edge for the absent bias and none through TBackward0.
15. Inference tensors (made in inference_mode) used outside it: PyTorch's inference
   tensors carry no autograd key, so an op whose tensor operands are all inference tensors
   runs unrecorded even when one requires grad (an inference Parameter p: p * p, p.sin(),
   p.sum(), p ** 2, cat([p, p]) have no grad_fn and require no grad; gpujit recorded them
   and raised "Inference tensors cannot be saved for backward"), a Python number for a
   Tensor argument is a wrapped normal tensor (p * 2, p + 1, 1 - p record), and clone /
   a copying .to() are empty_like().copy_() (CopyBackwards; gpujit CloneBackward0 /
   ToCopyBackward0).
16. prelu records PyTorch's: the weight reshaped along dim 1 to the input's rank, then the
   new registry op aten::_prelu_kernel (PreluKernelBackward0 -> (x, ViewBackward0); gpujit:
   both edges straight to the leaves).
"""
import re
import warnings

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


# ------------------------------------------------------------------ 1. linalg failures

_NAN = np.full((3, 3), np.nan)
_SVD = ("linalg.svd: {}The algorithm failed to converge because the input matrix contained "
        "non-finite values.")
_EIGH = ("linalg.eigh: {}The algorithm failed to converge because the input matrix is "
         "ill-conditioned or has too many repeated eigenvalues")


def test_linalg_error_class_is_torchs():
    E = torch.linalg.LinAlgError
    assert E is torch._C._LinAlgError
    assert (E.__name__, E.__module__) == ("_LinAlgError", "gpujit._C")
    assert issubclass(E, RuntimeError) and not issubclass(E, ValueError)


@pytest.mark.parametrize("f", [
    lambda a: torch.linalg.svd(a), lambda a: torch.linalg.svdvals(a), lambda a: torch.svd(a),
    lambda a: torch.linalg.pinv(a), lambda a: torch.linalg.matrix_rank(a),
    lambda a: torch.linalg.matrix_norm(a, "nuc"), lambda a: torch.linalg.matrix_norm(a, 2),
    lambda a: torch.linalg.cond(a), lambda a: torch.linalg.lstsq(a, torch.ones(3, 1, dtype=a.dtype))])
def test_svd_of_nan_raises_linalg_error(f):
    with pytest.raises(torch.linalg.LinAlgError, match=re.escape(_SVD.format(""))):
        f(torch.tensor(_NAN))


@pytest.mark.parametrize("f", [
    lambda a: torch.linalg.eigh(a), lambda a: torch.linalg.eigvalsh(a),
    lambda a: torch.linalg.pinv(a, hermitian=True),
    lambda a: torch.linalg.matrix_rank(a, hermitian=True)])
def test_eigh_of_nan_raises_linalg_error(f):
    with pytest.raises(torch.linalg.LinAlgError, match=re.escape(_EIGH.format(""))):
        f(torch.tensor(_NAN))


def test_nonconvergence_names_the_batch_element():
    b = torch.tensor(np.stack([np.eye(3), _NAN]))
    with pytest.raises(RuntimeError, match=re.escape(_SVD.format("(Batch element 1): "))):
        torch.linalg.svd(b)
    with pytest.raises(RuntimeError, match=re.escape(_EIGH.format("(Batch element 1): "))):
        torch.linalg.eigh(b)


def test_svd_of_inf_is_nan_not_an_error():
    a = np.eye(3)
    a[1, 1] = np.inf
    assert torch.isnan(torch.linalg.svdvals(torch.tensor(a))).all()


def test_cholesky_nan_pivot_is_not_positive_definite():
    words = ("linalg.cholesky: The factorization could not be completed because the input is "
             "not positive-definite (the leading minor of order {} is not positive-definite).")
    for a, k in (([[1.0, 0.0], [0.0, np.nan]], 2), ([[1.0, np.nan], [np.nan, 1.0]], 2),
                 (_NAN, 1)):
        with pytest.raises(torch.linalg.LinAlgError, match=re.escape(words.format(k))):
            torch.linalg.cholesky(torch.tensor(a))
    L, info = torch.linalg.cholesky_ex(torch.tensor([[1.0, 0.0], [0.0, np.nan]]))
    assert info.item() == 2 and L[0, 0].item() == 1.0


def test_legacy_cholesky_error_names_cholesky():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(torch.linalg.LinAlgError,
                           match=r"^cholesky: The factorization could not be completed .* "
                                 r"minor of order 2 is not positive-definite\)\.$"):
            torch.cholesky(torch.tensor([[1.0, 2.0], [2.0, 1.0]]))


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_inverse_of_zero_diagonal(upper):
    words = ("cholesky_inverse: {}The diagonal element {} is zero, the inversion could not be "
             "completed because the input matrix is singular.")
    for a, pre, k in ((np.diag([1.0, 0.0, 1.0]), "", 2), (np.diag([1.0, 1.0, 0.0]), "", 3),
                      (np.array([[1.0, 0.0], [5.0, 0.0]]), "", 2),
                      (np.stack([np.eye(2), np.diag([0.0, 1.0])]), "(Batch element 1): ", 1)):
        with pytest.raises(torch.linalg.LinAlgError, match=re.escape(words.format(pre, k))):
            torch.cholesky_inverse(torch.tensor(a), upper=upper)
    # a NaN on the diagonal is no zero: NaNs, as PyTorch's
    r = torch.cholesky_inverse(torch.tensor(np.diag([1.0, np.nan, 1.0])), upper=upper)
    assert torch.isnan(r[1, 1]).item()


# ------------------------------------------------------------------ 2. unsafe_split


@pytest.mark.parametrize("split", [
    lambda z: torch.unsafe_split(z, 2), lambda z: z.unsafe_chunk(3),
    lambda z: torch.unsafe_split_with_sizes(z, [2, 4])])
def test_unsafe_split_shares_memory_untracked(split):
    z = torch.arange(6.0)
    ps = split(z)
    assert not ps[0]._is_view() and ps[0]._base is None
    assert ps[1].storage_offset() == 2 and ps[1].stride() == (1,)
    ps[1].add_(1)
    assert z.tolist()[2] == 3.0 and z._version == 0 and ps[1]._version == 1
    assert ps[0]._version == 0


def test_unsafe_split_inplace_with_gradients():
    x = torch.arange(6.0).requires_grad_()
    y = x * 1
    ps = torch.unsafe_split(y, 2)
    assert type(ps[0].grad_fn).__name__ == "UnsafeSplitBackward0"
    ps[0].mul_(2)
    assert _chain(ps[0]) == ["MulBackward0", "UnsafeSplitBackward0", "MulBackward0"]
    assert y.tolist() == [0.0, 2.0, 2.0, 3.0, 4.0, 5.0]
    assert type(y.grad_fn).__name__ == "MulBackward0" and y._version == 0
    ps[0].sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 0.0, 0.0, 0.0, 0.0]


def test_unsafe_split_keeps_the_views_layout():
    w = torch.arange(12.0).reshape(3, 4)
    ps = torch.unsafe_split(w, 2, 1)
    assert ps[1].stride() == (4, 1) and ps[1].storage_offset() == 2
    assert not ps[1].is_contiguous()


# ------------------------------------------------------------------ 3. einsum strides

@pytest.mark.parametrize("eq, shapes, strides", [
    ('ij,jk,kl->il', [(3, 4), (4, 5), (5, 2)], (2, 1)),
    ('ij,jk->ki', [(2, 3), (3, 4)], (2, 1)),
    ('ijk,ikl,ilm->ijm', [(2, 3, 4), (2, 4, 5), (2, 5, 3)], (9, 3, 1)),
    ('abc,cd,de->abe', [(2, 3, 4), (4, 5), (5, 6)], (18, 6, 1)),
    ('bn,anm,bm->ba', [(2, 3), (4, 3, 5), (2, 5)], (4, 1)),
    ('ij,kl->klij', [(2, 3), (4, 5)], (30, 6, 3, 1)),
    ('i,jk->kji', [(2,), (3, 4)], (2, 8, 1)),
    ('ijk->kj', [(2, 3, 4)], (3, 1)),
    ('ij->ji', [(2, 3)], (1, 3)),
    ('iij->ji', [(3, 3, 2)], (1, 8)),
    ('ij,jk,kl,lm->mi', [(2, 3), (3, 4), (4, 5), (5, 2)], (1, 2)),
    ('bhqd,bhkd->bhqk', [(2, 3, 4, 5), (2, 3, 6, 5)], (72, 24, 6, 1))])
def test_einsum_strides(eq, shapes, strides):
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal(s) for s in shapes]
    y = torch.einsum(eq, *[torch.tensor(a) for a in arrs])
    assert y.stride() == strides
    np.testing.assert_allclose(y.numpy(), np.einsum(eq, *arrs), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ 4. reshape


def _x46():
    return torch.randn(4, 6, requires_grad=True)


@pytest.mark.parametrize("f, node, edge", [
    (lambda x: x.reshape(24), "ViewBackward0", "AccumulateGrad"),
    (lambda x: x[:2].reshape(12), "ViewBackward0", "SliceBackward0"),
    (lambda x: x[:, :2].reshape(2, 2, 2), "ReshapeAliasBackward0", "SliceBackward0"),
    (lambda x: x[:, :2].reshape(8), "UnsafeViewBackward0", "CloneBackward0"),
    (lambda x: x.t().reshape(6, 2, 2), "ReshapeAliasBackward0", "TBackward0"),
    (lambda x: x.t().reshape(24), "UnsafeViewBackward0", "CloneBackward0"),
    (lambda x: x.expand(2, 4, 6).reshape(8, 6), "UnsafeViewBackward0", "CloneBackward0"),
    (lambda x: x.expand(2, 4, 6).reshape(2, 24), "ReshapeAliasBackward0", "ExpandBackward0"),
    (lambda x: x.t().flatten(), "UnsafeViewBackward0", "CloneBackward0"),
    (lambda x: x.t().reshape_as(torch.empty(24)), "UnsafeViewBackward0", "CloneBackward0"),
    (lambda x: x.flatten(), "ViewBackward0", "AccumulateGrad"),
    (lambda x: x.unsqueeze(1).transpose(0, 1).reshape(4, 6), "ViewBackward0",
     "TransposeBackward0")])
def test_reshape_nodes(f, node, edge):
    x = _x46()
    y = f(x)
    assert (type(y.grad_fn).__name__, _edges(y)) == (node, [edge])
    y.sum().backward()
    assert x.grad.shape == (4, 6)


def test_reshape_copy_values_and_grad():
    x = torch.arange(24.0).reshape(4, 6).requires_grad_()
    y = x.t().reshape(24)
    assert y.tolist() == np.arange(24.0).reshape(4, 6).T.reshape(24).tolist()
    assert y.is_contiguous() and not y._is_view()
    (y * torch.arange(24.0)).sum().backward()
    assert x.grad.tolist() == np.arange(24.0).reshape(6, 4).T.tolist()


# ------------------------------------------------------------------ 5. composites


def _tree(t, depth=3):
    def d(g, k):
        if g is None:
            return None
        n = type(g).__name__
        if n == "AccumulateGrad" or k == 0:
            return n
        return [n] + [d(x, k - 1) for x, _ in g.next_functions]
    return d(t.grad_fn, depth)


_A = np.array([[2.0, 1.0, 0.0], [0.5, 3.0, 1.0], [0.0, 1.0, 4.0]])


def test_matmul_vector_matrix_nodes():
    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    w = torch.tensor(_A, requires_grad=True)
    y = x @ w
    assert _tree(y) == ["SqueezeBackward4", ["MmBackward0", ["UnsqueezeBackward0",
                                                             "AccumulateGrad"],
                                             "AccumulateGrad"]]
    assert y.tolist() == [3.0, 10.0, 14.0]
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 4.5, 5.0] and w.grad.tolist() == [[1.0] * 3, [2.0] * 3,
                                                                       [3.0] * 3]


@pytest.mark.parametrize("n, tree", [
    (0, ["CopyBackwards", ["CloneBackward0", "AccumulateGrad"], None]),
    (1, ["CloneBackward0", "AccumulateGrad"]),
    (-1, ["LinalgInvExBackward0", "AccumulateGrad"]),
    (2, ["MmBackward0", "AccumulateGrad", "AccumulateGrad"]),
    (3, ["MmBackward0", ["MmBackward0", "AccumulateGrad", "AccumulateGrad"], "AccumulateGrad"]),
    (5, ["MmBackward0", "AccumulateGrad", ["MmBackward0", ["MmBackward0", "AccumulateGrad",
                                                           "AccumulateGrad"],
                                           ["MmBackward0", "AccumulateGrad", "AccumulateGrad"]]]),
    (-2, ["MmBackward0", ["LinalgInvExBackward0", "AccumulateGrad"],
          ["LinalgInvExBackward0", "AccumulateGrad"]])])
def test_matrix_power_nodes(n, tree):
    a = torch.tensor(_A, requires_grad=True)
    y = torch.linalg.matrix_power(a, n)
    assert _tree(y) == tree
    np.testing.assert_allclose(y.detach().numpy(), np.linalg.matrix_power(_A, n), rtol=1e-12)
    y.sum().backward()
    assert a.grad.shape == (3, 3)


_Y = np.array([[1.0, 2.0, 4.0, 7.0], [0.5, -1.0, 3.0, 2.0]])
_X = np.array([0.0, 1.0, 3.0, 4.0])


def test_trapezoid_nodes_and_grads():
    y = torch.tensor(_Y, requires_grad=True)
    r = torch.trapezoid(y, dx=0.5)
    assert _tree(r, 4) == ["MulBackward1", ["SubBackward0", ["SumBackward1", "AccumulateGrad"],
                                            ["MulBackward1", ["AddBackward0", "SelectBackward0",
                                                              "SelectBackward0"]]]]
    np.testing.assert_allclose(r.detach().numpy(), np.trapezoid(_Y, dx=0.5))
    r.sum().backward()
    assert y.grad.tolist() == [[0.25, 0.5, 0.5, 0.25]] * 2
    y = torch.tensor(_Y, requires_grad=True)
    x = torch.tensor(_X, requires_grad=True)
    r = torch.trapz(y, x)
    assert _tree(r, 3) == ["DivBackward1", ["SumBackward1", ["MulBackward0", "AddBackward0",
                                                             "SubBackward0"]]]
    np.testing.assert_allclose(r.detach().numpy(), np.trapezoid(_Y, _X))
    r.sum().backward()
    assert y.grad.tolist() == [[0.5, 1.5, 1.5, 0.5]] * 2


def test_cumulative_trapezoid_nodes():
    y = torch.tensor(_Y, requires_grad=True)
    r = torch.cumulative_trapezoid(y)
    assert _tree(r, 3) == ["CumsumBackward0", ["MulBackward1", ["AddBackward0",
                                                                "SliceBackward0",
                                                                "SliceBackward0"]]]
    x = torch.tensor(_X, requires_grad=True)
    r = torch.cumulative_trapezoid(y, x)
    assert _tree(r, 3) == ["DivBackward1", ["CumsumBackward0", ["MulBackward0", "AddBackward0",
                                                                "SubBackward0"]]]
    assert r.tolist() == [[1.5, 7.5, 13.0], [-0.25, 1.75, 4.25]]


def test_trapz_words():
    with pytest.raises(RuntimeError, match="^trapezoid: There must be one `x` value for each "
                                           "sample point$"):
        torch.trapz(torch.ones(3, 4), torch.ones(3))


_A3 = [[2.0, 1.0, 0.0], [0.5, 3.0, 1.0], [0.0, 1.0, 4.0]]


def _a3():
    return torch.tensor(_A3, requires_grad=True)


def test_tensordot_inner_kron_nodes():
    A = _a3()
    assert _tree(torch.inner(A, A[:2]), 4) == [
        "ViewBackward0", ["MmBackward0", ["ViewBackward0", ["PermuteBackward0", "AccumulateGrad"]],
                          ["ReshapeAliasBackward0", ["PermuteBackward0", "SliceBackward0"]]]]
    assert _tree(torch.tensordot(A, A, 2), 4) == [
        "ViewBackward0", ["DotBackward0", ["ViewBackward0", ["PermuteBackward0", "AccumulateGrad"]],
                          ["ViewBackward0", ["PermuteBackward0", "AccumulateGrad"]]]]
    v = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert _tree(torch.inner(v, v), 2) == ["ViewBackward0", ["DotBackward0", "PermuteBackward0",
                                                             "PermuteBackward0"]]
    k = torch.kron(A, A[:2])
    assert _tree(k, 3) == ["UnsafeViewBackward0", ["MulBackward0", ["UnsafeViewBackward0",
                                                                    "AccumulateGrad"],
                                                   ["UnsafeViewBackward0", "SliceBackward0"]]]
    np.testing.assert_allclose(k.detach().numpy(), np.kron(_A3, _A3[:2]))
    np.testing.assert_allclose(torch.inner(A, A[:2]).detach().numpy(),
                               np.inner(_A3, _A3[:2]), rtol=1e-6)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        torch.kron(A.t(), A[:2])


def test_linalg_cond_nodes_and_refused_backward():
    A = _a3()
    y = torch.linalg.cond(A, 1)
    assert _tree(y, 4) == ["NanToNumBackward0", [
        "MulBackward0", ["AmaxBackward0", ["LinalgVectorNormBackward0", "AccumulateGrad"]],
        ["AmaxBackward0", ["LinalgVectorNormBackward0", "MaskedFillBackward0"]]]]
    assert y.item() == pytest.approx(3.5, rel=1e-6)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: \[gpujit\."
                                           r"FloatTensor \[3, 3\]\], which is output 0 of "
                                           r"LinalgInvEx, is at version 1; expected version 0"):
        y.backward()
    assert _tree(torch.linalg.cond(_a3()), 4) == ["SqueezeBackward1", [
        "DivBackward0", ["SliceBackward0", ["LinalgSvdBackward0", "AccumulateGrad"]],
        ["SliceBackward0", ["LinalgSvdBackward0", "AccumulateGrad"]]]]
    assert _tree(torch.linalg.cond(_a3(), "nuc"), 3) == ["MulBackward0", [
        "SumBackward1", ["LinalgSvdBackward0", "AccumulateGrad"]], [
        "SumBackward1", ["ReciprocalBackward0", "LinalgSvdBackward0"]]]
    e = torch.linalg.cond(torch.zeros(0, 0, requires_grad=True))
    assert e.grad_fn is None and not e.requires_grad


def test_tensorinv_tensorsolve_vander_nodes():
    t = (torch.arange(1.0, 37.0).reshape(6, 2, 3)
         + torch.eye(6).reshape(6, 2, 3) * 50).requires_grad_()
    y = torch.linalg.tensorinv(t, 1)
    assert _tree(y, 3) == ["ReshapeAliasBackward0", ["LinalgInvExBackward0", [
        "ViewBackward0", "AccumulateGrad"]]]
    assert y.shape == (2, 3, 6) and y.stride() == (3, 1, 6)
    y = torch.linalg.tensorsolve(t, torch.ones(6))
    assert _tree(y, 3) == ["ViewBackward0", ["LinalgSolveExBackward0", [
        "ViewBackward0", "AccumulateGrad"], None]]
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert _tree(torch.linalg.vander(x), 4) == ["CatBackward0", None, [
        "CumprodBackward0", ["ExpandBackward0", ["UnsqueezeBackward0", "AccumulateGrad"]]]]
    v = torch.vander(x)
    assert _tree(v, 4) == ["FlipBackward0", ["CopySlices", ["CopySlices", None, [
        "UnsqueezeBackward0", "AccumulateGrad"]], ["CumprodBackward0", ["SliceBackward0",
                                                                        "CopySlices"]]]]
    assert v.tolist() == [[1.0, 1.0, 1.0], [4.0, 2.0, 1.0], [9.0, 3.0, 1.0]]
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*is at version 3; "
                                           "expected version 2"):
        v.sum().backward()
    assert torch.vander(x, 1).grad_fn is None


_X24 = [[1.0, 2.0, 4.0, 7.0], [0.5, -1.0, 3.0, 2.0]]


def test_cov_corrcoef_nodes():
    X = torch.tensor(_X24, requires_grad=True)
    c = torch.cov(X)
    assert _tree(c, 4) == ["SqueezeBackward0", ["DivBackward0", [
        "MmBackward0", ["SubBackward0", "AccumulateGrad", "UnsqueezeBackward0"],
        ["TBackward0", "SubBackward0"]], None]]
    np.testing.assert_allclose(c.detach().numpy(), [[7.0, 2.9166667], [2.9166667, 3.0625]],
                               rtol=1e-6)
    r = torch.corrcoef(X)
    assert _tree(r, 3) == ["ClampBackward1", ["DivBackward0", [
        "DivBackward0", "SqueezeBackward0", "ViewBackward0"], ["ViewBackward0",
                                                               "SqrtBackward0"]]]
    np.testing.assert_allclose(r.detach().numpy(), np.corrcoef(_X24), rtol=1e-6)
    r.sum().backward()
    for grad in (True, False):
        with pytest.raises(RuntimeError, match="^cov\\(\\): weights sum to zero, can't be "
                                               "normalized$"):
            torch.cov(torch.tensor(_X24, requires_grad=grad), aweights=torch.zeros(4))


def test_combinations_meshgrid_cartesian_nodes():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = torch.combinations(x)
    assert _tree(y, 4) == ["StackBackward0"] + [
        ["MaskedSelectBackward0", ["ExpandBackward0", ["ViewBackward0", "AccumulateGrad"]]]] * 2
    assert y.tolist() == [[1.0, 2.0], [1.0, 3.0], [2.0, 3.0]]
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    assert torch.combinations(x, 0).grad_fn is None
    m = torch.meshgrid(x, x[:2], indexing="xy")
    assert [_tree(t, 2) for t in m] == [["ExpandBackward0", ["ViewBackward0", "AccumulateGrad"]],
                                        ["ExpandBackward0", ["ViewBackward0", "SliceBackward0"]]]
    assert [t.stride() for t in m] == [(0, 1), (1, 0)]
    c = torch.cartesian_prod(x, x[:2])
    assert _tree(c, 5) == ["StackBackward0", [
        "UnsafeViewBackward0", ["CloneBackward0", ["ExpandBackward0", ["ViewBackward0",
                                                                       "AccumulateGrad"]]]],
        ["UnsafeViewBackward0", ["CloneBackward0", ["ExpandBackward0", ["ViewBackward0",
                                                                        "SliceBackward0"]]]]]
    assert torch.cartesian_prod(x) is x


# ------------------------------------------------------------------ 7. fft strides

@pytest.mark.parametrize("fn, kw, shape, strides", [
    ("irfft", dict(dim=0), (4, 4, 5), (1, 20, 4)),
    ("irfft", dict(dim=1), (3, 6, 5), (30, 1, 6)),
    ("irfft", dict(dim=2), (3, 4, 8), (32, 8, 1)),
    ("irfftn", dict(dim=(0, 2)), (3, 4, 8), (8, 24, 1)),
    ("irfftn", dict(dim=(2, 0)), (4, 4, 5), (1, 20, 4)),
    ("irfftn", dict(dim=(1, 0)), (4, 4, 5), (1, 4, 16)),
    ("irfftn", dict(dim=(2, 0, 1)), (3, 6, 5), (30, 1, 6)),
    ("hfft", dict(dim=1), (3, 6, 5), (30, 1, 6)),
    ("hfftn", dict(dim=(0, 2)), (3, 4, 8), (8, 24, 1)),
    ("irfft2", dict(), (3, 4, 8), (32, 8, 1))])
def test_fft_c2r_strides(fn, kw, shape, strides):
    x = np.random.default_rng(0).standard_normal((3, 4, 5))
    y = getattr(torch.fft, fn)(torch.tensor(x), **kw)
    assert tuple(y.shape) == shape and y.stride() == strides
    d = kw.get("dim", (-2, -1) if fn.endswith("2") else None)
    if fn == "hfftn":       # (a real input's hfftn: irfftn, normalized the other way)
        ref = np.fft.irfftn(x, axes=d, norm="forward")
    elif fn[-1] in "2n":
        ref = getattr(np.fft, fn)(x, axes=d)
    else:
        ref = getattr(np.fft, fn)(x, axis=d)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ 8. distributions


@pytest.mark.parametrize("f", [
    lambda: torch.distributions.Bernoulli(probs=torch.tensor([0.3])).cdf(torch.tensor([1.0])),
    lambda: torch.distributions.Poisson(torch.tensor([2.0])).entropy(),
    lambda: torch.distributions.VonMises(torch.tensor([0.0]), torch.tensor([1.0])).cdf(
        torch.tensor([0.5])),
    lambda: torch.distributions.RelaxedBernoulli(torch.tensor(0.5),
                                                 probs=torch.tensor([0.3])).mean,
    lambda: torch.distributions.Bernoulli(probs=torch.tensor([0.3])).rsample(),
    lambda: torch.distributions.constraints.Constraint().check(torch.ones(1))])
def test_distribution_not_implemented_is_bare(f):
    with pytest.raises(NotImplementedError) as e:
        f()
    assert str(e.value) == ""


# ------------------------------------------------------------------ 9. batch / instance norm


def test_batch_norm_edges_and_refused_running_stats():
    x = torch.randn(2, 3, 4, requires_grad=True)
    y = F.batch_norm(x, None, None, training=True)
    assert _edges(y) == ["AccumulateGrad", None, None]
    for training in (True, False):
        for name in ("running_mean", "running_var"):
            rm = torch.zeros(3, requires_grad=name == "running_mean")
            rv = torch.ones(3, requires_grad=name == "running_var")
            with pytest.raises(RuntimeError, match=f"^The function 'native_batch_norm' is not "
                                                   f"differentiable with respect to argument "
                                                   f"'{name}'. This input cannot have "
                                                   f"requires_grad True.$"):
                F.batch_norm(x.detach(), rm, rv, training=training)


def test_instance_norm_nodes_and_running_stats():
    rng = np.random.default_rng(1)
    xa = rng.standard_normal((2, 3, 4))
    x = torch.tensor(xa, requires_grad=True)
    w = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([0.0, 1.0, -1.0], dtype=torch.float64, requires_grad=True)
    rm, rv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    y = F.instance_norm(x, rm, rv, w, b, use_input_stats=True, momentum=0.3)
    assert _tree(y, 3) == ["ViewBackward0", ["NativeBatchNormBackward0", [
        "ViewBackward0", "AccumulateGrad"], ["RepeatBackward0", "AccumulateGrad"],
        ["RepeatBackward0", "AccumulateGrad"]]]
    mean, var = xa.mean(-1), xa.var(-1)
    want = (xa - mean[..., None]) / np.sqrt(var[..., None] + 1e-5) * [[[1.0], [2.0], [0.5]]] \
        + [[[0.0], [1.0], [-1.0]]]
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rm.numpy(), 0.3 * mean.mean(0), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), 0.7 + 0.3 * (xa.var(-1, ddof=1)).mean(0), rtol=1e-12)
    y.sum().backward()
    assert x.grad.shape == (2, 3, 4) and w.grad.shape == (3,)


def test_tensordot_full_contraction_of_transposed_sides():
    a = torch.randn(3, 2, requires_grad=True)
    y = torch.tensordot(a.t(), torch.randn(2, 3), 2)
    assert _tree(y, 3) == ["ViewBackward0", ["SumBackward0", ["MulBackward0",
                                                             "SqueezeBackward0", None]]]
    x0 = torch.randn(3, 2, requires_grad=True)
    y0 = (x0 * 1).mT
    out = torch.tensordot(y0, torch.randn(2, 3, requires_grad=True), ([0, 1], [0, 1]))
    y0.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


# ------------------------------------------------------------------ 10. stacks


@pytest.mark.parametrize("fn, tree", [
    ("vstack", ["CatBackward0", ["UnsqueezeBackward0", "AccumulateGrad"],
                ["UnsqueezeBackward0", "AccumulateGrad"]]),
    ("dstack", ["CatBackward0", ["UnsqueezeBackward0", ["UnsqueezeBackward0", "AccumulateGrad"]],
                ["UnsqueezeBackward0", ["UnsqueezeBackward0", "AccumulateGrad"]]]),
    ("column_stack", ["CatBackward0", ["ViewBackward0", "AccumulateGrad"],
                      ["ViewBackward0", "AccumulateGrad"]]),
    ("hstack", ["CatBackward0", "AccumulateGrad", "AccumulateGrad"])])
def test_stack_family_nodes(fn, tree):
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = torch.tensor([4.0, 5.0, 6.0], requires_grad=True)
    y = getattr(torch, fn)([a, b])
    assert _tree(y, 3) == tree
    ref = getattr(np, fn)([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert y.tolist() == ref.tolist()
    y.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0, 1.0]


# ------------------------------------------------------------------ 11. quantile


def test_quantile_nodes_and_strides():
    xa = np.array([[0.3, -1.2, 2.5, 0.7], [1.1, 0.0, -0.4, 3.3], [2.2, -2.0, 0.9, 0.1]])
    q = torch.tensor([0.25, 0.5, 0.9], dtype=torch.float64)
    for grad in (False, True):
        x = torch.tensor(xa, requires_grad=grad)
        y = torch.quantile(x, q, 0)
        assert y.shape == (3, 4) and y.stride() == (1, 3)
        np.testing.assert_allclose(y.detach().numpy(), np.quantile(xa, [0.25, 0.5, 0.9], 0))
        y = torch.nanquantile(x, q, 1, True)
        assert y.shape == (3, 3, 1) and y.stride() == (1, 3, 3)
    x = torch.tensor(xa, requires_grad=True)
    y = torch.quantile(x, q, 1)
    assert _tree(y, 4)[:2] == ["SqueezeBackward4", ["TransposeBackward1", [
        "UnsqueezeBackward1", ["LerpBackward1", "GatherBackward0", "GatherBackward0",
                               None]]]]
    y = torch.quantile(x, 0.3)
    assert _tree(y, 3) == ["SqueezeBackward4", ["LerpBackward1", [
        "GatherBackward0", "ViewBackward0"], ["GatherBackward0", "ViewBackward0"], None]]
    y.backward()
    want = np.zeros(12)
    srt = np.argsort(xa.reshape(-1))
    want[srt[3]], want[srt[4]] = 0.7, 0.3           # rank 3.3 of 12 samples
    np.testing.assert_allclose(x.grad.numpy().reshape(-1), want, atol=1e-12)
    assert _tree(torch.quantile(x, 0.375, 1, interpolation="lower"), 2) == [
        "SqueezeBackward4", ["GatherBackward0", "ViewBackward0"]]


# ------------------------------------------------------------------ 12. circular pad


def test_circular_pad_nodes():
    xa = np.arange(24.0).reshape(2, 3, 4)
    x = torch.tensor(xa, requires_grad=True)
    y = F.pad(x, (-1, 3), mode="circular")
    assert _tree(y, 3) == ["CopySlices", ["CopySlices", None, ["SliceBackward0",
                                                               "AccumulateGrad"]],
                           ["SliceBackward0", ["CopySlices", None, "SliceBackward0"]]]
    assert _tree(F.pad(x, (2, 1), mode="circular"), 2) == [
        "CopySlices", ["CopySlices", "CopySlices", "SliceBackward0"],
        ["SliceBackward0", "CopySlices"]]
    np.testing.assert_array_equal(y.detach().numpy(), np.pad(xa[..., 1:], [(0, 0), (0, 0),
                                                                           (0, 3)], "wrap"))
    y.sum().backward()
    assert x.grad[0, 0].tolist() == [0.0, 2.0, 2.0, 2.0]


# ------------------------------------------------------------------ 13. gradient


def test_gradient_nodes():
    xa = np.array([[1.0, 2.0, 4.0, 7.0, 11.0], [0.0, 1.0, 0.0, 1.0, 0.0]])
    x = torch.tensor(xa, requires_grad=True)
    g = torch.gradient(x, spacing=0.5, dim=1)[0]
    assert _tree(g, 3) == ["CatBackward0", ["DivBackward1", ["SubBackward0", "SliceBackward0",
                                                             "SliceBackward0"]],
                           ["DivBackward1", ["DivBackward1", "SubBackward0"]],
                           ["DivBackward1", ["SubBackward0", "SliceBackward0",
                                             "SliceBackward0"]]]
    np.testing.assert_allclose(g.detach().numpy(), np.gradient(xa, 0.5, axis=1))
    c = torch.tensor([0.0, 1.0, 3.0, 4.0, 6.0], dtype=torch.float64)
    g = torch.gradient(x, spacing=(c,), dim=1)[0]
    assert [type(n).__name__ for n, _ in g.grad_fn.next_functions] == [
        "DivBackward0", "AddBackward0", "DivBackward0"]
    np.testing.assert_allclose(g.detach().numpy(), np.gradient(xa, c.numpy(), axis=1))
    g.sum().backward()
    assert x.grad.shape == (2, 5)


# ------------------------------------------------------------------ 14. linear, 1-D


def test_linear_one_dim_nodes():
    w2 = torch.tensor(_A3, dtype=torch.float64, requires_grad=True)
    w1 = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    x2 = torch.tensor(_A3[:2], dtype=torch.float64, requires_grad=True)
    x1 = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64, requires_grad=True)
    assert _tree(F.linear(x2, w1), 2) == ["MvBackward0", "AccumulateGrad",
                                          ["TBackward0", "AccumulateGrad"]]
    assert _tree(F.linear(x1, w1), 2) == ["DotBackward0", "AccumulateGrad",
                                          ["TBackward0", "AccumulateGrad"]]
    assert _tree(F.linear(x1, w2), 3) == ["SqueezeBackward4", ["MmBackward0", [
        "UnsqueezeBackward0", "AccumulateGrad"], ["TBackward0", "AccumulateGrad"]]]
    y = F.linear(x1, w2, b)
    assert _tree(y, 2) == ["ViewBackward0", ["AddmmBackward0", "AccumulateGrad",
                                             "ViewBackward0", "TBackward0"]]
    np.testing.assert_allclose(y.detach().numpy(), np.array(_A3) @ [0.5, -1.0, 2.0]
                               + [0.1, 0.2, 0.3])
    y.sum().backward()
    assert w2.grad.shape == (3, 3) and b.grad.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match="^mat2 must be a matrix, got 1-D tensor$"):
        F.linear(x2, w1, torch.tensor(1.5, dtype=torch.float64))


# ------------------------------------------------------------------ 15. inference tensors


def test_inference_operands_only_run_unrecorded():
    with torch.inference_mode():
        p = torch.nn.Parameter(torch.ones(3))
        t = torch.ones(3, requires_grad=True)
    for f in (lambda: p * p, lambda: p.sin(), lambda: p.sum(), lambda: p ** 2,
              lambda: torch.cat([p, p]), lambda: torch.maximum(p, p), lambda: p.expand(2, 3)):
        r = f()
        assert r.grad_fn is None and not r.requires_grad
    for f, node in ((lambda: p * 2, "MulBackward0"), (lambda: p + 1, "AddBackward0"),
                    (lambda: p * torch.ones(3), "MulBackward0"),
                    (lambda: torch.cat([p, torch.ones(3)]), "CatBackward0"),
                    (lambda: t.clone(), "CopyBackwards"),
                    (lambda: t.to(torch.float64), "CopyBackwards")):
        r = f()
        assert type(r.grad_fn).__name__ == node and r.requires_grad
    c = t.clone()
    assert _edges(c) == [None, "AccumulateGrad"] and not c.is_inference()
    # (a normal operand: recorded, and an inference tensor it would save is refused)
    with torch.inference_mode():
        w = torch.ones(3, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        torch.ones(2, 3, requires_grad=True) @ w


# ------------------------------------------------------------------ 16. prelu


def test_prelu_weight_is_viewed():
    x = torch.tensor([[-1.0, 2.0, -3.0], [4.0, -5.0, 6.0]], requires_grad=True)
    w = torch.tensor([0.1, 0.2, 0.3], requires_grad=True)
    y = F.prelu(x, w)
    assert _tree(y, 2) == ["PreluKernelBackward0", "AccumulateGrad",
                           ["ViewBackward0", "AccumulateGrad"]]
    np.testing.assert_allclose(y.detach().numpy(), [[-0.1, 2.0, -0.9], [4.0, -1.0, 6.0]],
                               rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [-1.0, -5.0, -3.0])
    np.testing.assert_allclose(x.grad.numpy(), [[0.1, 1.0, 0.3], [1.0, 0.2, 1.0]], rtol=1e-6)
    v = torch.tensor([-2.0, 3.0], requires_grad=True)
    assert _edges(F.prelu(v, torch.tensor([0.5], requires_grad=True))) == [
        "AccumulateGrad", "AccumulateGrad"]     # (same ranks: no view)
