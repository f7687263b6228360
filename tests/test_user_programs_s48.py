"""User programs of session 48 (f48): realistic scripts (char-RNN, VAE, U-Net block, GCN,
decoder with a kv-cache, policy gradient, beam search ...) run with gpujit and, where torch
is importable, compared with torch 2.13. Expected values are also pinned by hand / NumPy so
that the tests run without torch (CI has none)."""
import numpy as np
import pytest

import gpujit


def _torch():
    return pytest.importorskip("torch")


# ------------------------------------------------- U-Net up block: pad then cat, traced

def _pad_cat(lib):
    F_ = lib.nn.functional

    def up_merge(x1, x2):
        dx = x2.size(3) - x1.size(3)
        x1 = F_.pad(x1, [dx // 2, dx - dx // 2])
        return lib.cat([x2, x1], dim=1)
    return lib.jit.trace(up_merge, (lib.ones(1, 1, 3, 3), lib.ones(1, 2, 3, 5)))


def test_trace_names_the_tensors_of_a_list_argument_after_their_locals():
    # torch's tracer names a value after the local holding it when an op uses it, the
    # tensors of a Tensor[] too: the padded x1 is %x1 (the argument it reassigns %x1.1)
    tr = _pad_cat(gpujit)
    g = str(tr.graph)
    assert "= aten::pad(%x1.1," in g
    assert "prim::ListConstruct(%x2, %x1)" in g
    assert tr.code.splitlines()[-2:] == ["  x10 = torch.pad(x1, [_2, int(_3)])",
                                         "  return torch.cat([x2, x10], 1)"]
    out = tr(gpujit.ones(1, 1, 3, 2), gpujit.zeros(1, 2, 3, 4))
    assert out.shape == (1, 3, 3, 4)
    assert out[0, 2].tolist() == [[0.0, 1.0, 1.0, 0.0]] * 3


def test_trace_list_argument_names_match_torch():
    torch = _torch()
    assert _pad_cat(gpujit).code == _pad_cat(torch).code


# ------------------------- ops PyTorch hands their input back from, traced (contrastive loss)

def _returning_self_programs(lib):
    F_ = lib.nn.functional
    return [
        ("contiguous", lambda a: (a.contiguous(), a + 1)[1], "a0 = torch.contiguous(a)"),
        ("float", lambda a: (a.float(), a + 1)[1], "a0 = torch.to(a, 6)"),
        ("to_dtype", lambda a: (a.to(lib.float32), a + 1)[1], "a0 = torch.to(a, 6)"),
        ("type", lambda a: (a.type(lib.float32), a + 1)[1], "a0 = torch.to(a, 6)"),
        ("type_str", lambda a: (a.type("torch.FloatTensor"), a + 1)[1],
         'a0 = torch.to(a, torch.device("cpu"), 6)'),
        ("flatten", lambda a: (a.flatten(1), a + 1)[1], "a0 = torch.flatten(a, 1)"),
        ("atleast_2d", lambda a: (lib.atleast_2d(a), a + 1)[1], "a0 = torch.atleast_2d(a)"),
        ("sum_to_size", lambda a: (a.sum_to_size(3, 4), a + 1)[1],
         "a0 = torch.sum_to_size(a, [3, 4])"),
        ("broadcast", lambda a: (lib.broadcast_tensors(a, a * 2), a + 1)[1],
         "  a0, _1, = _0\n  return torch.add(a0, CONSTANTS.c1)"),
        ("mse", lambda a: F_.mse_loss(a, a * 2) + a.sum(),
         "input, target0, = torch.broadcast_tensors([a, target])"),
    ]


def _traced_code(lib, fn):
    x = lib.arange(12.).reshape(3, 4)
    return lib.jit.trace(fn, (x,)).code


def test_trace_keeps_ops_that_hand_their_input_back():
    # `y = a.float(); return a + 1`: PyTorch's a.float() is a itself, which its tracer
    # rebinds to the aten::to's result: the op stays in the graph and the add reads it
    # (gpujit recorded a new tensor: the op was dead and the add read the input)
    for name, fn, line in _returning_self_programs(gpujit):
        code = _traced_code(gpujit, fn)
        assert line in code, (name, code)
        tr = gpujit.jit.trace(fn, (gpujit.arange(12.).reshape(3, 4),))
        y = tr(gpujit.ones(3, 4))
        expected = 2.0 if name != "mse" else 1.0 + 12
        assert np.allclose(y.numpy(), expected), name
    # eagerly they are the input itself, as PyTorch's
    x = gpujit.ones(3, 4)
    assert x.contiguous() is x and x.float() is x and x.type(gpujit.float32) is x
    assert gpujit.broadcast_tensors(x, x)[0] is x and x.sum_to_size(3, 4) is x


def test_trace_ops_handing_their_input_back_match_torch():
    torch = _torch()
    for (name, fn, _), (_, tfn, _) in zip(_returning_self_programs(gpujit),
                                          _returning_self_programs(torch)):
        assert _traced_code(gpujit, fn) == _traced_code(torch, tfn), name


# ------------------------------- losses traced: `int reduction=Mean` is a default of 1

def _losses(lib):
    F_ = lib.nn.functional

    def losses(a, t):
        return F_.cross_entropy(a, t) + F_.nll_loss(a, t) + F_.cross_entropy(a, t,
                                                                            reduction="sum")
    return lib.jit.trace(losses, (lib.arange(12.).reshape(3, 4) / 7, lib.tensor([0, 1, 3])))


def test_traced_code_leaves_a_mean_reduction_out():
    # the schemas' `int reduction=Mean` is at::Reduction::Mean (1): TorchScript's printer
    # leaves the trailing default out (gpujit printed `cross_entropy_loss(a, t, None, 1)`)
    tr = _losses(gpujit)
    code = tr.code
    assert "torch.cross_entropy_loss(a, t)" in code
    assert "torch.nll_loss_nd(a, t)" in code
    assert "torch.cross_entropy_loss(a, t, None, 2)" in code
    a = np.arange(12.).reshape(3, 4) / 7
    ls = a - np.log(np.exp(a).sum(1, keepdims=True))
    picked = -ls[[0, 1, 2], [0, 1, 3]]
    nll = -a[[0, 1, 2], [0, 1, 3]]
    assert abs(tr(gpujit.tensor(a, dtype=gpujit.float32), gpujit.tensor([0, 1, 3])).item()
               - (picked.mean() + nll.mean() + picked.sum())) < 1e-5


def test_traced_losses_code_matches_torch():
    torch = _torch()
    assert _losses(gpujit).code == _losses(torch).code
