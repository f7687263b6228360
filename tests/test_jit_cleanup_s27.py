"""Script-time cleanup (TorchScript's runCleanupPasses, gpujit/passes/cleanup.py): a
scripted function's graph shows what torch 2.13's shows. Constants of immutable types
fold (`3 + 4` is one constant 7), a constant `if` keeps its taken block, simple tuples
are read through, constants are pooled at the graph's start; tensors, lists, dicts,
vararg ops (`format`), state reads (`is_grad_enabled()`) and ops that raise stay for run
time, warnings still fire, results do not change, and save/load keeps the graph's shape.
The node counts below were checked against torch.jit.script(f).graph in torch 2.13."""
import collections
import io
import re
import warnings
from typing import Optional

import numpy as np
import pytest

import gpujit
import gpujit as torch


def kinds(graph):
    """Node kinds of a graph's text, with their counts (value names left out)."""
    c = collections.Counter()
    for line in str(graph).splitlines():
        m = re.search(r"= (\w+::\w+)", line)
        if m:
            c[m.group(1)] += 1
    return dict(c)


def constants(graph):
    """`type [value=...]()` of each constant."""
    return [line.split(" : ", 1)[1].split(" = ")[0] + " " +
            line.split("= prim::Constant", 1)[1].split(" #")[0]
            for line in str(graph).splitlines() if "= prim::Constant" in line]


# ------------------------------------------------------------------ programs

def add_folded(x):
    c = 3 + 4
    return x + c


def if_folded(x):
    if 1 < 2:
        y = x + 1
    else:
        y = x - 1
    return y


def tuple_index(x, y):
    t = (x, y)
    return t[0]


def tuple_unpack(x, y):
    t = (x, y)
    a, b = t
    return a + b


def nested_tuple(x):
    t = ((x, 1), 2)
    return t[0][0] + t[1]


def str_folded(x):
    s = "a" + "b"
    return x, s


def float_folded(x):
    return x * (2.0 * 3.5)


def raises_kept(x):
    a = 1 // 0
    return x + a


def list_kept(x):
    xs = [1, 2]
    return x + len(xs)


def pooled(x):
    return x + 1, x + 1, x * 1


def format_kept(x):
    return x + len("abc"), "x={}".format(3)


def tuple_constant(x):
    a = (1, 2)
    return a


def and_folded(x: bool):
    y = True and x
    return y


def conversions(x):
    return x + int(3.7) + float(2)


def loop_kept(x):
    for i in range(3):
        x = x + i
    return x


def if_same_outputs(x, c: bool):
    if c:
        y = 1
    else:
        y = 1
    return x + y


def loop_passthrough(x, n: int):
    y = x
    for i in range(n):
        x = x + 1
    return x, y


def if_tuple(x, c: bool):
    if c:
        t = (x, 1)
    else:
        t = (x, 2)
    return t[1]


def many_numbers(x: int):
    return (-(5), not True, 7 % 3, "abc"[1], str(3), "abc".upper(), float("1.5"),
            4611686018427387904 * 4, x)


def grad_mode_kept(x: int):
    a = torch.is_grad_enabled()
    return a, x


def warns_in_constant_if(x):
    if 2 > 1:
        warnings.warn("still warns")
    return x + 1


def optional_default(x, y: Optional[int] = None):
    z = 3 if y is None else y
    return x + z


def filled_defaults(x):
    return torch.zeros(2, 3, dtype=x.dtype, device=x.device), torch.ones(2)


def tuple_negative_index(a: int, b: int):
    t = (a, b)
    return t[-1]


# torch 2.13's node counts (torch.jit.script(f).graph)
EXPECTED = {
    add_folded: {"prim::Constant": 2, "aten::add": 1},
    if_folded: {"prim::Constant": 1, "aten::add": 1},
    tuple_index: {},
    tuple_unpack: {"prim::Constant": 1, "aten::add": 1},
    nested_tuple: {"prim::Constant": 2, "aten::add": 1},
    str_folded: {"prim::Constant": 1, "prim::TupleConstruct": 1},
    float_folded: {"prim::Constant": 1, "aten::mul": 1},
    raises_kept: {"prim::Constant": 2, "aten::floordiv": 1, "aten::add": 1},
    list_kept: {"prim::Constant": 2, "prim::ListConstruct": 1, "aten::len": 1,
                "aten::add": 1},
    pooled: {"prim::Constant": 1, "aten::add": 2, "aten::mul": 1,
             "prim::TupleConstruct": 1},
    format_kept: {"prim::Constant": 3, "aten::add": 1, "aten::format": 1,
                  "prim::TupleConstruct": 1},
    tuple_constant: {"prim::Constant": 1},
    and_folded: {},
    conversions: {"prim::Constant": 3, "aten::add": 2},
    loop_kept: {"prim::Constant": 3, "prim::Loop": 1, "aten::add": 1},
    if_same_outputs: {"prim::Constant": 1, "aten::add": 1},
    loop_passthrough: {"prim::Constant": 2, "prim::Loop": 1, "aten::add": 1,
                       "prim::TupleConstruct": 1},
    if_tuple: {"prim::If": 1, "prim::Constant": 2, "prim::TupleConstruct": 2,
               "prim::TupleIndex": 1},     # (a tuple out of an if is not simple)
    grad_mode_kept: {"aten::is_grad_enabled": 1, "prim::TupleConstruct": 1},
    optional_default: {"prim::Constant": 3, "aten::__is__": 1, "prim::If": 1,
                       "prim::unchecked_cast": 1, "aten::add": 1},
    tuple_negative_index: {},
    filled_defaults: {"prim::Constant": 3, "prim::dtype": 1, "prim::device": 1,
                      "prim::ListConstruct": 2, "aten::zeros": 1, "aten::ones": 1,
                      "prim::TupleConstruct": 1},
}


@pytest.mark.parametrize("fn", list(EXPECTED), ids=lambda f: f.__name__)
def test_graph_node_counts_are_torchs(fn):
    assert kinds(gpujit.jit.script(fn).graph) == EXPECTED[fn]


def test_folded_values():
    g = gpujit.jit.script(add_folded).graph
    assert sorted(constants(g)) == ["int [value=1]()", "int [value=7]()"]
    assert constants(gpujit.jit.script(float_folded).graph) == ["float [value=7.]()"]
    assert constants(gpujit.jit.script(str_folded).graph) == ['str [value="ab"]()']
    assert constants(gpujit.jit.script(tuple_constant).graph) == \
        ["(int, int) [value=(1, 2)]()"]
    g = gpujit.jit.script(many_numbers).graph
    assert kinds(g) == {"prim::Constant": 8, "prim::TupleConstruct": 1}
    text = str(g)
    for c in ("value=-5", 'value="b"', 'value="3"', 'value="ABC"', "value=1.5",
              "value=0]", "value=1]"):
        assert c in text, c
    assert gpujit.jit.script(many_numbers)(4) == (-5, False, 1, "b", "3", "ABC", 1.5, 0, 4)


def test_constants_are_pooled_at_the_graph_start():
    for fn in EXPECTED:
        g = gpujit.jit.script(fn).graph
        top = [n.kind for n in g.nodes]
        k = sum(1 for n in g.nodes if n.kind == "prim::Constant")
        assert top[:k] == ["prim::Constant"] * k, fn.__name__
        inner = [n for n in g.walk() if n.kind == "prim::Constant" and n not in g.nodes]
        assert inner == [], fn.__name__
        assert len(set(constants(g))) == len(constants(g)), fn.__name__


def test_filled_in_none_defaults_are_one_none_constant():
    # (layout / pin_memory / dtype / device left out: TorchScript fills each with the
    # NoneType constant None, pooled into one; .code writes `layout=None` back)
    g = gpujit.jit.script(filled_defaults).graph
    assert sorted(constants(g)) == ["NoneType ()", "int [value=2]()", "int [value=3]()"]


def test_results_do_not_change():
    x = gpujit.tensor([1.0, 2.0])
    xn = np.array([1.0, 2.0], dtype=np.float32)
    close = np.testing.assert_allclose
    close(gpujit.jit.script(add_folded)(x).numpy(), xn + 7)
    close(gpujit.jit.script(if_folded)(x).numpy(), xn + 1)
    close(gpujit.jit.script(nested_tuple)(x).numpy(), xn + 2)
    close(gpujit.jit.script(float_folded)(x).numpy(), xn * 7)
    close(gpujit.jit.script(conversions)(x).numpy(), xn + 5)
    close(gpujit.jit.script(loop_kept)(x).numpy(), xn + 3)
    close(gpujit.jit.script(if_same_outputs)(x, False).numpy(), xn + 1)
    a, b = gpujit.jit.script(loop_passthrough)(x, 2)
    close(a.numpy(), xn + 2)
    close(b.numpy(), xn)
    assert gpujit.jit.script(if_tuple)(x, True) == 1
    assert gpujit.jit.script(if_tuple)(x, False) == 2
    assert gpujit.jit.script(and_folded)(False) is False
    assert gpujit.jit.script(tuple_negative_index)(3, 4) == 4
    close(gpujit.jit.script(optional_default)(x).numpy(), xn + 3)
    close(gpujit.jit.script(optional_default)(x, 2).numpy(), xn + 2)
    assert gpujit.jit.script(format_kept)(x)[1] == "x=3"


def test_an_op_that_raises_stays_for_run_time():
    f = gpujit.jit.script(raises_kept)      # scripting does not raise
    with pytest.raises(ZeroDivisionError):
        f(gpujit.tensor([1.0]))


def test_grad_mode_is_read_at_run_time():
    f = gpujit.jit.script(grad_mode_kept)
    assert f(1) == (True, 1)
    with gpujit.no_grad():
        assert f(1) == (False, 1)


def test_warning_in_a_folded_if_still_fires():
    f = gpujit.jit.script(warns_in_constant_if)
    assert "prim::If" not in str(f.graph) and "aten::warn" in str(f.graph)
    with pytest.warns(UserWarning, match="still warns"):
        f(gpujit.tensor([1.0]))


@pytest.mark.parametrize("cls", ["GRU", "LSTM"])
def test_rnn_graph_keeps_its_shape_through_save_load(cls):
    m = gpujit.jit.script(getattr(gpujit.nn, cls)(3, 4))
    buf = io.BytesIO()
    gpujit.jit.save(m, buf)
    buf.seek(0)
    m2 = gpujit.jit.load(buf)
    g1, g2 = m.forward.graph, m2.forward.graph
    k1, k2 = kinds(g1), kinds(g2)
    # (a list read names its source line for an IndexError from its node's source range,
    # not from a str constant: LSTM's `h, c = hn[0], hn[1]`, two lines in .code, adds none)
    assert k1 == k2
    assert len(str(g1).splitlines()) == len(str(g2).splitlines())
    assert len(m.forward.code.splitlines()) == len(m2.forward.code.splitlines())
    x = gpujit.randn(2, 5, 3)
    for a, b in zip(m(x), m2(x)):
        if isinstance(a, tuple):
            for p, q in zip(a, b):
                np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy())
        else:
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy())


def test_save_load_keeps_folded_graphs():
    for fn in (add_folded, if_folded, nested_tuple, conversions, pooled, loop_passthrough):
        f = gpujit.jit.script(fn)
        buf = io.BytesIO()
        gpujit.jit.save(f, buf)
        buf.seek(0)
        g = gpujit.jit.load(buf).graph
        assert kinds(g) == kinds(f.graph), fn.__name__


@pytest.mark.parametrize("fn", [f for f in EXPECTED if f not in (grad_mode_kept,
                                                                   filled_defaults)],
                         ids=lambda f: f.__name__)     # (those two call gpujit functions)
def test_same_node_counts_as_torch(fn):
    real = pytest.importorskip("torch")
    assert kinds(gpujit.jit.script(fn).graph) == kinds(real.jit.script(fn).graph)
