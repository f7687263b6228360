"""torch.fx's GraphModule: an nn.Module holding a Graph, the submodules, parameters and
buffers its nodes name, and a `forward` generated from the graph (`.code`, torch 2.13's
text; recompile() after changing the graph). Pickling and deepcopy rebuild it from its
code, as torch does."""
from __future__ import annotations

import copy
import itertools
import linecache
import sys
import traceback

from .. import nn
from ..tensor import Tensor
from .graph import Graph

_next_id = itertools.count()
_IMPORTS = {"inf": "from math import inf", "nan": "from math import nan",
            "NoneType": "NoneType = type(None)", "torch": "import gpujit as torch",
            "device": "from gpujit import device"}


def _exec_with_source(src, globals_, co_fields=None):
    """exec src with its text in linecache, so tracebacks show the generated lines; the
    file name says where the traced function came from, as torch's."""
    key = f"<eval_with_key>.{next(_next_id)}"
    if co_fields and "co_filename" in co_fields:
        key = co_fields["co_filename"] if not {"co_firstlineno", "co_name"} <= set(co_fields) \
            else (f"{key} from {co_fields['co_filename']}:{co_fields['co_firstlineno']} in "
                  f"{co_fields['co_name']}")
    linecache.cache[key] = (len(src), None, src.splitlines(True), key)
    exec(compile(src, key, "exec"), globals_)


def _forward_from_src(src, globals_, co_fields=None):
    globals_ = dict(globals_)
    _exec_with_source(src, globals_, co_fields)
    return globals_["forward"]


def _format_import_block(globals_):
    lines = []
    for name, obj in globals_.items():
        if name in _IMPORTS:
            lines.append(_IMPORTS[name])
        else:
            module = obj.__module__
            lines.append(f"from {module} import {obj.__qualname__} as {name}")
    return "\n".join(lines)


def _copy_attr(from_module, to_module, target):
    *prefix, field = target.split(".")
    for item in prefix:
        f = getattr(from_module, item)
        t = getattr(to_module, item, None)
        if f is t:
            return          # a parent is installed already: it holds the rest
        if t is None:
            t = nn.Module()
            setattr(to_module, item, t)
        from_module, to_module = f, t
    orig = getattr(from_module, field)
    if isinstance(orig, Tensor) and not isinstance(orig, nn.Parameter):
        to_module.register_buffer(field, orig)
    else:
        setattr(to_module, field, orig)


def _assign_attr(from_obj, to_module, target):
    *prefix, field = target.split(".")
    for item in prefix:
        t = getattr(to_module, item, None)
        if t is None:
            t = nn.Module()
            setattr(to_module, item, t)
        to_module = t
    if isinstance(from_obj, Tensor) and not isinstance(from_obj, nn.Parameter):
        to_module.register_buffer(field, from_obj)
    else:
        setattr(to_module, field, from_obj)


def _get_attr(model, attr_name):
    for atom in attr_name.split("."):
        model = getattr(model, atom)
    return model


class _CodeOnlyModule(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.__dict__ = body


def _deserialize_graph_module(forward, body):
    from ._symbolic_trace import Tracer
    tracer_cls = body.get("_tracer_cls") or Tracer

    class KeepModules(tracer_cls):
        def is_leaf_module(self, m, qualname):
            return True

    _CodeOnlyModule.forward = forward
    com = _CodeOnlyModule(body)
    graph = KeepModules().trace(com)
    graph._tracer_cls = tracer_cls
    gm = GraphModule(com, graph, class_name=body.get("_graphmodule_cls_name", "GraphModule"))
    for k, v in body.items():
        if not hasattr(gm, k):
            setattr(gm, k, v)
    return gm


def reduce_graph_module(body, import_block):
    fn_src = body.get("_code")
    return _deserialize_graph_module(_forward_from_src(import_block + fn_src, {}), body)


class _WrappedCall:
    """A GraphModule's call: an error raised in its generated forward is shown with the
    generated lines around it (on stderr), as torch's."""

    def __init__(self, cls, cls_call):
        self.cls = cls
        self.cls_call = cls_call

    @staticmethod
    def _generate_error_message(frame_summary):
        lineno, line = frame_summary.lineno, frame_summary.line
        src = linecache.getlines(frame_summary.filename)
        msg = ("Call using an FX-traced Module, "
               f"line {lineno} of the traced Module's generated forward function:")
        return "\n".join([traceback.format_exc(), msg, "".join(src[lineno - 2:lineno]),
                          "~" * len(line) + "~~~ <--- HERE", "\n".join(src[lineno:lineno + 2])])

    def __call__(self, obj, *args, **kwargs):
        try:
            if self.cls_call is not None:
                return self.cls_call(obj, *args, **kwargs)
            return super(self.cls, obj).__call__(*args, **kwargs)
        except Exception as e:
            top = traceback.StackSummary.extract(traceback.walk_tb(e.__traceback__))[-1]
            if "eval_with_key" in top.filename:
                print(_WrappedCall._generate_error_message(top), file=sys.stderr)
                raise e.with_traceback(None)  # noqa: B904
            raise


class GraphModule(nn.Module):
    """GraphModule(root, graph, class_name='GraphModule'): root is the module (or a dict
    of qualified name -> object) that the graph's get_attr / call_module nodes read."""

    def __new__(cls, *args, **kwargs):
        # each instance its own class, so recompile() can set its forward
        for t in cls.__mro__:
            if t.__qualname__.split(".")[-1] != "GraphModuleImpl":
                cls = t
                break

        class GraphModuleImpl(cls):
            pass
        return super().__new__(GraphModuleImpl)

    def __init__(self, root, graph, class_name="GraphModule"):
        super().__init__()
        self.__class__.__name__ = class_name
        if isinstance(root, nn.Module):
            if hasattr(root, "training"):
                self.training = root.training
            if isinstance(root, _CodeOnlyModule):
                for k, _ in root.named_children():
                    _copy_attr(root, self, k)
                for k, _ in root.named_buffers():
                    _copy_attr(root, self, k)
                for k, _ in root.named_parameters():
                    _copy_attr(root, self, k)
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    _copy_attr(root, self, node.target)
        elif isinstance(root, dict):
            targets = []
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    if node.target not in root:
                        raise RuntimeError("Node " + str(node) + " referenced target " +
                                           node.target + " but that target was not provided "
                                           "in ``root``!")
                    targets.append(node.target)
            for t in sorted(targets, key=lambda t: t.count(".")):
                _assign_attr(root[t], self, t)
        else:
            raise RuntimeError("Unsupported type " + str(root) + " passed for root!")
        self._tracer_cls = None
        tc = graph._tracer_cls
        if tc and "<locals>" not in tc.__qualname__:
            self._tracer_cls = tc
        self.meta = {}
        self.graph = graph

    @property
    def graph(self):
        return self._graph

    @graph.setter
    def graph(self, g):
        if not isinstance(g, Graph):
            raise AssertionError(f"Expected a Graph instance, but got {type(g)}")
        self._graph = g
        g.owning_module = self
        self.recompile()

    @property
    def code(self):
        if not hasattr(self, "_code"):
            raise RuntimeError("Code has not been generated! Please report a bug to PyTorch")
        return self._code

    def recompile(self):
        """Generate forward again from self.graph (after the graph changed)."""
        python_code = self._graph.python_code(root_module="self")
        self._code = python_code.src
        cls = type(self)
        cls.forward = _forward_from_src(self._code, python_code.globals,
                                        self._graph._co_fields)
        cls_call = cls.__call__ if "__call__" in vars(cls) else None
        if "_wrapped_call" not in vars(cls):
            cls._wrapped_call = _WrappedCall(cls, cls_call)

        def call_wrapped(self, *args, **kwargs):
            return self._wrapped_call(self, *args, **kwargs)
        cls.__call__ = call_wrapped
        return python_code

    # ---------------------------------------------------------------- submodules
    def add_submodule(self, target, m):
        *prefix, field = target.split(".")
        mod = self
        for item in prefix:
            submod = getattr(mod, item, None)
            if submod is None:
                submod = nn.Module()
                setattr(mod, item, submod)
            if not isinstance(submod, nn.Module):
                return False
            mod = submod
        mod.add_module(field, m)
        return True

    def delete_submodule(self, target):
        atoms = target.split(".")
        path, target_submod = atoms[:-1], atoms[-1]
        mod = self
        for item in path:
            if not hasattr(mod, item):
                return False
            mod = getattr(mod, item)
            if not isinstance(mod, nn.Module):
                return False
        if not hasattr(mod, target_submod) or not isinstance(getattr(mod, target_submod),
                                                              nn.Module):
            return False
        delattr(mod, target_submod)
        return True

    def delete_all_unused_submodules(self):
        used = []
        for node in self.graph.nodes:
            if node.op in ("call_module", "get_attr"):
                fullpath = node.target.split(".")
                used.extend(".".join(fullpath[:i]) for i in range(1, len(fullpath) + 1))
        used = set(used)
        for name, _ in list(self.named_modules()):
            if name and name not in used:
                self.delete_submodule(name)

    # ---------------------------------------------------------------- copies / printing
    def __reduce__(self):
        body = self.__dict__.copy()
        python_code = self.recompile()
        del body["_graph"]
        return (reduce_graph_module, (body, _format_import_block(python_code.globals)))

    def __deepcopy__(self, memo):
        res = type(self).__new__(type(self))
        memo[id(self)] = res
        fake_mod = _CodeOnlyModule(copy.deepcopy(self.__dict__, memo))
        GraphModule.__init__(res, fake_mod, fake_mod.__dict__["_graph"])
        res.meta = copy.deepcopy(getattr(self, "meta", {}), memo)
        return res

    def __copy__(self):
        res = GraphModule(self, self.graph)
        res.meta = getattr(self, "meta", {})
        return res

    def print_readable(self, print_output=True):
        """The code as a class (torch's layout, which marks where stack traces would go)."""
        head, sep, body = self._code.lstrip("\n").partition("def forward")
        first, nl, rest = body.partition("\n")
        if any(n.op not in ("placeholder", "output") for n in self.graph.nodes):
            rest = "    # No stacktrace found for following nodes\n" + rest
        text = f"class {self._get_name()}(torch.nn.Module):\n" + head + sep + first + nl + rest
        first_line, *lines = text.split("\n")
        out = "\n".join([first_line] + [("    " + line).rstrip() for line in lines])
        if print_output:
            print(out)
        return out

    def __str__(self):
        return "\n".join([super().__str__(), self._code,
                          "# To see more debug info, please use `graph_module.print_readable()`"])

