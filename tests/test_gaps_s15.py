"""Gaps left by earlier sessions (session 15): scripted max_unpool1d/2d/3d with list / int /
tuple sizes; broadcast errors naming tensors a and b as PyTorch does; in-place writes whose
input shares part of the written-to memory (or whose target overlaps itself) refused with
PyTorch's errors, eager and scripted; one submodule registered under two names."""
import re

import numpy as np
import pytest

import gpujit as torch
import gpujit.nn.functional as F

PARTIAL = re.escape("unsupported operation: some elements of the input tensor and the "
                    "written-to tensor refer to a single memory location. Please clone() "
                    "the tensor before performing the operation.")
INTERNAL = re.escape("unsupported operation: more than one element of the written-to tensor "
                     "refers to a single memory location. Please clone() the tensor before "
                     "performing the operation.")


# --- max_unpool in script -------------------------------------------------------------

def _unpool_ref(y, i, out_shape):
    out = np.zeros(out_shape, np.float32).reshape(out_shape[0], out_shape[1], -1)
    yv, iv = y.numpy().reshape(y.shape[0], y.shape[1], -1), i.numpy().reshape(
        i.shape[0], i.shape[1], -1)
    for n in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[n, c, iv[n, c]] = yv[n, c]
    return out.reshape(out_shape)


def _unpool_fn(nd, form):
    if nd == 1:
        fns = {"int": lambda y, i: F.max_unpool1d(y, i, 2),
               "list": lambda y, i: F.max_unpool1d(y, i, [2], [2]),
               "tuple": lambda y, i: F.max_unpool1d(y, i, (2,), stride=(2,), padding=0)}
    elif nd == 2:
        fns = {"int": lambda y, i: F.max_unpool2d(y, i, 2),
               "list": lambda y, i: F.max_unpool2d(y, i, [2, 2]),
               "tuple": lambda y, i: F.max_unpool2d(y, i, (2, 2), (2, 2), (0, 0))}
    else:
        fns = {"int": lambda y, i: F.max_unpool3d(y, i, 2, 2),
               "list": lambda y, i: F.max_unpool3d(y, i, [2, 2, 2]),
               "tuple": lambda y, i: F.max_unpool3d(y, i, (2, 2, 2), padding=[0, 0, 0])}
    return fns[form]


@torch.jit.script
def _unpool1d_list(y, i):
    return F.max_unpool1d(y, i, [2])


@torch.jit.script
def _unpool2d_list(y, i):
    return F.max_unpool2d(y, i, [2, 2])


@torch.jit.script
def _unpool2d_int_size(y, i, size: list[int]):
    return F.max_unpool2d(y, i, 2, output_size=size)


@torch.jit.script
def _unpool3d_tuple(y, i):
    return F.max_unpool3d(y, i, (2, 2, 2), (2, 2, 2))


@pytest.mark.parametrize("nd,fn", [(1, _unpool1d_list), (2, _unpool2d_list),
                                   (3, _unpool3d_tuple)])
def test_scripted_max_unpool_list_sizes(nd, fn):
    x = torch.randn(*((2, 3) + (4,) * nd))
    y, i = getattr(F, f"max_pool{nd}d")(x, 2, return_indices=True)
    np.testing.assert_array_equal(fn(y, i).numpy(), _unpool_ref(y, i, tuple(x.shape)))


def test_scripted_max_unpool_output_size():
    x = torch.randn(1, 2, 5, 5)
    y, i = F.max_pool2d(x, 2, return_indices=True)
    out = _unpool2d_int_size(y, i, [5, 5])
    np.testing.assert_array_equal(out.numpy(), _unpool_ref(y, i, (1, 2, 5, 5)))
    out4 = _unpool2d_int_size(y, i, [1, 2, 5, 5])       # (N, C, H, W) also accepted
    np.testing.assert_array_equal(out4.numpy(), out.numpy())


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_unpool_modules_script(nd):
    # (PyTorch 2.13 itself fails here: an internal assert, "Expected IntList but got Int")
    m = getattr(torch.nn, f"MaxUnpool{nd}d")(2)
    s = torch.jit.script(m)
    x = torch.randn(*((1, 2) + (4,) * nd))
    y, i = getattr(F, f"max_pool{nd}d")(x, 2, return_indices=True)
    np.testing.assert_array_equal(s(y, i).numpy(), _unpool_ref(y, i, tuple(x.shape)))


@pytest.mark.parametrize("form", ["int", "list", "tuple"])
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_unpool_eager_forms(nd, form):
    x = torch.randn(*((1, 2) + (4,) * nd))
    y, i = getattr(F, f"max_pool{nd}d")(x, 2, return_indices=True)
    out = _unpool_fn(nd, form)(y, i)
    np.testing.assert_array_equal(out.numpy(), _unpool_ref(y, i, tuple(x.shape)))


# --- broadcast error wording ------------------------------------------------------------

def _msg(a, b, dim):
    return (rf"^The size of tensor a \({a}\) must match the size of tensor b \({b}\) at "
            rf"non-singleton dimension {dim}")


BOOL = torch.bool


@pytest.mark.parametrize("call,a,b", [
    # masked_fill broadcasts (mask, self): the mask is tensor a; masked_fill_ names self a
    (lambda: torch.zeros(3, 4).masked_fill(torch.zeros(2, 4, dtype=BOOL), 1.0), 2, 3),
    (lambda: torch.zeros(3, 4).masked_fill(torch.zeros(2, 4, dtype=BOOL),
                                           torch.tensor(1.0)), 2, 3),
    (lambda: torch.zeros(3, 4).masked_fill_(torch.zeros(2, 4, dtype=BOOL), 1.0), 3, 2),
    (lambda: torch.where(torch.zeros(2, 4, dtype=BOOL), torch.zeros(3, 4), 1.0), 2, 3),
    (lambda: torch.where(torch.zeros(3, 4, dtype=BOOL), torch.zeros(3, 4),
                         torch.zeros(5, 1)), 3, 5),
    (lambda: torch.zeros(3, 4).masked_scatter(torch.zeros(2, 4, dtype=BOOL),
                                              torch.ones(12)), 2, 3),
    # TensorIterator folds its inputs in order: the shape so far is a, the next one b
    (lambda: torch.addcmul(torch.zeros(3, 4), torch.ones(2, 4), torch.ones(3, 4)), 3, 2),
    (lambda: torch.addcmul(torch.zeros(3, 4), torch.ones(3, 4), torch.ones(2, 4)), 3, 2),
    (lambda: torch.lerp(torch.zeros(3, 4), torch.ones(2, 4), 0.5), 3, 2),
    (lambda: torch.lerp(torch.zeros(3, 4), torch.ones(3, 4), torch.ones(2, 4)), 3, 2),
    (lambda: torch.zeros(3, 4) + torch.ones(2, 4), 3, 2),
    (lambda: torch.zeros(3, 4).add_(torch.ones(2, 4)), 3, 2),
])
def test_broadcast_error_names_tensors_as_pytorch(call, a, b):
    with pytest.raises(RuntimeError, match=_msg(a, b, 0)):
        call()


def test_broadcast_shapes_words():
    # torch.broadcast_shapes is PyTorch's Python fold, with its own words
    with pytest.raises(RuntimeError, match=re.escape(
            "Attempting to broadcast a dimension of length 5 at -1! Mismatching argument at "
            "index 2 had (5,); but expected shape should be broadcastable to [2, 3]")):
        torch.broadcast_shapes((2, 1), (1, 3), (5,))
    assert torch.broadcast_shapes((2, 1), (1, 3), (3,)) == (2, 3)
    assert torch.broadcast_shapes(3, (2, 1), [1]) == (2, 3)
    assert torch.broadcast_shapes() == ()
    with pytest.raises(ValueError, match="negative length"):
        torch.broadcast_shapes((-1,), (3,))
    # broadcast_tensors folds its tensors as TensorIterator does: so far is a, next b
    with pytest.raises(RuntimeError, match=_msg(3, 5, 1)):
        torch.broadcast_tensors(torch.zeros(2, 1), torch.zeros(1, 3), torch.zeros(5))


def test_scripted_broadcast_errors():
    @torch.jit.script
    def mf(x, m):
        return x.masked_fill(m, 1.0)

    @torch.jit.script
    def wh(c, x, y):
        return torch.where(c, x, y)

    for _ in range(2):
        with pytest.raises(RuntimeError, match=_msg(2, 3, 0)[1:]):
            mf(torch.zeros(3, 4), torch.zeros(2, 4, dtype=BOOL))
        with pytest.raises(RuntimeError, match=_msg(2, 3, 0)[1:]):
            wh(torch.zeros(2, 4, dtype=BOOL), torch.zeros(3, 4), torch.zeros(3, 4))


# --- memory overlap ---------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda y: y[1:].copy_(y[:-1]),
    lambda y: y[:-1].copy_(y[1:]),
    lambda y: y[1:].add_(y[:-1]),
    lambda y: y[1:].mul_(y[:-1]),
    lambda y: y[1:].clamp_(y[:-1], None),
    lambda y: y[1:].addcmul_(y[:-1], y[:-1]),
    lambda y: y[1:].lerp_(y[:-1], 0.5),
    lambda y: y.view(2, 3).add_(y[:3]),                 # a row of itself
    lambda y: y.view(1, 6).add_(y.view(6, 1)[:1, 0]),
    lambda y: y.view(3, 2).t().add_(y.view(2, 3)),      # same range, other strides
    lambda y: y.__setitem__(slice(1, None), y[:-1]),
])
def test_partial_overlap_refused(call):
    y = torch.arange(6.)
    with pytest.raises(RuntimeError, match=PARTIAL):
        call(y)
    np.testing.assert_array_equal(y.numpy(), np.arange(6.))    # nothing written


@pytest.mark.parametrize("call,want", [
    (lambda y: y.add_(y), np.arange(6.) * 2),                   # the same elements
    (lambda y: y.mul_(y.view(6)), np.arange(6.) ** 2),
    (lambda y: y.view(2, 3).add_(y.view(2, 3)), np.arange(6.) * 2),
    (lambda y: y.copy_(y), np.arange(6.)),
    (lambda y: y[:3].copy_(y[3:]), np.array([3., 4, 5, 3, 4, 5])),   # disjoint
    (lambda y: y[::2].add_(y[1::2]), np.array([1., 1, 5, 3, 9, 5])),  # interleaved
    (lambda y: y[1:].copy_(y[:-1].clone()), np.array([0., 0, 1, 2, 3, 4])),
])
def test_overlap_allowed(call, want):
    y = torch.arange(6.)
    call(y)
    np.testing.assert_array_equal(y.numpy(), want)


@pytest.mark.parametrize("call", [
    lambda: torch.zeros(4).expand(3, 4).add_(1),
    lambda: torch.zeros(3, 1).expand(3, 4).mul_(2),
    lambda: torch.zeros(1).expand(3).add_(torch.ones(3)),
    lambda: torch.zeros(4).expand(3, 4).copy_(torch.ones(3, 4)),
])
def test_internal_overlap_refused(call):
    with pytest.raises(RuntimeError, match=INTERNAL):
        call()


@torch.jit.script
def _s_copy(y):
    y[1:].copy_(y[:-1])
    return y


@torch.jit.script
def _s_add(y):
    return y[1:].add_(y[:-1])


@torch.jit.script
def _s_setitem(y):
    y[1:] = y[:-1]
    return y


@torch.jit.script
def _s_expand(y):
    return y.expand(3, 6).add_(1)


@torch.jit.script
def _s_fine(y):
    y.add_(y)
    return y[3:].add_(y[:3])


def test_overlap_scripted():
    for _ in range(2):                 # (profiling run, then the optimized one)
        for fn in (_s_copy, _s_add, _s_setitem):
            y = torch.arange(6.)
            with pytest.raises(RuntimeError, match=PARTIAL):
                fn(y)
        with pytest.raises(RuntimeError, match=INTERNAL):
            _s_expand(torch.arange(6.))
        np.testing.assert_array_equal(_s_fine(torch.arange(6.)).numpy(), [6., 10, 14])


# --- one submodule under two names ------------------------------------------------------

class _Shared(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Linear(2, 2)
        self.b = self.a
        self.c = torch.nn.Sequential(self.a, torch.nn.ReLU())

    def forward(self, x):
        return self.c(self.b(self.a(x)))


@pytest.mark.parametrize("kind", ["script", "trace"])
def test_shared_submodule_keeps_both_names(kind):
    m = _Shared()
    x = torch.randn(3, 2)
    s = torch.jit.script(m) if kind == "script" else torch.jit.trace(m, x)
    assert [n for n, _ in s.named_modules()] == ["", "a", "b", "c", "c.0", "c.1"]
    assert [n for n, _ in s.named_children()] == ["a", "b", "c"]
    assert list(s.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias",
                                    "c.0.weight", "c.0.bias"]
    assert [n for n, _ in s.named_parameters()] == ["a.weight", "a.bias"]   # shared tensors
    # a module per name (as torch's), over the same parameter tensors
    assert s.a is not s.b and s.a.weight is s.b.weight is m.a.weight
    np.testing.assert_allclose(s(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6)
    with torch.no_grad():
        s.a.weight.fill_(1.0)
    assert float(s.b.weight.sum()) == 4.0 and float(m.a.weight.sum()) == 4.0
    s.a.train(False)                     # the module objects are separate
    assert s.b.training


def test_shared_submodule_printed_and_coded_under_both_names():
    s = torch.jit.script(_Shared())
    assert repr(s) == ("RecursiveScriptModule(\n  original_name=_Shared\n"
                       "  (a): RecursiveScriptModule(original_name=Linear)\n"
                       "  (b): RecursiveScriptModule(original_name=Linear)\n"
                       "  (c): RecursiveScriptModule(\n    original_name=Sequential\n"
                       "    (0): RecursiveScriptModule(original_name=Linear)\n"
                       "    (1): RecursiveScriptModule(original_name=ReLU)\n  )\n)")
    code = s.code
    assert "self.a" in code and "self.b" in code and "self.c" in code
    t = torch.jit.trace(_Shared(), torch.randn(1, 2))
    assert repr(t).startswith("_Shared(\n  original_name=_Shared\n"
                              "  (a): Linear(original_name=Linear)\n"
                              "  (b): Linear(original_name=Linear)\n")
