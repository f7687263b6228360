"""Scripting gaps found by helper b56 (session 56): expected values and graph text from
torch 2.13 (CPU), pinned here so the tests run without torch."""
from typing import List, Optional

import numpy as np
import pytest

import gpujit
import gpujit.nn as nn
from gpujit import Tensor


def _to_lines(fn):
    return [ln.split("#")[0].strip() for ln in str(fn.graph).splitlines() if "aten::to" in ln]


# ---------------- 1. x.to(d) with d Optional[Device] / None, x.to(dt) with Optional dtype
# (TorchScript's aten::to.prim_Device / prim_dtype overloads)

def test_to_optional_device():
    @gpujit.jit.script
    def f(x: Tensor, d: Optional[gpujit.device] = None):
        return x.to(d)
    x = gpujit.arange(3.0)
    assert f(x, None) is x                      # nothing to change: x itself, as torch
    np.testing.assert_array_equal(f(x, gpujit.device("cpu")).numpy(), [0, 1, 2])
    # torch: %y : Tensor = aten::to(%x.1, %d.1, %none, %false, %false)  (5 inputs)
    (line,) = _to_lines(f)
    assert line.count("%") == 6 and "%d.1" in line
    assert "return torch.to(x, d)" in f.code


def test_to_optional_device_and_dtype():
    @gpujit.jit.script
    def f(x: Tensor, d: Optional[gpujit.device] = None, dt: Optional[gpujit.dtype] = None):
        return x.to(d, dt)
    x = gpujit.arange(3.0)
    assert f(x, None, gpujit.float64).dtype == gpujit.float64
    assert f(x, gpujit.device("cpu"), None).dtype == gpujit.float32
    assert "return torch.to(x, d, dt)" in f.code

    @gpujit.jit.script
    def g(x: Tensor, d: Optional[gpujit.device] = None):
        return x.to(d, gpujit.float64, copy=True)
    y = g(x, None)
    assert y.dtype == gpujit.float64
    np.testing.assert_array_equal(y.numpy(), [0, 1, 2])


def test_to_copy_with_optional_device_copies():
    @gpujit.jit.script
    def f(x: Tensor, d: Optional[gpujit.device]):
        return x.to(d, copy=True)
    x = gpujit.arange(3.0)
    y = f(x, None)
    assert y is not x
    y.add_(1)
    np.testing.assert_array_equal(x.numpy(), [0, 1, 2])
    assert "return torch.to(x, d, None, False, True)" in f.code


def test_to_optional_dtype_and_none():
    @gpujit.jit.script
    def f(x: Tensor, dt: Optional[gpujit.dtype]):
        return x.to(dt)

    @gpujit.jit.script
    def g(x: Tensor):
        return x.to(None)
    x = gpujit.arange(3)
    assert f(x, gpujit.float16).dtype == gpujit.float16
    assert f(x, None) is x
    assert g(x) is x
    # torch: aten::to(%x.1, %dt.1, %false, %false) (to.prim_dtype); to(x, None) prim_Device
    (line,) = _to_lines(f)
    assert line.count("%") == 5
    assert "return torch.to(x, None)" in g.code


def test_to_optional_device_gradient():
    @gpujit.jit.script
    def f(x: Tensor, d: Optional[gpujit.device]):
        return (x.to(d, gpujit.float64) * 2).sum()
    x = gpujit.ones(3, requires_grad=True)
    f(x, None).backward()
    assert x.grad.dtype == gpujit.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 2])


# ---------------- 2. self.c(x) of a @classmethod / self.s(x) of a @staticmethod

class _WithClassMethods(nn.Module):
    @staticmethod
    def s(x):
        return x * 2

    @classmethod
    def c(cls, x):
        return x + 1

    @classmethod
    def d(cls, x: Tensor, n: int = 2):
        return cls.c(x) * n

    def forward(self, x):
        return self.c(x) + self.d(x) + self.s(x)


def test_classmethod_called_on_self():
    m = gpujit.jit.script(_WithClassMethods())
    x = gpujit.ones(2)
    np.testing.assert_array_equal(m(x).numpy(), [8, 8])
    # torch 2.13: compiled as methods whose `cls` is the module, as `self` is
    assert "(self).c(x, )" in m.code and "(self).d(x, 2, )" in m.code
    assert "__torch__.test_script_gaps_b56.s(x, )" in m.code   # (a function, no self)
    assert m.d.code.startswith("def d(cls,")
    assert "torch.mul((cls).c(x, ), n)" in m.d.code
    np.testing.assert_array_equal(m.d(x, 3).numpy(), [6, 6])


def test_classmethod_module_saves_and_loads(tmp_path):
    m = gpujit.jit.script(_WithClassMethods())
    gpujit.jit.save(m, str(tmp_path / "m.pt"))
    back = gpujit.jit.load(str(tmp_path / "m.pt"))
    np.testing.assert_array_equal(back(gpujit.ones(2)).numpy(), [8, 8])


# ---------------- 3. torch.futures.wait_all / collect_all: torch 2.13 cannot script them
# (their `list[Future]` annotation has no element type); eager they work

def _add1(x):
    return x + 1


def test_scripted_wait_all_refused_in_torch_words():
    with pytest.raises(RuntimeError, match="Attempted to use Future without a contained "
                                           "type") as e:
        @gpujit.jit.script
        def f(x: Tensor) -> List[Tensor]:
            futs = [gpujit.jit.fork(_add1, x), gpujit.jit.fork(_add1, x * 2)]
            return gpujit.futures.wait_all(futs)
    assert "return gpujit.futures.wait_all(futs)" in str(e.value)     # the user's line
    assert "torch.jit.wait(f) for f in futs" in str(e.value)
    with pytest.raises(RuntimeError, match="without a contained type"):
        @gpujit.jit.script
        def g(x: Tensor):
            return gpujit.futures.collect_all([gpujit.jit.fork(_add1, x)])


def test_scripted_wait_each_future_and_eager_wait_all():
    @gpujit.jit.script
    def f(x: Tensor) -> List[Tensor]:
        futs = [gpujit.jit.fork(_add1, x), gpujit.jit.fork(_add1, x * 2)]
        return [gpujit.jit.wait(fu) for fu in futs]
    r = f(gpujit.ones(2))
    np.testing.assert_array_equal(np.stack([t.numpy() for t in r]), [[2, 2], [3, 3]])
    futs = [gpujit.jit.fork(_add1, gpujit.ones(2)), gpujit.jit.fork(_add1, gpujit.zeros(2))]
    vals = gpujit.futures.wait_all(futs)
    np.testing.assert_array_equal(np.stack([t.numpy() for t in vals]), [[2, 2], [1, 1]])
    done = gpujit.futures.collect_all(futs).wait()
    assert [d.wait().tolist() for d in done] == [[2.0, 2.0], [1.0, 1.0]]


# ---------------- 4. self.seq[1:](x): torch 2.13 refuses (a slice of a Sequential is a
# tuple of modules in TorchScript): "cannot call a value of type 'Tuple[...]'"

class _SliceCall(nn.Module):
    def __init__(self):
        super().__init__()
        self.seq = nn.Sequential(nn.ReLU(), nn.Sigmoid(), nn.Tanh())

    def forward(self, x):
        return self.seq[1:](x)


class _SliceLoop(_SliceCall):
    def forward(self, x):
        for m in self.seq[1:]:
            x = m(x)
        return x


def test_sequential_slice_call_refused_clearly():
    with pytest.raises(RuntimeError, match=r"cannot call a value of type 'Tuple\[") as e:
        gpujit.jit.script(_SliceCall())
    msg = str(e.value)
    assert "return self.seq[1:](x)" in msg                 # the user's line
    assert "for m in self.seq[1:]: x = m(x)" in msg        # what to write instead


def test_sequential_slice_loop_and_index_run():
    m = gpujit.jit.script(_SliceLoop())
    x = gpujit.tensor([-1.0, 2.0])
    want = np.tanh(1 / (1 + np.exp(-np.array([-1.0, 2.0], dtype=np.float32))))
    np.testing.assert_allclose(m(x).numpy(), want, rtol=1e-6)


def test_to_device_without_dtype_is_prim_device():
    # torch 2.13's to.device needs a dtype: x.to(d) / x.to("cpu") / x.to(d, copy=True) are
    # to.prim_Device (5 inputs); x.to(d, float64) stays to.device (6 inputs)
    @gpujit.jit.script
    def f(x: Tensor, d: gpujit.device):
        return x.to(d), x.to("cpu"), x.to(d, copy=True), x.to(d, gpujit.float64)
    counts = [ln.count("%") for ln in _to_lines(f)]
    assert counts == [6, 6, 6, 7]
    x = gpujit.arange(3.0)
    a, b, c, e = f(x, gpujit.device("cpu"))
    assert a is x and b is x and c is not x and e.dtype == gpujit.float64


def test_prim_to_overloads_save_and_load(tmp_path):
    class M(nn.Module):
        def forward(self, x, d: Optional[gpujit.device] = None,
                    dt: Optional[gpujit.dtype] = None):
            return x.to(d, dt) + x.to(dt) + x.to("cpu")
    m = gpujit.jit.script(M())
    gpujit.jit.save(m, str(tmp_path / "m.pt"))
    back = gpujit.jit.load(str(tmp_path / "m.pt"))
    x = gpujit.arange(3.0)
    y = back(x, None, gpujit.float64)
    assert y.dtype == gpujit.float64
    np.testing.assert_array_equal(y.numpy(), [0, 3, 6])
    assert back.code == m.code


class _ClassNameCall(_WithClassMethods):
    def forward(self, x):
        return _WithClassMethods.c(x) + _WithClassMethods.s(x)


def test_classmethod_through_class_name_refused_with_hint():
    # torch 2.13 refuses it too (it binds x to cls: "Argument x not provided")
    with pytest.raises(RuntimeError) as e:
        gpujit.jit.script(_ClassNameCall())
    msg = str(e.value)
    assert "_WithClassMethods.c(x)" in msg and "self.c(...)" in msg
