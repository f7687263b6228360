"""The script frontend: Python source -> typed graph (`compile_function`), with errors in
the user's terms (FrontendError)."""
from .errors import FrontendError
from .compiler import compile_function

__all__ = ["compile_function", "FrontendError"]
