"""str() of a value in scripted code (aten::str, `%s`): Python's text, except that an
Enum member, also inside a list, tuple or dict, is written as TorchScript writes it,
`Enum<Color.RED>` (str([Color.RED, Color.GREEN]) is `[Enum<Color.RED>, Enum<Color.GREEN>]`,
where Python writes `[<Color.RED: 1>, <Color.GREEN: 2>]`)."""
from __future__ import annotations

import enum

__all__ = ["script_str", "enum_text"]


def enum_text(member) -> str:
    """TorchScript's text of an Enum member: Enum<Color.RED>."""
    return f"Enum<{type(member).__name__}.{member.name}>"


def _holds_enum(v) -> bool:
    if isinstance(v, enum.Enum):
        return True
    if isinstance(v, (list, tuple, set)):
        return any(_holds_enum(x) for x in v)
    if isinstance(v, dict):
        return any(_holds_enum(k) or _holds_enum(x) for k, x in v.items())
    return False


def _item(v) -> str:
    """An element as its container writes it (Python's repr, TorchScript's Enum text)."""
    if isinstance(v, enum.Enum):
        return enum_text(v)
    if isinstance(v, (list, tuple, set, dict)) and _holds_enum(v):
        return _text(v)
    return repr(v)


def _text(v) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_item(k)}: {_item(x)}" for k, x in v.items()) + "}"
    items = [_item(x) for x in v]
    fields = getattr(type(v), "_fields", None)
    if isinstance(v, tuple) and fields is not None:          # a NamedTuple
        return f"{type(v).__name__}(" + ", ".join(
            f"{f}={x}" for f, x in zip(fields, items)) + ")"
    if isinstance(v, tuple):
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(v, set):
        return "{" + ", ".join(items) + "}" if items else "set()"
    return "[" + ", ".join(items) + "]"


def script_str(v) -> str:
    """str(v) as scripted code writes it (see the module's doc)."""
    if isinstance(v, enum.Enum):
        return enum_text(v)
    if isinstance(v, (list, tuple, set, dict)) and _holds_enum(v):
        return _text(v)
    return str(v)
