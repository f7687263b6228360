"""What the script compiler knows of one module before compiling its methods: the type
of each plain attribute (inferred from its value, or declared by a class annotation, an
annotated assignment in __init__ or gpujit.jit.Attribute), its constants (`__constants__`,
`Final`, gpujit.nn's own hyperparameters), its function attributes, and which methods to
compile (forward, @export methods, ScriptModule.define sources)."""
from __future__ import annotations

import ast
import enum
import inspect
import textwrap
import typing
import warnings
import weakref

from ...ir import types as T
from ...nn.module import Module
from . import sources
from .function_calls import is_compiled_function
from .errors import FrontendError

__all__ = ["ModuleInfo"]


def _elem_type(v):
    """An element's type: None is NoneType (`[[t, None]]` is a List[List[Optional[Tensor]]],
    as TorchScript infers it)."""
    return T.NONE if v is None else _value_type(v)


def _unified(types):
    """The one type of a container's elements (None when they have none)."""
    from .variables import unify
    out = None
    for t in types:
        if t is None:
            return None
        out = t if out is None else unify(out, t)
        if out is None:
            return None
    return None if isinstance(out, T.NoneType) else out


def _value_type(v):
    """The IR type of a plain Python attribute value, or None when it has none."""
    from ...tensor import Tensor
    if isinstance(v, Tensor):
        return T.TENSOR
    if isinstance(v, (bool, int, float, complex, str, enum.Enum)):   # (an Enum member: its Enum)
        return T.type_of_value(v)
    from ... import dtypes as _dt
    from ...device import device
    if isinstance(v, (_dt.dtype, _dt._QuantizedDtype)):
        # TorchScript types a torch.dtype attribute as int (its value is the ScalarType
        # code: dtype_codes)
        return T.INT
    if isinstance(v, device):
        return T.DEVICE
    from ...ops.random import Generator
    if isinstance(v, Generator):        # self.gen = torch.Generator(): a Generator
        return T.GeneratorType()
    if isinstance(v, tuple):
        # (a NamedTuple's value too: TorchScript's type inference (tryToInferType) sees
        # a tuple, torch 2.13 types `self.p = Point(1, 2.0)` Tuple[int, float]; a class
        # annotation `p: Point` keeps the NamedTuple)
        elems = [_value_type(x) for x in v]
        return None if any(e is None for e in elems) else T.TupleType(tuple(elems))
    if isinstance(v, list) and v:
        elem = _unified(_elem_type(x) for x in v)
        return None if elem is None else T.ListType(elem)
    if isinstance(v, dict) and v:
        keys, values = {_value_type(k) for k in v}, _unified(_elem_type(x) for x in v.values())
        if None in keys or values is None or len(keys) != 1:
            return None
        return T.DictType(keys.pop(), values)
    q = getattr(type(v), "_qualified_name", None)
    if isinstance(q, str) and q.startswith("__torch__.torch.classes."):
        return T.class_type(q)      # (a torch.classes object: a quantized packed weight)
    from .classes import object_value_type      # objects of script classes, NamedTuples
    return object_value_type(v)


def _plain_tuples(v):
    """A (NamedTuple) value typed by inference as a plain Tuple, as plain tuples."""
    return tuple(_plain_tuples(x) if isinstance(x, tuple) else x for x in v)


def untyped_reason(v):
    """Why TorchScript's type inference fails on the module attribute value v, in its
    words ("List trace inputs must have elements", "Dictionary inputs must have entries",
    "... consistent element type. Found int and str", "Only tensors and (possibly nested)
    tuples ... value of type set.")."""
    if isinstance(v, list):
        if not v:
            return "List trace inputs must have elements"
        types = []
        for x in v:
            t = _value_type(x)
            if t is None:
                return f"Could not infer type of list element: {untyped_reason(x)}"
            types.append(t)
        for t in types[1:]:
            if t != types[0]:
                return (f"List inputs to traced functions must have consistent element "
                        f"type. Found {types[0].annotation()} and {t.annotation()}")
    if isinstance(v, dict) and not v:
        return "Dictionary inputs must have entries"
    if isinstance(v, tuple):
        for x in v:
            if _value_type(x) is None:
                return untyped_reason(x)
    return (f"Only tensors and (possibly nested) tuples of tensors, lists, or dicts are "
            f"supported as inputs or outputs of traced functions, but instead got value of "
            f"type {type(v).__name__}.")


def dtype_codes(v, t):
    """A module attribute's value as scripted code holds it: a dtype is TorchScript's int,
    its ScalarType code (`self.dt = torch.float64` reads back as 7 from the scripted
    module, as in TorchScript), also inside containers; other values as they are."""
    from ... import dtypes as _dt
    if isinstance(t, T.ScalarTypeType):
        return v
    if isinstance(v, (_dt.dtype, _dt._QuantizedDtype)):
        return _dt.scalar_type_code(v)
    if type(v) in (list, tuple) and any(_has_dtype(x) for x in v):
        return type(v)(dtype_codes(x, None) for x in v)
    if type(v) is dict and any(_has_dtype(k) or _has_dtype(x) for k, x in v.items()):
        return {dtype_codes(k, None): dtype_codes(x, None) for k, x in v.items()}
    return v


def _has_dtype(v):
    from ... import dtypes as _dt
    if isinstance(v, (_dt.dtype, _dt._QuantizedDtype)):
        return True
    if type(v) in (list, tuple):
        return any(_has_dtype(x) for x in v)
    if type(v) is dict:
        return any(_has_dtype(k) or _has_dtype(x) for k, x in v.items())
    return False


_PLAIN = (bool, int, float, str, list, tuple, dict, type(None))


def _cast_failure(name, t, v):
    what = f"Unable to cast {v!r} to Tensor" if isinstance(t, T.TensorType) else (
        f"Unable to cast Python instance of type {type(v)} to C++ type '?' (#define "
        f"PYBIND11_DETAILED_ERROR_MESSAGES or compile in debug mode for details)")
    return RuntimeError(f"Could not cast attribute '{name}' to type {t.annotation()}: {what}")


def cast_declared(name, v, t):
    """A module attribute's value as its declared type makes it, as TorchScript's
    toIValue converts it (torch 2.13: `x: float` holding 1 is 1.0, a bool True 1.0; `x:
    int` holding True is 1; List[float] / Tuple / Dict / Optional element by element);
    a plain Python value of another kind is refused ("Could not cast attribute 'x' to
    type int: Unable to cast Python instance of type <class 'float'> ..."). Values that
    are no plain Python value are left as they are."""
    def cast(v, t):
        if isinstance(t, T.OptionalType):
            return None if v is None else cast(v, t.elem)
        if not isinstance(v, _PLAIN) or type(v) not in _PLAIN:
            return v            # (a Tensor, an object, a NamedTuple, an Enum ...)
        if isinstance(t, T.FloatType):
            if isinstance(v, (bool, int, float)):
                return float(v)
        elif isinstance(t, T.IntType):
            if isinstance(v, (bool, int)):
                return int(v)
        elif isinstance(t, T.BoolType):
            if isinstance(v, bool):
                return v
        elif isinstance(t, T.StrType):
            if isinstance(v, str):
                return v
        elif isinstance(t, T.ListType):
            if isinstance(v, list):
                return [cast(e, t.elem) for e in v]
        elif isinstance(t, T.TupleType) and not isinstance(t, T.NamedTupleType):
            if isinstance(v, tuple) and len(v) == len(t.elems):
                return tuple(cast(e, et) for e, et in zip(v, t.elems))
        elif isinstance(t, T.DictType):
            if isinstance(v, dict):
                return {cast(k, t.key): cast(x, t.value) for k, x in v.items()}
        elif isinstance(t, T.TensorType):
            pass
        else:
            return v
        raise _cast_failure(name, t, v)
    return cast(v, t)


def _init_annotations(cls) -> dict:
    """`self.x: Dict[str, int] = {}` or `self.x = torch.jit.annotate(List[int], [])` in
    __init__ (of the class and its bases): name -> annotation AST and the globals to resolve
    it in, so empty containers get their type. (TorchScript warns and drops these; gpujit
    keeps the type the user wrote for an empty list or dict, and otherwise types the
    attribute by its value, as TorchScript does.)"""
    out = {}
    for klass in reversed(cls.__mro__):
        init = klass.__dict__.get("__init__")
        if inspect.isfunction(init):
            for attr, ann in _annotated_in_init(init):
                out[attr] = (ann, init.__globals__)
    return out


# __init__ function -> its (attribute, annotation AST) pairs: parsed once per function (a
# model scripts the same classes' __init__ for each of its submodules)
_INIT_ANNOTATED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _annotated_in_init(init):
    hit = _INIT_ANNOTATED.get(init)
    if hit is not None:
        return hit
    hit = []
    try:
        tree = sources.parsed(init)[3]      # (None where the text does not parse alone)
    except (OSError, TypeError):
        tree = None
    for node in (ast.walk(tree) if tree is not None else ()):
        t, ann = None, None
        if isinstance(node, ast.AnnAssign):
            t, ann = node.target, node.annotation
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                _is_annotate_call(node.value):
            t, ann = node.targets[0], node.value.args[0]
        if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and \
                t.value.id == "self":
            hit.append((t.attr, ann))
    _INIT_ANNOTATED[init] = hit = tuple(hit)
    return hit


_INSTANCE_ANNOTATION_WARNING = (
    "The TorchScript type system doesn't support instance-level annotations on empty "
    "non-base types in `__init__`. Instead, either 1) use a type annotation in the class "
    "body, or 2) wrap the type in `torch.jit.Attribute`.")


class _InstanceAnnotationChecker(ast.NodeVisitor):
    """TorchScript's AttributeTypeIsSupportedChecker (torch/jit/_check.py), rule for rule:
    scripting a module warns for `self.x: List[int] = []`, `self.o: Optional[T] = None`,
    `self.d = torch.jit.annotate(Dict[str, int], {})` in its class's own __init__ unless
    the class body annotates the attribute (its quirks kept: `self.x: list[int] = [1]`
    warns, as any two-argument call `f(List[int], [])`). TorchScript then types the
    attribute by its value; gpujit keeps the annotation (_init_annotations), so the
    program runs here and the warning says it would not in TorchScript."""

    def __init__(self, class_level):
        self.class_level = class_level
        self.in_class_level_assign = False

    @staticmethod
    def _is_empty(node, kind):
        if kind == "List":
            return isinstance(node, ast.List) and not node.elts
        if kind == "Dict":
            return isinstance(node, ast.Dict) and not node.keys
        if kind == "Optional":
            return isinstance(node, ast.Constant) and not node.value
        return True

    def visit_Assign(self, node):
        try:
            if isinstance(node.value, ast.Call) and node.targets[0].attr in self.class_level:
                self.in_class_level_assign = True
        except AttributeError:
            return
        self.generic_visit(node)
        self.in_class_level_assign = False

    def visit_AnnAssign(self, node):
        t = node.target
        if not (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                and t.value.id == "self") or t.attr in self.class_level:
            return
        kind = getattr(getattr(node.annotation, "value", None), "id", None)
        if kind in ("List", "list", "Dict", "dict", "Optional") and \
                self._is_empty(node.value, kind):
            warnings.warn(_INSTANCE_ANNOTATION_WARNING, UserWarning, stacklevel=2)

    def visit_Call(self, node):
        if self.in_class_level_assign:
            return
        self.generic_visit(node)
        if len(node.args) != 2 or not isinstance(node.args[0], ast.Subscript):
            return
        kind = getattr(node.args[0].value, "id", None)
        if kind in ("List", "Dict", "Optional") and self._is_empty(node.args[1], kind):
            warnings.warn(_INSTANCE_ANNOTATION_WARNING, UserWarning, stacklevel=2)


def warn_instance_annotations(module):
    """TorchScript's check of the scripted (top-level) module's __init__: see
    _InstanceAnnotationChecker."""
    cls = type(module)
    try:
        src = inspect.getsource(cls.__init__)
    except (OSError, TypeError):
        return
    lines = [ln for ln in src.split("\n")
             if not (ln.strip().startswith("#") and not ln.strip().startswith("# type:"))]
    try:
        tree = ast.parse(textwrap.dedent("\n".join(lines)))
    except SyntaxError:
        return
    _InstanceAnnotationChecker(list(getattr(module, "__annotations__", {}))).visit(tree)


def _empty_container(v) -> bool:
    """An empty list or dict (whose element types no value tells)."""
    return type(v) in (list, dict) and not v


def _is_annotate_call(v) -> bool:
    """`torch.jit.annotate(T, value)` / `jit.annotate(T, value)` (two arguments)."""
    if not (isinstance(v, ast.Call) and len(v.args) == 2 and not v.keywords):
        return False
    f = v.func
    return isinstance(f, ast.Attribute) and f.attr == "annotate" and (
        (isinstance(f.value, ast.Name) and f.value.id == "jit") or
        (isinstance(f.value, ast.Attribute) and f.value.attr == "jit"))


def _as_constant(v):
    """A `__constants__` value as TorchScript stores it: lists become tuples (constants
    cannot change), also inside tuples."""
    if type(v) in (list, tuple):
        return tuple(_as_constant(x) for x in v)
    return v


def _check_constant(name, v, cls):
    """A `__constants__` / Final value must be a bool, float, int, str, None, device,
    layout or dtype (or an Enum member), or a list or tuple of them: TorchScript's
    TypeError otherwise (at scripting, whether or not the code reads it)."""
    from ...device import device
    from ...dtypes import dtype, layout
    if v is None or isinstance(v, (bool, float, int, str, device, layout, dtype)):
        return
    if isinstance(v, enum.Enum):
        return      # (beyond TorchScript, which refuses it: tests/test_jit_enum_port.py)
    if isinstance(v, (tuple, list)):
        for x in v:
            _check_constant(name, x, cls)
        return
    from ...ops.registry import _Tensor
    k = type(v)
    what = "torch.Tensor" if isinstance(v, _Tensor) else k.__qualname__ \
        if k.__module__ == "builtins" else f"{k.__module__}.{k.__qualname__}"
    raise TypeError(f"'{what}' object in attribute '{cls.__name__}.{name}' is not a valid "
                    f"constant.\nValid constants are:\n1. a nn.ModuleList\n2. a value of "
                    f"type {{bool, float, int, str, NoneType, torch.device, torch.layout, "
                    f"torch.dtype, torch.qscheme}}\n3. a list or tuple of (2)")


def _check_class_interface(value, iface, name, cls):
    """The object a module attribute annotated with a class interface holds must be of a
    script class that implements it (TorchScript's wording)."""
    t = _value_type(value)
    if t is None or not isinstance(t, T.ClassType):
        raise FrontendError(f"the attribute '{name}' of {cls.__name__} is annotated "
                            f"{iface.annotation()}, but the value is not a TorchScript "
                            f"compatible type (a {type(value).__name__})")
    why = T.interface_mismatch(t, iface)
    if why is not None:
        raise FrontendError(f"the attribute '{name}' of {cls.__name__}: "
                            f"{t.annotation()} is not compatible with interface "
                            f"{iface.name}: {why}")


# what nn.Module.__init__ itself sets (not attributes of the user's module)
_MODULE_INTERNALS = frozenset(Module().__dict__) | {"training", "__annotations__"}


def _declared_types(cls) -> dict:
    """Attribute annotations of the class and its bases (`x: int`, `Final[int]`)."""
    out = {}
    for klass in reversed(cls.__mro__):
        out.update(getattr(klass, "__dict__", {}).get("__annotations__", {}))
    return out


def ignored_attribute_names(cls) -> set:
    """`__jit_ignored_attributes__ = ["a", "sub"]` of the class and its bases: attributes
    (submodules too) that scripting leaves as Python objects, for @ignore'd methods."""
    names = set()
    for klass in cls.__mro__:
        names.update(getattr(klass, "__dict__", {}).get("__jit_ignored_attributes__", ()))
    return names


def _constant_names(cls) -> set:
    names = set()
    for klass in cls.__mro__:
        names.update(getattr(klass, "__dict__", {}).get("__constants__", ()))
    for name, ann in _declared_types(cls).items():
        text = ann if isinstance(ann, str) else repr(ann)
        if ann is typing.Final or typing.get_origin(ann) is typing.Final or \
                text.split("[")[0].split(".")[-1] == "Final":
            names.add(name)
    return names


class ModuleInfo:
    """What the compiler knows of one original module: attribute types and constants."""

    def __init__(self, module, sm, path):
        self.module, self.sm, self.path = module, sm, path
        self.original_name = type(module).__name__
        self.constants = {}      # name -> Python value
        self.attr_types = {}     # plain attribute name -> Type
        self.untyped = {}        # plain attribute name -> why it has no type
        self.functions = {}      # function attribute name -> the function (F.relu)
        self.ignored = ignored_attribute_names(type(module))   # __jit_ignored_attributes__

    def collect_attributes(self, warn=True):
        """warn: TorchScript's warnings about __constants__ that are no constant (a
        traced module's attributes are read without them: torch's tracer builds its
        modules without the class's __constants__)."""
        from ...runtime.arguments import copied, holds_container
        cls = type(self.module)
        consts = _constant_names(cls)
        declared = _declared_types(cls)
        init_annotations = _init_annotations(cls) if not cls.__module__.startswith(
            ("gpujit.", "__archive__")) else {}
        d = self.module.__dict__
        # (gpujit.nn's own modules list torch.nn's __constants__: their other settings,
        # KLDivLoss's log_target, CTCLoss's zero_infinity, are attributes, as torch's)
        for name, value in d.items():
            if name in _MODULE_INTERNALS or name in self.sm.__dict__:
                continue
            if name in self.ignored:            # left to Python (@ignore'd methods)
                object.__setattr__(self.sm, name, value)
                continue
            if inspect.isfunction(value) or is_compiled_function(value) or (
                    callable(value) and getattr(value, "op", None) is not None):
                # a function attribute (TransformerEncoderLayer.activation = F.relu):
                # TorchScript compiles the function where self.<name>(...) calls it
                self.functions[name] = value
                object.__setattr__(self.sm, name, value)
                continue
            if name in consts:
                if name in consts:
                    _check_constant(name, value, cls)
                    value = _as_constant(value)     # a list in __constants__: a tuple
                self.constants[name] = value
                object.__setattr__(self.sm, name, value)
                continue
            t = None
            ann = declared.get(name)
            if ann is not None:
                from .types import annotation_type
                mod = inspect.getmodule(cls)
                t = annotation_type(ann, vars(mod) if mod else None)
                if isinstance(t, T.InterfaceType) and not t.is_module:
                    _check_class_interface(value, t, name, cls)
                value = cast_declared(name, value, t)
            elif name in init_annotations and _empty_container(value):
                # TorchScript types a module attribute by its value and drops __init__'s
                # annotations (`self.t: Optional[Tensor] = None` is None, so `if self.t
                # is not None:` is decided when compiling; `self.xs: List[float] = [1, 2]`
                # a List[int]); where the value is an empty list or dict TorchScript
                # warns and cannot type it, and gpujit keeps the annotation
                from .types import annotation_expr_type
                node, env = init_annotations[name]
                try:
                    t = annotation_expr_type(node, env)
                except FrontendError:
                    # not a TorchScript type (`self.proj: Optional[nn.Linear] = None`):
                    # TorchScript drops these annotations, the value's type stands
                    t = None
            if t is None:
                t = _value_type(value)
                if isinstance(value, tuple) and type(value) is not tuple:
                    value = _plain_tuples(value)    # (read back as a tuple, as torch's)
            if t is None:
                self.untyped[name] = type(value).__name__
                continue
            self.attr_types[name] = t
            value = dtype_codes(value, t)
            if holds_container(t) or isinstance(t, (T.TupleType, T.StrType)):
                # a list / dict / script-class object is converted into the scripted
                # module's own, as TorchScript converts it into an IValue: appending to the
                # original module's list after scripting leaves the scripted one alone
                value = copied(value, to_python=False)
                from ...jit.script_module import copy_on_read
                copy_on_read(name)          # (and read from Python as a copy; a tuple as
                # a new tuple: `m.tup is m.tup` is False in torch 2.13; a str decoded from
                # its UTF-8 bytes, a piece of a char raising UnicodeDecodeError)
            object.__setattr__(self.sm, name, value)
            self.sm._type.attributes[name] = t
        if warn and not cls.__module__.startswith("gpujit."):
            self.warn_unusable_constants(consts)
        for name in consts:
            if name not in self.constants and hasattr(cls, name):
                # a class-level constant (`scales: Final[List[float]] = [0.5, 1.0]`): a
                # tuple too, as TorchScript stores it (iterated unrolled, indexed)
                value = getattr(cls, name)
                if not cls.__module__.startswith("gpujit."):
                    _check_constant(name, value, cls)
                self.constants[name] = _as_constant(value)
                object.__setattr__(self.sm, name, self.constants[name])

    def warn_unusable_constants(self, consts):
        """TorchScript's warnings for names in __constants__ (or Final) that are no
        constant: a submodule, buffer or parameter, or a name __init__ never set (torch
        2.13's words; the name is then left alone)."""
        import warnings
        m = self.module
        for name in sorted(consts):
            hint = "submodule" if name in m._modules else "buffer" if name in m._buffers \
                else "parameter" if name in m._parameters else None
            if hint is not None:
                warnings.warn(f"'{name}' was found in ScriptModule constants,  but it is a "
                              f"non-constant {hint}. Consider removing it.", UserWarning,
                              stacklevel=2)
            elif not hasattr(m, name):
                warnings.warn(f"'{name}' was found in ScriptModule constants, but was not "
                              f"actually set in __init__. Consider removing it.", UserWarning,
                              stacklevel=2)

    def methods_to_compile(self):
        from ...jit.script import function_modifier
        from ..._jit_internal import _get_overloaded_methods
        cls = type(self.module)
        names = []
        fwd = getattr(cls, "forward", None)
        if inspect.isfunction(fwd) and fwd is not Module.forward and \
                getattr(fwd, "__name__", "") != "_forward_unimplemented":
            # (an @_overload_method forward compiles per overload, for its callers)
            if _get_overloaded_methods(cls, "forward"):
                object.__setattr__(self.sm, "_overloaded_forward", True)
            elif function_modifier(fwd) not in ("ignore", "drop"):
                names.append("forward")
        for name, fn in inspect.getmembers(cls, inspect.isfunction):
            if name != "forward" and function_modifier(fn) == "export":
                names.append(name)
        names += [n for n in self.module.__dict__.get("_defined_methods", ())
                  if n not in names]          # ScriptModule.define(src)
        return names
