"""The source lines of the functions scripting reads, once per function.

Scripting asks for a function's lines several times (its signature, its body, again for
each module that calls it, and again when a saved module is loaded and compiled back), and
`inspect.getsourcelines` tokenizes the file from the function's first line each time to
find where the function ends (~2 ms for a 30-line function). The lines are kept per
function object (weakly: a function that goes away takes its entry with it; not per code
object: code objects compare by value, and two functions compiled from texts that differ
only in comments, e.g. mypy-style type comments, have equal code); a function whose source
is unavailable raises each time, as inspect does. The parsed trees of the last few functions
are kept too (the body compiler and the signature reader both read a function's tree, one
after the other; nobody changes it): only a few, as a tree is ~10 nodes a line that the
collector would walk for as long as the function lives."""
from __future__ import annotations

import ast
import collections
import inspect
import textwrap
import weakref

_LINES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
# id(function) -> (weak reference to it, lines, text, tree) of the last _KEEP_TREES parsed
# (by id with a weak reference, not by the function: a cache entry may not keep a scripted
# function, its closure and its compiled kernels alive)
_TREES: "collections.OrderedDict" = collections.OrderedDict()
_KEEP_TREES = 16


def _function_of(fn):
    fn = inspect.unwrap(fn) if callable(fn) else fn
    fn = getattr(fn, "__func__", fn)
    return fn if inspect.isfunction(fn) else None


def getsourcelines(fn):
    """inspect.getsourcelines(fn) for a function or method: (a new list of its lines, the
    first line's number); OSError / TypeError as inspect raises them."""
    key = _function_of(fn)
    hit = _LINES.get(key) if key is not None else None
    if hit is None:
        lines, first = inspect.getsourcelines(fn)
        hit = (tuple(lines), first)
        if key is not None:
            _LINES[key] = hit
    return list(hit[0]), hit[1]


def remember(fn, lines, first):
    """Record fn's source lines where the caller has them already (a function made from an
    archive's parsed code: its def's lines, as inspect would find them by tokenizing)."""
    key = _function_of(fn)
    if key is not None:
        _LINES[key] = (tuple(lines), first)


def parsed(fn):
    """(lines, first line's number, the dedented text, `ast.parse` of it without type
    comments or None where it is not valid alone, e.g. a lambda inside an expression); the
    tree is shared: read it, do not change it. OSError / TypeError as getsourcelines."""
    lines, first = getsourcelines(fn)
    key = _function_of(fn)
    hit = _TREES.get(id(key)) if key is not None else None
    if hit is None or hit[0]() is not key or hit[1] != tuple(lines):
        dedented = textwrap.dedent("".join(lines))
        try:
            tree = ast.parse(dedented)
        except SyntaxError:
            tree = None
        hit = (weakref.ref(key) if key is not None else None, tuple(lines), dedented, tree)
        if key is not None:
            _TREES[id(key)] = hit
            if len(_TREES) > _KEEP_TREES:
                _TREES.popitem(last=False)
    return lines, first, hit[2], hit[3]
