"""Random nn.Module programs of the generator's fourth mode (tests/program_fuzz_gen_d.py:
Linear/Conv/BatchNorm/LayerNorm/GroupNorm/Embedding/Dropout/activations/pooling in
Sequential, ModuleList and ModuleDict containers, residual adds, cat/chunk, buffers, plain
tensor and scalar attributes, Final constants, attribute flags, helper and exported methods,
an Optional mask argument, tuple and dict outputs), each built in PyTorch and in gpujit with
the same parameters (PyTorch's state_dict loaded into gpujit's module through NumPy), then:

- state_dict keys, shapes and values equal PyTorch's (eager and scripted module);
- gpujit eager against PyTorch eager, gpujit.jit.script(m) against torch.jit.script(m)
  (PyTorch eager where TorchScript refuses the program), gpujit.jit.trace against
  torch.jit.trace (traced in eval mode for eval calls, in train mode for training): eval
  calls at two batch sizes (with and without the mask), the exported method, a train-mode
  call (running statistics compared), three training steps (SGD with momentum or Adam;
  loss out.square().mean() or cross_entropy) comparing the loss, the parameters and the
  buffers after each step, and an eval call after training;
- gpujit.jit.save / gpujit.jit.load through io.BytesIO: the loaded module gives the
  scripted module's outputs, exported methods and state_dict;
- the module converted to float64 (.double(), eager and scripted after float32 calls)
  against PyTorch's.

Programs with a dropout of p > 0 compare eval-mode calls only (the RNG streams differ),
and train there in eval mode. Adam runs with eps=1e-3: a parameter whose gradient is zero
up to rounding (a bias before a BatchNorm) would otherwise move by +-lr on either side.

Where gpujit deliberately differs (not counted):
- a training step that raises "modified by an inplace operation" in PyTorch eager (a
  softmax's or sigmoid's result written by ReLU(inplace=True)) may answer in
  torch.jit.script/trace from the second call (TorchScript's differentiable graph checks
  other saved values); gpujit's scripted and traced modules raise as eager does. The other
  way round (eager answers, TorchScript's differentiable graph raises: it saves a
  leaky_relu's result, eager its input), gpujit answers as eager; the comparison stops
  there (the two modules then differ).

Minimised programs it found are in tests/test_fuzz_finds_s24_d.py.

GPUJIT_PROGRAM_FUZZ=<n> programs (default 24), GPUJIT_PROGRAM_FUZZ_SEED=<int> for other
programs than the fixed ones (seeds 2401 + k)."""
from __future__ import annotations

import copy
import importlib
import io
import itertools
import os
import sys
import tempfile
import warnings

import numpy as np
import pytest

import gpujit
from program_fuzz_gen_d import HEAD, program_d

torch = pytest.importorskip("torch")

_DIR = tempfile.mkdtemp(prefix="gpujit_module_fuzz_")
sys.path.insert(0, _DIR)
_COUNTER = itertools.count()
TOL = 1e-4


def load(src, lib):
    mod = f"gpujit_module_fuzz_{next(_COUNTER)}"
    with open(f"{_DIR}/{mod}.py", "w") as fh:
        fh.write(HEAD.format(lib=lib) + src)
    importlib.invalidate_caches()
    return importlib.import_module(mod).M


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def to_np(out):
    if isinstance(out, (tuple, list)):
        return tuple(to_np(o) for o in out)
    if isinstance(out, dict):
        return {k: to_np(v) for k, v in out.items()}
    return _np(out)


def same(got, want, what, tol=TOL):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), (what, got, want)
        for g, w in zip(got, want):
            same(g, w, what, tol)
        return
    if isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want), (what, got, want)
        for k in want:
            same(got[k], want[k], f"{what} [{k!r}]", tol)
        return
    assert got.dtype == want.dtype, (what, got.dtype, want.dtype)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    if want.dtype.kind == "f":
        # (absolute tolerance on the array's scale: after training, an output row of
        # large values cancels to a small one; a sum of normalized values cancels)
        scale = float(np.abs(want).max(initial=1.0)) if np.isfinite(want).all() else 1.0
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(scale, 1.0),
                                   err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def state_np(sd):
    return {k: _np(v) for k, v in sd.items()}


def same_state(g_sd, t_sd, what, values=True):
    g, t = state_np(g_sd), state_np(t_sd)
    assert list(g) == list(t), (what + " (state_dict keys)", list(g), list(t))
    for k in t:
        assert g[k].shape == t[k].shape, (what + f" (state_dict {k} shape)", g[k].shape,
                                          t[k].shape)
        if values:
            same(g[k], t[k], what + f" (state_dict {k})")


def to_gpujit_state(sd):
    return {k: gpujit.from_numpy(_np(v).copy()) for k, v in sd.items()}


def make_inputs(p, batch, seed, dtype="float32", mask=False):
    rng = np.random.default_rng(seed)
    if p.kind == "t":
        x = rng.integers(0, p.vocab, (batch,) + p.shape).astype(np.int64)
    else:
        x = rng.standard_normal((batch,) + p.shape).astype(dtype)
    m = (rng.random((batch,) + p.shape) < 0.7).astype(dtype) if mask else None
    return x, m


def call(m, lib, x, mask):
    args = [lib.from_numpy(x.copy())]
    if mask is not None:
        args.append(lib.from_numpy(mask.copy()))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return m(*args)
    except Exception as e:          # noqa: BLE001 - compared with the reference's error
        return e


def check_call(g, t, x, mask, what, method=None):
    got = call(getattr(g, method) if method else g, gpujit, x, mask)
    want = call(getattr(t, method) if method else t, torch, x, mask)
    if isinstance(want, Exception) or isinstance(got, Exception):
        assert type(got).__name__ == type(want).__name__, (what, got, want)
        return None
    same(to_np(got), to_np(want), what)
    return to_np(got)


def _main_and_aux(out):
    if isinstance(out, tuple):
        return out[0], list(out[1:])
    if isinstance(out, dict):
        return out["out"], [v for k, v in out.items() if k != "out"]
    return out, []


def loss_of(out, lib, ce, target):
    main, aux = _main_and_aux(out)
    if ce:
        loss = lib.nn.functional.cross_entropy(main, lib.from_numpy(target.copy()))
    else:
        loss = main.square().mean()
    for a in aux:
        loss = loss + 0.1 * a.square().mean()
    return loss


def optimizer(lib, params, opt):
    if opt == "sgd":
        return lib.optim.SGD(params, lr=0.05, momentum=0.9)
    return lib.optim.Adam(params, lr=0.01, eps=1e-3)


def _gist(e):
    return f"{type(e).__name__}: {str(e).split(':')[0]}"


_DIVERGED = "(the reference raised, gpujit answered as PyTorch eager)"


def train_steps(g, t, p, seed, what, train, accept=None):
    """Three training steps of g and t; returns the gist of the error both raised (None).
    accept: the gist of the error PyTorch eager raised for this program; gpujit's scripted
    or traced module may raise it where TorchScript's differentiable graph (from the second
    call) does not check what eager autograd checks (a softmax's result written in place
    by ReLU(inplace=True)); "" when eager PyTorch answered: then gpujit answers where
    TorchScript's differentiable graph may raise (it saves a leaky_relu's result, which
    ReLU(inplace=True) then writes; eager saves its input)."""
    rng = np.random.default_rng(seed)
    opt = ["sgd", "adam"][seed % 2]
    ce = p.classes >= 2 and seed % 3 == 0
    og, ot = optimizer(gpujit, list(g.parameters()), opt), optimizer(torch, list(t.parameters()), opt)
    for mod in (g, t):
        mod.train(train)
    for step in range(3):
        x, _ = make_inputs(p, 4, 100 + step)
        target = rng.integers(0, max(p.classes, 1), (4,)).astype(np.int64)
        w = f"{what} (training step {step}, {opt}{', cross_entropy' if ce else ''})"
        losses = []
        for mod, lib, o in ((g, gpujit, og), (t, torch, ot)):
            o.zero_grad()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    loss = loss_of(mod(lib.from_numpy(x.copy())), lib, ce, target)
                    loss.backward()
            except Exception as e:      # noqa: BLE001 - compared with the reference's
                losses.append(e)
                continue
            o.step()
            losses.append(_np(loss.detach()))
        if any(isinstance(v, Exception) for v in losses):
            gists = [_gist(v) if isinstance(v, Exception) else None for v in losses]
            if gists[0] is not None and gists[0] == accept:
                return accept
            if accept == "" and gists[0] is None:
                return _DIVERGED    # (TorchScript's graph raised, PyTorch eager answered)
            assert gists[0] == gists[1], (w, *losses)
            return gists[0]
        same(losses[0], losses[1], w + " loss")
        gp = {k: _np(v) for k, v in g.named_parameters()}
        tp = {k: _np(v) for k, v in t.named_parameters()}
        assert list(gp) == list(tp), (w, list(gp), list(tp))
        for k in tp:
            same(gp[k], tp[k], f"{w} parameter {k}")
        gb = {k: _np(v) for k, v in g.named_buffers()}
        tb = {k: _np(v) for k, v in t.named_buffers()}
        assert list(gb) == list(tb), (w, list(gb), list(tb))
        for k in tb:
            same(gb[k], tb[k], f"{w} buffer {k}")


def sequence(g, t, p, seed, what, *, modes=("eval", "train"), exports=True, accept=None):
    if "eval" in modes:
        g.eval()
        t.eval()
        check_call(g, t, *make_inputs(p, 3, 1), what + " eval call 0")
        check_call(g, t, *make_inputs(p, 3, 2, mask=p.mask), what + " eval call 1")
        check_call(g, t, *make_inputs(p, 5, 3), what + " eval call 2 (new batch size)")
        if exports:
            for name in p.exports:
                check_call(g, t, *make_inputs(p, 3, 4, mask=p.mask), what + f" {name}()",
                           method=name)
    train = "train" in modes and not p.dropout
    if train:
        g.train()
        t.train()
        check_call(g, t, *make_inputs(p, 4, 5, mask=p.mask), what + " train call")
        same_state(g.state_dict(), t.state_dict(), what + " after a train call")
    err = None
    if "train" in modes:
        err = train_steps(g, t, p, seed, what, train, accept)
    if "eval" in modes and err is None:
        g.eval()
        t.eval()
        check_call(g, t, *make_inputs(p, 2, 6), what + " eval call after training")
    return err


def check_program(seed):
    p = program_d(seed)
    src = f"\nseed {seed}\n{p.src}"
    TM, GM = load(p.src, "torch"), load(p.src, "gpujit")
    torch.manual_seed(seed)
    t0 = TM()
    sd = t0.state_dict()

    def pair():
        t = copy.deepcopy(t0)
        g = GM()
        g.load_state_dict(to_gpujit_state(sd))
        return g, t

    # eager
    g, t = pair()
    same_state(g.state_dict(), t.state_dict(), "eager" + src)
    eager_err = sequence(g, t, p, seed, "eager" + src) or ""
    # script, then save/load
    g, t = pair()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ts = torch.jit.script(t)
    except Exception:               # noqa: BLE001 - not TorchScript: compare with eager
        ts = None
    gs = gpujit.jit.script(g)
    same_state(gs.state_dict(), t.state_dict(), "script" + src)
    s_ref = ts if ts is not None else t     # (trained with gs: the float64 check's too)
    s_err = sequence(gs, s_ref, p, seed, "script" + src, accept=eager_err)
    buf = io.BytesIO()
    gpujit.jit.save(gs, buf)
    buf.seek(0)
    gl = gpujit.jit.load(buf)
    gs.eval()
    gl.eval()
    for k, (batch, mask) in enumerate(((3, False), (4, p.mask))):
        x, m = make_inputs(p, batch, 20 + k, mask=mask)
        want = call(gs, gpujit, x, m)
        got = call(gl, gpujit, x, m)
        assert not isinstance(want, Exception), ("script" + src, want)
        assert not isinstance(got, Exception), ("loaded" + src, got)
        same(to_np(got), to_np(want), "loaded" + src)
        for name in p.exports:
            same(to_np(call(getattr(gl, name), gpujit, x, m)),
                 to_np(call(getattr(gs, name), gpujit, x, m)), f"loaded {name}()" + src)
    same_state(gl.state_dict(), gs.state_dict(), "loaded" + src)
    # trace: in eval mode for eval calls, in train mode for training
    for mode in ("eval", "train"):
        if mode == "train" and p.dropout:
            continue
        g, t = pair()
        g.train(mode == "train")
        t.train(mode == "train")
        x, _ = make_inputs(p, 3, 30)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                tt = torch.jit.trace(t, (torch.from_numpy(x.copy()),), strict=False,
                                     check_trace=False)
            except Exception:       # noqa: BLE001 - PyTorch does not trace it
                continue
            gt = gpujit.jit.trace(g, (gpujit.from_numpy(x.copy()),), strict=False,
                                  check_trace=False)
        p_nomask = copy.copy(p)
        p_nomask.mask = False
        sequence(gt, tt, p_nomask, seed, f"trace ({mode})" + src, modes=(mode,),
                 exports=False, accept=eager_err)
    # float64: eager, and the scripted module after its float32 calls
    g, t = pair()
    g.double()
    t.double()
    g.eval()
    t.eval()
    x, m = make_inputs(p, 3, 40, dtype="float64", mask=p.mask)
    if p.kind == "t":
        x = x.astype(np.int64)
    check_call(g, t, x, m, "eager float64" + src)
    gs.double()
    if s_err is not None:
        pass            # (training ended early: the two modules differ)
    else:
        # (torch's scripted module, or where TorchScript refuses the program the eager
        # one trained alongside gs: not the fresh pair above, which never trained)
        s_ref.double()
        s_ref.eval()
        check_call(gs, s_ref, x, m, "script float64" + src)


_N = int(os.environ.get("GPUJIT_PROGRAM_FUZZ", "24"))
_SEED = int(os.environ.get("GPUJIT_PROGRAM_FUZZ_SEED", "0"))


@pytest.mark.parametrize("chunk", range(2))
def test_random_modules_match_pytorch(chunk):
    for k in range(chunk, _N, 2):
        check_program(_SEED * 100003 + 2401 + k)
