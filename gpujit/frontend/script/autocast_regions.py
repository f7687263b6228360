"""`with torch.autocast(...):` in scripted code (WithMixin's part).

The region's arguments are read when the function is compiled, as TorchScript reads them:
device_type (torch.autocast / torch.amp.autocast; torch.cuda.amp.autocast is 'cuda',
torch.cpu.amp.autocast 'cpu'), dtype and enabled must be constants (a literal, a global,
`torch.float16`). The region becomes prim::Enter / prim::Exit nodes named "autocast" with
attributes device_type, dtype (its name) and enabled; the autocast pass
(passes/autocast.py) puts the casts in front of the ops inside once calls are inlined.
An autocast object may be made first and entered later (`on = autocast(); with on:`);
choosing one at run time (`with a if c else b:`) is refused, as in TorchScript.
"""
from __future__ import annotations

import ast
import inspect

from ...ir.with_objects import OBJECT_META
from ...passes.autocast import REGION as AUTOCAST
from .errors import FrontendError

__all__ = ["AutocastMixin", "AUTOCAST", "OBJECT_META"]


class AutocastMixin:
    """FunctionCompiler's autocast regions (self is the compiler)."""

    def autocast_class(self, func):
        """The autocast class func (an AST) names, or None."""
        from ...amp import autocast
        if not isinstance(func, (ast.Name, ast.Attribute)):
            return None
        try:
            found, obj = self.py_object(func)
        except FrontendError:           # torch.<an op>: compiled (and refused) elsewhere
            return None
        return obj if found and isinstance(obj, type) and issubclass(obj, autocast) else None

    def autocast_region(self, expr):
        """The attributes of the region `with expr:` opens (a dict), or None when expr
        is not an autocast object."""
        if isinstance(expr, ast.Name) and self.lookup_var(expr.id) is None:
            spec = getattr(self, "autocast_vars", {}).get(expr.id)
            if spec is not None:
                return spec
        if isinstance(expr, ast.IfExp) and any(
                self.autocast_region(e) is not None for e in (expr.body, expr.orelse)):
            self.error(f"`with {ast.unparse(expr)}:` chooses an autocast region at run time, "
                       f"which scripted code does not support: the region's arguments must "
                       f"be constants", expr, hint="write one `with` per branch of an `if`")
        if not isinstance(expr, ast.Call):
            return None
        cls = self.autocast_class(expr.func)
        return None if cls is None else self._autocast_spec(cls, expr)

    def autocast_assign(self, s):
        """`name = autocast(...)`: the region is kept by name for a later `with name:`
        (scripted code has no autocast object). True when s was one."""
        if not (len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)
                and isinstance(s.value, ast.Call)):
            return False
        cls = self.autocast_class(s.value.func)
        if cls is None:
            return False
        if not hasattr(self, "autocast_vars"):
            self.autocast_vars = {}
        self.autocast_vars[s.targets[0].id] = self._autocast_spec(cls, s.value)
        return True

    def _autocast_spec(self, cls, call):
        from ...amp import cuda_amp, cpu_amp
        from ...amp import autocast_mode as _am
        from ... import dtypes as _dt
        what = f"`{ast.unparse(call)}`"
        params = list(inspect.signature(cls.__init__).parameters)[1:]
        try:
            bound = inspect.Signature([inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                                       for p in params]).bind_partial(
                *call.args, **{k.arg: k.value for k in call.keywords})
        except TypeError as e:
            self.error(f"{what}: {e}", call)
        args = {k: self._autocast_const(k, v, what) for k, v in bound.arguments.items()}
        if cls is cuda_amp.autocast:
            device = "cuda"
        elif cls is cpu_amp.autocast:
            device = "cpu"
        else:
            device = args.get("device_type")
            if device is None:
                self.error(f"{what}: autocast() missing its device_type ('cpu' or 'cuda')",
                           call)
        try:
            _am._check_device_type(device)
        except (RuntimeError, ValueError) as e:
            self.error(f"{what}: {e}", call)
        enabled = args.get("enabled", True)
        if not isinstance(enabled, bool):
            self.error(f"{what}: autocast's enabled argument must be a bool constant", call)
        dtype = args.get("dtype")
        if dtype is None:
            dtype = _am._state.dtype[device]
        elif not isinstance(dtype, _dt.dtype):
            self.error(f"{what}: autocast's dtype must be a torch.dtype", call)
        if enabled and dtype not in (_dt.float16, _dt.bfloat16) and device == "cpu":
            enabled = False         # eager autocast warns and disables such a region
        return {"device_type": device, "dtype": (dtype or _dt.float16).name,
                "enabled": enabled, OBJECT_META: self._autocast_object(cls, params, args)}

    def _autocast_object(self, cls, params, args):
        """(TorchScript's class of the autocast object, its __init__ arguments as the
        program passed them, defaults filled in) for `.graph` / `.code` (ir/with_objects):
        torch.autocast("cpu") is autocast("cpu", None, True, None); torch.cpu.amp's and
        torch.cuda.amp's classes have (enabled, dtype, cache_enabled), their dtype
        defaulting to bfloat16 / float16."""
        from ...amp import cuda_amp, cpu_amp
        from ... import dtypes as _dt
        where = {cuda_amp.autocast: "cuda.amp.", cpu_amp.autocast: "cpu.amp."}.get(cls, "amp.")
        defaults = {"enabled": True}
        if where != "amp.":
            defaults = {"enabled": True, "cache_enabled": True, "dtype": (
                _dt.bfloat16 if where == "cpu.amp." else _dt.float16)}
        out = []
        for p in params:
            v = args.get(p, defaults.get(p))
            out.append(_dt.scalar_type_code(v) if isinstance(v, _dt.dtype) else v)
        return f"__torch__.torch.{where}autocast_mode.autocast", tuple(out)

    def _autocast_const(self, name, node, what):
        if isinstance(node, ast.Constant):
            return node.value
        found, obj = self.py_object(node) if isinstance(node, (ast.Name, ast.Attribute)) \
            else (False, None)
        if found:
            return obj
        self.error(f"{what}: autocast's {name} argument must be a constant in scripted "
                   f"code (a literal or a global), not a value known only at run time",
                   node)
