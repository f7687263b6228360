"""Python's own list / dict / set / str operations on container values, for the nodes no
registry op takes (TorchScript's aten::__getitem__.t, aten::append.t, aten::keys.str, ...):
CONTAINER_OPS maps each kind to the function the interpreter calls and the expression the
generated code writes. Failed lookups name the scripted line they came from."""
from __future__ import annotations

import math

import operator

from ..ir import types as _T
from ..passes.constant_propagation import NOT_CONSTANT as _NOT_CONSTANT
from ..passes.constant_propagation import constant_value as _constant_value
from ..passes.constant_propagation import same_identity as _same_identity
from ..ops.scalar_ops import int64
from ..ops.scalar_str import canonical_str as _canonical_str
from ..ops.scalar_str import from_utf8_view as _from_utf8_view
from ..ops.scalar_str import utf8_view as _utf8_view
from .percent_format import percent_format
from .script_text import script_str

__all__ = ["CONTAINER_OPS", "KeyErrorAt", "IndexErrorAt", "ValueErrorAt", "container_op",
           "tuple_item"]


def _set_item(c, k, v):
    c[k] = v
    return c


# The container ops below run Python's own operation. Those that can fail on a bad index,
# key or element take the scripted source line as a last argument (`where`, a str the
# frontend adds) and re-raise Python's error naming it, as a compile error would.

class KeyErrorAt(KeyError, RuntimeError):
    """A KeyError whose message reads as text (KeyError's own str() is its key's repr).
    Also a RuntimeError, as TorchScript's failed dict lookups are (`except KeyError` and
    `except RuntimeError` both catch it)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class IndexErrorAt(IndexError, RuntimeError):
    """An IndexError of a scripted container op (an index out of range, pop from an empty
    list), also a RuntimeError as TorchScript's ('list index out of range')."""


class ValueErrorAt(ValueError, RuntimeError):
    """A ValueError of a scripted container op (xs.index(x) / xs.remove(x) of a missing
    element), also a RuntimeError as TorchScript's ("'5' is not in list")."""


_AT = ((KeyError, KeyErrorAt), (IndexError, IndexErrorAt), (ValueError, ValueErrorAt))


def _located(e, where):
    """Python's IndexError / KeyError / ValueError e, with the scripted line it came from
    (as a class that is also a RuntimeError, as TorchScript's errors are)."""
    cls = type(e)
    if not isinstance(e, RuntimeError):
        cls = next((at for base, at in _AT if isinstance(e, base)), cls)
    return cls(f"{e.args[0] if e.args else e}\n  in scripted code at {where}")


def tuple_item(t, i):
    """t[i] of a tuple indexed by an int computed at run time (prim::TupleIndex): an index
    out of range raises TorchScript's error (an IndexError that is also a RuntimeError)."""
    try:
        return t[i]
    except IndexError:
        raise IndexErrorAt(f"Tuple list index out of range (index {i}, length {len(t)})") \
            from None


def _percent_format(fmt, where, *args):
    try:
        return percent_format(fmt, *args)
    except RuntimeError as e:
        raise _located(e, where) from None


def node_location(node):
    """`file:line: source` of node's source range, or None (nodes without one: parsed or
    traced graphs)."""
    sr = node.source_range
    if sr is None or not getattr(sr, "filename", None):
        return None
    text = (sr.text or "").strip()
    return f"{sr.filename}:{sr.line}: {text}" if text else f"{sr.filename}:{sr.line}"


def _percent_format_of(node):
    """aten::percentFormat(template, values) as TorchScript's graph has it (values: a
    tuple of the values, or the one value), its errors naming the node's line; a graph
    of gpujit before session 40 passed (template, line, *values)."""
    if len(node.inputs) != 2:
        return _canonical_result(_percent_format)
    where = node_location(node)

    def percent_format_at(fmt, values):
        args = values if isinstance(values, tuple) else (values,)
        try:
            return _canonical_str(percent_format(fmt, *args))
        except RuntimeError as e:
            if where is None:
                raise
            raise _located(e, where) from None
    return percent_format_at


def _missing(c, k, pop=False):
    """The error of a failed c[k] / c.pop(k), in Python's words plus the index and
    length ("list index out of range (index 5, length 2)", "pop from empty list"); a
    missing dict key in TorchScript's words, "KeyError: b" (the key as scripted code
    writes it)."""
    if isinstance(c, dict):
        return KeyError(f"KeyError: {script_str(k)}")
    if pop and not c and k == -1:
        return IndexError("pop from empty list")
    what = "string" if isinstance(c, str) else "list"
    return IndexError(f"{what} index out of range (index {k}, length {len(c)})")


def _getitem(c, k, where=None):
    try:
        return c[k]
    except (IndexError, KeyError):
        if where is None:
            raise
        raise _located(_missing(c, k), where) from None


def _dict_get(d, k, default=None):
    """d.get(k) / d.get(k, default) (TorchScript's aten::get)."""
    return d.get(k, default)


_NO_KEY = object()


def _pop(c, k=_NO_KEY, where=None):
    if isinstance(c, set):      # s.pop() of a set (loaded code's torch.pop(s) has a -1)
        return c.pop()
    try:
        return c.pop(k)
    except (IndexError, KeyError):
        if where is None:
            raise
        raise _located(_missing(c, k, pop=True), where) from None


def _pop_or(d, k, default):
    """d.pop(k, default) (aten::pop.Dict with a default)."""
    return d.pop(k, default)


def _delete(c, k, where=None):
    """`del xs[i]` / `del d[k]` (aten::Delete): as pop's, the container returned."""
    _pop(c, k, where)
    return c


def _streamed(x) -> str:
    """x as C++'s `ostream << x` writes it in TorchScript's message: a float as %g
    ('1', '-0', '0.333333'), a bool as 1 / 0."""
    if isinstance(x, bool):
        return str(int(x))
    if isinstance(x, float):
        return format(x, "g")
    return script_str(x)


def _index(c, x, where=None):
    """xs.index(x) (aten::index.list): "'x' is not in list" where it is missing."""
    for i, v in enumerate(c):
        if v == x:
            return i
    e = ValueError(f"'{_streamed(x)}' is not in list")
    if where is None:
        raise e
    raise _located(e, where) from None


def _reverse(c):
    """xs.reverse() (aten::reverse), in place."""
    c.reverse()
    return c


def _sort(c, reverse):
    """xs.sort(reverse=...) (aten::sort of a list), in place: _sorted's order."""
    c[:] = _sorted(c, reverse)
    return c


def _repeat(c, n):
    """`xs * n` / `n * xs` (and `s * n`): Python's repetition, except that TorchScript's
    aten::mul.left_t reserves len(xs) * n elements first, a C++ size_t product (modulo
    2**64): a non-empty list times a negative count raises (C++'s length_error,
    'vector::reserve'), unless the product wraps around to a size that can be reserved
    (len(xs) even times -2**63 is 0): then its loop over n repeats nothing, an empty list.
    `xs *= n` clears."""
    if n < 0 and isinstance(c, list) and c:
        if (len(c) * n) % 2 ** 64 <= _RESERVABLE:
            return c[:0]
        raise RuntimeError(f"vector::reserve: a list of {len(c)} elements repeated {n} "
                           f"times (TorchScript's list * n takes no negative n)")
    return c * n


# the most elements a C++ vector of IValues (16 bytes each) can reserve: libstdc++'s
# max_size(), PTRDIFF_MAX / 16 (beyond it, length_error 'vector::reserve')
_RESERVABLE = (2 ** 63 - 1) // 16


def _std_unguarded_linear_insert(out, last, comp):
    """libstdc++'s __unguarded_linear_insert: out[last] moved left past the elements it
    compares before. (Its loop has no bound: under an inconsistent comparator it would
    read before the array; here it stops at index 0.)"""
    val = out[last]
    nxt = last - 1
    while nxt >= 0 and comp(val, out[nxt]):
        out[last] = out[nxt]
        last = nxt
        nxt -= 1
    out[last] = val


def _std_insertion_sort_range(out, first, last, comp):
    """libstdc++'s __insertion_sort of out[first:last]."""
    for i in range(first + 1, last):
        val = out[i]
        if comp(val, out[first]):
            out[first + 1:i + 1] = out[first:i]
            out[first] = val
        else:
            _std_unguarded_linear_insert(out, i, comp)


def _std_adjust_heap(out, first, hole, length, value, comp):
    """libstdc++'s __adjust_heap then __push_heap, on the heap out[first:first+length]."""
    top = hole
    second = hole
    while second < (length - 1) // 2:
        second = 2 * (second + 1)
        if comp(out[first + second], out[first + second - 1]):
            second -= 1
        out[first + hole] = out[first + second]
        hole = second
    if (length & 1) == 0 and second == (length - 2) // 2:
        second = 2 * (second + 1)
        out[first + hole] = out[first + second - 1]
        hole = second - 1
    parent = (hole - 1) // 2
    while hole > top and comp(out[first + parent], value):
        out[first + hole] = out[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    out[first + hole] = value


def _std_heap_sort(out, first, last, comp):
    """libstdc++'s __partial_sort(first, last, last): __make_heap, then __sort_heap."""
    length = last - first
    if length >= 2:
        parent = (length - 2) // 2
        while True:
            _std_adjust_heap(out, first, parent, length, out[first + parent], comp)
            if parent == 0:
                break
            parent -= 1
    while last - first > 1:
        last -= 1
        value = out[last]
        out[last] = out[first]
        _std_adjust_heap(out, first, 0, last - first, value, comp)


def _std_partition_pivot(out, first, last, comp):
    """libstdc++'s __unguarded_partition_pivot: the median of out[first + 1], the middle
    and out[last - 1] moved to first, then __unguarded_partition around it (its scans
    stop at the range's ends here, where libstdc++'s would run past them)."""
    a, b, c = first + 1, first + (last - first) // 2, last - 1
    if comp(out[a], out[b]):
        m = b if comp(out[b], out[c]) else (c if comp(out[a], out[c]) else a)
    elif comp(out[a], out[c]):
        m = a
    elif comp(out[b], out[c]):
        m = c
    else:
        m = b
    out[first], out[m] = out[m], out[first]
    pivot = out[first]
    lo, hi = first + 1, last
    while True:
        while lo < last - 1 and comp(out[lo], pivot):
            lo += 1
        hi -= 1
        while hi > first and comp(pivot, out[hi]):
            hi -= 1
        if not lo < hi:
            return lo
        out[lo], out[hi] = out[hi], out[lo]
        lo += 1


def _std_sort(c, comp):
    """libstdc++'s std::sort with comp: introsort (median-of-three quicksort down to
    ranges of 16, heapsort past 2 * floor(log2(n)) levels), then insertion sort; under
    a comparator that is no strict weak order (a nan among floats) its order is the one
    TorchScript's sort gives."""
    out = list(c)
    n = len(out)
    if n < 2:
        return out

    def loop(first, last, depth):
        while last - first > 16:
            if depth == 0:
                _std_heap_sort(out, first, last, comp)
                return
            depth -= 1
            cut = _std_partition_pivot(out, first, last, comp)
            loop(cut, last, depth)
            last = cut
    loop(0, n, 2 * (n.bit_length() - 1))
    if n > 16:
        _std_insertion_sort_range(out, 0, 16, comp)
        for i in range(16, n):
            _std_unguarded_linear_insert(out, i, comp)
    else:
        _std_insertion_sort_range(out, 0, n, comp)
    return out


def _sorted(c, reverse=False):
    """sorted(c, reverse=...) / c.sort(): Python's, except for floats with a nan among
    them: TorchScript sorts with std::sort and the comparator `a != b and (a < b) !=
    reverse`, under which a nan is no greater or less than anything; where a list holds
    a nan, the order is the one libstdc++'s std::sort gives ([0.0, nan] sorted in reverse
    is [nan, 0.0]), and so where it holds a -0.0 (std::sort is no stable sort: past 16
    elements 0.0 and -0.0 change places). (A reverse sort of more than 16 floats with a
    nan reads past the list in TorchScript, which then fails or crashes; gpujit's scans
    stop at its ends.)"""
    if any(type(v) is float and (v != v or (v == 0.0 and math.copysign(1.0, v) < 0))
           for v in c):
        return _std_sort(c, lambda a, b: a != b and (a < b) != reverse)
    return sorted(c, reverse=reverse)


def _popitem(d, where=None):
    """dict.popitem() in scripted code: TorchScript's removes the FIRST (key, value) pair
    in insertion order (c10::Dict's begin()), not Python's last."""
    try:
        if not d:
            raise KeyError("popitem(): dictionary is empty")
        k = next(iter(d))
        return k, d.pop(k)
    except KeyError:
        if where is None:
            raise
        raise _located(KeyError("popitem(): dictionary is empty"), where) from None


def _float_in_list(c, x):
    """Is x in the list c by ==, as TorchScript's listContains / listCount / listRemove
    compare a float (a nan is in no list, not even one holding that very nan: Python's
    `in`, count and remove check identity first)? None when c is no list or x no float."""
    if type(x) is float and type(c) is list:
        return [k for k, y in enumerate(c) if y == x]
    return None


def _contains(c, k):
    hits = _float_in_list(c, k)
    return k in c if hits is None else bool(hits)


def _count(c, x):
    hits = _float_in_list(c, x)
    return c.count(x) if hits is None else len(hits)


def _remove(c, x, where=None):
    try:
        hits = _float_in_list(c, x)
        if hits is None:
            c.remove(x)
        elif hits:
            del c[hits[0]]
        else:
            raise ValueError(x)
    except (ValueError, KeyError):
        if where is None:
            raise
        if isinstance(c, set):
            raise _located(KeyError(f"remove(x): {x!r} is not in the set"), where) from None
        raise _located(ValueError(f"list.remove(x): x not in list (x = {x!r})"),
                       where) from None
    return c


def _append(lst, x):
    lst.append(x)
    return lst


def _extend(c, other):
    """list.extend / set.update: all of another container's elements added."""
    if isinstance(c, set):
        c.update(other)
    else:
        c.extend(other)
    return c


def _iadd(lst, other):
    """`xs += ys` (TorchScript's aten::add_.t): ys's elements added to xs itself."""
    lst.extend(other)
    return lst


def _imul(lst, n):
    """`xs *= n` (TorchScript's aten::mul_.t): xs itself, n times over (n <= 0: empty)."""
    lst *= n
    return lst


def _update(d, other):
    """d.update(other) of two dicts (TorchScript's aten::update)."""
    d.update(other)
    return d


def _insert(c, i, x):
    c.insert(i, x)
    return c


def _tolist(t, dim=None, kind=None):
    """x.tolist() for an annotated `dim`-deep list of `kind` (TorchScript's prim::tolist
    checks both against the Tensor it gets)."""
    if dim is not None:
        a = getattr(t, "_data", t)           # the array (generated code passes it raw)
        if a.ndim != dim:
            raise RuntimeError(f"Output annotation list dimension and runtime tensor "
                               f"dimension must match for tolist() (annotated {dim}, the "
                               f"Tensor has {a.ndim})")
        k = a.dtype.kind
        has = "bool" if k == "b" else "float" if k == "f" else "int" if k in "iu" else k
        if has != kind:
            raise RuntimeError(f"Output annotation element type and runtime tensor element "
                               f"type must match for tolist() (annotated {kind}, the "
                               f"Tensor's are {has})")
    return t.tolist()


def _clear(c):
    c.clear()
    return c


def _slice(c, start, end, step):
    if step == 0:       # (TorchScript's words; Python's ValueError says "slice step ...")
        raise RuntimeError("List slice should have non-zero step")
    return c[start:end:step]


def _new_set(*xs):
    return set(xs[0]) if xs else set()


def _format(fmt, *args):
    """TorchScript's aten::format: each `{}` of fmt, left to right, is the next argument
    as scripted code writes it (script_str: floats `1.`, containers, enums); any other
    text (`{0}`, `{:>5}`, `{{`) is kept as it is and extra arguments are unused."""
    out, used, begin = [], 0, 0
    while True:
        k = fmt.find("{}", begin)
        if k < 0:
            out.append(fmt[begin:])
            return "".join(out)
        out.append(fmt[begin:k])
        if used >= len(args):
            raise RuntimeError(f"Too few arguments for format string: {fmt}")
        out.append(script_str(args[used]))
        used += 1
        begin = k + 2


def _sum(c):
    """sum(xs): an int64 sum of ints wraps around as every scripted int does (sum([2**62]
    * 4) is 0). (TorchScript's aten::sum.int accumulates in a C++ `int`, so its sum wraps
    around 32 bits, sum([3000000000]) -1294967296: a defect gpujit does not copy.)"""
    r = sum(c)
    return int64(r) if type(r) is int else r


class EmptySequenceError(ValueError, RuntimeError):
    """min() / max() of an empty list: TorchScript's RuntimeError, also Python's
    ValueError (as KeyErrorAt is both KeyError and RuntimeError)."""


def _min(*a):
    """min(xs) (or min(xs, ys) of two lists)."""
    if len(a) == 1 and not a[0]:
        raise EmptySequenceError("min() arg is an empty sequence")
    return min(*a)


def _max(*a):
    if len(a) == 1 and not a[0]:
        raise EmptySequenceError("max() arg is an empty sequence")
    return max(*a)


def _sum_float(c):
    """sum(xs) of a List[float]: a float also for an empty list (TorchScript's
    aten::sum.float starts from 0.0; Python's sum([]) is the int 0)."""
    return float(sum(c))


# Python's own list/dict/set/str operations on container values (TorchScript's
# aten::__getitem__.t, aten::__getitem__.Dict_str, aten::append.t, ...), for the nodes no
# registry op takes: kind -> (function, the expression the executor writes, over {0}, {1};
# used only for a node with exactly as many inputs as the expression names)
CONTAINER_OPS = {
    # `x is None`, `a is b` (TorchScript's IValue identity: numbers by value): no text
    # form (inlined constants would read `2 is None`)
    "aten::__is__": (_same_identity, None),
    "aten::__isnot__": (lambda a, b: not _same_identity(a, b), None),
    "aten::__getitem__": (_getitem, "{0}[{1}]"),
    "aten::get": (_dict_get, None),
    "aten::__contains__": (_contains, None),      # (a float: by ==, _float_in_list)
    "aten::len": (len, "len({0})"),
    "aten::keys": (lambda d: list(d.keys()), "list({0}.keys())"),
    "aten::values": (lambda d: list(d.values()), "list({0}.values())"),
    "aten::items": (lambda d: list(d.items()), "list({0}.items())"),
    "aten::list": (list, "list({0})"),
    "aten::tolist": (_tolist, "{0}.tolist()"),
    "aten::append": (_append, None),
    "aten::_set_item": (_set_item, None),
    "aten::pop": (_pop, None),
    "aten::remove": (_remove, None),
    "aten::Delete": (_delete, None),
    "aten::index": (_index, None),
    "aten::reverse": (_reverse, None),
    "aten::sort": (_sort, None),
    "aten::popitem": (_popitem, None),
    "aten::setdefault": (lambda d, k, v: d.setdefault(k, v), None),   # (TorchScript's op)
    "aten::extend": (_extend, None),
    "aten::add_": (_iadd, None),            # (a list's; a Tensor's add_ has a registry op)
    "aten::mul_": (_imul, None),
    "aten::insert": (_insert, None),
    "aten::update": (_update, None),
    "aten::clear": (_clear, None),
    "aten::copy": (lambda c: c.copy(), "{0}.copy()"),
    "aten::dict": (dict, "dict({0})"),          # dict(d): TorchScript's copy of a dict
    "aten::count": (_count, None),
    "aten::sorted": (_sorted, None),
    "aten::reversed": (lambda c: c[::-1], "{0}[::-1]"),
    "aten::slice": (_slice, "{0}[{1}:{2}:{3}]"),
    "aten::set": (_new_set, None),
    "aten::min": (_min, None),
    "aten::max": (_max, None),
    "aten::any": (any, "any({0})"),          # any(xs) / all(xs) of ints, floats or strs
    "aten::all": (all, "all({0})"),
    # Python's operators: list + list, list * int, str + str, set | & - ^ set
    "aten::add": (operator.add, "({0} + {1})"),
    "aten::mul": (_repeat, None),
    "aten::sub": (operator.sub, "({0} - {1})"),
    "aten::__or__": (operator.or_, "({0} | {1})"),
    "aten::__and__": (operator.and_, "({0} & {1})"),
    "aten::__xor__": (operator.xor, "({0} ^ {1})"),
    # set == set, set <= set (subset) ...: the frontend emits them for two sets only
    "aten::eq": (operator.eq, "({0} == {1})"),
    "aten::ne": (operator.ne, "({0} != {1})"),
    "aten::lt": (operator.lt, "({0} < {1})"),
    "aten::le": (operator.le, "({0} <= {1})"),
    "aten::gt": (operator.gt, "({0} > {1})"),
    "aten::ge": (operator.ge, "({0} >= {1})"),
    "aten::format": (_format, None),
    "aten::percentFormat": (_percent_format, None),
    "aten::str": (script_str, None),        # (Enum members as TorchScript writes them)
    "aten::sum": (_sum, None),
    # (TorchScript's enumerate(xs, start) is zip(range(start, INT64_MAX), xs), whose range
    # length wraps for a negative start: it yields nothing there; gpujit yields Python's)
    "aten::enumerate": (lambda c, start: list(enumerate(c, start)),
                        "list(enumerate({0}, {1}))"),
    "aten::zip": (lambda *cs: list(zip(*cs)), None),
}


# a str's len / indexing / slicing / list / `in` / + on its UTF-8 bytes, as TorchScript's
# std::string (ops/scalar_str.utf8_view: "é" has len 2 and "é"[0] is the byte 0xc3)
def _str_len(s):
    return len(s) if s.isascii() else len(_utf8_view(s))


def _str_getitem(s, k, where=None):
    if s.isascii():
        return _getitem(s, k, where)
    return _from_utf8_view(_getitem(_utf8_view(s), k, where))


def _str_slice(s, start, end, step=1):
    if s.isascii():
        return _slice(s, start, end, step)
    return _from_utf8_view(_slice(_utf8_view(s), start, end, step))


def _str_list(s):
    if s.isascii():
        return list(s)
    return [_from_utf8_view(c) for c in _utf8_view(s)]


def _str_contains(s, sub):
    if s.isascii() and sub.isascii():
        return sub in s
    return _utf8_view(sub) in _utf8_view(s)


def _str_add(a, b):
    return _canonical_str(a + b)


def _canonical_result(fn):
    def run(*args):
        return _canonical_str(fn(*args))
    run.__name__ = fn.__name__
    return run


_STR_OPS = {"aten::len": _str_len, "aten::__getitem__": _str_getitem,
            "aten::slice": _str_slice, "aten::list": _str_list,
            "aten::__contains__": _str_contains, "aten::add": _str_add,
            "aten::format": _canonical_result(_format),
            "aten::percentFormat": _canonical_result(_percent_format)}


# the ops that can fail on a missing index / key / element -> their inputs in the graph,
# as TorchScript's (aten::pop(xs, i)); the function takes the line that failed after them
_LOCATED = {"aten::__getitem__": 2, "aten::pop": 2, "aten::remove": 2, "aten::popitem": 1,
            "aten::Delete": 2, "aten::index": 2}


def _located_op(fn, node):
    """fn with the scripted line of node (node_location) as its `where` argument."""
    where = node_location(node)
    if where is None:
        return fn

    def at_line(*args):
        return fn(*args, where)
    return at_line


def container_op(node):
    """(function, expression form) of a container node: CONTAINER_OPS's, or the one its
    output type asks for (sum() of a List[float] is a float even when the list is empty),
    or a str's (_STR_OPS: on its UTF-8 bytes). An op that can fail on a missing index or
    key reports the node's line (a gpujit graph before session 41 passed it as a last
    input)."""
    if node.kind == "aten::percentFormat":
        return _percent_format_of(node), None
    if node.kind == "aten::pop" and len(node.inputs) == 3 and \
            isinstance(node.inputs[0].type, _T.DictType):
        return _pop_or, None
    if _LOCATED.get(node.kind) == len(node.inputs):
        fn = _STR_OPS[node.kind] if node.kind in _STR_OPS and \
            isinstance(node.inputs[0].type, _T.StrType) else CONTAINER_OPS[node.kind][0]
        return _located_op(fn, node), None
    if node.kind in _STR_OPS and node.inputs and \
            isinstance(node.inputs[0].type, _T.StrType):
        return _STR_OPS[node.kind], None
    if node.kind == "aten::sum" and node.outputs and \
            isinstance(node.outputs[0].type, _T.FloatType):
        return _sum_float, None
    if node.kind == "aten::slice" and len(node.inputs) == 4 and \
            _constant_value(node.inputs[3]) in (0, _NOT_CONSTANT):
        return _slice, None     # (a step that may be 0: TorchScript's error, not Python's)
    return CONTAINER_OPS[node.kind]
