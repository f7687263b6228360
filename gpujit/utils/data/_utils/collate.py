"""torch.utils.data._utils.collate: gpujit.utils.data._collate under PyTorch's module path."""
from .._collate import *  # noqa: F401,F403
from .._collate import __all__  # noqa: F401
from .._collate import _np_str_obj_array_pattern as np_str_obj_array_pattern  # noqa: F401
