"""A fusion group that joins independent computations (fusers/parts.py): the partitioner
merges `a = x * 2 + 1` and `b = y.sin() * 3` into one kernel when their profiled sizes
broadcast together; later sizes that do not ([3, 2] next to [5, 4]) are computed by one
kernel per part, with no FusionWarning, no kernel failure and no spent budget of the
group, and eager's errors where a part's own inputs do not broadcast."""
import textwrap
import warnings

import numpy as np
import pytest

import gpujit
from gpujit import fusers
from gpujit.fusers import FusedGroup, FusionBudget
from gpujit.fusers.parts import parts_of
from gpujit.ir import parse_ir

TWO_PARTS = """
graph(%x : Float(3, 1, strides=[1, 1], requires_grad=0, device=cpu),
      %y : Float(1, 4, strides=[4, 1], requires_grad=0, device=cpu)):
  %two : int = prim::Constant[value=2]()
  %one : int = prim::Constant[value=1]()
  %a0 : Float(3, 1, strides=[1, 1], requires_grad=0, device=cpu) = aten::mul(%x, %two)
  %a : Float(3, 1, strides=[1, 1], requires_grad=0, device=cpu) = aten::add(%a0, %one, %one)
  %b0 : Float(1, 4, strides=[4, 1], requires_grad=0, device=cpu) = aten::sin(%y)
  %b : Float(1, 4, strides=[4, 1], requires_grad=0, device=cpu) = aten::mul(%b0, %two)
  return (%a, %b)
"""


def f32(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def ref(x, y):
    return x * 2 + 1, np.sin(y) * 2


def make(strategy):
    g = parse_ir(textwrap.dedent(TWO_PARTS))
    (node,) = fusers.fuse(g)
    return FusedGroup(node, FusionBudget(list(strategy), name="two"), "cpu")


def check(group, x, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = group(x, y)
    for g, w in zip(got, ref(x, y)):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


def test_parts_of_finds_independent_computations_only():
    g = parse_ir(textwrap.dedent(TWO_PARTS))
    (node,) = fusers.fuse(g)
    parts = parts_of(node.attrs["Subgraph"])
    assert [outs for _, outs in parts] == [[0], [1]]
    chain = parse_ir(textwrap.dedent("""
    graph(%x : Float(4, strides=[1], requires_grad=0, device=cpu),
          %y : Float(4, strides=[1], requires_grad=0, device=cpu)):
      %a : Float(4, strides=[1], requires_grad=0, device=cpu) = aten::sin(%x)
      %b : Float(4, strides=[1], requires_grad=0, device=cpu) = aten::mul(%a, %y)
      %c : Float(4, strides=[1], requires_grad=0, device=cpu) = aten::cos(%b)
      return (%b, %c)
    """))
    (node,) = fusers.fuse(chain)
    assert parts_of(node.attrs["Subgraph"]) is None


@pytest.mark.parametrize("strategy", [[("STATIC", 2), ("DYNAMIC", 2)], [("DYNAMIC", 2)],
                                      [("STATIC", 3)]])
def test_sizes_that_make_no_one_space_run_one_kernel_per_part(strategy):
    group = make(strategy)
    check(group, f32(3, 1), f32(1, 4))          # one kernel for both
    made = len(group.specializations)
    assert made == 1 and group.split_calls == 0
    for k in range(3):
        check(group, f32(3, 2, seed=k), f32(5, 4, seed=k))
    check(group, f32(6, 7), f32(2, 9))
    assert group.split_calls == 4
    assert group.kernel_failures == 0 and group.fallback_calls == 0
    assert len(group.specializations) == made    # the group's own budget is not spent
    parts = [p for p, _, _ in group._split.groups]
    assert len(parts) == 2
    for p in parts:
        assert p.fallback_calls == 0 and p.kernel_failures == 0
        assert p.specializations and all(s.kernel is not None for s in p.specializations)
    check(group, f32(3, 1, seed=5), f32(1, 4, seed=5))   # the group's kernel again
    assert group.split_calls == 4


def test_a_parts_own_bad_sizes_raise_eagers_error():
    g = parse_ir(textwrap.dedent("""
    graph(%x : Float(3, 4, strides=[4, 1], requires_grad=0, device=cpu),
          %z : Float(3, 4, strides=[4, 1], requires_grad=0, device=cpu),
          %y : Float(3, 4, strides=[4, 1], requires_grad=0, device=cpu)):
      %one : int = prim::Constant[value=1]()
      %a0 : Float(3, 4, strides=[4, 1], requires_grad=0, device=cpu) = aten::add(%x, %z, %one)
      %a : Float(3, 4, strides=[4, 1], requires_grad=0, device=cpu) = aten::relu(%a0)
      %b0 : Float(3, 4, strides=[4, 1], requires_grad=0, device=cpu) = aten::sin(%y)
      %b : Float(3, 4, strides=[4, 1], requires_grad=0, device=cpu) = aten::neg(%b0)
      return (%a, %b)
    """))
    (node,) = fusers.fuse(g)
    for strategy in ([("STATIC", 2)], [("DYNAMIC", 2)]):
        group = FusedGroup(node, FusionBudget(strategy, name="bad"), "cpu")
        group(f32(3, 4), f32(3, 4), f32(3, 4))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(RuntimeError, match="must match the size"):
                group(f32(3, 4), f32(3, 5), f32(2, 2))
        assert group.kernel_failures == 0


@pytest.mark.parametrize("strategy", [[("STATIC", 2), ("DYNAMIC", 10)], [("DYNAMIC", 3)]])
def test_scripted_function_with_two_parts_new_sizes(strategy):
    def _two_cpu(x, y):         # (a new function: one scripted per strategy)
        a = x * 2 + 1
        b = y.sin() * 3
        return a, b
    old = gpujit.jit.set_fusion_strategy(strategy)
    try:
        f = gpujit.jit.script(_two_cpu)
        sizes = [((3, 1), (1, 4))] * 3 + [((3, 2), (5, 4))] * 3 + [((7,), (2, 2))]
        for k, (sx, sy) in enumerate(sizes):
            x, y = f32(*sx, seed=k), f32(*sy, seed=k)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                with gpujit.jit.strict_fusion():    # the parts run fused
                    a, b = f(gpujit.from_numpy(x), gpujit.from_numpy(y))
            np.testing.assert_allclose(a.numpy(), x * 2 + 1, rtol=1e-6)
            np.testing.assert_allclose(b.numpy(), np.sin(y) * 3, rtol=1e-6, atol=1e-6)
        groups = [g for s in f._get_executable().specializations for g in s.groups]
        assert sum(g.split_calls for g in groups) >= 3      # the (3, 2), (5, 4) calls
        assert all(g.kernel_failures == 0 and g.fallback_calls == 0 for g in groups)
    finally:
        gpujit.jit.set_fusion_strategy(old)


@pytest.mark.cuda
@pytest.mark.parametrize("strategy", [[("STATIC", 2), ("DYNAMIC", 10)], [("DYNAMIC", 3)]])
def test_two_parts_new_sizes_on_cuda(strategy):
    def _two_cuda(x, y):        # (a new function: one scripted per strategy)
        a = x * 2 + 1
        b = y.sin() * 3
        return a, b
    old = gpujit.jit.set_fusion_strategy(strategy)
    try:
        f = gpujit.jit.script(_two_cuda)
        for k, (sx, sy) in enumerate([((3, 1), (1, 4))] * 3 + [((3, 2), (5, 4))] * 2):
            x, y = f32(*sx, seed=k), f32(*sy, seed=k)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                a, b = f(gpujit.tensor(x, device="cuda"), gpujit.tensor(y, device="cuda"))
            assert a.device.type == "cuda"
            np.testing.assert_allclose(a.cpu().numpy(), x * 2 + 1, rtol=1e-6)
            np.testing.assert_allclose(b.cpu().numpy(), np.sin(y) * 3, rtol=1e-5, atol=1e-6)
        (group,) = [g for s in f._get_executable().specializations for g in s.groups]
        assert group.split_calls == 2 and group.kernel_failures == 0
    finally:
        gpujit.jit.set_fusion_strategy(old)
