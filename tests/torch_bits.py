"""Where the tests compare gpujit's bits with torch's: the expected bits were read from
torch 2.13's AVX512 CPU kernels (and its MKL on that machine). On a CPU where torch runs its
AVX2 code (AMD EPYC CI-class machines among them), its vectorized loops, Sleef's cos / exp
and MKL's gemm round some elements differently (an ulp), so those comparisons hold to
rounding only there."""
import numpy as np


def torch_runs_avx512(torch) -> bool:
    return torch.backends.cpu.get_cpu_capability() == "AVX512"


def assert_torch_bits(got, want, torch, rtol=1e-5, atol=0.0):
    """got == want bit for bit on torch's AVX512 kernels, else to rtol / atol."""
    if torch_runs_avx512(torch):
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
