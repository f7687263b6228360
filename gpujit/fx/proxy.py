"""torch.fx's Proxy: a Node wrapped so that operators (x + 1), method calls (x.relu()) and
torch functions (torch.relu(x), through __torch_function__) record nodes in the tracer's
graph instead of running."""
from __future__ import annotations

import collections
import copy
import dis
import enum
import inspect
import operator

import gpujit

from .. import overrides as _overrides
from .graph import Graph, magic_methods, reflectable_magic_methods
from .node import Node, _torch_function_name, map_aggregate


_BASE_TYPES = (str, int, float, bool, complex, gpujit.dtype, gpujit.device, gpujit.layout,
               enum.Enum, Node)


class TraceError(ValueError):
    pass


class TracerBase:
    """Turns calls on Proxies into nodes of self.graph (create_proxy / create_node /
    create_arg); to_bool and iter say what a Proxy in control flow means (an error)."""
    graph: Graph
    trace_asserts = False
    check_mutable_operations = False
    proxy_buffer_attributes = False
    traced_func_name = "forward"

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        node = self.graph.create_node(kind, target, args, kwargs, name, type_expr)
        scope = getattr(self, "scope", None)
        if scope is not None:
            self.node_name_to_scope[node.name] = (scope.module_path, scope.module_type)
        if getattr(self, "module_stack", None):
            node.meta["nn_module_stack"] = copy.copy(self.module_stack)
        return node

    def proxy(self, node):
        return Proxy(node, self)

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None,
                     proxy_factory_fn=None):
        args_ = self.create_arg(args)
        kwargs_ = self.create_arg(kwargs)
        node = self.create_node(kind, target, args_, kwargs_, name, type_expr)
        return proxy_factory_fn(node) if proxy_factory_fn else self.proxy(node)

    def create_arg(self, a):
        if isinstance(a, Proxy):
            return a.node
        if hasattr(a, "__fx_create_arg__"):
            return a.__fx_create_arg__(self)
        if isinstance(a, tuple):
            if hasattr(a, "_fields"):
                return type(a)(*[self.create_arg(e) for e in a])
            return type(a)([self.create_arg(e) for e in a])
        if isinstance(a, list):
            return [self.create_arg(e) for e in a]
        if isinstance(a, dict):
            r = {}
            for k, v in a.items():
                if not isinstance(k, str):
                    k = self.create_arg(k)
                    map_aggregate(k, _no_nodes)
                r[k] = self.create_arg(v)
            return r
        if isinstance(a, slice):
            return slice(self.create_arg(a.start), self.create_arg(a.stop),
                         self.create_arg(a.step))
        if isinstance(a, range):
            return range(self.create_arg(a.start), self.create_arg(a.stop),
                         self.create_arg(a.step))
        if isinstance(a, _BASE_TYPES) or a is None or a is ...:
            return a
        raise NotImplementedError(f"argument of type: {type(a)}")

    def to_bool(self, obj):
        raise TraceError("symbolically traced variables cannot be used as inputs to "
                         "control flow")

    def iter(self, obj):
        raise TraceError("Proxy object cannot be iterated. This can be attempted when the "
                         "Proxy is used in a loop or as a *args or **kwargs function "
                         "argument. See the torch.fx docs on pytorch.org for a more "
                         "detailed explanation of what types of control flow can be traced, "
                         "and check out the Proxy docstring for help troubleshooting Proxy "
                         "iteration errors")

    def keys(self, obj):
        return Attribute(obj, "keys")()


def _no_nodes(arg):
    if isinstance(arg, Node):
        raise RuntimeError("Keys for dictionaries used as an argument cannot contain a "
                           f"Node. Got key: {arg}")


class Scope:
    """The module whose forward is being traced: its qualified name and type."""

    def __init__(self, module_path, module_type):
        self.module_path = module_path
        self.module_type = module_type


class ScopeContextManager:
    """Sets scope to current_scope for a module call, puts the previous one back after."""

    def __init__(self, scope, current_scope):
        self._prev = (scope.module_path, scope.module_type)
        scope.module_path, scope.module_type = current_scope.module_path, \
            current_scope.module_type
        self._scope = scope

    def __enter__(self):
        return self._scope

    def __exit__(self, *args):
        self._scope.module_path, self._scope.module_type = self._prev


class GraphAppendingTracer(TracerBase):
    """The tracer of a Proxy made from a bare Node: appends to that node's graph."""

    def __init__(self, graph):
        super().__init__()
        self.graph = graph
        # (its Proxies come and go one by one in a rewrite loop: the tracer keeps the
        # dispatch layer on meanwhile, so it is not put in place and removed per Proxy)
        _overrides._keep_layer_while(self)
        self.scope = Scope("", None)
        self.module_stack = collections.OrderedDict()
        self.node_name_to_scope = {}


def _calling_instruction(frame):
    insts = list(dis.get_instructions(frame.f_code))
    from bisect import bisect_left
    i = bisect_left(insts, frame.f_lasti, key=lambda x: x.offset)
    return insts, i


class Proxy:
    """A Node flowing through the traced program: what is done to it becomes new nodes."""

    def __init__(self, node, tracer=None):
        if tracer is None:
            tracer = GraphAppendingTracer(node.graph)
        self.tracer = tracer
        self.node = node
        _overrides._keep_layer_while(self)

    def __repr__(self):
        return f"Proxy({self.node.name})"

    def __getattr__(self, k):
        return Attribute(self, k)

    def __getstate__(self):
        return self.__dict__

    def __setstate__(self, d):
        self.__dict__ = d

    def __deepcopy__(self, memo):
        import copy
        new = Proxy(copy.deepcopy(self.node, memo), copy.deepcopy(self.tracer, memo))
        for k, v in self.__dict__.items():
            if k not in ("node", "tracer"):
                new.__dict__[k] = copy.deepcopy(v, memo)
        return new

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy("call_method", "__call__", (self,) + args, kwargs)

    def __iter__(self):
        frame = inspect.currentframe().f_back
        insts, i = _calling_instruction(frame)
        if i < len(insts) and insts[i].opname == "UNPACK_SEQUENCE":
            return (self[k] for k in range(insts[i].argval))
        return self.tracer.iter(self)

    def __abs__(self):
        return self.tracer.create_proxy("call_function", operator.abs, (self,), {})

    def __bool__(self):
        if self.tracer.trace_asserts:
            frame = inspect.currentframe().f_back
            insts, cur = _calling_instruction(frame)
            inst = insts[cur] if cur < len(insts) else None
            if inst is not None and inst.opname.startswith("POP_JUMP") and "TRUE" in inst.opname:
                first = insts[cur + 1]
                if first.opname == "LOAD_ASSERTION_ERROR" or (
                        first.opname == "LOAD_GLOBAL" and first.argval == "AssertionError"):
                    self.tracer.create_proxy("call_function", assert_fn, (self,), {})
                    return True
        return self.tracer.to_bool(self)

    def keys(self):
        return self.tracer.keys(self)

    def __len__(self):
        raise RuntimeError("'len' is not supported in symbolic tracing by default. If you "
                           "want this call to be recorded, please call torch.fx.wrap('len') "
                           "at module scope")

    @classmethod
    def __torch_function__(cls, orig_method, types, args=None, kwargs=None):
        args = args if args else ()
        kwargs = kwargs if kwargs else {}
        tracers = {}

        def find_tracer(a):
            if isinstance(a, cls):
                tracers[a.tracer] = None
        map_aggregate(args, find_tracer)
        map_aggregate(kwargs, find_tracer)
        if len(tracers) > 1:
            raise RuntimeError(f"Found multiple different tracers {list(tracers)} while "
                               f"trying to trace operations {orig_method}")
        tracer = next(iter(tracers))
        if _overrides.is_tensor_method_or_property(orig_method):
            return tracer.create_proxy("call_method", orig_method.__name__, args, kwargs)
        return tracer.create_proxy("call_function", orig_method, args, kwargs,
                                   name=tracer.graph._target_to_str(
                                       _torch_function_name(orig_method)))


def assert_fn(x):
    if not x:
        raise AssertionError("Assertion failed")


class Attribute(Proxy):
    """proxy.attr: a getattr node when used as a value, a call_method when called."""

    def __init__(self, root, attr):
        self.root = root
        self.attr = attr
        self.tracer = root.tracer
        self._node = None
        _overrides._keep_layer_while(self)

    @property
    def node(self):
        if self._node is None:
            self._node = self.tracer.create_proxy("call_function", getattr,
                                                  (self.root, self.attr), {}).node
        return self._node

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy("call_method", self.attr, (self.root,) + args, kwargs)


class ParameterProxy(Proxy):
    """A parameter's proxy whose shape, size(), dim() ... are the parameter's own (the
    Tracer's param_shapes_constant=True)."""

    def __init__(self, tracer, node, name, param):
        super().__init__(node, tracer)
        self.param = param
        self.name = name

    def __repr__(self):
        return f"ParameterProxy({self.name})"

    @property
    def shape(self):
        return self.param.shape

    def size(self):
        return self.param.size()

    def dim(self):
        return self.param.dim()

    @property
    def ndim(self):
        return self.param.ndim

    def numel(self):
        return self.param.numel()

    def nelement(self):
        return self.param.nelement()


def _define_magic(method):
    def impl(*args, **kwargs):
        return args[0].tracer.create_proxy("call_function", getattr(operator, method),
                                           args, kwargs)
    impl.__name__ = method
    setattr(Proxy, f"__{method.strip('_')}__", impl)


def _define_reflectable(orig):
    name = f"__r{orig.strip('_')}__"

    def impl(self, rhs):
        return self.tracer.create_proxy("call_function", getattr(operator, orig),
                                        (rhs, self), {})
    impl.__name__ = impl.__qualname__ = name
    setattr(Proxy, name, impl)


for _m in magic_methods:
    _define_magic(_m)
for _m in reflectable_magic_methods:
    _define_reflectable(_m)
