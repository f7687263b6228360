"""Bind the registry onto the public surfaces: `gpujit.<fn>`, `Tensor.<method>`, the Python
operators, and `gpujit.nn.functional`. Run once by `gpujit/__init__.py` after every op
family is imported. Nothing here defines behaviour; it only names registry entry points.
"""
from __future__ import annotations

from . import registry
from ..dtypes import dtype as _dtype

# Python operator -> (registry public name, how the operands are arranged)
OPERATORS = {
    "__add__": ("add", "fwd"), "__radd__": ("add", "fwd"),
    "__sub__": ("sub", "fwd"), "__rsub__": ("rsub", "py"),
    "__mul__": ("mul", "fwd"), "__rmul__": ("mul", "fwd"),
    "__truediv__": ("div", "fwd"), "__rtruediv__": ("div", "rev"),
    "__div__": ("div", "fwd"), "__rdiv__": ("div", "rev"), "__idiv__": ("div_", "fwd"),
    "__floordiv__": ("floor_divide", "fwd"), "__rfloordiv__": ("floor_divide", "rev"),
    "__mod__": ("remainder", "fwd"), "__rmod__": ("remainder", "rev"),
    "__pow__": ("pow", "fwd"), "__rpow__": ("pow", "rev"),
    "__matmul__": ("matmul", "fwd"), "__rmatmul__": ("matmul", "rev"),
    "__and__": ("__and__", "fwd"), "__rand__": ("bitwise_and", "fwd"),
    "__or__": ("__or__", "fwd"), "__ror__": ("bitwise_or", "fwd"),
    "__xor__": ("__xor__", "fwd"), "__rxor__": ("bitwise_xor", "fwd"),
    "__lshift__": ("__lshift__", "fwd"), "__rshift__": ("__rshift__", "fwd"),
    "__rlshift__": ("bitwise_left_shift", "rev"), "__rrshift__": ("bitwise_right_shift", "rev"),
    "__lt__": ("lt", "fwd"), "__le__": ("le", "fwd"), "__gt__": ("gt", "fwd"),
    "__ge__": ("ge", "fwd"),
    "__neg__": ("neg", "unary"), "__abs__": ("abs", "unary"), "__pos__": ("positive", "unary"),
    "__invert__": ("bitwise_not", "unary"),
    "__iadd__": ("add_", "fwd"), "__isub__": ("sub_", "fwd"), "__imul__": ("mul_", "fwd"),
    "__itruediv__": ("div_", "fwd"), "__ifloordiv__": ("floor_divide_", "fwd"),
    "__imod__": ("remainder_", "fwd"), "__ipow__": ("pow_", "fwd"),
    "__iand__": ("__iand__", "fwd"), "__ior__": ("__ior__", "fwd"),
    "__ixor__": ("__ixor__", "fwd"),
    "__ilshift__": ("__ilshift__", "fwd"), "__irshift__": ("__irshift__", "fwd"),
}

# the __name__ of torch 2.13's operator where it is not the dunder's own (its
# __rtruediv__ is its __rdiv__, its __pow__ TensorBase.pow wrapped)
OPERATOR_NAMES = {"__rtruediv__": "__rdiv__", "__itruediv__": "__idiv__", "__pow__": "pow",
                  "__ipow__": "pow_"}


def varargs_overload(ovs):
    """The overload of a method that takes its int list as varargs (x.view(2, 3),
    x.permute(1, 0), x.vsplit(1, 2), x.squeeze(0, 1)), or None: PyTorch's parser allows
    them where a signature's one positional parameter (self aside) is an unsized int[] /
    SymInt[] (python_arg_parser.cpp, allow_varargs_intlist; a sized one, std's int[1]
    dim, takes one int itself)."""
    for d in ovs:
        pos = [a for a in d.schema.arguments[1:] if not a.kwarg_only]
        if len(pos) == 1 and pos[0].type.is_list and pos[0].type.list_size is None and \
                pos[0].type.base in ("int", "SymInt"):
            return d
    return None


def _takes_one_int(ovs, sized_op):
    """Does a lone int (or 0-dim Tensor) go to the method as it is, not as a one-element
    list: where an overload's first positional parameter is an int (x.vsplit(2) is
    vsplit.int's sections) or the list parameter takes a bare int (x.squeeze(0))."""
    for d in ovs:
        pos = [a for a in d.schema.arguments[1:] if not a.kwarg_only]
        if pos and pos[0].type.base in ("int", "SymInt") and not pos[0].type.is_list:
            return True
    a = sized_op.schema.arguments[1]
    return registry.int_list_takes_int(sized_op, a)


# torch's top-level in-place functions (torch.relu_(x) is x.relu_()), bound where Tensor has
# the method; torch has no torch.add_ / mul_ ..., so neither does gpujit
TOPLEVEL_INPLACE = (
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_",
    "arctan_", "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "celu_", "clamp_",
    "clamp_max_", "clamp_min_", "clip_", "conj_physical_", "cos_", "cosh_", "deg2rad_",
    "detach_", "erf_",
    "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "gcd_", "i0_",
    "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_",
    "negative_", "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_", "selu_",
    "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "threshold_",
    "trunc_", "xlogy_", "zero_")


def _rdiv_entry(reciprocal, mul):
    """Tensor.__rtruediv__ (`2 / x`) as torch 2.13's Python-level Tensor.__rdiv__:
    x.reciprocal() * other, not a true division (the reciprocal's rounding stays in the
    result: 7 / x differs from torch.div(7, x) in the last bit for about one float32 in
    four; the graph a trace records is reciprocal, mul), a TypeError (an operand mul
    refuses) NotImplemented so that Python raises its own error."""
    def rdiv(self, other):
        return mul(reciprocal(self), other)

    def __rdiv__(self, *args, **kwargs):
        # (torch's wrapper: an argument rdiv does not take is NotImplemented too)
        try:
            return rdiv(self, *args, **kwargs)
        except TypeError as e:
            if isinstance(e, NotImplementedError):
                raise
            return NotImplemented
    __rdiv__.__qualname__ = "Tensor.__rdiv__"
    return __rdiv__


def _method_as_function(name):
    def fn(input, *args, **kwargs):
        try:
            method = getattr(input, name)
        except AttributeError:
            # (torch.relu_(None): PyTorch's parser TypeError, not the AttributeError)
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}") from None
        return method(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name}(input, ...): input.{name}(...)."
    return fn


def _varargs(fn, sizes_fn=None, one_int=False):
    """A method taking sizes as varargs (x.view(2, 3)); `sizes_fn`, when given, is the
    overload that takes sizes, called directly (x.view(torch.int32) goes to `fn`, which
    chooses among the overloads: choosing costs ~2 us a call). Values PyTorch's parser
    refuses there get its TypeError: x.flip(0.5) (one value: not a tuple of ints),
    x.flip(0, 0.5) (an element it cannot unpack), x.permute(1.0, 0) (several values, the
    first no int: one positional argument expected), x.flip() (none). `one_int`: a lone
    value that is no sequence goes to `fn` as it is (x.vsplit(2): sections), but a Tensor
    of one or more dims, which no int parameter takes (x.vsplit(torch.tensor([1])): the
    varargs [1], as PyTorch's parser takes a one-element integral Tensor)."""
    sized = sizes_fn or fn
    name = fn.__name__
    overloaded = hasattr(fn, "overloads")      # (x.view(0.5): the overloads' own error)
    sized_op = getattr(sized, "op", None)
    arg = sized_op.schema.arguments[1].name if sized_op is not None else "size"
    # (x.squeeze(): no value is the overloads' choice, or the parameter's default)
    none_ok = overloaded or (sized_op is not None and sized_op.schema.arguments[1].has_default)

    def method(self, *sizes, **kwargs):
        n = len(sizes)
        if n == 1:
            s = sizes[0]
            if isinstance(s, (list, tuple)):
                sizes = tuple(s)
            elif one_int and not (isinstance(s, registry._Tensor) and s._data.ndim):
                return fn(self, s, **kwargs)
            elif isinstance(s, _dtype):      # x.view(torch.int32)
                return fn(self, s, **kwargs)
            elif s.__class__ is not int and not _int_like(s):
                if overloaded:
                    return fn(self, s, **kwargs)
                raise TypeError(f"{name}(): argument '{arg}' (position 1) must be tuple of "
                                f"ints, not {registry.type_name(s)}")
        elif n:
            for v in sizes:                  # (a loop, not all(genexpr): no frame per call)
                if v.__class__ is not int:
                    return _varargs_slow(self, sizes, kwargs, fn, sized, name, arg,
                                         overloaded)
        else:
            if kwargs or none_ok:
                return fn(self, **kwargs)
            raise TypeError(f'{name}() missing 1 required positional arguments: "{arg}"')
        try:                # (no cost in a call that does not raise)
            if kwargs:
                return sized(self, sizes, **kwargs)
            return sized(self, sizes)
        except TypeError:
            if overloaded and n == 1 and isinstance(s, (list, tuple)):
                _sequence_refused(self, s, kwargs, fn)
            raise
    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


def _sequence_refused(self, s, kwargs, fn):
    """x.view([2.0, 3]): a sequence whose first element is no int matches none of an
    overloaded method's signatures: the overloads' "invalid combination of arguments"
    (raised by fn, which chooses among them)."""
    first = s[0] if s else 0
    if not _int_like(first) or (isinstance(first, registry._Tensor) and (
            first._data.size != 1 or first._data.dtype.kind not in "iub")):
        fn(self, s, **kwargs)


def _varargs_slow(self, sizes, kwargs, fn, sized, name, arg, overloaded):
    """_varargs' method for several values of which one is no int: PyTorch's parser errors."""
    if overloaded and not _int_like(sizes[0]):
        return fn(self, *sizes, **kwargs)
    check_int_sizes(name, arg, sizes)
    return sized(self, tuple(sizes), **kwargs)


def check_int_sizes(name, arg, sizes, varargs=True):
    """PyTorch's parser errors for the values of one `tuple of ints` parameter (`arg` of
    method `name`): given as varargs whose first is no int, x.new_zeros(2.0, 3) is two
    positional arguments; an element that is no int fails to unpack (x.flip(0, 0.5))."""
    if varargs and not _int_like(sizes[0]):
        raise TypeError(f"{name}() takes 1 positional argument but {len(sizes)} "
                        f"were given")
    for i, v in enumerate(sizes):
        if not _int_like(v):
            raise TypeError(f"{name}(): argument '{arg}' failed to unpack the object "
                            f"at pos {i + 1} with error \"type must be tuple of "
                            f"ints,but got {type(v).__name__}\"")


def _int_like(v):
    """What PyTorch's parser takes as one int of an int list: an int (not a bool), a NumPy
    integer or a Tensor (its conversion checks it)."""
    import numpy as np
    return (isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))) or \
        isinstance(v, registry._Tensor)


_TENSOR_OPTIONS = frozenset({"dtype", "layout", "device", "pin_memory"})


def _factory_binding(d) -> bool:
    """Is op d a factory PyTorch's Python binding gives `requires_grad=` (one taking
    TensorOptions: zeros_like, full_like, scalar_tensor ...) that its schema leaves out?"""
    names = {a.name for a in d.schema.arguments}
    return _TENSOR_OPTIONS <= names and "requires_grad" not in names


def _with_requires_grad(name, fn):
    """Factory function `name` taking PyTorch's keyword-only requires_grad: the result a
    leaf that requires grad (an integral one refused in PyTorch's words)."""
    def factory(*args, requires_grad=False, **kwargs):
        if requires_grad.__class__ is not bool:
            raise TypeError(f"{name}(): argument 'requires_grad' must be bool, not "
                            f"{registry.type_name(requires_grad)}")
        r = fn(*args, **kwargs)
        return r._factory_requires_grad() if requires_grad else r
    from .out_variants import dressed_as
    return dressed_as(factory, fn, name)


def bind(namespace: dict, tensor_cls, functional_ns: dict):
    from .out_variants import python_out, with_out
    from .entry_codegen import operator_entry, invert_entry
    functions = registry.public_bindings("function")
    methods = registry.public_bindings("method")
    from .deprecated_signatures import FORMS, with_deprecated, fallback_for
    for name, fn in functions.items():
        ovs = registry._PUBLIC["function"][name]
        # torch.div(a, b, out=o): PyTorch's .out overloads (out_variants.py); torch's
        # deprecated forms (torch.add(x, 2, y)) on its failure path
        namespace[name] = with_out(name, fn, ovs, fallback_for(name, namespace)) \
            if any(python_out(d) for d in ovs) else fn
        if all(_factory_binding(d) for d in ovs):
            namespace[name] = _with_requires_grad(name, namespace[name])
    own = set(vars(tensor_cls))
    for name, fn in methods.items():
        if name in own:
            continue   # a Python-level method of Tensor (to, float, size ...) wins
        ovs = registry._PUBLIC["method"][name]
        sized = varargs_overload(ovs)
        if sized is not None:
            fn = _varargs(fn, sized.method_public, _takes_one_int(ovs, sized))
        setattr(tensor_cls, name, fn)
    if "copy_" in vars(tensor_cls):
        tensor_cls.copy_ = _copy_method(vars(tensor_cls)["copy_"])
    for name, fn in registry.EXTRA_METHODS.items():
        if name not in own:
            setattr(tensor_cls, name, fn)
    for name, fn in registry.public_bindings("functional").items():
        functional_ns.setdefault(name, fn)   # a Python adapter in nn/functional.py wins
    for dunder, (name, how) in OPERATORS.items():
        fn = methods.get(name) or functions.get(name)
        if fn is None:
            continue
        if how != "unary":
            # PyTorch's operators return NotImplemented on a TypeError (x + "a", x == "a":
            # Python's own error, or identity for == and !=), in the op's entry point
            # itself (no wrapping frame): entry_codegen.operator_entry
            # (an operator is the overload over (self, other) alone: `/` is div.Tensor,
            # not div.Tensor_mode)
            op = getattr(fn, "op", None) if not hasattr(fn, "overloads") else next(
                (d for d in fn.overloads if len(d.schema.arguments) == 2), None)
            assert op is not None, dunder
            # ("rev", "py": torch's Python-level operators over (self, other) only)
            fn = operator_entry(op, OPERATOR_NAMES.get(dunder, dunder), reflected=how == "rev",
                                python_level=how in ("rev", "py"))
        setattr(tensor_cls, dunder, fn)
    if "reciprocal" in methods and "mul" in methods:
        tensor_cls.__rtruediv__ = tensor_cls.__rdiv__ = _rdiv_entry(
            methods["reciprocal"], methods["mul"])
    if "eq" in methods:
        # (torch 2.13's __eq__ takes an ndarray as its Tensor, its __ne__ does not)
        tensor_cls.__eq__ = operator_entry(methods["eq"].op, "__eq__", ndarray_other=True)
        tensor_cls.__ne__ = operator_entry(methods["ne"].op, "__ne__")
        tensor_cls.__hash__ = lambda self: id(self)
    if "bitwise_not" in methods:
        # (torch 2.13's ~x of a floating tensor is a TypeError, its x.bitwise_not() the
        # kernel's NotImplementedError)
        tensor_cls.__invert__ = invert_entry(methods["bitwise_not"].op)
    for name in TOPLEVEL_INPLACE:
        if name not in namespace and hasattr(tensor_cls, name):
            namespace[name] = _method_as_function(name)
    # torch's deprecated Scalar-first forms (p.add_(-lr, g), torch.addmm(beta, M, a, b)):
    # a function without out= (with_out's fallback has the others) and the methods wrapped
    for base in FORMS:
        if base in namespace and not hasattr(namespace[base], "__wrapped__"):
            namespace[base] = with_deprecated(base, namespace[base], False)
        for name in (base, base + "_"):
            # (add / sub: their `*_a` slow path, numpy_aliases.call_renamed, takes the forms)
            code = getattr(vars(tensor_cls).get(name), "__code__", None)
            if name in vars(tensor_cls) and "_a" not in getattr(code, "co_varnames", ()):
                setattr(tensor_cls, name, with_deprecated(name, vars(tensor_cls)[name], True))


def _copy_method(plain):
    """Tensor.copy_ as torch 2.13's hand-written binding (python_variable_methods.cpp):
    `copy_(Tensor other, bool non_blocking=False)`, so x.copy_(other=y) works and
    x.copy_(src=y) is refused, although the aten schema (scripted code) names it src."""
    def copy_(self, *args, **kwargs):
        if not kwargs and len(args) == 1:
            try:        # (a `try` costs nothing until something is raised)
                return plain(self, args[0])
            except TypeError as e:
                raise _renamed(e, False) from None
        vals, kw = list(args), dict(kwargs)
        for i, n in enumerate(("other", "non_blocking")):
            if n in kw:
                if i < len(args):
                    raise TypeError(f"copy_() got multiple values for argument '{n}'")
                vals.append(kw.pop(n))
            elif i == len(vals) and n == "non_blocking" and len(vals) == 1:
                vals.append(False)
        if kw and not (set(kw) == {"src"} and len(vals) == 0):
            raise TypeError(f"copy_() got an unexpected keyword argument '{next(iter(kw))}'")
        if not vals:
            if kw:      # (src=: torch's parser names the parameter its binding has)
                raise TypeError('copy_() missing 1 required positional arguments: "other"')
        if len(vals) != 2:
            from .parser_errors import _typename
            got = ", ".join(_typename(v) for v in args)
            raise TypeError(f"copy_() received an invalid combination of arguments - got "
                            f"({got}), but expected (Tensor other, bool non_blocking = False)")
        try:
            return plain(self, *vals)
        except TypeError as e:
            raise _renamed(e, "other" in kwargs) from None

    def _renamed(e, keyword):
        msg = str(e)
        if "argument 'src' (position 1)" not in msg:
            return e
        where = "argument 'other'" + ("" if keyword else " (position 1)")
        return TypeError(msg.replace("argument 'src' (position 1)", where))

    copy_.__name__, copy_.__qualname__ = "copy_", "Tensor.copy_"
    copy_.__doc__ = plain.__doc__
    copy_.__wrapped__ = plain
    if hasattr(plain, "op"):
        copy_.op = plain.op
    return copy_
