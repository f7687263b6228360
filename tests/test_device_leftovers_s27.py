"""Session 27 leftovers of the device / cache work (helper e27): cache_info's report of two
compiled functions of one name, the strides of copies of tensors with no elements (and of
size-1 dims), the device in the names of unimplemented kernels, and jit.save of CUDA
tensors that share a storage. Expected values checked against torch 2.13."""
from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import gpujit
from cache_seed import warm
from gpujit import kernels

HERE = os.path.dirname(os.path.abspath(__file__))


def _under_fake_cupy(src, tmp_path, fake=True):
    """Run `src` (written to a file: scripted code needs its source) in a subprocess
    against tests/fakecupy (a NumPy-backed CuPy with two devices); return its stdout."""
    path = os.pathsep.join(p for p in (os.path.join(HERE, "fakecupy") if fake else None,
                                       os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, PYTHONPATH=path, FAKECUPY_NDEV="2", FAKECUPY_STRICT_DEVICE="1",
               GPUJIT_CACHE_DIR=warm(tmp_path))
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    script = tmp_path / "snippet_s27.py"
    script.write_text(textwrap.dedent(src))
    r = subprocess.run([sys.executable, str(script)], capture_output=True,
                       text=True, env=env, cwd=str(tmp_path), timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout


# ------------------------------------------------------------------ 1. cache_info

def _make(c):
    # (two functions of one name, different bodies; not a closure over c: torch.jit.script
    # refuses a closed-over float, "python value of type 'float' cannot be used as a value")
    if c == 0.5:
        def same_name_fn(x, y):
            return gpujit.tanh(x * 0.5 + y) * gpujit.sigmoid(x - y)
    else:
        def same_name_fn(x, y):
            return gpujit.tanh(x * 0.25 + y) * gpujit.sigmoid(x - y)
    return gpujit.jit.script(same_name_fn)


def test_cache_info_keeps_two_functions_of_one_name_apart():
    old = gpujit.set_fusion_strategy([("STATIC", 2)])
    try:
        f1, f2 = _make(0.5), _make(0.25)
        for _ in range(3):
            f1(gpujit.rand(8), gpujit.rand(8))
            f2(gpujit.rand(5, 3), gpujit.rand(5, 3))
        specs = kernels.cache_info().specializations
        # (before: {'same_name_fn': ['STATIC(8)', 'STATIC(5x3)']}, one function's kernels)
        assert specs["same_name_fn"] == ["STATIC(8)"]
        assert specs["same_name_fn#2"] == ["STATIC(5x3)"]
        for _ in range(2):
            f1(gpujit.rand(4), gpujit.rand(4))
        specs = kernels.cache_info().specializations
        assert specs["same_name_fn"] == ["STATIC(8)", "STATIC(4)"]
        assert specs["same_name_fn#2"] == ["STATIC(5x3)"]
        del f1
        gc.collect()
        # the one left is listed under its name
        assert kernels.cache_info().specializations["same_name_fn"] == ["STATIC(5x3)"]
        assert "same_name_fn#2" not in kernels.cache_info().specializations
        del f2
        gc.collect()
        assert "same_name_fn" not in kernels.cache_info().specializations
    finally:
        gpujit.set_fusion_strategy(old)


def test_cache_info_keeps_two_modules_forwards_apart():
    class M(gpujit.nn.Module):
        def __init__(self, c):
            super().__init__()
            self.c = c

        def forward(self, x):
            return gpujit.relu(x * self.c + 1.0) - x

    old = gpujit.set_fusion_strategy([("STATIC", 2)])
    try:
        a, b = gpujit.jit.script(M(2.0)), gpujit.jit.script(M(3.0))
        before = {k for k in kernels.cache_info().specializations if k.startswith("forward")}
        for _ in range(3):
            a(gpujit.rand(6))
            b(gpujit.rand(7))
        specs = kernels.cache_info().specializations
        mine = {k: v for k, v in specs.items() if k.startswith("forward") and k not in before}
        got = sorted(v for v in mine.values())
        assert got == [["STATIC(6)"], ["STATIC(7)"]], specs
    finally:
        gpujit.set_fusion_strategy(old)


# ------------------------------------------------------------------ 2. strides of copies

# (shape, physical layout, the strides torch 2.13 gives empty_permuted and every copy of it
# in preserve_format: clone, to(dtype), empty_like / zeros_like / ones_like / rand_like,
# flip (a tensor with no elements is "non-overlapping and dense": its strides are copied))
EMPTY = [((0, 3), (1, 0), (1, 1)), ((2, 0, 3), (2, 0, 1), (1, 1, 2)),
         ((3, 0), (1, 0), (1, 3)), ((2, 3, 0), (1, 2, 0), (1, 2, 2)),
         ((1, 0, 1), (2, 1, 0), (1, 1, 1)), ((0,), (0,), (1,))]


def _copies(torch, e):
    return {"self": e.stride(), "clone": e.clone().stride(),
            "contiguous": e.contiguous().stride(), "to64": e.to(torch.float64).stride(),
            "double": e.double().stride(), "int": e.to(torch.int32).stride(),
            "empty_like": torch.empty_like(e).stride(),
            "zeros_like": torch.zeros_like(e).stride(),
            "ones_like": torch.ones_like(e).stride(),
            "rand_like": torch.rand_like(e).stride(), "flip": e.flip(0).stride()}


@pytest.mark.parametrize("shape,perm,strides", EMPTY)
def test_copies_of_an_empty_tensor_keep_its_strides(shape, perm, strides):
    e = gpujit.empty_permuted(shape, perm)
    got = _copies(gpujit, e)
    assert got == {k: strides for k in got}
    # an explicit format lays it out in that format; copy_ keeps the target's strides
    assert e.clone(memory_format=gpujit.contiguous_format).stride() == \
        gpujit.empty(shape).stride()
    d = gpujit.empty(shape)
    d.copy_(e)
    assert d.stride() == gpujit.empty(shape).stride()
    d = gpujit.empty_strided(shape, strides)
    d.copy_(gpujit.empty(shape))
    assert d.stride() == strides


def test_empty_tensor_strides_match_torch():
    torch = pytest.importorskip("torch")
    for shape, perm, _ in EMPTY:
        assert _copies(gpujit, gpujit.empty_permuted(shape, perm)) == \
            _copies(torch, torch.empty_permuted(shape, perm))
    for shape, st in (((0, 3), (5, 7)), ((4, 0, 2), (1, 100, 4)), ((2, 0), (0, 1)),
                      ((3, 1), (1, 5)), ((1, 3), (7, 1)), ((2, 1, 3), (3, 9, 1))):
        assert _copies(gpujit, gpujit.empty_strided(shape, st)) == \
            _copies(torch, torch.empty_strided(shape, st)), (shape, st)


@pytest.mark.parametrize("shape,st", [((3, 1), (1, 5)), ((1, 3), (7, 1)),
                                      ((2, 1, 3), (3, 9, 1)), ((0, 3), (5, 7)),
                                      ((4, 0, 2), (1, 100, 4))])
def test_dense_tensors_copies_keep_the_strides_of_their_size_one_dims(shape, st):
    # PyTorch's empty_like copies the strides of a non-overlapping and dense tensor as
    # they are, those of its size-1 dims too
    e = gpujit.empty_strided(shape, st)
    got = _copies(gpujit, e)
    assert got == {k: st for k in got}
    x = gpujit.arange(float(np.prod(shape))).reshape(shape)
    y = gpujit.empty_strided(shape, st).copy_(x)
    for c in (y.clone(), y.double(), y.to(gpujit.int32)):
        np.testing.assert_array_equal(c.numpy(), x.numpy())
        assert c.stride() == st


def test_empty_tensor_strides_on_the_fake_gpu(tmp_path):
    out = _under_fake_cupy("""
        import gpujit as torch
        for shape, perm in [((0, 3), (1, 0)), ((2, 0, 3), (2, 0, 1)), ((3, 0), (1, 0))]:
            e = torch.empty_permuted(shape, perm, device="cuda")
            c = torch.empty_permuted(shape, perm)
            print([e.stride(), e.clone().stride(), e.to(torch.float64).stride(),
                   torch.empty_like(e).stride(), torch.zeros_like(e).stride(),
                   e.contiguous().stride(), e.flip(0).stride(), c.to("cuda").stride(),
                   e.cpu().stride(), c.cuda().clone().stride()])
    """, tmp_path)
    want = [(1, 1), (1, 1, 2), (1, 3)]
    for line, st in zip(out.strip().splitlines(), want):
        assert line == repr([st] * 10)


# ------------------------------------------------------------------ 3. kernel names

KERNEL_CASES = """
import gpujit as torch
dev = DEV
b = torch.tensor([True, False], device=dev)
i = torch.tensor([1, 2], device=dev)
f = torch.tensor([1.5, 2.5], device=dev)
cases = [
    lambda: torch.igamma(b, b), lambda: i.clone().log_normal_(),
    lambda: b.clone().geometric_(0.5), lambda: b.median(), lambda: b.kthvalue(1),
    lambda: b.argmax(), lambda: i.logcumsumexp(0), lambda: b.cumsum(0, dtype=torch.bool),
    lambda: torch.searchsorted(b, b), lambda: f.bincount(),
    lambda: torch.repeat_interleave(f), lambda: torch.poisson(i),
    lambda: torch.bernoulli(i), lambda: torch.nn.functional.glu(i),
]
for fn in cases:
    try:
        fn()
        print("no error")
    except RuntimeError as e:
        print(str(e).split(chr(10))[0])
"""

# (torch 2.13's CPU messages; on CUDA its kernels are named as in ATen's .cu sources)
KERNEL_CPU = ['"igamma_cpu" not implemented for \'Bool\'',
              '"log_normal_cpu" not implemented for \'Long\'',
              '"geometric_cpu" not implemented for \'Bool\'',
              '"median_cpu" not implemented for \'Bool\'',
              '"kthvalue_cpu" not implemented for \'Bool\'',
              'argmax(): does not support bool input',
              '"logcumsumexp_out_cpu" not implemented for \'Long\'',
              '"cumsum_out_cpu" not implemented for \'Bool\'',
              '"searchsorted_out_cpu" not implemented for \'Bool\'',
              '"bincount_cpu" not implemented for \'Float\'',
              '"repeat_interleave_cpu" not implemented for \'Float\'',
              '"poisson_cpu" not implemented for \'Long\'',
              '"bernoulli_tensor_cpu_p_" not implemented for \'Long\'',
              '"glu_cpu" not implemented for \'Long\'']
KERNEL_CUDA = [s.replace("logcumsumexp_out_cpu", "logcumsumexp_cuda")
               .replace("cumsum_out_cpu", "cumsum_cuda")
               .replace("searchsorted_out_cpu", "searchsorted_out_cuda")
               .replace("_cpu_", "_cuda_").replace('_cpu"', '_cuda"') for s in KERNEL_CPU]


def test_kernel_names_in_errors_on_the_cpu(capsys):
    exec(KERNEL_CASES, {"DEV": "cpu"})
    assert capsys.readouterr().out.splitlines() == KERNEL_CPU


def test_kernel_names_in_errors_match_torch_on_the_cpu(capsys):
    pytest.importorskip("torch")
    exec(KERNEL_CASES.replace("import gpujit as torch", "import torch"), {"DEV": "cpu"})
    assert capsys.readouterr().out.splitlines() == KERNEL_CPU


def test_kernel_names_in_errors_name_the_cuda_kernels(tmp_path):
    out = _under_fake_cupy(KERNEL_CASES.replace("DEV", '"cuda"'), tmp_path)
    assert out.splitlines() == KERNEL_CUDA
    assert '"igamma_cuda" not implemented for \'Bool\'' in KERNEL_CUDA


def test_kernel_name_helper():
    from gpujit.ops.kernel_names import kernel_name
    assert kernel_name("igamma_cpu", np) == "igamma_cpu"
    assert kernel_name("igamma_cpu", gpujit.device("cuda", 0)) == "igamma_cuda"
    assert kernel_name("igamma_cpu", gpujit.device("cpu")) == "igamma_cpu"
    assert kernel_name("cumprod_out_cpu", gpujit.device("cuda")) == "cumprod_cuda"
    assert kernel_name("addmm_impl_cpu_", gpujit.device("cuda")) == "addmm_cuda"
    assert kernel_name("igamma_cpu", np.zeros(2)) == "igamma_cpu"


# ------------------------------------------------------------------ 4. jit.save of views

SHARED = """
import io
import gpujit as torch

class M(torch.nn.Module):
    def __init__(self, dev):
        super().__init__()
        base = torch.arange(6.0, device=dev)
        self.register_buffer("a", base)
        self.register_buffer("b", base[2:5])
        self.w = torch.nn.Parameter(torch.ones(2, 3, device=dev))
        self.register_buffer("wt", self.w.detach().t())

    def forward(self, x):
        return x + self.a.sum() + self.b.sum()

for dev, loc in (("DEV", None), ("DEV", "cpu")):
    m = torch.jit.script(M(dev))
    f = io.BytesIO()
    torch.jit.save(m, f)
    f.seek(0)
    n = torch.jit.load(f, map_location=loc)
    same = n.a.untyped_storage().data_ptr() == n.b.untyped_storage().data_ptr()
    same_w = n.w.untyped_storage().data_ptr() == n.wt.untyped_storage().data_ptr()
    n.a.add_(1)
    with torch.no_grad():
        n.w.mul_(3)
    print(str(n.a.device), str(n.b.device), same, n.b.storage_offset(), n.b.tolist(),
          same_w, n.wt.stride(), n.wt.tolist())
"""


def test_saved_views_share_their_storage_on_the_cpu(tmp_path):
    out = _under_fake_cupy(SHARED.replace("DEV", "cpu"), tmp_path, fake=False)
    want = "True 2 [3.0, 4.0, 5.0] True (1, 3) [[3.0, 3.0], [3.0, 3.0], [3.0, 3.0]]"
    assert out.splitlines() == ["cpu cpu " + want] * 2


def test_saved_cuda_views_share_their_storage(tmp_path):
    out = _under_fake_cupy(SHARED.replace("DEV", "cuda"), tmp_path)
    want = "True 2 [3.0, 4.0, 5.0] True (1, 3) [[3.0, 3.0], [3.0, 3.0], [3.0, 3.0]]"
    # (before: the cuda tensors were saved apart and loaded into separate memory)
    assert out.splitlines() == ["cuda:0 cuda:0 " + want, "cpu cpu " + want]
