"""Helpers of the tests ported from PyTorch's module-scripting tests
(test_jit_modules_port.py, test_jit_module_containers_port.py, test_jit_hooks_port.py):
a scripted module checked against the same module run eagerly."""
import io

import numpy as np

import gpujit as torch


def _same(a, b):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor), (a, b)
        assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), (a, b)
        for k in a:
            _same(a[k], b[k])
    else:
        assert a == b and type(a) is type(b), (a, b)


def _clone(args):
    return tuple(a.clone() if isinstance(a, torch.Tensor) else a for a in args)


def _roundtrip(sm):
    buf = io.BytesIO()
    torch.jit.save(sm, buf)
    buf.seek(0)
    return torch.jit.load(buf)


def check_module(m, args, save=True):
    """Script ``m``; its result on ``args`` equals eager's (and a saved + loaded copy's)."""
    eager = m(*_clone(args))
    sm = torch.jit.script(m)
    _same(eager, sm(*_clone(args)))
    if save:
        _same(eager, _roundtrip(sm)(*_clone(args)))
    return sm


def _x(*shape, seed=0):
    torch.manual_seed(seed)
    return torch.randn(*shape)
