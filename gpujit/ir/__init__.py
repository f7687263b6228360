"""The graph IR (TorchScript's): types, Graph/Block/Node/Value, the text printer and
parser, lint, and the link from nodes to the op registry."""
from .types import *  # noqa: F401,F403
from .types import __all__ as _types_all
from .graph import Graph, Block, Node, Value, Use, SourceRange, LintError, clone_node
from .parser import parse_ir, parse_type, IRParseError
from .printer import format_constant, SUBGRAPH_ATTR
from .python_printer import python_source
from .schema_match import (resolve_op, type_matches, has_side_effects, is_mutating,
                           is_nondeterministic)

__all__ = list(_types_all) + [
    "Graph", "Block", "Node", "Value", "Use", "SourceRange", "LintError", "clone_node",
    "parse_ir", "parse_type", "python_source", "IRParseError", "format_constant", "SUBGRAPH_ATTR",
    "resolve_op", "type_matches", "has_side_effects", "is_mutating", "is_nondeterministic"]
