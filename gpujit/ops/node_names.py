"""PyTorch's names of the autograd nodes (`grad_fn`) of ops, where they are not the op's own
name in CamelCase (`aten::mul.Tensor` -> MulBackward0).

A user sees these names in every printed tensor that requires grad
(`tensor(2.27, grad_fn=<NllLossBackward0>)`) and in `type(t.grad_fn).__name__`. PyTorch
names a node after the derivatives.yaml entry of the op that made it, with the overload's
index in that file (`sum.dim_IntList` -> SumBackward1); a composite op (`linear`,
`cross_entropy`, `matmul`, `flatten`) shows the node of the last ATen op it decomposes
into, which can depend on the inputs' shapes. A rule here is that name or a function of
the call's bound arguments and result giving it."""
from __future__ import annotations

import re
import threading

import numpy as np


def camel(base: str) -> str:
    """PyTorch's CamelCase of an op name: words capitalized, and a letter after a digit
    too (log1p -> Log1P, im2col -> Im2Col, max_pool2d -> MaxPool2D)."""
    s = "".join(p[:1].upper() + p[1:] for p in base.split("_") if p)
    return re.sub(r"(?<=\d)[a-z]", lambda m: m.group(0).upper(), s)


def _tensor(v):
    return hasattr(v, "_data") and hasattr(v, "_dtype")


def _ndim(v):
    return v._data.ndim if _tensor(v) else 0


def _view_or_copy(b, result):
    # reshape/flatten: a view of a contiguous self, _reshape_alias of another whose strides
    # allow one, else a copy (_unsafe_view)
    r = result[0] if isinstance(result, tuple) else result
    src = b["self"]._data
    same = r._data.base is not None and (r._data.base is src or r._data.base is src.base)
    if not same:
        return "UnsafeViewBackward0"
    return "ViewBackward0" if src.flags.c_contiguous or not src.size \
        else "ReshapeAliasBackward0"


def _linear(b, result):
    # torch's linear: addmm(bias, x, w.t()) for a 2-D x; _flatten_nd_linear (addmm, then
    # a view) for another contiguous x with a 1-D bias; else matmul(x, w.t()) (dot / mv
    # for a 1-D weight), then add_(bias)
    x, bias = b["input"], b.get("bias")
    xd = x._data.ndim
    if bias is None:
        if b["weight"]._data.ndim == 1:
            return "DotBackward0" if xd == 1 else "MvBackward0" if xd == 2 \
                else "UnsafeViewBackward0"
        return "MmBackward0" if xd == 2 else "SqueezeBackward4" if xd == 1 \
            else "UnsafeViewBackward0"
    if xd == 2:
        return "AddmmBackward0"
    if x._data.flags.c_contiguous and bias._data.ndim == 1:
        return "ViewBackward0"
    return "AddBackward0"


_MATMUL = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4",
           (2, 2): "MmBackward0", (2, 3): "CloneBackward0"}


def _matmul(b, result):
    return _MATMUL.get((_ndim(b["self"]), _ndim(b["other"])), "UnsafeViewBackward0")


def _nll(b, result):
    nd = _ndim(b["self"])
    if nd < 3:
        return "NllLossBackward0"
    # (nll_loss_nd of a 3-D or 5+-D input reshapes it for nll_loss2d: 'none' views the
    # result back)
    if b.get("reduction", 1) == 0 and nd != 4:
        return "ViewBackward0"
    return "NllLoss2DBackward0"


def _cross_entropy(b, result):
    # class indices: log_softmax then nll_loss, and with label smoothing the mix of both
    # losses, `(1 - eps) * nll + smooth * (eps / C)`; class probabilities: -(logp * q)
    # summed, divided by the rows for 'mean'
    if b["target"]._dtype.category != b["self"]._dtype.category:
        return "AddBackward0" if b.get("label_smoothing") else _nll(b, result)
    return "DivBackward1" if b.get("reduction", 1) == 1 else "NegBackward0"


def _kl_div(b, result):
    # (a composite: log_target: exp(t) * (t - x), else xlogy(t, t) - t * x; then reduced)
    r = b.get("reduction", 1)
    if r == 0:
        return "MulBackward0" if b.get("log_target") else "SubBackward0"
    return "MeanBackward0" if r == 1 else "SumBackward0"


def _conv(batched_ndim):
    def rule(b, result):
        # (an unbatched input: unsqueezed, convolved, squeezed back)
        return "SqueezeBackward1" if _ndim(b["input"]) == batched_ndim - 1 \
            else "ConvolutionBackward0"
    return rule


def _pow(b, result):
    if not _tensor(b["self"]):
        return "PowBackward2"
    return "PowBackward1" if _tensor(b["exponent"]) else "PowBackward0"


def _div(b, result):
    if _tensor(b["self"]):
        return "DivBackward0"
    # a number divided by a tensor: the reciprocal times the number (mul.Scalar in
    # scripted code, mul.Tensor of the wrapped number in eager code)
    return "MulBackward1" if SCRIPTED.on else "MulBackward0"


def _squeeze(b, result):
    d = b.get("dim")
    return "SqueezeBackward0" if d is None else (
        "SqueezeBackward1" if isinstance(d, int) else "SqueezeBackward2")


def _adaptive_avg(n):
    def rule(b, result):
        size = b["output_size"]
        size = (size,) * n if isinstance(size, int) else tuple(size)
        if n == 1:
            return "SqueezeBackward1"       # (as a 2-D pool of an unsqueezed input)
        if all(s == 1 for s in size):
            return "MeanBackward1"          # PyTorch takes a 1x1 output as a mean
        return camel(f"adaptive_avg_pool{n}d") + "Backward0"
    return rule


def _pad(b, result):
    mode = b.get("mode", "constant")
    n = len(b["pad"]) // 2
    if mode == "constant":
        return "ConstantPadNdBackward0"
    if mode in ("reflect", "replicate"):
        word = "Reflection" if mode == "reflect" else "Replication"
        return f"{word}Pad{n}DBackward0"
    return "CopySlices"                 # circular: slices copied into the output


def _l1(b, result):
    return ("AbsBackward0", "MeanBackward0", "SumBackward0")[b.get("reduction", 1)]


def _matrix_norm(b, result):
    # torch's linalg_matrix_norm composite: 'fro' is vector_norm; 'nuc' and +-2 reduce the
    # singular values (svdvals(...).sum / amax / amin over the last dim), then with
    # keepdim unsqueeze and permute back; +-1 / +-inf are abs().sum(...).amax / amin
    o = b.get("ord", "fro")
    if o == "fro":
        return "LinalgVectorNormBackward0"
    if o == "nuc" or abs(float(o)) == 2:
        if b.get("keepdim", False):
            return "PermuteBackward0"
        return "SumBackward1" if o == "nuc" else (
            "AmaxBackward0" if float(o) > 0 else "AminBackward0")
    return "AmaxBackward0" if float(o) > 0 else "AminBackward0"


def _linalg_norm(b, result):
    # torch's linalg_norm: a matrix norm for an ord with two dims (or none, of a matrix),
    # else vector_norm (ord None: the 2-norm, always a vector norm)
    o, dim = b.get("ord"), b.get("dim")
    if o is not None and ((dim is not None and not isinstance(dim, int) and len(dim) == 2) or (
            dim is None and _ndim(b["self"]) == 2)):
        return _matrix_norm(b, result)
    return "LinalgVectorNormBackward0"


def _nuclear_norm(b, result):
    return "PermuteBackward0" if b.get("keepdim", False) else "SumBackward1"


def _einsum(b, result):
    """torch.einsum is a composite (CompositeImplicitAutograd): one operand is a permute
    (after diagonals), or a sum when an index is summed; several are contracted left to
    right in pairs (sumproduct_pair, summing the indices no later operand nor the output
    keeps), and the last pair is a bmm viewed back (ViewBackward0) when it sums an
    index, else a mul (an outer or elementwise product: MulBackward0)."""
    lhs, arrow, rhs = b["equation"].replace(" ", "").partition("->")
    terms = [{c for c in t if c.isalpha()} for t in lhs.split(",")]
    if arrow:
        out = {c for c in rhs if c.isalpha()}
    else:       # (implicit output: the indices that appear once)
        letters = [c for t in lhs.split(",") for c in t if c.isalpha()]
        out = {c for c in letters if letters.count(c) == 1}
    if len(terms) == 1:
        return "SumBackward1" if terms[0] - out else "PermuteBackward0"
    left, summed = terms[0], set()
    for i in range(1, len(terms)):
        keep = out.union(*terms[i + 1:])
        summed = (left | terms[i]) - keep
        left = (left | terms[i]) - summed
    return "ViewBackward0" if summed else "MulBackward0"


RULES = {
    "aten::einsum": _einsum,
    "aten::sum.dim_IntList": "SumBackward1",
    "aten::mean.dim": "MeanBackward1",
    "aten::prod.dim_int": "ProdBackward1",
    "aten::max": "MaxBackward1",
    "aten::min": "MinBackward1",
    "aten::to.dtype": "ToCopyBackward0",
    "aten::type_as": "ToCopyBackward0",
    "aten::to.device": "ToCopyBackward0",
    "aten::to.other": "ToCopyBackward0",
    "aten::to.dtype_layout": "ToCopyBackward0",
    "aten::to.prim_Device": "ToCopyBackward0",     # (TorchScript's scripted x.to(d))
    "aten::to.prim_dtype": "ToCopyBackward0",
    "aten::to.prim_other": "ToCopyBackward0",
    "aten::contiguous": "CloneBackward0",
    "aten::copy": "CopyBackwards",          # copy_ (a hand-written node in PyTorch)
    "aten::fill.Tensor": "FillBackward1",
    "aten::fill_.Scalar": "FillBackward2",   # (in-place fills have their own entries)
    "aten::fill_.Tensor": "FillBackward3",
    "aten::clamp": "ClampBackward1",
    "aten::clip": "ClampBackward1",
    "aten::clamp.Tensor": "ClampBackward0",
    "aten::max.other": "MaximumBackward0",      # (torch.max(x, y) is maximum)
    "aten::min.other": "MinimumBackward0",
    "aten::clip.Tensor": "ClampBackward0",
    "aten::pow.Tensor_Tensor": _pow,
    "aten::rsub.Tensor": lambda b, r: "RsubBackward0" if _tensor(b["other"])
    else "RsubBackward1",
    "aten::square": "PowBackward0",
    # a number divided by a tensor: PyTorch multiplies by the reciprocal
    "aten::div.Tensor": _div,
    "aten::div.Tensor_mode": "DivBackward2",      # (rounding_mode=None given too)
    # (a dim of size 0: torch's chunk runs split_with_sizes of zeros)
    "aten::chunk": lambda b, r: "SplitWithSizesBackward0"
    if b["self"]._data.shape[b.get("dim", 0)] == 0 else "SplitBackward0",
    "aten::narrow": "SliceBackward0", "aten::narrow.Tensor": "SliceBackward0",
    "aten::tensor_split.sections": "SliceBackward0",
    "aten::tensor_split.indices": "SliceBackward0",
    "aten::tensor_split.tensor_indices_or_sections": "SliceBackward0",
    "aten::squeeze": _squeeze, "aten::squeeze.dim": _squeeze, "aten::squeeze.dims": _squeeze,
    "aten::selu": "EluBackward0",
    # (the in-place leaky_relu_ / elu_ have their own derivatives.yaml entries, of the
    # result; selu_ and celu_ run elu_)
    "aten::leaky_relu_": "LeakyReluBackward1",
    "aten::elu_": "EluBackward1",
    "aten::selu_": "EluBackward1",
    "aten::celu_": "CeluBackward1",
    "aten::relu6": "HardtanhBackward0",
    "aten::threshold_": "ThresholdBackward1",
    "aten::log_sigmoid_forward": "LogSigmoidBackward0",     # (derivatives.yaml's threshold_ entry)
    "aten::rrelu": "RreluWithNoiseBackward0",
    "aten::rrelu_": "RreluWithNoiseBackward1",     # (of its result, as leaky_relu_)
    "aten::prelu": "PreluKernelBackward0",
    "aten::outer": "MulBackward0",
    # (CPU: input * noise; CUDA: native_dropout's node, the op's own, see its composite)
    "aten::dropout": lambda b, r: "MulBackward0" if b["input"]._data.__class__ is np.ndarray
    else "NativeDropoutBackward0",
    # (ATen's composite: input * noise, then .add_(b) for the alpha forms; p == 1 is
    # input * zeros(()) alone)
    **{f"aten::{n}{s}": (lambda b, r: "AddBackward0" if b["p"] != 1 else "MulBackward0")
       for n in ("alpha_dropout", "feature_alpha_dropout") for s in ("", "_")},
    "aten::feature_dropout": "MulBackward0",
    "aten::feature_dropout_": "MulBackward0",
    "aten::numpy_T": "PermuteBackward0",
    "aten::mT": "TransposeBackward0",
    # (a complex tensor's: the conjugate view of its transpose)
    "aten::mH": lambda b, r: "ConjBackward0" if b["self"]._dtype.cplx else "TransposeBackward0",
    "aten::adjoint": lambda b, r: "ConjBackward0" if b["self"]._dtype.cplx
    else "TransposeBackward0",
    "aten::matrix_H": lambda b, r: "ConjBackward0" if b["self"]._dtype.cplx
    else "TransposeBackward0",
    "aten::real": "SelectBackward0",    # (view_as_real(z).select(-1, 0 / 1) in torch)
    "aten::imag": "SelectBackward0",
    "aten::linear": _linear,
    "aten::matmul": _matmul,
    "aten::reshape": _view_or_copy,
    "aten::reshape_as": _view_or_copy,
    "aten::view_as": "ViewBackward0",           # (composites of view / expand in torch)
    "aten::expand_as": "ExpandBackward0",
    "aten::broadcast_to": "ExpandBackward0",
    "aten::broadcast_tensors": "ExpandBackward0",     # (an expand of each that grows)
    "aten::flatten.using_ints": _view_or_copy,
    "aten::nll_loss": _nll,
    "aten::nll_loss_nd": _nll,
    "aten::cross_entropy_loss": _cross_entropy,
    "aten::l1_loss": _l1,
    "aten::pad": _pad,
    "aten::batch_norm": "NativeBatchNormBackward0",
    "aten::layer_norm": "NativeLayerNormBackward0",
    "aten::group_norm": "NativeGroupNormBackward0",
    "aten::instance_norm": "ViewBackward0",
    "aten::max_pool1d": "SqueezeBackward1",
    "aten::avg_pool1d": "SqueezeBackward1",
    "aten::max_pool2d": "MaxPool2DWithIndicesBackward0",
    "aten::max_pool3d": "MaxPool3DWithIndicesBackward0",
    "aten::adaptive_avg_pool1d": _adaptive_avg(1),
    "aten::adaptive_avg_pool2d": _adaptive_avg(2),
    "aten::adaptive_avg_pool3d": _adaptive_avg(3),
    # (torch.diag of a matrix is diagonal_copy's node, as PyTorch 2.13 names it)
    "aten::diag": lambda b, r: "DiagEmbedBackward0" if _ndim(b["self"]) == 1
    else "DiagonalBackward0_copy",
    "aten::diagflat": "DiagEmbedBackward0",
    "aten::linalg_matrix_norm": _matrix_norm,
    "aten::linalg_matrix_norm.str_ord": _matrix_norm,
    "aten::linalg_norm": _linalg_norm,
    "aten::linalg_norm.ord_str": _matrix_norm,
    "aten::nuclear_norm": _nuclear_norm,
    "aten::nuclear_norm.dim": _nuclear_norm,
    # (derivatives.yaml's later overloads, and composites: the node of their last op)
    "aten::median.dim": "MedianBackward1",
    "aten::nanmedian.dim": "NanmedianBackward1",
    "aten::scatter.value": "ScatterBackward1",
    "aten::scatter_.value": "ScatterBackward1",
    "aten::index_fill.int_Tensor": "IndexFillBackward1",
    "aten::index_fill_.int_Tensor": "IndexFillBackward1",
    # (of a 0-dim tensor: its alias)
    **{f"aten::{_k}": (lambda b, r: "AliasBackward0" if _ndim(b["self"]) == 0
                       else "PermuteBackward0")
       for _k in ("movedim.int", "movedim.intlist", "moveaxis.int", "moveaxis.intlist")},
    "aten::swapaxes": "TransposeBackward0", "aten::swapdims": "TransposeBackward0",
    "aten::take_along_dim": "GatherBackward0",
    "aten::kron": "UnsafeViewBackward0",
    "aten::_fw_primal": "Identity",
    "aten::ravel": "ViewBackward0",
    "aten::unflatten.int": "ViewBackward0",
    "aten::hsplit.int": "SliceBackward0", "aten::hsplit.array": "SliceBackward0",
    "aten::vsplit.int": "SliceBackward0", "aten::vsplit.array": "SliceBackward0",
    "aten::dsplit.int": "SliceBackward0", "aten::dsplit.array": "SliceBackward0",
    "aten::hstack": "CatBackward0", "aten::vstack": "CatBackward0",
    "aten::dstack": "CatBackward0", "aten::column_stack": "CatBackward0",
    "aten::atleast_1d": "ViewBackward0",
    "aten::atleast_2d": lambda b, r: "ViewBackward0" if _ndim(b["self"]) == 0
    else "UnsqueezeBackward0",
    "aten::atleast_3d": lambda b, r: "ViewBackward0" if _ndim(b["self"]) == 0
    else "UnsqueezeBackward0",
    "aten::cartesian_prod": "StackBackward0",
    "aten::tile": "RepeatBackward0",
    "aten::fliplr": "FlipBackward0", "aten::flipud": "FlipBackward0",
    "aten::trapezoid.x": "DivBackward1", "aten::trapezoid.dx": "MulBackward1",
    "aten::trapz.x": "DivBackward1", "aten::trapz.dx": "MulBackward1",
    "aten::cumulative_trapezoid.x": "DivBackward1",
    "aten::cumulative_trapezoid.dx": "CumsumBackward0",
    "aten::diff": "SubBackward0",
    "aten::msort": "SortBackward0",
    "aten::inner": lambda b, r: "MulBackward0" if 0 in (_ndim(b["self"]), _ndim(b["other"]))
    else "ViewBackward0",
    "aten::tensordot": "ViewBackward0",
    "aten::special_ndtr": "MulBackward1",
    "aten::sum_to_size": "SumBackward1",
    # (the in-place view ops have their own derivatives.yaml entries, after the others)
    "aten::t_": "TBackward1",
    "aten::transpose_": "TransposeBackward1",
    "aten::unsqueeze_": "UnsqueezeBackward1",
    "aten::as_strided_": "AsStridedBackward1",
    **{"aten::squeeze_" + o: lambda b, r: "SqueezeBackward" + str(3 + int(_squeeze(b, r)[-1]))
       for o in ("", ".dim", ".dims")},
}
for _k in ("conv1d", "conv2d", "conv3d", "conv1d.padding", "conv2d.padding",
           "conv3d.padding", "conv_transpose1d", "conv_transpose2d.input",
           "conv_transpose3d.input"):
    RULES["aten::" + _k] = _conv(int(_k.split("d")[0][-1]) + 2)
RULES.update({
    # (derivatives.yaml's second convolution entry; _convolution_mode is a composite)
    "aten::_convolution": "ConvolutionBackward1",
    "aten::_convolution.deprecated": "ConvolutionBackward1",
    "aten::_convolution_mode": "ConvolutionBackward0",
    # (composites in PyTorch: the node of their last op)
    "aten::max_pool1d_with_indices": "SqueezeBackward1",
    "aten::adaptive_max_pool1d": "SqueezeBackward1",
    "aten::cosine_similarity": "SumBackward1",
    "aten::kl_div": _kl_div,
    # (composites of one view / op in PyTorch 2.13: its node)
    "aten::unsafe_chunk": "UnsafeSplitBackward0",
    "aten::frobenius_norm.dim": "NormBackward1",
    # (v.norm(pow) for dim -1, else norm(pow, dims) then a view to keep them)
    "aten::norm_except_dim": lambda b, r: "NormBackward0" if b["dim"] == -1
    else "ViewBackward0",
    # (the complex-to-real transforms: ATen's _fft_c2r, of a complex copy of the input)
    **{f"aten::fft_{n}": "FftC2RBackward0"
       for n in ("irfft", "irfft2", "irfftn", "hfft", "hfft2", "hfftn")},
    # (c2c of a complex input, r2c of a real one: ATen's _fft_c2c / _fft_r2c; ihfft* is
    # the conjugate of an r2c)
    **{f"aten::fft_{n}": lambda b, r: "FftC2CBackward0" if b["self"]._dtype.cplx
       else "FftR2CBackward0"
       for n in ("fft", "fft2", "fftn", "ifft", "ifft2", "ifftn")},
    **{f"aten::fft_{n}": "FftR2CBackward0" for n in ("rfft", "rfft2", "rfftn")},
    **{f"aten::fft_{n}": "ConjBackward0" for n in ("ihfft", "ihfft2", "ihfftn")},
    "aten::_autocast_to_full_precision": "ToCopyBackward0",
    "aten::_autocast_to_reduced_precision": "ToCopyBackward0",
    # (old names of linalg functions: the linalg op's node)
    "aten::cross": "LinalgCrossBackward0",
    "aten::matrix_exp": "LinalgMatrixExpBackward0",
    "aten::pinverse": "LinalgPinvBackward0",
    "aten::qr": "LinalgQrBackward0",
    "aten::slogdet": "LinalgSlogdetBackward0",
    "aten::orgqr": "LinalgHouseholderProductBackward0",
    "aten::_lu_with_info": "LinalgLuFactorExBackward0",
    "aten::linalg_svdvals": "LinalgSvdBackward0",
    # (linalg functions PyTorch 2.13 runs through their _ex / other linalg kernel:
    # linalg.inv / inverse, solve, cholesky, lu_factor record the _ex op's node, eigvalsh
    # linalg_eigh's, linalg.diagonal is torch.diagonal)
    "aten::linalg_inv": "LinalgInvExBackward0",
    "aten::linalg_solve": "LinalgSolveExBackward0",
    "aten::linalg_cholesky": "LinalgCholeskyExBackward0",
    "aten::linalg_lu_factor": "LinalgLuFactorExBackward0",
    "aten::linalg_eigvalsh": "LinalgEighBackward0",
    "aten::linalg_eigvals": "LinalgEigBackward0",
    "aten::linalg_diagonal": "DiagonalBackward0",
    "aten::clamp_max.Tensor": "ClampMaxBackward1",
    "aten::clamp_min.Tensor": "ClampMinBackward1",
    # (overloads with entries of their own in derivatives.yaml)
    "aten::sort.stable": "SortBackward1",
    "aten::round.decimals": "RoundBackward1",
    "aten::normal.Tensor_float": "NormalBackward1",
    "aten::normal.float_Tensor": "NormalBackward2",
    "aten::normal.Tensor_Tensor": "NormalBackward3",
    # (the view_copy ops: the view's node, suffixed)
    **{"aten::squeeze_copy" + o: lambda b, r: _squeeze(b, r) + "_copy"
       for o in ("", ".dim", ".dims")},
})
for _k in ("_cast_Byte", "_cast_Char", "_cast_Double", "_cast_Float", "_cast_Half",
           "_cast_Int", "_cast_Long", "_cast_Short"):
    RULES["aten::" + _k] = "ToCopyBackward0"       # (x.to(dtype) in PyTorch)
for _k in ("alias", "as_strided", "diagonal", "expand", "permute", "select.int",
           "slice.Tensor", "split.Tensor", "split_with_sizes", "t", "transpose.int",
           "unbind.int", "unfold", "unsqueeze", "view"):
    _b, _, _ov = _k.partition(".")
    RULES[f"aten::{_b}_copy" + (f".{_ov}" if _ov else "")] = camel(_b) + "Backward0_copy"

_CACHE: dict = {}

# A Python number for a Tensor operand: PyTorch runs the op's Scalar overload, whose node
# is the Scalar entry of derivatives.yaml (fmod.Scalar -> FmodBackward0, fmod.Tensor ->
# FmodBackward1). The overloads of a name in the order of derivatives.yaml (PyTorch 2.13),
# for the names with more than one entry that the registry runs with numbers:
DERIVATIVE_OVERLOADS = {
    "add": ("Tensor", "Scalar"), "sub": ("Tensor", "Scalar"), "mul": ("Tensor", "Scalar"),
    "div": ("Tensor", "Scalar", "Tensor_mode", "Scalar_mode"),
    "fmod": ("Scalar", "Tensor"), "remainder": ("Scalar", "Tensor"),
    "lerp": ("Scalar", "Tensor"), "masked_fill": ("Scalar", "Tensor"),
    "copysign": ("Tensor", "Scalar"),
    "xlogy": ("Tensor", "Scalar_Self", "Scalar_Other"),
    "special_xlog1py": ("", "self_scalar", "other_scalar"),
    "special_zeta": ("", "self_scalar", "other_scalar"),
}
# ... which eager code never reaches: PyTorch's Python bindings leave these overloads out
# (tools/autograd/gen_python_functions.py), so torch.mul(x, 2) wraps 2 in a tensor and
# is mul.Tensor's node; scripted code's schema matching picks mul.Scalar
NO_PYTHON_BINDING = frozenset({"add.Scalar", "sub.Scalar", "mul.Scalar", "div.Scalar",
                               "div.Scalar_mode"})


class _Scripted(threading.local):
    on = False      # set (by the interpreter) around a scripted call of a number operand


SCRIPTED = _Scripted()


class aten_scalars:
    """`with aten_scalars():` a Python number operand of the ops called inside is recorded
    as the Scalar overload's node (mul.Scalar's MulBackward1, no edge for the number), as
    the number arguments of ATen's C++ composites are (Integration.cpp's `y * 0.5`): for a
    registry composite written after one."""
    __slots__ = ("was",)

    def __enter__(self):
        self.was, SCRIPTED.on = SCRIPTED.on, True

    def __exit__(self, *exc):
        SCRIPTED.on = self.was


def _scalar_overload(base, overload, numbers):
    """The overload PyTorch's matching picks when the operands `numbers` are Python
    numbers: Tensor -> Scalar, Tensor_mode -> Scalar_mode; of two operands, the entry that
    names which one (xlogy.Scalar_Self, special_zeta.other_scalar)."""
    order = DERIVATIVE_OVERLOADS.get(base)
    if order is None:
        return None
    if len(numbers) == 1 and len(order) == 3:
        (name,) = numbers
        want = "self" if name in ("self", "input") else "other"
        return next((o for o in order if want in o.lower()), None)
    if numbers & {"self", "input"}:
        return None         # (a number first: no Scalar overload, see _div and _rsub)
    cand = overload.replace("Tensor", "Scalar", 1) if overload else None
    return cand if cand in order else None


def _numbers_rule(op, base, overload):
    """The naming rule of an op run with numbers for Tensor operands, or None."""
    operands = [p.name for p in op.schema.arguments
                if p.type.base == "Tensor" and not p.type.is_list and not p.kwarg_only]

    def rule(b, result, fallback):
        numbers = {n for n in operands if n in b and isinstance(b[n], (bool, int, float,
                                                                        complex))}
        if not numbers:
            return None
        ov = _scalar_overload(base, overload, numbers)
        if ov is None or (f"{base}.{ov}" in NO_PYTHON_BINDING and not SCRIPTED.on):
            return None
        return camel(base) + f"Backward{DERIVATIVE_OVERLOADS[base].index(ov)}"
    return rule if base in DERIVATIVE_OVERLOADS else None


class _WrappedNumber:
    """A Python number operand seen as the 0-dim tensor PyTorch's Python bindings wrap it
    in (for a rule asking whether an operand is a Tensor)."""
    _data = np.zeros(())
    _dtype = None


_WRAPPED = _WrappedNumber()
_DROPS: dict = {}           # (op, node name, number operands) -> bool


def drops_number_edges(op, bound, name, numbers) -> bool:
    """Whether the node `name` of a call of op with the Python number operands `numbers`
    is a Scalar overload's (rsub(x, 2) -> RsubBackward1, x ** 2 -> PowBackward0, mul in
    scripted code -> MulBackward1), whose numbers are Scalar arguments with no edge: its
    name is not the one the call gets with those numbers as tensors. False where PyTorch
    wraps the number in a tensor (x * 2.0 in eager code: MulBackward0, an edge to None)."""
    key = (op, name, numbers)
    got = _DROPS.get(key)
    if got is None:
        wrapped = {k: (_WRAPPED if k in numbers else v) for k, v in bound.items()}
        try:
            got = node_name(op, wrapped, None) != name
        except Exception:       # (a rule reading more of a tensor: edges kept)
            got = False
        _DROPS[key] = got
    return got


def node_name(op, bound, result) -> str:
    """The grad_fn name of a call of op (an in-place variant is named as its op)."""
    got = _CACHE.get(op)
    if got is None:
        base = op.schema.base_name.rstrip("_")
        overload = op.name.partition(".")[2]
        key = f"{op.name.partition('::')[0]}::{base}" + (f".{overload}" if overload else "")
        order = DERIVATIVE_OVERLOADS.get(base, ())
        own = f"{camel(base)}Backward{order.index(overload) if overload in order else 0}"
        rule = RULES.get(op.name) or RULES.get(key) or own
        if str(getattr(op.derivative, "not_implemented", "")).startswith("derivative for aten::"):
            # an op PyTorch has no derivatives.yaml entry for (floor_divide, bincount,
            # heaviside, histogram): its generic torch::autograd::NotImplemented node
            rule = "NotImplemented"
        got = _CACHE[op] = (rule, _numbers_rule(op, base, overload))
    rule, numbers = got
    if numbers is not None:
        name = numbers(bound, result, rule)
        if name is not None:
            return name
    return rule if isinstance(rule, str) else rule(bound, result)
