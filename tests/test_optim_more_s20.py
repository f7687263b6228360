"""gpujit.optim's Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop and LBFGS against
torch.optim: the same training loop (a small MLP, fixed data, the same initial weights) runs
with torch and with gpujit, and the parameters are compared after every step.

Deliberate differences from torch, kept:
- the implementation flags (foreach, fused, capturable) choose no other arithmetic: gpujit
  has one implementation of each update. Their argument errors are torch's (fused with
  foreach or differentiable, fused on non-floating-point params, capturable on CPU params).
- differentiable=True does not record the step in autograd (optimizers update the raw
  arrays); as in torch, a step over leaf parameters that require grad is refused.
- the per-parameter scalars of the state ('step', NAdam's 'mu_product', ASGD's 'eta' and
  'mu') stay float32 CPU tensors, also under a float64 default dtype and after loading a
  state_dict into float64 parameters (torch casts mu_product/eta/mu to the param's dtype).
- SparseAdam is left out: gpujit has no sparse gradients (nn.Embedding(sparse=True) gives
  dense ones), so it could not be real.
"""
import copy
import pickle
import warnings

import numpy as np
import pytest

import gpujit
from gpujit import nn, optim

torch = pytest.importorskip("torch")

STEPS = 25
TOL = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-10, atol=1e-12)}


def _data(dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, 4)).astype(dtype)
    y = rng.standard_normal((16, 2)).astype(dtype)
    return x, y


def _init_weights(dtype, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) * 0.5 for s in [(8, 4), (8,), (2, 8), (2,)]]


class GModel(nn.Module):
    def __init__(self, ws):
        super().__init__()
        self.l1 = nn.Linear(4, 8)
        self.l2 = nn.Linear(8, 2)
        for p, w in zip(self.parameters(), ws):
            p.data = gpujit.tensor(w.copy())

    def forward(self, x):
        return self.l2(gpujit.tanh(self.l1(x)))


def _torch_model(ws):
    m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    for p, w in zip(m.parameters(), ws):
        p.data = torch.tensor(w.copy())
    return m


def _targs(kwargs, lib, dtype):
    """Tensors in kwargs (given as ('tensor', value)) made for lib, of the params' dtype
    (torch computes with a float32 lr Tensor in float32)."""
    out = {}
    for k, v in kwargs.items():
        if isinstance(v, tuple) and v and v[0] == "tensor":
            v = lib.tensor(v[1], dtype=getattr(lib, dtype))
        out[k] = v
    return out


def run_pair(name, kwargs, dtype="float32", steps=STEPS, model=None, closure=False,
             scheduler=None, sched_step=None):
    """Train the same model with torch.optim.<name> and gpujit.optim.<name>; returns the
    per-step parameters of both and the optimizers."""
    x, y = _data(dtype)
    ws = _init_weights(dtype)
    tm = _torch_model(ws)
    gm = GModel(ws) if model is None else model(ws)
    topt = getattr(torch.optim, name)(tm.parameters(), **_targs(kwargs, torch, dtype))
    gopt = getattr(optim, name)(gm.parameters(), **_targs(kwargs, gpujit, dtype))
    tx, ty = torch.tensor(x), torch.tensor(y)
    gx, gy = gpujit.tensor(x), gpujit.tensor(y)
    hist_t, hist_g = [], []
    for _ in range(steps):
        def tclos():
            topt.zero_grad()
            loss = ((tm(tx) - ty) ** 2).mean()
            loss.backward()
            return loss

        def gclos():
            gopt.zero_grad()
            loss = ((gm(gx) - gy) ** 2).mean()
            loss.backward()
            return loss
        if closure:
            lt, lg = topt.step(tclos), gopt.step(gclos)
            np.testing.assert_allclose(lg.item(), lt.item(), **TOL[dtype])
        else:
            tclos()
            gclos()
            topt.step()
            gopt.step()
        hist_t.append([p.detach().numpy().copy() for p in tm.parameters()])
        hist_g.append([p.detach().numpy().copy() for p in gm.parameters()])
    return hist_t, hist_g, topt, gopt


def assert_same(hist_t, hist_g, dtype):
    for step, (pt, pg) in enumerate(zip(hist_t, hist_g)):
        for a, b in zip(pt, pg):
            np.testing.assert_allclose(b, a, err_msg=f"step {step}", **TOL[dtype])


CASES = [
    ("Adagrad", {}),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.05, maximize=True, eps=1e-5)),
    ("Adagrad", dict(lr=0.05, fused=True)),
    ("Adadelta", {}),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.05, maximize=True)),
    ("Adamax", {}),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, maximize=True)),
    ("NAdam", {}),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", {}),
    ("RAdam", dict(lr=0.01, betas=(0.5, 0.7), weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("ASGD", {}),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=5, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, t0=3, maximize=True)),
    ("Rprop", {}),
    ("Rprop", dict(lr=0.001, etas=(0.3, 1.7), step_sizes=(1e-4, 0.05), maximize=True)),
    ("Adamax", dict(lr=("tensor", 0.01))),
    ("NAdam", dict(lr=("tensor", 0.01))),
    ("Adagrad", dict(lr=("tensor", 0.01))),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("foreach", [None, False])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_training_matches_torch(name, kwargs, foreach, dtype):
    kwargs = dict(kwargs)
    if foreach is False and not kwargs.get("fused"):
        kwargs["foreach"] = False
    ht, hg, topt, gopt = run_pair(name, kwargs, dtype)
    assert_same(ht, hg, dtype)
