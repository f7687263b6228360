"""Version counters shared as PyTorch's VariableVersion: a tensor, its views (view ops,
basic indexing, split/unbind/chunk pieces, a reshape that did not copy) and its detach()es
share one counter, so an in-place write through any of them is seen by autograd's saved
copies of the others (before, each Tensor had its own: `y.mul_(y.detach())` or
`w * x[0:3]` followed by `x.add_(1)` gave silently wrong gradients). `.data`, from_numpy
and a reshape that copied get their own counter; nn.Parameter(t) shares t's. Outputs of
scripted and traced functions that are views of their inputs share the input's counter.
Expected behaviour and version numbers are PyTorch 2.13's (checked against torch where
it is installed)."""
import numpy as np
import pytest

import gpujit as torch

_ERR = "modified by an inplace operation"


def _inplace_self_detach():
    y = torch.tensor([1., 2., 3.], requires_grad=True) * 1
    y.mul_(y.detach())
    y.sum().backward()


def _write_through_detach():
    w = torch.tensor([1., 2., 3.], requires_grad=True)
    y = torch.tensor([1., 2., 3.])
    d = y.detach()
    z = w * y
    d.add_(1)
    z.sum().backward()


def _base_written_view_saved():
    w = torch.tensor([1., 2., 3.], requires_grad=True)
    x = torch.tensor([1., 2., 3., 4.])
    z = w * x[0:3]
    x.add_(1)
    z.sum().backward()


def _sibling_view_written():
    w = torch.tensor([1., 2., 3.], requires_grad=True)
    x = torch.tensor([1., 2., 3., 4.])
    v = x[0:3]
    z = w * x[1:4]
    v.add_(1)
    z.sum().backward()


def _detached_output_zeroed():
    w = torch.tensor([1., 2., 3.], requires_grad=True)
    z = w.sigmoid()
    z.detach().zero_()
    z.sum().backward()


def _saved_detach_base_written():
    w = torch.tensor([1., 2., 3.], requires_grad=True)
    y = torch.tensor([1., 2., 3.])
    z = w * y.detach()
    y.add_(1)
    z.sum().backward()


def _view_of_reshaped():
    w = torch.tensor([1., 2., 3.], requires_grad=True)
    y = torch.tensor([[1., 2., 3.]])
    z = w * y.view(3)
    y.add_(1)
    z.sum().backward()


def _unbind_piece_written():
    w = torch.tensor([1., 2., 3.], requires_grad=True)
    x = torch.ones(2, 3)
    a, b = x.unbind(0)
    z = w * b
    a.add_(1)
    z.sum().backward()


def _parameter_data_written():
    t = torch.ones(3)
    p = torch.nn.Parameter(t)
    z = (p * p).sum()
    t.add_(1)
    z.backward()


@pytest.mark.parametrize("case", [_inplace_self_detach, _write_through_detach,
                                  _base_written_view_saved, _sibling_view_written,
                                  _detached_output_zeroed, _saved_detach_base_written,
                                  _view_of_reshaped, _unbind_piece_written,
                                  _parameter_data_written])
def test_write_through_a_sharer_is_seen_by_backward(case):
    with pytest.raises(RuntimeError, match=_ERR):
        case()


def test_data_and_copies_have_their_own_counter():
    w = torch.tensor([1., 2., 3.], requires_grad=True)
    y = torch.tensor([1., 2., 3.])
    z = w * y
    y.data.add_(1)               # .data: a counter of its own (PyTorch's documented escape)
    z.sum().backward()
    assert w.grad.tolist() == [2., 3., 4.]
    x = torch.ones(4, 3)
    r = x.t().reshape(-1)        # a copy
    r.add_(1)
    assert (x._version, r._version) == (0, 1)
    f = torch.from_numpy(x.numpy())
    f.add_(1)
    assert x._version == 0


def _versions():
    out = []
    x = torch.ones(4, 3)
    y = x.reshape(-1)
    y.add_(1)
    out.append(x._version)
    d = x.data
    d.add_(1)
    out += [x._version, d._version]
    u = x.unbind(0)
    u[0].add_(1)
    out += [x._version, u[1]._version, x.expand(2, 4, 3)._version]
    s = x[0]
    s.add_(1)
    out += [x._version, s._version]
    x[1] = 3
    out += [x._version, s._version]
    x[1:3] = torch.zeros(3)
    out += [x._version, s._version]
    x[[0, 1]] = 2.0
    out += [x._version, s._version]
    s = x[[0, 1]]                # advanced indexing copies
    s.add_(1)
    out += [x._version, s._version]
    a = torch.ones(3, requires_grad=True).clone()
    v = a[:2]
    v.mul_(2)
    out += [a._version, v._version]
    v2 = a[1:]
    v2.add_(1)
    out += [a._version, v._version, v2._version]
    t = torch.ones(3)
    p = torch.nn.Parameter(t)
    t.add_(1)
    out.append(p._version)
    return out


def test_version_numbers_as_pytorch():
    assert _versions() == [1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 6, 1, 1, 1, 2, 2, 2, 1]


def test_version_numbers_match_torch():
    real = pytest.importorskip("torch")
    import sys
    mod = sys.modules[__name__]
    saved = mod.torch
    mod.torch = real
    try:
        expected = _versions()
    finally:
        mod.torch = saved
    assert _versions() == expected


def _returns_views(x):
    return x[0], x.t(), x.view(-1)


@pytest.mark.parametrize("how", ["script", "trace"])
def test_compiled_outputs_that_view_inputs_share_their_counter(how):
    f = (torch.jit.script(_returns_views) if how == "script"
         else torch.jit.trace(_returns_views, torch.ones(2, 2)))
    for _ in range(3):            # profiling, then optimized calls
        x = torch.ones(2, 2)
        outs = f(x)
        w = torch.ones(2, requires_grad=True)
        z = w * outs[0]
        x.add_(1)
        assert [o._version for o in outs] == [1, 1, 1]
        with pytest.raises(RuntimeError, match=_ERR):
            z.sum().backward()


def test_compiled_fresh_outputs_keep_their_own_counter():
    @torch.jit.script
    def f(x):
        return x * 2, x.t() + 1
    for _ in range(3):
        x = torch.ones(2, 2)
        a, b = f(x)
        x.add_(1)
        assert (a._version, b._version) == (0, 0)


def _write_row(x):
    x[0].add_(1)
    return x


def _write_view_then_base(x):
    v = x.view(-1)
    v.mul_(2)
    x.add_(1)
    return v


def _copy_then_slice_fill(x, y):
    y.copy_(x)
    x[1:] = 0.0
    return x.sum()


def _zero_unbound_piece(x):
    a, b = x.unbind(0)
    a.zero_()
    return b


@pytest.mark.parametrize("f, shapes, versions", [
    (_write_row, [(2, 2)], ([1], 1)),
    (_write_view_then_base, [(2, 2)], ([2], 2)),
    (_copy_then_slice_fill, [(3,), (3,)], ([1, 1], 0)),
    (_zero_unbound_piece, [(2, 2)], ([1], 1))])
def test_scripted_writes_through_views_of_inputs_count(f, shapes, versions):
    """(TorchScript's and eager's version numbers; the optimized calls bumped nothing
    when the write went through a view of an input.)"""
    sf = torch.jit.script(f)
    for _ in range(3):
        args = [torch.ones(*s) for s in shapes]
        out = sf(*args)
        assert ([a._version for a in args], out._version) == versions


def test_scripted_write_through_view_is_seen_by_backward():
    sf = torch.jit.script(_write_row)
    for _ in range(3):
        x = torch.ones(2, 2)
        w = torch.ones(2, 2, requires_grad=True)
        z = w * x
        sf(x)
        with pytest.raises(RuntimeError, match=_ERR):
            z.sum().backward()


def _branch_view(x, c: bool):
    if c:
        y = x[0]
    else:
        y = x[0] * 2
    return y


def _loop_view(x, n: int):
    y = x
    for _ in range(n):
        y = y[1:]
    return y * 1 if n > 5 else y


@pytest.mark.parametrize("c, shared", [(True, True), (False, False)])
def test_branch_outputs_share_only_when_they_view(c, shared):
    sf = torch.jit.script(_branch_view)
    for _ in range(3):
        x = torch.ones(2, 2)
        y = sf(x, c)
        x.add_(1)
        assert y._version == (1 if shared else 0)


@pytest.mark.parametrize("n, shared", [(1, True), (2, True), (6, False)])
def test_loop_outputs_share_only_when_they_view(n, shared):
    sf = torch.jit.script(_loop_view)
    for _ in range(3):
        x = torch.ones(8)
        y = sf(x, n)
        y.add_(1)
        assert x._version == (1 if shared else 0)


def _write_first_row(x, y):
    x[0].add_(1)
    return x.sum() + y.sum()


def test_a_write_through_a_view_bumps_each_input_it_shares_once():
    """(x and y at equal versions but with counters of their own: only x's counts.)"""
    sf = torch.jit.script(_write_first_row)
    for _ in range(3):
        x, y = torch.ones(2, 2), torch.ones(2, 2)
        sf(x, y)
        assert (x._version, y._version) == (1, 0)
        base = torch.ones(2, 2)
        v = base.view(4).view(2, 2)
        sf(base, v)                  # two views of one counter: one write counted
        assert base._version == 1 and v._version == 1


def test_copy_backward_does_not_save_its_source():
    """(program fuzz seed 2125: `v1.copy_(v1)` and then reading v1 raised at backward;
    PyTorch's CopyBackwards reads only src's device.)"""
    x1 = torch.ones(5, 2, requires_grad=True)
    x2 = torch.ones(2, requires_grad=True)
    v1 = x1 * 1
    v3 = torch.lerp(v1.float(), x2.float(), 0.25)
    v1.copy_(v1)
    assert v1._version == 1
    (v3 - v1).sum().backward()
    np.testing.assert_allclose(x1.grad.numpy(), np.full((5, 2), -0.25))
    a = torch.ones(3, requires_grad=True)
    b = torch.zeros(3)
    src = a * 2
    b.copy_(src)
    src.mul_(5)                  # the source written after the copy: no error
    b.sum().backward()
    assert a.grad.tolist() == [2., 2., 2.]


def _split_append(x):
    xs = x.split(2)
    xs.append(x)
    return len(xs), xs


def test_scripted_tensor_lists_are_lists():
    """TorchScript's Tensor[] results (split, chunk, unbind) are lists: append works and
    a returned one is a list (gpujit's were tuples: append raised AttributeError)."""
    sf = torch.jit.script(_split_append)
    for _ in range(3):
        n, xs = sf(torch.ones(4, 2))
        assert n == 3 and type(xs) is list
