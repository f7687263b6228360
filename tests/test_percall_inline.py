"""The per-call inlining of a fused call (session 17): a fusion group's dispatcher runs
its launcher's source in place of calling it (fusers/guards.py inlined_launcher), and a
specialization's code wraps a returned Tensor inline (registry.wrap_statements). Neither
may change what a call does: values, fresh outputs, the launcher's shared state, the
errors a launch raises and the wrapped Tensor's fields."""
import textwrap

import numpy as np
import pytest

import gpujit as torch
from gpujit.fusers import FusedGroup, FusionBudget
from gpujit.fusers.guards import inlined_launcher
from gpujit.ir import parse_ir
from gpujit import fusers

CHAIN = """
graph(%x : Float(4, strides=[1], requires_grad=0, device=cpu),
      %y : Float(4, strides=[1], requires_grad=0, device=cpu)):
  %h : float = prim::Constant[value=0.5]()
  %one : int = prim::Constant[value=1]()
  %a : Float(4, strides=[1], requires_grad=0, device=cpu) = aten::mul(%x, %h)
  %b : Float(4, strides=[1], requires_grad=0, device=cpu) = aten::add(%a, %y, %one)
  %t : Float(4, strides=[1], requires_grad=0, device=cpu) = aten::tanh(%b)
  return (%t)
"""

SCALED = """
graph(%x : Float(4, strides=[1], requires_grad=0, device=cpu),
      %s : float):
  %a : Float(4, strides=[1], requires_grad=0, device=cpu) = aten::mul(%x, %s)
  %b : Float(4, strides=[1], requires_grad=0, device=cpu) = aten::neg(%a)
  return (%b)
"""


def group_of(ir, target="cpu"):
    (node,) = fusers.fuse(parse_ir(textwrap.dedent(ir)))
    return FusedGroup(node, FusionBudget(), target)


def f32(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_the_group_runs_its_launcher_inline_with_the_same_results():
    group = group_of(CHAIN)
    x, y = f32(4), f32(4, seed=1)
    (first,) = group(x, y)
    src = group.dispatch_source
    assert "_k0(" not in src and "_L0_kern(" in src      # the launcher's body, renamed
    launcher = group.specializations[0].fn
    assert launcher.inlinable and "def launch(" in launcher.source
    (second,) = group(x, y)
    (third,) = launcher(x, y)                             # the launcher itself still works
    ref = np.tanh(x * 0.5 + y)
    for out in (first, second, third):
        np.testing.assert_allclose(out, ref, rtol=1e-6)
    assert second is not first and third is not second    # fresh outputs each call


def test_dynamic_inline_launcher_numbers_and_shape_errors():
    group = group_of(SCALED)
    for n in (4, 4, 7, 1, 9):        # STATIC, then DYNAMIC specializations
        x = f32(n, seed=n)
        (out,) = group(x, 2.5)
        np.testing.assert_allclose(out, -(x * 2.5), rtol=1e-6)
    assert "_L" in group.dispatch_source
    (out,) = group(f32(0), 1.5)
    assert out.shape == (0,)


def test_a_launch_that_raises_goes_to_the_groups_failure_path():
    group = group_of(CHAIN)
    x, y = f32(4), f32(4, seed=1)
    group(x, y)
    group(f32(5), f32(5))            # a DYNAMIC specialization
    with pytest.raises(Exception, match="broadcast|size"):
        group(f32(5), f32(3))        # the unfused run raises the user's error


def test_only_launchers_are_inlined():
    ns = {}

    def plain(a0, a1):
        return (a0,)
    assert inlined_launcher(plain, 2, "_L0", ns) is None
    plain.inlinable, plain.source = True, "def plain(a0, a1):\n    return (a0,)\n"
    assert inlined_launcher(plain, 3, "_L0", ns) is None      # another arity

    def star(*args):
        return args
    star.inlinable, star.source = True, "def star(*args):\n    return args\n"
    assert inlined_launcher(star, 0, "_L0", ns) is None and ns == {}


def test_names_after_a_dot_and_in_strings_keep_their_spelling():
    g = {"_x": 1}
    exec("def launch(a, b):\n    r = a.real + _x  # a and _x\n    return ('_x a', r)\n", g)
    fn = g["launch"]
    fn.inlinable, fn.source = True, ("def launch(a, b):\n    r = a.real + _x  # a and _x\n"
                                     "    return ('_x a', r)\n")
    ns = {}
    body = inlined_launcher(fn, 2, "_L3", ns)
    assert body == ["_l3_r = a0.real + _L3_x  # a and _x", "return ('_x a', _l3_r)",
                    "return None"]
    assert ns == {"_L3_x": 1}


def _chain(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y) + torch.relu(x)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_scripted_result_is_wrapped_inline_as_eager_wraps_it(dtype):
    f = torch.jit.script(_chain)
    x = torch.randn(64, dtype=dtype)
    y = torch.randn(64, dtype=dtype)
    outs = [f(x, y) for _ in range(4)]
    ref = _chain(x, y)
    spec = f._executable.specializations[-1]
    assert "_wrap(" not in spec.source and "_new(_T)" in spec.source
    for out in outs:
        assert type(out) is torch.Tensor and out.dtype is dtype and out.device.type == "cpu"
        assert out._version == 0 and not out.requires_grad and out.grad_fn is None
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    assert len({id(o) for o in outs}) == 4
    outs[0].add_(1)                  # an in-place op on one result leaves the others
    assert outs[0]._version == 1 and outs[1]._version == 0
    np.testing.assert_allclose(outs[1].numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


def test_tuple_results_are_each_wrapped():
    @torch.jit.script
    def two(x, y):
        return x * y + 1, x - y
    x, y = torch.randn(8), torch.randn(8)
    for _ in range(3):
        a, b = two(x, y)
    # (atol: the kernel may contract x * y + 1 into one FMA, an ulp of the product off)
    np.testing.assert_allclose(a.numpy(), x.numpy() * y.numpy() + 1, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(b.numpy(), x.numpy() - y.numpy(), rtol=1e-6)
    assert a.dtype is torch.float32 and b.dtype is torch.float32 and a is not b
