"""Session 45, lead: fixes found on the way (the torch archive work has its own file,
tests/test_torch_archive_s45.py)."""
import io

import numpy as np

import gpujit as torch


def test_resaving_loaded_views_keeps_their_offsets():
    """gpujit.load rebuilds a strided tensor with NumPy's as_strided, whose base is a
    DummyArray: the storage lookup stopped there and took a copy's address, so saving the
    loaded tensor again wrote a garbage storage offset (a corrupt file PyTorch refuses:
    'invalid storage offset -4893248')."""
    from gpujit.ops.views_strided import storage_of
    base = torch.arange(48.)
    views = [base[4:].view(4, 11)[:, :5].t(), base.view(2, 4, 6).transpose(0, 1)[1:],
             base.view(6, 8)[2:, 1::2]]
    for x in views:
        b = io.BytesIO()
        torch.save([x, base], b)
        b.seek(0)
        y, yb = torch.load(b)
        assert storage_of(y._data)[1] == x.storage_offset()
        assert y.stride() == x.stride()
        b2 = io.BytesIO()
        torch.save([y, yb], b2)
        b2.seek(0)
        z, zb = torch.load(b2)
        np.testing.assert_array_equal(z.numpy(), x.numpy())
        assert z.storage_offset() == x.storage_offset()
        zb[0] = 100.0                  # still one storage with the base
        assert z.untyped_storage().data_ptr() == zb.untyped_storage().data_ptr()
