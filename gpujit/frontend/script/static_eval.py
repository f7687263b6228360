"""What scripted code knows at compile time about a few Python calls:
`gpujit.jit.is_scripting()` (also `torch.jit.is_scripting()` under `import gpujit as
torch`) is True in scripted code and `is_tracing()` (and `torch._C._get_tracing_state()`) False, `hasattr(self.sub, "name")` on modules is known (as
TorchScript evaluates it), and so is `self.downsample is None` when the attribute is None
(or of a type that is never None), so

    if not torch.jit.is_scripting():
        <Python-only code>

compiles only the branch that scripted code runs (the other one is never compiled, as
TorchScript does): `static_condition` decides such an `if` test.
"""
from __future__ import annotations

import ast

__all__ = ["UNKNOWN", "call_value", "static_condition", "empty_literal"]

UNKNOWN = object()


def _folded():
    from ...jit.script import is_scripting
    from ...jit.trace import is_tracing
    from ..._C import _get_tracing_state
    # (PyTorch's is_tracing() starts `if is_scripting(): return False`: scripted code,
    # called from a trace too, sees False; torch._C._get_tracing_state() is the builtin
    # aten::_get_tracing_state, False in scripted code: torchvision._is_tracing())
    return {is_scripting: True, is_tracing: False, _get_tracing_state: False}


def call_value(obj):
    """The value a call of the Python object obj has in scripted code, or UNKNOWN."""
    try:
        return _folded().get(obj, UNKNOWN)
    except TypeError:            # an unhashable callable
        return UNKNOWN


def static_condition(c, test, names=True):
    """True / False when the `if` test is decided at compile time, else None (see
    static_condition_and_prefix: a caller that takes the decision must also run the
    prefix it gives)."""
    return static_condition_and_prefix(c, test, names)[0]


def static_condition_and_prefix(c, test, names=True):
    """(True / False when the `if` test is decided at compile time, else None; the part
    of the test that still runs first, an ast expression, or None). c: the compiler (for
    name lookup). names=False: tests on local variables are left undecided (a look
    ahead, before the statements that assign them are compiled).

    `a or True` is True and `a and False` False, as TorchScript's emitter decides them
    (torch 2.13 compiles only the taken value of `b if (v or True) else s`, an int and a
    str); `a` still runs first (a call in it raises): the prefix."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        v, pre = static_condition_and_prefix(c, test.operand, names)
        return (None, None) if v is None else (not v, pre)
    if isinstance(test, ast.BoolOp):
        decides = isinstance(test.op, ast.Or)     # the operand value that decides
        prefix = []
        for e in test.values:
            v, pre = static_condition_and_prefix(c, e, names)
            if v is None:
                prefix.append(e)
                continue
            if v is decides:
                if pre is not None:
                    prefix.append(pre)
                return decides, _chain(test.op, prefix)
            if pre is not None:
                return None, None       # (its own prefix would change the short circuit)
        return (None, None) if prefix else (not decides, None)
    return _static_condition(c, test, names), None


def _chain(op, values):
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return ast.copy_location(ast.BoolOp(op=op, values=values), values[0])


def _static_condition(c, test, names):
    if isinstance(test, ast.Constant) and isinstance(test.value, (bool, int, float, str)) \
            or isinstance(test, ast.Constant) and test.value is None:
        return bool(test.value)       # `if True:` / `if 0:`: TorchScript emits one branch
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and \
            isinstance(test.ops[0], (ast.Is, ast.IsNot)):
        v = _static_is_none(c, test.left, test.comparators[0], names)
        return None if v is None else v == isinstance(test.ops[0], ast.Is)
    if hasattr(c, "is_isinstance_test") and c.is_isinstance_test(test) and \
            isinstance(test.args[0], ast.Name) and hasattr(c, "isinstance_types"):
        return _static_isinstance(c, test)  # isinstance(h, tuple) with h: Tuple[...]
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and \
            test.func.id == "hasattr" and hasattr(c, "static_hasattr"):
        return c.static_hasattr(test)       # hasattr(self.sub, "x") on modules
    if isinstance(test, ast.Attribute) and _self_attribute(test):
        # a module constant (a Final / __constants__ attribute: `if self.fork_feat:`):
        # TorchScript's emitCondExpr decides a condition whose value is a constant
        # ("MetaCompile on boolean literals and constants") and compiles only the branch
        # taken (timm's FastVit reads an attribute it never set in the other one)
        return _constant_attribute_truth(c, test)
    if isinstance(test, ast.Call) and not test.args and not test.keywords and \
            isinstance(test.func, (ast.Name, ast.Attribute)):
        found, obj = c.py_object(test.func)
        if found:
            v = call_value(obj)
            if v is not UNKNOWN:
                return bool(v)
    return None


def _constant_attribute_truth(c, node):
    """self.a when it compiles to a bool constant, else None."""
    from .errors import FrontendError
    try:
        v = c.expr(node)               # a GetAttr at most; unused ones are removed later
    except FrontendError:
        return None
    if v.node.kind != "prim::Constant":
        return None
    val = v.node.attrs.get("value")
    # (a bool only: an int or str constant goes through aten::Bool, a node, which torch
    # does not decide: `if self.k:` of a constant 0 compiles both branches there)
    return val if isinstance(val, bool) else None


def _static_isinstance(c, test):
    """isinstance(name, cls) decided by the variable's static type (TorchScript compiles
    only the branch it takes: `h[0] if isinstance(h, tuple) else h`); None otherwise."""
    from .isinstance_exprs import static_isinstance
    from .variables import Var
    from ...jit.script import jit_isinstance
    found, obj = c.py_object(test.func)
    if not found or (obj is not isinstance and obj is not jit_isinstance):
        return None
    var = c.lookup_var(test.args[0].id)
    if not isinstance(var, Var):
        return None
    return static_isinstance(var.value.type, c.isinstance_types(test))


def _self_attribute(node) -> bool:
    """self.a / self.a.b: an attribute chain of the method's object."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id == "self"


def _name_attribute(node) -> bool:
    """o.a / o.a.b: an attribute chain of a variable."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _static_is_none(c, a, b, names=True):
    """`self.downsample is None` / `x is None` when the attribute's or variable's type
    decides it: True for None (a submodule set to None), False for a type that is never
    None; else None (decided at run time)."""
    from ...ir import types as T
    from .errors import FrontendError
    if isinstance(a, ast.Constant) and a.value is None:
        a, b = b, a
    if not (isinstance(b, ast.Constant) and b.value is None):
        return None
    if isinstance(a, ast.Constant):
        return a.value is None                   # `None is None`
    if isinstance(a, ast.Name) and names:
        # a variable whose type decides it (TorchScript's always-None / never-None
        # refinement): `x is None` with x a Tensor compiles only the else branch
        from .variables import Var
        var = c.lookup_var(a.id) if hasattr(c, "lookup_var") else None
        if not isinstance(var, Var):
            return None
        v = var.value
    elif isinstance(a, ast.Attribute) and (_self_attribute(a) or
                                           (names and _name_attribute(a))):
        # (an object's attribute too, `o.v is not None` with o.v a NoneType: TorchScript
        # decides the test by the value's type, whatever the expression)
        if hasattr(c, "untyped_attribute") and c.untyped_attribute(a):
            return False            # a Python object attribute (TorchScript: never None)
        try:
            v = c.expr(a)              # a GetAttr at most; unused ones are removed later
        except FrontendError:
            return None
    else:
        return None
    if v.node.kind == "prim::grad":
        return None     # x.grad: typed Tensor, None without a gradient (tested at run time)
    t = v.type
    if isinstance(t, T.NoneType):
        return True
    if isinstance(t, (T.OptionalType, T.UnionType, T.AnyType)):
        return None
    return False


def empty_literal(node) -> bool:
    """`[]`, `{}`, `set()`, `list()` or `dict()`: a container literal with nothing to
    type it (its type comes from where it goes)."""
    if isinstance(node, ast.List):
        return not node.elts
    if isinstance(node, ast.Dict):
        return not node.keys
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
        node.func.id in ("set", "list", "dict") and not node.args and not node.keywords
