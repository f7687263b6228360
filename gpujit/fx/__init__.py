"""torch.fx for gpujit: symbolic tracing into a Python-level graph (Graph / Node), code
generation into a GraphModule, Interpreter / Transformer, ShapeProp and replace_pattern,
printed and generated as torch 2.13's. Independent of gpujit.jit's TorchScript IR; Proxy
reaches gpujit's functions through __torch_function__ (gpujit/overrides.py)."""
from .graph import Graph
from .graph_module import GraphModule
from .interpreter import Interpreter, Transformer
from .node import Node, has_side_effect, map_arg
from .proxy import Proxy
from ._symbolic_trace import PH, Tracer, symbolic_trace, wrap
from .subgraph_rewriter import replace_pattern

__all__ = ["symbolic_trace", "Tracer", "wrap", "Graph", "GraphModule", "Interpreter",
           "Transformer", "Node", "Proxy", "replace_pattern", "has_side_effect", "map_arg",
           "PH"]
