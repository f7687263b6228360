"""TorchScript's rule for script classes: `self.x: int = ...` (an annotated instance
attribute) may only appear in __init__; elsewhere the class is refused with ValueError."""
from __future__ import annotations

import ast
import inspect
import textwrap

from .errors import highlight


class _Range:
    def __init__(self, filename, line, col, text, function):
        self.filename, self.line, self.col, self.text = filename, line, col, text
        self.function = function


def check_instance_annotations(cls):
    """Raise ValueError at the first `self.<attr>: T = ...` in a method other than
    __init__ (TorchScript's words), with the line marked."""
    for name, fn in vars(cls).items():
        if name == "__init__" or not inspect.isfunction(fn):
            continue
        try:
            lines, first = inspect.getsourcelines(fn)
            tree = ast.parse(textwrap.dedent("".join(lines)))
        except (OSError, TypeError, SyntaxError):
            continue
        for node in ast.walk(tree):
            t = node.target if isinstance(node, ast.AnnAssign) else None
            if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and \
                    t.value.id == "self":
                text = lines[node.lineno - 1]
                sr = _Range(inspect.getsourcefile(fn) or "<unknown>",
                            first + node.lineno - 1, len(text) - len(text.lstrip()),
                            text, name)
                raise ValueError(
                    f"Type annotations on instance attributes must be declared in "
                    f"__init__, not '{name}': {ast.unparse(node)}\n{highlight(sr)}\n"
                    f"  (TorchScript refuses the class: annotations on instance attributes "
                    f"must be declared in __init__)")
