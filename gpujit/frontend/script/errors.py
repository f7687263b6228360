"""Compile errors of the script frontend, in the user's terms: what is wrong, where in
their source (file, line, the line with the culprit marked `~~~ <--- HERE`), and a hint."""
from __future__ import annotations

__all__ = ["FrontendError", "NotSupportedError", "UnsupportedNodeError", "highlight",
           "lambda_error"]


def highlight(source_range, end_col=None) -> str:
    """  File "model.py", line 6, in fn
            r = 4
            ~~~~~ <--- HERE"""
    if source_range is None:
        return ""
    sr = source_range
    where = f'  File "{sr.filename}", line {sr.line}'
    fn = getattr(sr, "function", None)
    if fn:
        where += f", in {fn}"
    text = sr.text.rstrip("\n") if sr.text else ""
    if not text:
        return where
    stripped = text.lstrip()
    indent = len(text) - len(stripped)
    col = max(sr.col - indent, 0)
    width = max((end_col - sr.col) if end_col and end_col > sr.col else len(stripped) - col, 1)
    return (f"{where}\n        {stripped}\n        {' ' * col}{'~' * width} <--- HERE")


class FrontendError(RuntimeError):
    """A program gpujit.script cannot compile. `str(e)` is the whole message."""

    def __init__(self, message, source_range=None, *, end_col=None, hint=None, note=None,
                 used=None):
        self.message = message
        self.source_range = source_range
        self.hint = hint
        parts = [message]
        h = highlight(source_range, end_col)
        if h:
            parts.append(h)
        if note:
            parts.append(f"  ({note})")
        if used is not None:
            # (TorchScript's second frame of an error found where a value is read: a
            # variable an if left undefined or of two types)
            parts.append("and was used here:\n" + highlight(*used))
        if hint:
            parts.append(f"  Hint: {hint}")
        super().__init__("\n".join(parts))


class NotSupportedError(FrontendError):
    """A Python construct TorchScript does not support (`for ... else`, a format spec in
    an f-string): torch.jit.frontend.NotSupportedError's role, so code that catches
    that class catches it (and, as every gpujit compile error, RuntimeError)."""


class UnsupportedNodeError(NotSupportedError):
    """A statement or expression kind TorchScript has no rule for at all (`try`, a
    lambda, a nested `def`, `:=`): torch.jit.frontend.UnsupportedNodeError's role;
    the message starts with torch's words, '<what> aren't supported'."""


# torch.jit.frontend's names for the node kinds it refuses ("try blocks aren't supported")
TORCH_NODE_NAMES = {"FunctionDef": "function definitions", "For": "for loops",
                    "Delete": "del statements", "ClassDef": "class definitions",
                    "With": "with statements", "Raise": "raise statements",
                    "Assert": "assertions", "Import": "import statements",
                    "ImportFrom": "import statements", "Global": "global variables",
                    "Break": "break statements", "Continue": "continue statements",
                    "Try": "try blocks"}


def unsupported_node_words(node) -> str:
    k = type(node).__name__
    return f"{TORCH_NODE_NAMES.get(k, k)} aren't supported"


def lambda_error(fn) -> FrontendError:
    """A lambda given to script (or as a scripted module's hook): TorchScript parses the
    function's source lines, which hold no def: its words, at the lambda's line."""
    code = fn.__code__
    return FrontendError(f"Expected a single top-level function: {code.co_filename}:"
                         f"{code.co_firstlineno}", hint="define the function with def")
