"""PyTorch's dtype rules for `out=` tensors beyond "the result casts to out's dtype".

`out_variants.write_out` lets an op's result go into any out tensor its dtype casts to
(`torch.add(a, b, out=double_tensor)`, TensorIterator's rule). Many ATen kernels are
stricter, each with its own message: structured kernels with a fixed result dtype want out
of that dtype exactly (`argmax`, `isin`, `gather`, `mm`...: "Expected out tensor to have
dtype long int, but got float instead"), some want a bool out (`signbit`), a Long one
(`nonzero`, `multinomial`), the input's dtype (`index_select`, `take`, `quantile`,
`histc`)... `check(name, inputs, results, outs)` raises the error torch 2.13 raises for op
`name` (a schema name, `aten::argmax`) or returns. It runs on out= calls only (no cost on
functional calls), after the op computed its results (whose dtypes the rules read).
"""
from __future__ import annotations

from .. import dtypes as _dt

__all__ = ["check"]


def _cpp(dt):
    return _dt.CPP_NAMES.get(dt.name, dt.name)


def _self(inputs):
    from .registry import _Tensor
    for a in inputs:
        if isinstance(a, _Tensor):
            return a
    return None


def _exact(name, inputs, r, o):
    if r.dtype != o.dtype:
        return RuntimeError, (f"Expected out tensor to have dtype {_cpp(r.dtype)}, but got "
                              f"{_cpp(o.dtype)} instead")


def _boolean(name, inputs, r, o):
    if o.dtype is not _dt.bool:
        return RuntimeError, f"{name} does not support non-boolean outputs."


def _long(fmt):
    def rule(name, inputs, r, o):
        if o.dtype is not _dt.int64:
            return RuntimeError, fmt.format(name=name, o=o.dtype.short_name)
    return rule


def _searchsorted(name, inputs, r, o):
    want = _dt.int32 if r.dtype is _dt.int32 else _dt.int64
    if o.dtype is not want:
        return RuntimeError, (
            "torch.searchsorted(): output tensor's dtype is wrong, it can only be "
            "Int(int32) or Long(int64) depending on whether out_int32 flag is True, but we "
            f"got output tensor's dtype {o.dtype.short_name} and out_int32 flag is "
            f"{want is _dt.int32}")


def _like_input(fmt, exc=RuntimeError):
    """out must have the input's (first tensor argument's) dtype."""
    def rule(name, inputs, r, o):
        x = _self(inputs)
        if x is None:
            return None
        i = x.dtype
        if o.dtype != i:
            return exc, fmt.format(name=name, i=i.short_name, o=o.dtype.short_name,
                                   ic=_cpp(i), oc=_cpp(o.dtype))
    return rule


def _like_result(fmt):
    def rule(name, inputs, r, o):
        if o.dtype != r.dtype:
            return RuntimeError, fmt.format(name=name, r=r.dtype.short_name,
                                            o=o.dtype.short_name, rc=_cpp(r.dtype),
                                            oc=_cpp(o.dtype))
    return rule


def _cat(name, inputs, r, o):
    if not _dt.can_cast(r.dtype, o.dtype):
        return TypeError, (f"torch.cat(): input types can't be cast to the desired output "
                           f"type {o.dtype.short_name}")


def _mv(name, inputs, r, o):
    x, v = inputs[0], inputs[1]
    if not (o.dtype == x.dtype == v.dtype):
        return RuntimeError, (f"addmv input tensors must have the same dtype, but got "
                              f"{o.dtype.short_name}, {x.dtype.short_name}, and "
                              f"{v.dtype.short_name}")


def _unary_same(name, inputs, r, o):
    """TensorIterator's unary_op (abs, neg, sign, floor, round, bitwise_not ...) and clamp
    with number bounds: every operand of one dtype, the input's (clamp: its result's, a
    number promoting it), out too, before the kernel's own dtype check ("Found dtype Long
    but expected Int"; abs(bool_tensor, out=uint8_tensor): "... expected Bool")."""
    x = _self(inputs)
    if x is None:
        return None
    if name == "clamp":
        if r is None or any(isinstance(a, type(x)) for a in inputs[1:]):
            return None         # (clamp.Tensor: TensorIterator casts into out)
        want = r.dtype
    else:
        if name in ("neg", "negative") and x.dtype is _dt.bool:
            return None         # (neg's refusal of bool comes first)
        want = x.dtype
        if name == "abs" and x.dtype.is_complex and o.dtype is x.dtype.to_real():
            return None     # (ATen's unary_op_impl_with_complex_to_float_out: either)
    if o.dtype != want:
        return RuntimeError, f"Found dtype {o.dtype.short_name} but expected {want.short_name}"


def _nan_to_num(name, inputs, r, o):
    x = _self(inputs)
    if x is not None and o.dtype != x.dtype:
        return RuntimeError, (f"nan_to_num: dtype of out: {o.dtype.short_name} should be "
                              f"same as input: {x.dtype.short_name}")


_SAME_AS_INPUT = "{name}(): self and result must have the same scalar type"
_MATRIX_NORM = _like_result("linalg.matrix_norm expected out tensor dtype {r} but got: {o}")
_QUANTILE = _like_input("quantile() out tensor must be same dtype as the input tensor")
_HIST = _like_input("torch.histogram: input tensor and hist tensor should have the same "
                    "dtype, but got input {ic} and hist {oc}")
_DOT = _like_input("result dtype {o} does not match input dtype {i}")


def _matmul(name, inputs, r, o):
    """matmul's out= is the check of the op its decomposition reaches: dot's for two
    vectors, addmv's for a matrix and a vector, else mm / bmm's exact dtype."""
    a, b = inputs[0], inputs[1]
    na, nb = len(a.shape), len(b.shape)
    if na == 1 and nb == 1:
        return _DOT(name, inputs, r, o)
    if na == 2 and nb == 1:
        return _mv(name, inputs, r, o)
    i = r.dtype if r is not None else a.dtype
    if o.dtype != i:
        return RuntimeError, (f"Expected out tensor to have dtype {_cpp(i)}, but got "
                              f"{_cpp(o.dtype)} instead")
_AMAX = _like_input("Expected the dtype for input and out to match, but got {i} for "
                    "input's dtype and {o} for out's dtype.")

# schema name -> rule(name, inputs, result, out) -> (exception class, message) or None
_RULES = {n: _exact for n in (
    "addmm addmv alias_copy argmax argmin argsort as_strided_copy baddbmm bmm cross "
    "detach_copy diag diagonal_copy expand_copy frobenius_norm gather index_add index_copy "
    "index_reduce isin linalg_cholesky linalg_cross linalg_det linalg_eigvalsh linalg_inv "
    "linalg_ldl_solve linalg_lu_solve linalg_matrix_power linalg_solve linalg_svdvals "
    "linalg_vector_norm lu_solve mm msort permute_copy renorm scatter scatter_add "
    "scatter_reduce select_copy slice_copy slice_scatter squeeze_copy t_copy "
    "take_along_dim transpose_copy tril triu unfold_copy unsqueeze_copy view_copy").split()}
_RULES.update({
    "signbit": _boolean, "isposinf": _boolean, "isneginf": _boolean,
    "searchsorted": _searchsorted, "bucketize": _searchsorted,
    "nonzero": _long("{name}: Expected out tensor to have scalar type Long but got scalar "
                     "type{o}"),
    "nonzero_static": _long("{name}: Expected out tensor to have scalar type Long but got "
                            "scalar type{o}"),
    "multinomial": _long("multinomial expects Long tensor out, got: {o}"),
    "histc": _HIST, "amax": _AMAX, "amin": _AMAX, "nan_to_num": _nan_to_num,
    "index_select": _like_input(_SAME_AS_INPUT), "masked_select": _like_input(_SAME_AS_INPUT),
    "take": _like_input("take(): self and out expected to have the same dtype, but got "
                        "self.dtype = {i} and out.dtype = {o}"),
    "quantile": _QUANTILE, "nanquantile": _QUANTILE,
    "logcumsumexp": _like_input("expected scalar_type {i} but found {o}"),
    "linalg_solve_triangular": _like_input("expected scalar type {i} but found {o}"),
    "narrow_copy": _like_input("Expected self.dtype() == output.dtype() to be true, but got "
                               "false.  (Could this error message be improved?  If so, "
                               "please report an enhancement request to PyTorch.)"),
    "matmul": _matmul, "dot": _DOT, "vdot": _DOT, "mv": _mv,
    "where": _like_result("Expected out type to be {r} but got {o}"),
    "inner": _like_result("tensordot: Expected the output tensor to have dtype {r}, but got "
                          "an output tensor with dtype {o}"),
    "tensordot": _like_result("tensordot: Expected the output tensor to have dtype {r}, but "
                              "got an output tensor with dtype {o}"),
    "linalg_matrix_norm": _MATRIX_NORM, "nuclear_norm": _MATRIX_NORM,
    "linalg_norm": _like_result("linalg.norm expected out tensor dtype {r} but got: {o}"),
    "linalg_multi_dot": _like_result("multi_dot(): expected out tensor to have dtype {rc} "
                                     "but got {oc}"),
    "linalg_vecdot": _like_result("linalg.vecdot: Expected out of dtype{r} but found {o}"),
    "float_power": _like_result("the output given to float_power has dtype {o} but the "
                                "operation's result requires dtype {r}"),
    "cat": _cat, "stack": _cat, "hstack": _cat, "vstack": _cat, "dstack": _cat,
    "column_stack": _cat,
})

_RULES.update({n: _unary_same for n in (
    "abs absolute neg negative sign sgn floor ceil round trunc fix frac bitwise_not "
    "conj_physical clamp clip clamp_min clamp_max").split()})

# ops returning several tensors (each out of its result's dtype, write_outs): the messages
# of the kernels that check the indices out before that
_INDICES = {
    "kthvalue": "output indices must be of scalar type Long",
    "mode": "expected scalar type 'Long' but got '{o}' for indices output",
    "cummax": "expected scalar_type Long but found {o}",
    "cummin": "expected scalar_type Long but found {o}",
    "median": "Expected tensor for argument #1 'indices' to have scalar type Long; but got "
              "torch.{o}Tensor instead (while checking arguments for median)",
    "nanmedian": "Expected tensor for argument #1 'indices' to have scalar type Long; but "
                 "got torch.{o}Tensor instead (while checking arguments for nanmedian)",
}



def _fft_out(kind):
    """torch.fft's out= checks (ATen's fft_c2c / fft_r2c / fft_c2r out): a complex out for
    the c2c and r2c transforms, a floating one for the c2r (irfft, hfft); the 2-D forms
    are named as their n-D kernels."""
    def rule(name, inputs, r, o):
        base = name[4:].rstrip("2n")
        if base != name[4:]:
            base += "n"
        ok = o.dtype.is_complex if kind == "complex" else o.dtype.is_floating_point
        if not ok:
            return RuntimeError, (f"{base} expects a {kind} output tensor, but got "
                                  f"{o.dtype.short_name}")
    return rule


_RULES.update({f"fft_{n}{s}": _fft_out("complex") for n in ("fft", "ifft", "rfft", "ihfft")
               for s in ("", "2", "n")})
_RULES.update({f"fft_{n}{s}": _fft_out("floating point") for n in ("irfft", "hfft")
               for s in ("", "2", "n")})


def _mean_out(name, inputs, r, o):
    """torch.mean(x, out=o) without dims (its mean.dtype_out): the result must cast to
    out's dtype (mean.dim's out takes a complex mean's real part: out_variants)."""
    if len(inputs) == 2 and r is not None and not _dt.can_cast(r.dtype, o.dtype):
        return RuntimeError, (f"mean.dtype_out(): input types can't be cast to the desired "
                              f"output type {o.dtype.short_name}")
    if len(inputs) > 2 and o.dtype.category < _dt.FLOATING:
        # (ATen's mean_out: the sum into out, then its true division, of the default
        # dtype, fails to go back into an integral out)
        return RuntimeError, (f"result type {_dt.get_default_dtype().short_name} can't be "
                              f"cast to the desired output type {o.dtype.short_name}")


_RULES["mean"] = _mean_out


# the rules that read no result: checked before the op runs, as PyTorch's kernels do
# (histc(x_with_nan, out=long_tensor) is the dtype error, multinomial draws nothing)
_BEFORE = frozenset({"signbit", "isposinf", "isneginf", "nonzero", "nonzero_static",
                     "multinomial", "histc", "amax", "amin", "index_select", "masked_select",
                     "take", "quantile", "nanquantile", "logcumsumexp",
                     "linalg_solve_triangular", "narrow_copy", "matmul", "dot", "vdot", "mv",
                     "histogram", "nan_to_num"} | {
    n for n, rule in _RULES.items() if rule is _unary_same and not n.startswith("cl")})


def check_before(schema_name, inputs, outs):
    """The rules of op schema_name that need no result, checked before the op runs."""
    name = schema_name.split("::", 1)[-1]
    if name in _BEFORE:
        _apply(name, inputs, None, outs)


def check(schema_name, inputs, results, outs):
    """Raise PyTorch's error when op schema_name's outs break its dtype rules."""
    name = schema_name.split("::", 1)[-1]
    if name not in _BEFORE:
        _apply(name, inputs, results, outs)


def _apply(name, inputs, results, outs):
    if len(outs) == 1:
        rule = _RULES.get(name)
        if rule is not None:
            e = rule(name, inputs, None if results is None else results[0], outs[0])
            if e is not None:
                raise e[0](e[1])
        return
    if name == "histogram":
        x = _self(inputs)
        if x is not None and outs[0].dtype != x.dtype:
            raise RuntimeError(f"torch.histogram: input tensor and hist tensor should have "
                               f"the same dtype, but got input {_cpp(x.dtype)} and hist "
                               f"{_cpp(outs[0].dtype)}")
        return
    if name == "frexp" and outs[1].dtype is not _dt.int32:
        raise RuntimeError(f"torch.frexp() expects exponent to have int dtype but got "
                           f"{_cpp(outs[1].dtype)}")
    fmt = _INDICES.get(name)
    if fmt is not None and len(outs) == 2 and outs[1].dtype is not _dt.int64:
        raise RuntimeError(fmt.format(o=outs[1].dtype.short_name))
