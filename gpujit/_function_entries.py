"""__torch_function__ entry points of gpujit's Python-level public functions (F.mse_loss,
F.normalize, torch.split, torch.einsum ...).

PyTorch's start with `if has_torch_function(...): return handle_torch_function(<the
function>, ...)`, so a handler sees one call, with the public function as func, not the
ops inside. gpujit's get that check as the first statement of their own code while the
protocol's dispatch layer is on (a Tensor subclass with an active __torch_function__, a
pushed TorchFunctionMode or a tensor-like type exists): install() compiles each
function's source again with the check in front of its body and swaps the code in
(`fn.__code__`; a closure's is compiled inside a function binding the same names),
uninstall() swaps the original back. The function object stays the same (every reference
to it sees the check), no frame is added (warnings' stacklevels and the tracer's frames
stay as they are), and plain programs run the original code.

The check reads the call's parameters (`locals()` at the top of the body) for arguments
whose type has an active __torch_function__, as torch's code lists its Tensor parameters;
the handler gets the required parameters positionally and those with defaults by keyword
(as torch's functions pass them: handle_torch_function(split, (tensor,), tensor,
split_size_or_sections, dim=dim)), keyword-only ones only where they are not their default
(the generic wrappers' out=None), *args and **kwargs as they came.
"""
from __future__ import annotations

import __future__ as _future
import ast
import linecache
import os
import sys
import types

_NAMESPACES = ("gpujit", "gpujit.nn.functional", "gpujit.linalg", "gpujit.fft",
               "gpujit.special")
# namespaces of which PyTorch checks only some functions (the rest of torch.nn.init is
# library code: its Tensor calls are seen)
_ONLY = {"gpujit.nn.init": frozenset(("uniform_", "normal_", "constant_", "kaiming_uniform_"))}
_PKG_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_GLOBAL = "__gpujit_torch_function__"     # the check's name in each function's module
_FUTURE = 0
for _f in _future.all_feature_names:
    _FUTURE |= getattr(_future, _f).compiler_flag
_K = "<the function's index in _info>"      # (the check's placeholder)
_NOT_PLAIN = 0x20 | 0x80 | 0x100 | 0x200   # generators, coroutines, async generators

# public Python functions whose PyTorch counterparts are not entry points (torch.tensor(x),
# torch.save(x, f): the handler sees what they call; torch.jit's and the protocol's own)
_NOT_ROUTED = frozenset((
    "annotate", "compiled_with_cxx11_abi", "export", "from_dlpack", "get_ops",
    "get_printoptions", "ignore", "is_scripting", "script", "script_if_tracing",
    "to_dlpack", "trace_module", "unused", "has_torch_function", "has_torch_function_unary",
    "has_torch_function_variadic", "handle_torch_function", "trace", "vmap", "compile",
    "save", "load", "is_tensor", "is_storage", "typename", "from_numpy", "frombuffer",
    "upsample", "upsample_bilinear", "upsample_nearest", "sigmoid", "tanh", "set_rng_state",
    "broadcast_shapes", "set_default_dtype", "set_default_tensor_type",
    # (settings and RNG state: no mode sees them)
    "manual_seed", "range", "get_device_module", "use_deterministic_algorithms",
    "set_anomaly_enabled", "set_autocast_cache_enabled", "set_autocast_dtype",
    "set_autocast_enabled", "get_autocast_dtype", "is_autocast_enabled", "set_default_device",
    "set_deterministic_debug_mode", "set_float32_matmul_precision", "set_flush_denormal",
    "set_warn_always", "set_num_interop_threads", "set_num_threads", "set_printoptions"))

# private functions that are entry points in PyTorch (torch._assert(proxy == 1, msg):
# torch.fx records the call)
_PRIVATE_ROUTED = frozenset(("_assert",))

# ... and those whose PyTorch counterparts a TorchFunctionMode sees but a Tensor argument
# does not make an entry point (torch.tensor(x) reads x as data)
_MODES_ONLY = frozenset(("tensor", "as_tensor", "asarray"))

_table = None           # [(function, original code, code with the check)]
_info = []              # index -> (function, positional names, #posonly, *args, kw-only, **kw)


class _Check:
    """What the inserted statement calls: `if C.over(locals()): return C.call(k, locals())`."""
    __slots__ = ()

    @staticmethod
    def mode_on():
        from .overrides import _mode_on
        return _mode_on()

    @staticmethod
    def over(loc):
        from .overrides import _is_disabled, _mode_on, _overloaded
        if _is_disabled():
            return _mode_on()
        vals = tuple(loc.values())
        kw = [v for v in vals if type(v) is dict]     # (**kwargs)
        return bool(_overloaded(vals + tuple(x for d in kw for x in d.values()), [], set())) \
            or _mode_on()

    @staticmethod
    def call(k, loc):
        from .overrides import _call_overloaded, _is_disabled, _overloaded
        fn, pos, posonly, star, kwonly, starstar = _info[k]
        defaults = fn.__defaults__ or ()
        n_req = len(pos) - len(defaults)
        # torch's Python-level functions pass their parameters to the handler themselves
        # (required ones positionally, the others by keyword); its C++ functions (the
        # generic wrappers of registry ops, torch.flatten, F.conv2d ...) pass the call's
        # arguments: positional ones up to the last that is not its default
        python_level = id(fn) in _python_level_ids()
        if star is not None and (python_level or loc[star]):
            args = [loc[p] for p in pos] + list(loc[star])
            kwargs = {}
        elif python_level:
            args = [loc[p] for p in pos[:max(n_req, posonly)]]
            kwargs = {p: loc[p] for p in pos[max(n_req, posonly):]}
        else:
            n = len(pos)
            while n > n_req and _is_default(loc[pos[n - 1]], defaults[n - 1 - n_req]):
                n -= 1
            args, kwargs = [loc[p] for p in pos[:n]], {}
        kwd = fn.__kwdefaults__ or {}
        # (torch's Python-level functions pass their keyword-only parameters too:
        # meshgrid(*tensors, indexing=indexing); its builtins only those given)
        kwargs.update((p, loc[p]) for p in kwonly
                      if python_level or p not in kwd or loc[p] is not kwd[p])
        if starstar is not None:
            kwargs.update(loc[starstar])
        # (torch's C++ functions: their error's words, and only subclasses in types; a
        # Python-level function's types hold plain Tensors too)
        over = [] if _is_disabled() or fn.__name__ in _MODES_ONLY else _overloaded(
            tuple(args) + tuple(kwargs.values()), [], set(), python_level)
        if loc.get("return_indices") is True and fn.__name__ in _WITH_INDICES:
            # (torch's F.max_pool2d & co. are boolean_dispatch: return_indices=True calls
            # max_pool2d_with_indices, whose check the handler sees; same parameters)
            fn = fn.__globals__.get(fn.__name__ + "_with_indices", fn)
        return _call_overloaded(fn, over, tuple(args), kwargs, python_level=python_level)


_WITH_INDICES = frozenset(f"{kind}max_pool{d}d" for kind in ("", "adaptive_") for d in (1, 2, 3)) \
    | {"fractional_max_pool2d", "fractional_max_pool3d"}


_CHECK = _Check()

# the functions that are Python-level in torch 2.13 (the rest are C++ builtins there)
_TORCH_PYTHON_LEVEL = {
    "gpujit": (
        "_assert atleast_1d atleast_2d atleast_3d block_diag broadcast_tensors cartesian_prod "
        "chain_matmul cond eig lstsq lu matrix_rank meshgrid norm pca_lowrank solve split "
        "stft svd_lowrank sym_float sym_int sym_ite sym_max sym_min sym_not sym_sqrt sym_sum "
        "symeig tensordot unique unique_consecutive unravel_index while_loop"),
    "gpujit.nn.functional": (
        "adaptive_avg_pool2d adaptive_avg_pool3d adaptive_max_pool1d "
        "adaptive_max_pool1d_with_indices adaptive_max_pool2d adaptive_max_pool2d_with_indices "
        "adaptive_max_pool3d adaptive_max_pool3d_with_indices affine_grid alpha_dropout "
        "batch_norm binary_cross_entropy binary_cross_entropy_with_logits celu "
        "cosine_embedding_loss cross_entropy ctc_loss dropout dropout1d dropout2d dropout3d "
        "elu embedding embedding_bag feature_alpha_dropout fold fractional_max_pool2d "
        "fractional_max_pool2d_with_indices fractional_max_pool3d "
        "fractional_max_pool3d_with_indices gaussian_nll_loss glu grid_sample gumbel_softmax "
        "group_norm hardsigmoid hardswish hardtanh hinge_embedding_loss huber_loss "
        "instance_norm interpolate kl_div l1_loss layer_norm leaky_relu linear_cross_entropy "
        "local_response_norm log_softmax lp_pool1d lp_pool2d lp_pool3d margin_ranking_loss "
        "max_pool1d max_pool1d_with_indices max_pool2d max_pool2d_with_indices max_pool3d "
        "max_pool3d_with_indices max_unpool1d max_unpool2d max_unpool3d mish mse_loss "
        "multi_head_attention_forward multi_margin_loss multilabel_margin_loss "
        "multilabel_soft_margin_loss nll_loss normalize pad poisson_nll_loss relu relu6 "
        "rms_norm rrelu selu silu smooth_l1_loss soft_margin_loss softmax softmin softsign "
        "tanhshrink threshold triplet_margin_loss triplet_margin_with_distance_loss unfold"),
    "gpujit.nn.init": "constant_ kaiming_uniform_ normal_ uniform_"}
_py_ids = None


def _python_level_ids():
    global _py_ids
    if _py_ids is None:
        _py_ids = {id(getattr(sys.modules[ns], n)) for ns, names in _TORCH_PYTHON_LEVEL.items()
                   if ns in sys.modules for n in names.split() if hasattr(sys.modules[ns], n)}
    return _py_ids


def _is_default(v, d):
    if v is d:
        return True
    try:
        return type(v) is type(d) and bool(v == d)
    except Exception:
        return False


def routed_functions():
    """The public Python-level functions of gpujit's namespaces that are entry points (one
    per function object: F.channel_shuffle is torch.channel_shuffle's object), the generic
    wrappers of registry ops (ops/out_variants.py, ops/overloads.py: torch.add, torch.sum)
    included. Registry ops' generated entry points are not among them (the dispatch layer
    sees their calls)."""
    skip = _NOT_ROUTED
    out, seen = [], set()
    for modname in _NAMESPACES + tuple(_ONLY):
        mod = sys.modules.get(modname)
        if mod is None:
            continue
        only = _ONLY.get(modname)
        for name, v in list(vars(mod).items()):
            if ((name.startswith("_") and name not in _PRIVATE_ROUTED) or name in skip
                    or type(v) is not types.FunctionType
                    or id(v) in seen or "checks_torch_function" in v.__dict__
                    or (only is not None and name not in only)):
                continue
            code = v.__code__
            if (code.co_flags & _NOT_PLAIN
                    or not code.co_filename.startswith(_PKG_DIR)
                    or not (code.co_argcount or code.co_kwonlyargcount or code.co_flags & 0x0C)):
                continue
            seen.add(id(v))
            out.append(v)
    return out


def _last_line(code):
    """The last source line of code's own text (its nested functions' included)."""
    last = code.co_firstlineno
    for _, end, _, _ in code.co_positions():
        if end is not None and end > last:
            last = end
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            last = max(last, _last_line(c))
    return last


def _def_node(fn):
    """fn's `def` as parsed from its lines of its file (None where they are not the code
    that runs: the file changed after import)."""
    code = fn.__code__
    lines = linecache.getlines(code.co_filename)
    first, last = code.co_firstlineno, _last_line(code)
    text = lines[first - 1:last]
    if not text:
        return None
    indent = len(text[0]) - len(text[0].lstrip())
    # (blank lines before it: the nodes get their line numbers in the file)
    head = "\n" * (first - 2) + "if 1:\n" if indent else "\n" * (first - 1)
    try:
        tree = ast.parse(head + "".join(text))
    except SyntaxError:
        return None
    node = tree.body[0].body[0] if indent else tree.body[0]
    if not isinstance(node, ast.FunctionDef) or node.name != code.co_name:
        return None
    names = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
    n = code.co_argcount + code.co_kwonlyargcount
    return node if names == list(code.co_varnames[:n]) else None


def _at(tree, line, col):
    """Every node of tree placed at line, col (the code it compiles to runs as that line)."""
    for n in ast.walk(tree):
        if "lineno" in n._attributes:
            n.lineno = n.end_lineno = line
            n.col_offset = n.end_col_offset = col


def _with_check(fn, node):
    """fn's code compiled from node with the check in front of its body (None where the
    source is not the code that runs)."""
    line = node.lineno
    test = "mode_on()" if fn.__name__ in _MODES_ONLY else "over(locals())"
    check = ast.parse(f"if {_GLOBAL}.{test}:\n"
                      f"    return {_GLOBAL}.call({_K!r}, locals())").body[0]
    _at(check, line, node.col_offset)
    body = list(node.body)
    doc = (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
           and isinstance(body[0].value.value, str))
    new = ast.FunctionDef(node.name, node.args, body[:1] + [check] + body[1:] if doc
                          else [check] + body, [], node.returns, node.type_comment)
    ast.copy_location(new, node)
    new.end_lineno, new.end_col_offset = node.end_lineno, node.end_col_offset
    code = fn.__code__
    top = new
    if code.co_freevars:
        # (a closure: compiled inside a function binding the same names, its code takes
        # the same cells)
        top = ast.parse("def _outer():\n    "
                        + "; ".join(f"{v} = None" for v in code.co_freevars)).body[0]
        _at(top, line, 0)
        top.body.append(new)
    mod = compile(ast.Module([top], []), code.co_filename, "exec",
                  flags=code.co_flags & _FUTURE, dont_inherit=True)
    made = next(c for c in mod.co_consts if isinstance(c, types.CodeType))
    if code.co_freevars:
        made = next(c for c in made.co_consts if isinstance(c, types.CodeType))
    made = made.replace(co_firstlineno=code.co_firstlineno, co_name=code.co_name,
                        co_qualname=code.co_qualname)
    # (the text is the code that runs: the same variables, cells and names, the check's
    # aside; a file changed since import is left as it is)
    check_names = {_GLOBAL, "over", "mode_on", "call", "locals"}
    if (made.co_freevars != code.co_freevars or made.co_varnames != code.co_varnames
            or made.co_cellvars != code.co_cellvars
            or set(made.co_names) - check_names != set(code.co_names) - check_names):
        return None
    return made


def _build():
    table, made_for = [], {}        # (made_for: original code -> (code with the check, params))
    for fn in routed_functions():
        code = fn.__code__
        if code not in made_for:
            node = _def_node(fn)
            made = _with_check(fn, node) if node is not None else None
            a = node.args if made is not None else None
            made_for[code] = made and (made, (
                [p.arg for p in a.posonlyargs + a.args], len(a.posonlyargs),
                a.vararg.arg if a.vararg else None, [p.arg for p in a.kwonlyargs],
                a.kwarg.arg if a.kwarg else None))
        if not made_for[code]:
            continue
        made, params = made_for[code]
        # (one code per function: its index in _info replaces the placeholder)
        consts = tuple(len(_info) if type(c) is str and c == _K else c for c in made.co_consts)
        _info.append((fn,) + params)
        table.append((fn, code, made.replace(co_consts=consts)))
    return table


def install():
    """Swap the code with the check in (the first time: make it)."""
    global _table
    if _table is None:
        _table = _build()
    for fn, _orig, made in _table:
        fn.__globals__[_GLOBAL] = _CHECK
        fn.__code__ = made


def uninstall():
    for fn, orig, _made in _table or ():
        fn.__code__ = orig
