"""Session 40 (d40): finds from running timm 1.0.31's model sources with `import gpujit as torch`
(eager, torch.jit.script, torch.jit.trace, scripted backward against PyTorch 2.13; harness in
/work/notes/models40/). Torch's answers written out; no torch or timm import.

1. `from torch.jit.annotations import List` (timm's densenet.py; older torchvision code): torch's
   torch.jit.annotations re-exports typing's Any, Dict, List, Optional, Tuple, Union and
   torch.jit.Future. gpujit's module had only the BroadcastingListN names, so `import timm`
   raised ImportError.
2. A homogeneous tuple assigned, in a nested block, to a variable of an enclosing block whose type
   is a List (or Optional[List]) converts to a list, as TorchScript's setSugaredVar
   (tryConvertToType): timm's resample_abs_pos_embed (every ViT / DeiT)
       def f(x, old_size: Optional[List[int]] = None):
           if old_size is None:
               hw = int(x.shape[0]); old_size = hw, hw      # int[] = prim::ListConstruct(%hw, %hw)
   torch scripts it (old_size is int[] after the if); gpujit refused "Variable 'old_size' is a
   Tuple[int, int] on one branch and a List[int] on the other".
3. Convolution backward computed every input's gradient: a first layer's input needs none, and
   its gradient, a transposed convolution run as a stride-1 convolution of the zero-stuffed
   output gradient, cost minutes for timm's mixer_s32 (a 32x32 stride-32 patch embedding,
   float64: 200 s of the 250 s run). PyTorch's convolution_backward takes an output_mask and
   computes only the needed gradients; gpujit's conv1d/2d/3d and conv_transpose derivatives now
   read needs_grad (one conv2d in the backward for the weight's gradient alone).
4. hardsigmoid's gradient: PyTorch's hardsigmoid_backward kernels multiply the gradient by
   one_sixth(1.0f / 6.0f), the float32 constant, in float64 too: x = 0.5, grad 1 gives
   0x1.5555560000000p-3 = 0.1666666716337204 (gpujit: grad / 6, 0x1.5555555555555p-3); in float32
   grad * 0.16666667f rounds differently from grad / 6 for some values. timm's MobileNetV3 /
   GhostNet / LCNet squeeze-excite gates (nn.Hardsigmoid): float64 weight gradients off by 3e-8.
5. An assert whose test is decided at compile time: TorchScript's emitAssert emits only the branch
   taken, so `assert self.aggregate is not None, 'removed'` of a None attribute raises there and
   the statements after it in that block are not compiled (timm's CoaT-Lite forward_head then
   calls the None `self.aggregate(x)`; torch 2.13 scripts it:
       if isinstance(x_feat, list):
           ops.prim.RaiseException("AssertionError: removed")
           x = _0            # uninitialized(Tensor)
   ); a passing one (`assert self.w is not None` of a Tensor) emits nothing. gpujit compiled the
   rest and refused "'CoaT' has no method 'aggregate'".
6. getattr(self, 'aa', None) of a module's submodule is the submodule (timm's ConvNormAct reads
   its anti-aliasing layer so: `aa = getattr(self, 'aa', None); if aa is not None: x =
   self.aa(x)`); torch 2.13's code: `aa = self.aa; return (aa).forward(x0, )`. gpujit decided the
   3-argument getattr from the module's class type, which lists no submodules, so it took the
   default and skipped every TResNet blur pool (scripted forward then failed on an add of
   [2, 128, 16, 16] and [2, 128, 8, 8]). Parameters, buffers, attributes and a missing name (the
   default) were already right.
7. any() / all() of a tuple of one element type (int, float, bool, str): TorchScript converts it
   to the List its aten::any / all overloads take (timm's Swin: `has_shift = any(self.shift_size)`
   of a Tuple[int, int] attribute; torch 2.13's code `_0, _1, = shift; torch.any([_0, _1])`).
   gpujit refused "any() with (a Tuple[int, int]) is not supported".
8. A condition that is a bool module constant (a Final[bool] attribute: `if self.fork_feat:`) is
   decided at compile time, TorchScript's emitCondExpr "MetaCompile on boolean literals and
   constants": only the branch taken is compiled (timm's FastVit reads self.out_indices, never
   set, in the other; gpujit refused "module 'FastVit' has no attribute 'out_indices'"). A bool
   only: an int or str constant (`if self.k:`) goes through aten::Bool and both branches are
   compiled in torch too; self.training is no constant.
9. `for i, (conv, bn) in enumerate(zip(self.convs, self.bns)):` of two ModuleLists unrolls (timm's
   Res2Net); gpujit refused "zip() with (a ModuleList, a ModuleList) is not supported" (zip alone
   worked). enumerate(zip(xs, ys), 3) of lists: torch's values.
10. torch.jit.trace of an in-place op on a tensor whose memory other live tensors share
   (`out = torch.cat([x, x * 2], 1); y = out[:, :3]; y += 1`; timm GhostNet's `x +=
   self.shortcut(shortcut)` after a cat's slice) is silent in torch 2.13: the "There are N live
   references to the data region being modified when tracing in-place operator" TracerWarning
   comes from ensureUniqueIfOutOfPlaced, which returns unless the trace forces ops out of place
   (_force_outplace=True). gpujit warned on every trace.
"""
from __future__ import annotations

from typing import List, Optional, Tuple, Union

import re

import numpy as np
import pytest

import gpujit as torch


def test_jit_annotations_reexports_typing_names():
    import typing
    from gpujit.jit import annotations as A
    from gpujit.jit.annotations import Any, Dict, Future, List as L, Optional as O, Tuple as Tu, Union
    assert (L, O, Tu, Dict, Any, Union) == (typing.List, typing.Optional, typing.Tuple, typing.Dict,
                                            typing.Any, typing.Union)
    assert Future is torch.jit.Future
    assert A.BroadcastingList2 is not None


def _tuple_for_optional_list(x: torch.Tensor, old_size: Optional[List[int]] = None):
    if old_size is None:
        hw = int(x.shape[0])
        old_size = hw, hw
    return x.reshape(old_size[0], old_size[1], -1)


def _tuple_for_list(x: torch.Tensor, flag: bool):
    s: List[int] = [1, -1]
    if flag:
        s = x.shape[0], -1
    return x.reshape(s), s


def _tuple_of_tuples(flag: bool):
    p: Tuple[float, List[int]] = (1.0, [2])
    if flag:
        p = (3.0, (4, 5))
    return p


def _tuple_of_tuples_int_for_float(flag: bool):
    p: Tuple[float, List[int]] = (1.0, [2])
    if flag:
        p = (3, (4, 5))
    return p


def test_tuple_assigned_to_enclosing_list_variable_converts():
    f = torch.jit.script(_tuple_for_optional_list)
    g = str(f.graph)
    assert re.search(r"int\[\] = prim::ListConstruct\(%hw(\.\d+)?, %hw", g), g
    assert "prim::TupleConstruct" not in g
    x = torch.arange(32.0).reshape(4, 4, 2)
    assert tuple(f(x).shape) == (4, 4, 2)
    assert tuple(f(x, [2, 8]).shape) == (2, 8, 2)
    h = torch.jit.script(_tuple_for_list)
    y, s = h(x, True)
    assert s == [4, -1] and tuple(y.shape) == (4, 8)
    y, s = h(x, False)
    assert s == [1, -1] and tuple(y.shape) == (1, 32)
    np.testing.assert_array_equal(y.numpy().ravel(), np.arange(32.0))
    # element by element for a tuple: torch gives (3.0, [4, 5])
    k = torch.jit.script(_tuple_of_tuples)
    assert k(True) == (3.0, [4, 5]) and isinstance(k(True)[1], list)
    assert k(False) == (1.0, [2])


def _tuple_of_mixed_for_list(flag: bool):
    s: List[int] = [1]
    if flag:
        s = (1, 2.0)
    return s


def test_tuple_not_fitting_list_still_refused():
    # torch: "Variable 's' previously had type List[int] but is now being assigned to a value of
    # type Tuple[int, float]"
    with pytest.raises(Exception, match="previously had type List\\[int\\]"):
        torch.jit.script(_tuple_of_mixed_for_list)
    # an int is never a float: "Variable 'p' previously had type Tuple[float, List[int]] but is
    # now being assigned to a value of type Tuple[int, List[int]]"
    with pytest.raises(Exception, match="previously had type Tuple\\[float, List\\[int\\]\\] but is now "
                                        "being assigned to a value of type Tuple\\[int, List\\[int\\]\\]"):
        torch.jit.script(_tuple_of_tuples_int_for_float)


def _backward_convs(x_grad, w_grad, b_grad=False):
    x = torch.ones(1, 2, 8, 8, dtype=torch.float64, requires_grad=x_grad)
    w = torch.ones(3, 2, 4, 4, dtype=torch.float64, requires_grad=w_grad)
    b = torch.zeros(3, dtype=torch.float64, requires_grad=b_grad)
    y = torch.nn.functional.conv2d(x, w, b, stride=4)
    with torch.autograd.profiler.profile() as p:
        y.sum().backward()
    n = sum(e.name == "aten::conv2d" for e in p.function_events)
    return n, x.grad, w.grad, b.grad


def test_conv_backward_computes_only_needed_gradients():
    n, gx, gw, gb = _backward_convs(False, True)
    assert n == 1 and gx is None and gb is None
    np.testing.assert_array_equal(gw.numpy(), np.full((3, 2, 4, 4), 4.0))   # 2x2 windows of ones
    n, gx, gw, gb = _backward_convs(True, False, True)
    assert n == 1 and gw is None
    np.testing.assert_array_equal(gx.numpy(), np.full((1, 2, 8, 8), 3.0))   # 3 output channels
    np.testing.assert_array_equal(gb.numpy(), np.full(3, 4.0))
    n, gx, gw, gb = _backward_convs(True, True)
    assert n == 2
    np.testing.assert_array_equal(gw.numpy(), np.full((3, 2, 4, 4), 4.0))
    # conv1d / conv3d / conv_transpose2d: the input's gradient alone, the weight's alone
    F = torch.nn.functional
    for f, xs, ws in ((F.conv1d, (2, 3, 5), (4, 3, 3)), (F.conv3d, (2, 3, 4, 4, 4), (4, 3, 2, 2, 2)),
                      (F.conv_transpose2d, (2, 3, 5, 5), (3, 4, 3, 3))):
        x = torch.ones(xs, dtype=torch.float64, requires_grad=True)
        w = torch.ones(ws, dtype=torch.float64)
        f(x, w).sum().backward()
        assert x.grad is not None and w.grad is None
        x = torch.ones(xs, dtype=torch.float64)
        w = torch.ones(ws, dtype=torch.float64, requires_grad=True)
        f(x, w).sum().backward()
        assert w.grad is not None and x.grad is None


def _hsig(x):
    return torch.nn.functional.hardsigmoid(x)


def test_hardsigmoid_backward_uses_float32_one_sixth():
    x = torch.tensor([-4.0, -3.0, -1.0, 0.5, 2.0, 3.0, 5.0], dtype=torch.float64, requires_grad=True)
    g, = torch.autograd.grad(torch.nn.functional.hardsigmoid(x).sum(), x)
    assert [float(v).hex() for v in g] == ["0x0.0p+0", "0x0.0p+0"] + ["0x1.5555560000000p-3"] * 3 + [
        "0x0.0p+0", "0x0.0p+0"]
    r = np.random.RandomState(0)
    sixth = np.float32(1.0) / np.float32(6.0)
    for dt in (np.float32, np.float64):
        xs = (r.randn(2000) * 3).astype(dt)
        go = r.randn(2000).astype(dt)
        want = np.where((xs > -3) & (xs < 3), go * dt(sixth), dt(0))
        x = torch.from_numpy(xs).requires_grad_()
        g, = torch.autograd.grad(torch.nn.functional.hardsigmoid(x), x, torch.from_numpy(go))
        np.testing.assert_array_equal(g.numpy(), want)
        # scripted (profiled, then the fused graph's backward)
        f = torch.jit.script(_hsig)
        for _ in range(3):
            x = torch.from_numpy(xs).requires_grad_()
            g, = torch.autograd.grad(f(x), x, torch.from_numpy(go))
            np.testing.assert_array_equal(g.numpy(), want)


class _StaticAssertHead(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.aggregate = None
        self.w = torch.nn.Parameter(torch.ones(2))

    def head(self, x_feat: Union[torch.Tensor, List[torch.Tensor]]):
        if isinstance(x_feat, list):
            assert self.aggregate is not None, "Aggregate head removed"
            x = torch.stack(x_feat, dim=1)
            x = self.aggregate(x).squeeze(dim=1)
        else:
            assert self.w is not None
            x = x_feat * self.w
        return x

    def forward(self, x):
        return self.head(x)


class _StaticAssertOnly(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.agg = None

    def forward(self, x):
        assert self.agg is not None
        return self.agg(x)


def test_assert_decided_at_compile_time():
    s = torch.jit.script(_StaticAssertHead())
    code = s.head.code
    assert code.count("RaiseException") == 1 and "AssertionError: Aggregate head removed" in code, code
    assert "aggregate" not in code.replace("Aggregate head", ""), code
    np.testing.assert_array_equal(s(torch.tensor([1.0, 2.0])).detach().numpy(), [1.0, 2.0])
    with pytest.raises(Exception, match="AssertionError: Aggregate head removed"):
        s.head([torch.ones(2), torch.ones(2)])
    t = torch.jit.script(_StaticAssertOnly())     # torch: the forward only raises
    with pytest.raises(Exception, match="AssertionError"):
        t(torch.ones(2))


class _GetattrSubmodule(torch.nn.Module):
    def __init__(self, with_aa):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 2, 1)
        self.aa = torch.nn.AvgPool2d(2) if with_aa else None
        self.scale = 3.0

    def forward(self, x):
        x = self.conv(x)
        aa = getattr(self, "aa", None)
        if aa is not None:
            x = self.aa(x)
        return x * getattr(self, "scale", 1.0) + getattr(self, "missing", 5)


def test_getattr_default_of_a_submodule():
    x = torch.ones(1, 2, 4, 4)
    for with_aa, shape in ((True, (1, 2, 2, 2)), (False, (1, 2, 4, 4))):
        m = _GetattrSubmodule(with_aa)
        s = torch.jit.script(m)
        assert ("aa = self.aa" in s.code) is with_aa, s.code
        y = s(x)
        assert tuple(y.shape) == shape
        np.testing.assert_allclose(y.detach().numpy(), m(x).detach().numpy(), rtol=1e-6)


class _AnyOfTuple(torch.nn.Module):
    def __init__(self, shift):
        super().__init__()
        self.shift_size = shift

    def forward(self, x):
        t: Tuple[int, int] = (1, 0)
        fl = (1.5, 0.0)
        bl = (True, False)
        out = x * 2 if any(self.shift_size) else x
        return out, any(self.shift_size), all(self.shift_size), any(t), all(t), any(fl), all(bl)


def test_any_all_of_a_homogeneous_tuple():
    # torch 2.13: (_, True, False, True, False, True, False) for (0, 2); (_, False, False, ...) for (0, 0)
    s = torch.jit.script(_AnyOfTuple((0, 2)))
    out, *flags = s(torch.ones(2))
    assert flags == [True, False, True, False, True, False]
    np.testing.assert_array_equal(out.numpy(), [2.0, 2.0])
    s = torch.jit.script(_AnyOfTuple((0, 0)))
    out, *flags = s(torch.ones(2))
    assert flags == [False, False, True, False, True, False]
    np.testing.assert_array_equal(out.numpy(), [1.0, 1.0])


class _FinalFlag(torch.nn.Module):
    fork: torch.jit.Final[bool]

    def __init__(self, fork):
        super().__init__()
        self.fork = fork
        self.stages = torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.Tanh()])
        if fork:
            self.out_indices = [1]

    def forward(self, x):
        outs = []
        for idx, block in enumerate(self.stages):
            x = block(x)
            if self.fork:
                if idx in self.out_indices:
                    outs.append(x)
        if not self.fork:
            return x
        return torch.cat(outs)


class _IntConstantFlag(torch.nn.Module):
    __constants__ = ["k"]

    def __init__(self):
        super().__init__()
        self.k = 0

    def forward(self, x):
        if self.k:
            return self.nope(x)
        return x


class _EnumerateZipModules(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.Tanh()])
        self.bns = torch.nn.ModuleList([torch.nn.Sigmoid(), torch.nn.ReLU()])

    def forward(self, x, xs: List[int], ys: List[float]):
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns), 2):
            x = bn(conv(x)) * i
        t = 0.0
        for j, (a, b) in enumerate(zip(xs, ys)):
            t += j * a + b
        for j, (a, b) in enumerate(zip(xs, ys), 3):
            t += j * a - b
        return x, t


def test_bool_module_constant_condition_compiles_one_branch():
    x = torch.tensor([-0.5, 0.5])
    s = torch.jit.script(_FinalFlag(False))
    assert "out_indices" not in s.code
    np.testing.assert_allclose(s(x).numpy(), np.tanh([0.0, 0.5]), rtol=1e-6)
    s = torch.jit.script(_FinalFlag(True))
    np.testing.assert_allclose(s(x).numpy(), np.tanh([0.0, 0.5]), rtol=1e-6)
    # torch: "Module '_IntConstantFlag' has no attribute 'nope'" (both branches compiled)
    with pytest.raises(Exception, match="nope"):
        torch.jit.script(_IntConstantFlag())


def test_enumerate_zip_of_module_lists():
    s = torch.jit.script(_EnumerateZipModules())
    y, t = s(torch.tensor([-0.5, 1.0]), [1, 2, 3], [0.5, 0.25])
    # torch 2.13: (tensor([2.2848, ...]), 13.0): ((sigmoid(0) * 2 = 1) -> tanh -> relu) * 3
    want = np.maximum(np.tanh(1 / (1 + np.exp(-np.maximum([-0.5, 1.0], 0))) * 2), 0) * 3
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-6)
    assert t == 13.0


def _inplace_on_a_cat_slice(x):
    out = torch.cat([x, x * 2], dim=1)
    y = out[:, :3]
    y += 1
    return y


def test_trace_inplace_with_live_views_is_silent():
    import warnings
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t = torch.jit.trace(_inplace_on_a_cat_slice, torch.ones(3, 4), check_trace=False)
    assert not [x for x in w if "live references" in str(x.message)], [str(x.message) for x in w]
    np.testing.assert_array_equal(t(torch.ones(2, 4)).numpy(), np.full((2, 3), 2.0))
    with warnings.catch_warnings(record=True) as w:         # ONNX export's out-of-place trace warns
        warnings.simplefilter("always")
        torch.jit.trace(_inplace_on_a_cat_slice, torch.ones(3, 4), check_trace=False,
                        _force_outplace=True)
    assert [x for x in w if "live references to the data region" in str(x.message)]
