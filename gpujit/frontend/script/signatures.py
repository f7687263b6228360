"""A scripted function's signature: its parameters' types and its return type
(`signature_types`), from Python 3 annotations, a `# type: (int) -> Tensor` comment, the
defaults' types or example inputs; defaults checked against their types; broadcasting list
parameters (`broadcast_lengths`); the names annotations see (`function_globals`) and the
source ranges of the `def`, its parameters and its type comment (`_FunctionSource`)."""
from __future__ import annotations

import ast
import inspect
import weakref

from ...ir import types as T
from ...ir.graph import SourceRange
from . import sources
from .errors import FrontendError
from .types import (_Resolver, annotation_broadcast, annotation_expr_type, annotation_type,
                    value_matches_type)
# (after .types, which imports examples.py last: the cycle resolves that way)
from .examples import example_types_of, _value_type, _ExampleConflict, _describe

__all__ = ["signature_types", "broadcast_lengths", "inferred_tensor_params",
           "function_globals"]


class _Param:
    __slots__ = ("name", "type", "annotated", "source_range")

    def __init__(self, name, type_, annotated, source_range):
        self.name, self.type, self.annotated = name, type_, annotated
        self.source_range = source_range


def signature_types(fn, self_type=None):
    """`(params, return_type)`: `[(name, Type)]` for the function's parameters, and the
    annotated return type or None when the return is not annotated. Types come from
    Python 3 annotations or from a `# type: (int, Tuple[Tensor, Tensor]) -> Tensor`
    comment on the line after the `def`; an unannotated parameter is a Tensor (or, with a
    default, the default's type: `n=2` is an int, `y=None` an Optional[Tensor]). With
    `self_type` (methods) the first parameter is `self` and is typed `self_type`."""
    params, ret = _signature(fn, self_type)
    return [(p.name, p.type) for p in params], ret


def _signature(fn, self_type=None):
    src = _FunctionSource.of(fn)
    env = function_globals(fn)
    own = getattr(self_type, "py_class", None)
    if isinstance(own, type):          # a script class's methods name it before it is bound
        env.setdefault(own.__name__, own)
    try:
        sig = inspect.signature(fn, follow_wrapped=False)
    except (TypeError, ValueError):
        raise FrontendError(f"gpujit.script cannot read the parameters of {fn!r}",
                            hint="script a Python function defined with def") from None
    plist = list(sig.parameters.values())
    for p in plist:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            star = "*" if p.kind == p.VAR_POSITIONAL else "**"
            raise FrontendError(
                f"gpujit.script does not support {star}{p.name} parameters "
                f"(in {fn.__name__})", src.param_range(p.name) if src else None,
                hint="give every parameter a name, or pass a List / Dict")
    user_code = not (getattr(fn, "__module__", None) or "").startswith("gpujit.") and \
        getattr(fn, "__module__", None) != "__archive__"
    for p in plist:       # (gpujit's own functional code and the code of archives, where
        #                    TorchScript writes `padding: List[int]=[0, 0]`, never mutate them)
        if user_code and isinstance(p.default, (list, dict, set)):
            raise FrontendError(
                f"Mutable default parameters are not supported because Python binds them "
                f"to the function and they persist across function calls (the default of "
                f"'{p.name}' in {fn.__name__})", src.param_range(p.name) if src else None,
                hint="make the default None and build the value in the body")
    comment = src.type_comment() if src else None
    params = []
    broadcast = {}
    start = 0
    if self_type is not None and plist:
        params.append(_Param(plist[0].name, self_type, True, None))
        start = 1
    ret = None
    if comment is not None:
        argtypes, ret, broadcast = _comment_types(fn, src, comment, plist[start:], env)
    elif src is not None and src.param_type_comments(plist[start:]):
        raise _no_return_type_line(fn, src)
    for i, p in enumerate(plist[start:]):
        sr = src.param_range(p.name) if src else None
        if comment is not None:
            if argtypes[i] is not None:
                params.append(_Param(p.name, argtypes[i], True, sr))
                continue
        elif p.annotation is not inspect.Parameter.empty:
            t, n = annotation_broadcast(p.annotation, env, sr)
            if n is not None:
                broadcast[p.name] = n
            params.append(_Param(p.name, t, True, sr))
            continue
        params.append(_Param(p.name, _default_param_type(p.default), False, sr))
    if comment is None and sig.return_annotation is not inspect.Signature.empty:
        ret = annotation_type(sig.return_annotation, env, src.def_range() if src else None)
    examples = example_types_of(fn)
    if examples is not None:
        own = params[1:] if self_type is not None else params
        for p, t in zip(own, examples):
            if not p.annotated:
                p.type = t
    for p, q in zip(params[start:], plist[start:]):
        _check_default(fn, p, q.default, broadcast.get(p.name))
    try:
        _BROADCAST[fn] = broadcast
        _INFERRED[fn] = frozenset(p.name for p in params[start:]
                                  if not p.annotated and p.type == T.TENSOR)
    except TypeError:                   # (not weak-referenceable: no broadcasting lists)
        pass
    return params, ret


# function -> {parameter name: n} of its broadcasting list parameters (from _signature)
_BROADCAST = weakref.WeakKeyDictionary()
# function -> names of its parameters typed Tensor for want of an annotation (from
# _signature): TorchScript's argument errors call their type 'Tensor (inferred)'
_INFERRED = weakref.WeakKeyDictionary()


def inferred_tensor_params(fn) -> frozenset:
    """Names of fn's parameters that are Tensors because they have no annotation, as its
    signature was last read."""
    try:
        return _INFERRED.get(fn, frozenset())
    except TypeError:
        return frozenset()


def broadcast_lengths(fn) -> dict:
    """{parameter name: n} for fn's parameters annotated as broadcasting lists
    (BroadcastingList2[int], _size_2_t), as its signature was last read."""
    try:
        return _BROADCAST.get(fn, {})
    except TypeError:
        return {}


def _check_default(fn, p, default, broadcast=None):
    """A default value must be of its parameter's type (TorchScript rejects the function
    otherwise): `n: int = "a"`, `n: int = []`, a lambda default. A broadcasting list's
    may be one element (`dilation: BroadcastingList2[int] = 1`: [1, 1], as TorchScript)."""
    if default is inspect.Parameter.empty:
        return
    if broadcast is not None and isinstance(p.type, T.ListType) and \
            not isinstance(default, (list, tuple)) and _default_fits(default, p.type.elem):
        return
    if p.annotated:
        if _default_fits(default, p.type):
            return
        expected = "a value of type " + p.type.annotation()
    else:
        if default is None or _value_type_or_none(default) is not None:
            return
        expected = "a value gpujit.script has a type for"
    if getattr(default, "__name__", "") == "<lambda>":
        got = "a lambda"
    elif inspect.isfunction(default) or inspect.isbuiltin(default):
        got = f"the function {default.__name__!r}"
    else:
        got = f"{default!r} (a {_describe(default)})"
    # (PyTorch's words first, for an annotated parameter: `Expected a default value of
    # type int on parameter "b".`)
    lead = f'Expected a default value of type {p.type.annotation()} on parameter ' \
           f'"{p.name}": ' if p.annotated else ""
    raise FrontendError(
        f"{lead}the default value of parameter '{p.name}' of {fn.__name__} is {got}, not "
        f"{expected}", p.source_range,
        hint=f"give '{p.name}' a default of type {p.type.annotation()}" if p.annotated
        else "use an int, float, bool, str, None, or a list / tuple of them")


def _default_fits(v, t) -> bool:
    if value_matches_type(v, t):
        return True
    if isinstance(t, T.OptionalType):
        return v is None or _default_fits(v, t.elem)
    if isinstance(t, (T.FloatType, T.NumberType)):
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if isinstance(t, T.IntType):
        # (a dtype is TorchScript's int: `dtype: torch.dtype = torch.float32`, torchvision's
        # DefaultBoxGenerator._grid_default_boxes, prints `dtype: int=6`)
        from ...dtypes import dtype
        return isinstance(v, dtype)
    if isinstance(t, T.ListType) and isinstance(v, (list, tuple)):
        return all(_default_fits(x, t.elem) for x in v)
    if isinstance(t, T.TupleType) and isinstance(v, tuple) and len(v) == len(t.elems):
        return all(_default_fits(x, e) for x, e in zip(v, t.elems))
    return False


def _value_type_or_none(v):
    try:
        return _value_type(v)
    except _ExampleConflict:
        return None


def _default_param_type(default):
    if default is inspect.Parameter.empty:
        return T.TENSOR
    if default is None:
        return T.OptionalType(T.TENSOR)
    try:
        return _value_type(default)
    except _ExampleConflict:
        return T.TENSOR


def _comment_types(fn, src, comment, plist, env):
    """Parameter types (None for `...`) and return type (None: inferred) of a `# type:`
    comment."""
    sr = src.comment_range()
    # (Python 3 annotations besides it are not read: the comment's types win, as
    # torch.jit.annotations.get_signature lets a type line replace the annotations)
    # `# type: (bool)` without `-> R`: the return type is inferred (as TorchScript's)
    inferred = "->" not in comment
    try:
        ft = ast.parse(comment + " -> None" if inferred else comment, mode="func_type")
    except SyntaxError:
        raise FrontendError(f"the type comment of {fn.__name__} is not of the form "
                            "'# type: (T1, T2) -> R'", sr) from None
    args = ft.argtypes
    per_param = src.param_type_comments(plist)
    if per_param and not comment.replace(" ", "").startswith("(...)->"):
        raise _no_return_type_line(fn, src)
    if len(args) == 1 and isinstance(args[0], ast.Constant) and args[0].value is Ellipsis:
        types, broadcast = [None] * len(plist), {}
        if per_param:
            # PEP 484's multi-line form: `a,  # type: int` per parameter and
            # `# type: (...) -> R` after the header; TorchScript pastes the parameter
            # comments, in order, into the `...` and wants one per parameter
            if len(per_param) != len(plist):
                raise FrontendError(
                    f"Number of type annotations ({len(per_param)}) did not match the "
                    f"number of function parameters ({len(plist)})", sr)
            types = []
            for p in plist:
                try:
                    node = ast.parse(per_param[p.name], mode="eval").body
                except SyntaxError:
                    raise FrontendError(f"the type comment of parameter '{p.name}' of "
                                        f"{fn.__name__} is not a type",
                                        src.param_range(p.name)) from None
                r = _Resolver(env, src.param_range(p.name))
                types.append(r.expr_type(node))
                if r.broadcast is not None:
                    broadcast[p.name] = r.broadcast
    else:
        if len(args) != len(plist):
            raise FrontendError(
                f"Number of type annotations ({len(args)}) did not match the number of "
                f"function parameters ({len(plist)}): the type comment of {fn.__name__} "
                f"gives {len(args)} parameter type{'s' if len(args) != 1 else ''} but "
                f"{fn.__name__} has {len(plist)} parameter{'s' if len(plist) != 1 else ''}",
                sr,
                hint="give one type per parameter (leave out `self` in methods)")
        types, broadcast = [], {}
        for p, a in zip(plist, args):
            r = _Resolver(env, sr)
            types.append(r.expr_type(a))
            if r.broadcast is not None:      # (float, BroadcastingList3[float])
                broadcast[p.name] = r.broadcast
    return types, None if inferred else annotation_expr_type(ft.returns, env, sr), broadcast


def _no_return_type_line(fn, src):
    """TorchScript's error for `# type:` comments on parameters without the
    `# type: (...) -> R` line that completes them."""
    lines = [ln.strip() for ln in src.lines if "# type:" in ln]
    return FrontendError("Return type line '# type: (...) -> ...' not found on multiline "
                         "type annotation\nfor type lines:\n" + "\n".join(lines),
                         src.def_range(), hint="end the parameter comments with a line "
                         "'# type: (...) -> R' after the def (PEP 484)")


def function_globals(fn) -> dict:
    """The names a function's annotations and body can see: its globals, then the
    variables its closure captured."""
    env = dict(getattr(fn, "__globals__", {}))
    code = getattr(fn, "__code__", None)
    for name, cell in zip(code.co_freevars if code else (), getattr(fn, "__closure__", None)
                          or ()):
        try:
            env[name] = cell.cell_contents
        except ValueError:      # a cell not assigned yet
            pass
    return env


class _FunctionSource:
    """A function's source text and its `def` node, for type comments and for source
    ranges in errors; None when Python cannot give the source (REPL, exec)."""

    def __init__(self, filename, first_line, lines, indent, fdef):
        self.filename, self.first_line, self.lines = filename, first_line, lines
        self.indent, self.fdef = indent, fdef

    @classmethod
    def of(cls, fn):
        try:
            lines, first, dedented, plain = sources.parsed(fn)
        except (OSError, TypeError):
            return None
        indent = len(lines[0]) - len(dedented.splitlines(True)[0]) if lines else 0
        tree = plain            # (the body compiler's tree: the same without type comments)
        if "type:" in dedented:
            try:
                tree = ast.parse(dedented, type_comments=True)
            except SyntaxError:
                pass            # (a misplaced type comment: the plain tree)
        if tree is None:
            return None
        name = getattr(fn, "__name__", None)
        fdef = next((n for n in ast.walk(tree)
                     if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and n.name == name), None)
        if fdef is None:
            return None
        filename = getattr(getattr(fn, "__code__", None), "co_filename", "<unknown>")
        return cls(filename, first, lines, indent, fdef)

    def range_at(self, node_line, col):
        text = self.lines[node_line - 1] if node_line - 1 < len(self.lines) else ""
        return SourceRange(self.filename, self.first_line + node_line - 1,
                           col + self.indent, text)

    def def_range(self):
        return self.range_at(self.fdef.lineno, self.fdef.col_offset)

    def param_range(self, name):
        a = self.fdef.args
        for arg in [*a.posonlyargs, *a.args, a.vararg, *a.kwonlyargs, a.kwarg]:
            if arg is not None and arg.arg == name:
                node = arg.annotation or arg
                return self.range_at(node.lineno, node.col_offset)
        return self.def_range()

    def param_type_comments(self, plist):
        """`{name: text}` of the parameters in `plist` that carry a `# type: T` comment
        (`def f(a,  # type: int`)."""
        names = {p.name for p in plist}
        a = self.fdef.args
        return {arg.arg: arg.type_comment
                for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs]
                if arg.arg in names and getattr(arg, "type_comment", None)}

    def type_comment(self):
        """The `# type: (...) -> R` comment of the def; TorchScript's error for one on the
        header's own line (`def f(x):  # type: (float) -> float`, torch 2.13: "expected
        type comment but found 'def' here:"), which it takes from the line after only."""
        comment = getattr(self.fdef, "type_comment", None)
        if comment is not None:
            sr = self.comment_range()
            code = sr.text[:sr.col].strip() if sr.text else ""
            if code.endswith(":"):
                raise FrontendError("expected type comment but found 'def' here:",
                                    self.def_range())
        return comment

    def comment_range(self):
        """The `# type:` line: the first line after the `def` header that has it."""
        body_line = self.fdef.body[0].lineno if self.fdef.body else self.fdef.lineno
        for ln in range(self.fdef.lineno, body_line + 1):
            text = self.lines[ln - 1] if ln - 1 < len(self.lines) else ""
            col = text.find("# type:")
            if col >= 0:
                return SourceRange(self.filename, self.first_line + ln - 1, col, text)
        return self.def_range()
