"""Session 41 (lead): what karpathy/nanoGPT's train.py needed to run under `import gpujit as
torch` (model.py already agreed with torch 2.13 to rounding, its traced .code text equal):
torch.distributed for one process, nn.parallel.DistributedDataParallel,
utils.data.distributed.DistributedSampler and a torch.bfloat16 that exists but makes no
tensors."""
import importlib.util
import os
import pickle

import numpy as np
import pytest

import gpujit as torch
import gpujit.distributed as dist
from gpujit.nn.parallel import DistributedDataParallel as DDP
from gpujit.utils.data.distributed import DistributedSampler

_HAS_TORCH = importlib.util.find_spec("torch") is not None


@pytest.fixture
def world():
    """A one-rank default process group for the test, destroyed after it."""
    dist.init_process_group("gloo", rank=0, world_size=1)
    try:
        yield dist.group.WORLD
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


# ---------------------------------------------------------------- torch.distributed

def test_process_group_lifecycle_and_queries(world):
    assert dist.is_available() and dist.is_initialized()
    assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
    assert dist.get_backend() == "gloo" and isinstance(dist.get_backend(), str)
    assert dist.Backend("GLOO") == dist.Backend.GLOO == "gloo"
    assert dist.get_process_group_ranks(dist.group.WORLD) == [0]
    g = dist.new_group([0])
    assert dist.get_rank(g) == 0 and dist.get_world_size(g) == 1
    with pytest.raises(ValueError, match="trying to initialize the default process group "
                                         "twice!"):
        dist.init_process_group("gloo", rank=0, world_size=1)
    dist.destroy_process_group()
    assert not dist.is_initialized()
    with pytest.raises(AssertionError, match="Process group cannot be None"):
        dist.destroy_process_group()
    msg = "Default process group has not been initialized, please make sure to call"
    for f in (dist.get_rank, dist.get_world_size, dist.barrier, dist.get_backend):
        with pytest.raises(ValueError, match=msg):
            f()


def test_init_reads_env_and_refuses_more_than_one_rank(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with pytest.raises(ValueError, match="env:// rendezvous: environment variable RANK "
                                         "expected, but not set"):
        dist.init_process_group("gloo")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(RuntimeError, match=r"world_size=2, rank=0\): gpujit runs a single "
                                           r"process"):
        dist.init_process_group("gloo")
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="not 'mpi'"):
        dist.init_process_group("mpi", rank=0, world_size=1)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="Distributed package doesn't have NCCL"):
            dist.init_process_group("nccl", rank=0, world_size=1)
    monkeypatch.setenv("WORLD_SIZE", "1")
    dist.init_process_group("gloo")
    try:
        assert dist.get_world_size() == 1
    finally:
        dist.destroy_process_group()


def test_collectives_over_one_rank(world):
    t = torch.tensor([1.0, -2.0])
    for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX):
        assert dist.all_reduce(t, op=op) is None
    assert t.tolist() == [1.0, -2.0]
    w = dist.all_reduce(t, async_op=True)
    assert w.wait() is True and w.is_completed() and w.get_future().wait() == [t]
    out = [torch.zeros(2)]
    dist.all_gather(out, t)
    assert out[0].tolist() == [1.0, -2.0] and out[0] is not t
    with pytest.raises(ValueError, match="tensor_list has 2 tensors; the group has 1"):
        dist.all_gather([torch.zeros(2), torch.zeros(2)], t)
    big = torch.zeros(1, 2)
    dist.all_gather_into_tensor(big, t)
    assert big.tolist() == [[1.0, -2.0]]
    got = torch.zeros(2)
    dist.scatter(got, [torch.tensor([5.0, 6.0])], src=0)
    assert got.tolist() == [5.0, 6.0]
    dist.reduce_scatter(got, [torch.tensor([7.0, 8.0])])
    assert got.tolist() == [7.0, 8.0]
    assert dist.broadcast(t, src=0) is None and dist.barrier() is None
    with pytest.raises(ValueError, match="Invalid src rank 1"):
        dist.broadcast(t, src=1)
    objs = [None]
    dist.all_gather_object(objs, {"a": 1})
    assert objs == [{"a": 1}]
    with pytest.raises(ValueError, match="gpujit runs a single process"):
        dist.send(t, dst=1)
    assert repr(dist.ReduceOp.SUM) == "<RedOpType.SUM: 0>"
    assert str(dist.ReduceOp.AVG) == "RedOpType.AVG"


# ---------------------------------------------------------------- DistributedDataParallel

def _net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))


def test_ddp_trains_as_the_module_it_wraps(world):
    plain, wrapped = _net(), DDP(_net())
    assert wrapped.module.training and wrapped.device_ids is None
    assert list(wrapped.state_dict()) == ["module." + k for k in plain.state_dict()]
    opt_a = torch.optim.SGD(plain.parameters(), lr=0.1)
    opt_b = torch.optim.SGD(wrapped.parameters(), lr=0.1)
    x = torch.randn(5, 3)
    for _ in range(3):
        for m, opt in ((plain, opt_a), (wrapped, opt_b)):
            opt.zero_grad()
            m(x).pow(2).sum().backward()
            opt.step()
    for a, b in zip(plain.parameters(), wrapped.module.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    # nanoGPT toggles the attribute itself; no_sync() sets and restores it
    with wrapped.no_sync():
        assert wrapped.require_backward_grad_sync is False
        wrapped(x).sum().backward()
    assert wrapped.require_backward_grad_sync is True
    assert repr(wrapped).startswith("DistributedDataParallel(\n  (module): Sequential(")


class _TwoHeads(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Linear(2, 2)
        self.b = torch.nn.Linear(2, 2)

    def forward(self, x):
        return self.a(x)


def test_ddp_unused_parameters_error_at_next_forward(world):
    m = DDP(_TwoHeads())
    m(torch.randn(1, 2)).sum().backward()
    with pytest.raises(RuntimeError) as e:
        m(torch.randn(1, 2))
    msg = str(e.value)
    assert msg.startswith("Expected to have finished reduction in the prior iteration before "
                          "starting a new one.")
    assert "Parameter indices which did not receive grad for rank 0: 2 3\n In addition" in msg
    # a forward without any backward, eval mode, no_grad, and find_unused_parameters are fine
    m(torch.randn(1, 2))
    m(torch.randn(1, 2))
    with torch.no_grad():
        m(torch.randn(1, 2))
    m.eval()
    m(torch.randn(1, 2)).sum().backward()
    m(torch.randn(1, 2))
    f = DDP(_TwoHeads(), find_unused_parameters=True)
    for _ in range(2):
        f(torch.randn(1, 2)).sum().backward()


def test_ddp_refusals():
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DDP(torch.nn.Linear(2, 2))
    dist.init_process_group("gloo", rank=0, world_size=1)
    try:
        frozen = torch.nn.Linear(2, 2).requires_grad_(False)
        with pytest.raises(RuntimeError, match="DistributedDataParallel is not needed when a "
                                               "module doesn't have any parameter that "
                                               "requires a gradient."):
            DDP(frozen)
        with pytest.raises(ValueError, match=r"device_ids and output_device arguments only "
                                             r"work with single-device/multiple-device GPU "
                                             r"modules or CPU modules, but got device_ids "
                                             r"\[0\]"):
            DDP(torch.nn.Linear(2, 2), device_ids=[0])
    finally:
        dist.destroy_process_group()


def test_sync_batch_norm_over_one_rank_is_batch_norm(world):
    torch.manual_seed(0)
    x = torch.randn(4, 3, 2)
    s, b = torch.nn.SyncBatchNorm(3), torch.nn.BatchNorm1d(3)
    np.testing.assert_allclose(s(x).detach().numpy(), b(x).detach().numpy(), rtol=1e-6)


# ---------------------------------------------------------------- DistributedSampler

def _expected(n, rep, rank, shuffle, drop_last, seed, epoch):
    """torch.utils.data.distributed.DistributedSampler's indices, written out here."""
    if shuffle:
        g = torch.Generator()
        g.manual_seed(seed + epoch)
        idx = torch.randperm(n, generator=g).tolist()
    else:
        idx = list(range(n))
    per = -(-(n - rep) // rep) if drop_last and n % rep else -(-n // rep)
    total = per * rep
    while len(idx) < total:
        idx += idx[:total - len(idx)]
    return idx[:total][rank::rep]


@pytest.mark.parametrize("n", [1, 7, 10, 13])
@pytest.mark.parametrize("rep", [1, 2, 3, 4])
def test_distributed_sampler_indices(n, rep):
    seen = set()
    for rank in range(rep):
        for shuffle in (False, True):
            for drop_last in (False, True):
                s = DistributedSampler(list(range(n)), num_replicas=rep, rank=rank,
                                       shuffle=shuffle, drop_last=drop_last, seed=3)
                s.set_epoch(2)
                got = list(s)
                assert got == _expected(n, rep, rank, shuffle, drop_last, 3, 2)
                assert len(s) == len(got)
                if shuffle and not drop_last:
                    seen |= set(got)
    assert seen == set(range(n))        # the replicas together read the whole dataset


def test_distributed_sampler_defaults_and_errors(world):
    s = DistributedSampler(list(range(5)), shuffle=False)
    assert (s.num_replicas, s.rank, list(s)) == (1, 0, [0, 1, 2, 3, 4])
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval "
                                         r"\[0, 1\]"):
        DistributedSampler([1], num_replicas=2, rank=2)
    loader = torch.utils.data.DataLoader(list(range(6)), batch_size=2,
                                         sampler=DistributedSampler(list(range(6)), seed=1))
    assert sorted(v for b in loader for v in b.tolist()) == list(range(6))


@pytest.mark.skipif(not _HAS_TORCH, reason="compares with PyTorch")
def test_distributed_sampler_matches_torch():
    import torch as real
    from torch.utils.data.distributed import DistributedSampler as Real
    for n in (3, 11):
        for rep, rank in ((2, 1), (3, 0), (4, 3)):
            for epoch in (0, 5):
                a = Real(list(range(n)), num_replicas=rep, rank=rank, seed=7)
                b = DistributedSampler(list(range(n)), num_replicas=rep, rank=rank, seed=7)
                a.set_epoch(epoch)
                b.set_epoch(epoch)
                assert list(a) == list(b), (n, rep, rank, epoch)
    assert real.distributed.is_available() is dist.is_available()


# ---------------------------------------------------------------- bfloat16

def test_bfloat16_exists_and_refuses_to_make_tensors():
    # (session 45: bfloat16 tensors exist, tests/test_bfloat16_s45.py; what is not opted in
    # yet refuses in PyTorch's kernel words)
    b = torch.bfloat16
    ptdtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}["float32"]  # nanoGPT
    assert ptdtype is torch.float32
    assert repr(b) == "gpujit.bfloat16" and b.is_floating_point and b.itemsize == 2
    assert pickle.loads(pickle.dumps(b)) is b and b != torch.float16
    assert torch.ones(1).dtype != b
    x = torch.ones(2)
    for f in (lambda: torch.zeros(2, dtype=b), lambda: x.to(b), lambda: x.to(dtype=b),
              lambda: x.bfloat16(), lambda: torch.arange(3, dtype=b)):
        assert f().dtype is b
    assert torch.finfo(b).eps == 0.0078125
    assert torch.promote_types(b, torch.float32) is torch.float32
    with pytest.raises(NotImplementedError, match="\"gcd_cpu\" not implemented for 'BFloat16'"):
        torch.gcd(x.bfloat16(), x.bfloat16())
    assert torch.get_default_dtype() is torch.float32
    assert not torch.cuda.is_bf16_supported() or torch.cuda.is_available()


def test_nanogpt_style_ddp_setup_runs_in_one_process(monkeypatch):
    """train.py's set-up lines with RANK/WORLD_SIZE of a one-process launch."""
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("LOCAL_RANK", "0")
    ddp = int(os.environ.get("RANK", -1)) != -1
    assert ddp
    dist.init_process_group(backend="gloo")
    try:
        master_process = int(os.environ["RANK"]) == 0
        assert master_process and int(os.environ["WORLD_SIZE"]) == dist.get_world_size()
        model = DDP(_net())
        raw = model.module
        opt = torch.optim.AdamW(raw.parameters(), lr=1e-3)
        x = torch.randn(4, 3)
        for micro_step in range(2):
            model.require_backward_grad_sync = (micro_step == 1)
            loss = model(x).pow(2).mean() / 2
            loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        assert all(p.grad is None for p in raw.parameters())
    finally:
        dist.destroy_process_group()


def _to_bf16(x):
    return x.to(torch.bfloat16)


def test_bfloat16_in_scripted_code_names_the_line():
    # (session 45: a dtype constant, ScalarType 15, as TorchScript's)
    f = torch.jit.script(_to_bf16)
    assert f(torch.ones(2)).dtype is torch.bfloat16
    assert "torch.bfloat16" in f.code or "15" in str(f.graph)


# ---------------------------------------------------------------- traces of list indices

class _ListIndexed(torch.nn.Module):
    def forward(self, x):
        a = x[[0, 2]]
        b = x[:, [True, False, True, False]]
        c = x[(1, 0), ]
        d = x * torch.tensor([1., 2., 3., 4.])
        return a, b, c, d


class _Holder(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, i):
        return self.m(i)


def test_trace_records_an_index_list_as_torch_and_keeps_the_method_call():
    """x[:, [-1]] (llama2.c's `h[:, [-1], :]`): PyTorch's tracer records the list as a
    constant moved to the device, `torch.to(CONSTANTS.c0, torch.device("cpu"), 4)`, without
    a warning, and the submodule stays a method call; gpujit warned that a tensor the trace
    did not produce became a constant, and inlined the submodule (its constant looked like a
    value its caller had made). Texts are torch 2.13's; .code splits long inlines as
    TorchScript 2.x does (up the chain of users: `_2 = torch.index(i, _1)`)."""
    import warnings
    x = torch.randn(3, 4)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t = torch.jit.trace(_Holder(_ListIndexed()), (x,))
    msgs = [str(m.message) for m in w if issubclass(m.category, torch.jit.TracerWarning)]
    # (torch.tensor's, twice as torch: the trace and check_trace's second run)
    assert len(msgs) == 2 and all(m.startswith("torch.tensor results are registered as "
                                               "constants in the trace") for m in msgs)
    assert t.code == (
        "def forward(self,\n    i: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:\n"
        "  m = self.m\n  _0, _1, _2, _3, = (m).forward(i, )\n  return (_0, _1, _2, _3)\n")
    assert t.m.code == (
        "def forward(self,\n    i: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:\n"
        '  _0 = torch.to(CONSTANTS.c0, torch.device("cpu"), 4)\n'
        "  _1 = annotate(List[Optional[Tensor]], [_0])\n"
        "  _2 = torch.index(i, _1)\n"
        "  _3 = torch.slice(i, 0, 0, 9223372036854775807)\n"
        '  _4 = torch.to(CONSTANTS.c1, torch.device("cpu"), 11)\n'
        "  _5 = annotate(List[Optional[Tensor]], [None, _4])\n"
        "  _6 = torch.index(_3, _5)\n"
        '  _7 = torch.to(CONSTANTS.c2, torch.device("cpu"), 4)\n'
        "  _8 = annotate(List[Optional[Tensor]], [_7])\n"
        "  _9 = torch.index(i, _8)\n"
        '  _10 = torch.to(CONSTANTS.c3, torch.device("cpu"), 6)\n'
        "  _11 = (_2, _6, _9, torch.mul(i, torch.detach(_10)))\n"
        "  return _11\n")
    y = torch.randn(3, 4)
    for got, want in zip(t(y), _ListIndexed()(y)):
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_pin_memory_without_an_accelerator_warns_as_torch():
    """minGPT's Trainer passes pin_memory=True: torch 2.13 warns at each new iterator when
    no accelerator is there (and names pin_memory_device deprecated)."""
    import warnings
    if torch.cuda.is_available():
        pytest.skip("the warning is for machines without a GPU")
    dl = torch.utils.data.DataLoader(list(range(4)), batch_size=2, pin_memory=True,
                                     pin_memory_device="cuda")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert [b.tolist() for b in dl] == [[0, 1], [2, 3]]
    assert [str(m.message) for m in w] == [
        "pin_memory_device is deprecated, the current accelerator will be used as the "
        "device,ignore pin_memory_device='cuda'.",
        "'pin_memory' argument is set as true but no accelerator is found, then device "
        "pinned memory won't be used."]
    assert all(m.category is UserWarning for m in w)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        list(torch.utils.data.DataLoader(list(range(4)), batch_size=2))
    assert not w


# ---------------------------------------------------------------- torch.accelerator

def test_accelerator_api_follows_cuda():
    """pytorch/examples' device choice since PyTorch 2.6:
    `torch.accelerator.current_accelerator() if torch.accelerator.is_available() else cpu`."""
    acc = torch.accelerator
    use_accel = acc.is_available()
    device = acc.current_accelerator() if use_accel else torch.device("cpu")
    assert torch.ones(2).to(device).device.type == ("cuda" if use_accel else "cpu")
    assert use_accel == torch.cuda.is_available()
    assert acc.device_count() == (torch.cuda.device_count() if use_accel else 0)
    with acc.device_index(None):
        pass
    if use_accel:
        assert acc.current_accelerator() == torch.device("cuda")
        assert acc.current_device_index() == torch.cuda.current_device()
        acc.synchronize()
        assert acc.memory_allocated() >= 0
        return
    assert acc.current_accelerator() is None
    assert acc.current_accelerator(check_available=True) is None
    for f in (acc.current_device_index, acc.synchronize, acc.empty_cache,
              acc.memory_allocated, lambda: acc.set_device_index(0),
              lambda: acc.device_index(0).__enter__()):
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none "
                                               "is available."):
            f()


@pytest.mark.skipif(not _HAS_TORCH, reason="compares with PyTorch")
def test_accelerator_names_are_torch_s():
    import torch as real
    ours = set(torch.accelerator.__all__)
    # (Graph and get_device_capability are not in gpujit: no CUDA graphs, and torch's
    # dict of device properties)
    assert ours <= set(real.accelerator.__all__)
    assert set(real.accelerator.__all__) - ours <= {"Graph", "get_device_capability",
                                                    "empty_host_cache"}


# ---------------------------------------------------------------- torch.multiprocessing

def _hogwild_train(rank, model, steps):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        opt.zero_grad()
        model(torch.ones(1, 2)).sum().backward()
        opt.step()


def test_share_memory_and_a_forked_process_updates_the_parents_parameters():
    import gpujit.multiprocessing as mp
    x = torch.arange(6.0).reshape(2, 3).t()
    assert not x.is_shared()
    assert x.share_memory_() is x and x.is_shared() and x.stride() == (1, 3)
    assert x.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    assert model.share_memory() is model
    assert all(p.is_shared() for p in model.parameters())
    w0 = model.weight.detach().clone()
    p = mp.get_context("fork").Process(target=_hogwild_train, args=(0, model, 3))
    p.start()
    p.join()
    assert p.exitcode == 0
    # d(sum(W @ 1 + b))/dW = 1: three SGD steps of lr 0.1 in the child, seen here
    np.testing.assert_allclose((w0 - model.weight.detach()).numpy(), [[0.3, 0.3]],
                               rtol=1e-5)
    with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf tensor "
                                           "which requires_grad"):
        from multiprocessing.reduction import ForkingPickler
        ForkingPickler.dumps(model.weight * 2)
    assert mp.get_sharing_strategy() == "file_descriptor"
    assert mp.get_all_sharing_strategies() == {"file_descriptor", "file_system"}


_HOGWILD_SCRIPT = '''
import sys
import gpujit as torch
import gpujit.multiprocessing as mp


def train(rank, model, n):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for i in range(n):
        opt.zero_grad()
        model(torch.ones(1, 2)).sum().backward()
        opt.step()


def boom(rank):
    if rank == 1:
        raise ValueError("rank one fails")


if __name__ == "__main__":
    mp.set_start_method("spawn", force=True)
    model = torch.nn.Linear(2, 1)
    model.share_memory()
    w0 = model.weight.detach().clone()
    # (one process, then mp.spawn's after it has exited: the second finds the block the
    # first child had open; 2 + 3 steps of 0.1)
    p = mp.Process(target=train, args=(0, model, 2))
    p.start()
    p.join()
    mp.spawn(train, args=(model, 3), nprocs=1)
    print("moved", [round(v, 4) for v in (w0 - model.weight.detach()).reshape(-1).tolist()])
    try:
        mp.spawn(boom, nprocs=2)
    except mp.ProcessRaisedException as e:
        print("raised", e.error_index, str(e).strip().splitlines()[-1])
'''


def test_hogwild_with_spawned_processes_shares_the_parameters(tmp_path):
    """pytorch/examples' mnist_hogwild pattern: model.share_memory(), then processes
    started with 'spawn' train it; their updates reach the parent (the parameters travel
    by the name of their shared block). mp.spawn reports a child's exception as torch."""
    import subprocess
    import sys
    script = tmp_path / "hogwild.py"
    script.write_text(_HOGWILD_SCRIPT)
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.splitlines() == ["moved [0.5, 0.5]",
                                     "raised 1 ValueError: rank one fails"], r.stdout
    assert "leaked" not in r.stderr and "KeyError" not in r.stderr, r.stderr[-3000:]


def test_default_backend_and_node_local_rank(monkeypatch):
    """pytorch/examples' distributed/ddp: backend = get_default_backend_for_device(acc)."""
    assert dist.get_default_backend_for_device("cpu") == "gloo"
    assert dist.get_default_backend_for_device(torch.device("cuda")) == "nccl"
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    assert dist.get_node_local_rank(fallback_rank=2) == 2
    with pytest.raises(RuntimeError, match="LOCAL_RANK is not in the environment"):
        dist.get_node_local_rank()
    monkeypatch.setenv("LOCAL_RANK", "0")
    assert dist.get_node_local_rank() == 0
