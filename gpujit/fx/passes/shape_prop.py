"""torch.fx.passes.shape_prop: ShapeProp(gm).propagate(*args) runs gm node by node and
records each tensor result's TensorMetadata (shape, dtype, requires_grad, stride,
memory_format ...) in node.meta['tensor_meta'] and the result's type in meta['type']."""
from __future__ import annotations

import traceback
from typing import Any, NamedTuple

from ... import channels_last, channels_last_3d, contiguous_format, strided
from ...tensor import Tensor
from ..interpreter import Interpreter
from ..node import map_aggregate

__all__ = ["TensorMetadata", "ShapeProp"]


class TensorMetadata(NamedTuple):
    shape: Any
    dtype: Any
    requires_grad: bool
    stride: tuple
    memory_format: Any
    is_quantized: bool
    qparams: dict


def _memory_format(t):
    for fmt in (contiguous_format, channels_last, channels_last_3d):
        try:
            if t.is_contiguous(memory_format=fmt):
                return fmt
        except RuntimeError:        # (a format that does not fit t's rank)
            continue
    return None


def _extract_tensor_metadata(result, include_contiguity=True):
    sparse = result.layout != strided
    stride = result.stride() if not sparse else ()
    memory_format = _memory_format(result) if include_contiguity and not sparse else None
    return TensorMetadata(result.shape, result.dtype, result.requires_grad, stride,
                          memory_format, False, {})


class ShapeProp(Interpreter):
    def __init__(self, gm, fake_mode=None):
        super().__init__(gm)
        self.fake_module = None
        self.fake_mode = None
        self.real_module = self.module

    def run_node(self, n):
        try:
            result = super().run_node(n)
        except Exception as e:
            traceback.print_exc()
            raise RuntimeError(f"ShapeProp error for: node={n.format_node()} with "
                               f"meta={n.meta}") from e
        found = []

        def extract(obj):
            if isinstance(obj, Tensor):
                found.append(True)
                return _extract_tensor_metadata(obj)
            return obj
        meta = map_aggregate(result, extract)
        if found:
            n.meta["tensor_meta"] = meta
        n.meta["type"] = type(result)
        return result

    def propagate(self, *args):
        """Run the module on args, recording shapes; returns its result."""
        return super().run(*args)
