"""Session 31's fusion / guard hunt: the fusion fuzzers' programs run three ways and compared
with each other, on the simulated CUDA target (numba's CUDA simulator, in a subprocess).

Each program (tests/test_fusion_hunt_s11.py's pointwise programs, scripted or traced,
tests/test_fusion_hunt_s14.py's batch_norm / unsqueeze / chunk programs, and the cat /
chunk programs below) is called with a sequence of tiny inputs (dtype casts, broadcasting,
transposed / sliced / expanded inputs, float16, integer division, bool outputs, 0-dim and
0-size tensors, special values), under a STATIC or DYNAMIC fusion strategy, and the call
sequence played forwards then backwards (earlier specializations picked again):
  - eagerly (the reference: NumPy),
  - scripted (or traced) with its fusion groups on the CPU target (GPUJIT_FUSION_TARGET=cpu),
  - scripted (or traced) with its fusion groups on the "sim" target: the CUDA kernels of
    kernels/emit.py under the simulator (GPUJIT_FUSION_TARGET=sim).
Both compiled runs must answer as eager (values, dtype, shape, the inputs after in-place
ops), raise where eager raises no error never, and the sim run's outputs must be laid out
as the CPU run's (contiguity, dim order). Every kernel is built for the target asked and
none fails (a failure would hide behind the unfused fallback).

The hunt is off by default (CI's time does not change): GPUJIT_SIM_DIFF_EXAMPLES=<n>
programs of each generator, GPUJIT_SIM_DIFF_SEED=<int> (default 31) for other programs.
Session 31's run (seeds 3131-3163, ~3000 programs, plus tests/test_guard_fuzz_s25.py's
simulator mode with 425 cases) found one difference, eager's and both compiled runs' alike
(below): integer pow with negative exponents; none between the CPU and sim kernels."""
from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import strategies as st

import gpujit as torch

# ------------------------------------------------------------------ cat / chunk programs

_U = ["torch.neg({a})", "{a} * {s}", "torch.sigmoid({a})", "{a} + {i}", "torch.relu({a})",
      "{a}.float()", "{a}.half()", "{a} > 0", "{a} // 2", "{a}.to(torch.int32)",
      "torch.tanh({a})", "torch.where({a} > 0, {a}, {s})", "{a} % -3", "{a}.double() * 2",
      "torch.abs({a})", "torch.unsqueeze({a}, 0) * {s}"]
_B = ["{a} + {b}", "{a} * {b}", "torch.maximum({a}, {b})",
      "torch.where({a} > {b}, {a}, {b})", "{a} - {b} * 2", "{a} / {b}", "{a} == {b}"]


@st.composite
def cat_programs(draw):
    """torch.cat of inputs (and values computed from them) that differ along the cat dim
    only, chunks, and pointwise ops around them; inputs of mixed dtypes (cat promotes)."""
    from test_fusion_hunt_s11 import _DTYPES
    rank = draw(st.integers(1, 3))
    d = draw(st.integers(-rank, rank - 1))
    names = [f"x{k}" for k in range(draw(st.integers(2, 3)))]
    cls = {n: n for n in names}     # values of one class have one shape
    rk = {n: rank for n in names}
    lines, fresh = [], []
    for k in range(draw(st.integers(2, 7))):
        v = f"v{k}"
        kind = draw(st.sampled_from(["u", "b", "cat", "cat", "chunk"]))
        a = draw(st.sampled_from(list(cls)))
        if kind == "u":
            tpl = draw(st.sampled_from(_U))
            lines.append(f"{v} = " + tpl.format(a=a, s="s", i="i"))
            cls[v], rk[v] = (v, rk[a] + 1) if "unsqueeze" in tpl else (cls[a], rk[a])
        elif kind == "b":
            b = draw(st.sampled_from([t for t in cls if cls[t] == cls[a]]))
            lines.append(f"{v} = " + draw(st.sampled_from(_B)).format(a=a, b=b))
            cls[v], rk[v] = cls[a], rk[a]
        elif kind == "cat":
            pool = [t for t in cls if rk[t] == rank and (cls[t] in names)]
            parts = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
            lines.append(f"{v} = torch.cat([{', '.join(parts)}], {d})")
            cls[v], rk[v] = v, rank
        else:
            if rk[a] == 0:
                continue
            n = draw(st.sampled_from([2, 3]))
            dim = draw(st.integers(-rk[a], rk[a] - 1))
            lines.append(f"{v}_l = {a}.chunk({n}, {dim})\n    {v} = {v}_l[0] * 1")
            cls[v], rk[v] = v, rk[a]
        fresh.append(v)
    if not fresh:
        return None
    outs = [fresh[-1]] + ([draw(st.sampled_from(fresh))] if draw(st.booleans()) else [])
    src = (f"def f({', '.join(n + ': torch.Tensor' for n in names)}, s: float, i: int):\n"
           + "".join(f"    {ln}\n" for ln in lines) + f"    return {', '.join(outs)}\n")
    calls = []
    dtypes = [draw(st.sampled_from(_DTYPES)) for _ in names]
    for c in range(draw(st.integers(2, 4))):
        base = tuple(draw(st.integers(0 if c else 1, 3)) for _ in range(rank))
        along = tuple(draw(st.integers(0, 3)) for _ in names)
        if c and draw(st.booleans()):
            dtypes = [draw(st.sampled_from(_DTYPES)) for _ in names]
        calls.append((base, along, list(dtypes), draw(st.integers(0, 2 ** 16)),
                      [draw(st.sampled_from("ctse")) for _ in names], draw(st.booleans()),
                      draw(st.sampled_from([0.5, -2.0, 3.0])),
                      draw(st.sampled_from([2, -1, 3, 0]))))
    return src, rank, d, calls, draw(st.sampled_from(["STATIC", "DYNAMIC"]))


def cat_inputs(rank, d, call):
    from test_fusion_hunt_s11 import _array
    base, along, dtypes, sd, layouts, special, s, i = call
    rng = np.random.default_rng(sd)
    args = []
    for k, (dt, lay) in enumerate(zip(dtypes, layouts)):
        shape = list(base)
        shape[d % rank] = along[k]
        args.append(_array(rng, dt, tuple(shape), lay, special))
    return args + [s, i]


# ------------------------------------------------------------------ the three-way comparison

def _order(t):
    return sorted((d for d in range(t.dim()) if t.shape[d] > 1), key=lambda d: (-t.stride(d), -d))


def _same_layout(got, want, what):
    if want.numel() == 0:
        return
    assert got.is_contiguous() == want.is_contiguous() and _order(got) == _order(want), \
        (what, got.stride(), want.stride())


def _tup(x):
    return x if isinstance(x, tuple) else (x,)


def _calls(fn, make_args, calls):
    """[(ok, result or error, args)] of each call, each played twice (the profiling run,
    then the optimized one)."""
    out = []
    for call in calls:
        for _ in range(2):
            args = make_args(call)
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                try:
                    out.append((True, fn(*args), args))
                except AssertionError:
                    raise
                except Exception as e:     # (compared by type only)
                    out.append((False, e, args))
    return out


def _compiled(load, src, make_args, first, trace):
    fn = load(src)[0] if trace else load(src)[1]
    if not trace:
        return fn
    args = make_args(first)          # Python numbers of the first call baked in
    s, i = args[-2:]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        t = torch.jit.trace(lambda *ts: fn(*ts, s, i), tuple(args[:-2]), check_trace=False)
    return lambda *a: t(*a[:-2])


def differential(src, calls, strategy, load, make_args, same, trace=False, built=None):
    """Eager, CPU-fused and sim-fused runs of one program: see the module's docstring."""
    calls = list(calls) + list(calls)[::-1]
    want = _calls(load(src)[0], make_args, calls)
    got = {}
    for target in ("cpu", "sim"):
        os.environ["GPUJIT_FUSION_TARGET"] = target
        old = torch.jit.set_fusion_strategy([(strategy, 10)])
        try:
            try:
                fn = _compiled(load, src, make_args, calls[0], trace)
            except Exception:           # (eager fails on the first call too)
                return
            n0 = len(built) if built is not None else 0
            got[target] = _calls(fn, make_args, calls)
            if built is not None:
                assert set(built[n0:]) <= {target}, (target, built[n0:])
        finally:
            torch.jit.set_fusion_strategy(old)
            os.environ.pop("GPUJIT_FUSION_TARGET", None)
    for k, (w, c, s) in enumerate(zip(want, got["cpu"], got["sim"])):
        if not w[0]:
            continue
        what = f"{src}\n{strategy}{' traced' if trace else ''} call {k // 2}.{k % 2}: " \
               f"{calls[k // 2]}"
        for target, g in (("cpu", c), ("sim", s)):
            assert g[0], (what, target, repr(g[1]))
            same(g[1], w[1], f"{what} [{target} vs eager]")
            for a, b in zip(g[2], w[2]):
                if isinstance(b, torch.Tensor):
                    same(a, b, f"{what} [{target}: an input after the call]")
        for a, b in zip(_tup(s[1]), _tup(c[1])):
            _same_layout(a, b, f"{what} [sim vs cpu layout]")


SIM_DIFF = r"""
import os, sys, zlib
sys.path.insert(0, {tests!r})
from hypothesis import HealthCheck, given, seed, settings
import gpujit.fusers.group as G
import test_fusion_hunt_s11 as h11
import test_fusion_hunt_s14 as h14
import test_fusion_finds_s31 as me

built = []
_build = G.default_builder


def counting(spec, target):
    built.append(target)
    return _build(spec, target)


G.default_builder = counting


def _note_failure(self, msg):
    raise AssertionError(f"a {{self.target}} kernel failed: {{msg}}")


G.FusedGroup._note_failure = _note_failure


def tiny(calls, caps):
    return [(tuple(caps.get(len(c[0]), 1) if n > 5 else min(n, caps.get(len(c[0]), 1))
                   for n in c[0]),) + tuple(c[1:]) for c in calls]


done = dict(s11=0, s11_traced=0, s14=0, cat=0)
hy = dict(max_examples={examples}, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))


@seed({seed})
@settings(**hy)
@given(h11.programs())
def s11(case):
    if case is None:
        return
    src, bcast, calls = case
    calls = tiny(calls, {{1: 16, 2: 6, 3: 3}})
    h = zlib.crc32(src.encode())
    # (not traced: control flow, and a dtype read (x.to(y.dtype)), which a trace records
    # as a constant, as PyTorch's)
    trace = not any(k in src for k in ("if ", "while ", "for ", ".dtype")) and h % 3 == 0
    if trace:       # traced: the Python numbers of the first call
        calls = [c[:5] + calls[0][5:] for c in calls]
    strategy = "DYNAMIC" if h % 2 else "STATIC"
    me.differential(src, calls, strategy, h11.load, lambda c: h11._inputs(bcast, c),
                    h11._same, trace=trace, built=built)
    done["s11_traced" if trace else "s11"] += 1


@seed({seed} + 1)
@settings(**hy)
@given(h14.programs())
def s14(case):
    src, strategy, calls = case
    me.differential(src, tiny(calls, {{2: 8, 3: 4, 4: 2, 5: 2}}), strategy, h14.load,
                    h14._inputs, h14._same, built=built)
    done["s14"] += 1


@seed({seed} + 2)
@settings(**hy)
@given(me.cat_programs())
def cat(case):
    if case is None:
        return
    src, rank, d, calls, strategy = case
    me.differential(src, calls, strategy, h11.load, lambda c: me.cat_inputs(rank, d, c),
                    h11._same, built=built)
    done["cat"] += 1


s11()
s14()
cat()
assert "sim" in built and "cpu" in built, built
print("sim differential:", done, built.count("sim"), "sim kernels")
"""


@pytest.mark.sim
@pytest.mark.skipif(not os.environ.get("GPUJIT_SIM_DIFF_EXAMPLES"),
                    reason="the hunt: GPUJIT_SIM_DIFF_EXAMPLES=<n> turns it on")
def test_fuzz_programs_answer_alike_eager_cpu_fused_and_sim_fused():
    from test_kernels import session_cache_dir
    code = SIM_DIFF.format(tests=os.path.dirname(os.path.abspath(__file__)),
                           examples=int(os.environ["GPUJIT_SIM_DIFF_EXAMPLES"]),
                           seed=int(os.environ.get("GPUJIT_SIM_DIFF_SEED", "31")))
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", GPUJIT_CACHE_DIR=session_cache_dir())
    env.pop("GPUJIT_FUSION_TARGET", None)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=3000)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-8000:]
    print(r.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ found by the above

def _pow_squared_or_sqrt(x):
    v0 = torch.pow(x, x)
    v = v0 * v0
    if bool((v > 0).all()):
        v = v.sqrt() + 1
    return v


def test_integer_pow_with_negative_exponents_keeps_a_narrow_dtype():
    # (found by the three-way hunt, seed 3163 with longer programs: CPU-fused and sim-fused
    # alike) pow of int8 tensors with a negative exponent element built its 1 / -1 / 0
    # answers from Python ints and returned int64; eager cast that back, the scripted code
    # (generated after a float32 call made the if's result a plain Tensor) returned int64
    base = np.array([-4, -5, 0, 1, -1, 2], np.int8)
    want = np.array([0, 0, 1, 1, -1, 4], np.int8)          # torch 2.13
    for dt in (np.int8, np.int16, np.int32, np.int64):
        x = torch.from_numpy(base.astype(dt))
        got = torch.pow(x, x)
        assert got.dtype is x.dtype
        np.testing.assert_array_equal(got.numpy(), want.astype(dt))
    s = torch.jit.script(_pow_squared_or_sqrt)
    a = torch.tensor([[7, -1]], dtype=torch.int8)
    b = torch.tensor([[-4, -5, 0, 0]], dtype=torch.int8)
    c = torch.zeros(1, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x in (a, a, b, b, c, c, b, a):
            want, got = _pow_squared_or_sqrt(x), s(x)
            assert got.dtype is want.dtype, (x, got.dtype, want.dtype)
            np.testing.assert_array_equal(got.numpy(), want.numpy())
