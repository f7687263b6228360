"""In-place ops on a tensor whose elements share memory (x = base.expand(...)), as PyTorch
2.13 treats them: masked_fill_, index_fill_ and index_put_ (x[mask] = v, x[idx] = v) write
with PyTorch's deprecation warning, and only the elements they select (an alias that is
not selected does not undo the write); fill_, zero_, fill_diagonal_, tril_, triu_ and
embedding_renorm_ write; every other in-place op raises PyTorch's internal-overlap error
(NumPy's "assignment destination is read-only" ValueError/IndexError leaked before).

Not matched: Tensor.map_ (a Python callable per element, CPU only) still refuses an
expanded self with NumPy's read-only error; PyTorch writes in an order-dependent way."""
import warnings

import numpy as np
import pytest

import gpujit

MSG = "more than one element of the written-to tensor refers to a single memory location"


def cases(t, device="cpu"):
    def T(*a, **k):
        return t.tensor(*a, device=device, **k)

    def O(*a):
        return t.ones(*a, device=device)

    m = T([[True, False, False], [False, False, True], [False, True, False]])
    i02 = T([0, 2])
    return {
        "masked_fill_": lambda x: x.masked_fill_(m, 1.5),
        "masked_fill_T": lambda x: x.masked_fill_(m, T(2.5)),
        "index_fill_": lambda x: x.index_fill_(1, i02, 7.0),
        "index_fill_T": lambda x: x.index_fill_(1, i02, T(7.0)),
        "setitem_mask": lambda x: x.__setitem__(m, 2.0),
        "setitem_int": lambda x: x.__setitem__((T([0, 1]), i02), T([5., 6.])),
        "setitem_mask_t": lambda x: x.__setitem__(m, T([5., 6., 7.])),
        "index_put_acc": lambda x: x.index_put_((T([0, 1]), T([0, 0])),
                                                T([5., 6.]), accumulate=True),
        "index_copy_": lambda x: x.index_copy_(1, i02, O(3, 2)),
        "index_add_": lambda x: x.index_add_(1, i02, O(3, 2)),
        "index_reduce_": lambda x: x.index_reduce_(1, i02, O(3, 2), "prod"),
        "scatter_": lambda x: x.scatter_(1, T([[0], [2], [1]]), 4.0),
        "scatter_src": lambda x: x.scatter_(1, T([[0], [2], [1]]), O(3, 1)),
        "scatter_add_": lambda x: x.scatter_add_(1, T([[0], [2], [1]]), O(3, 1)),
        "scatter_reduce_": lambda x: x.scatter_reduce_(1, T([[0], [2], [1]]),
                                                       O(3, 1), "sum"),
        "put_": lambda x: x.put_(T([0, 5]), T([8., 9.])),
        "masked_scatter_": lambda x: x.masked_scatter_(m, T([5., 6., 7.])),
        "uniform_": lambda x: x.uniform_(),
        "normal_": lambda x: x.normal_(),
        "bernoulli_": lambda x: x.bernoulli_(0.5),
        "random_": lambda x: x.random_(0, 5),
        "exponential_": lambda x: x.exponential_(),
        "clamp_": lambda x: x.clamp_(min=1),
        "add_": lambda x: x.add_(1),
        "copy_": lambda x: x.copy_(O(3, 3)),
        "copy_self": lambda x: x.copy_(x),          # (ATen returns first: is_same)
        "dropout_p0": lambda x: t.nn.functional.dropout(x, 0.0, True, True),
        "dropout_eval": lambda x: t.nn.functional.dropout(x, 0.5, False, True),
        "dropout_": lambda x: t.nn.functional.dropout(x, 0.5, True, True),
        "rrelu_eval": lambda x: t.nn.functional.rrelu_(x, training=False),
        "addmm_": lambda x: x.addmm_(O(3, 3), O(3, 3)),
        "cumsum_": lambda x: x.cumsum_(0),
        "renorm_": lambda x: x.renorm_(2, 0, 1.0),
        "polygamma_": lambda x: x.polygamma_(1),
        "fill_": lambda x: x.fill_(3),
        "zero_": lambda x: x.zero_(),
        "fill_diagonal_": lambda x: x.fill_diagonal_(5.),
        "tril_": lambda x: x.tril_(),
        "triu_": lambda x: x.triu_(),
        "embedding_renorm_": lambda x: t.embedding_renorm_(x, T([0, 1]), 0.1, 2.0),
    }


def run(t, name):
    x = (t.arange(3, dtype=t.float32) + 1).expand(3, 3)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            cases(t)[name](x)
            out = np.array(x.tolist())
        except RuntimeError as e:
            out = str(e)
    return out, [str(i.message).split(" (Triggered")[0] for i in w
                 if "expanded" in str(i.message)]


NAMES = list(cases(gpujit))


@pytest.mark.parametrize("name", NAMES)
def test_like_pytorch(name):
    torch = pytest.importorskip("torch")
    got, got_w = run(gpujit, name)
    want, want_w = run(torch, name)
    if isinstance(want, str):
        assert isinstance(got, str) and MSG in got and MSG in want
    else:
        assert not isinstance(got, str), got
        np.testing.assert_allclose(got, want, rtol=1e-6)
    # PyTorch's x[mask] = v adds masked_fill_'s warning to index_put_'s: one is enough
    assert bool(got_w) == bool(want_w) and set(got_w) <= set(want_w)


def test_masked_fill_writes_only_the_mask_through_aliases():
    _masked_fill_through_aliases("cpu")


@pytest.mark.cuda
def test_masked_fill_writes_only_the_mask_through_aliases_on_cuda():
    _masked_fill_through_aliases("cuda")
    x = gpujit.ones(3, device="cuda").expand(3, 3)
    for name in ("index_copy_", "scatter_add_", "put_", "masked_scatter_", "uniform_"):
        with pytest.raises(RuntimeError, match=MSG):
            cases(gpujit, "cuda")[name](x)
    base = gpujit.ones(3, device="cuda")
    base.expand(3, 3).triu_()
    assert base.tolist() == [0.0, 0.0, 1.0]


def _masked_fill_through_aliases(device):
    base = gpujit.zeros(3, device=device)
    x = base.expand(2, 3)
    m = gpujit.tensor([[True, False, False], [False, False, True]], device=device)
    with pytest.warns(UserWarning, match="Use of masked_fill_ on expanded tensors is "
                                         "deprecated. Please clone"):
        r = x.masked_fill_(m, 1.0)
    assert r is x
    assert base.tolist() == [1.0, 0.0, 1.0]      # (row 1 leaves column 0 as row 0 set it)
    with pytest.warns(UserWarning, match=r"index_put_ .* tensor\[indices\] = tensor"):
        x[gpujit.tensor([1]), gpujit.tensor([1])] = gpujit.tensor([4.0], device=device)
    assert base.tolist() == [1.0, 4.0, 1.0]


@pytest.mark.parametrize("name", ["index_copy_", "scatter_add_", "put_", "masked_scatter_",
                                  "uniform_", "cumsum_", "add_"])
def test_the_others_raise_pytorchs_error(name):
    x = gpujit.ones(3).expand(3, 3)
    with pytest.raises(RuntimeError, match=MSG):
        cases(gpujit)[name](x)


def test_tril_writes_only_what_it_zeroes():
    base = gpujit.ones(3)
    base.expand(3, 3).tril_()
    assert base.tolist() == [1.0, 0.0, 0.0]


def test_ordinary_tensors_are_untouched_by_the_rule():
    x = gpujit.zeros(2, 3)
    m = gpujit.tensor([[True, False, False], [False, False, True]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x.masked_fill_(m, 1.0)
        x.index_fill_(1, gpujit.tensor([1]), 2.0)
        x.t().tril_()
    assert x.tolist() == [[1.0, 2.0, 0.0], [0.0, 2.0, 1.0]]
