"""Version counters and aliasing as PyTorch 2.13's, beyond tests/test_version_counter_s22.py:
view ops whose schema names no alias (atleast_Nd; broadcast_tensors and meshgrid, output
i a view of input i), `x <<= n` / `x >>= n` in place (eager and scripted, as TorchScript's
__ilshift__ / __irshift__), factories' out= (arange, linspace, logspace, eye, rand, randn,
randint, randperm ignored out before), one version per out= call (resizing out is not a
write; `t.resize_()` to t's own sizes neither), scripted outputs that are lists of views
of an input (split's pieces), autograd.Function's ctx.mark_dirty (a no-op before: the
dirty input came back as another Tensor, uncounted, and a dirty view's base skipped the
Function's backward, a silently wrong gradient). Expected numbers are PyTorch 2.13's (checked against torch
where it is installed).

Where gpujit deliberately differs:
- torch.randn(n, out=o) of another size counts two versions in PyTorch (its resize is a
  user-level resize_) where rand, randint, linspace... count one; gpujit counts one for
  every factory.
- A tensor saved under saved_tensors_hooks / save_on_cpu and then changed in place:
  PyTorch skips the version check (backward reads the changed value); gpujit keeps it
  and raises (tests/test_autograd.py: test_save_on_cpu_keeps_the_version_check).
- Scripted `x %= y` on a Tensor is TorchScript's fmod_ (in place, C's sign); gpujit's
  script keeps Python's remainder and rebinds x, as `x |= y` does in both.
"""
import pytest

import gpujit as torch

_ERR = "modified by an inplace operation"


# ------------------------------------------------------------------ view ops without alias

def test_atleast_nd_results_share_the_counter():
    x = torch.ones(3)
    a = torch.atleast_2d(x)
    b, c = torch.atleast_3d(x, torch.ones(2, 2))
    x.add_(1)
    assert (a._version, b._version, c._version) == (1, 1, 0)
    b.mul_(2)
    assert x._version == 2 and x.tolist() == [4., 4., 4.]


def test_atleast_view_saved_then_base_written_raises():
    # before: a silently wrong gradient (w.grad was 6 where the forward used 1)
    w = torch.ones(3, 1, requires_grad=True)
    x = torch.ones(3)
    z = w * torch.atleast_2d(x)
    x.add_(1)
    with pytest.raises(RuntimeError, match=_ERR):
        z.sum().backward()


def test_broadcast_tensors_output_i_shares_input_i_counter():
    x, y = torch.ones(1, 3), torch.ones(2, 1)
    a, b = torch.broadcast_tensors(x, y)
    y.add_(1)
    y.add_(1)
    x.add_(1)
    assert (a._version, b._version) == (1, 2)


def test_broadcast_tensors_saved_view_written_raises():
    w = torch.ones(3, requires_grad=True)
    x = torch.ones(1, 3)
    a, _ = torch.broadcast_tensors(x, torch.ones(2, 3))
    z = w * a
    x.add_(1)
    with pytest.raises(RuntimeError, match=_ERR):
        z.sum().backward()


def test_meshgrid_outputs_share_their_inputs_counters():
    x, y = torch.arange(3.), torch.arange(2.)
    a, b = torch.meshgrid(x, y, indexing="ij")
    x.add_(1)
    y.add_(1)
    y.add_(1)
    assert (a._version, b._version) == (1, 2)
    c, d = torch.meshgrid([x, y], indexing="xy")
    x.add_(1)
    assert (c._version, d._version) == (2, 2)


# ------------------------------------------------------------------ shifts in place

def test_shift_augmented_assignment_writes_in_place():
    x = torch.arange(6)
    y, v = x, x[1:]
    x <<= 1
    assert x is y and x._version == 1 and v.tolist() == [2, 4, 6, 8, 10]
    x >>= 2
    assert x is y and x._version == 2 and y.tolist() == [0, 0, 1, 1, 2, 2]


def test_shift_in_place_of_floats_raises_as_the_op():
    x = torch.arange(3.)
    with pytest.raises(Exception, match="\"lshift_cpu\" not implemented for 'Float'"):
        x <<= 1


def test_scripted_shift_augmented_assignment_writes_the_callers_tensor():
    @torch.jit.script
    def f(x):
        x <<= 2
        x >>= 1
        x |= 8                 # (TorchScript: bitwise_or, x rebound)
        return x

    for _ in range(3):          # profiling and optimized calls
        a = torch.arange(4)
        r = f(a)
        assert a.tolist() == [0, 2, 4, 6] and a._version == 2
        assert r.tolist() == [8, 10, 12, 14]
    assert "aten::__ilshift__" in str(f.graph) and "aten::__irshift__" in str(f.graph)


# ------------------------------------------------------------------ out= and resize

@pytest.mark.parametrize("call, want", [
    (lambda o: torch.arange(5, out=o), [0., 1., 2., 3., 4.]),
    (lambda o: torch.arange(1, 4, out=o), [1., 2., 3.]),
    (lambda o: torch.arange(0., 2., 0.5, out=o), [0., .5, 1., 1.5]),
    (lambda o: torch.linspace(0, 1, 3, out=o), [0., .5, 1.]),
    (lambda o: torch.logspace(0, 2, 3, out=o), [1., 10., 100.]),
    (lambda o: torch.eye(2, out=o), [[1., 0.], [0., 1.]]),
])
def test_factory_out_is_written_and_returned(call, want):
    o = torch.full((5,), -1.)
    r = call(o)
    assert r is o and o.tolist() == want and o._version == 1


def test_arange_out_takes_out_dtype():
    o = torch.zeros(3, dtype=torch.int64)
    assert torch.arange(3, out=o) is o and o.tolist() == [0, 1, 2] and o.dtype == torch.int64
    f = torch.zeros(3)
    torch.arange(3, out=f)
    assert f.dtype == torch.float32 and f.tolist() == [0., 1., 2.]
    with pytest.raises(RuntimeError, match="dtype"):
        torch.arange(3, out=f, dtype=torch.int64)


def test_random_factories_out_written():
    torch.manual_seed(0)
    for call, dt in [(lambda o: torch.rand(4, out=o), torch.float32),
                     (lambda o: torch.randn(4, out=o), torch.float32),
                     (lambda o: torch.randint(0, 3, (4,), out=o), torch.int64),
                     (lambda o: torch.randperm(4, out=o), torch.int64)]:
        o = torch.full((4,), 99, dtype=dt)
        assert call(o) is o and o._version == 1
        assert all(v != 99 for v in o.tolist())
    o = torch.zeros(4, dtype=torch.int64)
    torch.randperm(4, out=o)
    assert sorted(o.tolist()) == [0, 1, 2, 3]


@pytest.mark.parametrize("call", [
    lambda o: torch.zeros(3, out=o), lambda o: torch.ones(3, out=o),
    lambda o: torch.full((3,), 2., out=o), lambda o: torch.zeros(5, out=o),
])
def test_factory_out_counts_one_version(call):
    o = torch.empty(5)
    call(o)
    assert o._version == 1


def test_out_resized_counts_one_version():
    o = torch.empty(0)
    torch.mul(torch.ones(3), 2, out=o)
    assert o._version == 1 and o.tolist() == [2., 2., 2.]
    torch.add(torch.ones(2, 2), 1, out=o)
    assert o._version == 2 and o.shape == (2, 2)


def test_empty_out_and_resize_to_own_sizes_are_no_write():
    o = torch.zeros(5)
    torch.empty(5, out=o)
    assert o._version == 0
    torch.empty(3, out=o)
    assert o._version == 1 and o.shape == (3,)
    x = torch.zeros(2, 3)
    x.resize_(2, 3)
    x.resize_as_(x)
    assert x._version == 0
    x.resize_(3, 2)
    assert x._version == 1


# ------------------------------------------------------------------ scripted list outputs

def test_scripted_split_pieces_share_the_input_counter():
    @torch.jit.script
    def f(x):
        return x.split(2)

    for _ in range(3):          # profiling and optimized calls
        x = torch.arange(3.)
        pieces = f(x)
        x.add_(1)
        assert [p._version for p in pieces] == [1, 1]


def test_scripted_split_piece_saved_then_input_written_raises():
    @torch.jit.script
    def f(x):
        return x.unbind(0)

    for _ in range(3):
        w = torch.ones(2, requires_grad=True)
        x = torch.ones(2, 2)
        a, b = f(x)
        z = w * b
        x.add_(1)
        with pytest.raises(RuntimeError, match=_ERR):
            z.sum().backward()


def test_against_torch():
    T = pytest.importorskip("torch")

    def prog(m):
        x = m.ones(3)
        a = m.atleast_3d(x)
        b, c = m.broadcast_tensors(m.ones(1, 3), x)
        i = m.arange(4)
        i <<= 1
        o = m.empty(2)
        m.arange(4, out=o)
        x.add_(1)
        return [a._version, b._version, c._version, i._version, o._version, o.tolist()]

    assert prog(torch) == prog(T)


# ------------------------------------------------------------------ Function.mark_dirty

def _doubler(save_input=False, dirty=True, ret_copy=False):
    class Double(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            if save_input:
                ctx.save_for_backward(x)
            if dirty:
                ctx.mark_dirty(x)
            return x * 1 if ret_copy else x

        @staticmethod
        def backward(ctx, g):
            if save_input:
                ctx.saved_tensors
            return g * 2
    return Double


def test_mark_dirty_returns_the_input_and_counts_a_version():
    a = torch.ones(3, requires_grad=True)
    x = a * 1
    y = _doubler().apply(x)
    assert y is x and x._version == 2       # (the mul_, then mark_dirty's)
    assert type(y.grad_fn).__name__ == "DoubleBackward"
    y.sum().backward()
    assert a.grad.tolist() == [2., 2., 2.]
    z = torch.ones(3)                        # nothing requires grad: counted all the same
    assert _doubler().apply(z) is z and z._version == 2


def test_mark_dirty_saved_input_is_saved_as_written():
    a = torch.ones(3, requires_grad=True)
    y = _doubler(save_input=True).apply(a * 1)
    y.sum().backward()
    assert a.grad.tolist() == [2., 2., 2.]


def test_mark_dirty_view_rebases_its_base():
    # before: the base's gradient skipped the Function ([1, 1, 1, 1], silently)
    a = torch.ones(4, requires_grad=True)
    x = a * 1
    v = x[1:]
    y = _doubler().apply(v)
    assert y is v and (x._version, v._version) == (2, 2)
    assert x.grad_fn.name() == "torch::autograd::CopySlices"
    x.sum().backward()
    assert a.grad.tolist() == [1., 2., 2., 2.]


def test_mark_dirty_errors_as_pytorch():
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        _doubler().apply(torch.ones(3, requires_grad=True))
    with pytest.raises(RuntimeError, match="marked as dirty during the forward method were "
                                           "not returned"):
        _doubler(ret_copy=True).apply(torch.ones(3))
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        _doubler().apply(torch.ones(4, requires_grad=True)[1:])


# ------------------------------------------------------------------ CUDA tensors

@pytest.mark.cuda
def test_cuda_views_without_alias_and_factory_out():
    x = torch.ones(3, device="cuda")
    a = torch.atleast_2d(x)
    b, c = torch.broadcast_tensors(torch.ones(1, 3, device="cuda"), x)
    x.add_(1)
    assert (a._version, b._version, c._version) == (1, 0, 1)
    o = torch.empty(2, device="cuda")
    assert torch.arange(4, out=o) is o and o.tolist() == [0., 1., 2., 3.]
    assert o._version == 1 and o.device.type == "cuda"

    @torch.jit.script
    def f(x):
        return x.split(2)

    for _ in range(3):
        x = torch.arange(3., device="cuda")
        pieces = f(x)
        x.add_(1)
        assert [p._version for p in pieces] == [1, 1]
