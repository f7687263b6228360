"""Call-sequence fuzz of guards and fusion strategies (tests/guard_fuzz_gen.py).

A random small elementwise function, scripted or traced under a random fusion strategy
(the default, only STATIC, only DYNAMIC, depth 0, [] and mixes; other strategies set
between later calls), called 10-30 times with inputs that vary: sizes, ranks, strides
(transposed, sliced, expanded, overlapping as_strided, channels-last-like), 0-size and
0-dim tensors, broadcasting 1-dims, dtypes (mixed between arguments), requires_grad,
aliasing arguments, no_grad. Every call must answer as the same function run eagerly
(gpujit with fusion off, itself checked against PyTorch elsewhere): the same error type
where eager raises, else the same values (within the dtype's tolerance), dtype, shape,
layout (strides of the dims of size > 1, contiguity) and requires_grad, and the same
gradients. The compiled function's fusion groups make at most the specializations its
strategy (the one in force when it compiled) allows, of each kind; a call makes no new
kernel beyond the specializations it made; no kernel fails on good inputs (a
FusionWarning "failed"); graph_for works after every call.

GPUJIT_GUARD_FUZZ=<n> cases (default 30), GPUJIT_GUARD_FUZZ_SEED=<int> for other cases
than the fixed ones; GPUJIT_GUARD_FUZZ_SIM=<n> cases on the simulated CUDA target (a
subprocess under NUMBA_ENABLE_CUDASIM=1; default 2, tiny sizes)."""
from __future__ import annotations

import importlib
import itertools
import os
import re
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pytest

import gpujit
from gpujit import fusers, kernels
from guard_fuzz_gen import case, make_args

_DIR = tempfile.mkdtemp(prefix="gpujit_guard_fuzz_")
sys.path.insert(0, _DIR)
_COUNTER = itertools.count()
DEFAULT = [("STATIC", 2), ("DYNAMIC", 10)]
# (a float64 result may be computed from float32 values, and an ulp between the kernels'
# float32 exp and eager's grows through later float64 ops)
TOL = {"float16": 2e-2, "float32": 1e-5, "float64": 1e-5}


def load(src):
    mod = f"gpujit_guard_fuzz_{next(_COUNTER)}"
    with open(f"{_DIR}/{mod}.py", "w") as fh:
        fh.write("import gpujit as torch\n\n\n" + src)
    return importlib.import_module(mod).f


def _dt(t):
    return str(t.dtype).split(".")[-1]


def _call(fn, args, nograd):
    with warnings.catch_warnings(record=True) as w, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        try:
            if nograd:
                with gpujit.no_grad():
                    out = fn(*args)
            else:
                out = fn(*args)
            return out, None, w
        except Exception as e:      # noqa: BLE001 - compared with eager's
            return None, e, w


def _layout(t):
    return [st for n, st in zip(t.shape, t.stride()) if n > 1]


# ops whose result a last-bit difference may flip (an int cast, a floor, a comparison):
# fused float code contracts a * b + c into one rounding (FMA), as NNC's does, and its
# float32 exp/tanh differ from eager's by an ulp, so a few elements may differ from there on
BOUNDARY = (".long()", ".int()", "//", "%", ">", "<", ".to(torch.bool)")


def _few_differ(gn, wn, tol):
    """At most 2% of the elements (at least one) differ (beyond tol)."""
    if gn.shape != wn.shape or gn.size == 0:
        return False
    g, w = gn.astype(np.float64), wn.astype(np.float64)
    bad = ~(np.isclose(g, w, rtol=tol or 0, atol=tol or 0) | (np.isnan(g) & np.isnan(w)))
    return np.count_nonzero(bad) <= max(1, g.size // 50)


def same(got, want, what, loose=False, boundary=False, summed=False, layout=True):
    """loose: float16 values took part (fused code computes their ops in float32, eager
    rounds each to float16): results of any floating dtype within float16's tolerance.
    boundary: the function has BOUNDARY ops (a few elements may differ); summed: it sums
    (cumsum, sum). layout=False: strides not compared (gradients: PyTorch's scripted
    backward lays a gradient out as its own graph does, not as eager's)."""
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want), what
    for g, w in zip(got, want):
        assert _dt(g) == _dt(w), (what, "dtype", g.dtype, w.dtype)
        assert tuple(g.shape) == tuple(w.shape), (what, "shape", g.shape, w.shape)
        if layout:
            assert _layout(g) == _layout(w), (what, "strides", g.stride(), w.stride())
            assert g.is_contiguous() == w.is_contiguous(), (what, "contiguity")
        assert g.requires_grad == w.requires_grad, (what, "requires_grad")
        gn, wn = g.detach().numpy(), w.detach().numpy()
        tol = TOL.get(_dt(w))
        if tol is not None and loose:
            tol = TOL["float16"]
        if boundary and _few_differ(gn, wn, tol):
            continue
        if tol is None:
            np.testing.assert_array_equal(gn, wn, err_msg=what)
        else:
            # (a sum of many elements: each one's last bit adds up, against the sum's scale)
            g64, w64 = gn.astype(np.float64), wn.astype(np.float64)
            finite = np.abs(w64[np.isfinite(w64)])
            scale = max(1.0, float(finite.max())) if summed and finite.size else 1.0
            np.testing.assert_allclose(g64, w64, rtol=tol, atol=tol * scale, equal_nan=True,
                                       err_msg=what)


def _grads(out, leaves, seed):
    """d(sum(o * w))/d(leaf) for random weights w, over the floating outputs that need
    grad; None where nothing reaches a leaf."""
    outs = out if isinstance(out, tuple) else (out,)
    rng = np.random.default_rng(seed)
    loss = None
    for o in outs:
        if o.requires_grad and _dt(o) in TOL:
            w = gpujit.from_numpy(rng.standard_normal(tuple(o.shape)).astype(_dt(o)))
            term = (o.double() * w.double()).sum()
            loss = term if loss is None else loss + term
    if loss is None:
        return None
    return gpujit.autograd.grad(loss, leaves, allow_unused=True)


def budget_counts(exe):
    """{group number: {"STATIC": n, "DYNAMIC": m}} over the executor's specializations."""
    counts: dict = {}
    for spec in exe.specializations:
        for g in spec.groups:
            c = counts.setdefault(getattr(g, "budget_key", id(g)), {"STATIC": 0, "DYNAMIC": 0})
            for s in g.specializations:
                c[s.kind] += 1
    return counts


def check_budget(exe, compiled_with, what):
    budget = exe.fusion_budget
    if budget is None:
        return 0
    assert list(budget.strategy) == compiled_with, (what, budget.strategy, compiled_with)
    depth = {"STATIC": 0, "DYNAMIC": 0}
    for k, d in budget.strategy:
        depth[k] += d
    total = 0
    for key, c in budget_counts(exe).items():
        for kind in depth:
            assert c[kind] <= depth[kind], (what, f"group {key} made {c[kind]} {kind} "
                                                  f"specializations, budget {budget.strategy}")
        total += sum(c.values())
    return total


def run_case(cs):
    seed, src, calls = cs["seed"], cs["src"], cs["calls"]
    fn = load(src)
    prev = gpujit.jit.set_fusion_strategy(DEFAULT if cs["strategy"] is None
                                          else cs["strategy"])
    compiled_with = None    # the strategy in force at the call that made the budget
    try:
        if cs["traced"]:
            args0, _ = make_args(calls[0], 0, gpujit, seed, cs["n_tensor"])
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    f = gpujit.jit.trace(fn, tuple(args0), check_trace=False)
            except Exception:       # noqa: BLE001 - eager raises for these: nothing to fuzz
                return "skip"
        else:
            f = gpujit.jit.script(fn)
        exe = None
        for k, c in enumerate(calls):
            what = f"\nseed {seed}\n{src}call {k}: {c}"
            if c["strategy"] is not None:
                gpujit.jit.set_fusion_strategy(c["strategy"])
            extra = (c["s"],) if cs["with_s"] else ()
            # (the compiled function converts an int given for `s: float`, as TorchScript)
            e_extra = (float(c["s"]),) if cs["with_s"] else ()
            e_args, e_leaves = make_args(c, k, gpujit, seed, cs["n_tensor"])
            f_args, f_leaves = make_args(c, k, gpujit, seed, cs["n_tensor"])
            want, err, _ = _call(fn, tuple(e_args) + e_extra, c["nograd"])
            before_specs = check_budget(exe, compiled_with, what) if exe is not None else 0
            if exe is None or exe.fusion_budget is None:
                # (a function keeps the strategy in force when it first compiles: its
                # first call that does not raise)
                compiled_with = fusers.get_fusion_strategy()
            before_misses = kernels.cache_info().misses
            got, gerr, warned = _call(f, tuple(f_args) + extra, c["nograd"])
            failed = [str(w.message) for w in warned if "failed" in str(w.message)]
            assert not failed, (what, failed)
            if err is not None:
                assert gerr is not None, (what, "eager raised, compiled answered", err)
                assert isinstance(gerr, type(err)) or isinstance(err, type(gerr)), (
                    what, err, gerr)
                continue
            if gerr is not None:
                raise AssertionError(f"{what}\neager answered, compiled raised "
                                     f"{type(gerr).__name__}: {gerr}") from gerr
            loose = "float16" in src or "float16" in c["dtypes"]
            boundary = any(b in src for b in BOUNDARY)
            summed = "sum(" in src
            same(got, want, what, loose, boundary, summed)
            if exe is None:
                exe = f._get_executable()
            after_specs = check_budget(exe, compiled_with, what)
            if not any(a.requires_grad for a in f_args) or c["nograd"]:
                made = kernels.cache_info().misses - before_misses
                assert made <= max(0, after_specs - before_specs), (
                    what, f"{made} kernels built, {after_specs - before_specs} new "
                          f"specializations")
            if e_leaves and not c["nograd"]:
                try:
                    gw = _grads(want, e_leaves, k)
                except RuntimeError as e:   # (`x // 2`: floor_divide has no derivative)
                    with pytest.raises(type(e), match=re.escape(str(e))):
                        _grads(got, f_leaves, k)
                    gw = gg = None
                else:
                    gg = _grads(got, f_leaves, k)
                assert (gw is None) == (gg is None), what
                if gw is not None:
                    for a, b in zip(gg, gw):
                        assert (a is None) == (b is None), (what, "grad presence")
                        if a is not None:
                            same(a, b, what + " (gradient)", loose, boundary, summed, layout=False)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f.graph_for(*(tuple(f_args) + extra))
        return "ok"
    finally:
        gpujit.jit.set_fusion_strategy(prev)


def _seeds():
    n = int(os.environ.get("GPUJIT_GUARD_FUZZ", "30"))
    base = int(os.environ.get("GPUJIT_GUARD_FUZZ_SEED", "0"))
    return [base * 100003 + k for k in range(n)]


@pytest.mark.parametrize("seed", _seeds())
def test_call_sequences_answer_as_eager_within_budget(seed):
    run_case(case(seed))


SIM = r"""
import sys, warnings
sys.path.insert(0, {tests!r})
import gpujit.runtime.fusion as RF
import gpujit.fusers.group as G
_cpu_target = RF._target
RF._target = lambda node: "sim" if _cpu_target(node) == "cpu" else _cpu_target(node)
built = []
_build = G.default_builder
def _builder(spec, target):
    built.append(target)
    return _build(spec, target)
G.default_builder = _builder
import guard_fuzz_gen as gen
import test_guard_fuzz_s25 as t
for seed in {seeds!r}:
    cs = gen.case(seed)
    for c in cs["calls"]:      # tiny: the simulator runs each thread as Python
        c["shapes"] = tuple(tuple(min(n, 3) for n in s) for s in c["shapes"])
    t.run_case(cs)
print("sim kernels built:", len(built))
"""


@pytest.mark.sim
def test_call_sequences_on_the_simulated_cuda_target():
    n = int(os.environ.get("GPUJIT_GUARD_FUZZ_SIM", "2"))
    base = int(os.environ.get("GPUJIT_GUARD_FUZZ_SEED", "0"))
    seeds = [base * 100003 + 7 + k for k in range(n)]
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    r = subprocess.run([sys.executable, "-c", SIM.format(tests=os.path.dirname(__file__),
                                                         seeds=seeds)],
                       capture_output=True, text=True, env=env, timeout=900)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-8000:]
    assert "sim kernels built" in r.stdout
