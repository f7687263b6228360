"""torch.utils.data._utils: the modules programs import the collate functions and the
worker information from (`from torch.utils.data._utils.collate import default_convert`)."""
from . import collate, worker  # noqa: F401
