"""Derivatives of registry ops (read by gpujit.autograd and jit's autodiff; written next to
each op in its family module): the `Derivative` and `NonDifferentiable` records an
OpDef's `derivative` slot holds, and the `@derivative(...)` / `nondifferentiable(...)`
declarations that fill it (an op's in-place variant gets the same). registry.py
re-exports all four, so `from .registry import derivative` keeps working.
"""
from __future__ import annotations

import numpy as np


class Derivative:
    """How gradients flow through an op, written with registry ops (Tensor arithmetic and
    gpujit functions) so that a backward can itself be recorded (double backward) and later
    traced and fused.

    `fn(grad, <names>...)` takes `grad` (the output's gradient; a tuple of them when the op
    returns several tensors, zeros where an output got none, a list for a Tensor[] return)
    and, by keyword, exactly the values it names among `result` (the op's output), the
    schema's argument names, and `<arg>_shape` (a tensor argument's shape, as a tuple: what
    sum's backward needs, without keeping the tensor alive or version-checking it; a
    tuple of shapes for a Tensor[] argument: cat's),
    `<arg>_device` (likewise its device: copy_'s backward), and
    `needs_grad` (a tuple of bools, one per `wrt` name: skip work for inputs that need no
    gradient, such as a first layer's input), and `stash` (what the op's eager body left
    for its backward with `stash_for_backward(output array, value)`: dropout's keep mask,
    PyTorch's extra saved outputs; None when it left nothing. The node takes it when it is
    recorded: no tensor the program can write, so no version check, and the output may
    be written in place or freed before backward, as PyTorch's dropout saves its mask and
    not its result); it returns one gradient per name in `wrt`
    (a tuple when there
    are several), None for no gradient. Autograd saves only what fn names, checks those
    tensors' versions at backward, sums broadcast gradients back to each input's shape and
    casts them to its dtype.

    `reads` (optional, {wrt name: (names its gradient reads)}): a tensor named there is
    saved only when an input whose gradient reads it needs one, else fn gets None for it
    and must not compute that input's gradient (it reads needs_grad): `x * w` with only x
    requiring grad keeps w, not x, so changing x in place before backward is no error, as
    in PyTorch, whose autograd saves per needed output too.

    `<arg>_needs_grad` (a Tensor[] argument's: a tuple of bools, one per element) says
    which of its tensors need a gradient (`needs_grad` says only whether any does).

    `grads_defined` (an op of several outputs: a tuple of bools, one per output) says
    which outputs got a gradient (the others' reach fn as zeros): PyTorch's formulas skip
    an undefined one, where a zero would still make 0 * inf = nan (var_mean's variance of
    one element: its mean's gradient is finite).

    `computes` (optional, {name: function}): values computed at record time from the
    op's arguments and saved in place of them, as PyTorch's composite kernels save an
    intermediate (l1_loss the sign of the difference, cross_entropy the log_softmax, ndtr
    x / sqrt 2) instead of the input: a later in-place write into the input is then no
    error. Each function takes, by keyword, exactly the values it names among the
    schema's arguments, `<arg>_shape`, `needs_grad`, `<arg>_needs_grad`, `result` and the
    names computed before it, and returns a Tensor, a list of Tensors and Nones (saved
    and version-checked like arguments), or any other value (kept as it is). fn (and
    `reads`) may name the computed values like arguments; one that `reads` lists is
    computed only when a needed gradient reads it. The functions run with the caller's
    grad mode, through registry ops: a computed tensor is a recorded intermediate (double
    backward differentiates through it, as through PyTorch's) and a compute that
    returns an argument itself saves that argument. Those that do not name `result` run
    before the op (an in-place op has not yet written its input), the others after it.
    jit's fusion groups run the same functions on the recomputed values (autodiff.py).

    `raw` (optional): the same formula on the arrays, for a backward that records nothing
    (no create_graph, no tracer, profiler or autocast hook): raw(xp, grad, <fn's names>)
    takes the NumPy / CuPy arrays of grad and of the saved tensors (read and
    version-checked as fn's), the other values as fn gets them, and returns an array (or
    None) per wrt name, computed with the very ufuncs and GEMMs the registry ops of fn
    run, so the gradients are fn's bit for bit; or NotImplemented where that does not
    hold (another dtype, a layout the registry ops would lay out differently, ...): fn
    runs then. Only for ops of one Tensor output and no Tensor[] argument.
    `raw_skip`: the gradient dtypes (gpujit dtypes) for which fn runs, not raw, where
    raw's arrays cannot tell them apart (a bfloat16 tensor's array is float32)."""
    __slots__ = ("fn", "wrt", "params", "reads", "computes", "bound", "uses_needs",
                 "elem_needs", "not_implemented", "_needed", "raw", "edgeless", "raw_skip")

    def __init__(self, fn, wrt, params, reads=None, computes=None, raw=None):
        self.fn, self.wrt, self.params = fn, tuple(wrt), tuple(params)
        self.raw = raw
        self.raw_skip = frozenset()
        # wrt names PyTorch's derivatives.yaml does not differentiate (nll_loss's target and
        # weight): no edge for them when they need no gradient (autograd.recording._edge_skip)
        self.edgeless = ()
        self.not_implemented = None     # PyTorch's message where fn only raises it
        self.reads = reads
        # computes: ((name, function, its parameter names), ...) in order, or None
        self.computes = None
        if computes:
            import inspect
            self.computes = tuple((k, f, tuple(inspect.signature(f).parameters))
                                  for k, f in computes.items())
        made = {c[0] for c in self.computes or ()}
        # the params recording takes from the call's arguments
        self.bound = tuple(p for p in self.params if p not in made
                           and p not in ("result", "stash", "grads_defined")
                           and not p.endswith("needs_grad"))
        # the Tensor[] wrt arguments whose `<arg>_needs_grad` fn or a compute names
        named = set(self.params).union(*(c[2] for c in self.computes or ()))
        self.elem_needs = tuple(w for w in self.wrt if w + "_needs_grad" in named)
        # whether recording works out the per-wrt needs_grad tuple
        self.uses_needs = "needs_grad" in self.params or bool(self.computes) or bool(
            self.elem_needs)

    def needed_frozen(self, needs):
        """needed(needs) as a frozenset, kept per needs tuple (recording's per-call read)."""
        try:
            cache = self._needed
        except AttributeError:
            cache = self._needed = {}
        got = cache.get(needs)
        if got is None:
            got = cache[needs] = frozenset(self.needed(needs))
        return got

    def needed(self, needs):
        """The params fn reads when the wrt inputs needing a gradient are `needs` (a bool
        per wrt name)."""
        if self.reads is None:
            return set(self.params)
        named = {p for ps in self.reads.values() for p in ps}
        out = {p for p in self.params if p not in named}
        for w, nd in zip(self.wrt, needs):
            if nd:
                out.update(self.reads.get(w, ()))
        return out


_STASH: dict = {}


def stash_for_backward(array, value):
    """Leave `value` for the derivative's `stash` parameter of the op whose eager body made
    `array` (its output; kept while the array lives, read when the op's node is
    recorded). Stored only while autograd is active (a tensor has required grad), so
    plain inference keeps nothing. Returns array."""
    from .registry import dispatch_state
    if dispatch_state.autograd is not None:
        import weakref
        if isinstance(array, np.generic):   # a 0-dim NumPy result: no weak reference to a scalar
            array = np.asarray(array)
        _STASH[id(array)] = value
        weakref.finalize(array, _STASH.pop, id(array), None)
    return array


def stashed(array):
    """What stash_for_backward left for `array` (None if nothing)."""
    return _STASH.get(id(array))


class NonDifferentiable:
    """An op whose floating-point outputs carry no gradient (with the reason why; and the
    error of its in-place form on a tensor that requires grad, where PyTorch words it).
    untracked_inplace: the in-place form writes past autograd, as PyTorch's ops without a
    derivative (DONT_REQUIRE_DERIVATIVE: logical_and_ ...): no leaf / view check, self keeps
    its requires_grad and grad_fn, only its version counts the write."""
    __slots__ = ("reason", "inplace_error", "untracked_inplace")

    def __init__(self, reason, inplace_error=None, untracked_inplace=False):
        self.reason = reason
        self.inplace_error = inplace_error
        self.untracked_inplace = untracked_inplace


def shape_param(value):
    """What a derivative's `<arg>_shape` parameter gets for the argument `value`: a
    tensor's shape as a tuple, a tuple of them for a Tensor[] argument, else None."""
    if _TENSOR[0] is None:
        # (bound before the first test: a first call that fell through to `value.shape`
        # read the size through the tracer's hook, and the trace's first op on a
        # parameter read it with a GetAttr of its own, in another order than later traces:
        # a check_trace graph diff on the first trace of a Conv2d / Linear that needs grad)
        from ..tensor import Tensor
        from ..nn.parameter import Parameter
        _TENSOR[:] = [Tensor, Parameter]
    cls = type(value)
    if cls is _TENSOR[0] or cls is _TENSOR[1]:
        return tuple(value._data.shape)     # (its array's shape: a tuple of ints, no Size)
    if isinstance(value, (list, tuple)):
        return tuple(shape_param(v) for v in value)
    shape = getattr(value, "shape", None)
    return tuple(shape) if shape is not None else None


_TENSOR = [None, None]      # (Tensor and Parameter: bound on first use)


def strides_param(value):
    """What a derivative's `<arg>_strides` parameter gets: a tensor's strides in elements
    (its array's), as ATen's formulas save `mat2_sym_strides` to lay a gradient out as the
    operand was (mm_mat2_backward); None for no tensor."""
    try:
        a = value._data
        st = a.strides
        isz = a.itemsize
    except (AttributeError, NotImplementedError):   # (None, a number, a sparse tensor)
        return None
    if len(st) == 2:                # (mm / addmm's matrices: no loop)
        return (st[0] // isz, st[1] // isz)
    return tuple([s // isz for s in st])


def _opdefs(target):
    from .registry import OpDef, OPS, OVERLOADS     # (the registry imports this module)
    if isinstance(target, OpDef):
        return [target]
    if isinstance(target, str):
        return [OPS[target]] if target in OPS else list(OVERLOADS[target])
    return [target.op]        # an impl function decorated with @op


def param_names(schema):
    """The names a derivative (or one of its `computes`) may take for an op of `schema`."""
    names = {a.name for a in schema.arguments} | {"result", "needs_grad"}
    names |= {a.name + suffix for a in schema.arguments
              if a.type.base == "Tensor" and not a.type.is_list
              for suffix in ("_shape", "_device", "_strides")}
    names |= {a.name + suffix for a in schema.arguments
              if a.type.base == "Tensor" and a.type.is_list
              for suffix in ("_shape", "_needs_grad")}
    return names


def derivative(*targets, wrt=None, reads=None, computes=None, raw=None):
    """@derivative(sigmoid) def _(grad, result): return grad * result * (1 - result)

    targets: impl functions declared with @op, OpDefs, or qualified names. wrt defaults to
    the schema's Tensor / Tensor[] arguments in order; reads, computes, raw: see Derivative.
    The in-place variant of each op gets the same derivative."""
    import inspect

    def deco(fn):
        params = [p for p in inspect.signature(fn).parameters if p != "grad"]
        for t in targets:
            for d in _opdefs(t):
                names = param_names(d.schema)
                for k, f in (computes or {}).items():
                    bad = [p for p in inspect.signature(f).parameters if p not in names]
                    if bad or k in names:
                        raise TypeError(f"derivative of {d.name}: `computes` {k!r} "
                                        f"{'takes ' + str(bad) if bad else 'is an argument'}"
                                        f" (not arguments of {d.schema})")
                    names.add(k)
                names.add("stash")      # (fn's only: taken once the op has run)
                names.add("grads_defined")
                bad = [p for p in params if p not in names]
                if bad:
                    raise TypeError(f"derivative of {d.name}: {bad} are not arguments of "
                                    f"{d.schema}")
                w = wrt if wrt is not None else tuple(
                    a.name for a in d.schema.arguments if a.type.base == "Tensor")
                if reads is not None and ("needs_grad" not in params or any(
                        p not in params for ps in reads.values() for p in ps)):
                    raise TypeError(f"derivative of {d.name}: `reads` needs needs_grad and "
                                    f"names only its parameters")
                if raw is not None and (len(d.schema.returns) != 1 or
                                        d.schema.returns[0].type.is_list or any(
                        a.type.base == "Tensor" and a.type.is_list
                        for a in d.schema.arguments)):
                    raise TypeError(f"derivative of {d.name}: `raw` is for ops of one "
                                    f"Tensor output and no Tensor[] argument")
                d.derivative = Derivative(fn, w, params, reads, computes, raw)
                if d.inplace_variant is not None:
                    d.inplace_variant.derivative = d.derivative
        return fn
    return deco


def not_implemented(*targets, message):
    """Mark ops PyTorch records without a derivative (derivatives.yaml: not_implemented,
    or no formula for a differentiable output): their floating outputs require grad and
    a backward reaching them raises RuntimeError(message), PyTorch's words."""
    def fn(grad):
        raise RuntimeError(message)
    # An op derivatives.yaml does not name (message "derivative for aten::<op> is not
    # implemented") gets autograd's not-implemented fallback node, whose edges are the
    # tensors that require grad, Tensor[] elements included (torch.floor_divide(x, y) of
    # an x requiring grad: one edge; histogramdd's bins: one per bin tensor); edgeless
    # drops the others (recording._edge_skip).
    fallback = message.startswith("derivative for aten::")
    for t in targets:
        for d in _opdefs(t):
            wrt = tuple(a.name for a in d.schema.arguments if a.type.base == "Tensor"
                        and (fallback or not a.type.is_list))
            d.derivative = Derivative(fn, wrt, ())
            d.derivative.not_implemented = message
            if fallback:
                d.derivative.edgeless = wrt
            if d.inplace_variant is not None:
                d.inplace_variant.derivative = d.derivative


def forward_derivative(*targets):
    """@forward_derivative(logcumsumexp) def _(self_t, self, dim, result): ...

    The op's forward-mode AD formula (PyTorch's derivatives.yaml result:), for the ops
    whose derivative's double-vjp does not give PyTorch's tangent: it takes, by name, the
    op's arguments, `result` (the primal output) and `<arg>_t` (that argument's tangent,
    zeros when it has none) and returns the output's tangent."""
    def deco(fn):
        for t in targets:
            for d in _opdefs(t):
                d.forward_derivative = fn
        return fn
    return deco


class NoForwardDerivative:
    """OpDef.forward_derivative of an op PyTorch has a backward formula for but no
    forward one: forward-mode AD refuses it with PyTorch's NotImplementedError, naming the
    ATen op that lacks it (`name`)."""

    def __init__(self, name):
        self.name = name


def no_forward_derivative(name, *targets):
    """Mark ops whose forward-mode AD PyTorch has not implemented (derivatives.yaml has no
    result: formula for `name`, the ATen op they reach)."""
    for t in targets:
        for d in _opdefs(t):
            d.forward_derivative = NoForwardDerivative(name)


def nondifferentiable(*targets, reason, inplace_error=None, untracked_inplace=False):
    """Mark ops whose outputs carry no gradient (integer-valued, random, comparisons...)."""
    for t in targets:
        for d in _opdefs(t):
            d.derivative = NonDifferentiable(reason, inplace_error, untracked_inplace)
            if d.inplace_variant is not None:
                d.inplace_variant.derivative = d.derivative



def run_computes(d, bound, made, extra, wanted, after):
    """Compute `d.computes`' values into `made` (which holds `result` when `after`, and
    the values computed so far): those that name `result` when `after`, else the others;
    None for one that `wanted` (the names the needed gradients read, or None: all) lacks.
    bound: the op's arguments by name; extra: needs_grad and `<arg>_needs_grad`."""
    if wanted is not None:         # (and the computed values those read)
        wanted = set(wanted)
        for name, f, ps in reversed(d.computes):
            if name in wanted:
                wanted.update(ps)
    for name, f, ps in d.computes:
        if ("result" in ps) is not after:
            continue
        if wanted is not None and name not in wanted:
            made[name] = None
            continue
        kw = {}
        for p in ps:
            if p in made:
                kw[p] = made[p]
            elif p in bound:
                kw[p] = bound[p]
            elif p in extra:
                kw[p] = extra[p]
            else:                                   # <arg>_shape
                kw[p] = shape_param(bound[p[:-6]])
        made[name] = f(**kw)


_RAW_DTYPES = frozenset({np.dtype(np.float32), np.dtype(np.float64)})


def raw_operands(grad, *arrays, expanded_grad=False):
    """Whether a pointwise formula's registry calls pass these arrays to their ufuncs as
    they are (Derivative.raw): one floating dtype (float32 / float64: no cast, no opmath),
    one shape (no broadcast) and C-contiguous (no TensorIterator layout of the result),
    not 0-d (a ufunc of 0-d arrays returns a NumPy scalar, which a formula's later
    `out=` cannot take: sigmoid's backward of a 0-d float32 input raised "return arrays
    must be of ArrayType").
    `expanded_grad`: a gradient of all-zero strides (sum()'s, expanded from one number)
    passes too where the formula's first op takes it with C-contiguous arrays: its
    TensorIterator orders the dims by those (C order), as NumPy's ufunc does.
    0-dim arrays never pass: a ufunc of 0-dim arrays returns a NumPy scalar, which the raw
    formulas' `out=` cannot take (tanh / sigmoid of a 0-dim float32 leaf raised "return
    arrays must be of ArrayType" at backward)."""
    dt, shape = grad.dtype, grad.shape
    if dt not in _RAW_DTYPES or not shape:
        return False
    if grad.ndim > 1 and not grad.flags.c_contiguous and not (
            expanded_grad and arrays and not any(grad.strides)):
        return False
    for a in arrays:
        if a.dtype != dt or a.shape != shape or (a.ndim > 1 and not a.flags.c_contiguous):
            return False
    return True
