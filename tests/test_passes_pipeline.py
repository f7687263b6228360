"""The default pipeline (`gpujit.passes.optimize`): expected IR text, and the optimized
graph computes what the original does (checked against NumPy with a small reference
interpreter)."""
import textwrap

import numpy as np
import pytest

import gpujit
from gpujit.ir import ClassType, parse_ir, register_class_type
from gpujit.passes import (PIPELINE, eliminate_common_subexpressions, eliminate_dead_code,
                           inline_calls, insert_autocast_casts, optimize, peephole_optimize,
                           propagate_constants)


def ir(text):
    return textwrap.dedent(text).lstrip("\n")


SAMPLE = ir("""
    graph(%x.1 : Tensor,
          %y.1 : Tensor):
      %2 : int = prim::Constant[value=1]()
      %3 : Tensor = aten::add(%x.1, %y.1, %2)
      %4 : Tensor = aten::add(%x.1, %y.1, %2)
      %5 : Tensor = aten::mul(%3, %4)
      return (%5)
    """)

SAMPLE_OPTIMIZED = ir("""
    graph(%x.1 : Tensor,
          %y.1 : Tensor):
      %2 : int = prim::Constant[value=1]()
      %3 : Tensor = aten::add(%x.1, %y.1, %2)
      %5 : Tensor = aten::mul(%3, %3)
      return (%5)
    """)

BLOCK = register_class_type(ClassType("__torch__.test_passes_pipeline.Block"))
MODEL = register_class_type(ClassType("__torch__.test_passes_pipeline.Model"))

BLOCK_FORWARD = ir("""
    graph(%self : __torch__.test_passes_pipeline.Block,
          %x.1 : Tensor):
      %1 : int = prim::Constant[value=1]()
      %w : Tensor = prim::GetAttr[name="weight"](%self)
      %y : Tensor = aten::mul(%x.1, %w)
      %z : Tensor = aten::mul(%x.1, %w)
      %s : Tensor = aten::add(%y, %z, %1)
      return (%s)
    """)
BLOCK.methods["forward"] = parse_ir(BLOCK_FORWARD)

# forward(x): h = self.block(x); n = 1 + 1; o = neg(h) if n < 0 else relu(h);
#             for i in range(n): o = o + (x * 1) * i; (an unused exp(x))
MODEL_FORWARD = ir("""
    graph(%self : __torch__.test_passes_pipeline.Model,
          %x : Float(4)):
      %0 : int = prim::Constant[value=0]()
      %1 : int = prim::Constant[value=1]()
      %t : bool = prim::Constant[value=1]()
      %blk : __torch__.test_passes_pipeline.Block = prim::GetAttr[name="block"](%self)
      %h : Tensor = prim::CallMethod[name="forward"](%blk, %x)
      %xx : Tensor = aten::mul(%x, %1)
      %n : int = aten::add(%1, %1)
      %c : bool = aten::lt(%n, %0)
      %o : Tensor = prim::If(%c)
        block0():
          %p : Tensor = aten::neg(%h)
          -> (%p)
        block1():
          %q : Tensor = aten::relu(%h)
          -> (%q)
      %acc : Tensor = prim::Loop(%n, %t, %o)
        block0(%i : int, %a : Tensor):
          %e : Tensor = aten::add(%a, %xx, %i)
          -> (%t, %e)
      %dead : Tensor = aten::exp(%x)
      return (%acc)
    """)

MODEL_OPTIMIZED = ir("""
    graph(%self : __torch__.test_passes_pipeline.Model,
          %x : Float(4)):
      %1 : int = prim::Constant[value=1]()
      %t : bool = prim::Constant[value=1]()
      %n : int = prim::Constant[value=2]()
      %blk : __torch__.test_passes_pipeline.Block = prim::GetAttr[name="block"](%self)
      %w : Tensor = prim::GetAttr[name="weight"](%blk)
      %y : Tensor = aten::mul(%x, %w)
      %s : Tensor = aten::add(%y, %y, %1)
      %q : Tensor = aten::relu(%s)
      %acc : Tensor = prim::Loop(%n, %t, %q)
        block0(%i : int, %a : Tensor):
          %e : Tensor = aten::add(%a, %x, %i)
          -> (%t, %e)
      return (%acc)
    """)

MODEL_UNROLLED = ir("""
    graph(%self : __torch__.test_passes_pipeline.Model,
          %x : Float(4)):
      %0 : int = prim::Constant[value=0]()
      %1 : int = prim::Constant[value=1]()
      %blk : __torch__.test_passes_pipeline.Block = prim::GetAttr[name="block"](%self)
      %w : Tensor = prim::GetAttr[name="weight"](%blk)
      %y : Tensor = aten::mul(%x, %w)
      %s : Tensor = aten::add(%y, %y, %1)
      %q : Tensor = aten::relu(%s)
      %e.1 : Tensor = aten::add(%q, %x, %0)
      %e.2 : Tensor = aten::add(%e.1, %x, %1)
      return (%e.2)
    """)

GRAPHS = [SAMPLE, SAMPLE_OPTIMIZED, BLOCK_FORWARD, MODEL_FORWARD, MODEL_OPTIMIZED,
          MODEL_UNROLLED]


def interpret(graph, *args):
    """Run graph node by node (the reference the optimized graph is checked against):
    registry ops through `node.op.eager`, control flow and calls by hand."""
    env = dict(zip(graph.inputs, args))

    def block(b):
        for n in b.nodes:
            outs = node(n)
            env.update(zip(n.outputs, outs))
        return [env[v] for v in b.outputs]

    def node(n):
        ins = [env[v] for v in n.inputs]
        if n.kind == "prim::Constant":
            return [n.attrs.get("value")]
        if n.kind == "prim::GetAttr":
            return [getattr(ins[0], n.attrs["name"])]
        if n.kind in ("prim::ListConstruct", "prim::TupleConstruct"):
            return [list(ins) if n.kind == "prim::ListConstruct" else tuple(ins)]
        if n.kind in ("prim::ListUnpack", "prim::TupleUnpack"):
            return list(ins[0])
        if n.kind == "prim::CallMethod":
            return interpret(n.inputs[0].type.methods[n.attrs["name"]], *ins)
        if n.kind == "prim::If":
            return block(n.blocks[0] if ins[0] else n.blocks[1])
        if n.kind == "prim::Loop":
            trips, go, *carried = ins
            body, i = n.blocks[0], 0
            while go and i < trips:
                env.update(zip(body.inputs, [i, *carried]))
                go, *carried = block(body)
                i += 1
            return carried
        result = n.op.eager(*ins)
        return [result] if len(n.outputs) == 1 else list(result)

    return block(graph.block)


class Module:
    def __init__(self, **attrs):
        self.__dict__.update(attrs)


def test_pipeline_order():
    assert PIPELINE == [inline_calls, insert_autocast_casts, propagate_constants,
                        peephole_optimize, eliminate_common_subexpressions, eliminate_dead_code]


def test_optimize_sample():
    g = parse_ir(SAMPLE)
    assert optimize(g) is g
    assert str(g) == SAMPLE_OPTIMIZED


@pytest.mark.parametrize("unroll, expected", [(False, MODEL_OPTIMIZED),
                                              (True, MODEL_UNROLLED)])
def test_optimize_module(unroll, expected):
    g = parse_ir(MODEL_FORWARD)
    optimize(g, unroll=unroll)
    assert str(g) == expected

    x = np.array([-1.0, 0.5, 2.0, -3.0], dtype=np.float32)
    w = np.array([1.0, 2.0, 3.0, -4.0], dtype=np.float32)
    model = Module(block=Module(weight=gpujit.tensor(w)))
    want = np.maximum(2 * x * w, 0) + x            # relu(2xw) + x*0 + x*1
    for graph in (parse_ir(MODEL_FORWARD), g):
        (got,) = interpret(graph, model, gpujit.tensor(x))
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


# ------------------------------------------------------------------ values are kept
# Each pass's own test compares IR text; here the graphs before and after a pass run
# through the reference interpreter on the same inputs and must give the same values
# (with in-place writes really happening, so the alias rules are checked too).

def _inputs(graph, seed, flag):
    from gpujit.ir import types as T
    rng = np.random.default_rng(seed)
    out = []
    for v in graph.inputs:
        t = v.type
        if isinstance(t, T.BoolType):
            out.append(flag)
        elif isinstance(t, T.IntType):
            out.append(3)
        elif isinstance(t, T.TensorType):
            shape = t.sizes if t.sizes is not None else (6,)
            dtype = t.dtype.np if t.dtype is not None else np.float32
            if np.issubdtype(dtype, np.floating):
                a = rng.standard_normal(shape).astype(dtype)
            elif dtype == np.bool_:
                a = rng.random(shape) < 0.5
            else:
                a = rng.integers(-5, 5, shape).astype(dtype)
            out.append(gpujit.tensor(a))
        else:
            raise AssertionError(f"no test input for {t}")
    return out


def _as_numpy(v):
    return v.numpy() if hasattr(v, "numpy") else v


KEPT = [("test_passes_peephole", "CASES", name) for name in
        ("float_identities", "int_identities", "to_same_dtype", "double_transpose")] + \
    [("test_passes_cse", "CSE", name) for name in
     ("sample", "write_between", "write_through_view", "blocks", "loops")] + \
    [("test_passes_dce", "CASES", name) for name in
     ("if_outputs", "loop_carried", "loop_carried_chain", "nested")] + \
    [("test_passes_constant_propagation", "CASES", name) for name in
     ("containers", "if", "loops", "inside_blocks")] + \
    [("test_passes_loop_unroll", "CASES", name) for name in ("for_range", "nested")]


def _no_print(graph):
    for n in list(graph.walk()):
        if n.kind == "prim::Print":
            n.destroy()         # the interpreter checks values, not what is printed
    return graph


def _outcome(graph, flag):
    try:
        return interpret(graph, *_inputs(graph, 0, flag))
    except RuntimeError as e:
        return e


@pytest.mark.parametrize("module, table, name", KEPT)
def test_rewrites_keep_values(module, table, name):
    import importlib
    before, after = getattr(importlib.import_module(module), table)[name]
    for flag in (True, False):
        g0, g1 = _no_print(parse_ir(before)), _no_print(parse_ir(after))
        want, got = _outcome(g0, flag), _outcome(g1, flag)
        if isinstance(want, Exception):     # an error must stay an error (t of 3-d)
            assert (type(got), str(got)) == (type(want), str(want))
            continue
        assert len(want) == len(got)
        for a, b in zip(want, got):
            a, b = _as_numpy(a), _as_numpy(b)
            if isinstance(a, np.ndarray):
                assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
