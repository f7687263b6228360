"""What runs inside a DataLoader worker process (torch.utils.data._utils.worker):
get_worker_info(), the per-worker seeds, and the loop that turns index batches from the
main process into collated batches (or a wrapped exception) on the result queue."""
from __future__ import annotations

import os
import queue
import random
import sys
import traceback
from multiprocessing.reduction import ForkingPickler

__all__ = ["WorkerInfo", "get_worker_info"]

# how often an idle worker looks whether the main process is still there / shut it down
WORKER_POLL_INTERVAL = 0.5

_worker_info = None


class WorkerInfo:
    """id, num_workers, seed and dataset (this worker's copy) of the current worker."""

    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} "
                               f"objects")
        return super().__setattr__(key, val)

    def __repr__(self):
        items = [f"{k}={getattr(self, k)}" for k in self.__keys]
        return f"{self.__class__.__name__}({', '.join(items)})"


def get_worker_info():
    """In a DataLoader worker process: its WorkerInfo (id, num_workers, seed, dataset);
    in the main process: None."""
    return _worker_info


class _IterableDatasetStopIteration:
    """A worker's iterable dataset is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class _ResumeIteration:
    """Sent to persistent workers at a new epoch: restart the dataset iterator."""

    def __init__(self, seed=None):
        self.seed = seed


class KeyErrorMessage(str):
    """str whose repr is itself, so a re-raised KeyError prints its message readably."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process as its type and its
    traceback text ("Caught ValueError in DataLoader worker process 0 ...")."""

    def __init__(self, exc_info=None, where="in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exception


def _generate_state(base_seed, worker_id):
    """The 4-word NumPy seed of worker `worker_id` (torch's SeedSequence-like mix of the
    base seed and the worker id), so NumPy's global RNG differs between workers."""
    INIT_A, MULT_A = 0x43B0D7E5, 0x931E8875
    INIT_B, MULT_B = 0x8B51F9DD, 0x58F38DED
    MIX_MULT_L, MIX_MULT_R = 0xCA01F9DD, 0x4973F715
    XSHIFT, MASK32 = 16, 0xFFFFFFFF
    entropy = [worker_id, base_seed & MASK32, base_seed >> 32, 0]
    pool = [0] * 4
    hash_const_A = INIT_A

    def hash_(value):
        nonlocal hash_const_A
        value = (value ^ hash_const_A) & MASK32
        hash_const_A = (hash_const_A * MULT_A) & MASK32
        value = (value * hash_const_A) & MASK32
        return (value ^ (value >> XSHIFT)) & MASK32

    def mix(x, y):
        result = ((MIX_MULT_L * x) & MASK32) - ((MIX_MULT_R * y) & MASK32)
        result &= MASK32
        return (result ^ (result >> XSHIFT)) & MASK32

    for i in range(4):
        pool[i] = hash_(entropy[i])
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hash_(pool[i_src]))
    hash_const_B = INIT_B
    state = []
    for i_dst in range(4):
        data_val = pool[i_dst]
        data_val = (data_val ^ hash_const_B) & MASK32
        hash_const_B = (hash_const_B * MULT_B) & MASK32
        data_val = (data_val * hash_const_B) & MASK32
        data_val = (data_val ^ (data_val >> XSHIFT)) & MASK32
        state.append(data_val)
    return state


class _MapFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto, self.collate_fn = dataset, auto_collation, collate_fn

    def fetch(self, index):
        ds = self.dataset
        if not self.auto:
            return self.collate_fn(ds[index])
        getitems = getattr(ds, "__getitems__", None)
        data = getitems(index) if getitems is not None else [ds[i] for i in index]
        return self.collate_fn(data)


class _IterableFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.it = iter(dataset)
        self.auto, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto:
            return self.collate_fn(next(self.it))
        data = []
        for _ in index:
            try:
                data.append(next(self.it))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


def _seed_worker(seed, base_seed, worker_id):
    random.seed(seed)
    from ... import manual_seed
    manual_seed(seed)
    import numpy as np
    np.random.seed(_generate_state(base_seed, worker_id))


def _worker_loop(dataset_kind, dataset, index_queue, data_queue, done_event,
                 auto_collation, collate_fn, drop_last, base_seed, init_fn, worker_id,
                 num_workers, persistent_workers):
    """Body of worker process `worker_id`: seed, run init_fn, then fetch the batches
    whose indices arrive on index_queue until None (or done_event) says stop."""
    global _worker_info
    try:
        seed = base_seed + worker_id
        _seed_worker(seed, base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        from .datapipes.datapipe import IterDataPipe
        if isinstance(dataset, IterDataPipe):       # (each worker its ShardingFilter share)
            from .graph_settings import apply_sharding
            apply_sharding(dataset, num_workers, worker_id)
        fetcher_cls = _IterableFetcher if dataset_kind == "iterable" else _MapFetcher
        init_exception = fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = fetcher_cls(dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(
                where=f"in DataLoader worker process {worker_id}")
        iteration_end = False
        parent = os.getppid()
        while True:
            try:
                r = index_queue.get(timeout=WORKER_POLL_INTERVAL)
            except queue.Empty:
                # the main process is gone, or shut the workers down and its None did not
                # come (a loader iterator collected as cyclic garbage can lose its queues'
                # feeder threads before its __del__ sends the None)
                if os.getppid() != parent or done_event.is_set():
                    break
                continue
            if isinstance(r, _ResumeIteration):
                data_queue.put(bytes(ForkingPickler.dumps((r, None))))
                iteration_end = False
                if r.seed is not None:
                    _seed_worker(r.seed + worker_id, r.seed, worker_id)
                fetcher = fetcher_cls(dataset, auto_collation, collate_fn, drop_last)
                continue
            if r is None:
                break
            if done_event.is_set() or iteration_end:
                continue
            idx, index = r
            if init_exception is not None:
                data = init_exception
                init_exception = None
            else:
                try:
                    data = fetcher.fetch(index)
                except Exception as e:
                    if isinstance(e, StopIteration) and dataset_kind == "iterable":
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(
                            where=f"in DataLoader worker process {worker_id}")
            try:
                # pickled here, not in the queue's feeder thread: a batch that does not
                # pickle becomes an error in the main process instead of a lost batch
                payload = bytes(ForkingPickler.dumps((idx, data)))
            except Exception:
                payload = ForkingPickler.dumps((idx, ExceptionWrapper(
                    where=f"in DataLoader worker process {worker_id}")))
            data_queue.put(bytes(payload))
            del data, idx, index, r, payload
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()
