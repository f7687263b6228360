"""The user's frame: the innermost frame outside gpujit's own package, where warnings
about the user's calls point (the tracer's warnings, out= resizes)."""
from __future__ import annotations

import os
import sys
import warnings

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))
_DEMO = os.path.join(_PKG_DIR, "__main__.py")


def user_frame():
    """The innermost frame outside gpujit's own package (the user's code; the demo in
    gpujit/__main__.py counts as user code)."""
    f = sys._getframe(1)
    while f is not None:
        fn = f.f_code.co_filename
        if fn == _DEMO or not (fn.startswith(_PKG_DIR) or fn.startswith(("<gpujit", "<frozen"))):
            return f
        f = f.f_back
    return None


def warn_at_user_frame(msg, category=UserWarning):
    """warnings.warn(msg, category) attributed to the user's line."""
    f = user_frame()
    if f is None:
        warnings.warn(msg, category, stacklevel=2)
    else:
        warnings.warn_explicit(msg, category, f.f_code.co_filename, f.f_lineno,
                               module=f.f_globals.get("__name__"),
                               registry=f.f_globals.setdefault("__warningregistry__", {}))
