"""torch.nn._reduction: the loss functions' `reduction` strings and ATen's int enum of them
(0 none, 1 mean, 2 sum), with torch's deprecated size_average / reduce folded in. Scripted
losses call these as torch's do (`__torch__.torch.nn._reduction.get_enum`), so the body is
torch 2.13's source."""
import warnings
from typing import Optional

__all__ = ["get_enum", "legacy_get_string", "legacy_get_enum"]


def _from_source(fn):
    fn.__gpujit_script_source__ = True      # (scripted code compiles its source)
    return fn


@_from_source
def get_enum(reduction: str) -> int:
    if reduction == "none":
        ret = 0
    elif reduction == "mean":
        ret = 1
    elif reduction == "elementwise_mean":
        warnings.warn(
            "reduction='elementwise_mean' is deprecated. "
            "Please use reduction='mean' instead.",
            stacklevel=2,
        )
        ret = 1
    elif reduction == "sum":
        ret = 2
    else:
        ret = -1  # (torch's: its compiler once needed a value on every path)
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return ret


@_from_source
def legacy_get_string(size_average: Optional[bool], reduce: Optional[bool],
                      emit_warning: bool = True) -> str:
    warning = "size_average and reduce args will be deprecated, please use reduction='{}' instead."

    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True

    if size_average and reduce:
        ret = "mean"
    elif reduce:
        ret = "sum"
    else:
        ret = "none"
    if emit_warning:
        warnings.warn(warning.format(ret), stacklevel=2)
    return ret


@_from_source
def legacy_get_enum(size_average: Optional[bool], reduce: Optional[bool],
                    emit_warning: bool = True) -> int:
    return get_enum(legacy_get_string(size_average, reduce, emit_warning))
