"""torch.jit.save / torch.jit.load / torch.save fidelity, part 3 (session 49, e49).

Loaded modules' state as torch 2.13's loaded RecursiveScriptModule holds it: parameters
are plain Tensors that require grad (no Python nn.Parameter object outlives saving; tied
weights stay one tensor), buffers, state_dict order, training flags, train() / eval(),
load_state_dict and optimizers over the loaded parameters. Each load is a compilation unit
of its own: the types of an archive print with the archive's names however often it is
loaded and whatever this process scripted under those names (torch.jit.freeze of a loaded
module: `__torch__.___torch_mangle_0.M`, that unit's first mangle). torch.jit.load from
paths, BytesIO and file objects, _extra_files, map_location and torch's error words.
Expected values come from the in-process scripted module (which other tests compare with
PyTorch) or were computed with torch 2.13 (said where); importorskip("torch") tests run
torch itself on the same archives, both directions."""
import io
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import gpujit
from gpujit import nn

FORMATS = ("pytorch", "gpujit")


def _np(t):
    return t.detach().cpu().numpy()


class Net49(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(5, 4)
        self.lin = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.head = nn.Linear(4, 5, bias=False)
        self.head.weight = self.emb.weight                 # tied
        self.register_buffer("scale", gpujit.full((3,), 0.5))
        self.frozen = nn.Parameter(gpujit.ones(3), requires_grad=False)
        self.drop = nn.Dropout(0.25)

    def forward(self, idx):
        e = self.emb(idx)
        return self.drop(self.bn(self.lin(e))) * self.scale + self.frozen, self.head(e)


def _net():
    gpujit.manual_seed(49)
    return Net49()


def _saved(m, fmt="pytorch"):
    buf = io.BytesIO()
    gpujit.jit.save(gpujit.jit.script(m), buf, format=fmt)
    return buf.getvalue()


# ---------------------------------------------------------------- 1. parameters and state

@pytest.mark.parametrize("fmt", FORMATS)
def test_loaded_parameters_are_plain_tensors(fmt):
    ld = gpujit.jit.load(io.BytesIO(_saved(_net(), fmt)))
    named = list(ld.named_parameters())
    # torch 2.13: named_parameters of the loaded module (the tied head.weight once)
    assert [n for n, _ in named] == ["frozen", "emb.weight", "lin.weight", "lin.bias",
                                     "bn.weight", "bn.bias"]
    for n, p in named:
        assert type(p) is gpujit.Tensor and not isinstance(p, nn.Parameter), n
        assert p.is_leaf and p.grad_fn is None
        assert p.requires_grad == (n != "frozen")
    assert "Parameter containing" not in repr(ld.lin.weight)
    assert ld.head.weight is ld.emb.weight
    assert [n for n, _ in ld.named_buffers()] == [
        "scale", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert list(ld.state_dict()) == [
        "frozen", "scale", "emb.weight", "lin.weight", "lin.bias", "bn.weight", "bn.bias",
        "bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "head.weight"]
    # a Parameter assigned later is kept as the object given, as torch keeps it
    ld.lin.bias = nn.Parameter(gpujit.zeros(3))
    assert isinstance(ld.lin.bias, nn.Parameter)


@pytest.mark.parametrize("fmt", FORMATS)
def test_train_eval_flags_of_loaded_modules(fmt):
    m = _net()
    m.bn.eval()
    ld = gpujit.jit.load(io.BytesIO(_saved(m, fmt)))
    assert ld.training and not ld.bn.training and ld.lin.training
    ld.eval()
    assert not any(s.training for s in ld.modules())
    ld.train()
    assert all(s.training for s in ld.modules())
    ld.drop.eval()
    assert ld.training and not ld.drop.training
    # eval(): dropout off, batch norm from its running statistics
    ld.eval()
    x = gpujit.tensor([1, 2, 3, 1])
    a, b = ld(x)
    ref = gpujit.jit.script(_net()).eval()(x)
    np.testing.assert_allclose(_np(a), _np(ref[0]), rtol=1e-6)
    np.testing.assert_allclose(_np(b), _np(ref[1]), rtol=1e-6)


@pytest.mark.parametrize("fmt", FORMATS)
def test_load_state_dict_into_a_loaded_module(fmt):
    ld = gpujit.jit.load(io.BytesIO(_saved(_net(), fmt)))
    w = ld.lin.weight
    sd = {k: v * 2 for k, v in _net().state_dict().items()
          if k != "bn.num_batches_tracked"}
    res = ld.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["bn.num_batches_tracked"] and res.unexpected_keys == []
    assert ld.lin.weight is w and type(w) is gpujit.Tensor       # copied in place
    np.testing.assert_allclose(_np(w), _np(_net().lin.weight) * 2)
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: '
                                           r'"bn.num_batches_tracked"'):
        ld.load_state_dict(sd)
    with pytest.raises(RuntimeError, match="size mismatch for lin.weight"):
        ld.load_state_dict({**sd, "lin.weight": gpujit.ones(2, 2)}, strict=False)


def _train(m, steps=3, opt="sgd"):
    params = list(m.parameters())
    o = gpujit.optim.SGD(params, lr=0.1, momentum=0.9) if opt == "sgd" else \
        gpujit.optim.Adam(params, lr=0.01)
    x = gpujit.tensor([0, 3, 4, 3])
    m.eval()          # (dropout off: the same steps everywhere)
    for _ in range(steps):
        o.zero_grad()
        a, b = m(x)
        (a.pow(2).sum() + b.sum()).backward()
        o.step()
    return {k: _np(v).copy() for k, v in m.state_dict().items()}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_optimizer_steps_after_load_equal_the_scripted_modules(fmt, opt):
    want = _train(gpujit.jit.script(_net()), opt=opt)
    ld = gpujit.jit.load(io.BytesIO(_saved(_net(), fmt)))
    got = _train(ld, opt=opt)
    assert list(got) == list(want)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-6, err_msg=k)
    assert ld.frozen.grad is None and ld.emb.weight.grad is not None
    np.testing.assert_array_equal(got["frozen"], np.ones(3, np.float32))   # not trained


@pytest.mark.parametrize("fmt", FORMATS)
def test_module_conversions_keep_the_tensors(fmt):
    ld = gpujit.jit.load(io.BytesIO(_saved(_net(), fmt)))
    w = ld.emb.weight
    ld.double()
    assert ld.emb.weight is w and w.dtype == gpujit.float64 and type(w) is gpujit.Tensor
    assert ld.head.weight is ld.emb.weight
    ld.float()
    assert ld(gpujit.tensor([1]))[0].dtype == gpujit.float32
    import copy
    c = copy.deepcopy(ld)
    assert c.emb.weight is not ld.emb.weight and c.head.weight is c.emb.weight
    assert [type(p) for p in c.parameters()] == [gpujit.Tensor] * 6
