"""torch.utils.data.datapipes: IterDataPipe / MapDataPipe and the common DataPipes (iter,
map)."""
from . import datapipe, iter, map  # noqa: F401
from .datapipe import IterDataPipe, MapDataPipe, DataChunk, functional_datapipe  # noqa: F401

__all__ = ["datapipe", "iter", "map", "IterDataPipe", "MapDataPipe", "DataChunk",
           "functional_datapipe"]
