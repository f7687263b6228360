"""Random scripted programs of the generator's second mode (tests/program_fuzz_gen_b.py:
reductions with dim lists/keepdim/dtype=, softmax/logsumexp/cumsum/argmax, matmul/mm/bmm/
linear, chunk/split/unbind, repeat/expand_as/flip/roll/permute, type promotion corners,
ops on special values) checked as tests/test_program_fuzz_s20.py checks the first mode's:
gpujit eager, gpujit.jit.script over a sequence of calls and gpujit.jit.trace against
PyTorch eager and torch.jit.script of the same source, under the fusion strategies of
test_program_fuzz_s20, and the gradients of a subset. The calls add inputs holding special
values (inf, -inf, nan, -0.0, 1e30; huge ints), a B of 1 (broadcasting flips between calls),
an A of 0 (0-size inputs) and a 0-dim x2.

Where gpujit deliberately differs, the checks let it: an in-place write into a piece of
split/chunk/unbind (or a view of one) while gradients are recorded, which PyTorch refuses
(CreationMeta::MULTI_OUTPUT_NODE), gpujit differentiates (tests/test_autograd_views.py).
The gradient checks leave out the special-value inputs: amax/amin's backward of a row whose
result is nan gives the nan elements the gradient in gpujit (as PyTorch's max() does), nan
to the whole row in PyTorch (its mask self == result matches nothing).

Where gpujit or PyTorch CPU has its own answer, the generator keeps away from it (besides
test_program_fuzz_s20's list):
- torch.nn.functional.gelu(inf) is nan in PyTorch's vectorized CPU kernel, inf in gpujit
  (x * Phi(x)): gelu's argument is clamped to +-1e4;
- PyTorch's CPU bmm of a 0-size result or contraction skips its dtype check (a Half by
  Float bmm answers a Float tensor), gpujit's raises as for other sizes: bmm's operands
  are of one dtype, and no operand of a product is Bool (seed 220706753, seed 2221: a
  Bool matmul / mm of 0 size answers in PyTorch, raises in gpujit as for other sizes);
- the gradient of var/std with correction > N (a nan result): PyTorch's backward divides
  by N - correction < 0 (a finite gradient), gpujit's by the forward's clamped divisor 0
  (reduction_var.py: nan): no correction=2;
- sum/prod(dtype=torch.float16) of a float32 input: PyTorch rounds the input to half first,
  gpujit reduces the float32 values (more exact): no dtype=torch.float16;
- the sign of a nan (signbit) is the platform's choice where an op makes one: signbit
  reads nan_to_num's result;
- an int % 0 in TorchScript's interpreter is SIGFPE (the process dies): a loop's
  `_i % v.size(0)` becomes `_i % max(v.size(0), 1)` (A = 0 calls).

GPUJIT_PROGRAM_FUZZ=<n> programs (default 36), GPUJIT_PROGRAM_FUZZ_SEED=<int> for other
programs than the fixed ones."""
from __future__ import annotations

import os

import numpy as np
import pytest

import gpujit
from program_fuzz_gen_b import program_b

torch = pytest.importorskip("torch")

from test_program_fuzz_s20 import STRATEGIES, check, check_grads  # noqa: E402


def calls_for_b(seed):
    """The calls a program gets: (A, B, dtype, layout, s, n, with_o, data seed)."""
    r = np.random.default_rng(seed)
    a0, b0 = int(r.integers(2, 6)), int(r.integers(2, 6))
    a1 = int(r.integers(1, 7))
    s, n = float(r.choice([0.5, -1.5, 2.0])), int(r.integers(1, 4))
    other = str(r.choice(["float64", "float16", "int64", "int32"]))
    o = bool(r.integers(0, 2))
    return [(a0, b0, "float32", "c", s, n, o, 1), (a0, b0, "float32", "c", s, n, o, 2),
            (a0, b0, "float32", "c", s, n, o, 3), (a0, b0, "float32", "v", s, n, o, 4),
            (a1, 1, "float32", "c", s, n, not o, 5), (a0, b0, "float32", "c", -s, n, o, 6),
            (0, b0, "float32", "c", s, n, o, 7), (a0, b0, "float32", "z", s, n, o, 8),
            (a0, b0, other, "c", s, n, o, 9), (a0, b0, "int64", "v", s, n, o, 10),
            (a1, b0 + 1, "float32", "t", s, n + 1, o, 11), (a0, b0, "float32", "c", s, n, o, 12)]


_N = int(os.environ.get("GPUJIT_PROGRAM_FUZZ", "36"))
_SEED = int(os.environ.get("GPUJIT_PROGRAM_FUZZ_SEED", "0"))


@pytest.mark.parametrize("chunk", range(4))
def test_random_programs_b_match_pytorch_and_torchscript(chunk):
    for k in range(chunk, _N, 4):
        seed = _SEED * 100003 + 220000 + k
        src, traceable = program_b(seed)
        check(src, traceable, calls_for_b(seed), strategy=STRATEGIES[k % len(STRATEGIES)])


def test_random_programs_b_gradients_match_pytorch():
    for k in range(_N // 3):
        seed = _SEED * 100003 + 250000 + k
        src, _ = program_b(seed)
        need = [(k >> j) % 2 == 0 or j == k % 4 for j in range(4)]    # a subset
        calls = [c for c in calls_for_b(seed)[:8] if c[3] != "v"]     # (see the docstring)
        check_grads(src, calls, strategy=STRATEGIES[k % len(STRATEGIES)], need=need)


# ------------------------------------------------------------------ found by the above

def _part_and_whole(x0, x2):
    a = x2.sin() * 2                    # [B]: no dim of x0's
    return a, a + x0


def _two_parts(x0, x2, s: float):
    v5 = x2.std(0, correction=0)
    return gpujit.where(v5 > 0, v5, s), gpujit.where(x0.amax(1, keepdim=True) != 0, 2, -1)


@pytest.mark.parametrize("strategy", [[("DYNAMIC", 3)], [("STATIC", 1), ("DYNAMIC", 2)]])
def test_a_dynamic_kernel_with_an_empty_space_still_gives_its_smaller_outputs(strategy):
    # (seed 220206640) a DYNAMIC kernel called with x0 of size 0 returned at once (n == 0)
    # with every output uninitialized: an output without x0's dims (x2.sin() * 2, a 0-dim
    # where(...) of another part of the group) has elements, which eager computes; the
    # kernel's launcher now sends such calls to the unfused run
    prev = gpujit.jit.set_fusion_strategy(strategy)
    try:
        f, g = gpujit.jit.script(_part_and_whole), gpujit.jit.script(_two_parts)
        for k, A in enumerate([2, 3, 4, 0, 0, 3]):
            x0 = gpujit.ones(A, 2) * 3
            x2 = gpujit.tensor([0.25, 1.5 + k])
            a, b = f(x0, x2)
            assert tuple(b.shape) == (A, 2), k
            np.testing.assert_allclose(a.numpy(), (x2.sin() * 2).numpy(), 1e-6, err_msg=str(k))
            np.testing.assert_allclose(b.numpy(), (x2.sin() * 2 + x0).numpy(), 1e-6)
            v6, v9 = g(x0, x2, 2.0)
            np.testing.assert_allclose(float(v6), float(x2.std(0, correction=0)), 1e-6)
            assert tuple(v9.shape) == (A, 1) and v9.tolist() == [[2]] * A, k
    finally:
        gpujit.jit.set_fusion_strategy(prev)


def _roll0(x, y):
    return x.roll(1, 0) + y


def test_rolling_a_0_dim_tensor_along_a_dim_raises_as_pytorch():
    # (seed 220206702) PyTorch's roll does not take dim 0 or -1 of a 0-dim tensor (its
    # wrap_dim has no scalar case there), gpujit's rolled it as a 1-element tensor; flip
    # and a roll without dims take one
    for d in (0, -1, 5):
        with pytest.raises(IndexError, match=f"Dimension specified as {d} but tensor has no"):
            gpujit.roll(gpujit.tensor(1.5), 1, d)
    f = gpujit.jit.script(_roll0)
    for _ in range(3):
        with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no"):
            f(gpujit.tensor(1.5), gpujit.ones(2))
    x = gpujit.tensor(1.5)
    assert x.roll(1).item() == 1.5 and x.flip(0).item() == 1.5
    assert f(gpujit.arange(3.0), gpujit.ones(3)).tolist() == [3.0, 1.0, 2.0]


@pytest.mark.parametrize("name", ["fmod", "remainder"])
def test_writing_into_the_input_of_fmod_by_a_number_keeps_the_backward(name):
    # (seed 220606797, gradients) fmod/remainder kept self for every backward, so writing
    # into it (v4[-1] = 0.0) failed the version check at backward; PyTorch's keep self and
    # other only for other's gradient
    fn = getattr(gpujit, name)
    x = gpujit.tensor([1.5, -2.5, 3.0], requires_grad=True)
    v = x * 1
    y = fn(v, -2.0)
    v[-1] = 0.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]
    w = gpujit.tensor([2.0, 0.7, -1.1], requires_grad=True)
    v = x * 1
    y = fn(v, w * 1)
    v.add_(1)                           # other's gradient reads self: PyTorch raises
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    x.grad = None
    fn(x * 1, w.detach()).mul(gpujit.arange(3.0)).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 2.0] and w.grad is None
    fn(x.detach(), w).mul(gpujit.arange(3.0)).sum().backward()
    want = -gpujit.arange(3.0) * gpujit.div(x.detach(), w.detach(),
                                             rounding_mode="floor" if name == "remainder"
                                             else "trunc")
    assert w.grad.tolist() == want.tolist()



def _relu_of_norm(x):
    v = x.norm()
    v -= v
    return gpujit.relu(v), v


def test_relu_of_a_0_dim_zero():
    # (seed 220907043) relu of a 0-dim tensor holding a zero raised TypeError from NumPy
    # (maximum of a 0-dim array gave a scalar; the copy of the zeros' signs wanted an array)
    for v in (0.0, -0.0, -1.5, 2.0):
        want = torch.relu(torch.tensor(v))
        for got in (gpujit.relu(gpujit.tensor(v)), gpujit.tensor(v).relu_(),
                    gpujit.nn.functional.relu(gpujit.tensor(v))):
            assert got.item() == want.item() and got.dim() == 0
            assert np.signbit(got.item()) == np.signbit(want.item()), v
    f = gpujit.jit.script(_relu_of_norm)
    for _ in range(3):
        r, v = f(gpujit.tensor([1.0, -2.0, 3.0]))
        assert r.item() == 0.0 and v.item() == 0.0


@pytest.mark.parametrize("view", [lambda y: y[:, 1:], lambda y: y[3:], lambda y: y.narrow(1, 1, 0)])
def test_an_in_place_op_on_an_empty_view_under_autograd(view):
    # (seed 221006862, gradients, B = 1) y[:, 1:] of y [3, 1] is empty: autograd does not
    # record a 0-size view (it shares no memory), and the in-place op on it was refused as
    # a write through an unrecorded view; it writes nothing, as in PyTorch
    x = gpujit.ones(3, 1, requires_grad=True)
    y = x * 2
    v = view(y)
    v.copy_(v * 0.5 + 1)
    v.add_(1)
    (y * y).sum().backward()
    assert x.grad.tolist() == [[8.0]] * 3 and v.numel() == 0


def test_an_in_place_op_on_an_empty_view_of_a_leaf_raises_as_pytorch():
    # (seed 221206788, gradients, A = 0) x1.t().sub_(n) with x1 an empty leaf: PyTorch
    # refuses the write into a view of a leaf; gpujit recorded no 0-size view (it shares
    # no memory) and let it through. 0-size views are recorded now; the overlap check of
    # an empty view (stride 0) no longer refuses it
    for make in (lambda x: x.t(), lambda x: x[1:], lambda x: x.unsqueeze(0).expand(2, 0, 3)):
        x = gpujit.ones(0, 3, requires_grad=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            make(x).sub_(1)
        y = x * 2
        make(y).mul_(2)
        (y * y).sum().backward()
        assert tuple(x.grad.shape) == (0, 3)


@pytest.mark.parametrize("shapes", [((0, 3), (0, 3)), ((2, 3), (0, 3)), ((2, 0, 3), (0, 3)),
                                    ((2, 0), (3, 0)), ((0, 3), (2, 3))])
def test_linear_backward_with_a_0_size_feature_dim(shapes):
    # (seed 221206743, gradients, A = 0) F.linear(x, w) with 0 output features: the
    # weight's gradient reshaped grad to [-1, 0], which no size of 0 elements fits
    got = []
    for lib in (gpujit, torch):
        x = lib.ones(*shapes[0], requires_grad=True)
        w = lib.ones(*shapes[1], requires_grad=True)
        b = lib.ones(shapes[1][0], requires_grad=True)
        y = lib.nn.functional.linear(x, w, b)
        (y * y).sum().backward()
        got.append([tuple(y.shape)] + [(tuple(t.grad.shape), t.grad.sum().item())
                                       for t in (x, w, b)])
    assert got[0] == got[1]


@pytest.mark.parametrize("rep", [lambda v: v.repeat(2, 1, 1), lambda v: v.tile((2,)),
                                 lambda v: v.repeat(1, 3)])
def test_writing_into_the_input_of_repeat_keeps_the_backward(rep):
    # (seed 221406741, gradients) repeat/tile kept self for backward (it reads only its
    # shape, as PyTorch's RepeatBackward0), so `v11 = v5; v11 += v7` after v5.repeat(...)
    # failed backward's version check
    got = []
    for lib in (gpujit, torch):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        v = x * 1
        r = rep(v)
        v.add_(1)
        (r * r).sum().backward()
        got.append(x.grad.tolist())
    assert got[0] == got[1]
