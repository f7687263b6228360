"""gpujit.nn: Module, Parameter, layers, losses and init."""
from . import functional  # noqa: F401
from .parameter import Parameter  # noqa: F401
