"""A developer tool (not collected by pytest; needs PyTorch): every registry op's OpInfo
samples (tests/opinfo) run through torch and gpujit by public name (function, then method),
differences printed as JSON lines.

    python tests/opinfo_torch_sweep.py grad      # grad_fn names and next_functions' names
    python tests/opinfo_torch_sweep.py values    # dtype, shape, strides, values, error class

Session 37 found with it the grad_fn names of 60+ ops, the view_copy ops' strides and float16
addmm's rounding; what it still reports is listed in that session's closing note (many rows
are known: random ops, gpujit dtypes handed to torch, scripted-only overloads)."""
from __future__ import annotations

import json
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

RANDOM = ("rand", "normal", "bernoulli", "multinomial", "dropout", "poisson", "random",
          "uniform", "exponential", "cauchy", "geometric", "log_normal", "empty", "sample",
          "gamma", "binomial", "seed")


def _conv(lib, v, grad):
    if isinstance(v, np.ndarray):
        t = lib.from_numpy(v.copy())
        if grad and v.dtype.kind == "f":
            t.requires_grad_(True)
        return t
    if isinstance(v, (list, tuple)):
        return type(v)(_conv(lib, x, grad) for x in v)
    return v


def _call(lib, base, sample, grad):
    """The op's result through lib (function of torch / torch.nn.functional / special /
    linalg, else a method of the first argument), or {"err": class, "msg": words}."""
    err = None
    for method in (False, True):
        try:
            args = _conv(lib, sample.args, grad)
            kw = {k: _conv(lib, v, grad) for k, v in sample.kwargs.items()}
            if method:
                if not (args and hasattr(args[0], base)):
                    continue
                return getattr(args[0], base)(*args[1:], **kw)
            f = (getattr(lib, base, None) or getattr(lib.nn.functional, base, None)
                 or getattr(lib.special, base.replace("special_", ""), None)
                 or getattr(lib.linalg, base.replace("linalg_", ""), None))
            if f is None:
                continue
            return f(*args, **kw)
        except Exception as e:      # noqa: BLE001
            err = {"err": type(e).__name__, "msg": str(e)[:120]}
    return err


def _grad_desc(y):
    if isinstance(y, (tuple, list)):
        return [_grad_desc(x) for x in y[:3]]
    if isinstance(y, dict) or not hasattr(y, "grad_fn"):
        return y if isinstance(y, dict) else None
    g = y.grad_fn
    if g is None:
        return ["nograd", bool(y.requires_grad)]
    return [type(g).__name__, [type(n).__name__ if n is not None else None
                               for n, _ in g.next_functions]]


def _value_desc(y):
    if isinstance(y, (tuple, list)):
        return [_value_desc(x) for x in y[:4]]
    if isinstance(y, dict):
        return y
    if hasattr(y, "stride") and hasattr(y, "dtype"):
        return {"dtype": str(y.dtype).split(".")[-1], "shape": list(y.shape),
                "stride": list(y.stride()), "vals": y.detach().numpy()}
    return {"py": y if isinstance(y, (int, float, bool, str, type(None)))
            else type(y).__name__}


def _same_values(t, g):
    if isinstance(t, list):
        return isinstance(g, list) and len(t) == len(g) and all(
            _same_values(a, b) is True for a, b in zip(t, g))
    if not isinstance(g, dict):
        return False
    if "py" in t or "err" in t:
        return t.get("py") == g.get("py") if "py" in t else g.get("err") == t["err"]
    if "dtype" not in g or (t["dtype"], t["shape"]) != (g["dtype"], g["shape"]):
        return False
    if t["stride"] != g["stride"] and np.prod(t["shape"]) > 1:
        return "stride"
    a, b = t["vals"], g["vals"]
    if a.dtype.kind in "fc":
        return bool(np.allclose(a, b, rtol=1e-3, atol=1e-4, equal_nan=True))
    return bool(np.array_equal(a, b))


def _strip(d):
    if isinstance(d, list):
        return [_strip(x) for x in d]
    return {k: v for k, v in d.items() if k != "vals"} if isinstance(d, dict) else d


def main(mode):
    warnings.filterwarnings("ignore")
    import torch
    import gpujit
    from gpujit.ops import registry
    from opinfo import all_opinfos, ErrorSample
    infos = all_opinfos()
    for qn in sorted(infos):
        op = registry.OPS.get(qn)
        if op is None:
            continue
        base = op.schema.base_name
        if mode == "grad" and (base.endswith("_") or op.inplace_of is not None):
            continue
        if mode == "values" and any(r in base for r in RANDOM):
            continue
        try:
            samples = infos[qn].get_samples()
        except Exception:       # noqa: BLE001
            continue
        for k, s in enumerate(samples[:6]):
            if mode == "grad" and (isinstance(s, ErrorSample) or not any(
                    isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in s.args)):
                continue
            desc = _grad_desc if mode == "grad" else _value_desc
            t = desc(_call(torch, base, s, mode == "grad"))
            g = desc(_call(gpujit, base, s, mode == "grad"))
            if t is None or (isinstance(t, dict) and "err" in t and mode == "grad"):
                continue
            if mode == "grad":
                differs = t != g
            else:
                differs = _same_values(t, g) is not True
            if differs:
                print(json.dumps({"op": qn, "sample": k, "s": repr(s)[:160],
                                  "torch": _strip(t), "gpujit": _strip(g)}, default=str),
                      flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "grad")
