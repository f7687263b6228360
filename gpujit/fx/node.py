"""torch.fx's Node: one operation of a Graph (placeholder, get_attr, call_function,
call_method, call_module, output) with its args/kwargs, the nodes it reads
(`all_input_nodes`) and the nodes that read it (`users`), printed as torch 2.13 prints it."""
from __future__ import annotations

import builtins
import operator
import types

_LEGAL_OPS = ("placeholder", "get_attr", "call_function", "call_method", "call_module",
              "output")
_public_names = None
# nn.functional's functions that are torch's own in PyTorch (F.conv2d is torch.conv2d)
_F_FROM_TORCH = (
    "adaptive_avg_pool1d avg_pool1d bilinear celu_ channel_shuffle conv1d conv2d conv3d "
    "conv_tbc conv_transpose1d conv_transpose2d conv_transpose3d cosine_similarity hardshrink "
    "native_channel_shuffle pairwise_distance pdist pixel_shuffle pixel_unshuffle prelu relu_ "
    "rrelu_ selu_ threshold_").split()
# torch's functions defined in torch/functional.py (named torch.functional.split)
_TORCH_FUNCTIONAL = (
    "atleast_1d atleast_2d atleast_3d block_diag broadcast_shapes broadcast_tensors "
    "cartesian_prod cdist chain_matmul einsum lu meshgrid norm split stft tensordot unique "
    "unique_consecutive unravel_index").split()


def _public_name_table():
    """id(object) -> its PyTorch name, for gpujit's public functions (whose __module__ is
    the implementing module: gpujit.relu's is gpujit.ops.out_variants)."""
    global _public_names
    if _public_names is None:
        import gpujit
        from gpujit.nn import functional as F
        table = {}
        for ns in ("_special", "_fft", "_linalg"):     # torch._C._linalg.linalg_norm ...
            for name, v in vars(getattr(gpujit._C, ns)).items():
                table[id(v)] = f"torch._C.{ns}.{name}"
        for prefix, ns in (("torch.nn.functional", F),
                           ("torch", gpujit)):      # later wins: torch.conv2d over F's
            for name, v in vars(ns).items():
                if callable(v) and not isinstance(v, (type, types.ModuleType)) and \
                        (getattr(v, "__module__", None) or "").split(".")[0] == "gpujit":
                    table[id(v)] = f"{prefix}.{name}"
        for name, v in vars(gpujit._C._nn).items():
            if callable(v):
                table[id(v)] = f"torch._C._nn.{name}"
        for name in ("svd_lowrank", "pca_lowrank"):
            table[id(getattr(gpujit, name))] = f"torch._lowrank.{name}"
        for name in _F_FROM_TORCH:              # F.conv2d is torch.conv2d in torch
            if hasattr(F, name) and hasattr(gpujit, name):
                table[id(getattr(F, name))] = f"torch.{name}"
        for name in _TORCH_FUNCTIONAL:          # torch.split's module is torch.functional
            if hasattr(gpujit, name):
                table[id(getattr(gpujit, name))] = f"torch.functional.{name}"
        _public_names = table
    return _public_names


def _is_from_torch(obj):
    """Whether generated code names obj through the `torch` global (gpujit's functions)."""
    return id(obj) in _public_name_table() or \
        (getattr(obj, "__module__", None) or "").split(".")[0] == "gpujit"


def _torch_function_name(func):
    """func's name in PyTorch (the node name torch.fx gives its call): linalg_norm for
    torch.linalg.norm, hinge_embedding_loss for gpujit's aten_hinge_embedding_loss."""
    public = _public_name_table().get(id(func))
    return public.rsplit(".", 1)[-1] if public is not None else func.__name__


def _get_qualified_name(func):
    if getattr(builtins, getattr(func, "__name__", ""), None) is func:
        return func.__name__
    import gpujit
    name = func.__name__
    if getattr(gpujit.Tensor, name, None) is func and getattr(gpujit, name, None) is not func:
        return f"torch.Tensor.{name}"
    public = _public_name_table().get(id(func))
    if public is not None:
        return public
    if name == "<lambda>":
        import inspect
        try:
            name = inspect.getsource(func).split("=")[0].strip()
        except Exception as e:
            raise RuntimeError("Unable to represent lambda") from e
    module = getattr(func, "__module__", None)
    if module is None:
        raise RuntimeError(f"cannot find module for {func}")
    if module.split(".")[0] == "gpujit":
        module = "torch" + module[len("gpujit"):]
    return f"{module}.{name}"


def _type_repr(obj):
    if isinstance(obj, type) and not isinstance(obj, types.GenericAlias):
        if obj.__module__ == "builtins":
            return obj.__qualname__
        module = obj.__module__
        if module.split(".")[0] == "gpujit":
            module = "torch" + module[len("gpujit"):]
        return f"{module}.{obj.__qualname__}"
    if obj is ...:
        return "..."
    if isinstance(obj, types.FunctionType):
        return obj.__name__
    return repr(obj)


def _pretty_print_target(target):
    if isinstance(target, str):
        return target
    name = getattr(target, "__name__", None)
    module = getattr(target, "__module__", None)
    if name is not None and module == "builtins":
        return f"builtins.{name}"
    if name is not None and module == "_operator":
        return f"operator.{name}"
    return _get_qualified_name(target)


def _format_arg(arg):
    if isinstance(arg, list):
        return "[" + ", ".join(_format_arg(a) for a in arg) + "]"
    if isinstance(arg, tuple):
        return "(" + ", ".join(_format_arg(a) for a in arg) + ("," if len(arg) == 1 else "") + ")"
    if isinstance(arg, dict):
        return "{" + ", ".join(f"{k}: {_format_arg(v)}" for k, v in arg.items()) + "}"
    if isinstance(arg, Node):
        return "%" + str(arg)
    return _dtype_text(arg) or str(arg)


def _dtype_text(arg):
    """A dtype as torch writes it (torch.float64; gpujit's print as gpujit.float64), so
    generated code finds it through its `torch` global; None for anything else."""
    import gpujit
    if isinstance(arg, gpujit.dtype):
        return "torch." + str(arg).rsplit(".", 1)[-1]
    return None


def map_aggregate(a, fn):
    """Apply fn to each leaf of a (nested tuples, lists, dicts, slices), keeping the shape."""
    if isinstance(a, tuple):
        t = tuple(map_aggregate(e, fn) for e in a)
        return t if not hasattr(a, "_fields") else type(a)(*t)
    if isinstance(a, list):
        return [map_aggregate(e, fn) for e in a]
    if isinstance(a, dict):
        return {k: map_aggregate(v, fn) for k, v in a.items()}
    if isinstance(a, slice):
        return slice(map_aggregate(a.start, fn), map_aggregate(a.stop, fn),
                     map_aggregate(a.step, fn))
    return fn(a)


def map_arg(a, fn):
    """Apply fn to each Node in a (nested) argument, keeping everything else."""
    if not callable(fn):
        raise AssertionError("torch.fx.map_arg(a, fn): fn must be a callable")
    return map_aggregate(a, lambda x: fn(x) if isinstance(x, Node) else x)


class Node:
    """One operation of a Graph. Nodes form a doubly linked list in program order
    (`prev`, `next`); `users` maps each node reading this one to None."""

    def __init__(self, graph, name, op, target, args, kwargs, return_type=None):
        if op not in _LEGAL_OPS:
            raise AssertionError(f"Unknown op {op!r}")
        from gpujit import typename
        if op == "call_function" and not callable(target):
            raise ValueError(f"Node [graph = {graph}, name = '{name}'] target {target} has "
                             f"type {typename(target)} but a Callable is expected")
        if op != "call_function" and not isinstance(target, str):
            raise ValueError(f"Node [graph = {graph}, name = '{name}'] target {target} has "
                             f"type {typename(target)} but a str is expected")
        self.graph = graph
        self.name = name
        self.op = op
        self.target = target
        self._input_nodes = {}
        self.users = {}
        self.type = return_type
        self._prev = self._next = self
        self._erased = False
        self.meta = {}
        self._args = ()
        self._kwargs = {}
        self.__update_args_kwargs(args, kwargs)

    @property
    def stack_trace(self):
        """Where the traced program made this node (recorded by tracers that record it)."""
        return self.meta.get("stack_trace", None)

    @stack_trace.setter
    def stack_trace(self, trace):
        self.meta["stack_trace"] = trace

    # -------------------------------------------------------------- linked list
    @property
    def next(self):
        return self._next

    @property
    def prev(self):
        return self._prev

    def prepend(self, x):
        """Insert x (taken from where it was) before this node."""
        if x is self:
            return
        if self.graph is not x.graph:
            raise AssertionError("Attempting to move a Node into a different Graph")
        x._remove_from_list()
        p = self._prev
        p._next, x._prev = x, p
        x._next, self._prev = self, x

    def append(self, x):
        """Insert x after this node."""
        self._next.prepend(x)

    def _remove_from_list(self):
        p, n = self._prev, self._next
        p._next, n._prev = n, p
        self._prev = self._next = self

    # -------------------------------------------------------------- args / users
    @property
    def args(self):
        return self._args

    @args.setter
    def args(self, a):
        self.__update_args_kwargs(a, self._kwargs)

    @property
    def kwargs(self):
        return self._kwargs

    @kwargs.setter
    def kwargs(self, k):
        self.__update_args_kwargs(self._args, k)

    @property
    def all_input_nodes(self):
        return list(self._input_nodes)

    def update_arg(self, idx, arg):
        args = list(self.args)
        args[idx] = arg
        self.args = tuple(args)

    def insert_arg(self, idx, arg):
        self.args = self.args[:idx] + (arg,) + self.args[idx:]

    def update_kwarg(self, key, arg):
        self.kwargs = {**self.kwargs, key: arg}

    def __update_args_kwargs(self, new_args, new_kwargs):
        for old in self._input_nodes:
            old.users.pop(self)
        self._input_nodes = {}

        def record(a):          # (and tuple subclasses, torch.Size, become tuples)
            if isinstance(a, Node):
                self._input_nodes.setdefault(a)
            return a
        self._args = map_aggregate(tuple(new_args), record)
        self._kwargs = map_aggregate(dict(new_kwargs), record)
        for n in self._input_nodes:
            n.users.setdefault(self)

    def replace_all_uses_with(self, replace_with, delete_user_cb=lambda user: True, *,
                              propagate_meta=False):
        """Make every user of this node read replace_with instead; returns those users."""
        if propagate_meta:
            if len(replace_with.meta) != 0:
                raise AssertionError("Called node.replace_all_uses_with(replace_with, "
                                     "propagate_meta=True), but replace_with already has "
                                     ".meta keys")
            replace_with.meta.update(self.meta)
        to_process = list(self.users)
        skipped = []
        for user in to_process:
            if user is replace_with or not delete_user_cb(user):
                skipped.append(user)
                continue
            user.replace_input_with(self, replace_with)
        return [n for n in to_process if n not in skipped]

    def replace_input_with(self, old_input, new_input):
        m = lambda n: new_input if n is old_input else n   # noqa: E731
        self.__update_args_kwargs(map_arg(self._args, m), map_arg(self._kwargs, m))

    def is_impure(self, impure_random=True):
        if self.op in ("placeholder", "output"):
            return True
        if self.op == "call_function":
            return getattr(self.target, "__name__", "") in ("_assert", "_assert_is_none") or \
                self.target in _side_effectful_functions
        if self.op == "call_module":
            mod = self.graph.owning_module
            if mod is not None:
                return getattr(mod.get_submodule(self.target), "_is_impure", False)
        return False

    # -------------------------------------------------------------- printing
    def __repr__(self):
        return self.name

    @staticmethod
    def _pretty_print_target(target):
        return _pretty_print_target(target)

    def format_node(self, placeholder_names=None, maybe_return_typename=None):
        typename = f"{_type_repr(self.type)} " if self.type is not None else ""
        head = f"%{self.name} : {typename}[num_users={len(self.users)}] = {self.op}"
        if self.op == "placeholder":
            default = "(default=" + str(self.args[0]) + ")" if self.args else ""
            return f"{head}[target={self.target}]{default}"
        if self.op == "get_attr":
            return f"{head}[target={_pretty_print_target(self.target)}]"
        if self.op == "output":
            if self.type and maybe_return_typename:
                maybe_return_typename[0] = f" -> {_type_repr(self.type)}"
            return f"return {self.args[0]}"
        return (f"{head}[target={_pretty_print_target(self.target)}](args = "
                f"{_format_arg(self.args)}, kwargs = {_format_arg(self.kwargs)})")


_side_effectful_functions = set()


def has_side_effect(fn):
    """Mark fn as side-effectful: dead code elimination keeps its calls."""
    _side_effectful_functions.add(fn)
    return fn


_side_effectful_functions.add(operator.setitem)
