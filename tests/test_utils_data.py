"""gpujit.utils.data and gpujit.utils.checkpoint against PyTorch's (batches, collation,
argument errors; checkpointed gradients)."""
import collections

import numpy as np
import pytest

import gpujit

T = pytest.importorskip("torch")

P = collections.namedtuple("P", "a b")


def _show(m, x):
    """A comparable structure: tensors as (dtype name, shape, values), containers typed."""
    if isinstance(x, m.Tensor):
        return ("T", str(x.dtype).split(".")[-1], tuple(x.shape), x.tolist())
    if isinstance(x, dict):
        return {k: _show(m, v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_show(m, v) for v in x])
    return x


def _programs(m):
    U = m.utils.data
    X = m.arange(20.).reshape(10, 2)
    Y = m.arange(10)
    ds = U.TensorDataset(X, Y)

    class D(U.Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return {"x": np.full(2, i, dtype=np.float32), "y": i, "f": i * 0.5,
                    "s": f"s{i}", "p": P(i, [i, i + 1]), "n": np.int32(i),
                    "t": (m.tensor(i), 1.0)}

    class It(U.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    return {
        "tensor_dataset_item": lambda: (len(ds), ds[3]),
        "batches": lambda: list(U.DataLoader(ds, batch_size=4)),
        "drop_last": lambda: list(U.DataLoader(ds, batch_size=4, drop_last=True)),
        "len": lambda: (len(U.DataLoader(ds, batch_size=4)),
                        len(U.DataLoader(ds, batch_size=4, drop_last=True))),
        "collate_nested": lambda: next(iter(U.DataLoader(D(), batch_size=3))),
        "no_batching_convert": lambda: next(iter(U.DataLoader(D(), batch_size=None))),
        "iterable": lambda: (list(U.DataLoader(It(), batch_size=3)),
                             list(U.DataLoader(It(), batch_size=3, drop_last=True)),
                             list(U.DataLoader(It(), batch_size=None))),
        "concat": lambda: (lambda c: (len(c), c[4], c[-1], c.cumulative_sizes))(
            U.ConcatDataset([range(3), range(5)])),
        "collate_lists": lambda: (U.default_collate([[1, 2], [3, 4]]),
                                  U.default_collate([(True, 1.5), (False, 2.5)])),
        "batch_sampler": lambda: next(iter(U.DataLoader(
            ds, batch_sampler=U.BatchSampler(U.SequentialSampler(ds), 3, False)))),
        "subset": lambda: list(U.DataLoader(U.Subset(ds, [4, 1, 7]), batch_size=2)),
    }


@pytest.mark.parametrize("name", list(_programs(T)))
def test_matches_torch(name):
    assert _show(gpujit, _programs(gpujit)[name]()) == _show(T, _programs(T)[name]())


def _errors(m):
    U = m.utils.data
    X, Y = m.zeros(4, 2), m.zeros(4)
    ds = U.TensorDataset(X, Y)

    class It(U.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    return [lambda: U.DataLoader(ds, num_workers=-1),
            lambda: U.DataLoader(ds, sampler=[1], shuffle=True),
            lambda: U.DataLoader(ds, batch_sampler=[[0]], batch_size=2),
            lambda: U.DataLoader(ds, batch_size=None, drop_last=True),
            lambda: U.DataLoader(It(), shuffle=True),
            lambda: U.TensorDataset(X, Y[:3]),
            lambda: U.default_collate([object()]),
            lambda: U.default_collate([[1, 2], [3]]),
            lambda: U.random_split(range(10), [3, 3]),
            lambda: U.ConcatDataset([]),
            lambda: U.Dataset()[0],
            lambda: U.BatchSampler([], 0, False),
            lambda: setattr(U.DataLoader(ds), "batch_size", 3)]


@pytest.mark.parametrize("i", range(len(_errors(T))))
def test_errors_match_torch(i):
    with pytest.raises(Exception) as want:
        _errors(T)[i]()
    with pytest.raises(type(want.value)) as got:
        _errors(gpujit)[i]()
    assert str(got.value) == str(want.value)


def test_workers_load_the_same_batches():
    # worker processes themselves: tests/test_data_workers.py
    ds = gpujit.utils.data.TensorDataset(gpujit.arange(4.))
    got = gpujit.utils.data.DataLoader(ds, batch_size=3, num_workers=2, timeout=30)
    assert [b[0].tolist() for b in got] == [[0.0, 1.0, 2.0], [3.0]]


def test_shuffle_is_a_permutation_reproducible_by_seed_or_generator():
    U = gpujit.utils.data
    ds = U.TensorDataset(gpujit.arange(10))

    def order(**kw):
        return sum((b[0].tolist() for b in U.DataLoader(ds, batch_size=3, shuffle=True,
                                                        **kw)), [])
    g = gpujit.Generator()
    g.manual_seed(0)
    a = order(generator=g)
    g.manual_seed(0)
    assert order(generator=g) == a and sorted(a) == list(range(10))
    gpujit.manual_seed(1)
    b = order()
    gpujit.manual_seed(1)
    assert order() == b
    parts = U.random_split(range(10), [0.7, 0.3], generator=g)
    assert [len(p) for p in parts] == [7, 3]
    assert sorted(list(parts[0]) + list(parts[1])) == list(range(10))


def test_tensor_dataset_batches_keep_autograd():
    w = gpujit.ones(6, 2, requires_grad=True)
    loader = gpujit.utils.data.DataLoader(gpujit.utils.data.TensorDataset(w * 2),
                                          batch_size=4)
    sum(b[0].sum() for b in loader).backward()
    np.testing.assert_allclose(w.grad.numpy(), np.full((6, 2), 2.0))


def _block_grads(m, **kw):
    m.manual_seed(0)
    lin1, lin2, drop = m.nn.Linear(4, 8), m.nn.Linear(8, 3), m.nn.Dropout(0.5)
    x = m.randn(5, 4, requires_grad=True)

    def block(t):
        return drop(m.tanh(lin2(m.relu(lin1(t))))) * t.sum()
    m.manual_seed(3)
    y = m.utils.checkpoint.checkpoint(block, x, **kw) if kw else block(x)
    m.manual_seed(5)            # the recomputation must still draw the forward's mask
    (y ** 2).sum().backward()
    return [t.detach().numpy() for t in (y, x.grad, lin1.weight.grad, lin2.weight.grad)]


@pytest.mark.parametrize("reentrant", [False, True])
def test_checkpoint_gives_the_gradients_of_the_plain_forward(reentrant):
    for a, b in zip(_block_grads(gpujit, use_reentrant=reentrant), _block_grads(gpujit)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_checkpoint_keeps_no_activations_and_checks_the_recomputation():
    ck = gpujit.utils.checkpoint
    x = gpujit.randn(3, requires_grad=True)
    calls = []

    def f(t):
        calls.append(1)
        return (t * t).exp() if len(calls) == 1 else t.exp()
    y = ck.checkpoint(f, x, use_reentrant=False)
    saved = y.grad_fn.saved["result"]
    assert isinstance(saved.tensor, int)         # an index: no tensor kept
    with pytest.raises(ck.CheckpointError, match="A different number of tensors was saved"):
        y.sum().backward()
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed"):
        ck.checkpoint(lambda t: t * 2, x)
    with pytest.raises(ValueError, match="^Unexpected keyword arguments: foo$"):
        ck.checkpoint(lambda t: t * 2, x, use_reentrant=True, foo=1)
    g, = gpujit.autograd.grad(ck.checkpoint(lambda t: (t ** 3).sum(), x,
                                            use_reentrant=False), x, create_graph=True)
    g2, = gpujit.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g2.numpy(), 6 * x.detach().numpy(), rtol=1e-6)


def test_checkpoint_sequential():
    seq = gpujit.nn.Sequential(gpujit.nn.Linear(4, 4), gpujit.nn.ReLU(),
                               gpujit.nn.Linear(4, 4), gpujit.nn.Tanh())
    x = gpujit.randn(2, 4, requires_grad=True)
    gpujit.utils.checkpoint.checkpoint_sequential(seq, 2, x, use_reentrant=False).sum() \
        .backward()
    g = x.grad
    x.grad = None
    seq(x).sum().backward()
    np.testing.assert_allclose(g.numpy(), x.grad.numpy(), rtol=1e-6)


@pytest.mark.cuda
def test_cuda_loader_save_on_cpu_and_checkpoint():
    U = gpujit.utils.data
    x = gpujit.arange(12.).reshape(6, 2).to("cuda")
    y = gpujit.arange(6).to("cuda")
    batches = list(U.DataLoader(U.TensorDataset(x, y), batch_size=4, shuffle=True))
    assert all(b[0].device.type == "cuda" and b[1].device.type == "cuda" for b in batches)
    assert sorted(sum((b[1].cpu().tolist() for b in batches), [])) == list(range(6))
    w = gpujit.ones(2, device="cuda", requires_grad=True)
    with gpujit.autograd.graph.save_on_cpu(pin_memory=True):
        out = (x * w).sin()
    out.sum().backward()
    np.testing.assert_allclose(w.grad.cpu().numpy(),
                               (np.cos(x.cpu().numpy() * 1.0) * x.cpu().numpy()).sum(0),
                               rtol=1e-5)
    w.grad = None
    gpujit.utils.checkpoint.checkpoint(lambda t: (t * w).sin(), x,
                                       use_reentrant=False).sum().backward()
    np.testing.assert_allclose(w.grad.cpu().numpy(),
                               (np.cos(x.cpu().numpy()) * x.cpu().numpy()).sum(0), rtol=1e-5)
