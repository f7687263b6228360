"""Session 40 (b40): TorchScript language details against torch.jit.script 2.13.

1. torch.nn.functional's Python-level functions declare `float` parameters, and a
   scripted call converts no int to them (nor to a `bool`): `F.hardtanh(x, 0, 6.0)`,
   `F.elu(x, n)` with `n: int`, `torch.jit.script(nn.Hardtanh(0, 6))` raise
       hardtanh(Tensor input, float min_val=-1., float max_val=1., bool inplace=False) -> Tensor:
       Expected a value of type 'float' for argument 'min_val' but instead found type 'int'.
   pointing at the call (swept over every float parameter of every scriptable F function
   in torch 2.13: all refuse an int). gpujit accepted (its calls bind registry ops taking a
   Scalar); now refused in torch's words from torch's F signatures
   (library_functions._F_SCHEMAS). F's C++ builtins (F.softplus(x, 2, 20)) and a bool for a
   float (F.hardtanh(x, True, 1.0)) still compile, as in torch.
"""
import pytest

import gpujit as torch

F = torch.nn.functional
nn = torch.nn
Tensor = torch.Tensor


def _refusal(fn):
    with pytest.raises(RuntimeError) as e:
        torch.jit.script(fn)
    return str(e.value)


def _hardtanh_int(x: Tensor):
    return F.hardtanh(x, 0, 6.0)


def _elu_int_var(x: Tensor, n: int):
    return F.elu(x, n)


def _dropout_int_flag(x: Tensor):
    return F.dropout(x, 0.5, 1)


def _embedding_max_norm(x: Tensor, w: Tensor):
    return F.embedding(x, w, max_norm=1)


def _layer_norm_eps(x: Tensor):
    return F.layer_norm(x, [3], eps=0)


def _dropout1d_int(x: Tensor):      # (gpujit compiles F.dropout1d from its own source)
    return F.dropout1d(x, 0)


def _threshold_int(x: Tensor):
    return F.threshold(x, 1.0, 2)


def test_int_for_float_parameter_refused_as_torch():
    msg = _refusal(_hardtanh_int)
    assert msg.startswith(
        "hardtanh(Tensor input, float min_val=-1., float max_val=1., bool inplace=False) "
        "-> Tensor:\nExpected a value of type 'float' for argument 'min_val' but instead "
        "found type 'int'."), msg
    assert "return F.hardtanh(x, 0, 6.0)" in msg
    msg = _refusal(_elu_int_var)
    assert "elu(Tensor input, float alpha=1., bool inplace=False) -> Tensor:\nExpected a " \
           "value of type 'float' for argument 'alpha' but instead found type 'int'." in msg
    assert "Expected a value of type 'bool' for argument 'training' but instead found type " \
           "'int'." in _refusal(_dropout_int_flag)
    assert "Expected a value of type 'Optional[float]' for argument 'max_norm' but instead " \
           "found type 'int'." in _refusal(_embedding_max_norm)
    assert "layer_norm(Tensor input, int[] normalized_shape, Tensor? weight=None, Tensor? " \
           "bias=None, float eps=1.0000000000000001e-05) -> Tensor:" in \
           _refusal(_layer_norm_eps)
    msg = _refusal(_dropout1d_int)
    assert msg.startswith("dropout1d(Tensor input, float p=0.5, bool training=True, bool "
                          "inplace=False) -> Tensor:\nExpected a value of type 'float' for "
                          "argument 'p' but instead found type 'int'."), msg
    assert "_threshold(Tensor input, float threshold, float value, bool inplace=False) -> " \
           "Tensor:\nExpected a value of type 'float' for argument 'value'" in \
           _refusal(_threshold_int)


def test_modules_with_int_arguments_refused_as_torch():
    # torch 2.13: nn.Hardtanh(0, 6) keeps the ints; its forward's F.hardtanh refuses them
    for m, head, arg in ((nn.Hardtanh(0, 6), "hardtanh(", "min_val"),
                         (nn.LeakyReLU(0), "leaky_relu(", "negative_slope"),
                         (nn.Dropout(0), "dropout(", "p"),
                         (nn.GroupNorm(1, 3, eps=0), "group_norm(", "eps")):
        msg = _refusal(m)
        assert msg.startswith(head) and f"for argument '{arg}' but instead found type " \
            f"'int'." in msg, msg
    s = torch.jit.script(nn.Hardtanh(0.0, 6.0))
    assert s(torch.tensor([-1.0, 3.0, 9.0])).tolist() == [0.0, 3.0, 6.0]
    torch.jit.script(nn.Softplus(2, 20))     # (F.softplus: a C++ builtin taking a Scalar)


def _softplus_ints(x: Tensor):
    return F.softplus(x, 2, 20)


def _hardtanh_bool(x: Tensor):
    return F.hardtanh(x, True, 2.0)


def _hardtanh_floats(x: Tensor):
    return F.hardtanh(x, min_val=0.0, max_val=6.0)


def test_what_torch_accepts_still_compiles():
    x = torch.tensor([-1.0, 0.5, 3.0, 9.0])
    assert torch.jit.script(_hardtanh_floats)(x).tolist() == [0.0, 0.5, 3.0, 6.0]
    assert torch.jit.script(_hardtanh_bool)(x).tolist() == [1.0, 1.0, 2.0, 2.0]
    y = torch.jit.script(_softplus_ints)(x)
    assert abs(y[1].item() - 0.6566) < 1e-3
