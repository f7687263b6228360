"""Session 34's first real-GPU run (H200, ci/gpu.sh) since 2026-11-30: what it found, as
`@pytest.mark.cuda` tests that run on a GPU and, through test_fake_gpu.py's session, against
tests/fakecupy on machines without one."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gpujit

cuda = pytest.mark.cuda


# (its cuda-marked tests run against the NumPy-backed CuPy in test_fake_gpu.py's session)


@cuda
def test_a_device_index_past_the_visible_ones_is_torchs_runtime_error():
    # CuPy's CUDARuntimeError ('cudaErrorInvalidDevice: invalid device ordinal') came out
    # of every factory and move to cuda:1 on a one-GPU machine
    n = gpujit.cuda.device_count()
    for make in (lambda: gpujit.ones(3, device=f"cuda:{n}"),
                 lambda: gpujit.arange(3.0).to(f"cuda:{n}"),
                 lambda: gpujit.zeros(2).cuda(n), lambda: gpujit.cuda.set_device(n),
                 lambda: gpujit.cuda.get_device_name(n), lambda: gpujit.empty(2, device=n)):
        with pytest.raises(RuntimeError, match=rf"^CUDA error: invalid device ordinal: "
                                               rf"cuda:{n} was asked for and {n} CUDA"):
            make()
    assert gpujit.ones(2, device="cuda").tolist() == [1.0, 1.0]     # still usable


def _lgamma_fused(t):
    return gpujit.lgamma(t * 1.0)


@cuda
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lgamma_of_minus_infinity_is_plus_infinity_on_cuda(dtype):
    # CuPy's gammaln gives -inf at -inf; torch and libm's lgamma +inf (CPU and CUDA)
    x = gpujit.tensor([-math.inf, -2.0, -0.0, 0.0, 0.5, 3.0, math.inf, math.nan],
                      dtype=getattr(gpujit, dtype))
    want = x.lgamma().numpy()
    assert want[0] == math.inf and want[1] == math.inf and want[2] == math.inf
    for got in (x.cuda().lgamma(), gpujit.special.gammaln(x.cuda()),
                gpujit.jit.script(_lgamma_fused)(x.cuda())):
        np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-6, equal_nan=True)


@cuda
def test_a_cuda_storage_has_the_bytes_its_tensor_asked_for():
    # CuPy's pool rounds allocations up to 512 bytes: the storage said nbytes=512 for 4
    # floats (torch: 16); views and a dtype view keep the storage of their base
    x = gpujit.ones(4, device="cuda")
    s = x.untyped_storage()
    assert s.nbytes() == 16 and len(s) == 16 and s.data_ptr() == x.data_ptr()
    assert x[1:].untyped_storage().nbytes() == 16
    assert x[1:].untyped_storage().data_ptr() == x.data_ptr()
    assert x.view(gpujit.int32).untyped_storage() == s
    assert x.reshape(2, 2).t().untyped_storage().nbytes() == 16
    assert gpujit.empty(0, device="cuda").untyped_storage().nbytes() == 0
    assert gpujit.zeros(3, 5, device="cuda", dtype=gpujit.float64).untyped_storage().nbytes() \
        == 120
