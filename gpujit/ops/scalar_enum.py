"""`==` / `!=` of Python Enum members in scripted code: TorchScript's
`aten::eq.enum(AnyEnumType a, AnyEnumType b) -> bool` (and `ne`). AnyEnumType matches
values of Enum types only (ir/schema_match.py), so these overloads never catch other
arguments. Members of different Enums are never equal, as in Python. (`x.name` /
`x.value` are the graph nodes prim::EnumName / prim::EnumValue, run by the interpreter
and the generated code; frontend/script/enums.py.)"""
from __future__ import annotations

import operator

from .scalar_ops import _scalar_op

for _name, _fn, _form in (("eq", operator.eq, "=="), ("ne", operator.ne, "!=")):
    def _cmp(xp, a, b, _fn=_fn):
        return _fn(a, b)
    _cmp.__name__ = f"{_name}_enum"
    _cmp.__doc__ = f"Python's {_form} on Enum members."
    globals()[_cmp.__name__] = _scalar_op(
        f"aten::{_name}.enum(AnyEnumType a, AnyEnumType b) -> bool",
        form="{a} %s {b}" % _form)(_cmp)
