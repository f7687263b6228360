"""Session 42: whisper-like programs (openai/whisper's model.py, decoding.py, timing.py run
under gpujit with tiny random weights) and what they showed.

* Normalization parameters of another dtype than the input: PyTorch's rule (ATen's
  is_mixed_type / check_mixed_data_type) for layer_norm, group_norm, batch_norm and
  instance_norm: the first given parameter decides; if it has the input's dtype, each
  other must too ("expected scalar type Float but found Double"); else the run is mixed:
  float32 parameters ("mixed dtype (CPU): expect parameter to have scalar type of Float")
  and a float16 input ("mixed dtype (CPU): all inputs must share same datatype.") only.
  gpujit computed layer_norm / group_norm of any mix (Whisper(dims).double() on a float32
  input: torch raises in its LayerNorm, gpujit answered) and refused batch_norm's float16
  input with float16 weights and float32 running stats the wrong way round.

Tests compare with NumPy/hand-written values; the *_torch tests with PyTorch 2.13 when it
is importable.
"""
import itertools
import warnings

import numpy as np
import pytest

import gpujit as torch

F = torch.nn.functional


def _real_torch():
    return pytest.importorskip("torch")


# ------------------------------------------------------------------ normalization dtypes
PARAM_ERR = "mixed dtype \\(CPU\\): expect parameter to have scalar type of Float"
INPUT_ERR = "mixed dtype \\(CPU\\): all inputs must share same datatype."


@pytest.mark.parametrize("norm", ["layer", "group"])
def test_norm_parameter_dtypes(norm):
    def run(x, w=None, b=None):
        if norm == "layer":
            return F.layer_norm(x, (4,), w, b)
        return F.group_norm(x.reshape(2, 4, 1), 2, w, b)

    f16, f32, f64 = torch.float16, torch.float32, torch.float64
    x32 = torch.arange(8.).reshape(2, 4)
    w64, b64 = torch.ones(4, dtype=f64), torch.zeros(4, dtype=f64)
    with pytest.raises(RuntimeError, match=PARAM_ERR):
        run(x32, w64, b64)                     # (whisper's model.double() on a float input)
    with pytest.raises(RuntimeError, match=PARAM_ERR):
        run(x32, None, torch.zeros(4, dtype=f16))
    with pytest.raises(RuntimeError, match=INPUT_ERR):
        run(x32.double(), torch.ones(4), torch.zeros(4))
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        run(x32, torch.ones(4), b64)
    with pytest.raises(RuntimeError, match="expected scalar type Half but found Float"):
        run(x32.half(), torch.ones(4, dtype=f16), torch.zeros(4))
    # what is allowed: the input's dtype, or float32 parameters of a float16 input
    assert run(x32.half(), torch.ones(4), torch.zeros(4)).dtype is f16
    assert run(x32.half(), torch.ones(4), None).dtype is f16
    r = run(x32.double(), w64, b64)
    assert r.dtype is f64
    xs = np.arange(8.).reshape(2, 4) if norm == "layer" else np.arange(8.).reshape(2, 2, 2)
    ref = (xs - xs.mean(-1, keepdims=True)) / np.sqrt(xs.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(r.numpy().reshape(-1), ref.reshape(-1), rtol=1e-12)
    for a, b in itertools.product((f32,), (f32, None)):
        assert run(x32, torch.ones(4, dtype=a), None if b is None else
                   torch.zeros(4, dtype=b)).dtype is f32


def test_batch_norm_parameter_dtypes():
    x16 = torch.ones(2, 4, dtype=torch.float16)
    rm, rv = torch.zeros(4), torch.ones(4)
    # float16 weights with float32 running stats: the weight decides, stats must match it
    with pytest.raises(RuntimeError, match="expected scalar type Half but found Float"):
        F.batch_norm(x16, rm, rv, torch.ones(4, dtype=torch.float16))
    assert F.batch_norm(x16, rm, rv, torch.ones(4), torch.zeros(4)).dtype is torch.float16
    with pytest.raises(RuntimeError, match=INPUT_ERR):
        F.batch_norm(torch.ones(2, 4, dtype=torch.float64), rm, rv)
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        F.batch_norm(torch.ones(2, 4), rm, rv, torch.ones(4), torch.zeros(4, dtype=torch.float64))


def test_norm_parameter_dtypes_match_torch():
    real = _real_torch()

    def table(mod):
        Fm = mod.nn.functional
        dts = [mod.float16, mod.float32, mod.float64, None]
        rows = []
        for xd, wd, bd in itertools.product(dts[:3], dts, dts):
            x = mod.ones(2, 4, dtype=xd)
            w = None if wd is None else mod.ones(4, dtype=wd)
            b = None if bd is None else mod.zeros(4, dtype=bd)
            for f in (lambda: Fm.layer_norm(x, (4,), w, b),
                      lambda: Fm.group_norm(x.reshape(2, 4, 1), 2, w, b),
                      lambda: Fm.batch_norm(x, mod.zeros(4), mod.ones(4), w, b),
                      lambda: Fm.batch_norm(x, None, None, w, b, training=True),
                      lambda: Fm.instance_norm(x.reshape(2, 4, 1).expand(2, 4, 3), None,
                                               None, w, b)):
                try:
                    rows.append(str(f().dtype).split(".")[-1])
                except RuntimeError as e:
                    rows.append(str(e))
        return rows

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert table(torch) == table(real)
