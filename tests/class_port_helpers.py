"""Helpers shared by tests/test_jit_classes_port*.py: compare a scripted function with
the same function run unscripted, and save / load round trips through a BytesIO."""
import io

import numpy as np

import gpujit as torch


def to_np(t):
    return np.asarray(t.detach().numpy())


def roundtrip(m, **kw):
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    buf.seek(0)
    return torch.jit.load(buf, **kw)


def check_script(fn, *args):
    """fn scripted gives what fn gives unscripted."""
    s = torch.jit.script(fn)
    want, got = fn(*args), s(*args)
    same(got, want)
    return s


def same(got, want):
    if isinstance(want, torch.Tensor):
        assert isinstance(got, torch.Tensor)
        assert got.dtype == want.dtype and tuple(got.shape) == tuple(want.shape)
        np.testing.assert_allclose(to_np(got), to_np(want), rtol=1e-6)
    elif isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want)
        for g, w in zip(got, want):
            same(g, w)
    else:
        assert type(got) is type(want) and got == want, (got, want)
