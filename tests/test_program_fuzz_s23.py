"""Random scripted programs of the generator's third mode (tests/program_fuzz_gen_c.py:
views of inputs and locals, in-place writes through views and bases, detach/detach_,
clone/contiguous, a requires_grad subset of the inputs, in-program leaves with
torch.autograd.grad and backward()) run as test_program_fuzz_s20 runs the first mode's
(values, the inputs written, aliasing, trace; no gradients), then with the subset of the
inputs requiring grad: gpujit eager against PyTorch eager and gpujit.jit.script (over a
sequence of calls) against torch.jit.script of the same source (or PyTorch eager where
TorchScript differs from it). The outputs' values and requires_grad, the inputs' version
counters, the gradients of the sum of the floating outputs, and the errors (forward or
backward; the gist of PyTorch's message: "modified by an inplace operation", "a leaf
Variable that requires grad", "a view of a leaf Variable"...) must agree.

Where gpujit deliberately differs, the checks let it (besides test_program_fuzz_s20's and
test_program_fuzz_s22's lists):
- an in-place write into a piece of split/chunk/unbind (or a view of one) while gradients
  are recorded: PyTorch refuses it (CreationMeta::MULTI_OUTPUT_NODE), gpujit
  differentiates it (tests/test_autograd_views.py);
- a second backward through `x * 0.5` (or `x / 2`) after the graph was freed: PyTorch's
  MulBackward0 saved the number wrapped as a tensor and raises "backward through the graph
  a second time"; gpujit saves the number itself (nothing freed) and answers, as both do
  for `x + 1`;
- a view taken before its base required grad, written in place after an in-place op
  gave the base a grad_fn and before anything read the view's grad_fn: PyTorch's
  check_inplace sees the view's stale (empty) grad_fn and refuses it as "a leaf Variable
  that requires grad" (reading v.grad_fn or v.is_leaf first makes it pass); gpujit writes
  it (tests/test_program_fuzz_s23.py::test_a_view_follows_its_base_s_grad_fn). Programs
  that write no leaf skip a call PyTorch refuses so;
- both raise, one "modified by an inplace operation", the other "backward through the
  graph a second time" (or PyTorch's "saved tensor that has been detached in-place", which
  gpujit reports as modified): which saved tensor a backward meets first follows the order
  the engine runs its nodes in;
- the scripted graph drops dead ops (test_program_fuzz_s20's list), TorchScript's DCE also
  dead in-place writes into locals (an unused `v4[i] = s` into a view of a leaf that
  requires grad; gpujit keeps them): where eager raises and torch.jit.script does
  something else, gpujit's script need only raise;
- version numbers are compared between the eager runs only (TorchScript's and gpujit's
  graphs may drop or merge writes' bookkeeping differently).

Minimised programs it found are in tests/test_program_fuzz_s23b.py.

GPUJIT_PROGRAM_FUZZ=<n> programs (default 36), GPUJIT_PROGRAM_FUZZ_SEED=<int> for other
programs than the fixed ones (seeds 2301 + k)."""
from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import gpujit
from program_fuzz_gen_c import program_c

torch = pytest.importorskip("torch")

from test_program_fuzz_s20 import STRATEGIES, check, inputs, load, same  # noqa: E402

GISTS = ["modified by an inplace operation", "a view of a leaf Variable",
         "a leaf Variable that requires grad", "more than one element of the written-to",
         "refer to a single memory location", "does not require grad",
         "backward through the graph a second time", "detach views in-place",
         "returns multiple views", "out of bounds", "is not a view of", "view size is not",
         "detached in-place"]


def gist(e):
    if e is None:
        return None
    m = str(e)
    for g in GISTS:
        if g in m:
            return g
    return "error"


def calls_for_c(seed):
    """The calls a program gets: (A, B, dtype, layout, s, n, with_o, data seed)."""
    r = np.random.default_rng(seed)
    a0, b0 = int(r.integers(2, 6)), int(r.integers(2, 6))
    a1, b1 = int(r.integers(2, 7)), int(r.integers(2, 7))
    s, n = float(r.choice([0.5, -1.5, 2.0])), int(r.integers(1, 4))
    o = bool(r.integers(0, 2))
    return [(a0, b0, "float32", "c", s, n, o, 1), (a0, b0, "float32", "c", s, n, o, 2),
            (a0, b0, "float32", "c", s, n, o, 3), (a1, b1, "float32", "t", s, n, o, 4),
            (a0, b0, "float32", "s", -s, n, not o, 5), (a1, 1, "float32", "c", s, n, o, 6),
            (a0, b0, "float64", "c", s, n, o, 7), (a0, b0, "float32", "e", s, n, o, 8),
            (a0, b0, "float32", "c", s, n, o, 9)]


def run_grad(fn, call, lib, need):
    """What a call with the `need` inputs requiring grad gives: a dict of the forward's
    error gist or outputs (detached), their requires_grad, the inputs' versions and
    values, then the backward's error gist or the inputs' gradients."""
    args = inputs(call, lib)
    leaves = [a.detach().clone().requires_grad_(r) if a is not None else None
              for a, r in zip(args[:4], need)]
    res = {}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            outs = fn(*leaves, *args[4:])
        except Exception as e:     # noqa: BLE001 - compared with the reference's error
            res["forward"] = gist(e)
            res["error"] = e
            return res
        outs = outs if isinstance(outs, tuple) else (outs,)
        res["outs"] = tuple(o.detach().clone() if hasattr(o, "detach") else o for o in outs)
        res["requires_grad"] = [getattr(o, "requires_grad", None) for o in outs]
        res["versions"] = [None if a is None else a._version for a in leaves]
        res["inputs"] = [None if a is None else a.detach().clone() for a in leaves]
        try:
            # (reading an output's grad_fn may raise: torch's refusal of a multi-output
            # view whose base a requires-grad value was written into, seed
            # 31009*100003+2301+352: the refusal check_grads_c skips)
            parts = [o.double().sum() for o in outs if hasattr(o, "requires_grad")
                     and o.dtype in (lib.float16, lib.float32, lib.float64) and o.requires_grad]
        except Exception as e:     # noqa: BLE001
            res["backward"] = gist(e)
            res["error"] = e
            return res
        if parts:
            try:
                loss = parts[0]
                for p in parts[1:]:
                    loss = loss + p
                loss.backward()
            except Exception as e:     # noqa: BLE001
                res["backward"] = gist(e)
                res["error"] = e
                return res
        res["grads"] = [None if a is None or a.grad is None else a.grad for a in leaves]
    return res


_GRAPH_ERRORS = {"modified by an inplace operation", "backward through the graph a second time",
                 "detached in-place"}


def compare(got, want, what, versions=True, tol=None):
    for when in ("forward", "backward"):
        if {got.get(when), want.get(when)} <= _GRAPH_ERRORS and when in got and when in want:
            return      # (see the module docstring: which node a backward meets first)
    if want.get("forward") == "backward through the graph a second time" and \
            "forward" not in got:
        return          # (the same in the program's own backward: seed 32010*100003+2391)
    if "forward" in want or "forward" in got:
        assert got.get("forward") == want.get("forward"), \
            f"forward: gpujit {got.get('error')!r}, torch {want.get('error')!r}{what}"
        return
    same(got["outs"], want["outs"], what + " (outputs)", tol)
    assert got["requires_grad"] == want["requires_grad"], \
        (what + " (requires_grad)", got["requires_grad"], want["requires_grad"])
    same(got["inputs"], want["inputs"], what + " (inputs after the call)")
    if versions:
        assert got["versions"] == want["versions"], \
            (what + " (input versions)", got["versions"], want["versions"])
    if want.get("backward") == "backward through the graph a second time" and \
            "backward" not in got:
        return          # (see the module docstring: x * 0.5 saves a wrapped number)
    if "backward" in want or "backward" in got:
        assert got.get("backward") == want.get("backward"), \
            f"backward: gpujit {got.get('error')!r}, torch {want.get('error')!r}{what}"
        return
    same(got["grads"], want["grads"], what + " (gradients)", tol)


def _multi_output_refusal(res):
    return "returns multiple views" in str(res.get("error", ""))


def check_grads_c(src, need, calls, strategy=None, leaf_writes=True):
    t_fn, g_fn = load(src, "torch"), load(src, "gpujit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            t_script = torch.jit.script(t_fn)
        except Exception:          # noqa: BLE001 - not TorchScript: a generator slip
            return "skip"
    prev = gpujit.jit.set_fusion_strategy(strategy) if strategy else None
    try:
        g_script = gpujit.jit.script(g_fn)
        # (float16 steps in the chain: PyTorch's half backward rounds elsewhere)
        tol = 5e-3 if "half" in src or "float16" in src else None
        for k, call in enumerate(calls):
            what = f"\n{src}\nneed {need}\ncall {k}: {call}"
            want = run_grad(t_fn, call, torch, need)
            if _multi_output_refusal(want):     # (see the module docstring)
                continue
            if not leaf_writes and want.get("forward") == "a leaf Variable that requires grad":
                continue        # (see the module docstring: a view's stale grad_fn)
            got = run_grad(g_fn, call, gpujit, need)
            compare(got, want, "eager" + what, tol=tol)
            want_s = run_grad(t_script, call, torch, need)
            if _multi_output_refusal(want_s):
                continue
            got_s = run_grad(g_script, call, gpujit, need)
            if "forward" in want and "forward" in got and "forward" not in got_s:
                # the scripted graph drops a dead op that raises (test_program_fuzz_s20's
                # docstring; check() lets it too): x0.type_as(x2.unfold(0, 2, 1)) reads
                # only the unfold's dtype, gpujit's optimized graph drops the unfold and
                # answers for an x2 too short to unfold (seed 30002*100003+2301+73)
                continue
            try:
                compare(got_s, want_s, "script" + what, versions=False, tol=tol)
            except AssertionError:
                if "forward" in got_s and "forward" in want and \
                        want_s.get("forward") != want.get("forward"):
                    continue    # (see the module docstring: dead ops that raise)
                compare(got_s, want, "script (against eager)" + what, versions=False, tol=tol)
    finally:
        if prev is not None:
            gpujit.jit.set_fusion_strategy(prev)


_N = int(os.environ.get("GPUJIT_PROGRAM_FUZZ", "36"))
_SEED = int(os.environ.get("GPUJIT_PROGRAM_FUZZ_SEED", "0"))


@pytest.mark.parametrize("chunk", range(2))
def test_random_programs_c_match_pytorch_and_torchscript(chunk):
    for k in range(chunk, _N // 2, 2):
        seed = _SEED * 100003 + 2301 + k
        src, traceable, _, _ = program_c(seed)
        check(src, traceable, calls_for_c(seed), strategy=STRATEGIES[k % len(STRATEGIES)])


@pytest.mark.parametrize("chunk", range(2))
def test_random_programs_c_gradients_and_errors_match_pytorch(chunk):
    for k in range(chunk, _N, 2):
        seed = _SEED * 100003 + 2301 + k
        src, _, need, leaf_writes = program_c(seed)
        check_grads_c(src, need, calls_for_c(seed)[:6], strategy=STRATEGIES[k % len(STRATEGIES)],
                      leaf_writes=leaf_writes)
