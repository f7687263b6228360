"""gpujit: TorchScript rebuilt in Python for NVIDIA GPUs.

`import gpujit as torch` runs PyTorch-style eager code on NumPy (cpu) or CuPy (cuda:N);
later layers script/trace it into graphs and fuse them into numba kernels.
"""
from __future__ import annotations

__version__ = "0.1.0"

import warnings as _warnings
# NumPy's floating-point RuntimeWarnings ("divide by zero encountered in log", "invalid
# value encountered in sqrt") raised by gpujit's ops: PyTorch computes inf/nan silently
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"gpujit(\.|$)",
                         message=r"(divide by zero|invalid value|overflow|underflow) "
                                 r"encountered")

from . import dtypes as _dtypes
from .dtypes import (  # noqa: F401
    dtype, bool, uint8, int8, int16, int32, int64, float16, float32, float64, bfloat16, half,
    float,
    double, short, int, long, promote_types, result_type, can_cast, get_default_dtype,
    set_default_dtype, iinfo, finfo, layout, strided, sparse_coo, sparse_csr, sparse_csc,
    sparse_bsr, sparse_bsc, complex64, complex128, cfloat, cdouble, complex32, chalf,
)
from .dtypes import uint16, uint32, uint64  # noqa: F401
from .dtypes import (float8_e4m3fn, float8_e5m2, float8_e4m3fnuz, float8_e5m2fnuz,  # noqa: F401
                     float8_e8m0fnu)
from .dtypes import (qint8, quint8, qint32, quint4x2, quint2x4, qscheme,  # noqa: F401
                     per_tensor_affine, per_channel_affine, per_tensor_symmetric,
                     per_channel_symmetric, per_channel_affine_float_qparams)
from .dtypes import jagged  # noqa: F401  (torch.jagged: gpujit/nested/_jagged.py)
from .quantized import quantize_per_tensor, quantize_per_channel, dequantize  # noqa: F401,E402
from .quantized import (_make_per_tensor_quantized_tensor,  # noqa: F401,E402
                        _make_per_channel_quantized_tensor)
from .device import device  # noqa: F401
from .tensor import Tensor, Size  # noqa: F401
import importlib as _importlib

from . import ops as _ops_pkg
from .ops import registry as _registry

# each op family registers its ops on import; families may offer Python-level public
# functions (varargs sizes, wrappers) in a PUBLIC dict
_families = [_importlib.import_module(f"{__name__}.ops.{f}") for f in _ops_pkg.FAMILIES]
from . import cuda  # noqa: E402,F401
from . import _tensor_types  # noqa: E402
globals().update({f"{_k}Tensor": _v for _k, _v in _tensor_types.TYPES.items()})
for _k, _v in _tensor_types.CUDA_TYPES.items():
    setattr(cuda, f"{_k}Tensor", _v)
from .nn import functional as _functional  # noqa: E402
from .ops.bind import bind as _bind  # noqa: E402

_bind(globals(), Tensor, vars(_functional))
for _fam in _families:
    globals().update(getattr(_fam, "PUBLIC", {}))
del _fam
pairwise_distance = _functional.pairwise_distance     # torch.pairwise_distance
pdist = _functional.pdist                                   # torch.pdist
conv_tbc = _functional.conv_tbc                             # torch.conv_tbc

from ._tensor_str import set_printoptions, get_printoptions, printoptions  # noqa: E402,F401
from . import nn, testing, random  # noqa: E402,F401
from . import special  # noqa: E402,F401  (torch.special)
from . import linalg  # noqa: E402,F401  (torch.linalg)
from . import optim  # noqa: E402,F401
from .nn import Parameter  # noqa: E402,F401

from .ops.memory_format import (memory_format, CONTIGUOUS as contiguous_format,  # noqa: E402
                                PRESERVE as preserve_format, CHANNELS_LAST as channels_last,
                                CHANNELS_LAST_3D as channels_last_3d)

# torch.pi, torch.e, torch.inf, torch.nan, torch.newaxis (Python floats / None, as torch)
import math as _math  # noqa: E402
pi, e, inf, nan, newaxis = _math.pi, _math.e, _math.inf, _math.nan, None

def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    if not isinstance(input, Tensor):
        raise TypeError(f"is_floating_point(): argument 'input' (position 1) must be Tensor, "
                        f"not {type(input).__name__}")
    return input.is_floating_point()


def numel(input):
    """torch.numel(input) (torch.numel(input=x) as PyTorch's parser names it)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"numel(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return input.numel()


def get_ops():
    """{qualified name: OpDef} of the registry (read-only use)."""
    return dict(_registry.OPS)


from . import autograd  # noqa: E402
from .autograd import profiler as _autograd_profiler  # noqa: E402,F401  (autograd.profiler)
from . import profiler  # noqa: E402,F401  (torch.profiler)
from .autograd import (no_grad, enable_grad, set_grad_enabled, inference_mode,  # noqa: E402,F401
                       is_grad_enabled, is_inference_mode_enabled)
from .autograd.anomaly_mode import (is_anomaly_enabled,  # noqa: E402,F401
                                    is_anomaly_check_nan_enabled, set_anomaly_enabled)
from . import jit  # noqa: E402
from .jit import (trace, trace_module, TracerWarning, TracingCheckError,  # noqa: E402,F401
                  ScriptFunction, ScriptModule, TracedModule, set_fusion_strategy,
                  strict_fusion, script, ignore, unused, export, is_scripting, annotate,
                  Final, Attribute, script_if_tracing, ScriptList, ScriptDict)
_jit_trace = trace


def trace(*args, **kwargs):
    """torch.trace(input): the sum of a matrix's diagonal (the op aten::trace); with a
    function or module first, gpujit.jit.trace(fn, example_inputs, ...) (the tracer, which
    gpujit also offers at the top level)."""
    # (anything but a function or module first is the op's: torch.trace([1.]) is its
    # TypeError, not the tracer's complaint about example inputs)
    if args and not callable(args[0]) or not kwargs.keys().isdisjoint(
            ("input", "self", "x", "a", "x1")):
        # (torch.trace(a=m): PyTorch's parser's NumPy names, ops/numpy_aliases.py)
        from .ops.entry_codegen import numpy_entry
        op = _registry.OPS["aten::trace"]
        return (numpy_entry(op, False) or op.public)(*args, **kwargs)
    return _jit_trace(*args, **kwargs)


from ._asserts import _assert, _check  # noqa: E402,F401  (torch._assert, torch._check)
from . import fusers, kernels  # noqa: E402,F401
from . import _C  # noqa: E402,F401  (TorchScript's torch._C switches)
from ._C import ScriptObject  # noqa: E402,F401  (torch.ScriptObject)
from . import utils  # noqa: E402,F401  (torch.utils.data, torch.utils.checkpoint)
from .fusers import FusionWarning  # noqa: E402,F401
from .kernels.threads import get_num_threads, set_num_threads  # noqa: E402,F401

from .ops import codecache as _codecache  # noqa: E402
_codecache.flush()          # the entry points compiled by this import, for the next one
from .serialization.pickled import save, load  # noqa: E402,F401  (torch.save / torch.load)
from . import backends  # noqa: E402,F401  (torch.backends.cudnn.benchmark = True ...)
from . import hub  # noqa: E402,F401  (torch.hub.load_state_dict_from_url)
from . import __future__  # noqa: E402,F401  (torch.__future__'s conversion switches)
from .device import set_default_device, get_default_device  # noqa: E402,F401
from .runtime_flags import (set_float32_matmul_precision,  # noqa: E402,F401
                            get_float32_matmul_precision, use_deterministic_algorithms,
                            are_deterministic_algorithms_enabled,
                            is_deterministic_algorithms_warn_only_enabled, set_flush_denormal,
                            typename, is_storage, set_num_interop_threads,
                            get_num_interop_threads, set_deterministic_debug_mode,
                            get_deterministic_debug_mode, set_warn_always,
                            is_warn_always_enabled, set_default_tensor_type)
from .jit.compile import compile  # noqa: E402,F401  (torch.compile: script + fuse, eager fallback)
from . import amp, cpu  # noqa: E402,F401  (torch.amp, torch.cpu)
from .amp.autocast_mode import (autocast, is_autocast_enabled,  # noqa: E402,F401
                                set_autocast_enabled, get_autocast_dtype, set_autocast_dtype,
                                is_autocast_cache_enabled, set_autocast_cache_enabled,
                                clear_autocast_cache, autocast_increment_nesting,
                                autocast_decrement_nesting, is_autocast_cpu_enabled,
                                get_autocast_gpu_dtype, get_autocast_cpu_dtype)
cuda.amp = amp.cuda_amp
OutOfMemoryError = cuda.OutOfMemoryError   # (torch.OutOfMemoryError)
from . import fft  # noqa: E402,F401  (torch.fft: the real-valued parts)
from . import sparse  # noqa: E402,F401  (torch.sparse: dense mm / addmm, refusals)
from . import nested  # noqa: E402,F401  (torch.nested: strided nested tensors)
from . import distributions  # noqa: E402,F401  (torch.distributions)
from .nn import _torch_functional as _torch_nn  # noqa: E402  (torch.native_layer_norm, ...)
globals().update(_torch_nn.PUBLIC)
from .ops.checked_bindings import CHECKED as _CHECKED, checked_binding as _checked  # noqa: E402
for _n in _CHECKED:     # (torch's TypeError for an argument of the wrong type: torch.pdist(x, '2'))
    globals()[_n] = _checked(_n, globals()[_n])
from .nn import _torch_rnn  # noqa: E402  (torch.lstm_cell, torch.lstm, ...)
globals().update({_n: getattr(_torch_rnn, _n) for _n in _torch_rnn.__all__})
from . import accelerator, compiler, distributed, func, signal  # noqa: E402,F401  (torch.compiler, ...)
from . import mps, xpu  # noqa: E402,F401  (torch.mps / torch.xpu: no such device here)
from ._sym import (sym_int, sym_float, sym_max, sym_min, sym_not,  # noqa: E402,F401
                   sym_ite, sym_sqrt, sym_sum, get_device_module, is_distributed,
                   compiled_with_cxx11_abi, init_num_threads)
from .overrides import DisableTorchFunction, DisableTorchFunctionSubclass  # noqa: E402,F401
from ._lowrank import svd_lowrank, pca_lowrank  # noqa: E402,F401
from . import library  # noqa: E402,F401  (torch.library: user-defined ops)
from . import multiprocessing  # noqa: E402,F401  (torch.multiprocessing: shared tensors)
from . import futures  # noqa: E402,F401  (torch.futures)
from . import types, version, __config__  # noqa: E402,F401  (torch.types, ...)
from . import overrides  # noqa: E402,F401  (torch.overrides: __torch_function__)
from .jit.futures import Future, fork, wait  # noqa: E402,F401  (torch.Future, torch.fork / wait)
from ._C import parse_ir  # noqa: E402,F401  (torch.parse_ir: torch._C's name at the top level)
vmap = func.vmap                                    # torch.vmap
from ._spectral import stft, istft  # noqa: E402,F401  (torch.stft, torch.istft)
from . import _spectral  # noqa: E402
Tensor.stft = _spectral._stft_method
Tensor.istft = _spectral._istft_method
overrides.name_tensor_methods()                     # (Tensor.split.__name__ is 'split')
from . import functional, quasirandom, torch_version  # noqa: E402,F401  (torch.functional, ...)
from ._control_flow import cond, while_loop  # noqa: E402,F401  (torch.cond, torch.while_loop)
GradScaler = amp.GradScaler                         # torch.GradScaler
Storage = FloatStorage  # noqa: F821  (torch.Storage: the legacy float storage class)
__version__ = torch_version.__version__   # (a TorchVersion: "2.13.0+gpujit.0.1.0")
version.__version__ = __version__         # (torch.version.__version__ is torch.__version__)


def __getattr__(name):
    if name in ("fx", "ao", "quantization", "_utils"):  # torch.fx, torch.ao, torch._utils: imported when used
        import importlib
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module '{__name__}' has no attribute '{name}'")
