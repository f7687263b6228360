"""Python-str ops: the string operations scripted graphs compute on (`s + t`, `s < t`,
`s.upper()`, `s.split(",")`, `",".join(xs)`, `str(x)` of a Tensor), as TorchScript's
`aten::add.str(str a, str b) -> str`, `aten::split.str`, ... They take and return Python
values like the rest of the scalar family (scalar_ops.py imports this module, so these
overloads come before the Tensor ones of the same name) and bind no public names; each
impl is the Python str method itself where TorchScript's C++ one computes what Python
computes, and TorchScript's own rule where it does not (split() and isspace at C's
whitespace, rsplit at " ", strip's " \\n\\t\\f\\v", splitlines, zfill, count, find...).
Indexing, slicing, `in`, `len`, `*` and f-string formatting are container ops
(runtime/interpreter.py CONTAINER_OPS)."""
from __future__ import annotations

import numpy as np

from .._cpp_text import tensor_text
from .scalar_ops import PYTHON_FORMS, PYTHON_VALUED, _binary, _scalar_op
from .registry import op

# the str methods scripted code may call: method name -> its overloads' qualified names
STR_METHODS: dict = {}


def _returns(py):
    def rule(*args):
        return py
    return rule


_META = {"str": _returns(str), "int": _returns(int), "bool": _returns(bool),
         "(str, str, str)": _returns((str, str, str))}


def _pieces_meta(fn):
    def rule(*args):
        return [str] * len(fn(*args))     # one str per piece
    return rule


class StrValueError(ValueError, RuntimeError):
    """s.index("z") of a missing substring: TorchScript raises RuntimeError; this is also
    the ValueError eager Python raises."""


# ------------------------------------------------------------------ UTF-8 bytes
# TorchScript's str is a C++ std::string of UTF-8 bytes: len, indexing, slicing,
# iteration, find / count positions, widths and ord count bytes ("é" has len 2, "é"[0] is
# the byte 0xc3), and its char tests and case maps are C's, on ASCII letters only
# ("é".upper() is "é", "é".isalpha() False). A scripted str is a Python str here whose
# bytes that are no UTF-8 text by themselves (a piece of a char) are the lone surrogates
# \udc80-\udcff of the "surrogateescape" error handler, always in canonical form (a
# piece next to the rest of its char is the char again: s[0] + s[1] == "é"); such a str
# reaches Python as TorchScript's does, by decoding its bytes, which raises the
# UnicodeDecodeError torch raises (runtime/arguments.copied).

def utf8_view(s):
    """s's UTF-8 bytes as a str of one char per byte (latin-1), where Python's str
    operations count and index bytes as TorchScript's do."""
    return s if s.isascii() else s.encode("utf-8", "surrogateescape").decode("latin-1")


def from_utf8_view(b):
    """The scripted str whose utf8_view is b."""
    return b if b.isascii() else b.encode("latin-1").decode("utf-8", "surrogateescape")


def canonical_str(s):
    """s with the pieces of a char that follow each other joined into the char again
    (the str TorchScript's bytes are)."""
    return s if s.isascii() else from_utf8_view(utf8_view(s))


def _to_view(v):
    if isinstance(v, str):
        return utf8_view(v)
    if isinstance(v, list) and v and isinstance(v[0], str):
        return [utf8_view(x) for x in v]
    return v


def _from_view(v):
    if isinstance(v, str):
        return from_utf8_view(v)
    if isinstance(v, (list, tuple)):
        return type(v)(_from_view(x) for x in v)
    return v


def _ascii_args(args):
    for a in args:
        if isinstance(a, str):
            if not a.isascii():
                return False
        elif isinstance(a, list):
            if not all(x.isascii() for x in a if isinstance(x, str)):
                return False
    return True


def on_utf8_bytes(fn, bytes_fn=None):
    """fn on TorchScript's strs: on the UTF-8 bytes of any non-ASCII str argument (also
    of a list's elements) and with bytes_fn (C's ASCII-only char tests / case maps) in
    place of fn there, its strs turned back into scripted strs."""
    impl = bytes_fn or fn

    def on_bytes(*args):
        if _ascii_args(args):
            return fn(*args)
        return _from_view(impl(*[_to_view(a) for a in args]))
    on_bytes.__name__ = getattr(fn, "__name__", "on_bytes")
    on_bytes.__doc__ = fn.__doc__
    return on_bytes


def _c_bytes(name, fn=None):
    """A str method as C's char functions compute it on the bytes of a utf8_view (a byte
    past ASCII is no letter, digit, space or printable char and has no case)."""
    def on_view(s, *args):
        r = (fn or getattr(bytes, name))(s.encode("latin-1"), *args)
        return r.decode("latin-1") if isinstance(r, bytes) else r
    on_view.__name__ = name
    return on_view


class StrTypeError(TypeError, RuntimeError):
    """s.center(5, "ab") (a fill str not one byte long): TorchScript's RuntimeError, also
    the TypeError eager Python raises."""


def _str_op(schema, fn, form=None, bytes_fn=None):
    """An unbound op whose impl is fn(*args) on Python values (on the UTF-8 bytes of a
    non-ASCII str: on_utf8_bytes, with bytes_fn there when given)."""
    name = schema.split("(", 1)[0]
    run = on_utf8_bytes(fn, bytes_fn)
    ret = schema.rsplit("->", 1)[1].strip()
    PYTHON_VALUED.add(name)
    if form is not None:
        PYTHON_FORMS[name] = form

    @op(schema, meta=_pieces_meta(run) if ret == "str[]" else _META[ret], function=False,
        method=False)
    def impl(xp, *args):
        try:
            return run(*args)
        except ValueError as e:     # s.split(""): Python's ValueError, TorchScript's
            if isinstance(e, RuntimeError):     # RuntimeError (StrValueError is both)
                raise
            raise StrValueError(str(e)) from None
        except TypeError as e:      # s.center(5, "ab"): TorchScript's RuntimeError,
            if isinstance(e, RuntimeError):     # "TypeError: The fill character must be
                raise                           # exactly one character long"
            raise StrTypeError(f"TypeError: {e}") from None
    impl.__name__ = name.split("::")[1].replace(".", "_")
    impl.__doc__ = f"Python's {getattr(fn, '__qualname__', fn)} on a str."
    method = name.split("::")[1].split(".")[0]
    STR_METHODS.setdefault(method, []).append(name)
    return impl


# ------------------------------------------------------------------ operators
add_str = _binary("add", on_utf8_bytes(lambda a, b: a + b), "str", "str", "+")
for _name, _form in (("lt", "<"), ("gt", ">"), ("le", "<="), ("ge", ">=")):
    # (std::string's compare: byte by byte)
    globals()[f"{_name}_str"] = _binary(_name, on_utf8_bytes(getattr(str, f"__{_name}__")),
                                        "str", "bool", _form)
for _name in ("add", "lt", "gt", "le", "ge"):
    # (no Python form for the executor to write inline: a non-ASCII str goes through
    # on_utf8_bytes, so that pieces of a char join and compare as TorchScript's bytes)
    PYTHON_FORMS.pop(f"aten::{_name}.str", None)


# ------------------------------------------------------------------ methods
def _zfill(s, width):
    """s.zfill(width) as TorchScript's: zeros before the whole str, a sign included
    ("-4".zfill(6) is "0000-4"; Python's puts them after the sign)."""
    return "0" * (width - len(s)) + s


def _ts_bounds(s, start, end):
    """TorchScript's start/end of the str methods that take them (count, find, rfind,
    index, rindex, startswith, endswith): a negative start counts from the end (clamped at
    0); a negative end is one past Python's (end=-1, the default, is the whole str: TorchScript
    computes len + end + 1), clamped at 0; a positive end past the str is the str's end."""
    size = len(s)
    if start < 0:
        start = max(0, size + start)
    if end < 0:
        end = max(0, size + end + 1)
    return start, end


def _substr(s, start, length):
    """std::string::substr(start, length): out_of_range (a RuntimeError in TorchScript)
    for a start past the end; a negative length is npos there (the rest of the str)."""
    if start > len(s):
        raise RuntimeError(f"basic_string::substr: __pos (which is {start}) > "
                           f"this->size() (which is {len(s)})")
    return s[start:] if length < 0 else s[start:start + length]


def _count(s, substr, start=0, end=-1):
    """s.count(substr, start, end) as TorchScript counts: the non-overlapping matches
    std::string::find meets from start whose first char is before end (a match may run past
    end: "abab".count("ab", 0, 3) is 2; Python's 1), 0 for a start past the str. An empty
    substr where TorchScript's loop never ends (start before end) counts as Python's
    len(s[start:end]) + 1; where it ends (an empty str, start at or past end) it is 0."""
    if start > len(s):
        return 0
    start, end = _ts_bounds(s, start, end)
    if not substr:
        return 0 if start >= min(end, len(s)) else len(s[start:end]) + 1
    n, pos = 0, s.find(substr, start)
    while pos != -1 and pos < end:
        n += 1
        pos = s.find(substr, pos + len(substr))
    return n


def _startswith(s, substr, start=0, end=-1):
    """s.startswith(substr, start, end) on TorchScript's substr(start, end - start)."""
    start, end = _ts_bounds(s, start, end)
    return _substr(s, start, end - start).startswith(substr)


def _endswith(s, substr, start=0, end=-1):
    """s.endswith(substr, start, end) on TorchScript's substr(start, end - start)."""
    start, end = _ts_bounds(s, start, end)
    return _substr(s, start, end - start).endswith(substr)


def _find(s, substr, start=0, end=-1, reverse=False):
    """TorchScript's stringFindImpl: the first (reverse: last) match in
    substr(start, end - start) (empty when end is not after start), as an index of s;
    -1 when there is none."""
    start, end = _ts_bounds(s, start, end)
    window = _substr(s, start, end - start) if end > start else ""
    pos = window.rfind(substr) if reverse else window.find(substr)
    return -1 if pos < 0 else pos + start


def _rfind(s, substr, start=0, end=-1):
    return _find(s, substr, start, end, reverse=True)


def _index(s, substr, start=0, end=-1, reverse=False):
    """s.index / s.rindex: find / rfind, TorchScript's error when there is no match."""
    pos = _find(s, substr, start, end, reverse)
    if pos < 0:
        raise StrValueError("ValueError: substring not found")     # (torch 2.13's words)
    return pos


def _partition(s, sep):
    """s.partition(sep); an empty sep is found at the start, as TorchScript's (torch 2.13:
    ('', '', s); Python raises "empty separator")."""
    return ("", "", s) if not sep else s.partition(sep)


def _rpartition(s, sep):
    return (s, "", "") if not sep else s.rpartition(sep)


def _rindex(s, substr, start=0, end=-1):
    return _index(s, substr, start, end, reverse=True)


# C's isspace (TorchScript's str methods test chars with it): no \x1c-\x1f, no Unicode
# space (Python's str.isspace has them)
_C_SPACE = " \t\n\v\f\r"
# the chars TorchScript's strip / lstrip / rstrip remove by default (its schema's
# `str chars=" \n\t\f\v"`: no \r)
_STRIP_CHARS = " \n\t\f\v"
# the bytes TorchScript's splitlines splits at, each on its own: its set
# "\n\r\r\n\v\x0b\f\x0c\x1c\x1d\x1e\x85\u2028\u2029" as the bytes of a C++ literal, so
# also 0x85 and those of U+2028 / U+2029 (e2 80 a8, e2 80 a9) wherever they are in a
# utf8_view ("aé".splitlines() splits "é" after its 0xc3)
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\xe2\x80\xa8\xa9"


def _isspace(s):
    """s.isspace() as TorchScript's: not empty, every char C's isspace."""
    return bool(s) and all(c in _C_SPACE for c in s)


def _split(s, separator=None, max=-1):
    """s.split(separator, max) as TorchScript's: with a separator, Python's; without one,
    the runs of chars between C whitespace, and `max` is not looked at ("a b c".split(None,
    1) is ['a', 'b', 'c'] in torch 2.13)."""
    if separator is not None:
        return s.split(separator, max)
    out, word = [], []
    for c in s:
        if c in _C_SPACE:
            if word:
                out.append("".join(word))
                word = []
        else:
            word.append(c)
    if word:
        out.append("".join(word))
    return out


def _splitlines(s, keepends=False):
    """s.splitlines(keepends) as TorchScript's: each line-break char (_LINE_BREAKS) ends a
    piece on its own, so "\r\n" gives an empty piece between them; keepends puts each
    break in a piece of its own after its line ("a\nb".splitlines(True) is ['a', '\n',
    'b']); what follows the last break is a piece when not empty."""
    out, prev = [], 0
    for i, c in enumerate(s):
        if c in _LINE_BREAKS:
            out.append(s[prev:i])
            if keepends:
                out.append(c)
            prev = i + 1
    if prev != len(s):
        out.append(s[prev:])
    return out


def _strip(s, chars=_STRIP_CHARS):
    return s.strip(chars)


def _lstrip(s, chars=_STRIP_CHARS):
    return s.lstrip(chars)


def _rstrip(s, chars=_STRIP_CHARS):
    return s.rstrip(chars)


# (schema, the Python str method); arguments are named and default as Python's are
def _isidentifier(s):
    """TorchScript's isidentifier (its Python 2 one, which it warns of): not empty, not
    starting with a digit, every byte an ASCII letter or digit, so '_a' and 'a_b' are not
    identifiers (torch 2.13), nor is a non-ASCII letter."""
    b = s.encode()
    return bool(b) and not b[:1].isdigit() and all(
        48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 for c in b)


_METHODS = (
    ("aten::upper(str self) -> str", str.upper),
    ("aten::lower(str self) -> str", str.lower),
    ("aten::isdigit(str self) -> bool", str.isdigit),
    ("aten::isalpha(str self) -> bool", str.isalpha),
    ("aten::isspace(str self) -> bool", _isspace),
    ("aten::strip(str self, str chars=\" \\n\\t\\f\\v\") -> str", _strip),
    ("aten::lstrip(str self, str chars=\" \\n\\t\\f\\v\") -> str", _lstrip),
    ("aten::rstrip(str self, str chars=\" \\n\\t\\f\\v\") -> str", _rstrip),
    ("aten::startswith(str self, str substr, int start=0, int end=-1) -> bool", _startswith),
    ("aten::endswith(str self, str substr, int start=0, int end=-1) -> bool", _endswith),
    ("aten::replace(str self, str old, str new, int max=-1) -> str", str.replace),
    ("aten::find(str self, str substr, int start=0, int end=-1) -> int", _find),
    ("aten::split.str(str self, str? separator=None, int max=-1) -> str[]", _split),
    ("aten::join(str self, str[] values) -> str", str.join),
    ("aten::count.str(str self, str substr, int start=0, int end=-1) -> int", _count),
    ("aten::rfind(str self, str substr, int start=0, int end=-1) -> int", _rfind),
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
    ("aten::partition(str self, str separator) -> (str, str, str)", _partition),
    ("aten::rpartition(str self, str separator) -> (str, str, str)", _rpartition),
    ("aten::rsplit(str self, str separator=\" \", int max=-1) -> str[]", str.rsplit),
    ("aten::splitlines(str self, bool keepends=False) -> str[]", _splitlines),
    ("aten::index.str(str self, str substr, int start=0, int end=-1) -> int", _index),
    ("aten::rindex(str self, str substr, int start=0, int end=-1) -> int", _rindex),
    ("aten::isdecimal(str self) -> bool", str.isdecimal),
    ("aten::isnumeric(str self) -> bool", str.isnumeric),
    ("aten::isprintable(str self) -> bool", str.isprintable),
    ("aten::istitle(str self) -> bool", str.istitle),
    ("aten::isidentifier(str self) -> bool", _isidentifier),
)

def _isprintable_bytes(b):
    return all(32 <= c < 127 for c in b)


# the C char functions on the bytes of a non-ASCII str (ASCII ones: the table's)
_BYTES_METHODS = {name: _c_bytes(name) for name in (
    "upper", "lower", "isdigit", "isalpha", "title", "capitalize", "swapcase", "isupper",
    "islower", "isalnum", "istitle")}
_BYTES_METHODS.update(isdecimal=_c_bytes("isdecimal", bytes.isdigit),
                      isnumeric=_c_bytes("isnumeric", bytes.isdigit),
                      isprintable=_c_bytes("isprintable", _isprintable_bytes))
for _schema, _fn in _METHODS:
    _impl = _str_op(_schema, _fn,
                    bytes_fn=_BYTES_METHODS.get(_schema.split("::")[1].split("(")[0]))
    globals()[_impl.__name__] = _impl


# ------------------------------------------------------------------ ord / chr builtins

class _OrdError(TypeError, RuntimeError):
    """ord() of a str that is not one character: TorchScript's RuntimeError, also the
    TypeError Python's ord raises."""


class _ChrError(ValueError, RuntimeError):
    """chr() of an int outside [0, 0x10ffff]: TorchScript's RuntimeError, also Python's
    ValueError."""


@_scalar_op("aten::ord(str string) -> int")
def ord_str(xp, string):
    """ord(c) of a one-byte str (a char-level tokenizer's `[ord(c) for c in s]`, which
    iterates bytes: ord of a byte of "é" is 195 / 169); a str that is not one byte
    raises TorchScript's RuntimeError."""
    string = utf8_view(string)      # (a byte: ord("é") finds 2 characters)
    if len(string) != 1:
        raise _OrdError(f"String for ord() must be 1 character, found {len(string)}")
    return ord(string)


@_scalar_op("aten::chr(int i) -> str")
def chr_int(xp, i):
    """TorchScript's chr(i): the one byte char(i) (chr(65) is "A", chr(0x4e2d) the byte
    0x2d); an i outside [0, 0x10ffff] raises TorchScript's RuntimeError."""
    if not 0 <= i < 0x110000:
        raise _ChrError(f"chr() arg not in range(0x110000), found {i}")
    return from_utf8_view(chr(i & 0xff))    # (one byte, C++'s char(i): chr(233) is 0xe9)


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
    """str() of a raw array (NumPy, or CuPy on its GPU) in scripted code: ATen's C++
    printer's text of the Tensor it is (`[ CPUFloatType{2} ]`; gpujit/_cpp_text.py)."""
    from .. import dtypes as _dt
    on_cpu = isinstance(a, (np.ndarray, np.generic))
    return tensor_text(a, _dt.from_numpy_dtype(a.dtype), on_cpu)


str_tensor = _str_op("aten::str.Tensor(Tensor self) -> str", _tensor_str)
