"""torch.func.vmap (torch.vmap): f mapped over a dimension of its inputs.

There are no batched tensors: f runs once per batch element on that element's slices
(`select(in_dim, i)`, views, so an in-place write reaches the input as PyTorch's does) and
the outputs are stacked at out_dims. Every op and every transform therefore works inside
vmap, nested vmaps and vmap(grad(f)) included, at the cost of one call of f per element.
While f runs, a dispatch layer (per thread, as functorch's levels) marks what depends on
the mapped inputs (the element slices and every registry op's output computed from a
marked tensor), so that what a BatchedTensor refuses is refused with PyTorch's errors:
`.item()`, bool() (data-dependent control flow), tolist()/numpy()/.data, ops with
value-dependent output shapes (boolean masks included), ops PyTorch has no batching rule
for, an in-place method writing an unmarked tensor with a marked operand, running stats
of an unmarked BatchNorm, out= variants; an output with out_dims=None is refused when it
is marked (or differs between elements). A write into a tensor not mapped (c.mul_(2) of a
captured c) happens once, as PyTorch's: each later element runs from the state element 0
started from. A custom Function's vmap staticmethod runs per element with a batch of one.
Differences from PyTorch that follow from the loop: Python side effects (print, appending
to a list) happen once per element; an empty batch runs f once on zeros to learn the
output shapes; ops outside the registry and compiled code's fused kernels do not mark
(nor note writes); a marked tensor reports requires_grad False / grad_fn None / is_leaf
True to code outside gpujit only (gpujit's own code reads its autograd state); a vmap
staticmethod sees info.batch_size 1. randomness: 'error'
refuses a random op anywhere under the vmap, 'same' rewinds the generators f drew from
before each element (and refuses a draw parametrized by a marked tensor), 'different' lets
each element draw its own numbers (not the numbers PyTorch's batched draw gives; an
in-place draw into an unmarked tensor is refused)."""
from __future__ import annotations

import contextlib
import functools
import sys
import threading
import weakref
from collections import namedtuple

from ..autograd.forward_ad import _flags as _fw_flags
from .. import dtypes as _dt
from ..autograd.function import FUNCTORCH as _FUNCTORCH
from ..autograd.function import TRANSFORM_IDS as _TRANSFORM_IDS
from ..ops import random as _random
from ..ops import registry as _reg
from ..tensor import Tensor
from ._tree import _broadcast_to_and_flatten, tree_flatten, tree_unflatten

__all__ = ["vmap", "randomness_scope"]


# ------------------------------------------------ what depends on the mapped inputs
# PyTorch's vmap runs f once on BatchedTensors and refuses what cannot be batched: .item()
# or bool() of one, an op whose output shape depends on the values, an in-place write of a
# tensor not batched with a batched operand. Here f runs per element; while it runs, a
# dispatch layer marks each element's slices and every op output computed from a marked
# tensor with the vmap levels it depends on, and refuses the same things with PyTorch's
# errors (ops outside the registry and compiled code's fused kernels do not mark).

class _ThreadLevels(threading.local):
    """This thread's vmaps (PyTorch's functorch levels are per thread: a vmap running in
    one thread neither marks nor refuses what another thread computes)."""

    def __init__(self):
        self.levels = []        # the levels of the vmaps running now, innermost last
        self.level_set = set()  # (the same, as a set)
        self.marks = {}         # id(tensor) -> (weak reference, frozenset of levels)


_T = _ThreadLevels()
_RUNNING = [0]                  # vmaps running in all threads (the layer is on while > 0)
_RUNNING_LOCK = threading.Lock()

ITEM = ("vmap: It looks like you're calling .item() on a Tensor. We don't support vmap "
        "over calling .item() on a Tensor, please try to rewrite what you're doing with "
        "other operations. If error is occurring somewhere inside PyTorch internals, please "
        "file a bug report.")
CONTROL_FLOW = ("vmap: It looks like you're attempting to use a Tensor in some "
                "data-dependent control flow. We don't support that yet, please file an "
                "issue at https://github.com/pytorch/pytorch/issues .")
NO_STORAGE = "Cannot access data pointer of Tensor that doesn't have storage"
_SAME_BATCHED = ("Vmap does not currently support same randomness with a batched tensor "
                 "input. Please file an issue with functorch")
_DIFFERENT_INPLACE = ("vmap: Cannot ask for different inplace randomness on an unbatched "
                      "tensor. This will appear like same randomness. If this is necessary "
                      "for your usage, please file an issue with functorch.")
# random ops whose tensor inputs' values parametrize the draw: with randomness='same'
# PyTorch refuses them when such an input is batched (the *_like factories and in-place
# draws only read a shape)
_PARAMETRIZED_RANDOM = frozenset({
    "aten::bernoulli", "aten::multinomial", "aten::poisson", "aten::binomial",
    "aten::normal.Tensor_Tensor", "aten::normal.Tensor_float", "aten::normal.float_Tensor",
    "aten::_standard_gamma", "aten::_sample_dirichlet"})
_MODES: dict = {}       # level -> its vmap's randomness
_SIZES: dict = {}       # level -> its vmap's batch size
_DYNAMIC = frozenset({"aten::nonzero", "aten::_unique2", "aten::unique_dim",
                      "aten::unique_consecutive", "aten::where"})
# ops PyTorch has no batching rule for and whose boxed fallback cannot run them (they
# return a list of tensors or a bool): refused whenever an argument is batched
_NO_FALLBACK = frozenset({"aten::nonzero_numpy", "aten::tensor_split.tensor_indices_or_sections",
                          "aten::equal", "aten::chain_matmul"})
# view ops PyTorch has no batching rule for (its fallback does not run views)
_VIEW_NO_RULE = frozenset({"aten::moveaxis.int"})
# memory formats a batched tensor is asked about: PyTorch's NYI refusals
IS_CONTIGUOUS = ("NYI: querying is_contiguous inside of vmap for memory_format other than "
                  "torch.contiguous_format")
_FORMAT_NAMES = {"channels_last": "ChannelsLast", "channels_last_3d": "ChannelsLast3d"}
_ALLCLOSE = ("vmap over torch.allclose isn't supported yet. Please file an issue at "
             "https://github.com/pytorch/pytorch/issues if you need this feature.")
# ops taking a list of index tensors (argument 1): a batched boolean mask among them is
# refused, as PyTorch's (its output shape would depend on the mask's values)
_MASK_INDEXED = frozenset({"aten::index.Tensor", "aten::index_put_", "aten::index_put"})
_BOOLEAN_MASK = ("vmap: We do not support batching operators that can support dynamic "
                 "shape. Attempting to batch over indexing with a boolean mask.")


_NONE = frozenset()


def _mark(t, levels):
    # (no callback: the marks of a vmap call go when the outermost one ends; an id reused
    # meanwhile by another tensor is told apart by the weak reference)
    key = id(t)
    marks = _T.marks
    old = marks.get(key)
    if old is not None and old[0]() is t:
        levels = levels | old[1]
    marks[key] = (weakref.ref(t), levels)


def _levels_of(t):
    """The running vmap levels tensor t is batched at (an empty set: none)."""
    rec = _T.marks.get(id(t))
    if rec is None or rec[0]() is not t:
        return _NONE
    levels = rec[1]
    active = _T.level_set
    return levels if levels <= active else levels & active


def is_batched(t) -> bool:
    return bool(_T.marks) and isinstance(t, Tensor) and bool(_levels_of(t))


def batched_argument(a) -> bool:
    """Is a batched as a custom Function's argument sees it: marked, or carrying a marked
    forward-mode tangent, or (inside jacfwd's linearization, PyTorch's vmap over jvp)
    depending on what jacfwd differentiates?"""
    if not isinstance(a, Tensor):
        return False
    if is_batched(a):
        return True
    from ..autograd import forward_ad as fw
    if fw._TANGENTS and is_batched(fw._tangent_of(a)):
        return True
    from ._levels import _T as _grad_levels
    return a.requires_grad and any(lv.batched for lv in _grad_levels.active)


def hides_autograd(t) -> bool:
    """Tensor's requires_grad / grad_fn / is_leaf getters inside a vmap: is t batched at a
    vmap with no grad-like transform inside it, read by code outside gpujit (the frame
    calling the getter)?"""
    if not _T.marks or not isinstance(t, Tensor):
        return False
    levels = _levels_of(t)
    if not levels:
        return False
    from ._levels import _T as _grad_levels
    innermost = max(levels)
    if any(lv.order > innermost for lv in _grad_levels.active):
        return False
    caller = sys._getframe(3).f_globals.get("__name__", "")
    return not (caller == "gpujit" or caller.startswith(("gpujit.", "fusers", "kernels")))


def check_escape(t, what):
    """Tensor.__bool__ / tolist / numpy inside a vmap: refused for a batched tensor."""
    if is_batched(t):
        raise RuntimeError(CONTROL_FLOW if what == "bool" else NO_STORAGE)


# in-place ops whose PyTorch batching rule words the refusal as "inplace arithmetic", or
# with the op's bare name, or as a broadcast failure; any other falls back to the
# boxed fallback's words (aten::name, the vmap level)
_ARITHMETIC = frozenset({"sub_", "subtract_", "mul_", "multiply_", "div_", "divide_",
                         "true_divide_", "copy_", "masked_fill_"})
_BARE = frozenset({"fill_", "index_add_", "index_put_", "index_fill_"})
_BROADCAST = frozenset({"add_", "atan2_", "arctan2_"})


def _inplace_message(op, args, level):
    """The refusal of in-place op writing args[0] at vmap level, which batches an operand
    but not args[0]."""
    name = op.schema.base_name
    if name in _BROADCAST:
        from .. import broadcast_shapes
        shapes = [tuple(a.shape) for a in args if isinstance(a, Tensor)]
        return (f"output with shape {list(args[0].shape)} doesn't match the broadcast "
                f"shape {[_SIZES.get(level, 0)] + list(broadcast_shapes(*shapes))}")
    if name in _ARITHMETIC or name in _BARE:
        what = "inplace arithmetic" if name in _ARITHMETIC else name
        where = "in a vmap"
    else:
        what = f"aten::{name}"
        # (PyTorch numbers every transform running, grad-like ones too, outermost 1)
        from ._levels import _T as _grad_levels
        depth = sum(1 for lv in _T.levels if lv <= level) + sum(
            1 for lv in _grad_levels.active if lv.order < level)
        where = f"at level {depth}"
    return (f"vmap: {what}(self, *extra_args) is not possible because there exists a "
            f"Tensor `other` in extra_args that has more elements than `self`. This "
            f"happened due to `other` being vmapped over but `self` not being vmapped over "
            f"{where}. Please try to use out-of-place operators instead of {what}. If "
            f"said operator is being called inside the PyTorch framework, please file a "
            f"bug report instead.")


_CHECKS: dict = {}      # op -> _checks(op)


def _checks(op):
    """What _hook checks of op, worked out once: (the RuntimeError's words when any of
    its arguments is batched, or None; the argument position whose batching alone is
    refused (masked_select's mask), or None; whether it is an in-place method)."""
    name = op.name
    args = op.schema.arguments
    msg, only = None, None
    if name == "aten::item":
        msg = ITEM
    elif name == "aten::is_nonzero":
        msg = CONTROL_FLOW
    elif name in _DYNAMIC:
        msg = (f"vmap: We do not support batching operators that can output dynamic shape. "
               f"Attempted to vmap over {name.split('.')[0]}. Please file an issue at "
               f"https://github.com/pytorch/pytorch/issues if you need this feature.")
    elif name in _NO_FALLBACK:
        msg = f"Batching rule not implemented for {name}. We could not generate a fallback."
    elif name == "aten::allclose":
        msg = _ALLCLOSE
    elif name == "aten::masked_select":
        msg, only = ("vmap: Attempted to vmap over `mask` in torch.masked_select(self, mask) "
                     "We cannot support this because for each batch this would return a "
                     "differently shaped Tensor. Please file an issue at "
                     "https://github.com/pytorch/pytorch/issues if you need this "
                     "feature."), 1
    elif any(a.type.is_write and a.kwarg_only for a in args) or name in _VIEW_NO_RULE:
        msg = (f"Batching rule not implemented for {name}; the fallback path doesn't work "
               f"on out= or view ops.")
    # (an in-place method's self; not an argument an op may write, batch_norm's running
    # stats, which PyTorch's batching rules handle case by case)
    inplace = bool(args) and args[0].type.is_write and op.schema.base_name.endswith("_")
    writes = tuple(k for k, a in enumerate(args) if a.type.is_write)
    special = (_check_running_stats if name in _RUNNING_STATS else
               _check_boolean_mask if name in _MASK_INDEXED else
               _check_contiguous_query if name in ("aten::contiguous",
                                                   "aten::is_contiguous.memory_format") else
               _check_clone_format if name == "aten::clone" else
               _check_one_hot if name == "aten::one_hot" else None)
    return msg, only, inplace, writes, special


def _check_contiguous_query(args):
    from .. import contiguous_format
    if _levels_of(args[0]) and len(args) > 1 and args[1] != contiguous_format:
        raise RuntimeError(IS_CONTIGUOUS)


def _check_one_hot(args):
    if _levels_of(args[0]) and (len(args) < 2 or args[1] <= 0):
        raise RuntimeError("When vmap-ing torch.nn.functional.one_hot, please provide an "
                           "explicit positive num_classes argument.")


def _check_clone_format(args):
    from .. import contiguous_format, preserve_format
    fmt = args[1] if len(args) > 1 else None
    if fmt not in (None, contiguous_format, preserve_format) and _levels_of(args[0]):
        raise RuntimeError(f"NYI: Tensor.clone(memory_format) inside vmap is only supported "
                           f"with memory_format torch.preserve_format or "
                           f"torch.contiguous_format (got {_FORMAT_NAMES.get(str.__str__(fmt), fmt)})")


def _check_boolean_mask(args):
    indices = args[1] if len(args) > 1 and type(args[1]) in (list, tuple) else ()
    for i in indices:
        if isinstance(i, Tensor) and i.dtype is _dt.bool and _levels_of(i):
            raise RuntimeError(_BOOLEAN_MASK)


# ops updating running statistics in place when their argument 5 (training /
# use_input_stats) is true: PyTorch's batching rule refuses a batched input with unbatched
# running_mean / running_var (arguments 3 and 4)
_RUNNING_STATS = frozenset({"aten::batch_norm", "aten::instance_norm"})
_STATS_UNBATCHED = (
    "Batch norm got a batched tensor as input while the running_mean or running_var, which "
    "will be updated in place, were not batched.\nIf you are using a module and do not need "
    "eval mode, please set `track_running_stats` to be False.If you are using a prebuilt "
    "module and do not need eval mode, please see the functorch website for resources on "
    "how to patch your module to work with vmap")


def _check_running_stats(args):
    if len(args) > 5 and args[5]:
        batched = _levels_of(args[0]) if isinstance(args[0], Tensor) else _NONE
        for stat in args[3:5]:
            if isinstance(stat, Tensor) and batched - _levels_of(stat):
                raise RuntimeError(_STATS_UNBATCHED)


# ------------------------------------------------ side effects happen once
# PyTorch runs f once: a write into a tensor a vmap level does not batch (c.mul_(2) of a
# captured c, all operands unbatched) happens once at that level. f runs once per element
# here, so during element 0 each level notes the state of every tensor written that it
# does not batch, before the first write (values, version, autograd state), and puts it
# back before each later element, which then sees what element 0 saw and writes the same
# values; after the last element the state element 0 left is put back (a tensor element 0
# made, wrote and returned was rewound with the others).

_ELEMENT: dict = {}     # level -> the element running now (None: the empty batch's run)
_SNAPS: dict = {}       # level -> {id(tensor): _Snapshot}, taken during element 0


class _Snapshot:
    __slots__ = ("t", "before", "after")

    def __init__(self, t):
        self.t = t
        self.before = self.state()
        self.after = None

    def state(self):
        t = self.t
        data = t._data
        ags = []
        for a in (t, getattr(t, "_base", None)):
            ag = a._ag if a is not None else None
            if ag is not None:
                ags.append((ag, [getattr(ag, n) for n in ag.__slots__]))
        return data, data.copy(), t._vc[0], ags

    def put(self, state):
        t = self.t
        data, values, version, ags = state
        t._data = data
        data[...] = values
        t._vc[0] = version
        for ag, fields in ags:
            for n, v in zip(ag.__slots__, fields):
                setattr(ag, n, v)


def _note_writes(args, writes):
    """Before an op writes args[writes]: a snapshot at each level in element 0 that does
    not batch the written tensor."""
    for k in writes:
        t = args[k] if k < len(args) else None
        if type(t) is not Tensor and not isinstance(t, Tensor):
            continue
        try:
            if not hasattr(t._data, "copy"):
                continue
        except NotImplementedError:     # (a sparse tensor: no strided data to note)
            continue
        batched = _levels_of(t) if id(t) in _T.marks else _NONE
        for level in _T.levels:
            if level not in batched and _ELEMENT.get(level) == 0:
                snaps = _SNAPS[level]
                if id(t) not in snaps:
                    snaps[id(t)] = _Snapshot(t)


def _hook(op, args):
    """dispatch_state.vmap while a vmap runs."""
    s = _reg.dispatch_state
    nxt = s.autocast or s.forward_ad or s.inner
    if _fw_flags.hidden:        # (forward AD's own computations: not f's)
        return nxt(op, args) if nxt is not None else op.eager(*args)
    levels = _NONE
    first = _NONE
    marks = _T.marks
    for k, a in enumerate(args):
        lv = _NONE
        if isinstance(a, Tensor):
            if id(a) in marks:
                lv = _levels_of(a)
        elif type(a) in (list, tuple):
            for x in a:
                if isinstance(x, Tensor) and id(x) in marks:
                    lv = lv | _levels_of(x)
        if lv:
            if not k:
                first = lv
            levels = levels | lv
    checks = _CHECKS.get(op)
    if checks is None:
        checks = _CHECKS[op] = _checks(op)
    msg, only, inplace, writes, special = checks
    if not levels:
        if "random" in op.tags and _T.levels:
            _check_random(op, inplace, levels, first)
        if writes:
            _note_writes(args, writes)
        return nxt(op, args) if nxt is not None else op.eager(*args)
    if msg is not None and (only is None or (len(args) > only and isinstance(
            args[only], Tensor) and _levels_of(args[only]))):
        raise RuntimeError(msg)
    if inplace and not levels <= first:
        raise RuntimeError(_inplace_message(op, args, max(levels - first)))
    if special is not None:
        special(args)
    if "random" in op.tags:
        _check_random(op, inplace, levels, first)
    if writes:
        _note_writes(args, writes)
    result = nxt(op, args) if nxt is not None else op.eager(*args)
    if isinstance(result, Tensor):
        _mark(result, levels)
    elif isinstance(result, (tuple, list)):
        for r in result:
            if isinstance(r, Tensor):
                _mark(r, levels)
    return result


def _check_random(op, inplace, levels, first):
    """A random op under the innermost vmap: PyTorch's refusals of its randomness mode
    ('error' is refused where the op draws, in ops/random.py)."""
    level = _T.levels[-1]
    mode = _MODES.get(level)
    if mode == "same" and level in levels and op.name in _PARAMETRIZED_RANDOM:
        raise RuntimeError(_SAME_BATCHED)
    if mode == "different" and inplace and level not in first:
        raise RuntimeError(_DIFFERENT_INPLACE)


# ------------------------------------------------ a custom Function's vmap staticmethod

VmapInfo = namedtuple("VmapInfo", ["batch_size", "randomness"])


def vmap_rule_level(args):
    """For a custom Function with a vmap staticmethod called with args: (the innermost
    vmap level that batches one of them, whether no grad-like transform runs inside that
    level), or None when no running vmap batches them."""
    level = max((max(_levels_of(a)) for a in args
                 if isinstance(a, Tensor) and is_batched(a)), default=None)
    if level is None:
        return None
    from ._levels import _T as _grad_levels
    return level, all(lv.order < level for lv in _grad_levels.active)


def run_vmap_rule(cls, args, level):
    """cls.vmap(info, in_dims, *args) for this element: the arguments batched at level
    get a batch dimension of size 1 in front (in_dims 0, None for the others;
    info.batch_size is 1), and each output is taken at index 0 of the out_dim the rule
    returns (None: as it is). PyTorch calls the rule once on the whole batch; a rule that
    computes across the batch dimension gives other numbers here."""
    in_dims = tuple(0 if isinstance(a, Tensor) and level in _levels_of(a) else None
                    for a in args)
    batched = [a.unsqueeze(0) if d == 0 else a for a, d in zip(args, in_dims)]
    res = cls.vmap(VmapInfo(1, _MODES.get(level, "error")), in_dims, *batched)
    if not (isinstance(res, tuple) and len(res) == 2):
        got = (f"a {type(res)} of length {len(res)}" if isinstance(res, tuple) else
               f"a {type(res)}")
        raise RuntimeError(f"Expected the vmap staticmethod to have two returns, an output "
                           f"and out_dims with pytree structure compatible with the output. "
                           f"Got {got} instead")
    output, out_dims = res
    flat, spec = tree_flatten(output)
    dims = _broadcast_to_and_flatten(out_dims, spec)
    if dims is None:
        raise RuntimeError(f"The autograd.Function's vmap staticmethod returned an "
                           f"incompatible (output, out_dims) tuple. Expected out_dims="
                           f"{out_dims} to be compatible with the structure of `output`. "
                           f"out_dims has structure {tree_flatten(out_dims)[1]} but output "
                           f"has structure {spec}.")
    flat = [o.select(d, 0) if d is not None and isinstance(o, Tensor) else o
            for o, d in zip(flat, dims)]
    return tree_unflatten(flat, spec)


@contextlib.contextmanager
def _level(randomness="error", size=0):
    level = next(_TRANSFORM_IDS)
    _SIZES[level] = size
    t = _T
    t.levels.append(level)
    t.level_set.add(level)
    _MODES[level] = randomness
    _FUNCTORCH[2] += 1
    s = _reg.dispatch_state
    with _RUNNING_LOCK:
        _RUNNING[0] += 1
        if s.vmap is None:
            s.vmap = _hook
            s.refresh()
    try:
        yield level
    finally:
        t.levels.remove(level)
        t.level_set.discard(level)
        _FUNCTORCH[2] -= 1
        _MODES.pop(level, None)
        _SIZES.pop(level, None)
        _ELEMENT.pop(level, None)
        _SNAPS.pop(level, None)
        if not t.levels:
            t.marks.clear()
        with _RUNNING_LOCK:
            _RUNNING[0] -= 1
            if not _RUNNING[0]:
                s.vmap = None
                s.refresh()


def _get_name(func):
    if hasattr(func, "__name__"):
        return func.__name__
    if isinstance(func, functools.partial):
        return f"functools.partial({_get_name(func.func)}, ...)"
    return repr(func)


def _check_randomness_arg(randomness):
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")


@contextlib.contextmanager
def randomness_scope(randomness):
    """Random ops inside follow a vmap's randomness mode (the entry's dict: the state of
    each generator when 'same' first saw it draw)."""
    entry = [randomness, {} if randomness == "same" else None]
    _random._VMAP.modes.append(entry)
    try:
        yield entry
    finally:
        _random._VMAP.modes.pop()


def _rewind(entry):
    if entry[1]:
        for g, state in entry[1].values():
            g.set_state(state)


def _process_batched_inputs(in_dims, args, func):
    name = _get_name(func)
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` "
                         f"to be int or a (potentially nested) tuple matching the structure "
                         f"of inputs, got: {type(in_dims)}.")
    if len(args) == 0:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add "
                         f"inputs, or you are trying to vmap over a function with no inputs. "
                         f"The latter is unsupported.")
    flat_args, args_spec = tree_flatten(args)
    flat_in_dims = _broadcast_to_and_flatten(in_dims, args_spec)
    if flat_in_dims is None:
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
                         f"compatible with the structure of `inputs`. in_dims has structure "
                         f"{tree_flatten(in_dims)[1]} but inputs has structure {args_spec}.")
    for i, (arg, d) in enumerate(zip(flat_args, flat_in_dims)):
        # (a bool passes as PyTorch's does: size(True) refuses it below, a TypeError)
        if d is not None and not isinstance(d, int):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got "
                             f"in_dim={d} for an input but in_dim must be either an integer "
                             f"dimension or None.")
        if d is not None and not isinstance(arg, Tensor):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got "
                             f"in_dim={d} for an input but the input is of type "
                             f"{type(arg)}. We cannot vmap over non-Tensor arguments, please "
                             f"use None as the respective in_dim")
        if d is not None and not -arg.dim() <= d < arg.dim():
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got "
                             f"in_dim={d} for some input, but that input is a Tensor of "
                             f"dimensionality {arg.dim()} so expected in_dim to satisfy "
                             f"-{arg.dim()} <= in_dim < {arg.dim()}.")
        if d is not None and d < 0:
            flat_in_dims[i] = d % arg.dim()
    sizes = [a.size(d) for a, d in zip(flat_args, flat_in_dims) if d is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    return sizes[0], flat_in_dims, flat_args, args_spec


def _check_out_dims(out_dims, func):
    if isinstance(out_dims, int):
        return
    for d in tree_flatten(out_dims)[0]:
        if d is not None and not isinstance(d, int):
            raise ValueError(f"vmap({_get_name(func)}, ..., out_dims={out_dims}): `out_dims` "
                             f"must be an int, None or a python collection of ints "
                             f"representing where in the outputs the vmapped dimension "
                             f"should appear.")


def _flat_out_dims(output, out_dims, out_spec, func):
    if isinstance(output, Tensor):
        # as PyTorch: a lone tensor output takes an int, a 1-tuple or None
        if isinstance(out_dims, int) or out_dims is None:
            return [out_dims]
        if isinstance(out_dims, tuple) and len(out_dims) == 1:
            return list(out_dims)
        flat = None
    else:
        flat = _broadcast_to_and_flatten(out_dims, out_spec)
    if flat is None:
        raise ValueError(f"vmap({_get_name(func)}, ..., out_dims={out_dims})(<inputs>): "
                         f"out_dims is not compatible with the structure of `outputs`. "
                         f"out_dims has structure {tree_flatten(out_dims)[1]} but outputs has "
                         f"structure {out_spec}.")
    return flat


def _same(a, b):
    if a is b:
        return True
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        from .. import equal
        return a.shape == b.shape and a.dtype == b.dtype and equal(a, b)
    return False


def _combine(name, per_elem, out_dim, batch_size, level):
    """One output leaf over the batch: per-element values stacked at out_dim."""
    first = per_elem[0]
    if out_dim is None:
        if isinstance(first, Tensor) and (any(level in _levels_of(x) for x in per_elem) or
                                          not all(_same(first, x) for x in per_elem[1:])):
            raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor "
                             f"when out_dim is None")
        return first
    if not isinstance(first, Tensor):
        raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                         f"{type(first)}. Did you mean to set out_dims= to None for output?")
    nd = first.dim() + 1
    if not -nd <= out_dim < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, "
                         f"{nd - 1}], but got {out_dim})")
    if batch_size == 0:
        shape = list(first.shape)
        shape.insert(out_dim % nd, 0)
        return first.new_zeros(shape)
    from .. import stack
    return stack(per_elem, dim=out_dim)


def _elements(flat_args, flat_in_dims, level, i=None):
    """Element i's arguments (zeros shaped like one element when i is None), the mapped
    ones marked batched at level."""
    out = []
    for a, d in zip(flat_args, flat_in_dims):
        if d is not None:
            a = a.new_zeros(a.shape[:d] + a.shape[d + 1:]) if i is None else a.select(d, i)
            _mark(a, frozenset((level,)))
        out.append(a)
    return out


def _vmap_impl(func, in_dims, out_dims, randomness, args, kwargs):
    _check_out_dims(out_dims, func)
    batch_size, flat_in_dims, flat_args, args_spec = _process_batched_inputs(
        in_dims, args, func)
    with _level(randomness, batch_size) as level:
        return _run_elements(func, out_dims, randomness, kwargs, batch_size, flat_in_dims,
                             flat_args, args_spec, level)


def _run_elements(func, out_dims, randomness, kwargs, batch_size, flat_in_dims, flat_args,
                  args_spec, level):
    outs = []
    with randomness_scope(randomness) as entry:
        if batch_size == 0:
            # nothing to map: f runs on zeros shaped like one element, for the output shapes
            from ..random import fork_rng
            one = _elements(flat_args, flat_in_dims, level)
            _ELEMENT[level] = None
            with fork_rng():
                outs.append(func(*tree_unflatten(one, args_spec), **kwargs))
        snaps = _SNAPS[level] = {}
        for i in range(batch_size):
            if i and randomness == "same":
                _rewind(entry)
            if i and snaps:
                for snap in reversed(snaps.values()):
                    if i == 1:
                        snap.after = snap.state()
                    snap.put(snap.before)
            _ELEMENT[level] = i
            elem = _elements(flat_args, flat_in_dims, level, i)
            outs.append(func(*tree_unflatten(elem, args_spec), **kwargs))
        if batch_size > 1:
            for snap in snaps.values():
                snap.put(snap.after)
    flat_outs = []
    out_spec = None
    for o in outs:
        flat, spec = tree_flatten(o)
        if out_spec is None:
            out_spec = spec
        elif spec != out_spec:
            raise ValueError(f"vmap({_get_name(func)}, ...): `{_get_name(func)}` returned "
                             f"outputs of different structures for different batch elements "
                             f"({out_spec} and {spec})")
        flat_outs.append(flat)
    dims = _flat_out_dims(outs[0], out_dims, out_spec, func)
    name = _get_name(func)
    leaves = [_combine(name, [f[k] for f in flat_outs], d, batch_size, level)
              for k, d in enumerate(dims)]
    return tree_unflatten(leaves, out_spec)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """func mapped over dimension in_dims of its inputs (an int, or a tuple matching the
    positional arguments, nested as they are, None for an argument not mapped; keyword
    arguments are never mapped), the results stacked at out_dims. chunk_size is checked as
    PyTorch does; elements run one at a time whatever it is."""
    _check_randomness_arg(randomness)
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got "
                         f"{chunk_size})")

    def wrapped(*args, **kwargs):
        return _vmap_impl(func, in_dims, out_dims, randomness, args, kwargs)

    try:
        functools.update_wrapper(wrapped, func, updated=())
    except (AttributeError, TypeError):
        pass
    return wrapped
