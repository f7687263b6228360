"""torch.nn.LinearCrossEntropyOptions: how F.linear_cross_entropy's chunked path splits the
batch (batch_chunk_size, or chunking_method "aspect_ratio[:N]": each chunk's logits about
as big as the input, divided by N; "auto": "aspect_ratio:2" as PyTorch's pick for float32
and CPU float16 inputs resolve to "aspect_ratio"), the accumulation dtype (acc_dtype; None:
float32 for float16 inputs, else the input's) and whether a second backward is allowed
(allow_retain_graph). acc_policy is checked and kept (gpujit's chunked path has one
accumulation scheme: every intermediate in acc_dtype)."""
from __future__ import annotations

import dataclasses

import gpujit

__all__ = ["LinearCrossEntropyOptions"]

_AUTO_CHUNKING = {("cpu", "float16"): "aspect_ratio"}
_AUTO_FALLBACK = "aspect_ratio:2"


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """Configuration of F.linear_cross_entropy's chunked path (pass an instance as
    `options=` to opt in; None keeps the reference path)."""
    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None

    def __post_init__(self):
        if self.acc_policy not in {"auto", "accurate", "balanced", "compact"}:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            name, sep, factor = self.chunking_method.partition(":")
            if not sep:
                factor = "1"
            if not (name == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
                raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        if not (self.batch_chunk_size is None or (
                isinstance(self.batch_chunk_size, int) and self.batch_chunk_size > 0)):
            raise ValueError(f"batch_chunk_size must be positive int or None, got "
                             f"{self.batch_chunk_size!r}")
        if self.acc_dtype is not None and self.acc_dtype not in (
                gpujit.float16, gpujit.bfloat16, gpujit.float32, gpujit.float64):
            raise ValueError(
                f"acc_dtype must be one of {{None, torch.float16, torch.bfloat16, "
                f"torch.float32, torch.float64}}, got {self.acc_dtype!r}. Pass "
                "acc_dtype=None to let the op pick automatically.")

    @staticmethod
    def _ceil_div(a: int, b: int) -> int:
        return -(-a // b)

    def _chunk_rows(self, num_batches, in_features, num_classes, dtype, device):
        """The rows per chunk for this call (PyTorch's _adjust)."""
        method = self.chunking_method
        if method == "auto" and self.batch_chunk_size is not None:
            method = None
        if method == "auto":
            method = _AUTO_CHUNKING.get((device.type, dtype.name), _AUTO_FALLBACK)
        size = num_batches if self.batch_chunk_size is None else \
            min(self.batch_chunk_size, num_batches)
        if method is not None:
            factor = int(method.split(":", 1)[1]) if ":" in method else 1
            target = self._ceil_div(num_batches, self._ceil_div(num_classes, in_features))
            size = min((1 << (target - 1).bit_length()) // factor, num_batches)
            if self.batch_chunk_size is not None and self.batch_chunk_size != size:
                raise ValueError(
                    f"batch_chunk_size (={self.batch_chunk_size}) and chunking_method "
                    f"('{method}') give different chunk sizes ({self.batch_chunk_size} vs "
                    f"{size}); pass only one.")
        return max(1, size)

    def _acc(self, dtype):
        if self.acc_dtype is not None:
            return self.acc_dtype
        return gpujit.float32 if dtype is gpujit.float16 else dtype
