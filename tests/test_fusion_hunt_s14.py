"""Scripted programs mixing session 14's new fusion paths against the same function run
eagerly: inference F.batch_norm (weight/bias None or not, eps an argument or a constant,
rank 2..5, float16/32/64 inputs with float32 parameters), unsqueeze chains on 1-D tensors
lined up with dim 1, chunks along random dims, pointwise tails (relu, add, mul by scalars,
sigmoid, where), with contiguous, transposed, sliced, channels_last, expanded and 0-size
inputs, called with new sizes under STATIC and DYNAMIC strategies. Values, dtypes, shapes,
strides (where eager's result is not contiguous), graph_for's text (parses back) and the
groups in it. (tests/test_fusion_hunt_s11.py is the general pointwise hunt.)

GPUJIT_FUZZ_EXAMPLES=<n> (default 30) for a longer hunt, GPUJIT_FUZZ_SEED=<int> for other
programs than the fixed ones."""
from __future__ import annotations

import importlib
import itertools
import os
import sys
import tempfile
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings, strategies as st

import gpujit as torch
from gpujit import fusers
from gpujit.ir import parse_ir

_DIR = tempfile.mkdtemp(prefix="gpujit_hunt_s14_")
sys.path.insert(0, _DIR)
_COUNTER = itertools.count()


def load(src, name="f"):
    """Script a function from source text (scripting reads the function's source file)."""
    mod = f"gpujit_hunt_s14_{next(_COUNTER)}"
    with open(f"{_DIR}/{mod}.py", "w") as fh:
        fh.write("import gpujit as torch\nimport gpujit.nn.functional as F\n\n\n"
                 + src + "\n")
    fn = getattr(importlib.import_module(mod), name)
    return fn, torch.jit.script(fn)


# x: the input [N, C, ...]; rm, rv, w, b, p, q: 1-D [C] float32; e: the float eps
_TAILS = ["torch.relu({a})", "{a} + {b}", "{a} * 2.5", "torch.sigmoid({a})",
          "torch.where({a} > 0, {a}, {b} * 0.5)", "{a} * {b} - 1", "{a} + 1.0",
          "torch.where({a} < {b}, 1.0, {a})", "{a}.relu() * 0.5 + {b}"]


def _bn(draw, a):
    w = draw(st.sampled_from(["w", "None"]))
    b = draw(st.sampled_from(["b", "None"]))
    eps = draw(st.sampled_from(["e", "1e-5", "0.1"]))
    return f"F.batch_norm({a}, rm, rv, {w}, {b}, False, 0.1, {eps})"


def _lined_up(draw, rank):
    """A 1-D [C] parameter unsqueezed to line up with dim 1 of a rank-`rank` tensor."""
    p = draw(st.sampled_from(["p", "q", "(p * 2.0)", "torch.sigmoid(q)"]))
    form = draw(st.integers(0, 2))
    if form == 0:
        return p + ".unsqueeze(-1)" * (rank - 2)
    if form == 1:
        return p + ".unsqueeze(0)" + ".unsqueeze(-1)" * (rank - 2)
    return p + "".join(f".unsqueeze({d})" for d in range(1, rank - 1))


@st.composite
def programs(draw):
    rank = draw(st.integers(2, 5))
    lines, full, pieces = [], ["x"], []     # full: tensors of x's shape; pieces: of a chunk's
    chunk = None                            # (dim, chunks) of the chunk, if any
    for k in range(draw(st.integers(2, 6))):
        kind = draw(st.sampled_from(["bn", "bn", "u", "t", "t", "c"] if not pieces
                                    else ["t", "t", "pt", "pt", "u", "bn", "pu"]))
        if kind == "pu" and chunk[0] == 1:
            kind = "pt"                 # (pieces along dim 1 have fewer channels)
        v = f"v{k}"
        if kind == "bn":
            lines.append(f"{v} = " + _bn(draw, draw(st.sampled_from(full))))
            full.append(v)
        elif kind == "u":
            a = draw(st.sampled_from(full))
            op = draw(st.sampled_from(["*", "+", "-"]))
            lines.append(f"{v} = {a} {op} {_lined_up(draw, rank)}")
            full.append(v)
        elif kind == "t":
            tpl = draw(st.sampled_from(_TAILS))
            lines.append(f"{v} = " + tpl.format(a=draw(st.sampled_from(full)),
                                                b=draw(st.sampled_from(full))))
            full.append(v)
        elif kind == "pu":
            lines.append(f"{v} = {draw(st.sampled_from(pieces))} * {_lined_up(draw, rank)}")
            pieces.append(v)
        elif kind == "pt":
            tpl = draw(st.sampled_from(_TAILS))
            lines.append(f"{v} = " + tpl.format(a=draw(st.sampled_from(pieces)),
                                                b=draw(st.sampled_from(pieces))))
            pieces.append(v)
        else:                                    # chunk (pieces: no batch_norm)
            dim = draw(st.sampled_from(range(-rank, rank)))
            n = draw(st.sampled_from([2, 2, 3]))
            names = [f"{v}_{j}" for j in range(n)]
            lines.append(f"{', '.join(names)} = {draw(st.sampled_from(full))}"
                         f".chunk({n}, {dim})")
            pieces.extend(names)
            chunk = (dim % rank, n)
    if not pieces:
        chunk = None
    outs = [(pieces or full)[-1]]
    if draw(st.booleans()):
        outs.append(draw(st.sampled_from(full[1:] or full)))
    src = ("def f(x, rm, rv, w, b, p, q, e: float):\n"
           + "".join(f"    {ln}\n" for ln in lines) + f"    return {', '.join(outs)}\n")
    strategy = draw(st.sampled_from(["STATIC", "DYNAMIC"]))
    calls = []
    c_fixed = draw(st.integers(1, 4))
    for c in range(draw(st.integers(1, 3))):
        # the chunked dim a multiple of its chunk count (pieces read together line up)
        shape = [draw(st.integers(1, 4)) for _ in range(rank)]
        shape[1] = c_fixed if not draw(st.integers(0, 5)) == 0 else draw(st.integers(1, 4))
        if chunk is not None:
            shape[chunk[0]] *= chunk[1]
        if c and draw(st.integers(0, 4)) == 0:
            shape[draw(st.sampled_from([d for d in range(rank) if d != 1]))] = 0
        calls.append((tuple(shape), draw(st.sampled_from(["float32", "float32", "float64",
                                                          "float16"])),
                      draw(st.sampled_from("ctslle")), draw(st.integers(0, 2 ** 16)),
                      draw(st.sampled_from([1e-5, 0.25]))))
    return src, strategy, calls


def _x(rng, shape, dtype, layout):
    rank = len(shape)
    if layout == "t":          # a permuted (reversed dims) view
        a = rng.standard_normal(tuple(reversed(shape))).astype(dtype)
        return torch.from_numpy(a).permute(*reversed(range(rank)))
    if layout == "s":          # every other element along each dim
        a = rng.standard_normal(tuple(2 * n for n in shape)).astype(dtype)
        return torch.from_numpy(a)[tuple(slice(None, None, 2) for _ in shape)]
    a = torch.from_numpy(rng.standard_normal(shape).astype(dtype))
    if layout == "l" and rank in (4, 5):
        return a.contiguous(memory_format=torch.channels_last if rank == 4
                            else torch.channels_last_3d)
    if layout == "e" and shape[0] > 1:
        return a[:1].expand(*shape)
    return a


def _inputs(call):
    shape, dtype, layout, sd, eps = call
    rng = np.random.default_rng(sd)
    c = shape[1]

    # float32 parameters (PyTorch's CPU rule lets float16 inputs take them too); float64
    # inputs take float64 ones (eager raises for mixed float64 / float32), and float16
    # inputs float16 ones for some seeds
    pdt = np.float64 if dtype == "float64" else np.float16 if dtype == "float16" and \
        sd % 3 == 0 else np.float32

    def param(positive=False):
        a = rng.standard_normal(c)
        return torch.from_numpy((np.abs(a) + 0.1 if positive else a).astype(pdt))
    x = _x(rng, shape, dtype, layout)
    return [x, param(), param(True), param(), param(), param(), param(), eps]


def _strides_match(got, want):
    """Eager's layout: contiguous where eager's result is, else the order of its dims in
    memory (a chunk piece eager returns is a view with gaps, a fused one is dense, so the
    order counts, not the strides; size-1 dims and 0-size results say nothing)."""
    if want.numel() == 0:
        return True
    if want.is_contiguous():
        return got.is_contiguous()

    def order(t):
        dims = [d for d in range(t.dim()) if t.shape[d] > 1]
        return sorted(dims, key=lambda d: (-t.stride(d), -d))
    return order(got) == order(want)


def _same(got, want, what):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), what
        for g, w in zip(got, want):
            _same(g, w, what)
        return
    assert got.dtype is want.dtype, (what, got.dtype, want.dtype)
    assert tuple(got.shape) == tuple(want.shape), (what, got.shape, want.shape)
    assert _strides_match(got, want), (what, got.stride(), want.stride())
    g, w = got.numpy().astype(np.float64), want.numpy().astype(np.float64)
    tol = {np.float16: 4e-3, np.float32: 2e-5, np.float64: 1e-10}[want.numpy().dtype.type]
    np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True, err_msg=what)


def _check_graph(scripted, args, what):
    text = str(scripted.graph_for(*args))
    assert str(parse_ir(text)) == text, what
    top = text.split("\nwith ")[0]
    groups = scripted.graph_for(*args).findAllNodes("prim::TensorExprGroup")
    assert top.count("= prim::TensorExprGroup_") == len(groups), (what, text)


def check_program(src, strategy, calls):
    fn, scripted = load(src)
    old = torch.jit.set_fusion_strategy([(strategy, 10)])
    try:
        for k, call in enumerate(calls):
            args = None
            for rep in range(2):             # the profiling run, then the optimized one
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    warnings.simplefilter("error", fusers.FusionWarning)  # no kernel fails
                    try:
                        want = fn(*_inputs(call))
                    except (RuntimeError, ValueError):   # (eager: too few chunk pieces)
                        continue
                    args = _inputs(call)
                    try:
                        got = scripted(*args)
                    except Exception:
                        print("failing program:", repr((src, strategy, calls)), k, rep)
                        raise
                what = f"{src}\n{strategy} call {k}.{rep}: {call}"
                _same(got, want, what)
            if args is None:
                continue
            _check_graph(scripted, args, what)
            if np.prod(call[0]) and ".chunk(" not in src:
                # batch_norm fuses with its pointwise readers: one left outside a group is
                # returned as it is (a group of one node is not made; nor does a group
                # hold a batch_norm and a chunk)
                g = scripted.graph_for(*args)
                for bn in g.findAllNodes("aten::batch_norm"):
                    if bn.owning_block is g.block:
                        assert {u.user.kind for u in bn.output.uses} <= {"prim::Return", "prim::TupleConstruct"}, \
                            (what, str(g))
    finally:
        torch.jit.set_fusion_strategy(old)


_FUZZ_SEED = os.environ.get("GPUJIT_FUZZ_SEED")


@seed(int(_FUZZ_SEED or 0))
@settings(max_examples=int(os.environ.get("GPUJIT_FUZZ_EXAMPLES", "30")), deadline=None,
          derandomize=_FUZZ_SEED is None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.filter_too_much])
@given(programs())
def test_batch_norm_unsqueeze_chunk_programs_match_eager(case):
    check_program(*case)


# ------------------------------------------------------------------ found by the above

def _bn_relu_times_lined_up(x, rm, rv, w, b, p):
    y = torch.nn.functional.batch_norm(x, rm, rv, w, b, False, 0.1, 1e-5)
    return torch.relu(y) * p.unsqueeze(-1).unsqueeze(-1)


def test_batch_norm_and_an_unsqueeze_chain_share_one_group():
    # batch_norm's schema marks its running statistics written (a!): alias analysis took
    # an inference batch_norm for a writer of every graph input, so an unsqueeze of
    # another input stayed out ("its result shares memory with its input, and that memory
    # is written in place") and the batch_norm with it; then a group input read through
    # two unsqueezes counted as [C, 1] (one unsqueeze deep) in the iteration space, so the
    # batch_norm + relu and the unsqueezes + mul made two groups where NNC makes one
    s = torch.jit.script(_bn_relu_times_lined_up)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4, 6)).astype(np.float32)
    m, w, b, p = (rng.standard_normal(3).astype(np.float32) for _ in range(4))
    v = np.abs(rng.standard_normal(3)).astype(np.float32) + 0.1
    args = [torch.from_numpy(a) for a in (x, m, v, w, b, p)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", fusers.FusionWarning)
        for _ in range(3):
            out = s(*args)

    def r(a):
        return a.astype(np.float64).reshape(1, 3, 1, 1)
    want = np.maximum((x - r(m)) / np.sqrt(r(v) + 1e-5) * r(w) + r(b), 0) * r(p)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-5, atol=1e-5)
    g = s.graph_for(*args)
    top = str(g).split("\nwith ")[0]
    assert len(g.findAllNodes("prim::TensorExprGroup")) == 1, str(g)
    assert "aten::batch_norm" not in top and "aten::unsqueeze" not in top, top


def _two_batch_norms(x, rm, rv):
    a = torch.nn.functional.batch_norm(x, rm, rv, None, None, False, 0.1, 1e-5)
    torch.nn.functional.batch_norm(x * 2, rm, rv, None, None, False, 0.1, 1e-5)
    # (`+ 0`: two results that both leave the graph stay two, as TorchScript's CSE keeps them)
    return a, torch.nn.functional.batch_norm(x, rm, rv, None, None, False, 0.1, 1e-5) + 0


def test_inference_batch_norm_is_pure_for_cse_and_dce():
    # (as TorchScript, whose batch_norm schema annotates no write) an unused inference
    # batch_norm goes, two alike are one
    s = torch.jit.script(_two_batch_norms)
    kinds = [n.kind for n in s.graph.nodes]
    # (F.batch_norm is a CallFunction of torch's body, as TorchScript's: a call, kept)
    assert kinds.count("prim::CallFunction") == 3
    from gpujit.passes.constant_propagation import propagate_constants
    from gpujit.passes.cse import eliminate_common_subexpressions
    from gpujit.passes.dce import eliminate_dead_code
    g = s.inlined_graph.copy()
    propagate_constants(g)          # (the body's `if training:` checks go)
    eliminate_dead_code(g)          # (and the unused batch_norm)
    assert [n.kind for n in g.nodes].count("aten::batch_norm") == 2, str(g)
    eliminate_common_subexpressions(g)
    eliminate_dead_code(g)
    assert [n.kind for n in g.nodes].count("aten::batch_norm") == 1, str(g)
    x = torch.randn(2, 3, 4)
    rm, rv = torch.zeros(3), torch.ones(3)
    a, b = s(x, rm, rv)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_allclose(a.numpy(), x.numpy() / np.sqrt(1 + 1e-5), rtol=1e-6)


SIM_SCRIPT = r"""
from hypothesis import HealthCheck, given, seed, settings
import test_fusion_hunt_s14 as h

done = [0]


def tiny_calls(case):       # at most 64 elements a tensor: the simulator runs threads as Python
    src, strategy, calls = case
    out = []
    for c in calls:
        cap = {{2: 8, 3: 4}}.get(len(c[0]), 2)
        out.append((tuple(min(n, cap) for n in c[0]),) + tuple(c[1:]))
    return src, strategy, out


@seed({seed})
@settings(max_examples={examples}, deadline=None, derandomize={seed} is None, database=None,
          suppress_health_check=list(HealthCheck))
@given(h.programs())
def fuzz(case):
    h.check_program(*tiny_calls(case))
    done[0] += 1


fuzz()
assert SIM_KERNELS, "no group ran on the simulated CUDA target"
print(f"simulator hunt: {{done[0]}} programs, {{len(SIM_KERNELS)}} kernels passed")
"""


@pytest.mark.sim
def test_programs_on_the_simulated_cuda_target_match_eager():
    from test_fusion_sim_fuzz import PRELUDE, run_sim
    from test_kernels import session_cache_dir
    examples = int(os.environ.get("GPUJIT_SIM_FUZZ_EXAMPLES", "12"))
    sd = os.environ.get("GPUJIT_FUZZ_SEED")
    out = run_sim((PRELUDE + SIM_SCRIPT).format(
        tests=os.path.dirname(__file__), examples=examples,
        seed=None if sd is None else int(sd)), session_cache_dir())
    assert "kernels passed" in out
    print(out.strip())


def _scaled_bn_relu(x, m, v):
    y = x * 2.0
    return torch.relu(torch.nn.functional.batch_norm(y, m, v, None, None, False, 0.1, 1e-5))


def _two_bn_sum(x, m, v, w, b, e: float):
    y0 = torch.nn.functional.batch_norm(x, m, v, w, b, False, 0.1, e)
    y1 = torch.nn.functional.batch_norm(x, m, v, w, b, False, 0.1, 1e-5)
    return y0 + y1


def test_a_group_holding_a_batch_norm_takes_more_producers():
    # once a group held a batch_norm, its per-channel parameters ([C] group inputs) counted
    # with their own shape in the iteration space: no producer merged into it any more
    # (x * 2 -> batch_norm -> relu left the mul out; [3] against [2, 3, 4, 6])
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 4, 6)).astype(np.float32)
    m, w, b = (rng.standard_normal(3).astype(np.float32) for _ in range(3))
    v = np.abs(rng.standard_normal(3)).astype(np.float32) + 0.1

    def r(a):
        return a.astype(np.float64).reshape(1, 3, 1, 1)
    for fn, args, want in (
            (_scaled_bn_relu, (x, m, v), np.maximum((2 * x - r(m)) / np.sqrt(r(v) + 1e-5), 0)),
            (_two_bn_sum, (x, m, v, w, b, 1e-3),
             ((x - r(m)) / np.sqrt(r(v) + 1e-3) + (x - r(m)) / np.sqrt(r(v) + 1e-5)) * r(w)
             + 2 * r(b))):
        s = torch.jit.script(fn)
        targs = [torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
        with warnings.catch_warnings():
            warnings.simplefilter("error", fusers.FusionWarning)
            for _ in range(3):
                out = s(*targs)
        np.testing.assert_allclose(out.numpy(), want, rtol=1e-5, atol=1e-5)
        g = s.graph_for(*targs)
        top = str(g).split("\nwith ")[0]
        assert len(g.findAllNodes("prim::TensorExprGroup")) == 1, str(g)
        assert "aten::batch_norm" not in top and "aten::mul" not in top, top
