"""torch.utils.data.datapipes.iter: the IterDataPipes most pipelines chain (each also a
functional form of IterDataPipe: map, filter, batch, unbatch, shuffle, zip, concat, mux,
collate, sharding_filter)."""
from __future__ import annotations

import copy
import random
from collections.abc import Sized

from .datapipe import IterDataPipe, DataChunk, functional_datapipe, _check_unpickable_fn

__all__ = ["IterableWrapper", "Mapper", "Filter", "Batcher", "UnBatcher", "Shuffler",
           "Zipper", "Concater", "Multiplexer", "Collator", "ShardingFilter", "Sampler"]


def _no_len(dp):
    raise TypeError(f"{type(dp).__name__} instance doesn't have valid length")


class IterableWrapperIterDataPipe(IterDataPipe):
    """An iterable as an IterDataPipe (deep-copied per iteration unless deepcopy=False)."""

    def __init__(self, iterable, deepcopy=True):
        self.iterable = iterable
        self.deepcopy = deepcopy

    def __iter__(self):
        source = self.iterable
        if self.deepcopy:
            try:
                source = copy.deepcopy(self.iterable)
            except TypeError:
                pass
        yield from source

    def __len__(self):
        if isinstance(self.iterable, Sized):
            return len(self.iterable)
        _no_len(self)


def _apply(fn, data, input_col, output_col):
    if input_col is None and output_col is None:
        return fn(data)
    if input_col is None:
        res = fn(data)
    elif isinstance(input_col, (list, tuple)):
        res = fn(*(data[c] for c in input_col))
    else:
        res = fn(data[input_col])
    was_tuple = isinstance(data, tuple)
    if was_tuple:
        data = list(data)
    if output_col is None:
        if isinstance(input_col, (list, tuple)):
            data[input_col[0]] = res
            for idx in sorted(input_col[1:], reverse=True):
                del data[idx]
        else:
            data[input_col] = res
    elif output_col == -1:
        data.append(res)
    else:
        data[output_col] = res
    return tuple(data) if was_tuple else data


@functional_datapipe("map")
class MapperIterDataPipe(IterDataPipe):
    """fn applied to each item (to input_col of it, written to output_col)."""

    def __init__(self, datapipe, fn, input_col=None, output_col=None):
        _check_unpickable_fn(fn)
        if input_col is None and output_col is not None:
            raise ValueError("`output_col` must be None when `input_col` is None.")
        if isinstance(output_col, (list, tuple)):
            if len(output_col) > 1:
                raise ValueError("`output_col` must be a single-element list or tuple")
            output_col = output_col[0]
        self.datapipe, self.fn = datapipe, fn
        self.input_col, self.output_col = input_col, output_col

    def __iter__(self):
        for data in self.datapipe:
            yield _apply(self.fn, data, self.input_col, self.output_col)

    def __len__(self):
        if isinstance(self.datapipe, Sized):
            return len(self.datapipe)
        _no_len(self)


@functional_datapipe("filter")
class FilterIterDataPipe(IterDataPipe):
    """The items for which filter_fn (of input_col) is True."""

    def __init__(self, datapipe, filter_fn, input_col=None):
        _check_unpickable_fn(filter_fn)
        self.datapipe, self.filter_fn, self.input_col = datapipe, filter_fn, input_col

    def __iter__(self):
        for data in self.datapipe:
            arg = data if self.input_col is None else (
                [data[c] for c in self.input_col] if isinstance(self.input_col, (list, tuple))
                else data[self.input_col])
            keep = self.filter_fn(*arg) if isinstance(self.input_col, (list, tuple)) \
                else self.filter_fn(arg)
            if not isinstance(keep, bool):
                raise ValueError(f"Boolean output is required for `filter_fn` of "
                                 f"FilterIterDataPipe, got {type(keep)}")
            if keep:
                yield data


@functional_datapipe("batch")
class BatcherIterDataPipe(IterDataPipe):
    """Batches (DataChunks) of batch_size items (the last one smaller unless drop_last)."""

    def __init__(self, datapipe, batch_size, drop_last=False, wrapper_class=DataChunk):
        if batch_size <= 0:
            raise AssertionError("Batch size is required to be larger than 0!")
        self.datapipe, self.batch_size = datapipe, batch_size
        self.drop_last, self.wrapper_class = drop_last, wrapper_class

    def __iter__(self):
        batch = []
        for x in self.datapipe:
            batch.append(x)
            if len(batch) == self.batch_size:
                yield self.wrapper_class(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.wrapper_class(batch)

    def __len__(self):
        if isinstance(self.datapipe, Sized):
            if self.drop_last:
                return len(self.datapipe) // self.batch_size
            return (len(self.datapipe) + self.batch_size - 1) // self.batch_size
        _no_len(self)


@functional_datapipe("unbatch")
class UnBatcherIterDataPipe(IterDataPipe):
    """The items of batches, unbatch_level levels deep (-1: all the way)."""

    def __init__(self, datapipe, unbatch_level=1):
        self.datapipe, self.unbatch_level = datapipe, unbatch_level

    def __iter__(self):
        for element in self.datapipe:
            yield from self._dive(element, self.unbatch_level)

    def _dive(self, element, level):
        if level < -1:
            raise ValueError("unbatch_level must be -1 or >= 0")
        if level == -1:
            if isinstance(element, (list, DataChunk)):
                for item in element:
                    yield from self._dive(item, -1)
            else:
                yield element
        elif level == 0:
            yield element
        elif isinstance(element, (list, DataChunk)):
            for item in element:
                yield from self._dive(item, level - 1)
        else:
            raise IndexError(f"unbatch_level {self.unbatch_level} exceeds the depth of the "
                             f"DataPipe")


@functional_datapipe("shuffle")
class ShufflerIterDataPipe(IterDataPipe):
    """The items shuffled through a buffer of buffer_size; each iteration's seed drawn
    from the default generator (or set_seed's)."""

    def __init__(self, datapipe, *, buffer_size=10000, unbatch_level=0):
        if buffer_size <= 0:
            raise AssertionError("buffer_size should be larger than 0")
        self._buffer = []
        self.datapipe = datapipe if unbatch_level == 0 else \
            datapipe.unbatch(unbatch_level=unbatch_level)
        self.buffer_size = buffer_size
        self._enabled = True
        self._seed = None
        self._rng = random.Random()

    def set_shuffle(self, shuffle=True):
        self._enabled = shuffle
        return self

    def set_seed(self, seed):
        self._seed = seed
        return self

    def __iter__(self):
        if not self._enabled:
            yield from self.datapipe
            return
        for x in self.datapipe:
            if len(self._buffer) == self.buffer_size:
                idx = self._rng.randint(0, len(self._buffer) - 1)
                val, self._buffer[idx] = self._buffer[idx], x
                yield val
            else:
                self._buffer.append(x)
        while self._buffer:
            idx = self._rng.randint(0, len(self._buffer) - 1)
            yield self._buffer.pop(idx)

    def __len__(self):
        if isinstance(self.datapipe, Sized):
            return len(self.datapipe)
        _no_len(self)

    def reset(self):
        self._buffer = []
        if self._enabled:
            if self._seed is None:
                import gpujit
                self._seed = int(gpujit.empty((), dtype=gpujit.int64).random_().item())
            self._rng.seed(self._seed)
            self._seed = None


@functional_datapipe("zip")
class ZipperIterDataPipe(IterDataPipe):
    """Tuples of one item of each DataPipe (as long as the shortest)."""

    def __init__(self, *datapipes):
        if not all(isinstance(dp, IterDataPipe) for dp in datapipes):
            raise TypeError("All inputs are required to be `IterDataPipe` for "
                            "`ZipIterDataPipe`.")
        self.datapipes = datapipes

    def __iter__(self):
        yield from zip(*self.datapipes)

    def __len__(self):
        if all(isinstance(dp, Sized) for dp in self.datapipes):
            return min(len(dp) for dp in self.datapipes)
        _no_len(self)


@functional_datapipe("concat")
class ConcaterIterDataPipe(IterDataPipe):
    """The items of each DataPipe, one after another."""

    def __init__(self, *datapipes):
        if len(datapipes) == 0:
            raise ValueError("Expected at least one DataPipe, but got nothing")
        if not all(isinstance(dp, IterDataPipe) for dp in datapipes):
            raise TypeError("Expected all inputs to be `IterDataPipe`")
        self.datapipes = datapipes

    def __iter__(self):
        for dp in self.datapipes:
            yield from dp

    def __len__(self):
        if all(isinstance(dp, Sized) for dp in self.datapipes):
            return sum(len(dp) for dp in self.datapipes)
        _no_len(self)


@functional_datapipe("mux")
class MultiplexerIterDataPipe(IterDataPipe):
    """One item of each DataPipe in turn, until the shortest ends."""

    def __init__(self, *datapipes):
        self.datapipes = datapipes
        self.buffer = []

    def __iter__(self):
        iterators = [iter(x) for x in self.datapipes]
        while iterators:
            for it in iterators:
                try:
                    self.buffer.append(next(it))
                except StopIteration:
                    self.buffer.clear()
                    return
            yield from self.buffer
            self.buffer.clear()

    def __len__(self):
        if all(isinstance(dp, Sized) for dp in self.datapipes):
            return min(len(dp) for dp in self.datapipes) * len(self.datapipes)
        _no_len(self)

    def reset(self):
        self.buffer = []


@functional_datapipe("collate")
class CollatorIterDataPipe(MapperIterDataPipe):
    """Each batch collated (default_collate unless collate_fn)."""

    def __init__(self, datapipe, conversion=None, collate_fn=None):
        from .._collate import default_collate
        fn = collate_fn if collate_fn is not None else (conversion if callable(conversion)
                                                        else default_collate)
        super().__init__(datapipe, fn=fn)


@functional_datapipe("sharding_filter")
class ShardingFilterIterDataPipe(IterDataPipe):
    """The items of this instance's shard (apply_sharding(num_of_instances, instance_id):
    every num_of_instances-th item from instance_id)."""

    def __init__(self, source_datapipe, sharding_group_filter=None):
        self.source_datapipe = source_datapipe
        self.sharding_group_filter = sharding_group_filter
        self.num_of_instances, self.instance_id = 1, 0

    def is_shardable(self):
        return True

    def apply_sharding(self, num_of_instances, instance_id, sharding_group=None):
        if instance_id >= num_of_instances:
            raise ValueError(f"instance_id({instance_id}) should be smaller than "
                             f"num_of_instances({num_of_instances})")
        self.num_of_instances, self.instance_id = num_of_instances, instance_id

    def __iter__(self):
        for i, item in enumerate(self.source_datapipe):
            if i % self.num_of_instances == self.instance_id:
                yield item

    def __len__(self):
        if isinstance(self.source_datapipe, Sized):
            n = len(self.source_datapipe)
            return n // self.num_of_instances + (
                1 if self.instance_id < n % self.num_of_instances else 0)
        _no_len(self)


class SamplerIterDataPipe(IterDataPipe):
    """The items a sampler (SequentialSampler by default) picks of a sized DataPipe."""

    def __init__(self, datapipe, sampler=None, sampler_args=None, sampler_kwargs=None):
        from ..sampler import SequentialSampler
        if not isinstance(datapipe, Sized):
            raise AssertionError("Sampler class requires input datapipe implemented "
                                 "`__len__`")
        self.datapipe = datapipe
        self.sampler = (sampler or SequentialSampler)(
            *(sampler_args or ()), data_source=datapipe, **(sampler_kwargs or {}))

    def __iter__(self):
        return iter(self.sampler)

    def __len__(self):
        return len(self.sampler)


IterableWrapper = IterableWrapperIterDataPipe
Mapper = MapperIterDataPipe
Filter = FilterIterDataPipe
Batcher = BatcherIterDataPipe
UnBatcher = UnBatcherIterDataPipe
Shuffler = ShufflerIterDataPipe
Zipper = ZipperIterDataPipe
Concater = ConcaterIterDataPipe
Multiplexer = MultiplexerIterDataPipe
Collator = CollatorIterDataPipe
ShardingFilter = ShardingFilterIterDataPipe
Sampler = SamplerIterDataPipe
