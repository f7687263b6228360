"""torch.utils.data.datapipes' base classes: IterDataPipe (an IterableDataset whose
registered functional forms chain: dp.map(f).filter(g).batch(4)), MapDataPipe (indexable),
DataChunk (a batch: a list), and functional_datapipe(name), the class decorator that
registers a DataPipe class as the functional form `name`. Each new iteration of an
IterDataPipe calls its reset() first (a Shuffler draws its seed there from the default
generator, as PyTorch's)."""
from __future__ import annotations

import functools
import types
import warnings

from ..dataset import Dataset, IterableDataset

__all__ = ["IterDataPipe", "MapDataPipe", "DataChunk", "functional_datapipe"]


def _check_unpickable_fn(fn):
    """Warn (as PyTorch) for a lambda or local function a DataPipe will not pickle."""
    if not callable(fn):
        raise TypeError(f"A callable function is expected, but {type(fn)} is provided.")
    f = fn.func if isinstance(fn, functools.partial) else fn
    if isinstance(f, types.FunctionType) and f.__name__ == "<lambda>":
        warnings.warn("Lambda function is not supported by pickle, please use regular python "
                      "function or functools.partial instead.", stacklevel=3)
        return
    if isinstance(f, types.FunctionType) and "<locals>" in f.__qualname__:
        warnings.warn("Local function is not supported by pickle, please use regular python "
                      "function or functools.partial instead.", stacklevel=3)


class _IterDataPipeMeta(type(IterableDataset)):
    """Wraps each class's own __iter__ so a new iteration first resets the DataPipe."""

    def __new__(mcs, name, bases, namespace, **kwargs):
        it = namespace.get("__iter__")
        if it is not None and not getattr(it, "_resets", False):
            @functools.wraps(it)
            def __iter__(self, _it=it):
                self.reset()
                return _it(self)
            __iter__._resets = True
            namespace["__iter__"] = __iter__
        return super().__new__(mcs, name, bases, namespace, **kwargs)


class IterDataPipe(IterableDataset, metaclass=_IterDataPipeMeta):
    """An iterable DataPipe; its functional forms (map, filter, batch, shuffle, ...) are
    attributes found in IterDataPipe.functions."""
    functions: dict = {}

    def __iter__(self):
        return self

    def __getattr__(self, attribute_name):
        if attribute_name in IterDataPipe.functions:
            f = IterDataPipe.functions[attribute_name]
            function = functools.partial(f, self)
            functools.update_wrapper(wrapper=function, wrapped=f, assigned=("__doc__",))
            return function
        raise AttributeError(f"'{self.__class__.__name__}' object has no attribute "
                             f"'{attribute_name}")

    @classmethod
    def register_function(cls, function_name, function) -> None:
        cls.functions[function_name] = function

    @classmethod
    def register_datapipe_as_function(cls, function_name, cls_to_register,
                                      enable_df_api_tracing=False) -> None:
        if function_name in cls.functions:
            raise Exception(f"Unable to add DataPipe function name {function_name} as it is "
                            f"already taken")

        def class_function(source_dp, *args, **kwargs):
            return cls_to_register(source_dp, *args, **kwargs)
        functools.update_wrapper(wrapper=class_function, wrapped=cls_to_register,
                                 assigned=("__doc__",))
        cls.functions[function_name] = class_function

    def reset(self) -> None:
        """Called at the start of each iteration (nothing for most DataPipes)."""

    def __repr__(self):
        return self.__class__.__qualname__

    def __str__(self):
        return self.__class__.__qualname__

    def __dir__(self):
        return list(super().__dir__()) + list(self.functions.keys())

    def __reduce_ex__(self, *args, **kwargs):
        return super().__reduce_ex__(*args, **kwargs)


class MapDataPipe(Dataset):
    """An indexable DataPipe (dp[i], len(dp)); functional forms in MapDataPipe.functions."""
    functions: dict = {}

    def __getattr__(self, attribute_name):
        if attribute_name in MapDataPipe.functions:
            f = MapDataPipe.functions[attribute_name]
            function = functools.partial(f, self)
            functools.update_wrapper(wrapper=function, wrapped=f, assigned=("__doc__",))
            return function
        raise AttributeError(f"'{self.__class__.__name__}' object has no attribute "
                             f"'{attribute_name}")

    @classmethod
    def register_function(cls, function_name, function) -> None:
        cls.functions[function_name] = function

    @classmethod
    def register_datapipe_as_function(cls, function_name, cls_to_register) -> None:
        if function_name in cls.functions:
            raise Exception(f"Unable to add DataPipe function name {function_name} as it is "
                            f"already taken")

        def class_function(source_dp, *args, **kwargs):
            return cls_to_register(source_dp, *args, **kwargs)
        functools.update_wrapper(wrapper=class_function, wrapped=cls_to_register,
                                 assigned=("__doc__",))
        cls.functions[function_name] = class_function

    def __iter__(self):
        i = 0
        while True:
            try:
                yield self[i]
            except IndexError:
                return
            i += 1

    def __repr__(self):
        return self.__class__.__qualname__

    def __str__(self):
        return self.__class__.__qualname__


class DataChunk(list):
    """A batch of a Batcher: a list that remembers its items."""

    def __init__(self, items):
        items = list(items)
        super().__init__(items)
        self.items = items

    def as_str(self, indent: str = "") -> str:
        return indent + "[" + ", ".join(str(i) for i in iter(self)) + "]"

    def raw_iterator(self):
        yield from self.items


class functional_datapipe:
    """@functional_datapipe("name") on an IterDataPipe / MapDataPipe class: dp.name(...)
    makes one over dp."""

    def __init__(self, name: str, enable_df_api_tracing=False) -> None:
        self.name = name
        self.enable_df_api_tracing = enable_df_api_tracing

    def __call__(self, cls):
        if issubclass(cls, IterDataPipe):
            IterDataPipe.register_datapipe_as_function(self.name, cls)
        elif issubclass(cls, MapDataPipe):
            MapDataPipe.register_datapipe_as_function(self.name, cls)
        else:
            raise TypeError("`functional_datapipe` can only decorate IterDataPipe or "
                            "MapDataPipe")
        return cls


