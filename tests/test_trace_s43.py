"""Tracing against torch.jit.trace 2.13 (session 43, b43).

Finds, minimised, with torch 2.13's behaviour:

1. Memory formats: a traced `x.contiguous(memory_format=torch.channels_last)`,
   `clone(memory_format=...)`, `empty_like(..., memory_format=...)` record c10::MemoryFormat's
   int constant (contiguous 0, preserve 1, channels_last 2, channels_last_3d 3):
   `torch.contiguous(x, memory_format=2)`; gpujit recorded its str spelling
   (`memory_format="channels_last"`, `%1 : str = prim::Constant[value="channels_last"]`).
   Every transformer's `.transpose(1, 2).contiguous()` shows `%4 : int = prim::Constant[value=0]`.
"""

import numpy as np

import gpujit as torch
from trace_util import quiet_trace as _quiet_trace, real_torch as _torch, round_trip as _round_trip


def _body(code):
    """The statements of a .code text (without the def line)."""
    return [ln.strip() for ln in code.strip().splitlines()[1:]]


# ------------------------------------------------------------------ 1. memory formats
def _formats(tr):
    def f(x):
        a = x.contiguous(memory_format=tr.channels_last)
        b = x.clone(memory_format=tr.contiguous_format)
        c = tr.empty_like(x, memory_format=tr.preserve_format).zero_()
        return a + b + c + x.transpose(1, 2).contiguous().transpose(1, 2)
    return f


_FORMATS_CODE = [
    "a = torch.contiguous(x, memory_format=2)",
    "b = torch.clone(x, memory_format=0)",
    "_0 = torch.empty_like(x, dtype=None, layout=None, device=None, pin_memory=False, "
    "memory_format=1)",
    "c = torch.zero_(_0)",
    "_1 = torch.add(torch.add(a, b), c)",
    "_2 = torch.contiguous(torch.transpose(x, 1, 2))",
    "_3 = torch.add(_1, torch.transpose(_2, 1, 2))",
    "return _3",
]


def test_memory_format_constants_are_ints():
    x = torch.arange(120.).reshape(2, 3, 4, 5)
    t = _quiet_trace(torch, _formats(torch), (x,))
    consts = [str(n.output().type()) for n in t.graph.nodes() if n.kind() == "prim::Constant"]
    assert "str" not in consts and consts.count("int") == 11
    assert _body(t.code) == _FORMATS_CODE
    assert "prim::Constant[value=2]()" in str(t.graph)
    y = t(x + 1)
    np.testing.assert_array_equal(y.numpy(), ((x + 1) * 3).numpy())
    assert y.stride() == (60, 1, 15, 3)
    loaded = _round_trip(torch, t)
    assert _body(loaded.code)[1:] == _FORMATS_CODE
    np.testing.assert_array_equal(loaded(x).numpy(), (x * 3).numpy())


def test_memory_format_constants_as_torch():
    tt = _torch()
    xt = tt.arange(120.).reshape(2, 3, 4, 5)
    ref = _quiet_trace(tt, _formats(tt), (xt,))
    assert _body(ref.code) == _FORMATS_CODE
    x = torch.arange(120.).reshape(2, 3, 4, 5)
    t = _quiet_trace(torch, _formats(torch), (x,))
    assert t.code == ref.code


# ------------------------------------------------------------------ 2. traced sizes
# torch's tracer hands out a size as a 0-dim int64 tensor: `x.size(0)` is
# `prim::NumToTensor(aten::size(x, 0))`; an int argument takes `aten::Int` of it (inserted
# right after the tensor's node, for each use), a Scalar one `aten::ScalarImplicit`
# (printed `annotate(number, _0)`), a Tensor one the tensor; arithmetic on sizes is tensor
# arithmetic (`n * 2` is aten::mul(n, CONSTANTS.c0)); `x.size(-1)` keeps the -1. gpujit
# recorded int Values (`torch.view(x, [torch.size(x, 0), -1])`, aten::mul.int ...).
def _sizes_view(x):
    B, T, C = x.size()
    return x.view(B, T, 2, C // 2)


_SIZES_VIEW_CODE = [
    "B = ops.prim.NumToTensor(torch.size(x, 0))",
    "_0 = int(B)",
    "T = ops.prim.NumToTensor(torch.size(x, 1))",
    "_1 = int(T)",
    "_2 = ops.prim.NumToTensor(torch.size(x, 2))",
    "_3 = int(torch.floor_divide(_2, CONSTANTS.c0))",
    "return torch.view(x, [_0, _1, 2, _3])",
]

_SIZES_VIEW_GRAPH_KINDS = [
    "prim::Constant", "aten::size", "prim::NumToTensor", "aten::Int",
    "prim::Constant", "aten::size", "prim::NumToTensor", "aten::Int",
    "prim::Constant", "aten::size", "prim::NumToTensor", "prim::Constant",
    "aten::floor_divide", "aten::Int", "prim::Constant", "prim::ListConstruct", "aten::view"]


def _arith(x):
    n = x.size(0)
    m = x.size(1)
    a = 10 - n
    b = 12 / m
    c = n % 3
    d = -n
    e = n * m + 1
    f = m / 2
    return x * a + b + c + d + e + f


_ARITH_CODE = [
    "n = ops.prim.NumToTensor(torch.size(x, 0))",
    "m = ops.prim.NumToTensor(torch.size(x, 1))",
    "a = torch.rsub(n, 10)",
    "b = torch.mul(torch.reciprocal(m), CONSTANTS.c0)",
    "c = torch.remainder(n, 3)",
    "d = torch.neg(n)",
    "e = torch.add(torch.mul(n, m), CONSTANTS.c1)",
    "f = torch.div(m, CONSTANTS.c2)",
    "_0 = torch.add(torch.add(torch.mul(x, a), b), c)",
    "_1 = torch.add(torch.add(torch.add(_0, d), e), f)",
    "return _1",
]


def _arith_expected(x):
    n, m = x.shape
    return x * (10 - n) + 12 / m + n % 3 - n + (n * m + 1) + m / 2


def _factories_of(tr):
    def _factories(x):
        n = x.size(-1)
        return (x.new_ones(n // 2, 2 * n - 1), x.reshape(-1, n * 2),
                tr.arange(x.size(0)) * x.sum() / x.numel() + x.size(0) * 0.1)
    return _factories


_FACTORIES_CODE = [
    "n = ops.prim.NumToTensor(torch.size(x, -1))",
    "_0 = int(torch.floor_divide(n, CONSTANTS.c0))",
    "_1 = torch.sub(torch.mul(n, CONSTANTS.c0), CONSTANTS.c1)",
    "_2 = torch.new_ones(x, [_0, int(_1)], dtype=None, layout=None, device=None, "
    "pin_memory=False)",
    "_3 = torch.reshape(x, [-1, int(torch.mul(n, CONSTANTS.c0))])",
    "_4 = ops.prim.NumToTensor(torch.size(x, 0))",
    "_5 = torch.arange(annotate(number, _4), dtype=None, layout=None, "
    "device=torch.device(\"cpu\"), pin_memory=False)",
    "_6 = torch.div(torch.mul(_5, torch.sum(x)), ops.prim.NumToTensor(torch.numel(x)))",
    "_7 = ops.prim.NumToTensor(torch.size(x, 0))",
    "_8 = torch.add(_6, torch.mul(_7, CONSTANTS.c2))",
    "return (_2, _3, _8)",
]


def _check_factories(tr, out, x):
    r, c = x.shape
    ones, flat, ar = out
    assert tuple(ones.shape) == (c // 2, 2 * c - 1) and tuple(flat.shape) == (r * c // (2 * c),
                                                                             2 * c)
    assert ar.dtype == tr.float32
    want = np.arange(r, dtype=np.float32) * np.float32(x.numpy().sum()) / np.float32(r * c) \
        + np.float32(r) * np.float32(0.1)
    np.testing.assert_allclose(ar.numpy(), want, rtol=1e-6)


def test_sizes_are_num_to_tensor():
    x = torch.ones(4, 6, 8)
    t = _quiet_trace(torch, _sizes_view, (x,))
    assert _body(t.code) == _SIZES_VIEW_CODE
    assert [n.kind() for n in t.graph.nodes()] == _SIZES_VIEW_GRAPH_KINDS
    g = str(t.graph)
    assert "%B : Long(device=cpu) = prim::NumToTensor(%2)\n  %12 : int = aten::Int(%B)\n" in g
    assert "%14 : int = aten::Int(%11)\n  %15 : int = prim::Constant[value=2]()" in g
    for shape in ((2, 6, 4), (3, 5, 10)):
        y = torch.arange(float(np.prod(shape))).reshape(shape)
        for m in (t, _round_trip(torch, t)):
            np.testing.assert_array_equal(
                m(y).numpy(), y.numpy().reshape(shape[0], shape[1], 2, shape[2] // 2))


def test_sizes_as_torch():
    tt = _torch()
    for fn, want in ((_sizes_view, _SIZES_VIEW_CODE), (_arith, _ARITH_CODE)):
        ref = _quiet_trace(tt, fn, (tt.ones(4, 6, 8) if fn is _sizes_view else tt.ones(4, 6),))
        assert _body(ref.code) == want
        got = _quiet_trace(torch, fn, (torch.ones(4, 6, 8) if fn is _sizes_view
                                       else torch.ones(4, 6),))
        assert got.code == ref.code
    ref = _quiet_trace(tt, _sizes_view, (tt.ones(4, 6, 8),))
    got = _quiet_trace(torch, _sizes_view, (torch.ones(4, 6, 8),))
    assert [n.kind() for n in got.graph.nodes()] == [n.kind() for n in ref.graph.nodes()]


def test_size_arithmetic_follows_shapes():
    t = _quiet_trace(torch, _arith, (torch.ones(4, 6),))
    assert _body(t.code) == _ARITH_CODE
    for shape in ((2, 6), (4, 8), (6, 4)):
        x = torch.arange(float(shape[0] * shape[1])).reshape(shape)
        want = _arith_expected(x.numpy())
        for m in (t, _round_trip(torch, t)):
            y = m(x)
            assert y.dtype == torch.float32
            np.testing.assert_allclose(y.numpy(), want, rtol=1e-6)


def test_size_arithmetic_as_torch_on_other_shapes():
    tt = _torch()
    t = _quiet_trace(torch, _arith, (torch.ones(4, 6),))
    ref = _quiet_trace(tt, _arith, (tt.ones(4, 6),))
    for shape in ((2, 6), (4, 8), (6, 4)):
        x = np.arange(shape[0] * shape[1], dtype=np.float32).reshape(shape)
        got, want = t(torch.from_numpy(x)), ref(tt.from_numpy(x))
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_sizes_in_factories_and_scalars():
    x = torch.arange(24.).reshape(4, 6)
    t = _quiet_trace(torch, _factories_of(torch), (x,))
    assert _body(t.code) == _FACTORIES_CODE
    for shape in ((4, 6), (2, 8), (6, 2)):
        y = torch.arange(float(shape[0] * shape[1])).reshape(shape)
        for m in (t, _round_trip(torch, t)):
            _check_factories(torch, m(y), y)


def test_sizes_in_factories_as_torch():
    tt = _torch()
    ref = _quiet_trace(tt, _factories_of(tt), (tt.arange(24.).reshape(4, 6),))
    assert _body(ref.code) == _FACTORIES_CODE
    for shape in ((2, 8), (6, 2)):
        x = np.arange(shape[0] * shape[1], dtype=np.float32).reshape(shape)
        _check_factories(tt, ref(tt.from_numpy(x)), tt.from_numpy(x))


def test_traced_size_returned_and_in_tensor_ops():
    def f(x):
        n = x.size(1)
        return x * n, x / x.numel(), n
    t = _quiet_trace(torch, f, (torch.ones(2, 3),))
    assert _body(t.code) == [
        "n = ops.prim.NumToTensor(torch.size(x, 1))",
        "_0 = torch.mul(x, n)",
        "_1 = torch.div(x, ops.prim.NumToTensor(torch.numel(x)))",
        "return (_0, _1, n)"]
    a, b, n = t(torch.ones(4, 5))
    assert n.dtype == torch.int64 and n.ndim == 0 and int(n) == 5
    np.testing.assert_array_equal(a.numpy(), np.full((4, 5), 5.0, np.float32))
    np.testing.assert_array_equal(b.numpy(), np.full((4, 5), 1 / 20, np.float32))


# ------------------------------------------------------------------ 3. submodule results named
# torch's tracer names a value after the local that holds it where it is next used, the
# submodule graphs being pieces of one trace: nn.Conv2d's graph returns `input` (the
# parameter of BatchNorm2d.forward it is passed to), nn.AdaptiveAvgPool2d's `x` (the user's
# `x = self.pool(x)`); gpujit left a finished call's output unnamed (`_0 = ...; return _0`).
def _net(tr):
    nn = tr.nn
    F = nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.pool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            x = F.relu(self.bn(self.conv(x)))
            x = self.pool(x)
            x = x.view(x.size(0), -1)
            return self.fc(x)
    tr.manual_seed(0)
    return Net().eval()


_NET_SUB_CODE = {
    "conv": "input = torch._convolution(x, weight, bias, [1, 1], [1, 1], [1, 1], False, "
            "[0, 0], 1, False, False, True, True)\nreturn input",
    "pool": "x = torch.adaptive_avg_pool2d(input, [1, 1])\nreturn x",
    "fc": "return torch.linear(input, weight, bias)",
}


def _sub_code(t, name):
    return "\n".join(ln for ln in _body(getattr(t, name).code)
                     if " = self." not in ln and ":" not in ln)


def test_submodule_results_named():
    m = _net(torch)
    t = _quiet_trace(torch, m, (torch.randn(2, 3, 6, 6),))
    for name, want in _NET_SUB_CODE.items():
        assert _sub_code(t, name) == want
    # (torch 2.13's name: the one trace's, `input` displaced by bn's result; b61)
    assert "%input.1 : Float(2, 4, 6, 6" in str(t.conv.graph)
    x = torch.randn(3, 3, 5, 5)
    np.testing.assert_allclose(_round_trip(torch, t)(x).detach().numpy(),
                               m(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_submodule_results_named_as_torch():
    tt = _torch()
    t = _quiet_trace(tt, _net(tt), (tt.randn(2, 3, 6, 6),))
    for name, want in _NET_SUB_CODE.items():
        assert _sub_code(t, name) == want
    g = _quiet_trace(torch, _net(torch), (torch.randn(2, 3, 6, 6),))
    assert g.code == t.code


# ------------------------------------------------------------------ 4. inlined submodule reads
# torch's inlining keeps the read of a submodule whose call it inlined though nothing of it
# is read then (a parameterless nn.ReLU): a trace's inlined_graph has
# `%act : ...ReLU = prim::GetAttr[name="act"](%s)` (tensorboard's add_graph shows it);
# gpujit's inliner swept it as dead code.
def _nested(tr):
    class Sub(tr.nn.Module):
        def __init__(self):
            super().__init__()
            self.act = tr.nn.ReLU()
            self.l = tr.nn.Linear(2, 2)

        def forward(self, x):
            return self.act(self.l(x))

    class M(tr.nn.Module):
        def __init__(self):
            super().__init__()
            self.s = Sub()
            self.r = tr.nn.Sigmoid()

        def forward(self, x):
            return self.r(self.s(x))
    return M()


def _getattrs(t):
    return [(n.s("name"), n.output().type().annotation_str.rsplit(".", 1)[-1])
            for n in t.inlined_graph.nodes() if n.kind() == "prim::GetAttr"]


_NESTED_GETATTRS = [("r", "Sigmoid"), ("s", "Sub"), ("act", "ReLU"), ("l", "Linear"),
                    ("bias", "Tensor"), ("weight", "Tensor")]


def test_inlined_graph_keeps_submodule_reads():
    m = _nested(torch)
    t = _quiet_trace(torch, m, (torch.ones(1, 2),))
    assert _getattrs(t) == _NESTED_GETATTRS
    x = torch.randn(3, 2)
    np.testing.assert_allclose(t(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6)


def test_inlined_graph_keeps_submodule_reads_as_torch():
    tt = _torch()
    t = _quiet_trace(tt, _nested(tt), (tt.ones(1, 2),))
    assert _getattrs(t) == _NESTED_GETATTRS


# ------------------------------------------------------------------ 5. torch.tensor's constant
# torch.tensor(3.0) in traced code: its constant carries the call's source range, as the
# aten::to / aten::detach after it (`# f.py:10:0`); gpujit's had none.
def _made(tr):
    def f(x):
        return tr.tensor(3.0) * x
    return f


def _constant_line(t):
    return next(ln.strip() for ln in str(t.graph).splitlines() if "prim::Constant[value={3}]" in ln)


def test_made_tensor_constant_has_source_range():
    t = _quiet_trace(torch, _made(torch), (torch.ones(2),))
    line = _constant_line(t)
    assert line.startswith("%1 : Float(requires_grad=0, device=cpu) = prim::Constant[value={3}]()"
                           " # ") and line.endswith("test_trace_s43.py:%d:0" % (
                               _made.__code__.co_firstlineno + 2))
    np.testing.assert_array_equal(t(torch.ones(3)).numpy(), np.full(3, 3.0, np.float32))


def test_made_tensor_constant_has_source_range_as_torch():
    tt = _torch()
    assert _constant_line(_quiet_trace(tt, _made(tt), (tt.ones(2),))) == _constant_line(
        _quiet_trace(torch, _made(torch), (torch.ones(2),)))


# ------------------------------------------------------------------ 6. scripted memory formats
# torch.jit.script of x.contiguous(memory_format=torch.channels_last): TorchScript's
# MemoryFormat is an int, `%2 : int = prim::Constant[value=2]()`, .code
# `torch.contiguous(x, memory_format=2)`; gpujit compiled torch.channels_last as the str
# "channels_last".
def _scripted_formats(x):
    a = x.contiguous(memory_format=torch.channels_last)
    return a + x.clone(memory_format=torch.contiguous_format)


_SCRIPTED_FORMATS_CODE = [
    "a = torch.contiguous(x, memory_format=2)",
    "_0 = torch.add(a, torch.clone(x, memory_format=0))",
    "return _0",
]


def test_scripted_memory_formats_are_ints():
    s = torch.jit.script(_scripted_formats)
    assert _body(s.code) == _SCRIPTED_FORMATS_CODE
    consts = [str(n.output().type()) for n in s.graph.nodes() if n.kind() == "prim::Constant"]
    assert "str" not in consts
    x = torch.arange(120.).reshape(2, 3, 4, 5)
    for m in (s, _round_trip(torch, s)):
        y = m(x)
        assert y.stride() == (60, 1, 15, 3)
        np.testing.assert_array_equal(y.numpy(), (x * 2).numpy())


def test_scripted_memory_formats_as_torch():
    tt = _torch()
    src = _scripted_formats.__globals__
    src_torch = dict(src, torch=tt)
    import types
    f = types.FunctionType(_scripted_formats.__code__, src_torch)
    assert _body(tt.jit.script(f).code) == _SCRIPTED_FORMATS_CODE


# ------------------------------------------------------------------ 7. peephole of traced sizes
# aten::Int(prim::NumToTensor(n)) -> n: the optimized graph of a traced size given for an
# int reads the size itself (no 0-dim tensor made and read back per call).
def test_optimized_trace_reads_sizes_directly():
    def f(x):
        return x.view(x.size(0), -1) * 2
    t = _quiet_trace(torch, f, (torch.ones(4, 6, 8),))
    assert [n.kind() for n in t.graph.nodes()].count("aten::Int") == 1
    x = torch.ones(3, 2, 2)
    for _ in range(3):
        y = t(x)
    np.testing.assert_array_equal(y.numpy(), np.full((3, 4), 2.0, np.float32))
    kinds = [n.kind() for n in t.graph_for(x).nodes()]
    assert "aten::Int" not in kinds and "prim::NumToTensor" not in kinds
    assert "aten::size" in kinds


def test_peephole_int_of_num_to_tensor():
    from gpujit.passes.peephole import peephole_optimize
    from gpujit.passes.dce import eliminate_dead_code
    g = torch._C.parse_ir("""
graph(%x : Tensor):
  %0 : int = prim::Constant[value=0]()
  %1 : int = aten::size(%x, %0)
  %2 : Tensor = prim::NumToTensor(%1)
  %3 : int = aten::Int(%2)
  %4 : float = prim::Constant[value=2.5]()
  %5 : Tensor = prim::NumToTensor(%4)
  %6 : int = aten::Int(%5)
  %7 : (int, int) = prim::TupleConstruct(%3, %6)
  return (%7)
""")
    peephole_optimize(g)
    eliminate_dead_code(g)
    kinds = [n.kind() for n in g.nodes()]
    # the int size's round trip goes; a float's aten::Int (a truncation) stays
    assert kinds.count("aten::Int") == 1 and kinds.count("prim::NumToTensor") == 1


# a submodule call right after a size is taken stays a method call when the size is used
# after the call (its aten::Int goes right after the size's tensor, before the call)
def _sized_block(tr):
    class Block(tr.nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = tr.nn.Linear(8, 24)

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(8, dim=2)
            return (q * k + v).view(B, T, 2, C // 2)
    tr.manual_seed(0)
    return Block()


_SIZED_BLOCK_CODE = [
    "c_attn = self.c_attn",
    "B = ops.prim.NumToTensor(torch.size(x, 0))",
    "_0 = int(B)",
    "T = ops.prim.NumToTensor(torch.size(x, 1))",
    "_1 = int(T)",
    "_2 = ops.prim.NumToTensor(torch.size(x, 2))",
    "_3 = torch.split((c_attn).forward(x, ), 8, 2)",
    "q, k, v, = _3",
    "_4 = torch.add(torch.mul(q, k), v)",
    "_5 = int(torch.floor_divide(_2, CONSTANTS.c0))",
    "return torch.view(_4, [_0, _1, 2, _5])",
]


def test_call_after_size_stays_a_method():
    m = _sized_block(torch)
    t = _quiet_trace(torch, m, (torch.randn(2, 5, 8),))
    assert _body(t.code)[1:] == _SIZED_BLOCK_CODE
    x = torch.randn(3, 7, 8)
    np.testing.assert_allclose(t(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6)


def test_call_after_size_stays_a_method_as_torch():
    tt = _torch()
    t = _quiet_trace(tt, _sized_block(tt), (tt.randn(2, 5, 8),))
    assert _body(t.code)[1:] == _SIZED_BLOCK_CODE
