"""Random scripted programs (tests/program_fuzz_gen.py) that mix fusion with control flow,
views, aliasing and in-place ops, run as a TorchScript user runs them: gpujit eager (the
source with `torch` = gpujit), gpujit.jit.script over a sequence of calls (the profiling
call, optimized calls, new shapes, a non-contiguous input, another dtype, an Optional
argument given or None: guards and STATIC/DYNAMIC budgets are crossed), gpujit.jit.trace
where the program has no control flow on tensor data, against PyTorch eager and
torch.jit.script of the same source. Values, dtypes, shapes and the inputs that the
program writes in place must agree; where PyTorch raises, gpujit must raise too.

Where gpujit deliberately differs, the checks let it:
- the scripted graph drops a dead op that would raise (an unused `bool_tensor & float_tensor`):
  gpujit's script answers where PyTorch's (and gpujit's eager run) raise;
- where torch.jit.script differs from PyTorch eager (its peephole folds `bool_tensor * 1`
  to the bool tensor), gpujit's script may match either;
- where PyTorch's trace loses an in-place write through an alias (`x.type_as(y).add_(1)`
  of the same dtype), gpujit's trace matches eager;
- an ulp between PyTorch's vectorized tanh/exp and NumPy's may flip an int cast, a floor
  or a comparison at the boundary: integer and bool results may differ by one in 2% of
  their elements;
- gelu(x) for x < -2 in float32 is x * 0.5 * (1 + erf(x / sqrt(2))) after a cancellation:
  PyTorch's vectorized CPU kernel and its scalar tail loop differ by up to 100% there
  (gelu(-5.542): -0.0 in a 16-element tensor, -1.65e-7 alone, as gpujit), and a later
  reciprocal shows it (GPUJIT_PROGRAM_FUZZ_SEED=33003, 150 programs); the generator
  clamps gelu's argument to -2 (at -3 they still differ by 1.3e-4);
- a matrix product's rounding follows its summation order (PyTorch's and gpujit's differ by
  an ulp at times), and sin / trunc of a product of 1e7-sized values shows it (a loop body
  `v = v.relu() * v` squared the values four times: GPUJIT_PROGRAM_FUZZ_SEED=34001,
  tests/test_program_fuzz_s22.py: sin(-9649440) against sin(-9649450)); the loop body clamps;
- x ** e with a tensor e that needs no gradient, then an in-place write to the result:
  PyTorch's PowBackward1 kept the result and raises at backward, gpujit keeps it only for
  e's gradient and answers;
- `v[0] = v` with v of shape [1, n]: eager drops v's leading 1 first (copy_to), TorchScript
  and gpujit's script emit copy_, which refuses the partial overlap; TorchScript's DCE
  drops the write when v is dead afterwards (so does gpujit's since session 34, when v is
  local memory: passes/dce.py; a write into an input's memory stays and raises);
  the same for `v[-1] = w` with w of shape [1, ...] (copy_'s broadcast error; forward);
- gradients where torch.jit.script's differ from eager's (its CSE merges two equal
  `v.pow(-1)`: one backward of the summed gradients, -inf where eager's two give nan at
  v = 0): gpujit's script may match either;
- an in-place write into a piece of split/chunk/unbind while gradients are recorded:
  PyTorch refuses it, gpujit differentiates it (tests/test_autograd_views.py);
- masked_fill_ on an expanded tensor: both write with PyTorch's deprecation warning
  (tests/test_expanded_writes_s21.py); not generated.

GPUJIT_PROGRAM_FUZZ=<n> programs (default 36), GPUJIT_PROGRAM_FUZZ_SEED=<int> for other
programs than the fixed ones, GPUJIT_PROGRAM_FUZZ_SIM=<n> programs on the simulator (6)."""
from __future__ import annotations

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
from program_fuzz_gen import program

torch = pytest.importorskip("torch")

_DIR = tempfile.mkdtemp(prefix="gpujit_program_fuzz_")
sys.path.insert(0, _DIR)
_COUNTER = itertools.count()
_HEAD = "from typing import List, Optional, Tuple\nimport {lib} as torch\n\n\n"


def load(src, lib):
    mod = f"gpujit_program_fuzz_{next(_COUNTER)}"
    with open(f"{_DIR}/{mod}.py", "w") as fh:
        fh.write(_HEAD.format(lib=lib) + src)
    return importlib.import_module(mod).f


def calls_for(seed):
    """The calls a program gets: (A, B, dtype, layout, s, n, with_o, data seed)."""
    r = np.random.default_rng(seed)
    a0, b0 = int(r.integers(2, 6)), int(r.integers(2, 6))
    a1, b1 = int(r.integers(1, 7)), int(r.integers(2, 7))
    s, n = float(r.choice([0.5, -1.5, 2.0])), int(r.integers(1, 4))
    other = str(r.choice(["float64", "float16", "int64", "float64"]))
    o = bool(r.integers(0, 2))
    if r.integers(0, 8) == 0:         # large: the CPU kernels' parallel chunks
        a1 = int(r.choice([1031, 4099]))
    calls = [(a0, b0, "float32", "c", s, n, o, 1), (a0, b0, "float32", "c", s, n, o, 2),
             (a0, b0, "float32", "c", s, n, o, 3), (a1, b1, "float32", "c", s, n, o, 4),
             (a1, b1, "float32", "t", s, n + 1, o, 5), (a0, b0, "float32", "s", -s, n, not o, 6),
             (a0, b0, other, "c", s, n, o, 7), (a1, b1, "float32", "c", s, n, o, 8),
             (a0, b0, "float32", "e", s, n, o, 9), (a0, b0, "float32", "c", s, n, o, 10)]
    return calls


STRATEGIES = [None, [("STATIC", 1), ("DYNAMIC", 1)], [("DYNAMIC", 3)], [("STATIC", 0)]]


def _array(rng, dtype, shape, layout):
    full = tuple(reversed(shape)) if layout == "t" else \
        tuple(2 * s for s in shape) if layout == "s" else shape
    a = rng.standard_normal(full) * 2
    if dtype.startswith("int"):
        a = np.round(a * 2)
    a = np.asarray(a.astype(dtype))
    if layout == "v" and a.size:      # special values (tests/test_program_fuzz_s22.py)
        pool = np.array([2 ** 40, -2 ** 50, 2 ** 62, 0, -1] if dtype.startswith("int") else
                        [np.inf, -np.inf, np.nan, -0.0, 0.0, 1e30]).astype(dtype)
        hit = rng.random(a.shape) < 0.3
        a[hit] = rng.choice(pool, size=int(hit.sum()))
    if layout == "t":
        return a, lambda lib, t: t.permute(*reversed(range(t.ndim)))
    if layout == "s":
        return a, lambda lib, t: t[tuple(slice(None, None, 2) for _ in shape)]
    if layout == "e" and shape:       # stride 0 in the first dim
        return a[:1].copy(), lambda lib, t: t.expand(*shape)
    return a, lambda lib, t: t


def inputs(call, lib):
    """The arguments of a call for lib (torch or gpujit), the same values for both."""
    A, B, dtype, layout, s, n, with_o, seed = call
    rng = np.random.default_rng(seed)
    args = []
    for shape in ((A, B), (A, B), (B,) if layout != "z" else (), (A, B)):
        a, view = _array(rng, dtype, shape, layout)
        args.append(view(lib, lib.from_numpy(a.copy())))
    if not with_o:
        args[3] = None
    return args + [s, n]


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else t.numpy()


def same(got, want, what, tol=None):
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want), (what, got, want)
        for g, w in zip(got, want):
            same(g, w, what, tol)
        return
    if want is None or isinstance(want, (int, float)):
        assert got == want, what
        return
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], (what, got.dtype,
                                                                         want.dtype)
    assert tuple(got.shape) == tuple(want.shape), (what, tuple(got.shape), tuple(want.shape))
    g, w = _np(got), _np(want)
    if w.dtype.kind == "f":
        tol = tol or (1e-2 if w.dtype == np.float16 else 1e-4)
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=tol,
                                   atol=tol, equal_nan=True, err_msg=what)
    elif g.shape != w.shape or g.size == 0:
        np.testing.assert_array_equal(g, w, err_msg=what)
    else:
        # an ulp between PyTorch's vectorized tanh/exp and NumPy's flips a floor, an int
        # cast or a comparison right at the boundary: a few such elements, by one, pass
        off = g.astype(np.int64) - w.astype(np.int64)
        if (np.abs(off) > 1).any() or np.count_nonzero(off) > max(1, g.size // 50):
            np.testing.assert_array_equal(g, w, err_msg=what)


def _shares(t, base):
    if t is None or base is None or not hasattr(t, "shape"):
        return False
    return bool(np.shares_memory(_np(t), _np(base)))


def aliasing(outs, args):
    """Which outputs share memory with which tensor inputs (a view or the input itself)."""
    outs = outs if isinstance(outs, tuple) else (outs,)
    return [[_shares(o, a) for a in args[:4]] for o in outs]


def _run(fn, args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return fn(*args), None
        except Exception as e:        # noqa: BLE001 - compared with the reference's error
            return None, e


def check(src, traceable, calls, *, trace=True, strategy=None):
    """Run src every way; raise AssertionError naming the first difference."""
    t_fn, g_fn = load(src, "torch"), load(src, "gpujit")
    try:
        t_script = torch.jit.script(t_fn)
    except Exception:               # not TorchScript: a generator slip, not a gpujit bug
        return "skip"
    prev = gpujit.jit.set_fusion_strategy(strategy) if strategy else None
    try:
        g_script = gpujit.jit.script(g_fn)
        return _check(src, traceable, calls, trace, t_fn, g_fn, t_script, g_script)
    finally:
        if prev is not None:
            gpujit.jit.set_fusion_strategy(prev)


def _check(src, traceable, calls, trace, t_fn, g_fn, t_script, g_script):
    ran = 0
    for k, call in enumerate(calls):
        what = f"\n{src}\ncall {k}: {call}"
        t_args = inputs(call, torch)
        want, err = _run(t_fn, t_args)
        ts_args = inputs(call, torch)
        want_s, err_s = _run(t_script, ts_args)
        if (err is None) != (err_s is None):    # TorchScript differs from eager: skip
            continue
        if "returns multiple views" in str(err):
            # an in-place write into a piece of split/chunk/unbind with an operand that
            # requires grad (an in-program leaf): PyTorch refuses it, gpujit differentiates
            # it (test_program_fuzz_s22's docstring; mode 3, seed 25011 k3)
            continue
        if "backward through the graph a second time" in str(err):
            # a program whose own second backward runs through `n * v` after the first
            # freed the graph: PyTorch's MulBackward0 saved the number wrapped as a tensor
            # and raises, gpujit saves the number itself and answers
            # (test_program_fuzz_s23's docstring; GPUJIT_PROGRAM_FUZZ_SEED=32010, seed
            # 32010*100003+2301+90)
            continue
        eager_raised = False
        for label, fn in (("eager", g_fn), ("script", g_script)):
            g_args = inputs(call, gpujit)
            got, gerr = _run(fn, g_args)
            if err is not None:
                # the scripted graph drops a dead op that raises (as the docstring says)
                assert gerr is not None or (label == "script" and eager_raised), \
                    f"{label}: torch raised {err!r}, gpujit did not{what}"
                eager_raised = gerr is not None
                continue
            if gerr is not None and label == "script" and "] = " in src and \
                    ("doesn't match the broadcast shape" in str(gerr) or
                     "refer to a single memory location" in str(gerr)):
                # `v[-1] = w` with w of shape [1, ...]: eager drops w's leading 1s
                # (copy_to), TorchScript and gpujit's script emit select + copy_, which
                # refuses them; TorchScript's DCE dropped the write of a dead v (see the
                # docstring; GPUJIT_PROGRAM_FUZZ_SEED=30005, seed 30005*100003+2500111
                # of test_program_fuzz_s25). `v[-1] = v` of a v of shape [1]: copy_'s
                # overlap check refuses it first (v[-1] and v: the same element, other
                # strides), as torch.select(v, 0, -1).copy_(v) does
                # (GPUJIT_PROGRAM_FUZZ_SEED=32008, seed 32008*100003+96101)
                continue
            if gerr is not None:
                raise AssertionError(f"{label}: gpujit raised {gerr!r}{what}") from gerr
            if label == "eager":
                same(got, want, f"{label}{what}")
            else:                 # where TorchScript differs from eager, either will do
                try:
                    same(got, want_s, f"{label}{what}")
                except AssertionError:
                    same(got, want, f"{label}{what}")
            same(g_args, t_args, f"{label} (inputs after the call){what}")
            assert aliasing(got, g_args) == aliasing(want, t_args), \
                f"{label}: outputs alias other inputs than torch's{what}"
        ran += err is None
    if trace and traceable and not _writes_a_literal(src):
        call = calls[0]
        t_args = inputs(call, torch)
        want, err = _run(t_fn, t_args)
        if err is None:
            fixed = inputs(call, gpujit)
            tensors = [a for a in fixed[:3]] + ([fixed[3]] if fixed[3] is not None else [])
            extra = fixed[4:]

            def wrapped(*ts):
                o = ts[3] if len(ts) == 4 else None
                return g_fn(ts[0], ts[1], ts[2], o, *extra)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                traced = gpujit.jit.trace(wrapped, tuple(tensors), check_trace=False)
            for k in range(3):
                g_args = inputs(call, gpujit)
                ts = g_args[:3] + ([g_args[3]] if g_args[3] is not None else [])
                got, gerr = _run(traced, ts)
                if gerr is not None:
                    raise AssertionError(f"trace: gpujit raised {gerr!r}\n{src}") from gerr
                same(got, want, f"trace {k}\n{src}")
                same(g_args, t_args, f"trace {k} (inputs after the call)\n{src}")
            _trace_new_shapes(src, call, calls[3], t_fn, traced)
    return ran


def _writes_a_literal(src) -> bool:
    """Does the program write in place into a tensor it made with torch.tensor(...)? A
    trace keeps that tensor as a constant of its graph, which each call writes again
    (PyTorch's trace as gpujit's: `v = torch.tensor(3); v.logical_not_()` gives 1, 0, 1...
    over the calls), so a trace answers as eager on no particular call
    (GPUJIT_PROGRAM_FUZZ_SEED=30006, mode 6 seed 30006*100003+2700005)."""
    for name in re.findall(r"^\s*(\w+) = torch\.tensor\(", src, re.M):
        if re.search(rf"\b{name}(\[[^\]]*\])?\.\w+_\(", src):
            return True
    return False


def _tensors(args):
    return args[:3] + ([args[3]] if args[3] is not None else [])


def _trace_new_shapes(src, call, new, t_fn, traced):
    """A trace called with other sizes (the same scalars) answers as PyTorch's trace of
    the same program (sizes it read become constants in both, or stay dynamic in both)."""
    new = tuple(new[:2]) + tuple(call[2:7]) + (new[7],)
    t_fixed = inputs(call, torch)
    extra = t_fixed[4:]

    def t_wrapped(*ts):
        return t_fn(ts[0], ts[1], ts[2], ts[3] if len(ts) == 4 else None, *extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            t_traced = torch.jit.trace(t_wrapped, tuple(_tensors(t_fixed)), check_trace=False)
        except Exception:
            return
    t_args = inputs(new, torch)
    want, err = _run(t_traced, _tensors(t_args))
    g_args = inputs(new, gpujit)
    got, gerr = _run(traced, _tensors(g_args))
    if err is not None and gerr is None:
        # PyTorch's trace can fail where its eager answers (a trace recorded
        # `bool_tensor * x.dim()` so that a later `- 1` met a bool tensor on other sizes,
        # seed 2127): gpujit's trace then answers as eager
        e_args = inputs(new, torch)
        want, eerr = _run(t_fn, e_args[:4] + extra)
        assert eerr is None, f"trace on new sizes: torch {err!r}, gpujit answered\n{src}"
        same(got, want, f"trace on new sizes (against eager)\n{src}\ncall {new}")
        return
    if err is None and gerr is not None:
        # PyTorch's trace can answer where its eager raises (an int16 remainder_ by a
        # bool tensor holding False: eager's ZeroDivisionError, the traced graph none;
        # GPUJIT_PROGRAM_FUZZ_SEED=32003, mode 6 seed 32003*100003+2700181): gpujit's
        # trace raises as eager
        e_args = inputs(new, torch)
        _, eerr = _run(t_fn, e_args[:4] + extra)
        if eerr is not None:
            return
    if err is not None or gerr is not None:
        assert err is not None and gerr is not None, \
            f"trace on new sizes: torch {err!r}, gpujit {gerr!r}\n{src}\ncall {new}"
        return
    what = f"trace on new sizes\n{src}\ncall {new}"
    try:
        same(got, want, what)
        same(g_args, t_args, what + " (inputs after the call)")
    except AssertionError:          # PyTorch's trace loses some in-place writes through
        e_args = inputs(new, torch)     # an alias (x.type_as(y).add_(1)): eager decides
        want, _ = _run(t_fn, e_args[:4] + extra)
        same(got, want, what + " (against eager)")
        same(g_args, e_args, what + " (inputs after the call, against eager)")


def _grads(fn, call, lib, need=(True,) * 4):
    """(the loss, the inputs' gradients) of the sum of fn's floating outputs for inputs
    that require grad (those `need` marks); (None, error) where the call raises."""
    args = inputs(call, lib)
    leaves = [a.detach().clone().requires_grad_(r) if a is not None else None
              for a, r in zip(args[:4], need)]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            outs = fn(*leaves, *args[4:])
            outs = outs if isinstance(outs, tuple) else (outs,)
            parts = [o.double().sum() for o in outs
                     if o.dtype in (lib.float16, lib.float32, lib.float64) and o.requires_grad]
            if not parts:
                return None, None
            loss = parts[0]
            for p in parts[1:]:
                loss = loss + p
            loss.backward()
        except Exception as e:     # noqa: BLE001 - compared with the reference's error
            return None, e
    return loss, [None if a is None or a.grad is None else a.grad for a in leaves]


def _torchscript_raises(t_fn, call, need=(True,) * 4) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            scripted = torch.jit.script(t_fn)
        except Exception:          # noqa: BLE001 - not scriptable by torch: no verdict
            return False
    return _grads(scripted, call, torch, need)[0] is None and \
        _grads(scripted, call, torch, need)[1] is not None


def check_grads(src, calls, strategy=None, need=(True,) * 4):
    """The gradients of a program's floating outputs through gpujit eager and scripted
    (profiling and optimized calls) against PyTorch eager's; the inputs `need` marks
    require grad."""
    t_fn, g_fn = load(src, "torch"), load(src, "gpujit")
    prev = gpujit.jit.set_fusion_strategy(strategy) if strategy else None
    try:
        g_script = gpujit.jit.script(g_fn)
        for k, call in enumerate(calls):
            if call[2] != "float32":
                continue
            want, werr = _grads(t_fn, call, torch, need)
            for label, fn in (("eager", g_fn), ("script", g_script)):
                got, gerr = _grads(fn, call, gpujit, need)
                what = f"grad {label}\n{src}\ncall {k}: {call}"
                if want is None:          # torch raised (werr) or nothing to differentiate
                    # (gpujit differentiates writes into chunk's pieces: test_autograd_views)
                    if werr is not None and label == "eager" and \
                            "returns multiple views" not in str(werr):
                        assert gerr is not None, f"torch raised {werr!r}, gpujit did not{what}"
                    continue
                if got is None and label == "script" and (
                        "refer to a single memory location" in str(gerr)
                        or _torchscript_raises(t_fn, call, need)):
                    continue        # (see the module docstring: `v[0] = v`)
                assert got is not None, f"gpujit: {gerr!r}{what}"
                # (float16 steps in the chain: PyTorch's half backward rounds elsewhere)
                tol = 5e-3 if "half" in src or "float16" in src else None
                try:
                    same(got, want, what + " (loss)", tol)
                    same(gerr, werr, what + " (gradients)", tol)
                except AssertionError:
                    if label == "eager":
                        raise
                    # where torch.jit.script differs from eager (its CSE merges two equal
                    # pow nodes: one backward of the summed gradients, inf where eager's
                    # two give nan), gpujit's script may match it
                    ts_want, ts_werr = _grads(torch.jit.script(t_fn), call, torch, need)
                    same(got, ts_want, what + " (loss, against torch.jit.script)", tol)
                    same(gerr, ts_werr, what + " (gradients, against torch.jit.script)", tol)
    finally:
        if prev is not None:
            gpujit.jit.set_fusion_strategy(prev)


_N = int(os.environ.get("GPUJIT_PROGRAM_FUZZ", "36"))
_SEED = int(os.environ.get("GPUJIT_PROGRAM_FUZZ_SEED", "0"))


@pytest.mark.parametrize("chunk", range(4))
def test_random_programs_match_pytorch_and_torchscript(chunk):
    for k in range(chunk, _N, 4):
        seed = _SEED * 100003 + k
        src, traceable = program(seed)
        check(src, traceable, calls_for(seed), strategy=STRATEGIES[k % len(STRATEGIES)])


def test_random_programs_gradients_match_pytorch():
    for k in range(_N // 3):
        seed = _SEED * 100003 + 50000 + k
        src, _ = program(seed)
        check_grads(src, calls_for(seed)[:6], strategy=STRATEGIES[k % len(STRATEGIES)])


# ------------------------------------------------------------------ found by the above

def _cast_alias(x, y):
    v = x.select(0, -1).type_as(y)      # the same dtype: v is x's row itself
    w = x.float()
    return v * 2, v, w + 1, w


def test_a_cast_that_returns_its_input_stays_an_alias_when_also_fused():
    # (seed 2070) x.type_as(y) / x.float() of the same dtype hand back x itself; the
    # fuser put the cast in the group of its reader and returned the group's copy, so from
    # the optimized call on a caller's in-place write to the result missed x (TorchScript
    # keeps the alias). The group now gets a copy of the cast of its own.
    f = gpujit.jit.script(_cast_alias)
    for k in range(4):
        x, y = gpujit.ones(3, 3), gpujit.ones(3)
        a, v, b, w = f(x, y)
        v.add_(1)
        w.mul_(2)
        assert x.tolist() == [[2.0] * 3, [2.0] * 3, [4.0] * 3], k
        assert a.tolist() == [2.0] * 3 and b.tolist() == [[2.0] * 3] * 3, k


def _cast_of_a_result(x):
    a = x * 2
    b = a.float()                       # a float already: b is a
    return a, b + 1, b


def test_a_cast_that_returns_a_fused_result_returns_the_same_tensor():
    # the cast merged into its input's group returned a second tensor: b.add_(1) missed a
    f = gpujit.jit.script(_cast_of_a_result)
    for k in range(4):
        a, c, b = f(gpujit.ones(3))
        b.add_(1)
        assert a.tolist() == [3.0] * 3 and c.tolist() == [3.0] * 3, k
    g = str(f.graph_for(gpujit.ones(3))).split("\nwith ")[0]
    assert g.count("= prim::TensorExprGroup_") == 1, g      # a * 2 and b + 1 still fuse


def _fill_column(x, s: float):
    x[:, 0] = s
    return x


def _fill_all(x, s: float):
    x[...] = s
    return x


@pytest.mark.parametrize("fn", [_fill_column, _fill_all])
def test_storing_a_number_into_a_view_with_shared_elements_raises(fn):
    # (seed 2049) PyTorch stores a number by copy_ of a 0-dim tensor (TorchScript:
    # aten::tensor + aten::copy_), which refuses a written view whose elements share
    # memory; gpujit called fill_ (which lets it through) and wrote
    for f in (fn, gpujit.jit.script(fn)):
        for _ in range(3):
            with pytest.raises(RuntimeError, match="more than one element of the written-to"):
                f(gpujit.zeros(1, 3).expand(2, 3), 2.0)
        x = gpujit.zeros(2, 3)
        assert f(x, 2.0) is x and float(x.sum()) == (4.0 if fn is _fill_column else 12.0)
    x = gpujit.zeros(1, 3).expand(2, 3)
    x[0] = 1.0                          # a row of it does not overlap itself
    x[:, 0].fill_(2.0)                  # fill_ lets it through (as PyTorch)
    assert x.tolist() == [[2.0, 1.0, 1.0]] * 2


_SIM_SCRIPT = r"""
import test_program_fuzz_s20 as T
from program_fuzz_gen import program

done = 0
for k in range({n}):
    seed = {seed} * 100003 + 7919 + k
    src, traceable = program(seed, max_stmts=6)
    calls = [(min(c[0], 4), min(c[1], 4)) + c[2:] for c in T.calls_for(seed)[:6]]
    if T.check(src, traceable, calls, trace=False) != "skip":
        done += 1
assert SIM_KERNELS, "no group ran on the simulated CUDA target"
print(f"simulator programs: {{done}} programs, {{len(SIM_KERNELS)}} kernels passed")
"""


@pytest.mark.sim
def test_random_programs_on_the_simulated_cuda_target():
    # the same programs with every fusion group on the CUDA code generator's target under
    # numba's simulator (tests/test_fusion_sim_fuzz.py's set-up), tiny sizes
    from test_fusion_sim_fuzz import PRELUDE, run_sim
    from test_kernels import session_cache_dir
    n = int(os.environ.get("GPUJIT_PROGRAM_FUZZ_SIM", "6"))
    out = run_sim(PRELUDE.format(tests=os.path.dirname(__file__))
                  + _SIM_SCRIPT.format(n=n, seed=_SEED), session_cache_dir())
    assert "kernels passed" in out
    print(out.strip())


def _numel_scaled(x, y):
    return x * y.numel() - y.shape.numel() // 2


def test_a_trace_follows_numel_to_other_sizes():
    # (seed 7064) x.numel() read while tracing was a plain int, a constant in the graph:
    # called with other sizes the trace multiplied by the traced input's numel; PyTorch's
    # tracer records aten::numel
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = gpujit.jit.trace(_numel_scaled, (gpujit.ones(2, 3), gpujit.ones(3)))
    assert t(gpujit.ones(2, 5), gpujit.ones(5)).tolist() == [[3.0] * 5] * 2
    assert "aten::numel" in str(t.graph)


def test_storing_a_tensor_drops_its_leading_one_dims_as_pytorch():
    # (seed 10468) x[0] = v with v of shape [1] into the 0-dim x[0]: PyTorch views v
    # without its leading 1-dims before copy_ (copy_to); gpujit's copy_ refused [1] -> []
    x = gpujit.zeros(3)
    x[0] = gpujit.ones(1)
    y = gpujit.zeros(2, 3)
    y[:, 1:] = gpujit.ones(1, 1, 2)
    y[0] = gpujit.arange(3.0).view(1, 3)
    assert x.tolist() == [1.0, 0.0, 0.0]
    assert y.tolist() == [[0.0, 1.0, 2.0], [0.0, 1.0, 1.0]]


def _unused_output(x1, x2, s: float):
    v3 = torch_min(x2)
    if bool((x2 > 1).any()):
        v3.mul_(s)
    v6 = x1.half().float() + 0
    return v6, (x2 > 0).half()


def torch_min(x2):
    return gpujit.minimum(gpujit.clamp(x2, -1.0, 2.0) ** 2, x2.narrow(0, 1, 1))


def test_an_input_that_reaches_no_used_output_of_a_fused_group_gets_no_gradient():
    # (seed 20030, gradients) x2 only reaches v3, which the loss never reads: PyTorch
    # leaves x2.grad None; the fused group's backward (v3 and v6 in one group) got a zero
    # gradient for v3 from the engine and gave x2 a zero gradient (an optimizer then
    # decays or steps a parameter that took no part)
    f = gpujit.jit.script(_unused_output)
    for k in range(4):
        x1 = gpujit.ones(5, 3, requires_grad=True)
        x2 = gpujit.tensor([2.0, 0.5, 0.3], requires_grad=True)
        v6, _ = f(x1, x2, -1.5)
        v6.sum().backward()
        assert x1.grad is not None and float(x1.grad.sum()) == 15.0, k
        assert x2.grad is None, (k, x2.grad)


@pytest.mark.parametrize("view", [lambda t: t[::2], lambda t: t[1:], lambda t: t[0],
                                  lambda t: t.narrow(1, 1, 2), lambda t: t.select(1, -1)])
def test_writing_through_a_view_what_was_computed_from_it_keeps_the_backward(view):
    # (seed 30039, gradients) v = y[::2]; v.copy_(v * 0.5 + 1): the backward of the first
    # y[::2] saved y itself (slice/select/narrow read only its shape), and the write
    # through the view bumped y's version: backward raised "modified by an inplace
    # operation" where PyTorch (SliceBackward0 keeps sizes) answers
    got = []
    for lib in (gpujit, torch):
        x = lib.ones(3, 5, requires_grad=True)
        y = x * 2
        v = view(y)
        v.copy_(v * 0.5 + 1)
        (y * y).sum().backward()
        got.append(x.grad.tolist())
    assert got[0] == got[1]


def test_writing_into_a_power_keeps_the_base_gradient():
    # (seed 30228, gradients) y = x ** 2; y.add_(1): pow's backward kept its result for
    # the exponent's gradient even with a number exponent, so backward raised "modified
    # by an inplace operation" (PyTorch's PowBackward0 keeps self only)
    for lib in (gpujit, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x[::2].half() ** 2
        y.add_(1)
        (y * y).sum().backward()
        assert x.grad.tolist() == [8.0, 0.0, 120.0], lib
