"""Optimizer: PyTorch's base class (parameter groups, per-parameter state, state_dict) and the
elementwise driver that SGD, Adam, AdamW and RMSprop share.

Optimizers update parameters on the raw arrays (`p._data`, `p.grad._data`), never through
the op registry, so that a step records no autograd; each updated parameter's version
counter is bumped once per step, as an in-place op would.

The driver keeps one group's per-parameter state flat: for every (device, dtype) of the
group, each state key ('exp_avg', 'momentum_buffer'...) is one contiguous array, and
`optimizer.state[p][key]` is a Tensor viewing this parameter's slice of it. Small
parameters are laid out first, so that their state is one contiguous prefix: a step then
gathers their grads and values into flat scratch arrays, runs the update formula once over
the prefix (a handful of array operations for the whole group, instead of a handful per
parameter) and copies the new values back. Large parameters, and steps where the prefix is
not uniform (some grads missing, different step counts), run the same formula per
parameter on the views; `foreach=False` forces that loop. Both paths do the same
arithmetic in the same order, so they give identical results.
"""
from __future__ import annotations

import contextlib
import copy
import warnings
from collections import defaultdict
from itertools import chain
from typing import Any, Iterable, Union

import numpy as np

from .. import dtypes as _dt
from ..ops.registry import InferenceVersion as _InferenceVersion
from ..device import cpu as _cpu, xp_for
from ..ops.registry import wrap as _wrap
from ..tensor import Tensor
from ._flags import CAPTURABLE_DEVICES, check_group_flags
from ._hooks import (OptimizerHooks, register_optimizer_step_post_hook,
                     register_optimizer_step_pre_hook)

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]

# torch.optim.optimizer.ParamsT: what an optimizer's `params` may be (annotations of
# user optimizers: `def __init__(self, params: ParamsT, lr=1e-3)`)
ParamsT = Union[Iterable[Tensor], Iterable[dict[str, Any]], Iterable[tuple[str, Tensor]]]


# Parameters with at most this many elements are updated through the flat buffers; larger
# ones gain nothing from it (their per-op launch cost is already amortized) and would pay
# for the gather and scatter copies.
FLAT_MAX_NUMEL = 1 << 16


class _RequiredParameter:
    """Singleton marking a hyper-parameter every parameter group must give (torch's
    `torch.optim.optimizer.required`)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _typename(obj):
    if isinstance(obj, Tensor):
        return obj.type()
    cls = obj if isinstance(obj, type) else type(obj)
    module = cls.__module__
    return cls.__qualname__ if module in ("", "builtins") else f"{module}.{cls.__qualname__}"


def _array_on(a, dev):
    """Array `a` (NumPy or CuPy, any device) as an array on `dev`."""
    if dev is _cpu:
        return a if isinstance(a, np.ndarray) else a.get()
    cp = xp_for(dev)
    with cp.cuda.Device(dev.index):
        return cp.asarray(a)


def _on_device(dev):
    """Makes `dev` current while CuPy allocates and computes (a no-op on the CPU)."""
    if dev is _cpu:
        return contextlib.nullcontext()
    return xp_for(dev).cuda.Device(dev.index)


def _copy_tensor(t, dtype=None, dev=None):
    """A Tensor holding a copy of t's values, converted to dtype/device when given (a
    sparse one's parts: SGD's momentum buffer of sparse gradients)."""
    dtype = t._dtype if dtype is None else dtype
    dev = t._device if dev is None else dev
    try:
        a = _array_on(t._data, dev)
    except NotImplementedError:
        return t.detach().to(dtype=dtype, device=dev, copy=True)
    with _on_device(dev):
        a = a.astype(dtype.np, copy=True)
    return _wrap(a, dtype, dev)


def _to(t, dtype=None, dev=None):
    """t as dtype / device as torch's t.to(dtype, device): t itself where it already is."""
    if (dtype is None or t._dtype is dtype) and (dev is None or t._device == dev):
        return t
    return _copy_tensor(t, dtype, dev)


def scalar_dtype():
    """The dtype of the per-parameter scalars of the state ('step'...): float64 under a
    float64 default dtype, else float32 (torch's _get_scalar_dtype)."""
    return _dt.float64 if _dt.get_default_dtype() is _dt.float64 else _dt.float32


class Optimizer(OptimizerHooks):
    """Base class of all optimizers, as torch.optim.Optimizer.

    params: an iterable of Tensors, or of dicts (parameter groups: {'params': [...],
    'lr': ..., ...}, where a group's own options override `defaults`).
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._init_hooks()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        self._stores = {}
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ------------------------------------------------------------------ pickling
    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._init_hooks()
        self._stores = {}           # flat storage is rebuilt from `state` at the next step
        for group in self.param_groups:
            for name, default in self.defaults.items():
                if default is not required:
                    group.setdefault(name, default)

    def __repr__(self):
        format_string = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            format_string += "\n"
            format_string += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    format_string += f"    {key}: {group[key]}\n"
        format_string += ")"
        return format_string

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group):
        """Add a parameter group (a dict with 'params' and optional per-group options)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group["params"] = list(params)

        # named parameters ((name, tensor) pairs, e.g. model.named_parameters()): the names
        # go to the group's 'param_names'
        names = [p[0] for p in param_group["params"] if isinstance(p, tuple)]
        param_group["params"] = [p[1] if isinstance(p, tuple) else p
                                 for p in param_group["params"]]
        if names:
            if len(names) != len(param_group["params"]):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names

        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not self.defaults.get("differentiable", None) and not (
                    param.is_leaf or getattr(param, "retains_grad", False)):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)

        params = param_group["params"]
        if len(params) != len({id(p) for p in params}):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ grads
    def zero_grad(self, set_to_none=True):
        """Reset the grads of all parameters: to None (the default), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if g.grad_fn is not None:
                    g.detach_()
                elif g.requires_grad:
                    g.requires_grad_(False)
                try:
                    g._data.fill(0)
                except NotImplementedError:     # (a sparse .grad: no entries left)
                    g.zero_()
                    continue
                g._vc[0] += 1

    def step(self, closure=None):
        """One optimization step; subclasses define it (the base class has no update:
        torch's raises a bare NotImplementedError, which subclasses' super().step() and
        abstract-method checks rely on)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ state_dict
    def state_dict(self):
        """{'state': {index: {key: value}}, 'param_groups': [{..., 'params': [indices]}]}:
        parameters are replaced by their position over all groups. As torch's, each
        parameter's state is the optimizer's own dict, its Tensors the live state (later
        steps show in it: a snapshot is copy.deepcopy(opt.state_dict()) or torch.save)."""
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        param_mappings = {}
        start_index = 0

        def pack_group(group):
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            param_mappings.update({id(p): i for i, p in enumerate(group["params"], start_index)
                                   if id(p) not in param_mappings})
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {}
        for k, v in self.state.items():
            key = param_mappings[id(k)] if isinstance(k, Tensor) else k
            packed_state[key] = v
        state_dict = {"state": packed_state, "param_groups": param_groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict):
        """Load a state_dict() of an optimizer over parameters of the same group sizes.
        State Tensors are cast to their parameter's dtype and device ('step' stays as
        saved); one already of them is taken as it is, as torch's Tensor.to: the loading
        optimizer shares it with the state dict (opt2.load_state_dict(opt.state_dict()):
        opt2.state[q]['exp_avg'] is opt.state[p]['exp_avg'] until a step of opt2 moves it
        into its own flat storage)."""
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        # the saved groups' fused / capturable flags: their 'step' goes to the parameter's
        # device as float32 (torch's _process_value_according_to_param_policy reads the
        # loaded state dict's groups, not this optimizer's)
        on_device = {p for g in saved_groups if g.get("fused") or g.get("capturable")
                     for p in g["params"]}

        def cast(param, key, value, pid=None):
            if isinstance(value, Tensor):
                if key == "step":
                    if pid in on_device:
                        return _to(value, _dt.float32, param._device)
                    return value
                if param.is_floating_point():
                    return _to(value, param._dtype, param._device)
                return _to(value, dev=param._device)
            if isinstance(value, dict):
                return {k: cast(param, k, v, pid) for k, v in value.items()}
            return copy.deepcopy(value)

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, None, v, k)
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)


# ---------------------------------------------------------------------------------------
# the elementwise driver


class _Bucket:
    """One group's parameters of one (device, dtype), with their state stored flat."""

    def __init__(self, opt, params, keys, scalar_keys, fills, device_keys=()):
        p0 = params[0]
        self.device, self.dtype = p0._device, p0._dtype
        self.xp = xp = xp_for(self.device)
        small = [p for p in params if p._data.size <= FLAT_MAX_NUMEL]
        self.n_flat = len(small) if len(small) >= 2 else 0
        order = small + [p for p in params if p._data.size > FLAT_MAX_NUMEL] \
            if self.n_flat else list(params)
        self.params = order
        self.shapes = [p._data.shape for p in order]
        sizes = [p._data.size for p in order]
        self.offsets = offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).tolist()
        self.flat_numel = offsets[self.n_flat]
        self.keys = keys
        npdt, dt, dev = self.dtype.np, self.dtype, self.device
        with _on_device(dev):
            self.arrays = {k: xp.zeros(offsets[-1], dtype=npdt) for k in keys}
            self.views = {k: [_wrap(a[offsets[i]:offsets[i + 1]].reshape(self.shapes[i]), dt, dev)
                              for i in range(len(order))] for k, a in self.arrays.items()}
            self.flat_state = {k: a[:self.flat_numel] for k, a in self.arrays.items()}
            if self.n_flat:
                self.gbuf = xp.empty(self.flat_numel, dtype=npdt)
                self.pbuf = xp.empty(self.flat_numel, dtype=npdt)
                self.tbuf = xp.empty(self.flat_numel, dtype=npdt)
        # 'step' (and an optimizer's other per-parameter scalars: NAdam's 'mu_product', ASGD's
        # 'eta' and 'mu') stay CPU tensors per parameter, as in torch (bias corrections are
        # computed on the host)
        self.fills = fills
        self.scalar_keys = scalar_keys
        sdt = scalar_dtype()
        self.scalars = {k: np.zeros(len(order), dtype=sdt.np) for k in scalar_keys}
        self.scalar_views = {k: [_wrap(a[i:i + 1].reshape(()), sdt, _cpu)
                                 for i in range(len(order))] for k, a in self.scalars.items()}
        # the scalars torch hosts on the parameters' device (fused=True / capturable=True:
        # Adam's 'step', NAdam's 'mu_product', ASGD's always): the state holds device
        # tensors, copied from the host arrays after each step (sync_scalars)
        self.dev_scalars = {}
        if dev is not _cpu:
            with _on_device(dev):
                for k in device_keys:
                    if k in self.scalars:
                        a = self.dev_scalars[k] = xp.asarray(self.scalars[k])
                        self.scalar_views[k] = [_wrap(a[i:i + 1].reshape(()), sdt, dev)
                                                for i in range(len(order))]
        self.steps = self.scalars.get("step")
        self.step_views = self.scalar_views.get("step")
        self.dicts, self.init = [], []
        for i, p in enumerate(order):
            d = opt.state.get(p)
            done = d is not None and d.get(opt._init_key) is not None
            if done:
                self._adopt(d, i)
            self.dicts.append(d)
            self.init.append(done)

    def _adopt(self, d, i):
        """Move parameter i's existing state (e.g. loaded from a state_dict) into the flat
        arrays and replace it by views."""
        for k in self.keys:
            old = d.get(k)
            view = self.views[k][i]
            if old is not None and old is not view:
                src = old._data if isinstance(old, Tensor) else old
                with _on_device(self.device):
                    self.xp.copyto(view._data, _array_on(src, self.device).reshape(self.shapes[i]))
            d[k] = view
        for k, views in self.scalar_views.items():
            old = d.get(k, self.fills.get(k, 0))
            if old is not views[i]:
                self.scalars[k][i] = float(old)
            d[k] = views[i]

    def is_current(self, state, params_ok):
        """Whether the flat storage still holds every parameter's state (nobody replaced a
        state dict or a state tensor, and no parameter changed dtype, device or shape)."""
        if not params_ok:
            return False
        for i, p in enumerate(self.params):
            d = state.get(p)
            if (d is not self.dicts[i] or p._dtype is not self.dtype
                    or p._device is not self.device or p._data.shape != self.shapes[i]):
                return False
            if self.init[i]:
                for k, vs in self.views.items():
                    if d.get(k) is not vs[i]:
                        return False
                for k, vs in self.scalar_views.items():
                    if d.get(k) is not vs[i]:
                        return False
        return True

    def initialize(self, opt, i):
        """Create parameter i's state: the optimizer's initial values (`self.fills`, zeros
        by default) and step 0 (nothing for a stateless update, so that `optimizer.state`
        stays empty as in torch)."""
        self.init[i] = True
        if not self.keys and not self.scalar_keys:
            return
        p = self.params[i]
        d = opt.state[p]
        # (in torch's order: 'step' and the other scalars first, as its _init_group)
        for k, views in self.scalar_views.items():
            self.scalars[k][i] = self.fills.get(k, 0)
            d[k] = views[i]
        cplx = self.dtype.cplx
        for k in self.keys:
            vs = self.views[k][i]
            v = self.fills.get(k, 0)
            # a complex parameter steps as two real numbers: torch fills both parts
            # (Rprop's step_size, Adagrad's sum: full_like(p, complex(v, v)))
            vs._data.fill(complex(v, v) if cplx else v)
            if v and self.dtype is _dt.bfloat16:    # (full_like(p, v): a bfloat16 number)
                _round_bf16_arrays(vs._data)
            d[k] = vs
        self.dicts[i] = d

    def sync_scalars(self):
        """Copy the host scalars to their device tensors (dev_scalars)."""
        with _on_device(self.device):
            for k, a in self.dev_scalars.items():
                a[...] = self.xp.asarray(self.scalars[k])

    def state_arrays(self, i):
        s = {k: vs[i]._data for k, vs in self.views.items()}
        s.update((k, a[i:i + 1]) for k, a in self.scalars.items() if k != "step")
        return s


class _ElementwiseOptimizer(Optimizer):
    """An optimizer whose update is elementwise over (param, grad, state arrays).

    Subclasses give:
      _state_keys(group) -> the names of the per-parameter state arrays,
      _init_key -> the state entry whose presence means "initialized",
      _with_step -> whether state holds a 'step' count,
      _scalar_keys -> other per-parameter scalars of the state (torch keeps them as 0-dim
        CPU tensors of scalar_dtype()), given to _update as 1-element host arrays in s,
      _fills(group) -> initial values of state entries that do not start at 0,
      _hyper(group) -> the group's hyper-parameters, read once per step,
      _update(xp, p, g, own_g, s, tmp, h, step, fresh) -> updates p and the arrays of s in
        place; g may be overwritten only when own_g; tmp is scratch of p's shape; fresh is
        True on the parameter's first step.
    """
    _init_key = "step"
    _with_step = True
    _scalar_keys = ()
    _capturable_what = "params and state_steps"
    _capturable_what_foreach = None
    _capturable_devices_foreach = None
    _capturable_devices = CAPTURABLE_DEVICES
    _foreach_differentiable = False

    def _fills(self, group):
        return {}

    def step(self, closure=None):
        """Perform one optimization step; `closure` re-evaluates the model and returns the
        loss, which step returns."""
        loss = None
        if closure is not None:
            loss = closure()
        for gi, group in enumerate(self.param_groups):
            if not group["params"]:
                continue
            if group.get("fused") or group.get("capturable") or group.get("differentiable"):
                what, devices = self._capturable_what, self._capturable_devices
                if group.get("foreach"):      # torch's foreach path words it its own way
                    what = self._capturable_what_foreach or what
                    devices = self._capturable_devices_foreach or devices
                check_group_flags(group, [p for p in group["params"] if p.grad is not None],
                                  what, devices, self._foreach_differentiable)
            h = self._hyper(group)
            loop = group.get("foreach") is False
            fills = self._fills(group)
            for b in self._buckets(gi, group):
                b.fills = fills
                b.fused = group.get("fused")
                with _on_device(b.device):
                    self._step_bucket(b, h, loop)
                if b.dev_scalars:
                    b.sync_scalars()
            for p in self._stores[gi][3]:
                if p.grad is not None:
                    if p._device.type == "meta":
                        self._step_meta(p, gi)
                    else:
                        self._step_outside(p, h)
        return loss

    def _step_meta(self, p, gi):
        """A step of a meta parameter (no data: torch's in-place updates change nothing
        but the version): its state made as torch makes it (meta tensors like p, 'step'
        and the other scalars CPU tensors of scalar_dtype()), the step counted."""
        import gpujit
        st = self.state[p]
        keys = self._stores[gi][1]
        if self._with_step:
            for k in ("step",) + tuple(self._scalar_keys):
                if k not in st:
                    st[k] = gpujit.zeros((), dtype=scalar_dtype())
            st["step"] = st["step"] + 1
        for k in keys:
            if k not in st:
                st[k] = gpujit.zeros_like(p, memory_format=gpujit.preserve_format)
        p._vc[0] += 1

    # An optimizer whose state may hold a sparse tensor (SGD's momentum buffer of sparse
    # gradients, as PyTorch's) steps those parameters outside the flat buckets with
    # _step_outside(p, hyper); None: every parameter's state is dense.
    _step_outside = None

    def _outside(self, p):
        st = self.state.get(p) if self._step_outside is not None else None
        return bool(st) and any(getattr(v, "is_sparse", False) for v in st.values())

    def _device_scalar_keys(self, group):
        """The state scalars torch keeps on the parameter's device for this group (its
        _init_group: 'step' and the other scalars where capturable=True)."""
        if group.get("capturable"):
            return ("step",) + self._scalar_keys
        return ()

    def _buckets(self, gi, group):
        params = group["params"]
        ids = tuple(map(id, params))
        keys = self._state_keys(group)
        cached = self._stores.get(gi)
        if cached is not None:
            c_ids, c_keys, buckets, _ = cached
            same = c_ids == ids and c_keys == keys
            if all(b.is_current(self.state, same) for b in buckets):
                return buckets
        by_kind, outside = {}, []
        for p in params:
            if p.is_sparse:
                raise RuntimeError(f"{type(self).__name__}: gpujit's optimizers step dense "
                                   f"parameters only (their flat buffers hold each "
                                   f"parameter's elements); a sparse parameter is not "
                                   f"supported: keep the parameter dense")
            if self._outside(p) or p._device.type == "meta":   # (meta: _step_meta)
                outside.append(p)
                continue
            by_kind.setdefault((p._device, p._dtype), []).append(p)
        scalar_keys = ("step",) + self._scalar_keys if self._with_step else ()
        fills = self._fills(group)
        dkeys = self._device_scalar_keys(group) if scalar_keys else ()
        buckets = [_Bucket(self, ps, keys, scalar_keys, fills, dkeys)
                   for ps in by_kind.values()]
        self._stores[gi] = (ids, keys, buckets, outside)
        return buckets

    _fused_sparse_refusal = None    # (PyTorch's words where fused=True meets a sparse gradient)

    def _sparse_refusal(self):
        """PyTorch's error for a sparse gradient (embedding(sparse=True)) where the
        optimizer has no sparse update (its _step_sparse)."""
        return RuntimeError(f"{type(self).__name__} does not support sparse gradients")

    def _step_sparse(self, b, i, g, h):
        raise self._sparse_refusal()

    def _step_bucket(self, b, h, loop):
        grads = [p.grad for p in b.params]
        sparse = None
        for i, (p, g) in enumerate(zip(b.params, grads)):
            if g is None:
                continue
            try:
                gs = g._data.shape
            except NotImplementedError:
                # a sparse gradient: refused before any update, as PyTorch's _init_group,
                # or stepped by the optimizer's own sparse update
                if type(self)._step_sparse is _ElementwiseOptimizer._step_sparse:
                    raise self._sparse_refusal() from None
                if b.fused and self._fused_sparse_refusal:
                    raise RuntimeError(self._fused_sparse_refusal) from None
                sparse = (sparse or []) + [i]
                grads[i] = None
                continue
            if gs != p._data.shape:
                raise RuntimeError(f"a parameter's grad has shape {tuple(g._data.shape)} but "
                                   f"the parameter has shape {tuple(p._data.shape)}")
        for i in sparse or ():
            self._step_sparse(b, i, b.params[i].grad, h)
        start = 0
        nf = b.n_flat
        if nf and not loop and self._flat_ready(b, grads, nf):
            self._step_flat(b, grads, h)
            start = nf
        for i in range(start, len(b.params)):
            if grads[i] is not None:
                self._step_one(b, i, grads[i], h)

    def _flat_ready(self, b, grads, nf):
        """The flat path needs every small parameter to have a grad, all of them new or all
        of them initialized, and equal step counts."""
        if any(g is None for g in grads[:nf]):
            return False
        init = b.init[:nf]
        if all(init):
            return all(bool(a[:nf].min() == a[:nf].max()) for a in b.scalars.values())
        return not any(init)

    def _step_flat(self, b, grads, h):
        xp, nf = b.xp, b.n_flat
        params = b.params[:nf]
        fresh = not b.init[0]
        if fresh:
            for i in range(nf):
                b.initialize(self, i)
        step = None
        if b.steps is not None:
            b.steps[:nf] += 1
            step = float(b.steps[0])
        xp.concatenate([g._data.reshape(-1) for g in grads[:nf]], out=b.gbuf)
        xp.concatenate([p._data.reshape(-1) for p in params], out=b.pbuf)
        state = dict(b.flat_state)
        state.update((k, a[:nf]) for k, a in b.scalars.items() if k != "step")
        if b.dtype.cplx:
            state = {k: _real_view(xp, a) for k, a in state.items()}
            self._update(xp, _real_view(xp, b.pbuf), _real_view(xp, b.gbuf), True, state,
                         _real_view(xp, b.tbuf), h, step, fresh)
        elif b.dtype in _REDUCED:
            self._step_reduced(b, b.pbuf, b.gbuf, state, b.flat_state, h, step, fresh)
        else:
            self._update(xp, b.pbuf, b.gbuf, True, state, b.tbuf, h, step, fresh)
        off, pbuf = b.offsets, b.pbuf
        for i, p in enumerate(params):
            xp.copyto(p._data, pbuf[off[i]:off[i + 1]].reshape(b.shapes[i]))
            _bump(p)

    def _step_one(self, b, i, g, h):
        xp = b.xp
        fresh = not b.init[i]
        if fresh:
            b.initialize(self, i)
        step = None
        if b.steps is not None:
            b.steps[i] += 1
            step = float(b.steps[i])
        p = b.params[i]
        tmp = xp.empty(b.shapes[i], dtype=b.dtype.np)
        if b.dtype.cplx:
            pa = p._data if p._data.flags.c_contiguous else xp.ascontiguousarray(p._data)
            self._update(xp, _real_view(xp, pa), _real_view(xp, xp.ascontiguousarray(g._data)),
                         False, {k: _real_view(xp, a) for k, a in b.state_arrays(i).items()},
                         _real_view(xp, tmp), h, step, fresh)
            if pa is not p._data:
                xp.copyto(p._data, pa)
        elif b.dtype in _REDUCED:
            self._step_reduced(b, p._data, g._data, b.state_arrays(i),
                               {k: vs[i]._data for k, vs in b.views.items()}, h, step, fresh)
        else:
            self._update(xp, p._data, g._data, False, b.state_arrays(i), tmp, h, step, fresh)
        _bump(p)

    # the update of bfloat16 / float16 parameters in Tensor ops, as torch's single-tensor
    # one: each in-place op computes in float32 (ATen's opmath) and rounds, its scalars cast
    # as ATen's kernels cast them. _update_reduced(p, g, s, h, step, fresh), s holding
    # Tensors of the parameter's dtype; None: _update's arithmetic on the arrays (float16:
    # NumPy's, rounding each ufunc; bfloat16: float32, rounded once at the end)
    _update_reduced = None

    def _step_reduced(self, b, pa, ga, state, arrays, h, step, fresh):
        """Step a bfloat16 or float16 bucket's arrays (a bfloat16 one's float32 carriers
        must stay bfloat16-exact: ops/bfloat16_support.py)."""
        xp = b.xp
        if b.fused and b.dtype is _dt.float16:
            # fused=True: float32 opmath, the results rounded once, as torch's fused kernels
            p32, st = pa.astype(np.float32), dict(state)
            st.update((k, a.astype(np.float32)) for k, a in arrays.items())
            self._update(xp, p32, ga.astype(np.float32), True, st, xp.empty_like(p32), h,
                         step, fresh)
            pa[...] = p32
            for k, a in arrays.items():
                a[...] = st[k]
            return
        if self._update_reduced is None or b.fused:
            self._update(xp, pa, ga.copy(), True, state, xp.empty_like(pa), h, step, fresh)
            if b.dtype is _dt.bfloat16:
                _round_bf16_arrays(pa, *arrays.values())
            return
        from ..autograd import no_grad
        dt, dev = b.dtype, b.device
        s = dict(state)
        s.update((k, _wrap(a, dt, dev)) for k, a in arrays.items())
        with no_grad():
            self._update_reduced(_wrap(pa, dt, dev), _wrap(ga, dt, dev), s, h, step, fresh)


def lr_value(lr):
    """A group's learning rate as the update formulas take it: a Python float, or, where it
    is a Tensor, a NumPy scalar of its dtype. torch's optimizers keep a Tensor lr a 0-dim
    tensor (optimizer._to_scalar), so their Python arithmetic on it (lr / bias_correction,
    1 - lr * weight_decay, lr * mu ...) rounds to its dtype (float32) at each step; a NumPy
    scalar's arithmetic with Python numbers rounds alike."""
    if isinstance(lr, Tensor):
        np_type = getattr(lr._dtype, "np", None)
        v = float(lr)
        return np_type.type(v) if np_type is not None and np_type.kind == "f" else v
    return float(lr)


def multi_tensor(group):
    """Whether PyTorch steps this group with its multi-tensor (_foreach) implementation,
    whose order of operations differs from the single-tensor one for some optimizers
    (ASGD, NAdam, RAdam): foreach=True, or foreach=None with every parameter on CUDA
    (torch's _default_to_fused_or_foreach; differentiable=True keeps the single-tensor
    one)."""
    foreach = group.get("foreach")
    if foreach is None:
        return not group.get("differentiable") and bool(group["params"]) and all(
            p.device.type == "cuda" for p in group["params"])
    return bool(foreach)


def _real_view(xp, a):
    """A complex array as the real array of its (real, imaginary) pairs, sharing memory:
    PyTorch's optimizers step a complex parameter, its gradient and its state through
    view_as_real (Adam's second moments are per part, not g * g of complex numbers)."""
    if a.dtype.kind != "c":
        return a
    if a.ndim == 0:
        a = a[None]
    return a.view(a.real.dtype)


_REDUCED = (_dt.bfloat16, _dt.float16)


def _round_bf16_arrays(*arrays):
    """Round a bfloat16 bucket's parameter and state arrays to bfloat16 after a float32
    update (torch's bfloat16 parameters and buffers are stored rounded; its single-tensor
    ops round after each in-place op, which _update_reduced follows where an optimizer has
    one). The host scalars ('step', NAdam's mu_product: float32 in torch) are not passed."""
    from ..ops.bfloat16_support import round_in_place
    for a in arrays:
        round_in_place(a)


def _bump(p):
    """A parameter's version bump after its update: an inference tensor (a module made in
    torch.inference_mode) refuses it outside the mode, as PyTorch's in-place update does
    after its kernel wrote the parameter."""
    vc = p._vc
    if type(vc) is _InferenceVersion:
        from ..autograd import grad_mode
        if not grad_mode.state.inference:
            from ..autograd.inference import INPLACE_ERROR
            raise RuntimeError(INPLACE_ERROR)
    vc[0] += 1


def effective_grad(xp, p, g, own_g, tmp, maximize, weight_decay):
    """The gradient an update uses: negated when maximizing, plus weight_decay * p (L2).
    Written into g when the caller owns it (a flat scratch buffer), else into a copy;
    the update never writes to the gradient it returns."""
    if not own_g and (maximize or weight_decay != 0):
        g = g.copy()     # an array even when 0-dim (an out-of-place ufunc gives a scalar)
    if maximize:
        xp.negative(g, out=g)
    if weight_decay != 0:
        add_alpha_(xp, g, p, weight_decay, tmp)     # (grad.add(param, alpha=weight_decay))
    return g


def reduced_grad(p, g, maximize, weight_decay, lr=0.0, decoupled=False):
    """effective_grad's twin for the Tensor-op updates (_update_reduced): -g when
    maximizing, then L2's g + weight_decay * p, or the decoupled decay p *= 1 - lr * wd
    (AdamW's, NAdam's / RAdam's decoupled_weight_decay), as torch's single-tensor ones."""
    if maximize:
        g = -g
    if weight_decay != 0:
        if decoupled:
            p.mul_(1 - lr * weight_decay)
        else:
            g = g.add(p, alpha=weight_decay)
    return g


def add_alpha_(xp, a, b, alpha, tmp):
    """a += alpha * b as PyTorch's a.add_(b, alpha=alpha) computes it: one fused
    multiply-add for floating arrays (ops/pointwise._fma_alpha: the optimizers' single-
    tensor updates on the CPU, as their foreach ones on CUDA, are FMAs), else two steps
    through tmp. Returns a."""
    from ..ops.pointwise import _fma_alpha
    r = _fma_alpha(xp, a, b, alpha)
    if r is None:
        if tmp is None or tmp is a:
            a += xp.multiply(b, alpha)
        else:
            xp.multiply(b, alpha, out=tmp)
            a += tmp
    else:
        a[...] = r
    return a


def _muladd_(xp, coeff, x, base, out):
    """out = coeff * x + base rounded once, as ATen's compiled multiply-adds (addcmul,
    lerp): float32 through the exact float64 product (ops/fma.muladd32_via64, the eager
    ops' and fused kernels' value; numba's one pass for large arrays), float64 a true
    FMA. False (nothing written) for other dtypes."""
    from ..ops import fma as _fma
    if x.dtype == np.float32:
        _fma.muladd32_via64(coeff, x, base, xp, out=out)
        return True
    if x.dtype == np.float64:
        out[...] = _fma.fma64(coeff, x, base, xp)
        return True
    return False


def addcmul_(xp, a, t1, t2, value, tmp=None):
    """a.addcmul_(t1, t2, value=value) as ATen's kernel computes it (the eager op's value):
    (value * t1) * t2 + a, the last multiply-add rounded once. Returns a."""
    if xp is np:
        from ..ops.fma import update32_
        if update32_("addcmul", a, t1, t2, value):
            return a
    p = t1
    if value != 1:
        p = xp.multiply(t1, value, out=tmp if tmp is not None and tmp is not t2 else None)
    if not _muladd_(xp, p, t2, a, a):
        a += p * t2
    return a


def addcdiv_(xp, a, t1, t2, value, tmp=None):
    """a.addcdiv_(t1, t2, value=value) in ATen's order: a + (value * t1) / t2 (value in the
    arrays' dtype); tmp, a scratch array, may be t2 itself (then a new one is made).
    Returns a."""
    q = xp.multiply(t1, value, out=None if tmp is None or tmp is t2 else tmp)
    # (of 0-dim arrays NumPy's out-of-place result is a scalar: no out= for it)
    q = xp.divide(q, t2, out=q if isinstance(q, xp.ndarray) else None)
    a += q
    return a


def lerp_(xp, a, b, weight, tmp):
    """a.lerp_(b, weight) as the eager op computes it (ops/pointwise_ternary._lerp): torch's
    two-sided formula (exact at weight 0 and 1), its multiply-add rounded once for float32 /
    float64 as ATen's compiled kernel. Returns a."""
    if xp is np:
        from ..ops.fma import update32_
        if update32_("lerp", a, b, None, weight):
            return a
    xp.subtract(b, a, out=tmp)
    small = abs(weight) < 0.5
    if a.dtype.kind == "f" and a.dtype.itemsize >= 4:
        w = a.dtype.type(weight)
        _muladd_(xp, w if small else w - a.dtype.type(1), tmp, a if small else b, a)
        return a
    if small:
        tmp *= weight
        a += tmp
    else:
        tmp *= 1 - weight
        xp.subtract(b, tmp, out=a)
    return a
