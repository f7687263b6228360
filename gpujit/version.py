"""torch.version: what this gpujit is and which CUDA it runs on. `__version__` is
torch.__version__ ("2.13.0+gpujit.0.1.0": the PyTorch API gpujit follows, gpujit's own version
as the local label; `gpujit_version` is gpujit's alone); `cuda` is the CUDA runtime version of the installed CuPy ("12.4"), None
without CuPy (as torch.version.cuda is None in a CPU build); `hip`, `rocm` and `xpu` are
None, `debug` False, `git_version` "Unknown" (as a PyTorch built outside git)."""
from __future__ import annotations

from . import __version__  # noqa: F401  (gpujit/__init__ makes it torch.__version__'s)

gpujit_version = __version__      # gpujit's own version ("0.1.0": the package's)

__all__ = ["__version__", "cuda", "debug", "git_version", "hip", "rocm", "xpu",
           "gpujit_version"]

debug = False
git_version = "Unknown"
hip = None
rocm = None
xpu = None

_cuda = []


def __getattr__(name):
    if name == "cuda":              # (found when asked: importing CuPy is not free)
        if not _cuda:
            _cuda.append(_cuda_runtime())
        return _cuda[0]
    raise AttributeError(f"module 'gpujit.version' has no attribute '{name}'")


def _cuda_runtime():
    from .device import cupy_or_none
    cp = cupy_or_none()
    if cp is None:
        return None
    try:
        v = int(cp.cuda.runtime.runtimeGetVersion())
    except Exception:               # (a CuPy without a usable driver)
        return None
    return f"{v // 1000}.{v % 1000 // 10}"
