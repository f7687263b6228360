"""The caches scripting keeps of a function's parsed source and of a library wrapper's
signature (session 54): what they give is what parsing / inspect give, and they follow a
function that changes."""
import ast
import gc
import inspect
import weakref
import textwrap

import gpujit
from gpujit.frontend.script import calls, sources


def _plain(a, b=2):
    return a + b


def _commented(x, n):
    # type: (Tensor, int) -> Tensor
    return x * n


def test_parsed_is_the_parse_of_the_dedented_source():
    lines, first = inspect.getsourcelines(_plain)
    got_lines, got_first, text, tree = sources.parsed(_plain)
    assert (got_lines, got_first) == (lines, first)
    assert text == textwrap.dedent("".join(lines))
    assert ast.dump(tree) == ast.dump(ast.parse(text))
    assert sources.parsed(_plain)[3] is tree          # parsed once


def test_parsed_keeps_only_the_last_few_trees():
    fns = []
    for i in range(sources._KEEP_TREES + 3):
        ns = {}
        exec(f"def f{i}(x):\n    return x\n", ns)
        fns.append(ns[f"f{i}"])
        sources.remember(fns[-1], [f"def f{i}(x):\n", "    return x\n"], 1)
        sources.parsed(fns[-1])
    assert len(sources._TREES) <= sources._KEEP_TREES
    assert id(fns[0]) not in sources._TREES and id(fns[-1]) in sources._TREES
    # (and an entry does not keep its function alive)
    ref = weakref.ref(fns[-1])
    del fns[:], ns
    gc.collect()
    assert ref() is None


def test_type_comment_still_read_with_the_shared_tree():
    s = gpujit.jit.script(_commented)
    assert [str(v.type) for v in s.graph.inputs] == ["Tensor", "int"]
    assert str(s(gpujit.ones(2), 3).tolist()) == "[3.0, 3.0]"


def test_wrapper_signature_follows_the_function():
    def f(a, b=1):
        return a
    sig = calls.wrapper_signature(f)
    assert sig == inspect.signature(f)
    assert calls.wrapper_signature(f) is sig          # kept
    f.__defaults__ = (5,)
    assert calls.wrapper_signature(f).parameters["b"].default == 5

    def g(x, y):
        return x
    f.__code__ = g.__code__
    f.__defaults__ = None
    assert list(calls.wrapper_signature(f).parameters) == ["x", "y"]
    assert calls.wrapper_signature(len) == inspect.signature(len)   # not a function
