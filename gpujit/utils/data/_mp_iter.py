"""The DataLoader iterator with worker processes (num_workers > 0), as
torch.utils.data.dataloader._MultiProcessingDataLoaderIter: indices go to the workers
round-robin through one queue each, at most prefetch_factor * num_workers batches ahead;
batches come back pickled on one result queue and are handed out in sampler order."""
from __future__ import annotations

import itertools
import multiprocessing
import os
import pickle
import queue
import signal
import time

from . import _worker
from ._worker import ExceptionWrapper, _IterableDatasetStopIteration, _ResumeIteration

__all__ = ["MultiProcessingDataLoaderIter", "resolve_context", "base_seed"]


def resolve_context(ctx):
    """multiprocessing_context (None, a start-method name or a context) -> a context."""
    if ctx is None:
        return multiprocessing.get_context()
    if isinstance(ctx, str):
        methods = multiprocessing.get_all_start_methods()
        if ctx not in methods:
            raise ValueError(f"multiprocessing_context option should specify a valid start "
                             f"method in {methods!r}, but got multiprocessing_context={ctx!r}")
        return multiprocessing.get_context(ctx)
    if not isinstance(ctx, multiprocessing.context.BaseContext):
        raise TypeError(f"multiprocessing_context option should be a valid context object "
                        f"or a string specifying the start method, but got "
                        f"multiprocessing_context={ctx}")
    return ctx


def base_seed(generator):
    """The loader iterator's base seed: one int64 drawn from the loader's generator (or
    the default one) when the iterator starts, before the sampler draws its own; workers
    seed from it, and single-process loading draws it too, so a seeded generator gives
    the same order whatever num_workers is (as torch)."""
    from ... import empty, int64
    return empty((), dtype=int64).random_(generator=generator).item()


class MultiProcessingDataLoaderIter:
    def __init__(self, loader):
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._prefetch_factor = loader.prefetch_factor
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._persistent_workers = loader.persistent_workers
        self._generator = loader.generator
        self._in_order = loader.in_order
        self._shutdown = False
        self._workers = []
        self._pid = os.getpid()     # a forked child's copy of this iterator owns nothing
        ctx = resolve_context(loader.multiprocessing_context)
        from .dataloader import _seed_datapipe
        _seed_datapipe(loader)      # (the shared seed first, then the base seed: torch's order)
        self._base_seed = base_seed(loader.generator)
        self._worker_result_queue = ctx.Queue()
        self._workers_done_event = ctx.Event()
        self._index_queues = []
        for i in range(self._num_workers):
            index_queue = ctx.Queue()
            w = ctx.Process(
                target=_worker._worker_loop,
                args=(self._dataset_kind, self._dataset, index_queue,
                      self._worker_result_queue, self._workers_done_event,
                      self._auto_collation, self._collate_fn, self._drop_last,
                      self._base_seed, loader.worker_init_fn, i, self._num_workers,
                      self._persistent_workers),
                daemon=True)
            w.start()
            self._index_queues.append(index_queue)
            self._workers.append(w)
        self._reset(loader, first_iter=True)

    # -- epochs --------------------------------------------------------------------------
    def _reset(self, loader, first_iter=False):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._send_idx = 0          # next task index to send
        self._rcvd_idx = 0          # next task index to hand out
        self._task_info = {}        # idx -> (worker_id,) while pending, (worker_id, data)
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            # persistent workers: restart each worker's dataset iterator (its RNGs are
            # not reseeded, as torch); all a worker still sends before its
            # acknowledgement belongs to the last epoch
            for q in self._index_queues:
                q.put(_ResumeIteration())
            remaining = self._num_workers
            while remaining > 0:
                _, data = self._get_data()
                if isinstance(_, _ResumeIteration):
                    remaining -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._index_sampler)

    # -- receiving -----------------------------------------------------------------------
    def _check_workers(self):
        for worker_id, w in enumerate(self._workers):
            if self._workers_status[worker_id] and not w.is_alive():
                code = w.exitcode
                why = ""
                if code is not None and code < 0:
                    try:
                        why = f" is killed by signal: {signal.strsignal(-code)}"
                    except ValueError:
                        why = f" is killed by signal {-code}"
                elif code:
                    why = f" exited with code {code}"
                self._shutdown_workers()
                raise RuntimeError(f"DataLoader worker {worker_id} (pid {w.pid}){why}. "
                                   f"DataLoader worker (pid(s) {w.pid}) exited unexpectedly")

    def _get_data(self):
        """The next (idx, data) from any worker, or RuntimeError on timeout / a dead
        worker."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = 0.5
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    self._shutdown_workers()
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            try:
                payload = self._worker_result_queue.get(timeout=wait)
            except queue.Empty:
                self._check_workers()
                continue
            return pickle.loads(payload)

    def _try_put_index(self):
        if self._tasks_outstanding >= self._prefetch_factor * self._num_workers:
            return
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_queue_idx = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker_queue_idx]:
                break
        else:
            return          # every worker has finished its stream
        self._index_queues[worker_queue_idx].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_queue_idx,)
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _mark_worker_as_unavailable(self, worker_id):
        self._index_queues[worker_id].put(None)
        self._workers_status[worker_id] = False

    def __next__(self):
        while True:
            if self._shutdown:
                raise StopIteration
            # skip tasks of workers whose stream ended
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is None:
                    self._rcvd_idx += 1
                    continue
                worker_id = info[0]
                if len(info) == 2 or self._workers_status[worker_id]:
                    break
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            info = self._task_info[self._rcvd_idx]
            if len(info) == 2:
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process_data(info[1])
            assert not self._shutdown and self._tasks_outstanding > 0
            idx, data = self._get_data()
            if isinstance(idx, _ResumeIteration):
                continue
            self._tasks_outstanding -= 1
            if isinstance(data, _IterableDatasetStopIteration):
                if self._persistent_workers:
                    self._workers_status[data.worker_id] = False
                else:
                    self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if idx != self._rcvd_idx:
                if not self._in_order:      # in_order=False: hand out what came first
                    del self._task_info[idx]
                    return self._process_data(data)
                if idx in self._task_info:
                    self._task_info[idx] += (data,)
                continue
            del self._task_info[idx]
            self._rcvd_idx += 1
            return self._process_data(data)

    def _process_data(self, data):
        self._try_put_index()
        self._num_yielded += 1
        from .dataloader import _check_iterable_length
        _check_iterable_length(self)
        if isinstance(data, ExceptionWrapper):
            data.reraise()      # the iterator goes on with the next batch, as torch's
        return data

    # -- shutdown ------------------------------------------------------------------------
    def _shutdown_workers(self):
        if self._shutdown or os.getpid() != self._pid:
            return
        self._shutdown = True
        try:
            self._workers_done_event.set()
            for q in self._index_queues:
                try:
                    q.put(None)
                except Exception:
                    pass
            for w in self._workers:
                w.join(timeout=5.0)
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(timeout=1.0)
            for q in self._index_queues:
                # its feeder thread flushes what is left into the pipe (closing under a
                # live feeder races with it); one blocked on a full pipe nobody reads
                # any more is left behind, not waited for at exit
                q.close()
                feeder = getattr(q, "_thread", None)
                if feeder is not None:
                    feeder.join(timeout=1.0)
                    if feeder.is_alive():
                        q.cancel_join_thread()
            self._worker_result_queue.cancel_join_thread()
            self._worker_result_queue.close()
        except Exception:
            pass

    def __del__(self):
        self._shutdown_workers()
