from . import scipy  # noqa: F401
