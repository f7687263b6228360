"""Session 27 (o27): F.interpolate on uint8 (bilinear / bicubic, PyTorch's CPU fixed-point
kernels, values checked against torch 2.13) and the dtypes refused by the upsample ops
(errors naming torch 2.13's CPU kernels)."""
import numpy as np
import pytest

import gpujit
import gpujit.nn.functional as F

X = [[[[205, 98, 168, 0, 55], [215, 158, 178, 126, 104], [160, 54, 212, 33, 86],
       [80, 51, 166, 19, 251]]]]

# torch 2.13 (CPU): F.interpolate(torch.tensor(X, dtype=torch.uint8), size, mode, align_corners)
EXPECTED = {
    ('bilinear', False, (3, 7)): [[207, 150, 126, 170, 63, 39, 63], [188, 141, 132, 195, 113, 87, 95], [93, 69, 86, 174, 65, 108, 224]],  # noqa: E501
    ('bilinear', True, (3, 7)): [[205, 134, 121, 168, 56, 18, 55], [188, 133, 136, 195, 118, 85, 95], [80, 61, 89, 166, 68, 96, 251]],  # noqa: E501
    ('bicubic', False, (3, 7)): [[215, 144, 120, 169, 57, 22, 65], [202, 138, 131, 200, 126, 77, 85], [93, 54, 85, 173, 42, 90, 231]],  # noqa: E501
    ('bicubic', True, (3, 7)): [[205, 124, 117, 168, 51, 0, 55], [196, 129, 137, 200, 132, 78, 84], [80, 47, 92, 166, 46, 76, 251]],  # noqa: E501
    ('bilinear', False, (6, 8)): [[205, 158, 102, 146, 116, 11, 31, 55], [210, 174, 131, 159, 139, 70, 73, 80], [206, 177, 143, 170, 161, 115, 105, 101], [169, 127, 80, 165, 157, 58, 72, 89], [120, 91, 61, 147, 138, 36, 107, 169], [80, 67, 58, 130, 120, 28, 150, 251]],  # noqa: E501
    ('bilinear', True, (6, 8)): [[205, 144, 108, 148, 120, 24, 24, 55], [211, 167, 140, 162, 146, 89, 80, 84], [204, 165, 144, 171, 163, 118, 105, 100], [171, 116, 94, 168, 161, 74, 68, 90], [128, 85, 73, 153, 146, 51, 81, 152], [80, 63, 67, 133, 124, 40, 118, 251]],  # noqa: E501
    ('bicubic', False, (6, 8)): [[215, 150, 93, 160, 120, 0, 10, 56], [222, 179, 137, 168, 144, 76, 69, 82], [215, 180, 148, 178, 172, 128, 107, 101], [185, 119, 73, 182, 179, 57, 51, 79], [122, 72, 48, 164, 150, 20, 88, 172], [75, 54, 56, 144, 120, 15, 147, 255]],  # noqa: E501
    ('bicubic', True, (6, 8)): [[205, 136, 100, 163, 129, 17, 5, 55], [217, 174, 145, 170, 151, 97, 78, 87], [208, 168, 147, 180, 174, 132, 106, 102], [178, 103, 84, 187, 183, 73, 46, 75], [123, 59, 57, 172, 162, 31, 53, 148], [80, 51, 65, 150, 130, 20, 101, 251]],  # noqa: E501
}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_uint8_bilinear_bicubic_values(key):
    mode, ac, size = key
    y = F.interpolate(gpujit.tensor(X, dtype=gpujit.uint8), size=size, mode=mode,
                      align_corners=ac)
    assert y.dtype == gpujit.uint8
    np.testing.assert_array_equal(y.numpy()[0, 0], np.array(EXPECTED[key], np.uint8))


def test_uint8_scripted_and_scale_factor():
    def f(x):
        return F.interpolate(x, scale_factor=2.0, mode="bilinear")
    sf = gpujit.jit.script(f)
    x = gpujit.tensor(X, dtype=gpujit.uint8)
    a, b = f(x), sf(x)
    assert a.dtype == b.dtype == gpujit.uint8 and a.shape == (1, 1, 8, 10)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    # an unchanged size is not resampled (torch skips the pass)
    y = F.interpolate(x, scale_factor=1.0, mode="bicubic")
    np.testing.assert_array_equal(y.numpy(), np.array(X, np.uint8))


def test_uint8_matches_torch_random():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for mode in ("bilinear", "bicubic"):
        for ac in (False, True):
            for c, (h, w, oh, ow) in ((1, (4, 4, 8, 8)), (3, (7, 5, 13, 3)),
                                      (5, (16, 16, 5, 7)), (4, (6, 6, 17, 29)),
                                      (3, (1, 5, 3, 1)), (2, (32, 17, 7, 40))):
                x = rng.integers(0, 256, (2, c, h, w), dtype=np.uint8)
                t = torch.nn.functional.interpolate(torch.from_numpy(x), size=(oh, ow),
                                                    mode=mode, align_corners=ac).numpy()
                g = F.interpolate(gpujit.from_numpy(x), size=(oh, ow), mode=mode,
                                  align_corners=ac).numpy()
                np.testing.assert_array_equal(g, t, err_msg=str((mode, ac, c, h, w, oh, ow)))
            for sf in (1.7, (0.5, 3.3), (1.05, 1.0)):
                x = rng.integers(0, 256, (1, 3, 10, 13), dtype=np.uint8)
                t = torch.nn.functional.interpolate(torch.from_numpy(x), scale_factor=sf,
                                                    mode=mode, align_corners=ac).numpy()
                g = F.interpolate(gpujit.from_numpy(x), scale_factor=sf, mode=mode,
                                  align_corners=ac).numpy()
                np.testing.assert_array_equal(g, t, err_msg=str((mode, ac, sf)))


# torch 2.13's CPU errors for the dtypes its kernels refuse
@pytest.mark.parametrize("dtype,mode,nd,kernel", [
    ("uint8", "linear", 3, "compute_indices_weights_linear"),
    ("uint8", "trilinear", 5, "compute_indices_weights_linear"),
    ("uint8", "area", 4, "adaptive_avg_pool2d"),
    ("int8", "nearest", 4, "upsample_nearest2d_channels_last"),
    ("int32", "nearest-exact", 4, "upsample_nearest2d_channels_last"),
    ("int64", "bilinear", 4, "upsample_bilinear2d_channels_last"),
    ("bool", "bicubic", 4, "compute_indices_weights_cubic"),
    ("int16", "nearest", 3, "compute_indices_weights_nearest"),
    ("int64", "nearest", 5, "compute_indices_weights_nearest"),
])
def test_refused_dtypes(dtype, mode, nd, kernel):
    x = gpujit.ones((1, 3) + (4,) * (nd - 2), dtype=getattr(gpujit, dtype))
    short = {"uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
             "int64": "Long", "bool": "Bool"}[dtype]
    with pytest.raises(NotImplementedError, match=f'"{kernel}" not implemented for '
                                                  f"'{short}'"):
        F.interpolate(x, scale_factor=2, mode=mode)


def test_uint8_nearest_still_accepted():
    x = gpujit.tensor(X, dtype=gpujit.uint8)
    for mode in ("nearest", "nearest-exact"):
        y = F.interpolate(x, size=(8, 10), mode=mode)
        assert y.dtype == gpujit.uint8
        np.testing.assert_array_equal(y.numpy(), np.repeat(np.repeat(np.array(X, np.uint8),
                                                                     2, 2), 2, 3))
