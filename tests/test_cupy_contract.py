"""What gpujit relies on from CuPy where CuPy differs from NumPy.

* In-place scatters (x[idx] = v, index_put_, index_copy_, index_add_, scatter_ /
  scatter_add_ / scatter_reduce_, put_) whose source shares memory with the destination:
  PyTorch refuses dense overlaps (at::assert_no_overlap); the others must give the same
  result on both devices, though CuPy's scatter kernels read the source while they write
  (tests/fakecupy refuses such a scatter, so the CUDA tier catches a missing copy).
* tests/fakecupy takes only the parameters real CuPy's functions, ndarray methods and
  ufuncs take (tests/fakecupy/cupy_signatures.json, from CuPy's source).
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import gpujit as torch

MSG = "some elements of the input tensor and the written-to tensor refer to a single memory"
HERE = os.path.dirname(__file__)


def _cases():
    i6 = [1, 2, 3, 4, 5, 0]
    return {
        "setitem": lambda x, I: x.__setitem__(I(i6), x[1:7]),
        "index_put_": lambda x, I: x.index_put_((I(i6),), x[1:7]),
        "index_put_acc": lambda x, I: x.index_put_((I(i6),), x[1:7], accumulate=True),
        "index_put_self": lambda x, I: x.index_put_((I(list(range(8))),), x),
        "index_copy_": lambda x, I: x.index_copy_(0, I(i6), x[1:7]),
        "index_add_": lambda x, I: x.index_add_(0, I(i6), x[1:7]),
        "scatter_": lambda x, I: x.scatter_(0, I(i6), x[1:7]),
        "scatter_add_": lambda x, I: x.scatter_add_(0, I(i6), x[1:7]),
        "scatter_reduce_": lambda x, I: x.scatter_reduce_(0, I(i6), x[1:7], "amax"),
        "put_": lambda x, I: x.put_(I(i6), x[1:7]),
        "disjoint_part": lambda x, I: x.index_copy_(0, I([0, 1]), x[4:6]),
    }


@pytest.mark.parametrize("name", sorted(_cases()))
def test_dense_overlapping_source_is_refused(name):
    x = torch.arange(8.0)
    with pytest.raises(RuntimeError, match=MSG):
        _cases()[name](x, lambda v: torch.tensor(v))


def _strided_cases():
    # sources PyTorch lets through (not dense): NumPy's snapshot of the source is the answer
    return {
        "setitem": (lambda x, I: x.__setitem__(I([1, 2, 3, 0]), x[::2]),
                    lambda a: a.__setitem__([1, 2, 3, 0], a[::2].copy())),
        "index_copy_": (lambda x, I: x.index_copy_(0, I([1, 2, 3, 0]), x[::2]),
                        lambda a: a.__setitem__([1, 2, 3, 0], a[::2].copy())),
        "index_add_": (lambda x, I: x.index_add_(0, I([1, 2, 3, 0]), x[::2]),
                       lambda a: np.add.at(a, [1, 2, 3, 0], a[::2].copy())),
        "index_put_acc": (lambda x, I: x.index_put_((I([1, 1, 3, 0]),), x[::2],
                                                    accumulate=True),
                          lambda a: np.add.at(a, [1, 1, 3, 0], a[::2].copy())),
        "scatter_": (lambda x, I: x.scatter_(0, I([1, 2, 3, 0]), x[::2]),
                     lambda a: a.__setitem__([1, 2, 3, 0], a[::2].copy())),
        "put_": (lambda x, I: x.put_(I([1, 2, 3, 0]), x[::2]),
                 lambda a: a.__setitem__([1, 2, 3, 0], a[::2].copy())),
    }


def _run_strided(device):
    out = {}
    for name, (f, ref) in _strided_cases().items():
        x = torch.arange(8.0, device=device)
        f(x, lambda v: torch.tensor(v, device=device))
        a = np.arange(8.0)
        ref(a)
        out[name] = (x.cpu().numpy(), a)
    return out


@pytest.mark.parametrize("name", sorted(_strided_cases()))
def test_strided_overlapping_source_reads_a_snapshot(name):
    got, want = _run_strided("cpu")[name]
    np.testing.assert_array_equal(got, want)


def test_non_overlapping_sources_still_write_in_place():
    x = torch.zeros(8)
    y = torch.arange(8.0)
    x.index_copy_(0, torch.tensor([7, 6, 5, 4, 3, 2, 1, 0]), y)
    x[torch.tensor([0, 1])] = y[2:4]
    np.testing.assert_array_equal(x.numpy(), [2, 3, 5, 4, 3, 2, 1, 0])
    z = torch.arange(8.0)
    z.index_put_((torch.tensor([0, 1]),), z.clone()[4:6])
    np.testing.assert_array_equal(z.numpy()[:2], [4, 5])


@pytest.mark.cuda
def test_overlapping_scatters_on_cuda_match_cpu():
    for name in sorted(_cases()):
        x = torch.arange(8.0, device="cuda")
        with pytest.raises(RuntimeError, match=MSG):
            _cases()[name](x, lambda v: torch.tensor(v, device="cuda"))
    for name, (got, want) in _run_strided("cuda").items():
        np.testing.assert_array_equal(got, want, err_msg=name)


# ------------------------------------------------------------------ the fake's signatures

def _fake(code):
    """Run `code` with tests/fakecupy as cupy (a subprocess: the suite may not use it)."""
    env = dict(os.environ, PYTHONPATH=os.path.join(HERE, "fakecupy"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_fakecupy_takes_only_cupys_parameters():
    out = _fake("""
import numpy as np, cupy as cp
x = cp.arange(6.0)
calls = [lambda: cp.sum(x, where=x > 1), lambda: x.max(initial=0),
         lambda: cp.add(x, x, where=x > 1), lambda: np.add(x, x, where=x > 1),
         lambda: cp.clip(x, min=0, max=1), lambda: x.item(0),
         lambda: cp.linalg.matrix_exp(x), lambda: cp.concatenate([x], 0, None, 1)]
for f in calls:
    try:
        f()
        print("accepted")
    except (TypeError, AttributeError) as e:
        print(type(e).__name__)
print(float(cp.sum(x, axis=0, keepdims=False)), float(cp.clip(x, 1, 2).sum()),
      float(cp.add(x, x, dtype=np.float32, casting="same_kind").sum()))
""").split()
    assert out[:8] == ["TypeError"] * 6 + ["AttributeError", "TypeError"], out
    assert out[8:] == ["15.0", "10.0", "30.0"]


def test_fakecupy_refuses_scatters_reading_the_destination():
    out = _fake("""
import cupy as cp
x = cp.arange(8.0)
for f in (lambda: x.__setitem__(cp.arange(6), x[1:7]),
          lambda: cp.add.at(x, cp.arange(3), x[2:5])):
    try:
        f()
        print("accepted")
    except RuntimeError:
        print("refused")
x[cp.arange(4)] = x[4:].copy()
x[1:] = x[:-1]          # a basic slice: CuPy's copy kernel copies an overlapping input
print(x.get().tolist())
""").split("\n")
    assert out[:2] == ["refused", "refused"]
    assert out[2] == str([4.0, 4.0, 5.0, 6.0, 7.0, 4.0, 5.0, 6.0])


def test_signature_table_covers_what_gpujit_calls():
    with open(os.path.join(HERE, "fakecupy", "cupy_signatures.json")) as f:
        sig = json.load(f)
    for name in ("where", "zeros", "asarray", "broadcast_to", "ascontiguousarray", "arange",
                 "concatenate", "moveaxis", "take_along_axis", "clip", "argsort",
                 "pad", "cumsum", "searchsorted", "bincount", "unique", "einsum",
                 "linalg.svd", "linalg.qr", "lib.stride_tricks.as_strided", "fft.rfft"):
        assert name in sig["functions"], name
    assert sig["functions"]["clip"] == ["a", "a_min", "a_max", "out"]
    assert sig["ndarray"]["max"] == ["axis", "out", "keepdims"]


def test_fakecupy_special_functions_return_cupys_dtypes():
    # cupyx.scipy.special's loops: float16 erf/erfc/gammaln give float64, erfinv float32
    out = _fake("""
import numpy as np, cupy as cp
from cupyx.scipy.special import erf, erfc, erfinv, gammaln
h = cp.full(3, 0.25, np.float16)
print(erf(h).dtype, erfc(h).dtype, erfinv(h).dtype, gammaln(h).dtype,
      gammaln(cp.arange(1, 4)).dtype, erf(h.astype(np.float32)).dtype)
""").split()
    assert out == ["float64", "float64", "float32", "float64", "float64", "float32"]


@pytest.mark.cuda
def test_special_functions_keep_torchs_dtypes_on_cuda():
    for dt in (torch.float16, torch.float32, torch.float64, torch.int64, torch.bool):
        x = torch.tensor([0.25, -0.5, 2.0]).to(dt)
        for f in (torch.erf, torch.erfc, torch.lgamma,
                  lambda t: torch.erfinv(t * 0.3 if t.dtype is not torch.bool else t),
                  lambda t: torch.nn.functional.gelu(t) if t.is_floating_point() else t):
            c, g = f(x), f(x.cuda())
            assert g.dtype == c.dtype and g.device.type == "cuda"
            np.testing.assert_allclose(g.cpu().double().numpy(), c.double().numpy(),
                                       rtol=2e-3, atol=1e-3)


def test_fakecupy_ufunc_results_are_c_contiguous():
    # CuPy allocates a ufunc's result C-contiguous (_get_out_args_from_optionals), where
    # NumPy follows its operands' layout (order="K")
    out = _fake("""
import numpy as np, cupy as cp
t = cp.ones((3, 4)).T
print((t + 1).strides, np.exp(t).strides, (t * t).flags.c_contiguous,
      t.astype(np.float32).strides, cp.where(t > 0, t, 0).strides, cp.clip(t, 0, 1).strides,
      t.clip(0, 1).strides, t.T.T.strides)
""").strip()
    assert out == "(24, 8) (24, 8) True (4, 16) (24, 8) (24, 8) (24, 8) (8, 32)"


@pytest.mark.cuda
def test_pointwise_results_are_laid_out_as_on_the_cpu():
    # PyTorch lays a pointwise result out as its first ordering operand (TensorIterator):
    # gpujit must not take NumPy's order="K" for granted (CuPy's results are C-contiguous)
    base = torch.arange(24.0).reshape(2, 3, 4)
    for make in (lambda x: x.transpose(0, 2), lambda x: x.permute(1, 2, 0),
                 lambda x: x[:, :, ::2]):
        for f in (lambda a: a + 1, lambda a: a.exp(), lambda a: a * a, torch.sigmoid,
                  lambda a: torch.where(a > 3, a, -a), lambda a: a.to(torch.float16),
                  lambda a: a.clamp(2, 9), lambda a: a.round(), lambda a: a.nan_to_num()):
            c, g = f(make(base)), f(make(base.cuda()))
            assert g.stride() == c.stride() and g.is_contiguous() == c.is_contiguous()
            # (CUDA's expf is within 2 ulps of the CPU's, not equal)
            np.testing.assert_allclose(g.cpu().numpy(), c.numpy(), rtol=5e-7, atol=0)
