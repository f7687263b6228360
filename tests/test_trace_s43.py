"""Tracing against torch.jit.trace 2.13 (session 43, b43).

Finds, minimised, with torch 2.13's behaviour:

1. Memory formats: a traced `x.contiguous(memory_format=torch.channels_last)`,
   `clone(memory_format=...)`, `empty_like(..., memory_format=...)` record c10::MemoryFormat's
   int constant (contiguous 0, preserve 1, channels_last 2, channels_last_3d 3):
   `torch.contiguous(x, memory_format=2)`; gpujit recorded its str spelling
   (`memory_format="channels_last"`, `%1 : str = prim::Constant[value="channels_last"]`).
   Every transformer's `.transpose(1, 2).contiguous()` shows `%4 : int = prim::Constant[value=0]`.
"""
import io
import warnings

import numpy as np
import pytest

import gpujit as torch


def _torch():
    return pytest.importorskip("torch")


def _quiet_trace(tr, fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tr.jit.trace(fn, *args, **kw)


def _body(code):
    """The statements of a .code text (without the def line)."""
    return [ln.strip() for ln in code.strip().splitlines()[1:]]


def _round_trip(tr, traced):
    b = io.BytesIO()
    tr.jit.save(traced, b)
    b.seek(0)
    return tr.jit.load(b)


# ------------------------------------------------------------------ 1. memory formats
def _formats(tr):
    def f(x):
        a = x.contiguous(memory_format=tr.channels_last)
        b = x.clone(memory_format=tr.contiguous_format)
        c = tr.empty_like(x, memory_format=tr.preserve_format).zero_()
        return a + b + c + x.transpose(1, 2).contiguous().transpose(1, 2)
    return f


_FORMATS_CODE = [
    "a = torch.contiguous(x, memory_format=2)",
    "b = torch.clone(x, memory_format=0)",
    "_0 = torch.empty_like(x, dtype=None, layout=None, device=None, pin_memory=False, "
    "memory_format=1)",
    "c = torch.zero_(_0)",
    "_1 = torch.add(torch.add(a, b), c)",
    "_2 = torch.contiguous(torch.transpose(x, 1, 2))",
    "_3 = torch.add(_1, torch.transpose(_2, 1, 2))",
    "return _3",
]


def test_memory_format_constants_are_ints():
    x = torch.arange(120.).reshape(2, 3, 4, 5)
    t = _quiet_trace(torch, _formats(torch), (x,))
    consts = [str(n.output().type()) for n in t.graph.nodes() if n.kind() == "prim::Constant"]
    assert "str" not in consts and consts.count("int") == 11
    assert _body(t.code) == _FORMATS_CODE
    assert "prim::Constant[value=2]()" in str(t.graph)
    y = t(x + 1)
    np.testing.assert_array_equal(y.numpy(), ((x + 1) * 3).numpy())
    assert y.stride() == (60, 1, 15, 3)
    loaded = _round_trip(torch, t)
    assert _body(loaded.code)[1:] == _FORMATS_CODE
    np.testing.assert_array_equal(loaded(x).numpy(), (x * 3).numpy())


def test_memory_format_constants_as_torch():
    tt = _torch()
    xt = tt.arange(120.).reshape(2, 3, 4, 5)
    ref = _quiet_trace(tt, _formats(tt), (xt,))
    assert _body(ref.code) == _FORMATS_CODE
    x = torch.arange(120.).reshape(2, 3, 4, 5)
    t = _quiet_trace(torch, _formats(torch), (x,))
    assert t.code == ref.code
