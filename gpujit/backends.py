"""torch.backends: the switches training scripts set (`torch.backends.cudnn.benchmark =
True`, `torch.backends.cuda.matmul.allow_tf32 = True`, `torch.backends.mps.is_available()`).

gpujit has no cuDNN convolutions, TF32 matmuls or MPS device: the flags are kept and read
back as PyTorch's (so scripts run unchanged), and they change nothing in gpujit's results;
`is_available()` says what gpujit can use.
"""
from __future__ import annotations

import types as _types

__all__ = ["cudnn", "cuda", "mps", "mkldnn", "openmp", "opt_einsum"]


def _flags(name, doc, **values):
    m = _types.ModuleType(f"gpujit.backends.{name}", doc)
    m.__dict__.update(values)
    return m


cudnn = _flags("cudnn", "cuDNN switches (kept; gpujit runs its own kernels)",
               enabled=True, benchmark=False, deterministic=False, allow_tf32=True,
               benchmark_limit=10, is_available=lambda: False, version=lambda: None)


class _Matmul:
    allow_tf32 = False
    allow_fp16_reduced_precision_reduction = True
    allow_bf16_reduced_precision_reduction = True


def _cuda_is_built():
    from . import cuda as _c
    return _c.is_available()


cuda = _flags("cuda", "CUDA switches (kept; gpujit's matmuls run in the tensors' dtype)",
              matmul=_Matmul(), is_built=_cuda_is_built,
              enable_flash_sdp=lambda enabled: None, enable_mem_efficient_sdp=lambda e: None,
              enable_math_sdp=lambda enabled: None, flash_sdp_enabled=lambda: False,
              mem_efficient_sdp_enabled=lambda: False, math_sdp_enabled=lambda: True)
mps = _flags("mps", "Apple's Metal device: gpujit has none",
             is_available=lambda: False, is_built=lambda: False)
mkldnn = _flags("mkldnn", "oneDNN switches (kept)", enabled=True, is_available=lambda: False)
openmp = _flags("openmp", "OpenMP", is_available=lambda: False)
opt_einsum = _flags("opt_einsum", "einsum path optimization", enabled=True, strategy="auto",
                    is_available=lambda: False)
