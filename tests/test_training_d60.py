"""Training with scripted / traced modules (helper d60): what a user's training loop hits.
Expected values are torch 2.13's (taken once, written here) or NumPy's."""
import numpy as np
import pytest

import gpujit as torch
from gpujit import nn


# ----------------------------------------------------------------------------- trace checks

def test_trace_check_sees_a_submodules_baked_constant():
    # BatchNorm(momentum=None) bakes 1/num_batches_tracked into its call: the check's
    # retrace (num_batches_tracked one more) differs inside the submodule's call, which
    # torch 2.13 reports after inlining both graphs (before: no error for a wrapped BN)
    torch.manual_seed(0)
    x = torch.randn(4, 3)
    for mod in (nn.Sequential(nn.BatchNorm1d(3, momentum=None)),
                nn.Sequential(nn.Linear(3, 3), nn.Sequential(nn.BatchNorm1d(3, momentum=None)))):
        with pytest.raises(torch.jit.TracingCheckError,
                           match="(?s)Graphs differed across invocations.*"
                                 r"value=1\.\].*value=0\.5\]"):
            torch.jit.trace(mod, (x,))


def test_trace_check_of_a_submodule_with_a_python_counter():
    class Counting(nn.Module):
        def __init__(self):
            super().__init__()
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            return x * float(self.calls)

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = Counting()

        def forward(self, x):
            return self.c(x) + 1

    x = torch.ones(2)
    with pytest.raises(torch.jit.TracingCheckError) as e:
        torch.jit.trace(Outer(), (x,))
    msg = str(e.value)
    # (torch's form: the diff one tab in from "Graph diff:", with ndiff's `?` lines)
    assert "\tGraph diff:\n\t\t  graph(" in msg
    assert "\t\t?" in msg
    # without the check, the trace keeps the first call's constant
    t = torch.jit.trace(Outer(), (x,), check_trace=False)
    np.testing.assert_array_equal(t(torch.ones(2)).numpy(), [2.0, 2.0])


def test_trace_check_passes_for_steady_submodules():
    torch.manual_seed(0)
    x = torch.randn(4, 3)
    m = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3), nn.ReLU())
    t = torch.jit.trace(m, (x,))
    # (torch 2.13: 5 -- the trace, the retrace, and the check's runs of trace, Python and retrace)
    assert int(m[1].num_batches_tracked) == 5
    # (traced in training mode, the trace keeps batch statistics after .eval(), as torch's)
    t.eval()
    np.testing.assert_allclose(t(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6, atol=1e-6)
    assert int(m[1].num_batches_tracked) == 7


# ----------------------------------------------------------------------------- scripted RNNs

class _EmaRNN(nn.Module):
    """An RNN model that keeps a running average of its outputs under no_grad (a common
    training-loop statistic)."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn(4, 6, batch_first=True)
        self.proj = nn.Linear(6, 3)
        self.register_buffer("ema", torch.zeros(3))

    def forward(self, x):
        h, _ = self.rnn(x)
        out = self.proj(h[:, -1])
        with torch.no_grad():
            self.ema.mul_(0.9).add_(out.mean(0), alpha=0.1)
        return out


@pytest.mark.parametrize("rnn", [nn.GRU, nn.LSTM, nn.RNN], ids=lambda c: c.__name__)
def test_scripted_rnn_with_a_no_grad_block_trains_compiled(rnn):
    # the no_grad region's markers read as writes of the RNN's _flat_weights list: the
    # whole forward ran op by op with a FusionWarning (torch: none)
    import copy
    import warnings
    torch.manual_seed(0)
    x = torch.randn(5, 7, 4)
    y = torch.randint(0, 3, (5,))
    eager = _EmaRNN(rnn)
    m = torch.jit.script(copy.deepcopy(eager))
    opts = [torch.optim.SGD(mod.parameters(), lr=0.1, momentum=0.9) for mod in (eager, m)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(4):
            losses = []
            for mod, opt in zip((eager, m), opts):
                opt.zero_grad()
                out = mod(x)
                assert out.requires_grad
                loss = torch.nn.functional.cross_entropy(out, y)
                loss.backward()
                opt.step()
                losses.append(loss.item())
            assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    assert not m.ema.requires_grad
    np.testing.assert_allclose(m.ema.numpy(), eager.ema.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.proj.weight.detach().numpy(),
                               eager.proj.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- optimizer state

def _mlp_and_data():
    torch.manual_seed(0)
    x = torch.randn(8, 5)
    y = torch.randint(0, 3, (8,))
    m = torch.jit.script(nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 3)))
    return m, x, y


def _steps(m, opt, x, y, n):
    out = []
    for _ in range(n):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
        out.append(loss.item())
    return out


@pytest.mark.parametrize("make", [
    lambda p: torch.optim.Adam(p, lr=0.05, amsgrad=True),
    lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
], ids=["adam", "sgd", "rmsprop"])
def test_optimizer_state_dict_is_live_and_a_deepcopy_resumes(make):
    import copy
    m, x, y = _mlp_and_data()
    opt = make(m.parameters())
    _steps(m, opt, x, y, 2)
    live = opt.state_dict()
    snap_o = copy.deepcopy(live)
    snap_m = copy.deepcopy(m.state_dict())
    want = _steps(m, opt, x, y, 3)
    # torch 2.13's state_dict() hands out the optimizer's own state: the 3 steps show in it
    p0 = next(iter(m.parameters()))
    assert live["state"][0] is opt.state[p0]
    for k, v in snap_o["state"][0].items():
        if isinstance(v, torch.Tensor) and k != "step":
            assert v.shape == live["state"][0][k].shape
            assert not np.array_equal(v.numpy(), live["state"][0][k].numpy()), k
    # resuming from the deep copies repeats the same 3 steps
    m.load_state_dict(snap_m)
    opt.load_state_dict(snap_o)
    got = _steps(m, opt, x, y, 3)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    # and so does a fresh optimizer over a jit.save / jit.load copy of the model
    import io
    m.load_state_dict(snap_m)
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    buf.seek(0)
    m2 = torch.jit.load(buf)
    assert all(p.requires_grad and p.is_leaf for p in m2.parameters())
    opt2 = make(m2.parameters())
    opt2.load_state_dict(snap_o)
    np.testing.assert_allclose(_steps(m2, opt2, x, y, 3), want, rtol=1e-6)


# ----------------------------------------------------------------------------- out= under grad

@torch.jit.script
def _mul_out(a, b):
    out = torch.empty_like(b)
    torch.mul(a, b, out=out)
    return out


@torch.jit.script
def _tanh_into(b, out):
    torch.tanh(b, out=out)
    return out * 2


def test_scripted_out_call_refuses_inputs_that_require_grad():
    # eager refuses it; scripted code computed it under no_grad and returned a result
    # that silently had no gradient (torch 2.13: the same RuntimeError, every call)
    a = torch.randn(3)
    b = torch.randn(3, requires_grad=True)
    for _ in range(3):
        with pytest.raises(RuntimeError, match=r"mul\(\): functions with out=\.\.\. arguments "
                                               r"don't support automatic differentiation"):
            _mul_out(a, b)
        with pytest.raises(RuntimeError, match=r"tanh\(\): functions with out="):
            _tanh_into(b, torch.empty(3))
        with pytest.raises(RuntimeError, match=r"tanh\(\): functions with out="):
            _tanh_into(b.detach(), torch.zeros(3, requires_grad=True))
    for _ in range(3):     # no grad needed: computed
        np.testing.assert_allclose(_mul_out(a, b.detach()).numpy(), (a * b).detach().numpy())
        with torch.no_grad():
            r = _tanh_into(b, torch.empty(3))
        assert not r.requires_grad
        np.testing.assert_allclose(r.numpy(), np.tanh(b.detach().numpy()) * 2, rtol=1e-6)
