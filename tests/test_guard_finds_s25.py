"""Regressions for what the guard / fusion-strategy call-sequence fuzz found
(tests/test_guard_fuzz_s25.py)."""
import numpy as np

import gpujit as torch


def _to_and_flip(x, y, z):
    t0 = x.float()
    t1 = torch.flip(y, [-1])
    return t0, t1 * t1, t1 * z


def test_optimized_code_returns_the_input_an_op_handed_back():
    # x.float() of a float x hands back x: eager (and PyTorch, scripted or not) returns x
    # itself. The optimized code (no fusion group: the op kept its aten::to) wrapped the
    # array in a new Tensor, so under no_grad the result of a requires_grad x did not
    # require grad (and was not x).
    f = torch.jit.script(_to_and_flip)
    for k in range(4):
        x, y, z = torch.ones(1, 4, 5), torch.ones(1, 4, 1), torch.ones(1)
        if k == 3:
            x.requires_grad_()
            with torch.no_grad():
                out = f(x, y, z)
        else:
            out = f(x, y, z)
        assert out[0] is x
        assert out[0].requires_grad == x.requires_grad
        assert out[1] is not y and out[2] is not z
        np.testing.assert_array_equal(out[1].detach().numpy(), np.ones((1, 4, 1)))


def _chain_of_handbacks(x, y):
    return x.contiguous().type_as(y).float(), x.t().contiguous()


def test_a_chain_of_handbacks_returns_the_input_and_a_copy_stays_a_copy():
    f = torch.jit.script(_chain_of_handbacks)
    for _ in range(3):
        x, y = torch.ones(2, 3), torch.ones(2, 3)
        a, b = f(x, y)
        assert a is x
        assert b is not x and b.is_contiguous() and tuple(b.shape) == (3, 2)
    xd = torch.ones(2, 3, dtype=torch.float64)     # a real conversion: a new tensor
    a, _ = f(xd, y)
    assert a is not xd and a.dtype == torch.float32


def _two_layouts(x, y):
    t0 = torch.abs(y)
    t3 = torch.tanh(t0) / (t0 + 1) + y * 0.5
    return t3, x + t0


def _strides(outs):
    return [tuple(st for n, st in zip(o.shape, o.stride()) if n > 1) for o in outs]


def test_group_outputs_that_eager_lays_out_differently_keep_their_layouts():
    # one group, two outputs: eager lays x.t() + abs(y) out as x (transposed), the other
    # as y (C order). The kernel wrote both in C order (it runs in one dim order); now
    # the transposed one is copied into its own. An expanded x (strides 0, 1) then orders
    # its dims as the transposed x did by the old guard (dims by stride: [1, 0]), but
    # eager lays its sum out in C order (a stride 0 orders nothing): the guard tells them
    # apart.
    old = torch.jit.set_fusion_strategy([("DYNAMIC", 4)])
    try:
        f = torch.jit.script(_two_layouts)
        rng = np.random.default_rng(0)
        y = torch.from_numpy(rng.standard_normal((5, 2)).astype(np.float32))
        xs = [torch.from_numpy(rng.standard_normal((2, 5)).astype(np.float32)).t(),
              torch.from_numpy(rng.standard_normal((2, 5)).astype(np.float32)).t(),
              torch.from_numpy(rng.standard_normal((1, 2)).astype(np.float32)).expand(5, 2),
              torch.from_numpy(rng.standard_normal((2, 5)).astype(np.float32)).t()]
        for x in xs:
            got, want = f(x, y), _two_layouts(x, y)
            assert _strides(got) == _strides(want), (x.stride(), _strides(got))
            for g, w in zip(got, want):
                np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6)
        assert _strides(f(xs[0], y)) == [(2, 1), (1, 5)]
    finally:
        torch.jit.set_fusion_strategy(old)


def _where_tanh(x):
    t1 = torch.tanh(x)
    return x + -1.5, torch.where(t1 > x, t1, x)


def test_overlapping_input_of_other_sizes_is_laid_out_as_eager():
    # x with strides (1, 1, 1) (as_strided: its dims overlap): eager (and PyTorch) orders
    # dims of equal strides by size, so 2x5x1031 comes out with strides (1, 2, 10) and
    # 2x5x3 with (1, 6, 2). The DYNAMIC guard (dims by stride) took the second for the
    # first's kernel: its result had the first's layout.
    old = torch.jit.set_fusion_strategy([("DYNAMIC", 4)])
    try:
        f = torch.jit.script(_where_tanh)
        for shape in [(2, 5, 1031), (2, 5, 1031), (2, 5, 3), (3, 1, 4), (2, 5, 1031)]:
            n = sum(shape) + 1
            x = torch.from_numpy(np.linspace(-2, 2, n, dtype=np.float32)).as_strided(
                shape, (1,) * len(shape))
            got, want = f(x), _where_tanh(x)
            assert _strides(got) == _strides(want), (shape, _strides(got), _strides(want))
            for g, w in zip(got, want):
                np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6)
    finally:
        torch.jit.set_fusion_strategy(old)


def _with_lower_rank(x, y, z):
    return x * 2 + 1, y * 3 - 1, (z + 1) * 2


def test_group_with_an_output_of_lower_rank_keeps_each_layout():
    # the outputs' layouts were compared only when all had the group's rank: with a 1-D
    # output among them, the transposed x * 2 + 1 came out in C order
    f = torch.jit.script(_with_lower_rank)
    for _ in range(3):
        x = torch.from_numpy(np.arange(10, dtype=np.float32).reshape(2, 5)).t()
        y, z = torch.ones(5, 2), torch.ones(2)
        got, want = f(x, y, z), _with_lower_rank(x, y, z)
        assert [o.stride() for o in got] == [(1, 5), (2, 1), (1,)]
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
