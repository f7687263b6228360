"""The user's frame: the innermost frame outside gpujit's own package, where warnings
about the user's calls point (the tracer's warnings, out= resizes)."""
from __future__ import annotations

import os
import sys
import warnings

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))
_DEMO = os.path.join(_PKG_DIR, "__main__.py")


# gpujit's counterparts of torch/__init__.py's Python functions that convert a tensor
# (torch._assert's `if not condition`): PyTorch's warning points at torch/__init__.py,
# shown once for every assert there (and not quieted by torch.jit's library filter, the
# module being "torch"); so gpujit's points at its own line there
_TOP_LEVEL_FILES = (os.path.join(_PKG_DIR, "_asserts.py"),)


# gpujit's copies of torch's Python code whose comparisons of traced sizes torch's trace
# records, as a user's are (F.batch_norm's `size_prods == 1`: an aten::eq, dead after, whose
# values take numbers), without the user's warning: their code objects
TRACED_COMPARISONS = set()


def records_comparisons(fn):
    """Mark fn as one of TRACED_COMPARISONS."""
    TRACED_COMPARISONS.add(fn.__code__)
    return fn


def user_frame(stop_at_top_level=False):
    """The innermost frame outside gpujit's own package (the user's code; the demo in
    gpujit/__main__.py counts as user code); or, when stop_at_top_level, a frame in one
    of _TOP_LEVEL_FILES if that comes first."""
    f = sys._getframe(1)
    while f is not None:
        fn = f.f_code.co_filename
        if fn == _DEMO or not (fn.startswith(_PKG_DIR) or fn.startswith(("<gpujit", "<frozen"))):
            return f
        if stop_at_top_level and fn in _TOP_LEVEL_FILES:
            return f
        f = f.f_back
    return None


# gpujit's counterparts of PyTorch's Python library (torch.nn, torch.optim,
# torch.distributions, torch.utils): torch.jit ignores TracerWarnings raised from those
# modules (TracerWarning.ignore_lib_warnings: module "torch.(?!jit)")
_LIBRARY_DIRS = tuple(os.path.join(_PKG_DIR, d) + os.sep
                      for d in ("nn", "optim", "distributions", "utils"))


def from_library():
    """Whether the innermost frame outside gpujit's plumbing (tensor methods, ops, the
    tracer, jit) is in gpujit's counterpart of PyTorch's Python library, whose tracer
    warnings PyTorch ignores (nn.TransformerEncoder's causal-mask check, bool(...) of a
    traced tensor, warns in no trace of torch's)."""
    f = sys._getframe(1)
    while f is not None:
        fn = f.f_code.co_filename
        if fn.startswith(_LIBRARY_DIRS):
            return True
        if fn == _DEMO or not (fn.startswith(_PKG_DIR) or fn.startswith(("<gpujit", "<frozen"))):
            return False
        f = f.f_back
    return False


# files of gpujit's library that stand for PyTorch's C++ (ATen's recurrent cells): no
# frame of theirs names a traced value, as no Python frame of torch's does there
_NATIVE_FILES = (os.path.join(_PKG_DIR, "nn", "_torch_rnn.py"),)


def calling_frame():
    """The innermost frame of the user's code or of gpujit's counterpart of PyTorch's
    Python library (nn, optim ...): the Python frame whose call reached gpujit's plumbing,
    as PyTorch's innermost Python frame is the one that called into C++ (its tracer names
    values after that frame's locals: F.normalize's `denom`)."""
    f = sys._getframe(1)
    while f is not None:
        fn = f.f_code.co_filename
        if fn.startswith(_LIBRARY_DIRS) and fn not in _NATIVE_FILES or fn == _DEMO or not (
                fn.startswith(_PKG_DIR) or fn.startswith(("<gpujit", "<frozen"))):
            return f
        f = f.f_back
    return None


def warn_at_user_frame(msg, category=UserWarning):
    """warnings.warn(msg, category) attributed to the user's line (or to the line of
    gpujit's counterpart of torch/__init__.py that converted a tensor, as PyTorch's)."""
    f = user_frame(stop_at_top_level=True)
    # (module as warnings.warn names it: "<string>" for code run by exec / eval under
    # globals with no __name__, whose warning warn_explicit(module=None) dropped)
    if f is None:
        warnings.warn(msg, category, stacklevel=2)
    else:
        warnings.warn_explicit(msg, category, f.f_code.co_filename, f.f_lineno,
                               module=f.f_globals.get("__name__", "<string>"),
                               registry=f.f_globals.setdefault("__warningregistry__", {}))


def warn_if_user_called(msg, frame, category=UserWarning):
    """warnings.warn(msg, category) attributed to `frame`, the caller of a gpujit function,
    when that is the user's code (as PyTorch's PyErr_WarnEx from C++ points at the Python
    line calling it); gpujit's own calls (its library, generated code) do not warn."""
    fn = frame.f_code.co_filename
    if fn != _DEMO and (fn.startswith(_PKG_DIR) or fn.startswith(("<gpujit", "<frozen"))):
        return
    warnings.warn_explicit(msg, category, fn, frame.f_lineno,
                           module=frame.f_globals.get("__name__", "<string>"),
                           registry=frame.f_globals.setdefault("__warningregistry__", {}))
