"""torch.backends.cpu: the SIMD level of the CPU kernels (NumPy's dispatch, which gpujit's
unfused ops run through)."""

import os

__all__ = ["get_cpu_capability"]

_ORDER = ("DEFAULT", "AVX2", "AVX512")


def get_cpu_capability() -> str:
    """'AVX512', 'AVX2' or 'DEFAULT' on x86 (torch's names), from NumPy's CPU features;
    ATEN_CPU_CAPABILITY caps it, as it caps ATen's choice."""
    have = _detected()
    cap = os.environ.get("ATEN_CPU_CAPABILITY", "").upper()
    if cap in _ORDER and _ORDER.index(cap) < _ORDER.index(have):
        return cap
    return have


def _detected() -> str:
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as feats
    except ImportError:                     # an older NumPy
        return "DEFAULT"
    if feats.get("AVX512F") and feats.get("AVX512BW") and feats.get("AVX512VL"):
        return "AVX512"
    if feats.get("AVX2"):
        return "AVX2"
    return "DEFAULT"
