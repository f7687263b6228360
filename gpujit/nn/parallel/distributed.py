"""torch.nn.parallel.DistributedDataParallel over gpujit's one-rank process group.

With one rank, averaging gradients across ranks leaves them as they are, and broadcasting
rank 0's parameters and buffers changes nothing: DDP wraps the module ("module." state_dict
keys), runs its forward, and keeps PyTorch's checks: a process group must exist, the module
must have a parameter that requires grad, device_ids only for CUDA modules, and (without
find_unused_parameters=True) a parameter that got no gradient in a backward that reached
others is an error at the next forward, in PyTorch's words.
"""
from __future__ import annotations

import contextlib
import weakref

from ... import distributed as _dist
from ..module import Module

__all__ = ["DistributedDataParallel"]

_UNUSED = (
    "Expected to have finished reduction in the prior iteration before starting a new one. "
    "This error indicates that your module has parameters that were not used in producing "
    "loss. You can enable unused parameter detection by passing the keyword argument "
    "`find_unused_parameters=True` to `torch.nn.parallel.DistributedDataParallel`, and by \n"
    "making sure all `forward` function outputs participate in calculating loss. \n"
    "If you already have done the above, then the distributed data parallel module wasn't "
    "able to locate the output tensors in the return value of your module's `forward` "
    "function. Please include the loss function and the structure of the return value of "
    "`forward` of your module when reporting this issue (e.g. list, dict, iterable).\n"
    "Parameter indices which did not receive grad for rank {rank}: {indices}\n"
    " In addition, you can set the environment variable TORCH_DISTRIBUTED_DEBUG to either "
    "INFO or DETAIL to print out information about which particular parameters did not "
    "receive gradient on this rank as part of this error")


class DistributedDataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, init_sync=True, process_group=None,
                 bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **kwargs):
        super().__init__()
        group = _dist.GroupMember.WORLD if process_group is None else process_group
        if group is None:
            raise ValueError(_dist._NO_GROUP)
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        devices = {p.device for p in module.parameters()}
        if (device_ids or output_device is not None) and (
                len(devices) != 1 or next(iter(devices)).type != "cuda"):
            raise ValueError(
                f"DistributedDataParallel device_ids and output_device arguments only work "
                f"with single-device/multiple-device GPU modules or CPU modules, but got "
                f"device_ids {device_ids}, output_device {output_device}, and module "
                f"parameters {devices}.")
        self.module = module
        self.process_group = group
        self.device_ids = ([d.index if hasattr(d, "index") else int(d) for d in device_ids]
                           if device_ids else None)
        self.output_device = (None if self.device_ids is None else
                              self.device_ids[0] if output_device is None else output_device)
        self.dim = dim
        self.broadcast_buffers = True if broadcast_buffers is None else broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        # the reducer's bookkeeping: indices of the parameters (that require grad, in
        # module.parameters() order) whose gradient arrived since the last forward
        self._params_index = {id(p): i for i, p in enumerate(params)}
        self._n_params = len(params)
        self._ready = None          # None: no reduction expected
        me = weakref.ref(self)
        for p in params:
            p.register_post_accumulate_grad_hook(
                lambda t, me=me: (lambda d: d is not None and d._mark_ready(t))(me()))

    def _mark_ready(self, param):
        if self._ready is not None:
            self._ready.add(self._params_index[id(param)])
            if len(self._ready) == self._n_params:
                self._ready = None

    def forward(self, *inputs, **kwargs):
        from ... import is_grad_enabled
        syncing = is_grad_enabled() and self.require_backward_grad_sync and self.training
        if syncing and self._ready and not self.find_unused_parameters:
            missing = [i for i in range(self._n_params) if i not in self._ready]
            self._ready = None
            raise RuntimeError(_UNUSED.format(rank=_dist.get_rank(self.process_group),
                                              indices=" ".join(map(str, missing))))
        self._ready = set() if syncing and not self.find_unused_parameters else None
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Gradients accumulate without being synchronized (over one rank, nothing to do)."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def will_sync_module_buffers(self):
        return (self.require_forward_param_sync and self.broadcast_buffers
                and len(list(self.module.buffers())) > 0)
