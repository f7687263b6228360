"""torch.backends.quantized: the quantized engine (`engine`, one of `supported_engines`, the
engines of torch 2.13's x86 CPU build), kept, checked and read back as PyTorch's.

gpujit's quantized kernels (ops/quantized_ops.py) compute FBGEMM's arithmetic whatever the
engine. ('x86', the default, runs FBGEMM's kernels in PyTorch except convolutions with
symmetric weights on an AVX512-VNNI CPU, which it gives to oneDNN: the same bits, but
oneDNN's conv*_relu leaves values below a nonzero output zero point.)"""
import sys
import types

_ENGINES = {"none": 0, "": 0, None: 0, "fbgemm": 1, "qnnpack": 2, "onednn": 3, "x86": 4}
_NAMES = {0: "none", 1: "fbgemm", 2: "qnnpack", 3: "onednn", 4: "x86"}
_SUPPORTED = [2, 3, 4, 1]          # (torch 2.13's order: qnnpack, onednn, x86, fbgemm)
_engine = [4]


def _get_qengine_id(qengine) -> int:
    if qengine not in _ENGINES:
        raise RuntimeError(f"{qengine} is not a valid value for quantized engine")
    return _ENGINES[qengine]


def _get_qengine_str(qengine: int) -> str:
    return _NAMES.get(qengine, "*undefined")


class _QEngineProp:
    def __get__(self, obj, objtype) -> str:
        return _get_qengine_str(_engine[0])

    def __set__(self, obj, val) -> None:
        qid = _get_qengine_id(val)
        if qid not in _SUPPORTED:       # ("none" too, in torch's words)
            raise RuntimeError("quantized engine " + {0: "NoQEngine"}.get(
                qid, _get_qengine_str(qid)) + " is not supported")
        _engine[0] = qid


class _SupportedQEnginesProp:
    def __get__(self, obj, objtype):
        return [_get_qengine_str(q) for q in _SUPPORTED]

    def __set__(self, obj, val) -> None:
        raise RuntimeError("Assignment not supported")


class QuantizedEngine(types.ModuleType):
    def __init__(self, m, name):
        super().__init__(name)
        self.m = m

    def __getattr__(self, attr):
        return self.m.__getattribute__(attr)

    engine = _QEngineProp()
    supported_engines = _SupportedQEnginesProp()


sys.modules[__name__] = QuantizedEngine(sys.modules[__name__], __name__)
