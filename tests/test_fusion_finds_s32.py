"""Session 32's fusion / guard hunt where the older fuzzers are thin (tests/fusion_gen_s32.py):
narrow integer and float16 inputs with Python scalars, where / clamp / masked_fill runs,
in-place ops on intermediates, strict_fusion regions, results that view inputs, inputs that
change rank and broadcast pattern between calls under STATIC / DYNAMIC, and gradients
through the fused groups. Each call's answer is compared with the same function run eagerly
(values, dtype, shape, layout, requires_grad, which inputs a result shares memory with, the
inputs after in-place ops, gradients) and, where torch is installed and the hunt is on, with
PyTorch's. A strict_fusion region may raise StrictFusionError (a group fell back), nothing
else that eager does not.

GPUJIT_S32_FUZZ=<n> cases (default 12), GPUJIT_S32_FUZZ_SEED=<int> for other cases than the
fixed ones, GPUJIT_S32_TORCH=1 to compare with PyTorch too, GPUJIT_S32_SIM=<n> cases on the
simulated CUDA target (a subprocess; off by default).

Session 32's run (seeds 1-8, ~1500 cases with the PyTorch diff, 340 on the simulator; and
the older fuzzers with new seeds: s11 / s14 3231-3240, guard 32001-32010, the s31 three-way
sim diff 32001-32011) found, besides fuzzer false positives (TorchScript's `x + False` is an
int, a traced `.dtype` is a constant, gradients' strides follow the backward graph): masked_fill
with a float value out of the dtype's range (PyTorch raises), and two layout bugs of groups
holding a functionalized in-place op (below)."""
import importlib
import itertools
import os
import re
import sys
import tempfile
import warnings

import numpy as np
import pytest

import gpujit
import gpujit as torch
from fusion_asserts import SIM_PRELUDE
from gpujit.jit import StrictFusionError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fusion_gen_s32 as gen                                        # noqa: E402
from test_guard_fuzz_s25 import _grads, same                        # noqa: E402

_DIR = tempfile.mkdtemp(prefix="gpujit_finds_s32_")
sys.path.insert(0, _DIR)
_COUNTER = itertools.count()


def load(src, lib="gpujit"):
    mod = f"gpujit_finds_s32_{next(_COUNTER)}"
    head = "import gpujit as torch\n\n\n" if lib == "gpujit" else "import torch\n\n\n"
    with open(f"{_DIR}/{mod}.py", "w") as fh:
        fh.write(head + src)
    return importlib.import_module(mod).f


def _run(fn, args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return fn(*args), None
        except StrictFusionError as e:
            return None, e
        except Exception as e:          # noqa: BLE001 - compared with eager's
            return None, e


def _tup(x):
    return x if isinstance(x, tuple) else (x,)


def _shares(outs, ins):
    def arr(t):
        return t.detach().numpy()
    return [[o.numel() > 0 and np.shares_memory(arr(o), arr(a)) for a in ins] for o in outs]


BOUNDARY = ("//", "%", ">", "<", "==", "!=", "int8", "uint8", "int16", ".to(torch.bool)", "sign")


def _vs_torch(tf, c, seed, got, err, what):
    targs = gen.make_args(c, sys.modules["torch"], seed)
    want, terr = _run(tf, tuple(targs) + (c["s"], c["i"]))
    if terr is not None or err is not None:
        assert (terr is None) == (err is None), (what, "torch vs gpujit eager", terr, err)
        return
    for g, w in zip(_tup(got), _tup(want)):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1], (what, "torch dtype", g.dtype, w.dtype)
        assert tuple(g.shape) == tuple(w.shape), (what, "torch shape", g.shape, w.shape)
        gn, wn = g.detach().numpy(), w.detach().numpy()
        if wn.dtype.kind == "f":
            tol = 2e-2 if "float16" in c["dtypes"] or wn.dtype == np.float16 else 1e-5
            np.testing.assert_allclose(gn.astype(np.float64), wn.astype(np.float64),
                                       rtol=tol, atol=tol, equal_nan=True, err_msg=what)
        elif not any(b in what for b in ("sigmoid", "float16", "half")):
            np.testing.assert_array_equal(gn, wn, err_msg=what)


def run_case(cs, with_torch=False):
    seed, src = cs["seed"], cs["src"]
    fn = load(src)
    tf = load(src, "torch") if with_torch else None
    prev = gpujit.jit.set_fusion_strategy(cs["strategy"] or [("STATIC", 2), ("DYNAMIC", 10)])
    stats = dict(calls=0, strict_raised=0)
    try:
        f = gpujit.jit.script(fn)
        for k, c in enumerate(cs["calls"]):
            for rep in range(2):
                what = f"\nseed {seed}\n{src}call {k}.{rep}: {c}"
                e_args = gen.make_args(c, gpujit, seed)
                f_args = gen.make_args(c, gpujit, seed)
                extra = (c["s"], c["i"])
                want, err = _run(fn, tuple(e_args) + extra)
                if tf is not None and rep == 0:
                    _vs_torch(tf, c, seed, want, err, what)
                got, gerr = _run(f, tuple(f_args) + extra)
                if isinstance(gerr, StrictFusionError):
                    assert cs["strict"], (what, gerr)
                    stats["strict_raised"] += 1
                    continue
                if err is not None:
                    assert gerr is not None, (what, "eager raised, compiled answered", err)
                    assert isinstance(gerr, type(err)) or isinstance(err, type(gerr)), (
                        what, err, gerr)
                    continue
                if gerr is not None:
                    raise AssertionError(f"{what}\neager answered, compiled raised "
                                         f"{type(gerr).__name__}: {gerr}") from gerr
                stats["calls"] += 1
                loose = "float16" in c["dtypes"] or "half" in src
                boundary = any(b in src for b in BOUNDARY) and any(
                    d in gen.FLOATS for d in c["dtypes"])
                same(got, want, what, loose, boundary)
                assert _shares(_tup(got), f_args) == _shares(_tup(want), e_args), (
                    what, "results sharing memory with inputs")
                for a, b in zip(f_args, e_args):
                    same(a, b, what + " (an input after the call)", loose, boundary)
                e_leaves = [a for a in e_args if a.requires_grad]
                f_leaves = [a for a in f_args if a.requires_grad]
                if e_leaves:
                    try:
                        gw = _grads(want, e_leaves, k)
                    except RuntimeError as e:
                        with pytest.raises(type(e), match=re.escape(str(e)[:60])):
                            _grads(got, f_leaves, k)
                        continue
                    gg = _grads(got, f_leaves, k)
                    assert (gw is None) == (gg is None), (what, "gradients")
                    if gw is not None:
                        for a, b in zip(gg, gw):
                            assert (a is None) == (b is None), (what, "grad presence")
                            if a is not None:
                                same(a, b, what + " (gradient)", loose, boundary, layout=False)
        return stats
    finally:
        gpujit.jit.set_fusion_strategy(prev)


def _seeds():
    n = int(os.environ.get("GPUJIT_S32_FUZZ", "12"))
    base = int(os.environ.get("GPUJIT_S32_FUZZ_SEED", "0"))
    return [base * 100003 + k for k in range(n)]


@pytest.mark.parametrize("seed", _seeds())
def test_thin_corners_answer_as_eager(seed):
    with_torch = bool(os.environ.get("GPUJIT_S32_TORCH"))
    if with_torch:
        pytest.importorskip("torch")
    run_case(gen.case(seed), with_torch)


SIM = SIM_PRELUDE + r"""
import fusion_gen_s32 as gen
import test_fusion_finds_s32 as t
for seed in {seeds!r}:
    t.run_case(gen.case(seed))
assert set(built) <= {{"sim"}}, set(built)
print("sim kernels built:", len(built))
"""


@pytest.mark.sim
@pytest.mark.skipif(not os.environ.get("GPUJIT_S32_SIM"),
                    reason="the hunt on the simulated CUDA target: GPUJIT_S32_SIM=<n> cases")
def test_thin_corners_on_the_simulated_cuda_target():
    import subprocess
    n = int(os.environ["GPUJIT_S32_SIM"])
    base = int(os.environ.get("GPUJIT_S32_FUZZ_SEED", "0"))
    seeds = [base * 100003 + 50000 + k for k in range(n)]
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    r = subprocess.run([sys.executable, "-c", SIM.format(tests=os.path.dirname(
        os.path.abspath(__file__)), seeds=seeds)], capture_output=True, text=True, env=env,
        timeout=3000)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-8000:]
    print(r.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ found by the above

def _masked_fill_inplace_on_an_intermediate(x):
    t1 = x - 1
    t2 = torch.where(t1 > 0, t1 * 2, -t1)
    t2.masked_fill_(t2 < 0, 0)
    return (t2 > x) & (t2 < 2)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_an_inplace_op_in_a_group_keeps_its_targets_layout(dtype):
    # (seed 300204) a group holding t2.masked_fill_(...) (functionalized into masked_fill,
    # whose own result is contiguous) laid its transposed output out C-contiguous: eager
    # writes into t2, which keeps x's transposed layout, and so do the ops after it
    s = gpujit.jit.script(_masked_fill_inplace_on_an_intermediate)
    x = gpujit.from_numpy(np.arange(12).astype(dtype).reshape(3, 2, 2)).permute(2, 1, 0)
    want = _masked_fill_inplace_on_an_intermediate(x)
    assert want.stride() == (1, 2, 4)              # torch 2.13, eager and scripted
    for _ in range(3):
        got = s(x)
        assert got.stride() == want.stride()
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert "TensorExprGroup_" in str(s.graph_for(x))


def _masked_fill_value(x, s: float):
    y = x + 1
    y.masked_fill_(x > 2, s)
    return torch.masked_fill(y * 2, x < 1, s)


@pytest.mark.parametrize("dtype, bad, ctype", [
    ("uint8", -2.0, "uint8_t"), ("uint8", 255.5, "uint8_t"), ("int8", float("nan"), "int8_t"),
    ("int64", 1e30, "int64_t"), ("float16", -7e4, "c10::Half"), ("float32", 1e40, "float")])
def test_masked_fill_checks_a_float_value_as_torch(dtype, bad, ctype):
    # (seed 100009, against torch) masked_fill's value goes through c10's checked
    # conversion for a float too: gpujit wrapped it (uint8 -2.0 -> 254) or gave inf
    x = gpujit.arange(5).to(getattr(gpujit, dtype))
    msg = f"value cannot be converted to type {re.escape(ctype)} without overflow"
    m = x > 2
    for call in (lambda: x.masked_fill(m, bad), lambda: x.clone().masked_fill_(m, bad),
                 lambda: x.masked_fill(m, gpujit.tensor(bad, dtype=gpujit.float64))):
        with pytest.raises(RuntimeError, match=msg):
            call()
    s = gpujit.jit.script(_masked_fill_value)
    for _ in range(3):
        np.testing.assert_array_equal(s(x, 1.0).numpy(), _masked_fill_value(x, 1.0).numpy())
    with pytest.raises(RuntimeError, match=msg):
        s(x, bad)
    # in range: truncated toward zero (int32 -3.7 -> -3), a negative Python int wraps into
    # uint8 (-1 -> 255), inf into float16
    assert gpujit.zeros(2, dtype=gpujit.int32).masked_fill(gpujit.tensor(True), -3.7).tolist() \
        == [-3, -3]
    assert gpujit.zeros(2, dtype=gpujit.uint8).masked_fill(gpujit.tensor(True), -1).tolist() \
        == [255, 255]
    assert gpujit.zeros(1, dtype=gpujit.float16).masked_fill(
        gpujit.tensor(True), float("inf")).tolist() == [float("inf")]


def _inplace_in_a_strict_region_with_grad(x, s: float, i: int):
    t1 = x * 2
    t2 = x / 2
    t2.masked_fill_(t2 < 0, 0)
    with torch.jit.strict_fusion():
        t4 = i - t2
        t5 = torch.where(t4 > 0, t1, s)
    return t5, t2


def test_a_group_run_op_by_op_keeps_an_inplace_ops_layout():
    # (seed 400117) a call that records gradients ran a group without a runner op by op
    # through its functionalized subgraph: t2.masked_fill_(...) became masked_fill, whose
    # result is contiguous, so t2 (transposed, as x) and t5 came out C-contiguous
    old = gpujit.jit.set_fusion_strategy([("DYNAMIC", 10)])
    try:
        s = gpujit.jit.script(_inplace_in_a_strict_region_with_grad)
        base = np.arange(6.0, dtype=np.float32).reshape(2, 3) - 2
        for grad in (False, True, True, True):
            x = gpujit.from_numpy(base).t().requires_grad_(grad)
            xe = gpujit.from_numpy(base).t().requires_grad_(grad)
            got = s(x, 0.5, 3)
            want = _inplace_in_a_strict_region_with_grad(xe, 0.5, 3)
            for g, w in zip(got, want):
                assert g.stride() == w.stride() == (1, 3)
                np.testing.assert_array_equal(g.detach().numpy(), w.detach().numpy())
            if grad:
                (gx,) = gpujit.autograd.grad((got[0] * 3 + got[1]).sum(), [x])
                (wx,) = gpujit.autograd.grad((want[0] * 3 + want[1]).sum(), [xe])
                np.testing.assert_array_equal(gx.numpy(), wx.numpy())
    finally:
        gpujit.jit.set_fusion_strategy(old)
