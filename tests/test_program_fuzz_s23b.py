"""Programs found by the generator's third mode (tests/program_fuzz_gen_c.py, run by
tests/test_program_fuzz_s23.py), minimised: views, in-place writes through views and bases,
detach/detach_, and autograd through them, against PyTorch 2.13 (torch where installed)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import gpujit

torch = pytest.importorskip("torch")


# ------------------------------------------------------------------ found by the above

def _masked_fill_input(x2, s: float):
    x2.masked_fill_(x2 > 0.5, s)
    return x2


def _index_put_input(x1, s: float):
    x1.index_put_([gpujit.tensor([0])], gpujit.tensor(s))
    return x1


def _tril_input(x1, s: float):
    x1.tril_()
    return x1


@pytest.mark.parametrize("fn", [_masked_fill_input, _index_put_input, _tril_input])
def test_scripted_writes_into_an_expanded_input_as_eager(fn):
    # (seeds 2320, 2363) masked_fill_ / index_put_ into an expanded input (stride 0):
    # eager writes it with PyTorch's deprecation warning, the scripted code from its
    # second call raised the internal-overlap error (pointwise in-place ops) or NumPy's
    # "assignment destination is read-only" (index_put_: the compiled code called the
    # impl on the read-only array, without the eager entry's expanded-self rules)
    f = gpujit.jit.script(fn)
    for k in range(3):
        got = []
        for g in (fn, f):
            x = gpujit.tensor([[0.25, 1.0, 2.0]]).expand(3, 3)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got.append(g(x, 2.5).tolist())
        assert got[0] == got[1], (k, got)
    t = torch.tensor([[0.25, 1.0, 2.0]]).expand(3, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = {"_masked_fill_input": lambda: t.masked_fill_(t > 0.5, 2.5),
                "_index_put_input": lambda: t.index_put_([torch.tensor([0])],
                                                         torch.tensor(2.5)),
                "_tril_input": lambda: t.tril_()}[fn.__name__]().tolist()
    assert got[0] == want


def _view_as(x, y):
    a = x.view_as(y)
    b = x.t().reshape_as(y)
    a.mul_(2)
    return a, b, x


def test_view_as_and_reshape_as_script():
    # (seed 2308) x.view_as(y) / x.reshape_as(y) were Python methods only: scripting
    # said "gpujit has no Tensor method 'view_as'"; they are registry ops now
    # (aten::view_as, aten::reshape_as), views with derivatives
    f = gpujit.jit.script(_view_as)
    assert "aten::view_as" in str(f.graph) and "aten::reshape_as" in str(f.graph)
    for k in range(3):
        got = []
        for lib, fn in ((gpujit, f), (gpujit, _view_as), (torch, _view_as)):
            x = lib.arange(6.0).reshape(2, 3).requires_grad_()
            a, b, xx = fn(x * 1, lib.ones(3, 2))
            (a * b).sum().backward()
            got.append((a.tolist(), b.tolist(), xx.tolist(), x.grad.tolist()))
        assert got[0] == got[1] == got[2], k
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        gpujit.ones(2, 3).t().view_as(gpujit.ones(6))


def _detach_view_(x):
    v = x.t().contiguous()          # x.t() itself where it is contiguous
    v.detach_()
    return v * 2


def _detach_local_(x):
    v = x * 2
    w = v.detach()
    w.detach_()
    v.detach_()
    return w, v


@pytest.mark.parametrize("rg", [False, True])
def test_detach__of_a_view_raises_as_pytorch(rg):
    # (seeds 2347, 2381) PyTorch refuses detach_() on a view ("Can't detach views
    # in-place"); gpujit cut it from the graph
    for fn in (_detach_view_, gpujit.jit.script(_detach_view_)):
        for _ in range(3):
            with pytest.raises(RuntimeError, match="Can't detach views in-place"):
                fn(gpujit.ones(3, 2).t().requires_grad_(rg))
            assert fn(gpujit.ones(2, 3).requires_grad_(rg)).requires_grad is False
    for fn in (_detach_local_, gpujit.jit.script(_detach_local_)):
        w, v = fn(gpujit.ones(2, 3).requires_grad_(rg))
        assert not w.requires_grad and not v.requires_grad and v.grad_fn is None


def _write_into_detached(x0, x2):
    v1 = x0.clone().detach()
    v1.addcmul_(x2, x2, value=0.5)
    return v1


def test_a_write_with_gradients_into_a_detached_tensor():
    # (seed 2344, gradients) a detach() shares its source's memory but is no view for
    # autograd (PyTorch writes into it as into any tensor); gpujit refused the write "into
    # a view ... autograd did not record" while the source was alive (always, in script)
    f = gpujit.jit.script(_write_into_detached)
    for fn in (_write_into_detached, f, f, f):
        x0 = gpujit.ones(2, 3, requires_grad=True)
        x2 = gpujit.tensor([1.0, 2.0, 3.0], requires_grad=True)
        r = fn(x0, x2)
        r.sum().backward()
        assert r.requires_grad and x0.grad is None and x2.grad.tolist() == [2.0, 4.0, 6.0]
    got = []
    for lib in (gpujit, torch):
        x0 = lib.ones(2, 3, requires_grad=True)
        x2 = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        c = x0 * 1
        d = c[1:].detach()              # a detach of a view: still no view
        d.mul_(x2)
        (d.sum() + (c * 2).sum()).backward()
        got.append((c.tolist(), x0.grad.tolist(), x2.grad.tolist(), c._version))
    assert got[0] == got[1]


def _detach_in_compiled_code(x):
    v = x * 2
    v.detach_()
    return v * 3


def test_detach__in_scripted_code_without_gradients():
    # (seed 2404) from the call after profiling, with nothing requiring grad, the
    # generated code ran aten::detach_ (an autograd call, not a registry op): "no registry
    # op aten::detach_ takes (Tensor)"; graphs calling autograd run node by node
    f = gpujit.jit.script(_detach_in_compiled_code)
    for k in range(5):
        assert f(gpujit.ones(2, 3)).tolist() == [[6.0] * 3] * 2, k


def _write_read_only_pieces(x, s: float):
    v = x.split(1, 0)[-1]
    v.index_put_([gpujit.tensor([0])], gpujit.tensor(s))
    w = x[0]
    w.index_fill_(0, gpujit.tensor([1]), -1.0)
    w[gpujit.tensor([2])] = 7.0
    return x


def test_index_writes_into_a_piece_of_an_expanded_input():
    # (seed 2435) a row of an expanded tensor has no internal overlap, but NumPy's view of
    # it is read-only: index_put_ / index_fill_ raised "assignment destination is
    # read-only" (eager and scripted) where PyTorch writes (the row is the whole memory)
    f = gpujit.jit.script(_write_read_only_pieces)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.tensor([1.0, 2.0, 3.0, 4.0]).expand(2, 4)
        v = t.split(1, 0)[-1]
        v.index_put_([torch.tensor([0])], torch.tensor(2.5))
        t[0].index_fill_(0, torch.tensor([1]), -1.0)
        t[0][torch.tensor([2])] = 7.0
        want = t.tolist()
        for fn in (_write_read_only_pieces, f, f, f):
            x = gpujit.tensor([1.0, 2.0, 3.0, 4.0]).expand(2, 4)
            assert fn(x, 2.5).tolist() == want


def _flatten_detach(x):
    v1 = x - 1
    v2 = v1.flatten()              # a 1-d x.flatten() is x itself
    v1.detach_()
    v2.detach_()
    v2.mul_(2)
    return v1, v2


def test_flatten_of_a_1d_tensor_is_the_tensor():
    # (seed 2617) PyTorch's flatten with start_dim == end_dim hands back its input; gpujit
    # made a view, which detach_() then refused as a view
    for lib in (gpujit, torch):
        a = lib.ones(3)
        assert a.flatten() is a and lib.ones(2, 3).flatten(1, 1)._base is None
        assert lib.ones(2, 3).flatten()._base is not None and lib.ones(()).flatten().shape == (1,)
        b = lib.ones(3, requires_grad=True) * 2
        assert b.flatten() is b
    f = gpujit.jit.script(_flatten_detach)
    for fn in (_flatten_detach, f, f, f):
        v1, v2 = fn(gpujit.ones(3, requires_grad=True))
        assert v1.tolist() == v2.tolist() == [0.0] * 3 and not v1.requires_grad


def test_a_view_of_a_base_detached_in_place_is_a_view_of_a_leaf():
    # (seed 2648) base.detach_() leaves base a leaf; writing in place into an older view of
    # it that requires grad is refused, as PyTorch ("a view of a leaf Variable")
    for lib in (gpujit, torch):
        x = lib.ones(2, 3, requires_grad=True)
        v1 = x * 3
        v3 = v1[:, 0]
        v1.detach_()
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            v3.add_(v3)
        c = lib.zeros(3)
        w = c[1:]
        w.add_(x[0, :2])               # a view of a leaf that requires no grad: written
        assert c.grad_fn.name() == "torch::autograd::CopySlices" and w.requires_grad


def test_a_view_follows_its_base_s_grad_fn():
    # (seed 2654) a view taken before its base required grad: once an in-place op gave
    # the base a grad_fn, the view requires grad and its grad_fn (read) is an
    # AsStridedBackward0 of the base's, not None (is_leaf was True); copy_'s node is
    # PyTorch's CopyBackwards
    got = []
    for lib in (gpujit, torch):
        x0 = lib.ones(3, 4, requires_grad=True)
        x1 = lib.ones(3, 4) * 2
        v1 = x1.select(0, -1)
        x1.copy_(x0 * 2)
        r = [x1.grad_fn.name(), type(x1.grad_fn).__name__, v1.requires_grad, v1.is_leaf,
             type(v1.grad_fn).__name__]
        x1[1::2] = 5
        r += [x1.grad_fn.name(), v1.is_leaf]
        v1.lerp_(v1 * 2, 0.25)
        (x1 * 1).sum().backward()
        got.append(r + [x0.grad.tolist()])
    assert got[0] == got[1]


def _addcmul_self(x1):
    v3 = (x1.abs() + 1).log() + 0.5
    v3.addcmul_(v3, v3, value=0.5)
    return v3


def test_a_scripted_write_whose_operand_is_self_keeps_eager_s_backward_error():
    # (seed 2697, gradients) v.addcmul_(v, v): autograd saves the operands (v itself) and
    # the write changes them: eager's backward raises "modified by an inplace operation";
    # the scripted graph from its optimized call folded the write into its out-of-place
    # form (fusers/functionalize.py looked at v's earlier readers, not at the writing op
    # itself) and answered
    f = gpujit.jit.script(_addcmul_self)
    for fn in (_addcmul_self, f, f, f, f):
        x = gpujit.ones(4, requires_grad=True)
        r = fn(x)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            r.sum().backward()
    assert f(gpujit.ones(4)).tolist() == _addcmul_self(gpujit.ones(4)).tolist()


def test_storing_a_0_dim_tensor_fills_as_pytorch():
    # (seed 2811) `v[...] = v[0]` (a 0-dim value on the CPU into a view of other sizes):
    # PyTorch's copy_to fills (fill_(Tensor): no overlap check against the value); gpujit
    # copied, and refused the partial overlap. x.fill_(w) of a 0-dim w that requires grad
    # is fill_.Tensor, differentiable in w (it was the Scalar fill: no gradient)
    got = []
    for lib in (gpujit, torch):
        x2 = lib.tensor([1.0, 2.0, 3.0])
        v1 = x2[2:]
        v1[...] = v1.select(0, -1)
        x2[:2] = x2[2]
        y = lib.zeros(2, 3)
        w = lib.tensor(2.0, requires_grad=True)
        y[0] = w * 3
        y[:, 1] = w
        z = lib.zeros(3)
        z.fill_(w)
        (y.sum() + z.sum()).backward()
        names = [y.grad_fn.name(), z.grad_fn.name(), lib.fill(z, w).grad_fn.name(),
                 (z * 1).fill_(2.0).grad_fn.name()]
        with pytest.raises(RuntimeError, match="more than one element of the written-to"):
            lib.zeros(1, 3).expand(2, 3)[:, 0] = lib.tensor(1.0)
        with pytest.raises(RuntimeError, match="fill_ only supports 0-dimension value"):
            lib.zeros(3).fill_(lib.ones(2))
        got.append((x2.tolist(), x2._version, y.tolist(), w.grad.item(), names))
    assert got[0] == got[1]


def _select_last(x2):
    return x2[1:].select(0, -1)


def test_select_out_of_range_says_select_as_pytorch():
    # (seed 2851) the select op said indexing's "index -1 is out of bounds for dimension 0
    # with size 0"; PyTorch's select says "select(): index -1 out of range for tensor of
    # size [0] at dimension 0" (x[i] keeps indexing's message; TorchScript's x[i] is
    # aten::select, with select's)
    for lib in (gpujit, torch):
        with pytest.raises(IndexError, match=r"select\(\): index -1 out of range for tensor "
                                             r"of size \[0\] at dimension 0"):
            lib.ones(1)[1:].select(0, -1)
        with pytest.raises(IndexError, match=r"select\(\): index 0 out of range for tensor "
                                             r"of size \[2, 0\] at dimension 1"):
            lib.ones(2, 0).select(1, 0)
        with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 1 with "
                                             "size 3"):
            lib.ones(2, 3)[:, 3]
        with pytest.raises(IndexError, match="index 0 is out of bounds for dimension 0 with "
                                             "size 0"):
            lib.ones(0)[0]
    f = gpujit.jit.script(_select_last)
    for _ in range(3):
        with pytest.raises(IndexError, match=r"select\(\): index -1 out of range"):
            f(gpujit.ones(1))


@pytest.mark.parametrize("make", [lambda x: x.flatten().unsqueeze(1).expand(-1, 2),
                                  lambda x: x.unsqueeze(1).expand(-1, 2, -1),
                                  lambda x: x.unfold(1, 2, 1), lambda x: x.t()[::2]])
def test_an_expanded_view_of_a_base_written_with_gradients_sums_its_gradient(make):
    # (seed 2996, gradients) a view taken before its base required grad, the base then
    # written with values that require grad: the view's gradient reached the base through
    # an index_put without accumulation, so elements sharing a base element (expand,
    # unfold) kept one gradient instead of their sum
    got = []
    for lib in (gpujit, torch):
        x0 = lib.ones(2, 3)
        x2 = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        v1 = make(x0)
        x0.add_(x2)
        (v1 * lib.arange(float(v1.numel())).reshape(v1.shape)).sum().backward()
        got.append(x2.grad.tolist())
    assert got[0] == got[1]


@pytest.mark.parametrize("make", [lambda x: x[:-1].detach()[1::2].diagonal(1),
                                  lambda x: x[1:2].diagonal(1), lambda x: x.diagonal(1),
                                  lambda x: x[1].detach()])
def test_writing_a_diagonal_of_an_expanded_tensor(make):
    # (seed 3065) diagonal is an as_strided view: NumPy's read-only array over a
    # DummyArray base, where the writable alias's walk to the memory stopped ("the tensor's
    # memory is read-only"); PyTorch writes the one element
    got = []
    for lib in (gpujit, torch):
        x = lib.tensor([[1.0, 2.0]]).expand(3, 2)
        make(x).pow_(2)
        got.append(x.tolist())
    assert got[0] == got[1]
    a = np.ones((2, 2), dtype=np.float32)
    a.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = gpujit.from_numpy(a)
    with pytest.raises(RuntimeError, match="read-only"):
        t.diagonal().pow_(2)


@pytest.mark.parametrize("op", ["addcmul", "addcdiv", "lerp"])
def test_ternary_ops_save_only_what_the_needed_gradients_read(op):
    # (seed 3271, gradients) v5.addcmul_(v4, v4) with v4 needing no gradient, then v4
    # written: addcmul kept both operands for every gradient and backward raised
    # "modified by an inplace operation"; PyTorch saves tensor2 only for tensor1's
    # gradient (lerp, addcdiv alike)
    res = []
    for lib in (gpujit, torch):
        out = []
        for need in ((True, False, False), (False, True, False), (False, False, True)):
            a, b, c = [lib.tensor([1.0, 2.0, 3.0]) + k for k in range(3)]
            a, b, c = [t.requires_grad_(r) for t, r in zip((a, b, c), need)]
            x, y, z = a * 1, b * 1, c * 1
            r = getattr(lib, op)(x, y, z)
            y.add_(1)
            try:
                r.sum().backward()
                out.append([None if t.grad is None else t.grad.tolist() for t in (a, b, c)])
            except RuntimeError as e:
                out.append("modified by an inplace operation" in str(e))
        res.append(out)
    assert res[0] == res[1]


def test_an_empty_view_shares_its_base_s_version_counter():
    # (seed 3427) y.diagonal(1) of a [2, 1] y is empty: it shared no memory, so it got a
    # counter of its own and writes through it left y's version behind PyTorch's
    got = []
    for lib in (gpujit, torch):
        y = lib.ones(2, 1)
        v = y.diagonal(1).view(-1)
        v.copy_(v)
        w = lib.ones(3)
        w[1:1].add_(1)
        got.append((y._version, w._version, v._version))
    assert got[0] == got[1]


def test_writing_a_reshape_copy_with_gradients():
    # (seed 3766) x.t().reshape(-1) / flatten copies (no view fits the strides); NumPy hands
    # back a view of its private buffer, which a view taken of the result also holds:
    # autograd took it for another tensor's memory and refused an in-place write with
    # gradients into the copy
    got = []
    for lib in (gpujit, torch):
        x0 = lib.ones(4, 3).t()
        x2 = lib.tensor(2.0, requires_grad=True)
        v6 = x0[:, None, :].flatten()
        v7 = v6.view_as(v6)
        v6.addcmul_(x2, x2, value=0.5)
        v = lib.ones(4, 3).t().reshape(-1)
        w = v[1:]
        v.mul_(x2)
        (v6.sum() + v7.sum() * 2 + (w * 3).sum()).backward()
        got.append((v6._base is None, v7.tolist(), x2.grad.item()))
    assert got[0] == got[1]


def test_unfold_keeps_only_its_input_s_shape_for_backward():
    # (seed 3403, gradients) unfold's backward saved its input: after the graph was freed
    # by an earlier backward a second backward through the unfold raised "backward through
    # the graph a second time", and writing the input after the unfold failed the version
    # check; PyTorch's UnfoldBackward0 keeps sizes only
    got = []
    for lib in (gpujit, torch):
        x = lib.arange(5.0, requires_grad=True)
        y = x * 1
        u = y.unfold(0, 2, 1)
        y.add_(1)
        (u * lib.arange(8.0).reshape(4, 2)).sum().backward()
        v1 = lib.arange(1.0, 5.0).requires_grad_()
        v2 = v1.unfold(0, 2, 1)
        (v2 * v2).sum().backward()
        v2.reciprocal().sum().backward()
        got.append((x.grad.tolist(), v1.grad.tolist()))
    assert got[0] == got[1]
