"""The methods @dataclass generates for a TorchScript class (they have no source to
compile), written out again as Python source and compiled like the class's own methods:

- `__init__(self, x: float, y: float, norm: Optional[Tensor] = None)` assigning each field
  (an `InitVar` is an argument passed on to `__post_init__`), then `__post_init__(...)`;
- `__eq__` / `__lt__` / `__le__` / `__gt__` / `__ge__` (order=True) comparing the fields in
  order, as TorchScript writes them.

Each is registered in linecache, so errors in it show its source.
"""
from __future__ import annotations

import inspect
import weakref

__all__ = ["SYNTHESIZED", "generated_by_dataclass", "dataclass_method"]


def dataclass_method(cls, name):
    """The compiled-from-source stand-in for @dataclass's method `name` of cls."""
    return _dataclass_init(cls) if name == "__init__" else _dataclass_comparison(cls, name)


def generated_by_dataclass(cls, fn) -> bool:
    """Is fn a method that @dataclass generated (it has no source to compile)?"""
    import dataclasses
    if not dataclasses.is_dataclass(cls):
        return False
    try:
        inspect.getsourcelines(fn)
    except (OSError, TypeError):
        return True
    return False


_DATACLASS_INITS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

# the methods @dataclass writes (no source to compile): written out again as source
SYNTHESIZED = {"__init__": None, "__eq__": "!=", "__lt__": "<", "__le__": "<",
                          "__gt__": ">", "__ge__": ">"}


def _dataclass_comparison(cls, name):
    """The __eq__ / __lt__ / __le__ / __gt__ / __ge__ @dataclass generates, as TorchScript
    writes it: field by field in order (compare=True fields); an Optional field compares
    when both are set (None against a value is unequal, and an ordering error)."""
    import dataclasses
    import linecache
    made = _DATACLASS_METHODS.setdefault(cls, {})
    fn = made.get(name)
    if fn is not None:
        return fn
    op = SYNTHESIZED[name]
    if name == "__eq__":
        inner, last = [f"if val1 {op} val2:", "    return False"], True
    else:
        inner = [f"if val1 {op} val2:", "    return True",
                 f"elif val2 {op} val1:", "    return False"]
        last = name in ("__le__", "__ge__")
    body = []
    try:
        import typing
        hints = typing.get_type_hints(cls)
    except Exception:
        hints = {}
    for f in dataclasses.fields(cls):
        if not f.compare:
            continue
        body += [f"val1 = self.{f.name}", f"val2 = other.{f.name}"]
        t = hints.get(f.name, f.type)
        optional = type(None) in getattr(t, "__args__", ()) and \
            getattr(t, "__origin__", None) is typing.Union
        if optional:
            body += ["if val1 is not None and val2 is not None:"] + \
                ["    " + x for x in inner] + ["elif (val1 is None) != (val2 is None):"] + \
                (["    return False"] if name == "__eq__" else
                 [f"    raise TypeError('Cannot compare {cls.__name__} with None')"])
        else:
            body += inner
    body.append(f"return {last}")
    src = (f"def {name}(self, other: '{cls.__name__}') -> bool:\n" +
           "".join(f"    {x}\n" for x in body))
    filename = f"<dataclass {cls.__module__}.{cls.__qualname__}.{name}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    ns = {cls.__name__: cls}
    exec(compile(src, filename, "exec"), ns)
    fn = ns[name]
    fn.__qualname__ = f"{cls.__qualname__}.{name}"
    fn.__module__ = cls.__module__
    made[name] = fn
    return fn


_DATACLASS_METHODS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _dataclass_init(cls):
    """The __init__ @dataclass generates, written out as source (registered in linecache,
    so errors show it): `def __init__(self, name: str, dim: int = 4): self.name = name
    ...`, then __post_init__ when the class has one. A default_factory field is a
    required argument (scripted defaults are constants)."""
    import dataclasses
    import linecache
    import typing
    fn = _DATACLASS_INITS.get(cls)
    if fn is not None:
        return fn
    try:
        hints = typing.get_type_hints(cls)
    except Exception:                   # unresolvable names: the raw annotations
        hints = {}
    ns, params, body, init_vars = {}, ["self"], [], []
    for k, f in enumerate(x for x in cls.__dataclass_fields__.values() if x.init and (
            x._field_type in (dataclasses._FIELD, dataclasses._FIELD_INITVAR))):
        t = hints.get(f.name, f.type)
        is_init_var = f._field_type is dataclasses._FIELD_INITVAR
        ns[f"_t{k}"] = t.type if isinstance(t, dataclasses.InitVar) else t
        p = f"{f.name}: _t{k}"
        if f.default is not dataclasses.MISSING:
            ns[f"_d{k}"] = f.default
            p += f" = _d{k}"
        params.append(p)
        if is_init_var:                  # InitVar[int]: passed on to __post_init__ only
            init_vars.append(f.name)
        else:
            body.append(f"    self.{f.name} = {f.name}")
    if hasattr(cls, "__post_init__"):
        body.append(f"    self.__post_init__({', '.join(init_vars)})")
    src = f"def __init__({', '.join(params)}):\n" + ("\n".join(body) or "    pass") + "\n"
    filename = f"<dataclass {cls.__module__}.{cls.__qualname__}.__init__>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    exec(compile(src, filename, "exec"), ns)
    fn = ns["__init__"]
    fn.__qualname__ = f"{cls.__qualname__}.__init__"
    fn.__module__ = cls.__module__
    _DATACLASS_INITS[cls] = fn
    return fn
