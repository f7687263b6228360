"""Calls of Python functions in scripted code and what decides how a callee compiles:
FunctionCallMixin (ExprCompiler's methods: a plain Python function compiled recursively
from its source, @torch.jit._overload picking, prim::CallFunction with the callee graph,
argument conversion to the parameters' types: broadcasting lists, empty list literals,
tuples for lists), `alias_target` (special.expit is gpujit.sigmoid, linalg.<name> is
aten::linalg_<name>), TorchScript's boolean dispatch (`boolean_dispatch`, NOT_LITERAL),
`compiled_from_source` / `is_compiled_function`, and TorchScript's int coding of dtypes
and layouts (`as_int_coded`). Resolving a call to a registry overload is calls.py's."""
from __future__ import annotations

import inspect

from ...ir import types as T
from ...ops import registry as _reg
from .calls import describe_type, is_empty_list_literal, union_hint

__all__ = ["FunctionCallMixin", "alias_target", "boolean_dispatch", "NOT_LITERAL",
           "compiled_from_source", "script_source", "is_compiled_function", "as_int_coded",
           "interface_why"]


def alias_target(module, name):
    """(name, module) a scripted `module.name(...)` call resolves by: another name for a
    function of gpujit or gpujit.nn.functional (gpujit.special.expit is gpujit.sigmoid,
    special.psi is gpujit.digamma) becomes a call of that function, an op's entry point
    bound only in `module` (special.ndtr) a call of its op; linalg.<name> is the op
    aten::linalg_<name> (all its overloads: linalg.norm's Scalar and str orders)."""
    import gpujit
    if module is getattr(gpujit, "linalg", None) and f"aten::linalg_{name}" in _reg.OVERLOADS:
        return f"linalg_{name}", gpujit     # torch.linalg.<name> is aten::linalg_<name>
    obj = getattr(module, name, None)
    real = getattr(obj, "__name__", name)
    if not inspect.isfunction(obj) or real == name:
        return name, module
    for home in (gpujit, gpujit.nn.functional):
        if getattr(home, real, None) is obj:
            return real, home
    if getattr(obj, "op", None) is not None:       # an op bound only there: special.ndtr
        return obj.op.public_name, gpujit
    return name, module


def boolean_dispatch(obj, node, resolve=None):
    """TorchScript's boolean dispatch: a gpujit function whose result type depends on a
    bool flag (torch.unique's return_inverse / return_counts) names, in
    `__gpujit_boolean_dispatch__`, (flag, position, default, if_true, if_false); a call
    with the flag a literal (or left out) compiles the variant it selects, which may
    dispatch again; one whose variants are the same function (F.*_with_indices, whose
    return_indices torch ignores) compiles it whatever the flag. Returns obj itself when it
    does not dispatch, NOT_LITERAL when the flag is not a literal (`resolve(ast_node)` ->
    (True, value) for a compile-time constant that is not a literal: a module's
    __constants__ attribute)."""
    import ast
    given = getattr(obj, "__gpujit_given_dispatch__", None) if callable(obj) else None
    if given is not None:
        # a function whose optional argument, when the call gives one (not the literal
        # None), takes another path (F.mse_loss's weight=: its Python-level weighted loss)
        param, pos, variant = given
        arg = next((k.value for k in node.keywords if k.arg == param), None)
        if arg is None and len(node.args) > pos:
            arg = node.args[pos]
        if arg is not None and not (isinstance(arg, ast.Constant) and arg.value is None):
            obj = variant
    while callable(obj) and getattr(obj, "__gpujit_boolean_dispatch__", None):
        flag, pos, default, if_true, if_false = obj.__gpujit_boolean_dispatch__
        if if_true is if_false:
            obj = if_true
            continue
        arg = next((k.value for k in node.keywords if k.arg == flag), None)
        if arg is None and len(node.args) > pos:
            arg = node.args[pos]
        if arg is None:
            value = default
        elif isinstance(arg, ast.Constant) and isinstance(arg.value, bool):
            value = arg.value
        else:
            # a module constant (MaxPool1d's self.return_indices, in __constants__)
            ok, value = resolve(arg) if resolve is not None else (False, None)
            if not ok or not isinstance(value, bool):
                return NOT_LITERAL
        obj = if_true if value else if_false
    return obj


NOT_LITERAL = object()


def interface_why(t, want) -> str:
    """': <why>' when `want` is a class interface that class type t does not implement
    (TorchScript's 'does not have method' / 'is not compatible with interface'), else ''."""
    if isinstance(want, T.InterfaceType) and not want.is_module and \
            isinstance(t, T.ClassType) and not isinstance(t, T.NamedTupleType):
        why = T.interface_mismatch(t, want)
        return f": {why}" if why else ""
    return ""


def compiled_from_source(obj) -> bool:
    """Is obj a gpujit Python function that scripted code compiles from its own source
    (nn.functional's composites of ops, marked by `_from_source` there: F.tanhshrink)?"""
    return inspect.isfunction(obj) and bool(getattr(obj, "__gpujit_script_source__", False))


def script_source(obj):
    """The function whose source scripted code compiles for obj: obj itself, or the one
    its __gpujit_script_source__ names where PyTorch's Python binding and its TorchScript
    builtin differ (torch.hinge_embedding_loss: unreduced by default in eager code only)."""
    src = getattr(obj, "__gpujit_script_source__", None)
    return src if inspect.isfunction(src) else obj


def _int_coded(t):
    """A dtype or layout: an int in TorchScript (saved code annotates it `int`)."""
    return isinstance(t, (T.ScalarTypeType, T.LayoutType))


def as_int_coded(t):
    """t with dtypes and layouts as TorchScript's ints, also inside Optional (saved code
    annotates a function that returns x.dtype `-> int`, or `-> Optional[int]`)."""
    if _int_coded(t):
        return T.INT
    if isinstance(t, T.OptionalType) and _int_coded(t.elem):
        return T.OptionalType(T.INT)
    return t


def _opt_int(t):
    return isinstance(t, T.IntType) or (isinstance(t, T.OptionalType) and
                                        isinstance(t.elem, T.IntType))


class FunctionCallMixin:
    def call_python_function(self, fn, node):
        """A call of a plain Python function: compiled from its own source and signature
        (recursively; cached for the duration of the outermost compile), then called."""
        from .compiler import compile_callee
        from ...jit.script import function_modifier
        if function_modifier(fn) in ("ignore", "drop"):
            self.error(f"'{fn.__name__}' is marked @ignore / @unused and cannot be called "
                       f"from a scripted function", node,
                       hint="remove the marker so that it is compiled too")
        where = self.src.range(node)
        from ..._jit_internal import _get_overloads
        decls, call_args, decl, name = _get_overloads(fn), None, None, fn.__name__
        if decls:           # @torch.jit._overload: the declaration the arguments fit
            from .overloads import pick_overload
            call_args = self.call_args(node)
            k, decl = pick_overload(self, fn, decls, *call_args, node)
            name = f"{name}__{k}"         # (each overload is a function of its own)
        try:
            graph = compile_callee(fn, where, self.src.name, signature_from=decl)
        except _frontend_error() as e:
            if getattr(e, "source_range", 0) is None and hasattr(e, "message"):
                # no line of the callee to show (a lambda, `self.act = lambda t: t + 1`):
                # the call's line, as torch shows it
                self.error(f"{e.message} (compiling '{fn.__name__}', called here)", node,
                           hint=e.hint, cls=type(e))
            # the error points into the callee; say where it was called from
            if not str(e).startswith(f"function '{fn.__name__}' is called recursively"):
                e.args = (f"{e.args[0]}\n  (in '{fn.__name__}', called from "
                          f"'{self.src.name}' at {where.filename}:{where.line})",)
            raise
        return self.call_function(fn, graph, name, node, call_args, overload=decl)

    def call_function(self, fn, graph, name, node, call_args=None, overload=None):
        """prim::CallFunction[name=...](*args) with the callee graph in node.meta["callee"]
        (the inliner, executor and interpreter call it from there). Arguments bind by
        the Python signature when there is one (keywords, defaults); call_args: the
        (args, kwargs) values when the caller has evaluated them already; overload: the
        @_overload declaration the callee was compiled for (its own qualified name)."""
        args, kwargs = call_args if call_args is not None else self.call_args(node)
        params = list(graph.inputs)
        original = getattr(fn, "_original", fn)
        try:
            sig = inspect.signature(original) if callable(original) else None
        except (TypeError, ValueError):
            sig = None
        if sig is not None and len(sig.parameters) == len(params):
            from .signatures import broadcast_lengths
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as e:
                self.error(f"{_binding_words(name, sig, graph, args, kwargs)}cannot call "
                           f"'{name}': {e}", node)
            values = []
            for p_name, p in sig.parameters.items():
                if p_name in bound.arguments:
                    values.append(bound.arguments[p_name])
                else:
                    k = len(values)
                    t = params[k].type
                    # (a None default is a NoneType constant, as TorchScript's schema
                    # matching inserts it: it pools with the other Nones; a broadcasting
                    # list's number, `padding: BroadcastingList2[int] = 0`, is that number,
                    # made a ListConstruct of n copies below, as TorchScript's)
                    n = broadcast_lengths(original).get(p_name)
                    if n is not None and isinstance(p.default, (int, float)) and \
                            isinstance(t, T.ListType):
                        values.append(self.const(_default_as(p.default, t.elem)))
                    else:
                        values.append(self.const(_default_as(p.default, t, n)))
        else:
            if kwargs or len(args) != len(params):
                self.error(f"'{name}' takes {len(params)} positional arguments but "
                           f"{len(args)}{' and keywords' if kwargs else ''} were given", node)
            values = args
        # (a number for a broadcasting list parameter is n copies of it, before a library
        # composite's List[int] takes it as a one-element list)
        values = [self.broadcast_for_param(v, p) for v, p in zip(values, params)]
        values = [self.tuple_for_list_param(v, p.type, compiled_from_source(fn))
                  for v, p in zip(values, params)]
        values = [self.empty_list_for_param(v, p.type) for v, p in zip(values, params)]
        from .future_calls import implicit_wait        # an Await[T] passed for a T
        values = [v if isinstance(p.type, (T.AwaitType, T.AnyType)) else implicit_wait(self, v)
                  for v, p in zip(values, params)]
        # TorchScript's implicit conversions of arguments (g(flag) of `g(x: int)` passes
        # 1, g(t) a Tensor's aten::IntImplicit)
        values = [self.implicit_conversion(v, p.type) for v, p in zip(values, params)]
        for k, (v, p) in enumerate(zip(values, params)):
            ok = v.type.is_subtype_of(p.type) or (
                isinstance(v.type, T.TensorType) and isinstance(p.type, T.TensorType)) or (
                _int_coded(v.type) and _opt_int(p.type)) or \
                as_int_coded(v.type).is_subtype_of(as_int_coded(p.type))
            if not ok:
                base, _, suffix = p.debug_name.rpartition(".")    # (x, not torch's x.1)
                pname = base if base and suffix.isdigit() else p.debug_name
                from .library_functions import torch_signature_refusal
                said = torch_signature_refusal(original, pname, v.type)
                if said is not None:        # (F.dropout1d(x, 0): torch's schema and words)
                    self.error(said, node)
                self.error(f"Expected a value of type '{p.type.annotation()}' for argument "
                           f"'{pname}' but instead found type '{v.type.annotation()}': "
                           f"argument {k + 1} ('{pname}') of '{name}' must be "
                           f"{describe_type(p.type)}, got {describe_type(v.type)}"
                           f"{interface_why(v.type, p.type)}", node,
                           hint=union_hint(v) if isinstance(v.type, T.UnionType)
                           else None)
        outs = [_generalized(t) for t in graph.output_types()]
        # TorchScript's insertFunctionCall: the callee a `Function` constant (no source
        # range) after the arguments, the call's first input; the name stays an attribute
        # too (readers' labels; the printer leaves it out)
        # (named as torch's callee->name(): an overload's too, `add_pair`, not the
        # declaration's add_pair__0; it pools by callee: meta["function"])
        shown = getattr(original, "__name__", None)
        fn_value = self.graph.create(
            "prim::Constant", [], output_types=[T.FUNCTION],
            attrs={"name": shown if isinstance(shown, str) and shown.isidentifier()
                   else name})
        fn_value.meta["function"] = graph
        self.block.append(fn_value)
        n = self.emit("prim::CallFunction", [fn_value.output] + values, outs,
                      attrs={"name": name})
        n.meta["callee"] = graph
        if sig is not None and len(sig.parameters) == len(params):
            # (the callee's defaults, as TorchScript's schema keeps them: jit.save writes
            # `def helper(x: Tensor, k: int=2)`)
            from .signatures import broadcast_lengths
            lengths = broadcast_lengths(original)
            n.meta["defaults"] = {
                i: _default_as(p.default, params[i].type, lengths.get(name_))
                for i, (name_, p) in enumerate(sig.parameters.items())
                if p.default is not inspect.Parameter.empty}
        from ..qualified_names import function_name
        n.meta["qualified_name"] = function_name(fn, overload)    # (.code: `__torch__.helper(x, )`)
        if len(outs) == 1:
            return n.output
        return self.emit("prim::TupleConstruct", n.outputs, [T.TupleType(tuple(outs))]).output

    def broadcast_for_param(self, v, p):
        """v passed for the callee's parameter p (a graph input): a number for a
        broadcasting list parameter (BroadcastingList2[int], _size_2_t) becomes the list
        of n copies of it, as TorchScript; any other value is returned as it is."""
        g = p.node.graph
        n = g.broadcast.get(p.offset) if g.broadcast and p.node is g.block.param_node \
            else None
        # (also an Optional one: F.max_pool2d's `stride: Optional[BroadcastingList2[int]]`)
        t = p.type.elem if isinstance(p.type, T.OptionalType) else p.type
        if n is None or not isinstance(t, T.ListType) or \
                not isinstance(v.type, (T.IntType, T.FloatType, T.BoolType)):
            return v
        if not v.type.is_subtype_of(t.elem):
            return v
        return self.emit("prim::ListConstruct", [v] * n, [t]).output

    def empty_list_for_param(self, v, ptype):
        """`f([])`: an empty list literal takes the list type of the parameter it is
        passed to, as TorchScript's prim::EmptyListLiteral (unannotated, it would be a
        List[Tensor]); any other value is returned as it is."""
        pt = ptype.elem if isinstance(ptype, T.OptionalType) else ptype
        if not (isinstance(pt, T.ListType) and v.type != pt and is_empty_list_literal(v)):
            return v
        new = self.emit("prim::ListConstruct", [], [pt]).output
        if not v.uses:
            v.node.destroy()
        return new

    def tuple_for_list_param(self, v, ptype, calls_source=False):
        """A tuple passed for a List[E] (or Optional[List[E]]) parameter becomes a list, as
        TorchScript converts (f((1, 2)) for `s: List[int]`), and in gpujit's own library
        composites an int for a List[int] one ([n]); for a Union holding a List[E]
        only in gpujit's own library composites (F.interpolate(x, size=(5, 7)), whose
        TorchScript overloads take List[int])."""
        t = ptype.elem if isinstance(ptype, T.OptionalType) else ptype
        if calls_source and isinstance(v.type, T.IntType) and isinstance(t, T.ListType) \
                and v.type.is_subtype_of(t.elem):
            # TorchScript's BroadcastingList: F.max_pool1d(x, 3) in gpujit's library
            # composites; their ops repeat a one-element list over the dims
            return self.emit("prim::ListConstruct", [v], [t]).output
        if calls_source and isinstance(v.type, T.ListType) and isinstance(t, T.ListType) \
                and v.node.kind == "prim::ListConstruct" and not v.type.is_subtype_of(t) \
                and v.type.elem.is_subtype_of(t.elem):
            # a list literal of ints for a library composite's List[Optional[int]]
            # (F.adaptive_max_pool2d(x, [3, 2]): TorchScript's F takes List[int] there;
            # gpujit's also takes None entries)
            return self.emit("prim::ListConstruct", list(v.node.inputs), [t]).output
        if not isinstance(v.type, T.TupleType) or v.type.is_subtype_of(ptype):
            return v
        if isinstance(t, T.UnionType) and calls_source:
            lists = [m for m in t.types if isinstance(m, T.ListType)]
            t = lists[0] if len(lists) == 1 else t
        if not isinstance(t, T.ListType) or \
                not all(e.is_subtype_of(t.elem) for e in v.type.elems):
            return v
        elems = v.node.inputs if v.node.kind == "prim::TupleConstruct" else \
            self.emit("prim::TupleUnpack", [v], list(v.type.elems)).outputs
        return self.emit("prim::ListConstruct", list(elems), [t]).output


def is_compiled_function(obj):
    """A gpujit.script'ed or gpujit.trace'd function (a ScriptFunction and its graph)."""
    from ...jit.objects import ScriptFunction
    return isinstance(obj, ScriptFunction)


def _frontend_error():
    from .errors import FrontendError
    return FrontendError


_generalized = T.without_shapes


def _default_as(value, t, broadcast=None):
    """A parameter's default converted to its declared type, as TorchScript converts
    it when it compiles the signature (``p: float = 2`` is the float 2.0; a broadcasting
    list's one element, `BroadcastingList2[int] = 1`, the list [1, 1])."""
    if isinstance(t, T.OptionalType):
        t = t.elem
    if broadcast is not None and isinstance(t, T.ListType) and \
            not isinstance(value, (list, tuple)) and value is not None:
        return [_default_as(value, t.elem)] * broadcast
    if isinstance(value, int) and not isinstance(value, bool) and \
            isinstance(t, T.FloatType):
        return float(value)
    return value


def _binding_words(name, sig, graph, args, kwargs) -> str:
    """TorchScript's words for a call of a scripted function its arguments do not fit
    (torch 2.13): the callee's schema, `helper(int a, int b=2) -> int:`, then why
    ("Argument b not provided.", "Expected at most 2 arguments but found 3 positional
    arguments.", "Keyword argument c unknown.", "Keyword argument a specified twice."),
    then ":" and a space (gpujit's words follow)."""
    params = list(sig.parameters.values())
    shown = []
    for p, v in zip(params, graph.inputs):
        text = f"{v.type.annotation()} {p.name}"
        if p.default is not inspect.Parameter.empty:
            text += f"={p.default!r}" if not isinstance(p.default, bool) else \
                f"={p.default}"
        shown.append(text)
    outs = graph.outputs
    ret = outs[0].type.annotation() if len(outs) == 1 else \
        f"({', '.join(o.type.annotation() for o in outs)})"
    names = [p.name for p in params]
    if len(args) > len(params):
        why = (f"Expected at most {len(params)} arguments but found {len(args)} positional "
               f"arguments.")
    else:                       # (in torch's order: the parameters, then what is left)
        why = None
        for k, p in enumerate(params):
            if k < len(args) and p.name in kwargs:
                why = f"Keyword argument {p.name} specified twice."
            elif k >= len(args) and p.name not in kwargs and \
                    p.default is inspect.Parameter.empty:
                why = f"Argument {p.name} not provided."
            if why:
                break
        why = why or next((f"Keyword argument {k} unknown." for k in kwargs
                           if k not in names), None)
    if why is None:
        return ""
    return f"{name}({', '.join(shown)}) -> {ret}:\n{why}: "
