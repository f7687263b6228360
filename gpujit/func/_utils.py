"""torch.func.functionalize and torch.func.replace_all_batch_norm_modules_."""
from __future__ import annotations

import functools

__all__ = ["functionalize", "replace_all_batch_norm_modules_"]


def functionalize(func, *, remove="mutations"):
    """torch.func.functionalize(func): func with its mutations rewritten as out-of-place
    ops, for the graph capture that follows it in PyTorch (make_fx). Called eagerly,
    PyTorch's functionalized function gives func's results and applies func's mutations
    of its inputs back to them, which is what calling func does: gpujit returns func's
    call as it is (no graph capture to feed)."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(f"functionalize(f, remove='mutations'): received invalid argument "
                           f"for remove={remove}. Valid options are:\n"
                           f"     remove='mutations': all inplace and out= operators will be "
                           f"removed from the program, and replaced with their out-of-place "
                           f"equivalents.\n"
                           f"     remove='mutations_and_views': In addition to the above, all "
                           f"aliasing operators {{view}} will be replaced with their non-aliasing "
                           f"counterparts, {{view}}_copy.\n")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapped


def _without_running_stats(module):
    from ..nn.modules.batchnorm import _BatchNorm
    if isinstance(module, _BatchNorm) and module.track_running_stats:
        module.running_mean = None
        module.running_var = None
        module.num_batches_tracked = None
        module.track_running_stats = False


def replace_all_batch_norm_modules_(root):
    """In place: every BatchNorm module of root (root too) stops tracking running
    statistics (running_mean / running_var / num_batches_tracked None), so that vmap over
    it works, as torch.func's. Returns root."""
    _without_running_stats(root)
    for m in root.modules():
        _without_running_stats(m)
    return root
