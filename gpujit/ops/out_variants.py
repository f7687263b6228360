"""`out=` arguments: PyTorch's `<op>.out` overloads, made from the functional op.

PyTorch declares an out overload next to most functional ops
(`aten::div.out(Tensor self, Tensor other, *, Tensor(a!) out) -> Tensor(a!)`): the op's
arguments, then a keyword-only `out` that the result is written into and returned. gpujit
derives the same overload from the registry's functional op on first use
(`out_variant(d)`), so every layer reads one declaration: `gpujit.div(a, b, out=o)` calls
it (the function bindings accept `out=`, `bind.py`), scripted code compiles
`torch.div(a, b, out=o)` to a node of it (kind `aten::div`, the out tensor its last
input, as TorchScript's graph shows), the tracer records it, and `.code` prints it back as
`torch.div(a, b, out=o)`. The variants are not in `registry.OPS` (the table of declared
ops): they are views of the ops there.

Writing follows PyTorch's rules for out tensors: the result's dtype must cast to out's
without leaving its category (`result type Float can't be cast to the desired output type
Long`); an out of another shape is resized to the result's (with PyTorch's deprecation
warning when it had elements); an out sharing only part of an input's memory is refused;
and autograd does not go through out= calls (an input or out that requires grad, with
grad mode on, is an error).

An op returning several tensors (`torch.max(x, 0)`, `sort`, `topk`, `aminmax`, `frexp`...)
takes a tuple, `torch.max(x, 0, out=(values, indices))`: its `.out` overload has one
keyword-only tensor per result (named as the results: `values`, `indices`), each of which
must have the result's dtype exactly (PyTorch's structured kernels: "Expected out tensor
to have dtype long int, but got int instead"); the call returns the out tensors in the
op's named tuple.
"""
from __future__ import annotations

import threading
from dataclasses import replace

from . import out_dtypes as _out_dtypes
from . import registry as _reg
from .overlap import assert_no_partial_overlap, assert_no_overlap
from .schema import Argument, ArgType, Return, Schema
from .. import dtypes as _dt
from .._frames import warn_at_user_frame

__all__ = ["eligible", "out_names", "out_variant", "python_out", "resize_output", "with_out",
           "write_out", "write_outs", "scripted_out_call"]

_VARIANTS: dict = {}
_LOCK = threading.Lock()
_OUT_ARG = Argument("out", ArgType("Tensor", alias="a", is_write=True), kwarg_only=True)
_OUT_RET = Return(ArgType("Tensor", alias="a", is_write=True))
# PyTorch's overload names of multi-result out forms where they do not follow the rule
_NAMES = {("aten::max", "dim"): "dim_max", ("aten::min", "dim"): "dim_min",
          ("aten::median", "dim"): "dim_values", ("aten::nanmedian", "dim"): "dim_values",
          ("aten::log_sigmoid_forward", ""): "output"}


# PyTorch's backward kernels whose out form is `.grad_input(..., *, Tensor(a!) grad_input)`
# (native_functions.yaml's structured backward ops; hardswish_backward and
# rrelu_with_noise_backward have a generated `.out`, mish_backward none)
_GRAD_INPUT = frozenset("aten::" + n for n in (
    "tanh_backward sigmoid_backward gelu_backward silu_backward threshold_backward "
    "hardtanh_backward leaky_relu_backward elu_backward hardshrink_backward "
    "softshrink_backward softplus_backward log_sigmoid_backward hardsigmoid_backward"
).split())
_NO_OUT = frozenset({"aten::mish_backward", "aten::relu6"})    # (relu6: a composite)


def eligible(d) -> bool:
    """Whether op d has an out= form: a functional op returning one new Tensor (not a view
    of an argument, not in place, without an `out` argument of its own)."""
    s = d.schema
    if s.is_inplace or d.inplace_of is not None or not s.returns or d.name in _NO_OUT:
        return False
    return all(r.type.is_tensor and not r.type.is_list and r.type.alias is None
               for r in s.returns) and d.out_of is None and \
        not any(a.name in ("out",) + out_names(d) for a in s.arguments)


# ops whose out forms exist (torch.ops.aten.var_mean.correction_out) but whose Python
# functions take no out= in PyTorch
_NO_PYTHON_OUT = frozenset({"aten::var_mean", "aten::std_mean", "aten::_unique2",
                            "aten::unique_consecutive", "aten::unique_dim",
                            "aten::max_pool1d_with_indices", "aten::max_pool2d_with_indices",
                            "aten::max_pool3d_with_indices", "aten::adaptive_max_pool1d",
                            "aten::adaptive_max_pool2d", "aten::adaptive_max_pool3d"} | {
    # (torch 2.13: `torch.isnan(x, out=o)` is "isnan() got an unexpected keyword argument
    # 'out'", and the overloaded ones PyTorch's "invalid combination of arguments")
    "aten::" + n for n in (
        "_cast_Byte _cast_Char _cast_Double _cast_Float _cast_Half _cast_Int _cast_Long "
        "_cast_Short _histogramdd_from_bin_cts _histogramdd_from_bin_tensors "
        "_sample_dirichlet _standard_gamma adaptive_avg_pool1d argwhere as_strided_scatter "
        "atleast_1d atleast_2d atleast_3d avg_pool1d batch_norm "
        "binary_cross_entropy_with_logits bincount binomial cdist clone combinations "
        "constant_pad_nd conv_transpose1d conv_transpose2d conv_transpose3d corrcoef "
        "cosine_similarity cov diag_embed diagflat diagonal_scatter dist dropout embedding "
        "empty_like empty_permuted flip fliplr flipud full_like group_norm index_put "
        "instance_norm isclose isfinite isinf isnan isreal kl_div layer_norm "
        "linalg_matrix_exp linalg_vander logdet masked_scatter matrix_exp max_pool1d "
        "max_pool2d max_pool3d norm_except_dim ones_like pinverse pixel_shuffle "
        "pixel_unshuffle poisson prelu put roll rot90 rrelu scalar_tensor select_scatter "
        "tile tril_indices triu_indices vander zeros_like "
        "conv1d conv2d conv3d cumulative_trapezoid fill index_fill masked_fill "
        "repeat_interleave rsub trapezoid trapz").split()})


# single overloads PyTorch's Python binding lists without `out=` (torch.sum(x, out=o) and
# torch.std(x, True, out=o) are its "invalid combination" TypeError; torch.sum(x, 0, out=o)
# is fine)
_NO_PYTHON_OUT_OVERLOADS = frozenset({"aten::sum", "aten::std", "aten::var", "aten::prod",
                                      "aten::median", "aten::nanmedian", "aten::count_nonzero",
                                      "aten::count_nonzero.dim_IntList", "aten::argsort",
                                      "aten::bernoulli.p", "aten::bucketize.Scalar"})


def python_out(d) -> bool:
    """Whether the Python function of op d accepts `out=` (torch.max(x, 0, out=...))."""
    return eligible(d) and d.schema.name not in _NO_PYTHON_OUT and \
        d.name not in _NO_PYTHON_OUT_OVERLOADS


# PyTorch's keyword names of the out tensors where they are not its results' names
# (aten::max.dim_max(..., *, Tensor(a!) max, Tensor(b!) max_values), the pools'
# `.out(..., *, Tensor(a!) out, Tensor(b!) indices)`): .code writes them so
_TORCH_OUT_NAMES = {
    "aten::max.dim": ("max", "max_values"), "aten::min.dim": ("min", "min_indices"),
    **{f"aten::{p}": ("out", "indices") for p in (
        "max_pool2d_with_indices", "max_pool3d_with_indices", "adaptive_max_pool2d",
        "adaptive_max_pool3d")}}


def out_names(d) -> tuple:
    """The keyword names of op d's out tensors: `out`, or one per result (`values`,
    `indices`; `out0`, `out1`... for unnamed results; PyTorch's own where they differ)."""
    if d.name in _TORCH_OUT_NAMES:
        return _TORCH_OUT_NAMES[d.name]
    rets = d.schema.returns
    if len(rets) == 1:
        return ("grad_input",) if d.name in _GRAD_INPUT else ("out",)
    names = tuple(r.name or f"out{k}" for k, r in enumerate(rets))
    return names if len(set(names)) == len(names) else \
        tuple(f"out{k}" for k in range(len(rets)))


def out_variant(d):
    """The `.out` OpDef of functional op d (made once, shared by every layer)."""
    v = _VARIANTS.get(d.name)
    if v is None:
        with _LOCK:
            v = _VARIANTS.get(d.name)
            if v is None:
                v = _VARIANTS[d.name] = _make(d)
    return v


def _make(d):
    s = d.schema
    # PyTorch's names: add.Tensor -> add.out (no unnamed add), clamp.Tensor ->
    # clamp.Tensor_out (clamp -> clamp.out), sum.dim_IntList -> sum.dim_IntList_out;
    # sort -> sort.values, max.dim -> max.dim_max
    unnamed = any(o.schema.overload == "" for o in _reg.OVERLOADS.get(s.name, ()))
    names = out_names(d)
    suffix = "values" if names == ("values", "indices") else \
        "grad_input" if names == ("grad_input",) else "out"
    overload = _NAMES.get((s.name, s.overload)) or (
        suffix if not s.overload or (s.overload == "Tensor" and not unnamed)
        else f"{s.overload}_{suffix}")
    if len(names) == 1:
        outs = (_OUT_ARG if names == ("out",) else replace(_OUT_ARG, name=names[0]),)
        rets = (_OUT_RET,)
    else:
        types = [ArgType("Tensor", alias=chr(ord("a") + k), is_write=True)
                 for k in range(len(names))]
        outs = tuple(Argument(n, t, kwarg_only=True) for n, t in zip(names, types))
        rets = tuple(Return(t, r.name) for t, r in zip(types, s.returns))
    s2 = Schema(s.name, overload, tuple(s.arguments) + outs, rets, False, "")
    s2 = replace(s2, text=str(s2))
    v = _reg.OpDef(s2, d.impl, tags=(d.tags - {"pointwise", "view", "inplace"}) | {"out"},
                   meta=None, promote=d.promote, dtypes=d.dtypes, method=False,
                   function=False, name=d.public_name)
    v.out_of = d
    v.out_grad_rule = _grad_rule(d)
    fallback = v.out_grad_rule == "fallback"
    v.derivative = _reg.NonDifferentiable("out= calls are not differentiable")
    base = d.eager
    hooks = _reg.dispatch_state
    k = len(names)
    sname = s.name

    # sum / prod / cumsum / cumprod: out's dtype is the computation's (the input converted
    # to it first: torch.sum(x, 1, out=long_tensor) sums x.long()), PyTorch's
    # get_dtype_from_result
    dpos = next((i for i, a in enumerate(s.arguments) if a.name == "dtype"), None) \
        if sname in _DTYPE_FROM_OUT else None
    other = _OUT_DTYPE_ARGS.get(sname)      # (torch._scaled_mm's out_dtype likewise)
    if other is not None:
        dpos = next(i for i, a in enumerate(s.arguments) if a.name == other[0])

    def eager(*args):
        inputs, out = args[:-k], args[-k:]
        _check(v, inputs, out)
        _out_dtypes.check_before(sname, inputs, out)
        if dpos is not None and dpos < len(inputs):
            dt = inputs[dpos]
            if dt is None:
                inputs = inputs[:dpos] + (out[0].dtype,) + inputs[dpos + 1:]
            elif _dt.scalar_type_arg(dt) != out[0].dtype:
                if other is not None:
                    raise other[1](other[2])
                raise RuntimeError(f"Expected out tensor to have dtype "
                                   f"{_dtype_words(_dt.scalar_type_arg(dt))}, but got "
                                   f"{_dtype_words(out[0].dtype)} instead")
        r = base(*inputs)
        _out_dtypes.check(sname, inputs, (r,) if k == 1 else r, out)
        if k == 1:
            return write_out(v, r, out[0], inputs)
        return write_outs(v, r, out, inputs)

    def public(*args, **kwargs):
        if kwargs:
            args = v.bind(args, kwargs)
        _check(v, args[:-k], args[-k:])
        h = hooks.hook
        if fallback:
            return _fallback_call(v, h, eager, args, k)
        if h is not None:
            return h(v, args)
        return eager(*args)

    for f in (eager, public):
        f.__name__ = f.__qualname__ = d.public_name
        f.__doc__ = str(s2)
        f.op = v
    v.eager, v.public = eager, public
    return v


_DTYPE_FROM_OUT = frozenset({"aten::sum", "aten::prod", "aten::cumsum", "aten::cumprod"})
# ops whose result dtype argument of another name is out's when not given, and their error
# where it differs from out's (torch._scaled_mm: ops/scaled_mm.py)
_OUT_DTYPE_ARGS = {"aten::_scaled_mm": ("out_dtype", ValueError,
                                        "out_dtype must match output matrix type")}


def _check(v, inputs, outs):
    for o in outs:
        if not isinstance(o, _reg._Tensor):
            raise TypeError(f"{v.public_name}(): argument 'out' must be "
                            f"{'Tensor' if len(outs) == 1 else 'tuple of Tensors'}, not "
                            f"{type(o).__name__}")
    if v.out_of.out_check is not None:
        v.out_of.out_check(outs)
    from ..autograd.grad_mode import is_grad_enabled
    rule = v.out_grad_rule
    if rule == "none" or not is_grad_enabled():
        return
    if rule == "fallback":
        check_fallback_out(v.public_name, outs)
    elif any(o.requires_grad for o in outs) or any(
            isinstance(a, _reg._Tensor) and a.requires_grad for a in _flat(inputs)):
        raise RuntimeError(f"{v.public_name}(): functions with out=... arguments don't "
                           f"support automatic differentiation, but one of the arguments "
                           f"requires grad.")


def scripted_out_call(v, args, compute):
    """An out= node of scripted (or traced) code, run as eager's entry point runs the call:
    the out checks with grad mode as the caller has it (autograd then computes the op
    under no_grad: an input requiring grad was silently not recorded), and a fallback
    op's NotImplemented grad_fn. args: the schema's arguments, the outs last."""
    from ..autograd.grad_mode import is_grad_enabled
    k = len(v.schema.returns)
    _check(v, args[:-k], args[-k:])
    enabled = is_grad_enabled()
    r = compute(v, args)
    if enabled and v.out_grad_rule == "fallback":
        fallback_grad_fn(v.public_name, args[:-k], args[-k:])
    return r


def _grad_rule(d) -> str:
    """How PyTorch's autograd treats op d's out= calls: "diff" (an op with a derivative:
    its out= form refuses an input or out that requires grad, `add(): functions with
    out=...`), "none" (outputs that carry no gradient, eq, isin, histc, bessel_j0: no
    check, out keeps its requires_grad), or "fallback" (factories, normal(0., 1., size)
    and the ops derivatives.yaml marks not_implemented, which go through PyTorch's
    autograd fallback: only an out that is a leaf requiring grad is refused, as
    `aten::zeros(): functions with out=...`, and an out written with gradients recorded
    gets a NotImplemented grad_fn)."""
    if not any(a.type.base == "Tensor" for a in d.schema.arguments) or \
            getattr(d.derivative, "not_implemented", None):
        return "fallback"
    if d.derivative is None or isinstance(d.derivative, _reg.NonDifferentiable):
        return "none"
    return "diff"


def _fallback_call(v, h, eager, args, k):
    """An out= call of a fallback op (_grad_rule), ended as PyTorch's autograd fallback
    and Python binding do: a NotImplemented grad_fn where gradients were recorded; a
    factory's out that is a leaf (normal(0., 1., size, out=o) under no_grad) no longer
    requires grad."""
    from ..autograd.grad_mode import is_grad_enabled
    enabled = is_grad_enabled()
    r = h(v, args) if h is not None else eager(*args)
    outs = args[-k:]
    if enabled:
        fallback_grad_fn(v.public_name, args[:-k], outs)
    elif not any(isinstance(a, _reg._Tensor) for a in _flat(args[:-k])):
        for o in outs:
            ag = o._ag
            if ag is not None and ag.requires_grad and ag.grad_fn is None:
                ag.requires_grad = False
    return r


def check_fallback_out(name, outs):
    """PyTorch's autograd fallback on an out= call with grad mode on: an out that is a leaf
    requiring grad is refused (factories' out=, not_implemented ops)."""
    for o in outs:
        ag = o._ag
        if ag is not None and ag.requires_grad and ag.grad_fn is None:
            raise RuntimeError(f"aten::{name}(): functions with out=... arguments don't "
                               f"support automatic differentiation, but one of the "
                               f"arguments requires grad.")


def fallback_grad_fn(name, inputs, outs):
    """After a fallback op's out= write with grad mode on: where an input or an out requires
    grad, the outs get PyTorch's NotImplemented grad_fn (a backward through them raises
    `derivative for aten::<name> is not implemented`): their old history no longer
    describes their values."""
    from ..autograd.grad_mode import is_grad_enabled
    if not is_grad_enabled():
        return
    tensors = [a for a in _flat(tuple(inputs) + tuple(outs))
               if isinstance(a, _reg._Tensor) and a.requires_grad]
    if tensors:
        from ..autograd.recording import mark_not_implemented
        mark_not_implemented(name, tensors, outs)


def _flat(args):
    for a in args:
        if isinstance(a, (list, tuple)):
            yield from a
        else:
            yield a


def write_outs(v, results, outs, inputs=()):
    """Write op v's results into the out tensors (each of its result's dtype exactly),
    and return them in the op's named tuple."""
    for r, o in zip(results, outs):
        if r.dtype != o.dtype:
            raise RuntimeError(f"Expected out tensor to have dtype {_dtype_words(r.dtype)}, "
                               f"but got {_dtype_words(o.dtype)} instead")
    for k, o in enumerate(outs):
        if any(o._data is p._data for p in outs[:k]):
            raise RuntimeError(f"{v.public_name}(): the out tensors must be distinct "
                               f"tensors")
    for r, o in zip(results, outs):
        write_out(v, r, o, inputs)
    nt = v.out_of.namedtuple
    return nt(*outs) if nt is not None else tuple(outs)


def _dtype_words(dt) -> str:
    """The C++ type name PyTorch's dtype-mismatch errors use (float, long int, ...)."""
    return _dt.CPP_NAMES.get(dt.name, dt.name)


# ops whose kernels resize out themselves (result.resize_), without resize_output's
# deprecation warning (torch 2.13: torch.multinomial(p, 2, out=torch.zeros(3, dtype=long)))
_SILENT_RESIZE = frozenset({"aten::normal", "aten::bernoulli", "aten::multinomial"})


# ops whose out kernels take a complex result into a floating out (copy_'s real part, with
# its warning): ATen's mean_out is sum_out(out, self, dim, dtype=out.dtype).div_(n)
_COMPLEX_INTO_FLOAT = frozenset({"aten::mean.dim"})


# ops whose out kernels refuse an out sharing any memory with an input, the same elements
# too (at::assert_no_overlap: torch.cat([x, x], out=x), which resized x to its result)
_NO_OVERLAP = frozenset({"aten::cat", "aten::stack", "aten::index_select", "aten::gather",
                         "aten::take", "aten::masked_select", "aten::linalg_cross",
                         "aten::cross"})


def write_out(v, result, out, inputs=()):
    """Write op v's result into out as PyTorch's out= does, and return out."""
    if not _dt.can_cast(result.dtype, out.dtype) and not (
            result.dtype.is_complex and out.dtype.is_floating_point and
            v.out_of.name in _COMPLEX_INTO_FLOAT):
        raise RuntimeError(f"result type {result.dtype.short_name} can't be cast "
                           f"to the desired output type {out.dtype.short_name}")
    if out.device != result.device:
        raise RuntimeError(f"Expected out tensor to have device {result.device}, but got "
                           f"{out.device} instead")
    tensors = [a._data for a in _flat(inputs) if isinstance(a, _reg._Tensor)]
    if tensors:
        if v.out_of.name in _NO_OVERLAP:
            assert_no_overlap(out._data, tensors)
        else:
            assert_no_partial_overlap(out._data, tensors)
    have, want = tuple(out._data.shape), tuple(result._data.shape)
    if have != want:     # (sizes read off the arrays: a trace records none of this)
        if out._data.size and v.schema.name not in _SILENT_RESIZE:
            warn_at_user_frame(
                f"An output with one or more elements was resized since it had shape "
                f"{list(have)}, which does not match the required output shape "
                f"{list(want)}. This behavior is deprecated, and in a future "
                f"PyTorch release outputs will not be resized unless they have zero "
                f"elements. You can explicitly reuse an out tensor t by resizing it, "
                f"inplace, to zero elements with t.resize_(0).")
        resize_output(out, want)
        if _takes_result_strides(v):
            _restride(out, result)
    _reg.OPS["aten::copy_"].eager(out, result)     # (eager: no hook records it)
    return out


# ops PyTorch implements as result.resize_() and a copy of a result laid out its own way
# (torch.cholesky_solve: its out stays C-contiguous where its result is column-major)
_RESIZE_THEN_COPY = frozenset({"aten::cholesky_solve"})


def _takes_result_strides(v) -> bool:
    """Does an out= tensor PyTorch resizes take the result's strides (its structured
    kernels' set_output_strided: elementwise ops as TensorIterator lays them out, the
    LAPACK results column-major), rather than a C-contiguous layout?"""
    d = v.out_of
    return d is not None and (d.is_pointwise or bool(d.fortran)) and \
        d.name not in _RESIZE_THEN_COPY


def _restride(out, result):
    """out (just resized to result's shape) laid out with result's strides where they are
    dense and out's differ (its values are about to be overwritten)."""
    from .memory_format import _dense, empty_strided
    st = result.stride()
    a = out._data
    if not a.ndim or tuple(out.stride()) == tuple(st) or not _dense(a.shape, st):
        return
    if out._device.type == "meta":
        from .._meta import MetaArray
        out._data = MetaArray(a.shape, a.dtype, st)
        return
    out._data = empty_strided(_reg._xp_for(out.device), a.shape, a.dtype, st)


def resize_output(out, shape):
    """Resize an out= tensor to the result's shape, as PyTorch's at::resize_output: unlike
    the user's t.resize_(), it does not count as a write of out (the write that follows
    does: one version per out= call)."""
    if out._device.type == "meta":
        from .._meta import MetaArray
        out._data = MetaArray(shape, out._data.dtype)
        return
    out._data = _reg.OPS["aten::resize_"].impl(_reg._xp_for(out.device), out._data,
                                                list(shape))


def with_out(pyname, fn, ovs, fallback=None):
    """The public function `pyname` (fn dispatches over overloads ovs) accepting `out=`;
    fallback(args, kwargs), when given, answers a call that raised a TypeError (or
    deprecated_signatures.NO_CALL: the error stands)."""
    from .deprecated_signatures import NO_CALL as _NO_CALL
    from .overloads import match_overload
    from .numpy_aliases import renamed_kwargs, match_renamed, self_is_input, \
        self_keyword_error
    with_outs = [d for d in ovs if python_out(d)]
    no_self = self_is_input(ovs)
    from .parser_errors import has_scalar_twins
    twins = has_scalar_twins(pyname, False)

    def function(*args, out=None, **kwargs):
        try:
            if kwargs and no_self and "self" in kwargs:
                raise self_keyword_error(pyname, ovs, args, kwargs)
            if out is None:
                if len(ovs) > 1:        # (the dispatcher takes NumPy's names itself)
                    return fn(*args, **kwargs)
                try:
                    return fn(*args, **kwargs)
                except TypeError:
                    # torch.neg(input=x), torch.cumsum(x, axis=0): PyTorch's other names
                    # for the parameters (ops/numpy_aliases.py), renamed only now
                    kw = renamed_kwargs(ovs[0], False, len(args), kwargs) if kwargs else None
                    if kw is None:
                        if twins and match_overload(ovs, args, kwargs) is None:
                            # (PyTorch's parser names the invalid combination of its
                            # signatures, Scalar overloads gpujit's op has not included)
                            from .parser_errors import parser_error
                            raise parser_error(pyname, ovs, args, kwargs, False, True) from None
                        raise
                return fn(*args, **kw)
            # (among the overloads that take out=: torch.var(x, out=o) is var.correction's)
            d = ovs[0] if len(ovs) == 1 else match_overload(with_outs, args, kwargs)
            if kwargs and (d is None or (len(ovs) == 1 and match_overload(ovs, args, kwargs)
                                         is None)):
                r = match_renamed(with_outs, args, kwargs, False)
                if r is not None:
                    d, kwargs = r
            if d is None or not python_out(d):
                return fn(*args, out=out, **kwargs)     # fn's own error names the call
            k = len(d.schema.returns)
            if k == 1:
                return out_variant(d).public(*d.bind(args, kwargs), out)
            if not isinstance(out, (tuple, list)) or len(out) != k:
                raise TypeError(f"{pyname}(): argument 'out' must be tuple of {k} Tensors, "
                                f"not {type(out).__name__}"
                                + (f" of length {len(out)}" if isinstance(out, (tuple, list))
                                   else ""))
            return out_variant(d).public(*d.bind(args, kwargs), *out)
        except TypeError as e:
            # (torch's deprecated forms, torch.add(x, 2, y): ops/deprecated_signatures.py;
            # reached only by a call the signatures refused, in this frame)
            if fallback is None:
                if own is None:
                    raise
                raise _renamed(e) from None
            r = fallback(args, kwargs if out is None else dict(kwargs, out=out))
            if r is _NO_CALL:
                if own is None:
                    raise
                raise _renamed(e) from None
            return r

    # an alias (torch.arctan2, torch.subtract): torch's parser names the function called,
    # the errors of the target's entry point its own name (atan2(), sub())
    own = ovs[0].public_name if pyname != ovs[0].public_name else None

    def _renamed(e):
        msg = str(e)
        if type(e) is not TypeError or not msg.startswith(own + "("):
            return e
        return TypeError(pyname + msg[len(own):])

    return dressed_as(function, fn, pyname)


def dressed_as(wrapper, fn, name):
    """wrapper (a public entry point wrapping fn) named `name`, with fn's doc, fn as its
    __wrapped__ and fn's registry handles (op, overloads)."""
    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn
    for attr in ("op", "overloads"):
        if hasattr(fn, attr):
            setattr(wrapper, attr, getattr(fn, attr))
    return wrapper
