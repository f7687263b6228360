"""Tensor indexing in scripted code as Python reads it: ints, slices, None, `...` (the
items after it count dims from the end) and tensor indices (bool masks, long indices),
compared with the same expression run eagerly; int()/float() of x.item()."""
import numpy as np
import pytest

import gpujit as torch
from gpujit.frontend.script import FrontendError


def forms(x, mask, idx, k: int):
    return (x[..., 1], x[None], x[:, None], x[..., None], x[0, ..., 1:], x[1:, None, 0],
            x[..., None, 0], x[None, ..., -1], x[mask], x[idx], x[:, idx], x[k, ..., k],
            x[..., 1:3, 0])


def test_index_forms_match_eager():
    torch.manual_seed(0)
    x = torch.rand(3, 4, 5)
    mask = x > 0.5
    idx = torch.tensor([2, 0])
    s = torch.jit.script(forms)
    for got, want in zip(s(x, mask, idx, 1), forms(x, mask, idx, 1)):
        assert got.shape == want.shape
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def item_numbers(x) -> float:
    i = int(x.argmax().item())
    f = float(x.max().item())
    return i + f


def test_int_and_float_of_item():
    x = torch.tensor([0.5, 2.5, 1.0])
    assert torch.jit.script(item_numbers)(x) == item_numbers(x) == 3.5


def two_ellipses(x):
    return x[..., 0, ...]


def test_two_ellipses_is_a_clear_error():
    with pytest.raises(FrontendError, match="a single ellipsis") as e:
        torch.jit.script(two_ellipses)
    assert "<--- HERE" in str(e.value)


def assigns(x, y, mask, idx, k: int):
    x = x.clone()
    x[0] = 1.5
    x[:, 1] = y[:, 0]
    x[..., -1] = k
    x[mask] = 0.0
    x[idx] = y[:2] * 2
    x[1, 1:3] += 10.0
    return x


def test_item_assignment_writes_in_place_as_eager():
    torch.manual_seed(1)
    x, y = torch.rand(4, 5), torch.rand(4, 5)
    mask, idx = x > 0.8, torch.tensor([3, 2])
    s = torch.jit.script(assigns)
    for _ in range(3):
        np.testing.assert_allclose(s(x, y, mask, idx, 7).numpy(),
                                   assigns(x, y, mask, idx, 7).numpy())
