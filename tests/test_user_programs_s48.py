"""User programs of session 48 (f48): realistic scripts (char-RNN, VAE, U-Net block, GCN,
decoder with a kv-cache, policy gradient, beam search ...) run with gpujit and, where torch
is importable, compared with torch 2.13. Expected values are also pinned by hand / NumPy so
that the tests run without torch (CI has none)."""
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
