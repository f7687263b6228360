"""torch.backends.quantized: the quantized engine setting (`engine`, `supported_engines`).

gpujit's quantized kernels (ops/quantized_ops.py) compute FBGEMM's arithmetic whatever the
engine: the engines of an x86 build ('x86', 'fbgemm', 'onednn', 'qnnpack') are accepted
and read back, as PyTorch's. ('x86', the default, runs FBGEMM's kernels in PyTorch except
convolutions with symmetric weights on an AVX512-VNNI CPU, which it gives to oneDNN: the
same bits, but oneDNN's conv*_relu leaves values below a nonzero output zero point.)"""
from __future__ import annotations

import sys

from . import flag_module

_ENGINES = ["qnnpack", "onednn", "x86", "fbgemm"]
_state = {"engine": "x86"}


def _get_engine(self):
    return _state["engine"]


def _set_engine(self, value):
    if value == "none":
        raise RuntimeError("quantized engine NoQEngine is not supported")
    if value not in _ENGINES:
        raise RuntimeError(f"{value} is not a valid value for quantized engine")
    _state["engine"] = value


flag_module(sys.modules[__name__], engine=property(_get_engine, _set_engine),
            supported_engines=property(lambda self: list(_ENGINES)))
