"""A tensor whose array owns memory in another order than C's (channels_last: NumPy's and
CuPy's empty_like / copy keep the layout) has that memory as its storage: as_strided reads
and writes it, torch.save / torch.jit.save write it and load it back (ops/views_strided.
storage_of took a copy in C order: garbage storage offsets, 'does not fit its storage'
on load, as_strided views that did not alias). Expected values are torch 2.13's."""
from __future__ import annotations

import io

import numpy as np
import pytest

import gpujit

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]


def _cl(device):
    return gpujit.arange(24.0, device=device).reshape(1, 2, 3, 4).contiguous(
        memory_format=gpujit.channels_last)


@pytest.mark.parametrize("device", DEVICES)
def test_as_strided_of_a_channels_last_tensor_views_its_memory(device):
    x = _cl(device)
    assert x.stride() == (24, 1, 8, 2) and x.storage_offset() == 0
    assert x.as_strided((6,), (1,)).tolist() == [0.0, 12.0, 1.0, 13.0, 2.0, 14.0]
    assert x.as_strided((2, 3), (1, 2), 1).tolist() == [[12.0, 13.0, 14.0], [1.0, 2.0, 3.0]]
    y = x[:, 1:]
    assert y.storage_offset() == 1 and y.as_strided((3,), (2,)).tolist() == [12.0, 13.0, 14.0]
    x.as_strided((6,), (1,)).mul_(10)              # (a view: the write reaches x)
    assert x.flatten().tolist()[:8] == [0.0, 10.0, 20.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert x.untyped_storage().nbytes() == 96


@pytest.mark.parametrize("device", DEVICES)
def test_channels_last_tensors_and_views_save_and_load(device):
    x = _cl(device)
    conv = gpujit.nn.Conv2d(2, 3, 3).to(device).to(memory_format=gpujit.channels_last)
    state = {"x": x, "view": x[:, 1:, 1:], "w": conv.weight}
    buf = io.BytesIO()
    gpujit.save(state, buf)
    buf.seek(0)
    back = gpujit.load(buf)
    for k, t in state.items():
        assert back[k].device == t.device and back[k].stride() == t.stride()
        np.testing.assert_array_equal(back[k].detach().cpu().numpy(),
                                      t.detach().cpu().numpy())
    assert back["view"].storage_offset() == 1 + 2 * 4      # (one storage, as torch's)
    buf = io.BytesIO()
    gpujit.jit.save(gpujit.jit.script(conv), buf)
    buf.seek(0)
    m = gpujit.jit.load(buf)
    assert m.weight.stride() == (18, 1, 6, 2)
    np.testing.assert_array_equal(m.weight.detach().cpu().numpy(),
                                  conv.weight.detach().cpu().numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_set_over_a_channels_last_tensors_storage(device):
    # (NumPy refused the non-C-order owner as a buffer: 'ndarray is not contiguous'; on
    # CUDA set_ builds cupy.cuda.MemoryPointer(mem, offset), which the fake CuPy lacked)
    x = gpujit.arange(48.0, device=device).reshape(2, 3, 2, 4).to(
        memory_format=gpujit.channels_last)
    y = gpujit.empty(0, device=device).set_(x.untyped_storage(), 0, (2, 3), (1, 2))
    assert y.tolist() == [[0.0, 16.0, 9.0], [8.0, 1.0, 17.0]]
    y.mul_(-1)                                   # (the same memory)
    assert x[0, 1, 0, 0].item() == -8.0 and x[0, 0, 1, 0].item() == 4.0
    z = gpujit.arange(6.0, device=device)
    w = gpujit.empty(0, device=device).set_(z[2:].untyped_storage(), 1, (2, 2), (1, 2))
    assert w.tolist() == [[1.0, 3.0], [2.0, 4.0]]


@pytest.mark.parametrize("device", DEVICES)
def test_pickle_and_deepcopy_keep_a_dense_tensors_strides(device):
    import copy
    import pickle
    x = _cl(device)
    t = gpujit.arange(6.0, device=device).reshape(2, 3).t()
    for v in (x, t):
        for back in (pickle.loads(pickle.dumps(v)), copy.deepcopy(v)):
            assert back.stride() == v.stride() and back.device == v.device
            assert back.tolist() == v.tolist()
    g = pickle.loads(pickle.dumps(t.detach().requires_grad_()))
    assert g.requires_grad and g.is_leaf and g.stride() == (1, 3)
