"""SummaryWriter.add_graph's GraphDef: the module traced with gpujit.jit.trace, its graph
inlined, one NodeDef per value named by module scope ("Net/Linear[fc]/input.1"), as
PyTorch's torch/utils/tensorboard/_pytorch_graph.py builds it, so TensorBoard's graph tab
draws the same boxes."""
import contextlib

from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.config_pb2 import RunMetadata
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.step_stats_pb2 import DeviceStepStats, StepStats
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef


def node_proto(name, op="UnSpecified", input=None, outputsize=None, attributes=""):
    if input is None:
        input = []
    if not isinstance(input, list):
        input = [input]
    attr = {}
    if attributes is not None:
        attr["attr"] = AttrValue(s=attributes.encode(encoding="utf_8"))
    if outputsize is not None:
        shape = TensorShapeProto(dim=[TensorShapeProto.Dim(size=d) for d in outputsize])
        attr["_output_shapes"] = AttrValue(list=AttrValue.ListValue(shape=[shape]))
    return NodeDef(name=name.encode(encoding="utf_8"), op=op, input=input, attr=attr)


class _Entry:
    """One NodeDef to be: a graph input / output ("IO Node"), a parameter, or an op's
    output (its node's kind, inputs, scope and attributes)."""
    __slots__ = ("name", "inputs", "scope", "size", "kind", "attributes", "io")

    def __init__(self, name, inputs=(), scope=None, size=None, kind="UnSpecified",
                 attributes="", io=None):
        self.name, self.inputs, self.scope, self.size = name, list(inputs), scope, size
        self.kind, self.attributes, self.io = kind, attributes, io


def _sizes(v):
    return list(v.type().sizes()) if v.isCompleteTensor() else None


def _io_sizes(v):
    # (PyTorch reads an input's / output's sizes, [1] where it has none: a constant model)
    sizes = _sizes(v)
    return [1] if sizes is None else sizes


def _attributes(node):
    return str({k: getattr(node, node.kindOf(k))(k)
                for k in node.attributeNames()}).replace("'", " ")


def parse(graph, trace, omit_useless_nodes=True):
    """NodeDefs of an inlined traced graph (see the module docstring)."""
    from ...jit.script_module import TracedModule
    entries = {}                         # debug name -> _Entry (graph order)
    ops = []                             # [node, its scope] (scope rewritten below)
    for v in graph.inputs():
        if omit_useless_nodes and not v.uses():
            continue
        if v.type().kind() != "ClassType":
            entries[v.debugName()] = _Entry(v.debugName(), size=_io_sizes(v),
                                            kind="IO Node", io="input")
    attr_scope = {}
    for n in graph.nodes():
        scope = n.scopeName()
        if n.kind() == "prim::GetAttr":
            key = n.output().debugName()
            parent = n.input().node()
            if parent.kind() == "prim::GetAttr":
                parent_scope = attr_scope[parent.output().debugName()]
                last = parent_scope.split("/")[-1]
                attr_scope[key] = f"{parent_scope}/{last}.{n.s('name')}"
            else:
                attr_scope[key] = f"__module.{n.s('name')}"
            if n.output().type().kind() == "ClassType":
                continue
            scope = attr_scope[key]
        ops.append([n, scope])
    for i, v in enumerate(graph.outputs()):     # (the outputs before the ops' values)
        entries[f"output.{i + 1}"] = _Entry(f"output.{i + 1}", inputs=[v.debugName()],
                                            size=_io_sizes(v), kind="IO Node", io="output")

    def module_name(m):
        return m._name if isinstance(m, TracedModule) else getattr(m, "original_name",
                                                                    "Module")

    alias = {name: f"{module_name(m)}[{name.split('.')[-1]}]"
             for name, m in trace.named_modules(prefix="__module")}
    base = module_name(trace)
    for op in ops:
        parts = [alias.get(a, a.split(".")[-1]) for a in op[1].split("/")]
        op[1] = base + ("/" + "/".join(parts) if any(parts) else "")

    # every op output becomes an entry in its node's scope; the shallowest scope is the
    # common root that scope-less inputs hang under
    root = "default"
    for n, scope in ops:
        attrs = _attributes(n)
        for v in n.outputs():
            entries[v.debugName()] = _Entry(v.debugName(),
                                             [i.debugName() for i in n.inputs()], scope,
                                             _sizes(v), n.kind(), attrs)
            if scope:
                root = scope.split("/")[0]
    scoped = {}
    for n, scope in ops:
        for i in n.inputs():
            scoped[i.debugName()] = scope + "/" + i.debugName()
    for key, e in entries.items():
        if e.io is None:
            scoped[key] = e.scope + "/" + e.name
        else:
            scoped[key] = e.io + "/" + e.name
        if e.scope is not None and e.scope == "" and root:
            scoped[e.name] = root + "/" + e.name
    for e in entries.values():
        e.inputs = [scoped[i] for i in e.inputs]
        e.name = scoped.get(e.name, e.name)
    return [node_proto(e.name, input=e.inputs, outputsize=e.size, op=e.kind,
                       attributes=e.attributes) for e in entries.values()]


@contextlib.contextmanager
def _eval_mode(model):
    from ...jit import ScriptFunction
    if isinstance(model, ScriptFunction):
        yield
        return
    training = model.training
    model.train(False)
    try:
        yield
    finally:
        model.train(training)


def graph(model, args, verbose=False, use_strict_trace=True):
    """(GraphDef, RunMetadata) of the model traced on args, in eval mode."""
    from ... import jit, _C
    with _eval_mode(model):
        try:
            trace = jit.trace(model, args, strict=use_strict_trace)
            g = trace.graph
            _C._jit_pass_inline(g)
        except RuntimeError as e:
            print(e)
            print("Error occurs, No graph saved")
            raise e
    if verbose:
        print(g)
    nodes = parse(g, trace)
    stats = RunMetadata(step_stats=StepStats(dev_stats=[DeviceStepStats(device="/device:CPU:0")]))
    return GraphDef(node=nodes, versions=VersionDef(producer=22)), stats


def load_onnx_graph(fname):
    """A GraphDef of an ONNX model file: a "Variable" per graph input and output, a node
    per ONNX node (its attributes as one "parameters" string); names printed as read."""
    import onnx
    g = onnx.load(fname).graph
    nodes = []
    for v in list(g.input) + list(g.output):
        print(v.name)
        t = v.type.tensor_type
        shape = TensorShapeProto(dim=[TensorShapeProto.Dim(size=d.dim_value)
                                      for d in t.shape.dim])
        nodes.append(NodeDef(name=v.name.encode(encoding="utf_8"), op="Variable", input=[],
                             attr={"dtype": AttrValue(type=t.elem_type),
                                   "shape": AttrValue(shape=shape)}))
    for n in g.node:
        params = ", ".join(" = ".join(str(f[1]) for f in a.ListFields())
                           for a in n.attribute)
        print(n.output[0])
        nodes.append(NodeDef(name=n.output[0].encode(encoding="utf_8"), op=n.op_type,
                             input=n.input,
                             attr={"parameters": AttrValue(s=params.encode(encoding="utf_8"))}))
    return GraphDef(node=nodes, versions=VersionDef(producer=22))
