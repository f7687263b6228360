"""torch.testing._comparison: the comparison behind assert_close, as the names PyTorch users
import from it: assert_close, assert_allclose, default_tolerances, get_tolerances, ErrorMeta,
UnsupportedInputs and not_close_error_metas (the list of ErrorMeta a comparison finds:
empty when the inputs are close). gpujit has one comparison (gpujit/testing/__init__.py),
not PyTorch's Pair classes: not_close_error_metas accepts pair_types, sequence_types and
mapping_types for its signature's sake and compares as assert_close does."""
from __future__ import annotations

from . import (assert_close, assert_allclose, default_tolerances, ErrorMeta,  # noqa: F401
               _error_metas)

__all__ = ["assert_close", "assert_allclose", "default_tolerances", "get_tolerances",
           "ErrorMeta", "UnsupportedInputs", "not_close_error_metas"]


class UnsupportedInputs(Exception):
    """Raised by a comparison pair that cannot handle its inputs (PyTorch's name)."""


def get_tolerances(*inputs, rtol=None, atol=None, id=()):
    """(rtol, atol): the given pair, or the inputs' default tolerances when both are None;
    one without the other is an ErrorMeta(ValueError), as PyTorch's."""
    if (rtol is None) ^ (atol is None):
        raise ErrorMeta(ValueError,
                        f"Both 'rtol' and 'atol' must be either specified or omitted, but got "
                        f"no {'rtol' if rtol is None else 'atol'}.", id=id)
    if rtol is not None and atol is not None:
        return rtol, atol
    return default_tolerances(*inputs)


def not_close_error_metas(actual, expected, *, pair_types=None, sequence_types=None,
                          mapping_types=None, allow_subclasses=True, rtol=None, atol=None,
                          equal_nan=False, check_device=True, check_dtype=True,
                          check_layout=True, check_stride=False, **options):
    """The ErrorMeta of each mismatch between actual and expected (assert_close raises the
    first one's to_error(msg))."""
    if options:
        raise TypeError(f"not_close_error_metas() got an unexpected keyword argument "
                        f"'{next(iter(options))}'")
    return _error_metas(actual, expected, allow_subclasses, rtol, atol, equal_nan,
                        check_device, check_dtype, check_layout, check_stride)
