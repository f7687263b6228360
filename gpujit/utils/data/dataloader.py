"""DataLoader (torch.utils.data.DataLoader): batches of a dataset, read in the main
process (num_workers=0) or in worker processes (num_workers > 0, _mp_iter). Argument
checks and errors are PyTorch's."""
from __future__ import annotations

from . import _collate
from ._worker import get_worker_info
from .dataset import IterableDataset, TensorDataset
from ._mp_iter import MultiProcessingDataLoaderIter, base_seed, resolve_context
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]

default_collate = _collate.default_collate
default_convert = _collate.default_convert


class _InfiniteConstantSampler(Sampler):
    def __iter__(self):
        while True:
            yield None


def _check_iterable_length(it):
    """PyTorch's warning when an IterableDataset yields more than len(loader) reported
    (its _BaseDataLoaderIter.__next__: it compares the batches yielded with the dataset's
    length in samples)."""
    if it._dataset_kind == "iterable" and it._IterableDataset_len_called is not None \
            and it._num_yielded > it._IterableDataset_len_called:
        import warnings
        msg = (f"Length of IterableDataset {it._dataset} was reported to be "
               f"{it._IterableDataset_len_called}(when accessing len(dataloader)), but "
               f"{it._num_yielded} samples have been fetched. ")
        if it._num_workers > 0:
            msg += ("For multiprocessing data-loading, this could be caused by not properly "
                    "configuring the IterableDataset replica at each worker. Please see "
                    "https://pytorch.org/docs/stable/data.html#torch.utils.data."
                    "IterableDataset for examples.")
        warnings.warn(msg)


def _seed_datapipe(loader):
    """An IterDataPipe's Shufflers seeded from one shared seed drawn from the loader's
    generator when an iterator starts (PyTorch's _share_dist_seed / apply_random_seed), so
    every worker shuffles alike and its ShardingFilter keeps its own share."""
    from .datapipes.datapipe import IterDataPipe
    if not isinstance(loader.dataset, IterDataPipe):
        return
    from ... import empty, int64, Generator
    from .graph_settings import apply_random_seed
    shared_seed = empty((), dtype=int64).random_(generator=loader.generator).item()
    rng = Generator()
    rng.manual_seed(shared_seed)
    apply_random_seed(loader.dataset, rng)


class _SingleProcessDataLoaderIter:
    """iter(loader) with num_workers=0, as PyTorch's: next() reads the next batch in this
    process; len() is the number of batches the loader's sampler gives."""

    def __init__(self, loader, batches):
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._index_sampler = loader._index_sampler
        self._num_workers = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._num_yielded = 0
        self._batches = batches

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._index_sampler)

    def __next__(self):
        data = next(self._batches)
        self._num_yielded += 1
        _check_iterable_length(self)
        return data


class DataLoader:
    """Batches of `dataset` by batch_size (or a batch_sampler), shuffled with `generator`
    (or the default generator) when shuffle=True, collated by collate_fn."""

    _initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None,
                 batch_sampler=None, num_workers=0, collate_fn=None, pin_memory=False,
                 drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None,
                 persistent_workers=False, pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use "
                             "num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None:
            if num_workers == 0:
                raise ValueError(f"multiprocessing_context can only be used with "
                                 f"multi-process loading (num_workers > 0), but got "
                                 f"num_workers={num_workers}")
            multiprocessing_context = resolve_context(multiprocessing_context)
        self._iterator = None
        self._IterableDataset_len_called = None
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = "iterable"
            from .datapipes.datapipe import IterDataPipe
            if isinstance(dataset, IterDataPipe):   # (shuffle turns its Shufflers on / off)
                if shuffle is not None:
                    from .graph_settings import apply_shuffle_settings
                    dataset = self.dataset = apply_shuffle_settings(dataset, shuffle=shuffle)
                shuffle = None
            if isinstance(shuffle, bool) and shuffle:       # shuffle=False is allowed
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler="
                                 f"{batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = "map"
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is "
                             "mutually exclusive with drop_last")
        if sampler is None:
            if self._dataset_kind == "iterable":
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._initialized = True

    def __setattr__(self, attr, val):
        if self._initialized and attr in ("batch_size", "batch_sampler", "sampler",
                                          "drop_last", "dataset", "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self):
        if self._dataset_kind == "iterable":
            # (remembered, in samples: the iterators warn once they yield more batches)
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                if self.drop_last:
                    length = length // self.batch_size
                else:
                    length = -(-length // self.batch_size)
            return length
        return len(self._index_sampler)

    def __iter__(self):
        if self.num_workers > 0:
            if not self.persistent_workers:
                self._pin_memory_warnings()
                return MultiProcessingDataLoaderIter(self)
            if self._iterator is None or self._iterator._shutdown:
                self._pin_memory_warnings()
                self._iterator = MultiProcessingDataLoaderIter(self)
            else:
                self._iterator._reset(self)
            return self._iterator
        self._pin_memory_warnings()
        _seed_datapipe(self)        # (the shared seed first, then the base seed: torch's order)
        base_seed(self.generator)
        if self._dataset_kind == "iterable":
            return _SingleProcessDataLoaderIter(self, self._iter_iterable())
        return _SingleProcessDataLoaderIter(self, self._iter_map())

    def _pin_memory_warnings(self):
        """PyTorch's, as each new iterator of a pin_memory loader gives them: the device
        is the current accelerator's, and without one nothing is pinned."""
        if not self.pin_memory:
            return
        import warnings
        if self.pin_memory_device:
            warnings.warn(f"pin_memory_device is deprecated, the current accelerator will be "
                          f"used as the device,ignore pin_memory_device="
                          f"'{self.pin_memory_device}'.", stacklevel=2)
        from ... import cuda
        if not cuda.is_available():
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=2)

    def _iter_map(self):
        dataset, collate = self.dataset, self.collate_fn
        auto = self._auto_collation
        fast = (auto and collate is default_collate and type(dataset) is TensorDataset)
        getitems = getattr(dataset, "__getitems__", None) if auto else None
        if fast:
            from ... import tensor, int64
            tensors = dataset.tensors
        for index in self._index_sampler:
            if fast:
                # what default_collate of the samples would stack, read with one index
                # op per tensor instead of one per sample and tensor
                idx = tensor(index, dtype=int64)
                yield [t[idx.to(t.device)] for t in tensors]
            elif not auto:
                yield collate(dataset[index])
            elif getitems is not None:
                yield collate(getitems(index))
            else:
                yield collate([dataset[i] for i in index])

    def _iter_iterable(self):
        it = iter(self.dataset)
        collate = self.collate_fn
        if not self._auto_collation:
            for data in it:
                yield collate(data)
            return
        size, drop_last = self.batch_size, self.drop_last
        while True:
            data = []
            for _ in range(size):
                try:
                    data.append(next(it))
                except StopIteration:
                    break
            if not data or (drop_last and len(data) < size):
                return
            yield collate(data)
            if len(data) < size:
                return
