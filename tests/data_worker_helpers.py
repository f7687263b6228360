"""Datasets for tests/test_data_workers.py that worker processes started with 'spawn'
can import (a spawned worker unpickles the dataset by its module and class name)."""
import os
import random

import numpy as np

import gpujit
from gpujit.utils.data import Dataset, IterableDataset, get_worker_info


class SquaresDataset(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return gpujit.tensor([float(i * i)]), i


class InfoDataset(Dataset):
    """Sample i: what the worker that read it knows about itself and its RNGs."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = get_worker_info()
        return {"id": info.id, "num_workers": info.num_workers, "seed": info.seed,
                "same_ds": info.dataset is self,
                "pid": os.getpid(), "py": random.random(), "np": float(np.random.rand()),
                "gj": gpujit.rand(()).item(), "i": i}


class RangeIterable(IterableDataset):
    """range(n), unsharded: each worker yields all of it (as in torch)."""

    def __init__(self, n, shard=False):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = get_worker_info()
        if not self.shard or info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class FailingDataset(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 3:
            raise ValueError(f"cannot read sample {i}")
        if i == 4:
            raise KeyError("missing")
        return i


class KillingDataset(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 2:
            os.kill(os.getpid(), 9)
        return i


class SlowDataset(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        import time
        time.sleep(3.0)
        return i


class PidDataset(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        return os.getpid()


def record_init(worker_id):
    info = get_worker_info()
    info.dataset.init_id = worker_id


class InitDataset(Dataset):
    init_id = None

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return self.init_id


def failing_init(worker_id):
    raise RuntimeError(f"init of worker {worker_id} failed")


class CudaSquares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return gpujit.tensor(float(i * i), device="cuda")
