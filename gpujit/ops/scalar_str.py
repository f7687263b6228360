"""Python-str ops: the string operations scripted graphs compute on (`s + t`, `s < t`,
`s.upper()`, `s.split(",")`, `",".join(xs)`, `str(x)` of a Tensor), as TorchScript's
`aten::add.str(str a, str b) -> str`, `aten::split.str`, ... They take and return Python
values like the rest of the scalar family (scalar_ops.py imports this module, so these
overloads come before the Tensor ones of the same name) and bind no public names; each
impl is the Python str method itself, so a scripted call computes what Python computes.
Indexing, slicing, `in`, `len`, `*` and f-string formatting are container ops
(runtime/interpreter.py CONTAINER_OPS)."""
from __future__ import annotations

import numpy as np

from .scalar_ops import PYTHON_FORMS, PYTHON_VALUED, _binary, _scalar_op
from .registry import op, wrap_array

# the str methods scripted code may call: method name -> its overloads' qualified names
STR_METHODS: dict = {}


def _returns(py):
    def rule(*args):
        return py
    return rule


def _split_meta(self, sep, maxsplit):
    return [str] * len(self.split(sep, maxsplit))     # one str per piece


def _lines_meta(self, keepends=False):
    return [str] * len(self.splitlines(keepends))


_META = {"str": _returns(str), "int": _returns(int), "bool": _returns(bool),
         "str[]": _split_meta, "(str, str, str)": _returns((str, str, str))}
_LIST_META = {"aten::splitlines": _lines_meta}


class StrValueError(ValueError, RuntimeError):
    """s.index("z") of a missing substring: TorchScript raises RuntimeError; this is also
    the ValueError eager Python raises."""


def _value_errors_as_runtime(fn):
    def call(*args):
        try:
            return fn(*args)
        except ValueError as e:
            raise StrValueError(str(e)) from None
    call.__qualname__ = getattr(fn, "__qualname__", "fn")
    return call


def _str_op(schema, fn, form=None):
    """An unbound op whose impl is fn(*args) on Python values."""
    name = schema.split("(", 1)[0]
    ret = schema.rsplit("->", 1)[1].strip()
    PYTHON_VALUED.add(name)
    if form is not None:
        PYTHON_FORMS[name] = form

    @op(schema, meta=_LIST_META.get(name.split(".")[0], _META[ret]), function=False,
        method=False)
    def impl(xp, *args):
        return fn(*args)
    impl.__name__ = name.split("::")[1].replace(".", "_")
    impl.__doc__ = f"Python's {getattr(fn, '__qualname__', fn)} on a str."
    method = name.split("::")[1].split(".")[0]
    STR_METHODS.setdefault(method, []).append(name)
    return impl


# ------------------------------------------------------------------ operators
add_str = _binary("add", lambda a, b: a + b, "str", "str", "+")
for _name, _form in (("lt", "<"), ("gt", ">"), ("le", "<="), ("ge", ">=")):
    globals()[f"{_name}_str"] = _binary(_name, getattr(str, f"__{_name}__"), "str", "bool",
                                        _form)


# ------------------------------------------------------------------ methods
def _zfill(s, width):
    """s.zfill(width) as TorchScript's: zeros before the whole str, a sign included
    ("-4".zfill(6) is "0000-4"; Python's puts them after the sign)."""
    return "0" * (width - len(s)) + s


def _count(s, substr):
    """s.count(substr): TorchScript counts the matches std::string::find meets before the
    end: an empty substr in an empty str is 0 there (Python's 1); in a non-empty str
    TorchScript's loop never ends (gpujit answers Python's len(s) + 1)."""
    return 0 if not s and not substr else s.count(substr)


# (schema, the Python str method); arguments are named and default as Python's are
_METHODS = (
    ("aten::upper(str self) -> str", str.upper),
    ("aten::lower(str self) -> str", str.lower),
    ("aten::isdigit(str self) -> bool", str.isdigit),
    ("aten::isalpha(str self) -> bool", str.isalpha),
    ("aten::isspace(str self) -> bool", str.isspace),
    ("aten::strip(str self, str? chars=None) -> str", str.strip),
    ("aten::lstrip(str self, str? chars=None) -> str", str.lstrip),
    ("aten::rstrip(str self, str? chars=None) -> str", str.rstrip),
    ("aten::startswith(str self, str prefix) -> bool", str.startswith),
    ("aten::endswith(str self, str suffix) -> bool", str.endswith),
    ("aten::replace(str self, str old, str new, int count=-1) -> str", str.replace),
    ("aten::find(str self, str substr) -> int", str.find),
    ("aten::split.str(str self, str? sep=None, int maxsplit=-1) -> str[]", str.split),
    ("aten::join(str self, str[] values) -> str", str.join),
    ("aten::count.str(str self, str substr) -> int", _count),
    ("aten::rfind(str self, str substr) -> int", str.rfind),
    ("aten::title(str self) -> str", str.title),
    ("aten::capitalize(str self) -> str", str.capitalize),
    ("aten::swapcase(str self) -> str", str.swapcase),
    ("aten::isupper(str self) -> bool", str.isupper),
    ("aten::islower(str self) -> bool", str.islower),
    ("aten::isalnum(str self) -> bool", str.isalnum),
    ("aten::zfill(str self, int width) -> str", _zfill),
    ("aten::center(str self, int width, str fillchar=\" \") -> str", str.center),
    ("aten::ljust(str self, int width, str fillchar=\" \") -> str", str.ljust),
    ("aten::rjust(str self, int width, str fillchar=\" \") -> str", str.rjust),
    ("aten::expandtabs(str self, int tabsize=8) -> str", str.expandtabs),
    ("aten::partition(str self, str separator) -> (str, str, str)", str.partition),
    ("aten::rpartition(str self, str separator) -> (str, str, str)", str.rpartition),
    ("aten::rsplit(str self, str? separator=None, int max=-1) -> str[]", str.rsplit),
    ("aten::splitlines(str self, bool keepends=False) -> str[]", str.splitlines),
    ("aten::index.str(str self, str substr) -> int", _value_errors_as_runtime(str.index)),
    ("aten::rindex(str self, str substr) -> int", _value_errors_as_runtime(str.rindex)),
    ("aten::isdecimal(str self) -> bool", str.isdecimal),
    ("aten::isnumeric(str self) -> bool", str.isnumeric),
    ("aten::isprintable(str self) -> bool", str.isprintable),
    ("aten::istitle(str self) -> bool", str.istitle),
    ("aten::isidentifier(str self) -> bool", str.isidentifier),
)
for _schema, _fn in _METHODS:
    _impl = _str_op(_schema, _fn)
    globals()[_impl.__name__] = _impl


# ------------------------------------------------------------------ ord / chr builtins

@_scalar_op("aten::ord(str string) -> int")
def ord_str(xp, string):
    """Python's ord(c) (a char-level tokenizer's `[ord(c) for c in s]`)."""
    return ord(string)


@_scalar_op("aten::chr(int i) -> str")
def chr_int(xp, i):
    """Python's chr(i)."""
    return chr(i)


# ------------------------------------------------------------------ hex / oct / bin builtins

@_scalar_op("aten::hex(int i) -> str")
def hex_int(xp, i):
    """Python's hex(i) ('-0x5' for -5)."""
    return hex(i)


@_scalar_op("aten::oct(int i) -> str")
def oct_int(xp, i):
    """Python's oct(i)."""
    return oct(i)


@_scalar_op("aten::bin(int i) -> str")
def bin_int(xp, i):
    """Python's bin(i)."""
    return bin(i)


# ------------------------------------------------------------------ str(Tensor)

def _tensor_str(a):
    """str() of a raw array (NumPy, or CuPy on its GPU) as eager gpujit prints the
    Tensor it is."""
    from ..device import cpu, device
    on_cpu = isinstance(a, (np.ndarray, np.generic))
    return str(wrap_array(a, cpu if on_cpu else device(f"cuda:{a.device.id}")))


str_tensor = _str_op("aten::str.Tensor(Tensor self) -> str", _tensor_str)
