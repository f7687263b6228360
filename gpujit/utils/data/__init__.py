"""gpujit.utils.data: datasets, samplers and the DataLoader of torch.utils.data, loading
in the main process (num_workers=0) or in worker processes (num_workers > 0)."""
from .dataset import (Dataset, IterableDataset, TensorDataset, StackDataset,  # noqa: F401
                      ConcatDataset, ChainDataset, Subset, random_split)
from .sampler import (Sampler, SequentialSampler, RandomSampler,  # noqa: F401
                      SubsetRandomSampler, WeightedRandomSampler, BatchSampler)
from ._collate import default_collate, default_convert  # noqa: F401
from .dataloader import DataLoader, get_worker_info  # noqa: F401
from .distributed import DistributedSampler  # noqa: F401
from .datapipes.datapipe import (IterDataPipe, MapDataPipe, DataChunk,  # noqa: F401
                                 functional_datapipe)
from . import datapipes  # noqa: F401

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset",
           "ChainDataset", "Subset", "random_split", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
           "default_collate", "default_convert", "DataLoader", "get_worker_info",
           "DistributedSampler", "IterDataPipe", "MapDataPipe", "DataChunk",
           "functional_datapipe", "datapipes"]
