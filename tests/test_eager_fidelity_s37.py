"""Session 37 (c37): eager tensor and autograd fidelity against PyTorch 2.13.

Finds, minimised, with torch 2.13's behaviour (expected values written out: no torch here):

1. addmm of a non-matrix said mm's "mat2 must be a matrix" (torch: "mat2 must be a matrix,
   got 1-D tensor", mat1 too). (F.linear's graph -- torch's composite: AddmmBackward0 ->
   (AccumulateGrad(b), TBackward0 -> AccumulateGrad(w)), saved-tensor hooks seeing w.t(),
   "[torch.FloatTensor [4, 5]]" when w is written -- was matched by recording the
   decomposition, then taken back: gpujit's addmm with a view operand plus the t() view and
   TBackward0 cost ~+100 us per linear forward+backward (32x64x64: ~200 vs ~70 us; an eager
   3-layer MLP step ~980 vs ~710 us on the loaded VM). test_script_training_s33's xfail
   stays.)
2. Error words (c36's leftovers): rms_norm of an integer / bool input raised mean()'s
   words (torch: NotImplementedError '"rms_norm" not implemented for 'Long''); its shape
   error said "[*, 4]" (torch 2.13: "expected input with shape [*4]", "[*2, 4]"); a weight
   of another dtype gave the promoted dtype (torch: the input's, float16 with a float32
   weight, after a UserWarning "Mismatch dtype between input and weight: input dtype =
   c10::Half, weight dtype = float, Cannot dispatch to fused implementation."; ToCopyBackward0
   where the dtypes differ). dropout of an integer / bool tensor training with 0 < p < 1
   raised gpujit's own words (torch: "result type Float can't be cast to the desired output
   type Long", from its noise.div_), p=1 gives zeros of the input's dtype (gpujit: float
   for dropout2d), alpha_dropout / feature_alpha_dropout / dropout2d of ints computed
   floats (torch: the same error); every in-place cast error was prefixed with the op's
   name ("div_: result type ..."; torch names no op). rrelu of a bool / int refused in
   gpujit's words (torch: '"leaky_relu_cpu" not implemented for 'Bool'' when not training,
   '"rrelu_with_noise_out_cpu" ...' training). linear of bools named "addmm" (torch:
   "addmm_impl_cpu_"; a 1-D weight "addmv_impl_cpu", both 1-D "dot"; an empty product
   computes), tensordot of bools "tensordot" (torch: "addmm_impl_cpu_"). masked_fill of an
   int64 tensor with 2**63 wrapped to -2**63 (torch: "value cannot be converted to type
   int64_t without overflow"; 2**64: OverflowError "int too big to convert"; -2**63 - 1:
   "can't convert negative int to unsigned").
3. Inference tensors outside inference mode (c36 refused in-place writes before writing):
   torch 2.13 runs the kernel, then refuses at the version bump, so `a.add_(1)`,
   `a.zero_()`, `a[0] = 5`, `a.copy_(b)`, `a[1:].fill_(9)`, out=a (resized too), t_() /
   unsqueeze_() (the shape changes) all leave their write and raise "Inplace update to
   inference tensor outside InferenceMode is not allowed..."; a leaf that requires grad
   is refused first by autograd ("a leaf Variable that requires grad is being used in an
   in-place operation.", nothing written; under no_grad written then refused); a written
   inference tensor gets no grad_fn from a value that requires grad. `a.data` and, outside
   the mode, `a.detach()` are inference tensors WITH a version counter (`_version` 0,
   written in place and counted); a view of one has none again. Views (t, view, select,
   slicing) of an inference tensor made outside the mode carry no gradient (requires_grad
   False, grad_fn None, is_leaf, `_base` None) even when it requires grad: a Linear made
   in inference mode then trained gets no weight.grad (F.linear's w.t()), its bias a grad,
   and SGD's step() raises the in-place words after writing the bias.
4. Norms (grad_fn names of torch's composites, and dtype words): linalg.norm was its own
   node LinalgNormBackward0 and matrix_norm LinalgMatrixNormBackward0, nodes torch has
   not: torch 2.13 names linalg.norm's vector path (ord None, one dim, a vector)
   LinalgVectorNormBackward0, matrix_norm 'fro' LinalgVectorNormBackward0, 'nuc'
   SumBackward1, 2 / 1 / inf AmaxBackward0, -2 / -1 / -inf AminBackward0, and 'nuc' / +-2
   with keepdim PermuteBackward0 (nuclear_norm too). vector_norm / matrix_norm with a
   narrower dtype= computed (torch: "linalg.vector_norm: the dtype of the input (Double)
   should be convertible without narrowing to the specified dtype (Float)", matrix_norm
   likewise; an integer dtype: "dtype should be floating point or complex, but got Long");
   linalg.norm(v, None, (0, 1)) of a vector raised matrix_norm's words (torch: ord None is
   a vector norm: IndexError "Dimension out of range (expected to be in range of [-1, 0],
   but got 1)").
5. Reduction sweep (170 calls against torch): torch.prod(x, (0, 1)) / x.prod([0]) computed
   (torch: TypeError "prod() received an invalid combination of arguments - got (Tensor,
   tuple), ..."; an int parameter given a list or tuple is the parser's "must be int, not
   tuple"); all(x, ()) / any(x, ()) reduced every dim (torch 2.13's all.dims: an empty dim
   list reduces none, each element's truth); nansum(x, dtype=int32) converted NaN to
   int32's minimum before summing (torch zeroes NaNs, then converts: nansum([1.5, 1.5,
   nan, 2.7], dtype=int32) is 4).
6. Indexing sweep (107 calls): nonzero(as_tuple=True) / where(cond) gave index tensors of
   stride 2 interleaved in one buffer (torch: nonzero(x).unbind(1) of nonzero's column-
   major result: contiguous, the second at storage offset n); index_select out of range
   along a dim other than 0 of a 2-D+ tensor said "index out of range in self" (torch's CPU
   kernel: RuntimeError "INDICES element is out of DATA bounds, id=4 axis_dim=4"); a bool
   mask assignment whose values do not fit raised NumPy's IndexError / TypeError (torch:
   "shape mismatch: value tensor of shape [2] cannot be broadcast to indexing result of
   shape [3]", the mask's True count known, "[2, 4]" for a row mask, not "[?, 4]").
7. Pointwise sweep (190 calls, and 571 dtype refusals): torch names its CPU kernel where
   gpujit said "hypot does not support dtype int64 (supported: ...)": ceil / floor / round
   / trunc (fix) of a bool '"ceil_vml_cpu" not implemented for 'Bool'' (..._vml_cpu),
   frac_cpu, round(decimals=) round_cpu, hypot_cpu, nextafter_cpu, fmod_cpu,
   remainder_cpu, floor_divide div_floor_cpu, gcd_cpu / lcm_cpu of floats, logaddexp_cpu,
   logaddexp2_cpu, lerp_kernel_scalar / lerp_kernel_tensor, igammac igammac_cpu (gpujit:
   igamma_cpu); igamma(0, 0) / igammac(0, 0) gave 0 / 1 (torch: nan, as its calc_igamma:
   a == 0 is 1 only for x > 0; a == inf is nan for x == inf, else 0); an in-place op whose
   result does not broadcast to self said "add_: output with shape [3] ..." (torch names
   no op); div's bad rounding_mode was a ValueError (torch: RuntimeError); the Scalar
   clamp_ / clamp_min_ / clamp_max_ / clip_ of an int tensor with a float bound say "...
   desired output type long int" (the C++ type; the Tensor overloads say Long).
8. Autograd API sweep (62 calls): `(x * 2).sum()` (and x / 2, 2 * x, 1 / x, clamp(x, 0),
   where(c, x, 0.), maximum(x, t0)...) backward twice passed (torch: "Trying to backward
   through the graph a second time ...": the Python number is a wrapped-number tensor its
   node saves; x + 1, x - 1, 1 - x, fmod(x, 2) save nothing and run again);
   autograd.grad(y, x) with neither requiring grad said "One of the differentiated Tensors
   does not require grad" (torch looks at the outputs first: "element 0 of tensors does
   not require grad and does not have a grad_fn"); a post-accumulate-grad hook returning a
   value raised TypeError "expected Variable, ..." (torch: RuntimeError "Tensor post
   accumulate grad hooks should return None.").
9. Gradient sweep (97 ops: values and grad_fn names; every gradient equal) and names of
   composites: gpujit named nodes torch lacks (MovedimBackward0, SwapaxesBackward0,
   TakeAlongDimBackward0, KronBackward0, RavelBackward0, UnflattenBackward0,
   HsplitBackward0, HstackBackward0, Atleast3DBackward0, CartesianProdBackward0,
   TileBackward0, FliplrBackward0, TrapezoidBackward0, DiffBackward0, MsortBackward0,
   InnerBackward0, TensordotBackward0, SpecialNdtrBackward0, SumToSizeBackward0...) where
   torch shows its decomposition's last node (PermuteBackward0, TransposeBackward0,
   GatherBackward0, UnsafeViewBackward0, ViewBackward0, SliceBackward0, CatBackward0,
   UnsqueezeBackward0, StackBackward0, RepeatBackward0, FlipBackward0, DivBackward1 /
   MulBackward1, CumsumBackward0, SubBackward0, SortBackward0, SumBackward1), and the
   later overloads' numbers (median.dim MedianBackward1, nanmedian.dim
   NanmedianBackward1, scatter.value ScatterBackward1, index_fill.int_Tensor
   IndexFillBackward1). scatter with reduce= had a gradient: torch 2.13 records
   torch::autograd::NotImplemented ("derivative for aten::scatter is not implemented"
   at backward; scatter_: "aten::scatter_"), and warns once "The reduce argument of
   torch.scatter with Tensor src is deprecated ...".
10. F.glu was a composite of chunk / sigmoid / mul (grad_fn MulBackward0 -> SplitBackward0,
   SigmoidBackward0); torch's is aten::glu, one GluBackward0 node whose edge is the
   input's AccumulateGrad. gpujit now has aten::glu (ATen's CPU kernel a * (1 / (1 +
   exp(-b))): float32 results bit-equal to torch's) with PyTorch's glu_backward, and
   scripted F.glu records aten::glu.
11. Views / out= / conversions sweep (83 calls): matmul(2-D, 2-D, out=double) said dot's
   "result dtype Double does not match input dtype Float" (torch: mm's "Expected out
   tensor to have dtype float, but got double instead"; vectors dot's words, matrix @
   vector addmv's); int() / float() / bool() of a tensor of several elements added
   "(int() of a Tensor with 2 elements)" to torch's words; a float index said "long or
   bool tensors" (torch: "long or byte Variables"); view(-1, 0) of an empty tensor said
   "shape '[-1, 0]' is invalid for input of size 0" (torch: "cannot reshape tensor of 0
   elements into shape [-1, 0] because the unspecified dimension size -1 can be any value
   and is ambiguous").
12. F.soft_margin_loss promoted the input with the target (float32 input, float64 target:
   a float64 loss; torch: float32, ATen computes neg_out(input).mul_(target).exp_().log1p_()
   in the input's tensor), broadcast a smaller input up to the target (torch: "output with
   shape [3] doesn't match the broadcast shape [2, 3]") and took integer inputs (torch:
   "result type Float can't be cast to the desired output type Long"). Its grad_fn is
   still the composite's (MeanBackward0 / Log1PBackward0; torch: SoftMarginLossBackward0).
13. Losses sweep (58 calls, float16/32/64 and mixed dtypes): the composites computed what
   ATen's CPU kernels (float and double only) refuse: multi_margin_loss of float16 or int
   ('"multi_margin_loss_cpu_kernel" not implemented for 'Half''; a float64 weight with a
   float32 input: "expected scalar type Float but found Double"), multilabel_margin_loss
   ('"multilabel_margin_loss_forward_out_frame" not implemented for 'Half'' / 'Long''),
   pdist of float16 ('"pdist" not implemented for 'Half''); bilinear of mixed dtypes said
   "expected scalar type Float but found Double" (torch first: "All tensors must have the
   same dtype, got input1: float, input2: double, weight: float").
14. Slicing steps: x[::-1] said "step must be greater than zero (negative slice steps are
   not supported; use gpujit.flip)" and x[::0] the same (torch: "step must be greater than
   zero" / Python's "slice step cannot be zero", ValueErrors); aten::slice with a step
   <= 0 raised that ValueError (torch: RuntimeError "slice step must be positive").
15. In-place view ops (autograd-on-views sweep, 33 calls; gradients all equal) named their
   out-of-place nodes: torch 2.13's t_ is TBackward1, transpose_ / swapdims_ / swapaxes_
   TransposeBackward1, squeeze_() / squeeze_(0) / squeeze_((0,)) SqueezeBackward3 / 4 / 5,
   unsqueeze_ UnsqueezeBackward1, as_strided_ AsStridedBackward1. LEFT: t_ of a view (y[0].t_())
   is gpujit's AsStridedBackward0 (torch: TBackward1).
"""
import numpy as np
import pytest

import gpujit as torch

F = torch.nn.functional
ACC = "torch::autograd::AccumulateGrad"


# ------------------------------------------------------------------ 1. addmm words

def test_addmm_non_matrix_words():
    # addmm's own words name the dimension (mm's do not)
    with pytest.raises(RuntimeError, match="mat1 must be a matrix, got 1-D tensor"):
        torch.addmm(torch.ones(3), torch.ones(4), torch.ones(4, 3))
    with pytest.raises(RuntimeError, match="mat2 must be a matrix, got 3-D tensor"):
        torch.addmm(torch.ones(3), torch.ones(3, 4), torch.ones(1, 4, 3))
    with pytest.raises(RuntimeError, match="^mat2 must be a matrix$"):
        torch.mm(torch.ones(3, 4), torch.ones(4))
    with pytest.raises(RuntimeError, match="mat2 must be a matrix, got 1-D tensor"):
        F.linear(torch.ones(3, 4), torch.ones(4), torch.ones(3))
    y = torch.addmm(torch.ones(2), torch.ones(3, 4), torch.ones(4, 2))
    assert y.tolist() == [[5.0, 5.0]] * 3 and y.stride() == (2, 1)


# ------------------------------------------------------------------ 2. error words

def test_rms_norm_dtype_words_and_result_dtype():
    with pytest.raises(NotImplementedError, match="^\"rms_norm\" not implemented for 'Long'$"):
        F.rms_norm(torch.ones(2, 3, dtype=torch.int64), [3])
    with pytest.raises(NotImplementedError, match="'Bool'"):
        F.rms_norm(torch.ones(2, 3, dtype=torch.bool), [3])
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*4\], but got "
                                           r"input of size\[2, 3\]"):
        F.rms_norm(torch.ones(2, 3), [4])
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*2, 4\]"):
        F.rms_norm(torch.ones(2, 3, 4), [2, 4])
    with pytest.warns(UserWarning, match="Mismatch dtype between input and weight: input "
                      "dtype = c10::Half, weight dtype = float, Cannot dispatch to fused "
                      "implementation."):
        y = F.rms_norm(torch.ones(2, 3, dtype=torch.float16), [3], torch.ones(3))
    assert y.dtype == torch.float16
    x = torch.ones(2, 3, requires_grad=True)
    assert F.rms_norm(x, [3], torch.ones(3, requires_grad=True)).grad_fn.name() == \
        "MulBackward0"
    with pytest.warns(UserWarning, match="input dtype = float, weight dtype = double"):
        y = F.rms_norm(x, [3], torch.ones(3, dtype=torch.float64, requires_grad=True))
    assert y.dtype == torch.float32 and y.grad_fn.name() == "ToCopyBackward0"


CAST = "^result type Float can't be cast to the desired output type "


@pytest.mark.parametrize("call", [
    lambda x: F.dropout(x), lambda x: F.dropout(x, inplace=True),
    lambda x: F.alpha_dropout(x, 0.5, True), lambda x: F.feature_alpha_dropout(x, 0.5, True),
    lambda x: F.dropout2d(x), lambda x: torch.dropout(x, 0.5, True),
], ids=["dropout", "dropout_", "alpha", "feature_alpha", "dropout2d", "torch.dropout"])
def test_dropout_of_integers_fails_in_the_noise_scaling(call, request):
    with pytest.raises(RuntimeError, match=CAST + "Long$"):
        call(torch.ones(1, 2, 3, 3, dtype=torch.int64))
    # (alpha dropouts: noise.add(-1) of a bool noise is int64, so torch says Long)
    with pytest.raises(RuntimeError, match=CAST + ("Long$" if request.node.callspec.id in (
            "alpha", "feature_alpha") else "Bool$")):
        call(torch.ones(1, 2, 3, 3, dtype=torch.bool))


def test_dropout_of_integers_untouched_or_zeroed():
    x = torch.ones(4, dtype=torch.int64)
    assert F.dropout(x, 0.0) is x and F.dropout(x, training=False) is x
    for y in (F.dropout(x, 1.0), F.dropout2d(torch.ones(1, 2, 3, 3, dtype=torch.int64), 1.0),
              F.alpha_dropout(x, 1.0, True)):
        assert y.dtype == torch.int64 and not y.any()
    with pytest.raises(RuntimeError, match=CAST + "Long$"):
        torch.ones(3, dtype=torch.int64).div_(0.5)
    with pytest.raises(RuntimeError, match="^result type Long can't be cast to the desired "
                                           "output type Bool$"):
        torch.ones(3, dtype=torch.bool).mul_(2)


def test_rrelu_of_bool_and_int_names_the_kernel():
    for dt, name in ((torch.bool, "Bool"), (torch.int64, "Long")):
        with pytest.raises(NotImplementedError, match=f"^\"leaky_relu_cpu\" not implemented "
                                                      f"for '{name}'$"):
            F.rrelu(torch.ones(4, dtype=dt))
        with pytest.raises(NotImplementedError, match=f"^\"rrelu_with_noise_out_cpu\" not "
                                                      f"implemented for '{name}'$"):
            F.rrelu(torch.ones(4, dtype=dt), training=True)


def test_linear_and_tensordot_of_bools_name_the_products_kernel():
    B = lambda *s: torch.ones(*s, dtype=torch.bool)        # noqa: E731
    for call, kernel in ((lambda: F.linear(B(2, 3), B(4, 3)), "addmm_impl_cpu_"),
                         (lambda: F.linear(B(2, 2, 3), B(4, 3), B(4)), "addmm_impl_cpu_"),
                         (lambda: F.linear(B(2, 3), B(3)), "addmv_impl_cpu"),
                         (lambda: F.linear(B(3), B(3)), "dot"),
                         (lambda: torch.tensordot(B(2, 3), B(3, 2), 1), "addmm_impl_cpu_")):
        with pytest.raises(NotImplementedError, match=f"^\"{kernel}\" not implemented for "
                                                      f"'Bool'$"):
            call()
    y = F.linear(B(0, 3), B(2, 3))
    assert y.shape == (0, 2) and y.dtype == torch.bool


def test_masked_fill_int64_past_its_range():
    x = torch.ones(3, dtype=torch.int64)
    m = torch.tensor([True, False, True])
    with pytest.raises(RuntimeError, match="^value cannot be converted to type int64_t "
                                           "without overflow$"):
        x.masked_fill(m, 2 ** 63)
    with pytest.raises(RuntimeError, match="int64_t without overflow"):
        x.masked_fill_(m, 2 ** 63)
    assert x.tolist() == [1, 1, 1]
    with pytest.raises(OverflowError, match="^int too big to convert$"):
        x.masked_fill(m, 2 ** 64)
    with pytest.raises(OverflowError, match="^can't convert negative int to unsigned$"):
        x.masked_fill(m, -2 ** 63 - 1)
    assert x.masked_fill(m, 2 ** 63 - 1).tolist() == [2 ** 63 - 1, 1, 2 ** 63 - 1]
    y = torch.ones(3).masked_fill(m, 2 ** 63)
    assert y.tolist() == [9.223372036854775808e18, 1.0, 9.223372036854775808e18]


# ------------------------------------------------------------------ 3. inference tensors

INPLACE = "Inplace update to inference tensor outside InferenceMode is not allowed"


def _inference(*shape, **kw):
    with torch.inference_mode():
        return torch.ones(*shape, **kw)


def test_inplace_on_inference_tensor_writes_then_raises():
    a = _inference(3)
    for f, after in ((lambda: a.add_(1), [2, 2, 2]), (lambda: a.mul_(2), [4, 4, 4]),
                     (lambda: a.zero_(), [0, 0, 0]), (lambda: a.__setitem__(0, 5.0), [5, 0, 0]),
                     (lambda: a.copy_(torch.full((3,), 7.0)), [7, 7, 7]),
                     (lambda: a[1:].fill_(9.0), [7, 9, 9]),
                     (lambda: a.view(3).mul_(2.0), [14, 18, 18]),
                     (lambda: torch.add(torch.ones(3), 1, out=a), [2, 2, 2])):
        with pytest.raises(RuntimeError, match=INPLACE):
            f()
        assert a.tolist() == after
    b = _inference(2, 3)
    with pytest.raises(RuntimeError, match=INPLACE):
        b.t_()
    assert b.shape == (3, 2)
    with pytest.raises(RuntimeError, match=INPLACE):
        b.unsqueeze_(0)
    assert b.shape == (1, 3, 2)
    z, g = _inference(3), torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=INPLACE):
        z.add_(g)
    assert z.tolist() == [2, 2, 2] and not z.requires_grad and z.grad_fn is None
    w = _inference(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad is being used "
                                           "in an in-place operation.$"):
        w.add_(1)
    assert w.tolist() == [1, 1, 1]
    with torch.no_grad():
        with pytest.raises(RuntimeError, match=INPLACE):
            w.add_(1)
    assert w.tolist() == [2, 2, 2]


def test_data_and_detach_of_inference_tensor_track_versions():
    with torch.inference_mode():
        a = torch.ones(3)
        di = a.detach()
    assert a.data.is_inference() and a.data._version == 0
    d = a.detach()
    assert d.is_inference() and d._version == 0
    d.add_(1)
    assert d._version == 1 and a.tolist() == [2, 2, 2]
    assert d.detach()._version == 0 and a.data.data._version == 0
    with pytest.raises(RuntimeError, match=INPLACE):
        d.view(3).add_(1)
    with pytest.raises(RuntimeError, match="Inference tensors do not track version counter"):
        di._version
    with pytest.raises(RuntimeError, match=INPLACE):
        di.add_(1)
    msg = "Setting requires_grad=True on inference tensor outside InferenceMode"
    with pytest.raises(RuntimeError, match=msg):
        d.requires_grad_()
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        torch.ones(3, requires_grad=True) * d


def test_views_of_inference_tensor_carry_no_gradient():
    with torch.inference_mode():
        w = torch.ones(2, 3, requires_grad=True)
    for v in (w.t(), w.view(6), w[0], w[:, 1:]):
        assert v.is_inference() and not v.requires_grad and v.grad_fn is None and v.is_leaf
    assert w.t()._base is None
    y = w * 2                                     # not a view: recorded
    assert y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.full((2, 3), 2.0))


def test_module_made_in_inference_mode_then_trained():
    with torch.inference_mode():
        m = torch.nn.Linear(3, 2)
    assert m.weight.is_inference() and m.weight.requires_grad
    opt = torch.optim.SGD(m.parameters(), lr=0.5)
    b0 = m.bias.detach().clone()
    y = m(torch.ones(4, 3))
    # torch 2.13: AddmmBackward0 -> (AccumulateGrad(bias), None, None): the weight enters
    # through w.t(), a view of an inference tensor, which carries no gradient
    assert y.grad_fn.name() == "AddmmBackward0"
    assert sorted(n is None for n, _ in y.grad_fn.next_functions) == [False, True, True]
    y.sum().backward()
    assert m.weight.grad is None
    np.testing.assert_array_equal(m.bias.grad.numpy(), [4.0, 4.0])
    with pytest.raises(RuntimeError, match=INPLACE):
        opt.step()
    np.testing.assert_allclose(m.bias.detach().numpy(), b0.numpy() - 2.0, rtol=1e-6)


# ------------------------------------------------------------------ 4. norms

@pytest.mark.parametrize("call,name", [
    (lambda m: torch.linalg.norm(m), "LinalgVectorNormBackward0"),
    (lambda m: torch.linalg.norm(m, "fro"), "LinalgVectorNormBackward0"),
    (lambda m: torch.linalg.norm(m, "nuc"), "SumBackward1"),
    (lambda m: torch.linalg.norm(m, 2), "AmaxBackward0"),
    (lambda m: torch.linalg.norm(m, -2), "AminBackward0"),
    (lambda m: torch.linalg.norm(m, float("inf")), "AmaxBackward0"),
    (lambda m: torch.linalg.norm(m, -1), "AminBackward0"),
    (lambda m: torch.linalg.norm(m, 2, keepdim=True), "PermuteBackward0"),
    (lambda m: torch.linalg.norm(m, 1, keepdim=True), "AmaxBackward0"),
    (lambda m: torch.linalg.norm(m, 3, dim=1), "LinalgVectorNormBackward0"),
    (lambda m: torch.linalg.norm(m, 2, 1), "LinalgVectorNormBackward0"),
    (lambda m: torch.linalg.norm(m[0], 1), "LinalgVectorNormBackward0"),
    (lambda m: torch.linalg.matrix_norm(m), "LinalgVectorNormBackward0"),
    (lambda m: torch.linalg.matrix_norm(m, "nuc", keepdim=True), "PermuteBackward0"),
    (lambda m: torch.linalg.matrix_norm(m, -float("inf")), "AminBackward0"),
    (lambda m: m.norm(p="nuc"), "SumBackward1"),
    (lambda m: torch.nuclear_norm(m, keepdim=True), "PermuteBackward0"),
])
def test_norm_node_names_are_torchs_composites(call, name):
    m = torch.tensor([[3.0, 1.0, 2.0], [0.5, -4.0, 1.0]], dtype=torch.float64,
                     requires_grad=True)
    assert call(m).grad_fn.name() == name


def test_norm_dtype_words():
    x = torch.ones(3, 4, dtype=torch.float64)
    narrow = "the dtype of the input \\(Double\\) should be convertible without narrowing " \
             "to the specified dtype \\(Float\\)"
    for call, who in ((lambda: torch.linalg.vector_norm(x, dtype=torch.float32), "vector"),
                      (lambda: torch.linalg.norm(x, dtype=torch.float32), "vector"),
                      (lambda: torch.linalg.matrix_norm(x, dtype=torch.float32), "matrix"),
                      (lambda: torch.linalg.matrix_norm(x, 2, dtype=torch.float32), "matrix"),
                      (lambda: x.norm(2, 1, dtype=torch.float32), "vector")):
        with pytest.raises(RuntimeError, match=f"^linalg.{who}_norm: {narrow}$"):
            call()
    with pytest.raises(RuntimeError, match="^linalg.vector_norm: dtype should be floating "
                                           "point or complex, but got Long$"):
        torch.linalg.vector_norm(x, dtype=torch.int64)
    assert torch.linalg.vector_norm(x.half(), dtype=torch.float32).dtype == torch.float32
    with pytest.raises(IndexError, match="Dimension out of range"):
        torch.linalg.norm(torch.ones(4), None, (0, 1))
    assert torch.linalg.norm(x, None, (0, 1)).item() == pytest.approx(12 ** 0.5)


# ------------------------------------------------------------------ 5. reductions

def test_prod_refuses_dim_tuples_as_the_parser():
    x = torch.ones(2, 3)
    for call in (lambda: torch.prod(x, (0, 1)), lambda: x.prod([0]),
                 lambda: x.prod(dim=(0,))):
        with pytest.raises(TypeError, match="^prod\\(\\) received an invalid combination of "
                                            "arguments"):
            call()
    assert x.prod(1).tolist() == [1.0, 1.0]


def test_all_any_of_no_dims_reduce_nothing():
    x = torch.tensor([[3.0, 0.0], [float("nan"), -1.0]])
    assert torch.all(x, ()).tolist() == [[True, False], [True, True]]
    assert x.any(dim=[]).tolist() == [[True, False], [True, True]]
    u = torch.tensor([[0, 2]], dtype=torch.uint8)
    assert u.all(()).dtype == torch.uint8 and u.all(()).tolist() == [[0, 1]]
    assert torch.all(x).item() is False and x.any((0, 1)).item() is True


def test_nansum_zeroes_nan_then_converts():
    t = torch.tensor([1.5, 1.5, float("nan"), 2.7])
    r = torch.nansum(t, dtype=torch.int32)
    assert r.dtype == torch.int32 and r.item() == 4
    assert torch.nansum(torch.tensor([float("nan")]), dtype=torch.int64).item() == 0
    x = torch.tensor([[3.0, float("nan")], [-2.0, 7.0]])
    assert torch.nansum(x, 0, dtype=torch.int32).tolist() == [1, 7]


# ------------------------------------------------------------------ 6. indexing

def test_nonzero_as_tuple_layout():
    x = torch.arange(12).reshape(3, 4) % 5 == 0
    for t in (x.nonzero(as_tuple=True), torch.where(x)):
        assert [a.stride() for a in t] == [(1,), (1,)]
        assert [a.storage_offset() for a in t] == [0, 3]
        assert [a.tolist() for a in t] == [[0, 1, 2], [0, 1, 2]]
    assert x.nonzero().stride() == (1, 3)


def test_index_select_out_of_range_words():
    a = torch.arange(12).reshape(3, 4)
    with pytest.raises(RuntimeError, match="^INDICES element is out of DATA bounds, id=4 "
                                           "axis_dim=4$"):
        a.index_select(1, torch.tensor([0, 4]))
    with pytest.raises(RuntimeError, match="id=-1 axis_dim=4"):
        a.index_select(-1, torch.tensor([-1]))
    with pytest.raises(RuntimeError, match="id=5 axis_dim=3"):
        a.t().index_select(1, torch.tensor([5]))
    with pytest.raises(IndexError, match="^index out of range in self$"):
        a.index_select(0, torch.tensor([3]))
    with pytest.raises(IndexError, match="^index out of range in self$"):
        torch.arange(4).index_select(0, torch.tensor([4]))


def test_mask_assignment_shape_mismatch_words():
    a = torch.arange(12).reshape(3, 4)
    for idx, v, vs, rs in ((a > 8, torch.tensor([1, 2]), "[2]", "[3]"),
                           (a > 8, torch.ones(2, 3, dtype=torch.int64), "[2, 3]", "[3]"),
                           (torch.tensor([True, False, True]),
                            torch.ones(3, dtype=torch.int64), "[3]", "[2, 4]")):
        with pytest.raises(RuntimeError, match=f"^shape mismatch: value tensor of shape "
                                               f"\\{vs[:-1]}\\] cannot be broadcast to "
                                               f"indexing result of shape \\{rs[:-1]}\\]$"):
            a[idx] = v
        with pytest.raises(RuntimeError, match="shape mismatch: value tensor"):
            a.index_put_((idx,), v)
    assert a.tolist() == np.arange(12).reshape(3, 4).tolist()


# ------------------------------------------------------------------ 7. pointwise words

@pytest.mark.parametrize("call,words", [
    (lambda: torch.ceil(torch.tensor([True])), "\"ceil_vml_cpu\" not implemented for 'Bool'"),
    (lambda: torch.tensor([True]).floor_(), "\"floor_vml_cpu\" not implemented for 'Bool'"),
    (lambda: torch.round(torch.tensor([True])), "\"round_vml_cpu\" not implemented for 'Bool'"),
    (lambda: torch.fix(torch.tensor([True])), "\"trunc_vml_cpu\" not implemented for 'Bool'"),
    (lambda: torch.frac(torch.tensor([1])), "\"frac_cpu\" not implemented for 'Long'"),
    (lambda: torch.round(torch.tensor([1]), decimals=1),
     "\"round_cpu\" not implemented for 'Long'"),
    (lambda: torch.hypot(torch.tensor([1]), torch.tensor([1])),
     "\"hypot_cpu\" not implemented for 'Long'"),
    (lambda: torch.nextafter(torch.tensor([1]), torch.tensor([1])),
     "\"nextafter_cpu\" not implemented for 'Long'"),
    (lambda: torch.fmod(torch.tensor([True]), torch.tensor([True])),
     "\"fmod_cpu\" not implemented for 'Bool'"),
    (lambda: torch.remainder(torch.tensor([True]), torch.tensor([True])),
     "\"remainder_cpu\" not implemented for 'Bool'"),
    (lambda: torch.floor_divide(torch.tensor([True]), torch.tensor([True])),
     "\"div_floor_cpu\" not implemented for 'Bool'"),
    (lambda: torch.gcd(torch.ones(2), torch.ones(2)), "\"gcd_cpu\" not implemented for 'Float'"),
    (lambda: torch.lcm(torch.ones(2), torch.ones(2)), "\"lcm_cpu\" not implemented for 'Float'"),
    (lambda: torch.logaddexp(torch.tensor([1]), torch.tensor([1])),
     "\"logaddexp_cpu\" not implemented for 'Long'"),
    (lambda: torch.logaddexp2(torch.tensor([True]), torch.tensor([True])),
     "\"logaddexp2_cpu\" not implemented for 'Bool'"),
    (lambda: torch.lerp(torch.tensor([1]), torch.tensor([1]), 0.5),
     "\"lerp_kernel_scalar\" not implemented for 'Long'"),
    (lambda: torch.lerp(torch.tensor([1]), torch.tensor([1]), torch.tensor([1])),
     "\"lerp_kernel_tensor\" not implemented for 'Long'"),
    (lambda: torch.igammac(torch.tensor([1]), torch.tensor([1])),
     "\"igammac_cpu\" not implemented for 'Long'"),
])
def test_pointwise_dtype_refusals_name_torchs_kernels(call, words):
    with pytest.raises(NotImplementedError) as e:
        call()
    assert str(e.value) == words


def test_igamma_edges_and_inplace_words():
    nan, inf = float("nan"), float("inf")
    a = torch.tensor([0.0, 0.0, 1.0, inf, inf, 2.0], dtype=torch.float64)
    x = torch.tensor([0.0, 1.0, 0.0, inf, 1.0, inf], dtype=torch.float64)
    np.testing.assert_array_equal(torch.igamma(a, x).numpy(), [nan, 1, 0, nan, 0, 1])
    np.testing.assert_array_equal(torch.igammac(a, x).numpy(), [nan, 0, 1, nan, 1, 0])
    with pytest.raises(RuntimeError, match="^output with shape \\[3\\] doesn't match the "
                                           "broadcast shape \\[2, 3\\]$"):
        torch.ones(3).add_(torch.ones(2, 3))
    with pytest.raises(RuntimeError, match="^div expected rounding_mode to be one of None, "
                                           "'trunc', or 'floor' but found 'round'$"):
        torch.div(torch.ones(2), 2, rounding_mode="round")
    for call, name in ((lambda t: t.clamp_(0.5), "long int"),
                       (lambda t: t.clamp_min_(0.5), "long int"),
                       (lambda t: t.clip_(0.5, 1.5), "long int"),
                       (lambda t: t.clamp_(torch.tensor(0.5)), "Long"),
                       (lambda t: t.add_(0.5), "Long")):
        with pytest.raises(RuntimeError, match=f"^result type Float can't be cast to the "
                                               f"desired output type {name}$"):
            call(torch.ones(2, dtype=torch.int64))
    with pytest.raises(RuntimeError, match="desired output type unsigned char$"):
        torch.ones(2, dtype=torch.uint8).clamp_max_(0.5)


# ------------------------------------------------------------------ 8. autograd API

FREED = "Trying to backward through the graph a second time"


@pytest.mark.parametrize("f,again", [
    (lambda x: x * 2, False), (lambda x: 2 * x, False), (lambda x: x / 2, False),
    (lambda x: 1 / x, False), (lambda x: x.clamp(0), False),
    (lambda x: torch.where(x > 1, x, 0.0), False), (lambda x: x.masked_fill(x > 1, 0.0), False),
    (lambda x: x * torch.tensor(2.0), False),
    (lambda x: x + 1, True), (lambda x: x - 1, True), (lambda x: 1 - x, True),
    (lambda x: x.fmod(2), True), (lambda x: x.add(1, alpha=2), True),
])
def test_second_backward_through_a_saved_number(f, again):
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = f(x).sum()
    y.backward()
    if again:
        y.backward()
    else:
        with pytest.raises(RuntimeError, match=FREED):
            y.backward()
    y = f(x).sum()
    y.backward(retain_graph=True)
    y.backward()


def test_grad_checks_outputs_first_and_post_accumulate_hook_words():
    x = torch.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="^element 0 of tensors does not require grad and "
                                           "does not have a grad_fn$"):
        torch.autograd.grad((x * 2).sum(), x)
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="One of the differentiated Tensors does not "
                                           "require grad"):
        torch.autograd.grad((w * 2).sum(), x)
    w.register_post_accumulate_grad_hook(lambda p: p.grad.mul_(2))
    with pytest.raises(RuntimeError, match="^Tensor post accumulate grad hooks should return "
                                           "None.$"):
        (w * 3).sum().backward()
    assert w.grad.tolist() == [6.0, 6.0]


# ------------------------------------------------------------------ 9. composite names

@pytest.mark.parametrize("call,name", [
    (lambda x: x.movedim(0, 1), "PermuteBackward0"),
    (lambda x: x.moveaxis([0], [1]), "PermuteBackward0"),
    (lambda x: x.swapaxes(0, 1), "TransposeBackward0"),
    (lambda x: x.swapdims(0, 1), "TransposeBackward0"),
    (lambda x: x.take_along_dim(torch.tensor([[0], [1], [0]]), 1), "GatherBackward0"),
    (lambda x: torch.kron(x, x), "UnsafeViewBackward0"),
    (lambda x: x.t().ravel(), "ViewBackward0"),
    (lambda x: x.unflatten(1, (2, 2)), "ViewBackward0"),
    (lambda x: x.hsplit(2)[0], "SliceBackward0"),
    (lambda x: x.vsplit([1])[0], "SliceBackward0"),
    (lambda x: torch.hstack([x, x]), "CatBackward0"),
    (lambda x: torch.column_stack([x, x]), "CatBackward0"),
    (lambda x: torch.atleast_3d(x), "UnsqueezeBackward0"),
    (lambda x: torch.atleast_2d(x[0, 0]), "ViewBackward0"),
    (lambda x: torch.cartesian_prod(x[0], x[1]), "StackBackward0"),
    (lambda x: x.tile(2), "RepeatBackward0"),
    (lambda x: x.fliplr(), "FlipBackward0"),
    (lambda x: torch.trapezoid(x), "MulBackward1"),
    (lambda x: torch.trapezoid(x, torch.arange(4.0, dtype=torch.float64)), "DivBackward1"),
    (lambda x: torch.cumulative_trapezoid(x), "CumsumBackward0"),
    (lambda x: torch.diff(x, n=2), "SubBackward0"),
    (lambda x: torch.msort(x), "SortBackward0"),
    (lambda x: torch.inner(x, x), "ViewBackward0"),
    (lambda x: torch.inner(x[0, 0], x), "MulBackward0"),
    (lambda x: torch.tensordot(x, x, ([1], [1])), "ViewBackward0"),
    (lambda x: torch.special.ndtr(x), "MulBackward1"),
    (lambda x: x.sum_to_size(1, 4), "SumBackward1"),
    (lambda x: x.median(1)[0], "MedianBackward1"),
    (lambda x: x.nanmedian(0)[0], "NanmedianBackward1"),
    (lambda x: x.scatter(1, torch.tensor([[0], [1], [2]]), 0.5), "ScatterBackward1"),
    (lambda x: x.scatter(1, torch.tensor([[0], [1], [2]]), x[:, :1]), "ScatterBackward0"),
    (lambda x: x.index_fill(1, torch.tensor([0]), torch.tensor(1.0, dtype=torch.float64)),
     "IndexFillBackward1"),
])
def test_composite_node_names(call, name):
    x = torch.rand(3, 4, dtype=torch.float64, requires_grad=True)
    assert call(x).grad_fn.name() == name


def test_scatter_with_reduce_has_no_derivative():
    import warnings
    from gpujit.ops import shape_index
    x = torch.rand(3, 4, dtype=torch.float64, requires_grad=True)
    i = torch.tensor([[0], [1], [2]])
    shape_index._REDUCE_WARNED.clear()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        y = x.scatter(1, i, x[:, :1], reduce="multiply")
        x.scatter(1, i, x[:, :1], reduce="add")
    assert [str(a.message) for a in w] == [
        "The reduce argument of torch.scatter with Tensor src is deprecated and will be "
        "removed in a future PyTorch release. Use torch.scatter_reduce instead for more "
        "reduction options."]
    assert y.grad_fn.name() == "torch::autograd::NotImplemented"
    with pytest.raises(RuntimeError, match="^derivative for aten::scatter is not implemented$"):
        y.sum().backward()
    y = (x * 1).scatter_(1, i, 2.0, reduce="add")
    with pytest.raises(RuntimeError, match="^derivative for aten::scatter_ is not implemented$"):
        y.sum().backward()


# ------------------------------------------------------------------ 10. glu

def test_glu_is_one_node():
    x = torch.tensor([[1.0, -2.0, 0.5, 3.0]], requires_grad=True)
    y = torch.nn.functional.glu(x)
    assert y.grad_fn.name() == "GluBackward0"
    assert [n.name() for n, _ in y.grad_fn.next_functions] == [ACC]
    # torch 2.13's float32 bits: a * (1 / (1 + exp(-b)))
    assert y.detach().numpy().view(np.int32).tolist() == [[1059019135, -1074537498]]
    y.backward(torch.tensor([[1.0, 2.0]]))
    np.testing.assert_allclose(x.grad.numpy(), [[0.62245935, 1.90514827, 0.23500371, -0.18070662]],
                               rtol=1e-6)
    with pytest.raises(RuntimeError, match="^Halving dimension must be even, but dimension 1 "
                                           "is size 3$"):
        torch.nn.functional.glu(torch.ones(2, 3))
    with pytest.raises(NotImplementedError, match="^\"glu_cpu\" not implemented for 'Long'$"):
        torch.nn.functional.glu(torch.ones(4, dtype=torch.int64))


# ------------------------------------------------------------------ 11. views, out=, conversions

def test_out_matmul_conversion_and_view_words():
    with pytest.raises(RuntimeError, match="^Expected out tensor to have dtype float, but got "
                                           "double instead$"):
        torch.matmul(torch.ones(2, 3), torch.ones(3, 2),
                     out=torch.empty(2, 2, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="^result dtype Double does not match input dtype "
                                           "Float$"):
        torch.matmul(torch.ones(3), torch.ones(3), out=torch.empty((), dtype=torch.float64))
    with pytest.raises(RuntimeError, match="^addmv input tensors must have the same dtype"):
        torch.matmul(torch.ones(2, 3), torch.ones(3), out=torch.empty(2, dtype=torch.int64))
    for conv in (int, float):
        with pytest.raises(ValueError, match="^only one element tensors can be converted to "
                                             "Python scalars$"):
            conv(torch.ones(2))
    with pytest.raises(RuntimeError, match="^Boolean value of Tensor with more than one value "
                                           "is ambiguous$"):
        bool(torch.ones(2))
    with pytest.raises(IndexError, match="long or byte Variables are valid indices \\(got "
                                         "float\\)"):
        torch.ones(3)[1.0]
    with pytest.raises(RuntimeError, match="^cannot reshape tensor of 0 elements into shape "
                                           "\\[-1, 0\\] because the unspecified dimension "
                                           "size -1 can be any value and is ambiguous$"):
        torch.ones(0, 3).view(-1, 0)
    with pytest.raises(RuntimeError, match="^shape '\\[5, -1\\]' is invalid for input of "
                                           "size 24$"):
        torch.ones(2, 3, 4).reshape(5, -1)


# ------------------------------------------------------------------ 12. soft_margin_loss

def test_soft_margin_loss_keeps_the_inputs_dtype_and_shape():
    x = torch.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    t64 = torch.tensor([[1.0, -1.0, 1.0]], dtype=torch.float64)
    y = F.soft_margin_loss(x, t64)
    assert y.dtype == torch.float32 and y.item() == pytest.approx(0.304756, abs=1e-6)
    (g,) = torch.autograd.grad(y, x)
    assert g.dtype == torch.float32
    np.testing.assert_allclose(g.numpy(), [[-0.1258, 0.0896, -0.0397]], atol=1e-4)
    r = F.soft_margin_loss(x, torch.tensor([1.0, -1.0, 1.0]), reduction="none")
    assert r.shape == (1, 3)
    with pytest.raises(RuntimeError, match="^output with shape \\[3\\] doesn't match the "
                                           "broadcast shape \\[2, 3\\]$"):
        F.soft_margin_loss(torch.ones(3), torch.ones(2, 3))
    for t in (torch.tensor([1, -1]), torch.tensor([1.0, -1.0])):
        with pytest.raises(RuntimeError, match="^result type Float can't be cast to the "
                                               "desired output type Long$"):
            F.soft_margin_loss(torch.tensor([1, 2]), t)


# ------------------------------------------------------------------ 13. loss dtypes

def test_loss_kernels_refuse_other_dtypes():
    x = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]])
    t = torch.tensor([0, 2])
    for dt, name in ((torch.float16, "Half"), (torch.int64, "Long")):
        with pytest.raises(NotImplementedError, match=f"^\"multi_margin_loss_cpu_kernel\" not "
                                                      f"implemented for '{name}'$"):
            F.multi_margin_loss(x.to(dt), t)
        with pytest.raises(NotImplementedError, match="^\"multilabel_margin_loss_forward_out_"
                                                      f"frame\" not implemented for '{name}'$"):
            F.multilabel_margin_loss(x.to(dt), torch.tensor([[0, -1, 1], [2, 1, -1]]))
    with pytest.raises(RuntimeError, match="^expected scalar type Float but found Double$"):
        F.multi_margin_loss(x, t, weight=torch.ones(3, dtype=torch.float64))
    with pytest.raises(NotImplementedError, match="^\"pdist\" not implemented for 'Half'$"):
        F.pdist(x.half())
    with pytest.raises(RuntimeError, match="^All tensors must have the same dtype, got input1: "
                                           "float, input2: double, weight: float$"):
        F.bilinear(x, x.double(), torch.ones(2, 3, 3))
    with pytest.raises(RuntimeError, match="weight: float, bias: c10::Half$"):
        F.bilinear(x, x, torch.ones(2, 3, 3), torch.ones(2, dtype=torch.float16))
    assert F.multi_margin_loss(x.double(), t).dtype == torch.float64


# ------------------------------------------------------------------ 14. slice steps

def test_slice_step_words():
    x = torch.arange(6)
    with pytest.raises(ValueError, match="^step must be greater than zero$"):
        x[::-1]
    with pytest.raises(ValueError, match="^slice step cannot be zero$"):
        x[::0]
    with pytest.raises(RuntimeError, match="^slice step must be positive$"):
        torch.ops.aten.slice(x, 0, 0, 6, -1)
    assert x[1::2].tolist() == [1, 3, 5]


# ------------------------------------------------------------------ 15. in-place view ops

@pytest.mark.parametrize("call,name", [
    (lambda y: y.sum(0).t_(), "TBackward1"), (lambda y: y.transpose_(1, 2), "TransposeBackward1"),
    (lambda y: y.swapdims_(1, 2), "TransposeBackward1"), (lambda y: y.squeeze_(), "SqueezeBackward3"),
    (lambda y: y.squeeze_(0), "SqueezeBackward4"), (lambda y: y.squeeze_((0,)), "SqueezeBackward5"),
    (lambda y: y.unsqueeze_(0), "UnsqueezeBackward1"),
    (lambda y: y.as_strided_((2,), (1,)), "AsStridedBackward1"),
])
def test_inplace_view_node_names(call, name):
    x = torch.ones(1, 2, 3, requires_grad=True)
    assert call(x.clone()).grad_fn.name() == name
