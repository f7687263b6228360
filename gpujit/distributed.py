"""torch.distributed for one process.

gpujit runs in one process, so its process groups have exactly one rank: a training script
written for DistributedDataParallel (nanoGPT's train.py, the ImageNet example) imports and
runs unchanged when it is launched once (`RANK=0 WORLD_SIZE=1`, or without DDP at all).
`init_process_group` accepts the "gloo" backend (and "nccl" where CUDA is present) with a
world size of 1; each collective over one rank leaves its tensors as they are (all_reduce,
broadcast, barrier...) or copies between its own arguments (all_gather, scatter...), as a
one-rank group in PyTorch does. A world size above 1 is refused: gpujit does not exchange
tensors between processes.
"""
from __future__ import annotations

import datetime as _datetime
import enum as _enum
import os as _os

__all__ = [
    "is_available", "is_initialized", "init_process_group", "destroy_process_group",
    "get_rank", "get_world_size", "get_backend", "get_default_backend_for_device",
    "get_node_local_rank", "is_gloo_available", "is_nccl_available",
    "is_mpi_available", "is_ucc_available", "is_xccl_available", "is_torchelastic_launched",
    "Backend", "ReduceOp", "ProcessGroup", "GroupMember", "group", "Work", "new_group",
    "get_process_group_ranks", "get_global_rank", "get_group_rank", "barrier",
    "monitored_barrier", "all_reduce", "reduce", "broadcast", "all_gather",
    "all_gather_into_tensor", "gather", "scatter", "reduce_scatter", "reduce_scatter_tensor",
    "all_to_all", "all_to_all_single", "all_gather_object", "gather_object",
    "broadcast_object_list", "scatter_object_list", "send", "recv", "isend", "irecv",
    "default_pg_timeout",
]

default_pg_timeout = _datetime.timedelta(minutes=30)

_NO_GROUP = ("Default process group has not been initialized, please make sure to call "
             "init_process_group.")


def is_available() -> bool:
    return True


def is_gloo_available() -> bool:
    return True


def is_nccl_available() -> bool:
    from . import cuda
    return cuda.is_available()


def is_mpi_available() -> bool:
    return False


def is_ucc_available() -> bool:
    return False


def is_xccl_available() -> bool:
    return False


def is_torchelastic_launched() -> bool:
    return _os.environ.get("TORCHELASTIC_RUN_ID") is not None


class Backend(str):
    """A backend's name, lower-cased (`Backend("GLOO") == "gloo"`)."""
    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"
    XCCL = "xccl"

    def __new__(cls, name: str):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: "
                             f"{type(name)}")
        value = getattr(Backend, name.upper(), Backend.UNDEFINED)
        if value == Backend.UNDEFINED:
            value = name.lower()
        return super().__new__(cls, value)


class ReduceOp:
    """torch.distributed.ReduceOp: SUM, AVG, PRODUCT, MIN, MAX, BAND, BOR, BXOR."""

    class RedOpType(_enum.IntEnum):
        SUM = 0
        AVG = 1
        PRODUCT = 2
        MIN = 3
        MAX = 4
        BAND = 5
        BOR = 6
        BXOR = 7
        PREMUL_SUM = 8
        UNUSED = 9

        def __repr__(self):
            return f"<RedOpType.{self.name}: {self.value}>"

        def __str__(self):
            return f"RedOpType.{self.name}"


for _op in ReduceOp.RedOpType:
    setattr(ReduceOp, _op.name, _op)


class Work:
    """The handle of a collective started with async_op=True: one rank completes at once."""

    def __init__(self, result=None):
        self._result = result

    def wait(self, timeout=None) -> bool:
        return True

    def is_completed(self) -> bool:
        return True

    def is_success(self) -> bool:
        return True

    def result(self):
        return self._result if self._result is not None else []

    def get_future(self):
        from .jit.futures import Future
        return Future._completed(self.result())


class ProcessGroup:
    """A group of ranks: in gpujit, the single rank 0 of this process."""

    def __init__(self, backend: str, ranks=(0,), timeout=None, name: str = ""):
        self._backend = Backend(backend)
        self._ranks = list(ranks)
        self._timeout = timeout or default_pg_timeout
        self.group_name = name

    def rank(self) -> int:
        return 0

    def size(self) -> int:
        return len(self._ranks)

    def name(self) -> str:
        return self._backend

    def __repr__(self):
        return f"<gpujit.distributed.ProcessGroup {self._backend} ranks={self._ranks}>"


class GroupMember:
    """GroupMember.WORLD is the default group (None before init_process_group);
    NON_GROUP_MEMBER marks a rank outside a group."""
    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = -100


class _WorldMeta(type):
    @property
    def WORLD(cls):
        return GroupMember.WORLD


class group(metaclass=_WorldMeta):
    """torch.distributed.group.WORLD: the default process group."""


def is_initialized() -> bool:
    return GroupMember.WORLD is not None


def _default_group() -> ProcessGroup:
    if GroupMember.WORLD is None:
        raise ValueError(_NO_GROUP)
    return GroupMember.WORLD


def _group(g) -> ProcessGroup:
    return _default_group() if g is None else g


def _env_int(name: str) -> int:
    v = _os.environ.get(name)
    if v is None:
        raise ValueError(f"Error initializing torch.distributed using env:// rendezvous: "
                         f"environment variable {name} expected, but not set")
    return int(v)


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: _datetime.timedelta | None = None, world_size: int = -1,
                       rank: int = -1, store=None, group_name: str = "", pg_options=None,
                       device_id=None) -> None:
    """The default process group of this process: world_size 1, rank 0. Rank and world size
    come from the arguments or, with the env:// init method (the default), from the RANK and
    WORLD_SIZE environment variables as PyTorch reads them."""
    if GroupMember.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if timeout is not None and not isinstance(timeout, _datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, "
                        f"got {timeout}")
    if store is not None and init_method is not None:
        raise AssertionError("Cannot specify both init_method and store.")
    if store is not None and (world_size <= 0 or rank < 0):
        raise AssertionError("world_size must be positive and rank must be non-negative "
                             "when using store")
    if store is None and (init_method is None or init_method.startswith("env://")):
        if rank == -1:
            rank = _env_int("RANK")
        if world_size == -1:
            world_size = _env_int("WORLD_SIZE")
    if world_size == -1:
        world_size = 1
    if rank == -1:
        rank = 0
    if world_size != 1 or rank != 0:
        raise RuntimeError(
            f"init_process_group(world_size={world_size}, rank={rank}): gpujit runs a single "
            f"process and does not exchange tensors between processes, so a process group "
            f"has exactly one rank (world_size=1, rank=0)")
    names = [b.split(":")[-1].strip() for b in (backend or "gloo").split(",")]
    for name in names:
        b = Backend(name)
        if b == Backend.NCCL and not is_nccl_available():
            raise RuntimeError("Distributed package doesn't have NCCL built in")
        if b not in (Backend.GLOO, Backend.NCCL):
            raise RuntimeError(f"gpujit's torch.distributed has the 'gloo' and 'nccl' "
                               f"backends (one rank), not {name!r}")
    GroupMember.WORLD = ProcessGroup(names[0], timeout=timeout, name=group_name or "0")


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    if GroupMember.WORLD is None:
        raise AssertionError("Process group cannot be None")
    if group is None or group is GroupMember.WORLD:
        GroupMember.WORLD = None


def get_default_backend_for_device(device) -> str:
    """"gloo" for the CPU, "nccl" for CUDA (torch.accelerator.current_accelerator()'s)."""
    from .device import device as _device
    kind = _device(device).type
    if kind == "cpu":
        return "gloo"
    if kind == "cuda":
        return "nccl"
    raise ValueError(f"Default backend not registered for device : {kind}")


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """LOCAL_RANK from the environment (torchrun's), else fallback_rank."""
    if "LOCAL_RANK" in _os.environ:
        return int(_os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError(
        "LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
        "`get_node_local_rank` to work, assuming you are not running in a multi-device "
        "context and want the code to run locally instead.")


def get_rank(group: ProcessGroup | None = None) -> int:
    _group(group)
    return 0


def get_world_size(group: ProcessGroup | None = None) -> int:
    return _group(group).size()


def get_backend(group: ProcessGroup | None = None) -> Backend:
    return _group(group)._backend


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False, group_desc=None, device_id=None,
              sort_ranks=True) -> ProcessGroup:
    world = _default_group()
    ranks = [0] if ranks is None else list(ranks)
    for r in ranks:
        if not 0 <= r < world.size():
            raise ValueError("The new group's rank should be within the world_size set by "
                             "init_process_group")
    return ProcessGroup(backend or world._backend, ranks or [0], timeout)


def get_process_group_ranks(group: ProcessGroup | None) -> list:
    return list(_group(group)._ranks)


def get_global_rank(group: ProcessGroup, group_rank: int) -> int:
    return _group(group)._ranks[group_rank]


def get_group_rank(group: ProcessGroup, global_rank: int) -> int:
    ranks = _group(group)._ranks
    if global_rank not in ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {group}")
    return ranks.index(global_rank)


def _rank_arg(what: str, value, group_value, g: ProcessGroup) -> None:
    if value is not None and group_value is not None:
        raise ValueError(f"Can not specify both {what} and group_{what}")
    r = value if value is not None else (group_value if group_value is not None else 0)
    if not 0 <= r < g.size():
        raise ValueError(f"Invalid {what} rank {r}: the group has ranks 0..{g.size() - 1}")


def _done(async_op, result=None):
    return Work(result) if async_op else None


def _check_list(name: str, xs, g: ProcessGroup) -> None:
    if len(xs) != g.size():
        raise ValueError(f"{name} has {len(xs)} tensors; the group has {g.size()} rank(s), "
                         f"one tensor each")


def _copy(dst, src) -> None:
    if dst is not src:
        with _no_grad():
            dst.copy_(src)


def _no_grad():
    from .autograd import no_grad
    return no_grad()


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    _group(group)
    return _done(async_op)


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    _group(group)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Over one rank the reduction of `tensor` is `tensor` (SUM, AVG, MIN, MAX, ...)."""
    _group(group)
    return _done(async_op, [tensor])


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    g = _group(group)
    _rank_arg("dst", dst, group_dst, g)
    return _done(async_op, [tensor])


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    g = _group(group)
    _rank_arg("src", src, group_src, g)
    return _done(async_op, [tensor])


def all_gather(tensor_list, tensor, group=None, async_op=False):
    g = _group(group)
    _check_list("tensor_list", tensor_list, g)
    _copy(tensor_list[0], tensor)
    return _done(async_op, tensor_list)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    g = _group(group)
    if output_tensor.numel() != input_tensor.numel() * g.size():
        raise ValueError(f"output tensor size ({output_tensor.numel()}) must be world_size "
                         f"({g.size()}) times the input tensor size ({input_tensor.numel()})")
    _copy(output_tensor, input_tensor.reshape(output_tensor.shape))
    return _done(async_op, [output_tensor])


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    g = _group(group)
    _rank_arg("dst", dst, group_dst, g)
    if gather_list is None:
        raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
    _check_list("gather_list", gather_list, g)
    _copy(gather_list[0], tensor)
    return _done(async_op, gather_list)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    g = _group(group)
    _rank_arg("src", src, group_src, g)
    if scatter_list is None:
        raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
    _check_list("scatter_list", scatter_list, g)
    _copy(tensor, scatter_list[0])
    return _done(async_op, [tensor])


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    g = _group(group)
    _check_list("input_list", input_list, g)
    _copy(output, input_list[0])
    return _done(async_op, [output])


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    g = _group(group)
    if input.numel() != output.numel() * g.size():
        raise ValueError(f"input tensor size ({input.numel()}) must be world_size "
                         f"({g.size()}) times the output tensor size ({output.numel()})")
    _copy(output, input.reshape(output.shape))
    return _done(async_op, [output])


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    g = _group(group)
    _check_list("output_tensor_list", output_tensor_list, g)
    _check_list("input_tensor_list", input_tensor_list, g)
    _copy(output_tensor_list[0], input_tensor_list[0])
    return _done(async_op, output_tensor_list)


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None,
                      group=None, async_op=False):
    _group(group)
    _copy(output, input)
    return _done(async_op, [output])


def all_gather_object(object_list, obj, group=None):
    g = _group(group)
    _check_list("object_list", object_list, g)
    object_list[0] = obj


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    g = _group(group)
    _rank_arg("dst", dst, group_dst, g)
    if object_gather_list is not None:
        _check_list("object_gather_list", object_gather_list, g)
        object_gather_list[0] = obj


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    g = _group(group)
    _rank_arg("src", src, group_src, g)


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None,
                        group=None, group_src=None):
    g = _group(group)
    _rank_arg("src", src, group_src, g)
    if not isinstance(scatter_object_output_list, list) or not scatter_object_output_list:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size "
                         "at least 1.")
    _check_list("scatter_object_input_list", scatter_object_input_list or [], g)
    scatter_object_output_list[0] = scatter_object_input_list[0]


def _no_peer(what: str, peer, g: ProcessGroup):
    raise ValueError(f"{what}: rank {peer} is not another rank of the group (this process is "
                     f"its only rank, 0; gpujit runs a single process)")


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    _no_peer("send", dst if dst is not None else group_dst, _group(group))


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    _no_peer("recv", src if src is not None else group_src, _group(group))


isend, irecv = send, recv
