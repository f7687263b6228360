"""Tensor methods and functions scripted code uses every day, against the same code run
eagerly: chunk/split/unbind/cat, clamp, casts (x.float(), x.long(), x.type_as(y)),
new_zeros, masked_fill, functional activations, reductions with dim, item() arithmetic."""
from typing import List

import numpy as np
import pytest

import gpujit as torch
from gpujit.frontend.script import FrontendError

F = torch.nn.functional


def everyday(x, y):
    a, b = x.chunk(2, dim=0)
    parts = torch.split(x, 1, 0)
    u = x.unbind(0)
    c = torch.cat((a, b), 0)
    d = x.clamp(min=0.2).float().long().to(torch.float32)
    e = torch.clamp(x, 0.1, 0.9).masked_fill(x > 0.5, -1.0)
    f = F.relu(x - 0.5, inplace=False) + F.leaky_relu(x, 0.2)
    g = x.new_zeros((2, 3)).shape[1] + len(parts) + len(u)
    h = x.permute(1, 0).contiguous().reshape(-1).max().item()
    i = torch.max(x, dim=1)
    j = (x @ y.t()).sum(dim=-1, keepdim=True)
    k = x.type_as(y).mean().item() > 0.0
    m = x.half().double().int().to(torch.bool).byte().short()
    n = x.new_full([2], 7.0).sum().item() * 2 + 1
    return a, c, d, e, f, g, h, i[0], i[1], j, k, x.shape[-1], x.numel(), x.dim(), m, n


def test_everyday_methods_match_eager():
    torch.manual_seed(0)
    x, y = torch.rand(4, 3), torch.rand(5, 3)
    s = torch.jit.script(everyday)
    for got, want in zip(s(x, y), everyday(x, y)):
        if isinstance(want, torch.Tensor):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
        else:
            assert got == want and type(got) is type(want)


def on_device(x):
    if x.device.type == "cuda" or x.is_cuda:
        return x * 2
    return x + 1


def test_device_type_and_is_cuda():
    s = torch.jit.script(on_device)
    x = torch.ones(2)
    np.testing.assert_array_equal(s(x).numpy(), on_device(x).numpy())


def to_lists(x, m):
    a: List[float] = x.tolist()
    b = torch.jit.annotate(List[List[int]], m.tolist())
    return a, b, sum(a) + len(b)


def untyped_tolist(x):
    return x.tolist()


def test_tolist_with_its_type_written():
    s = torch.jit.script(to_lists)
    x, m = torch.tensor([1.5, 2.5]), torch.tensor([[1, 2], [3, 4]])
    assert s(x, m) == to_lists(x, m)
    assert s(x, m) == to_lists(x, m)            # the optimized run too
    with pytest.raises(FrontendError, match="needs its type written"):
        torch.jit.script(untyped_tolist)


def strides_of(x: torch.Tensor):
    s: List[int] = x.stride()
    return x * s[0] + x.stride(1) + x.stride(-2)


def test_stride_in_scripted_code_matches_eager():
    f = torch.jit.script(strides_of)
    for x in (torch.ones(2, 3), torch.ones(2, 3).t(), torch.ones(4, 6)[::2, ::3]):
        want = x * x.stride()[0] + x.stride(1) + x.stride(-2)
        for _ in range(3):
            np.testing.assert_array_equal(f(x).numpy(), want.numpy())
    assert "torch.stride(x)" in f.code
    with pytest.raises(IndexError, match="out of range"):
        f(torch.tensor(1.0))


def alias_calls(x: torch.Tensor, y: torch.Tensor):
    a = torch.true_divide(x, y) + torch.multiply(x, 2) - x.subtract(y)
    b = torch.arctan(a).negative() + x.absolute() + torch.divide(x, 4)
    return torch.greater(b, 0.5), torch.concat([a, b]), torch.less_equal(a, b), x.fix()


def test_pytorch_alias_names_in_eager_and_scripted_code():
    """torch.multiply & co. are the ops they alias (TorchScript normalizes them the same
    way: the graph shows aten::mul)."""
    from gpujit.ops.aliases import ALIASES
    from gpujit.ops import registry
    for alias, target in ALIASES.items():
        for kind in ("function", "method"):
            table = registry._PUBLIC.get(kind, {})
            if target in table:        # (or gpujit has an op of the alias's own name)
                assert table[alias] == table[target] or all(
                    d.name.startswith(f"aten::{alias}") for d in table[alias]), (alias, kind)
    assert torch.multiply is not None and torch.Tensor.arctan is not None
    f = torch.jit.script(alias_calls)
    x, y = torch.rand(2, 3) + 1, torch.rand(2, 3) + 1
    for _ in range(3):      # (fused arctan may differ by 1 ulp and b cancels: an atol)
        for got, want in zip(f(x, y), alias_calls(x, y)):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    g = str(f.graph)
    assert "aten::mul" in g and "aten::multiply" not in g and "aten::atan" in g
    z = torch.ones(3)
    assert z.multiply_(2) is z and z.tolist() == [2.0, 2.0, 2.0]
