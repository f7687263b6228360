"""`torch.jit.script(F.relu)`: scripting a function of gpujit's own library directly.

TorchScript compiles torch.nn.functional's (and torch.functional's, torch.nn.init's)
Python-level functions from their source, and refuses torch's C++ builtins
(`torch.jit.script(F.linear)`: TypeError "<class 'builtin_function_or_method'> is a
built-in class"). gpujit's library is laid out differently (F.relu is a Python adapter
over aten::relu, F.linear a Python function bound from the registry, helpers like `_act`
that scripted code never sees), so what happens is decided by the name the function has in
torch, not by how gpujit wrote it:

- a name that is a C++ builtin in torch (`F_BUILTINS`; at top level a function that
  stands for a registry op, but torch.functional's `_TORCH_PY_FUNCTIONS`) raises torch's
  TypeError;
- a function that scripted code compiles from its own source (`_from_source`: F.tanhshrink)
  compiles as before;
- any other is compiled as a function with the same signature whose body is the call of it,
  as scripted code calls it (`return F.relu(input, False)`), so its graph calls the same
  ops a scripted caller's does. A bool parameter that the op has no argument for
  (`inplace`) must be a constant in such a call; the body branches on it, as torch's
  source does (`if inplace: relu_ else: relu`); so does a loss's `reduction` (a str for
  ATen's int enum: one call per value, torch's ValueError for another), after torch's
  deprecated size_average / reduce are folded into it. Parameter types: the function's
  annotations, else its op's schema argument of that name, else its default's type, else
  Tensor. The synthesized source is registered in linecache, so errors show it.
"""
from __future__ import annotations

import inspect
import linecache
import warnings

__all__ = ["library_home", "number_argument_refusal", "script_library_function",
           "torch_signature_refusal", "F_BUILTINS", "F_UNSCRIPTABLE"]

# torch.nn.functional's names that torch binds from C++ (builtin_function_or_method)
F_BUILTINS = frozenset("""
adaptive_avg_pool1d avg_pool1d avg_pool2d avg_pool3d bilinear celu_ channel_shuffle conv1d
conv2d conv3d conv_tbc conv_transpose1d conv_transpose2d conv_transpose3d cosine_similarity
elu_ gelu hardshrink hardtanh_ leaky_relu_ linear logsigmoid native_channel_shuffle one_hot
pairwise_distance pdist pixel_shuffle pixel_unshuffle prelu relu_ rrelu_
scaled_dot_product_attention selu_ softplus softshrink threshold_
""".split())

# F functions whose Python source torch 2.13's TorchScript refuses: its words
F_UNSCRIPTABLE = {
    "gaussian_nll_loss": "Comprehension ifs are not supported yet",
    "triplet_margin_with_distance_loss": "Compiled functions can't take variable number "
                                         "of arguments or use keyword-only arguments with "
                                         "defaults",
}

# torch's top-level functions that are Python (torch.functional and the like); every
# other top-level function is a C++ builtin
_TORCH_PY_FUNCTIONS = frozenset("""
atleast_1d atleast_2d atleast_3d align_tensors broadcast_shapes broadcast_tensors
block_diag cartesian_prod cdist chain_matmul einsum lu meshgrid norm split stft istft
tensordot unique unique_consecutive unravel_index manual_seed seed initial_seed
""".split())

# functions declared with @torch.jit._overload in torch.functional (F.interpolate and the
# upsample functions are declared so in gpujit too): torch refuses to compile them on
# their own
_TORCH_OVERLOADED = frozenset(("norm", "tensordot"))

_REDUCTIONS = ("none", "mean", "sum")

# torch.nn._reduction.legacy_get_string, as scripted torch compiles it
_LEGACY_SOURCE = """

def _legacy_reduction(size_average: Optional[bool], reduce: Optional[bool]) -> str:
    sa = True if size_average is None else size_average
    rd = True if reduce is None else reduce
    if sa and rd:
        ret = "mean"
    elif rd:
        ret = "sum"
    else:
        ret = "none"
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  "reduction='" + ret + "' instead.")
    return ret
"""

_TYPE_NAMES = {"Tensor": "Tensor", "int": "int", "float": "float", "bool": "bool",
               "str": "str", "Scalar": "float", "SymInt": "int", "ScalarType": "int",
               "Device": "Device", "Generator": "Generator"}


def library_home(obj):
    """(module, public name) of a gpujit library function: where torch's user finds it
    (gpujit.nn.functional first, then gpujit, then gpujit.nn.init), or None."""
    import gpujit
    from .calls import is_gpujit_name
    if not callable(obj) or not is_gpujit_name(getattr(obj, "__module__", "") or ""):
        return None
    for home in (gpujit.nn.functional, gpujit, gpujit.nn.init):
        name = getattr(obj, "__name__", None)
        if name and getattr(home, name, None) is obj:
            return home, name
        for k in dir(home):
            if not k.startswith("__") and getattr(home, k, None) is obj:
                return home, k
    return None


def is_torch_builtin(home, name, obj=None) -> bool:
    """Is home.name a C++ builtin in torch? In F, by torch's list; at top level, a
    function that stands for a registry op (torch.add, torch.numel) and is not one of
    torch.functional's; torch's other top-level Python functions (torch.manual_seed,
    torch.is_tensor) are not, and compile (or fail) from their own source."""
    import gpujit
    if home is gpujit.nn.functional:
        return name in F_BUILTINS
    if home is gpujit and name not in _TORCH_PY_FUNCTIONS:
        from .calls import candidates_for_function
        return getattr(obj, "op", None) is not None or bool(candidates_for_function(name))
    return False


def _schema_annotation(t):
    base = _TYPE_NAMES.get(t.base)
    if base is None:
        return None
    if t.is_list:
        base = f"List[{f'Optional[{base}]' if t.elem_optional else base}]"
    return f"Optional[{base}]" if t.optional else base


def _param_annotation(fn, p, schema_args, hints):
    from .calls import _ALIASES
    if p.name in hints:
        return None                     # (the function's own annotation, kept as written)
    names = (p.name,) + _ALIASES.get(p.name, ())
    arg = next((schema_args[n] for n in names if n in schema_args), None)
    d = p.default
    scalar = isinstance(d, (bool, int, float, str)) and d is not None
    if arg is not None:
        ann = _schema_annotation(arg.type)
        if ann is not None and scalar and arg.type.is_list and arg.type.list_size and \
                ann.replace("Optional[", "").rstrip("]") == f"List[{type(d).__name__}":
            return ann          # (padding=0 for aten's int[2]: a BroadcastingList2, [0, 0])
        if ann is not None and scalar and ann.replace("Optional[", "").rstrip("]") not in (
                type(d).__name__, "float" if type(d) is int else None):
            ann = None          # (reduction="mean" for ATen's int)
        if ann is not None:
            if d is None and not ann.startswith("Optional["):
                ann = f"Optional[{ann}]"
            return ann
    if isinstance(d, bool):
        return "bool"
    if isinstance(d, (int, float, str)):
        return type(d).__name__
    return "Optional[Tensor]" if d is None else "Tensor"


def script_library_function(obj, home, name):
    """The Python function that gpujit.script compiles for the library function obj
    (bound as home.name): see the module docstring. Raises torch's TypeError for torch's
    C++ builtins; returns obj itself when it compiles from its own source or cannot be
    wrapped (*args: the compiler's own refusal follows)."""
    from .function_calls import compiled_from_source
    if is_torch_builtin(home, name, obj):
        raise TypeError("<class 'builtin_function_or_method'> is a built-in class")
    import gpujit
    from .errors import FrontendError, NotSupportedError
    from ..._jit_internal import _get_overloads
    if (home is gpujit.nn.functional and _get_overloads(obj)) or \
            (home is gpujit and name in _TORCH_OVERLOADED):
        where = "torch.nn.functional" if home is gpujit.nn.functional else "torch.functional"
        raise FrontendError(
            f"Function __torch__.{where}.{name} cannot be directly compiled "
            f"because it is overloaded. It must be used in a context of a function where "
            f"its inputs can determine which overload to call.")
    if getattr(obj, "__gpujit_boolean_dispatch__", None):
        # torch's boolean_dispatch wrappers take (*args, **kwargs) (torch.unique,
        # F.max_pool2d): TorchScript refuses them on their own, in these words
        raise NotSupportedError(
            f"Compiled functions can't take variable number of arguments or use "
            f"keyword-only arguments with defaults ({name}: its result type depends on a "
            f"bool flag; call it from a scripted function with the flag a literal)")
    if compiled_from_source(obj):
        # (F.relu's body written as torch's, `_functional_scripted`; F.softmax its own)
        from .function_calls import script_source
        return script_source(obj)
    if not inspect.isfunction(obj) or home is gpujit.nn.init:   # (its own source)
        return obj
    key = (home.__name__, name)
    if key in _WRAPPERS and _WRAPPERS[key]._gpujit_library_original is obj:
        return _WRAPPERS[key]
    sig = inspect.signature(obj)
    if any(p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
           for p in sig.parameters.values()):
        return obj
    from .calls import candidates_for_function, _ALIASES
    import gpujit
    ops = candidates_for_function(name, functional=home is gpujit.nn.functional)
    if getattr(obj, "op", None) is not None and obj.op not in ops:
        ops = [obj.op] + ops
    if not ops and home is not gpujit.nn.functional:
        return obj          # (torch.manual_seed: no op to call; its own source)
    schema_args = {}
    for op in ops:
        for a in op.schema.arguments:
            schema_args.setdefault(a.name, a)
    try:
        import typing
        hints = typing.get_type_hints(obj)
    except Exception:
        hints = {}
    params, flags = [], []
    # ATen's reduction enum (F.mse_loss(..., reduction="sum")) and torch's deprecated
    # size_average / reduce, which scripted torch folds into it (_Reduction.
    # legacy_get_string): the body maps them to the reduction and branches on its values
    enum = "reduction" in sig.parameters and "reduction" in schema_args and \
        schema_args["reduction"].type.base == "int" and \
        isinstance(sig.parameters["reduction"].default, str)
    legacy = enum and "size_average" in sig.parameters and "reduce" in sig.parameters and \
        "size_average" not in schema_args
    for p in sig.parameters.values():
        ann = _param_annotation(obj, p, schema_args, hints)
        if legacy and p.name in ("size_average", "reduce"):
            ann = "Optional[bool]"
        text = p.name
        if p.name in hints:
            text += f": _hint_{p.name}"
        elif ann is not None:
            text += f": {ann}"
        if p.default is not inspect.Parameter.empty:
            d = p.default
            arg = next((schema_args[n] for n in (p.name,) + _ALIASES.get(p.name, ())
                        if n in schema_args), None)
            if ann is not None and ann.startswith("List[") and \
                    isinstance(d, (int, float)) and not isinstance(d, bool):
                d = [d] * arg.type.list_size     # (torch's BroadcastingList default)
            text += f" = {d!r}"
        params.append(text)
        names = (p.name,) + _ALIASES.get(p.name, ())
        if ann == "bool" and not any(n in schema_args for n in names):
            flags.append(p.name)     # (inplace: a constant in the call, branched on here)
        arg = next((schema_args[n] for n in names if n in schema_args), None)
        if p.default is None and arg is not None and not arg.type.optional and \
                arg.has_default and p.name not in hints:
            # (F.max_pool2d_with_indices's stride=None for aten's `int[2] stride=[]`: None
            # is the op's default, passed as a None constant; another value refined)
            flags.append(("none", p.name))
    arg_names = list(sig.parameters)
    mod = "F" if home is gpujit.nn.functional else "_home"
    body = []

    def emit(assign, depth):
        call_args = ", ".join(repr(assign[a]) if a in assign else a for a in arg_names)
        body.append("    " * depth + f"return {mod}.{name}({call_args})")

    def branch(k, assign, depth):
        if k == len(flags) and enum:
            for j, r in enumerate(_REDUCTIONS):
                body.append("    " * depth + f"{'if' if j == 0 else 'elif'} reduction == {r!r}:")
                emit(dict(assign, reduction=r), depth + 1)
            body.append("    " * depth + "else:")
            body.append("    " * (depth + 1) + "raise ValueError(reduction + \" is not a valid "
                        "value for reduction\")")
            return
        if k == len(flags):
            emit(assign, depth)
            return
        f = flags[k]
        if isinstance(f, tuple):
            f = f[1]
            body.append("    " * depth + f"if {f} is None:")
            branch(k + 1, dict(assign, **{f: None}), depth + 1)
            body.append("    " * depth + "else:")
            branch(k + 1, assign, depth + 1)
            return
        body.append("    " * depth + f"if {f}:")
        branch(k + 1, dict(assign, **{f: True}), depth + 1)
        body.append("    " * depth + "else:")
        branch(k + 1, dict(assign, **{f: False}), depth + 1)
    if len(flags) > 3:
        return obj
    if legacy:
        body.append("    if size_average is not None or reduce is not None:")
        body.append("        reduction = _legacy_reduction(size_average, reduce)")
        body.append("    size_average = None")
        body.append("    reduce = None")
    branch(0, {}, 1)
    src = f"def {name}({', '.join(params)}):\n" + "\n".join(body) + "\n" + \
        (_LEGACY_SOURCE if legacy else "")
    filename = f"<gpujit library function {home.__name__}.{name}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    ns = {"F": gpujit.nn.functional, "_home": home, "Tensor": gpujit.Tensor,
          "List": typing.List, "Optional": typing.Optional,
          "Device": gpujit.device, "Generator": gpujit.Generator,
          "warnings": warnings, "__name__": "__gpujit_library_wrappers__"}
    ns.update({f"_hint_{k}": v for k, v in hints.items()})
    exec(compile(src, filename, "exec"), ns)
    fn = ns[name]
    fn.__module__ = obj.__module__
    fn.__qualname__ = name
    fn._gpujit_library_original = obj
    _WRAPPERS[key] = fn
    return fn


_WRAPPERS: dict = {}


# torch 2.13's schemas of torch.nn.functional's Python-level functions that take a float or
# a bool (str(torch.jit.script(F.<name>).schema)). TorchScript compiles these functions and
# matches a call against the compiled signature, which converts no int to a float or a bool
# (it does a bool to a float or an int): F.hardtanh(x, 0, 6.0), F.elu(x, n) with n an int,
# nn.Hardtanh(0, 6)'s forward are refused in torch's words. gpujit binds such calls to
# registry ops taking a Scalar, which would take the int: number_argument_refusal refuses
# as torch does. (C++ builtins, torch.* and math.* are matched against their ATen
# overloads instead.)
_F_SCHEMAS = """
adaptive_max_pool1d_with_indices(Tensor input, int[1] output_size, bool return_indices=False) -> ((Tensor, Tensor))
adaptive_max_pool2d_with_indices(Tensor input, int[2] output_size, bool return_indices=False) -> ((Tensor, Tensor))
adaptive_max_pool3d_with_indices(Tensor input, int[3] output_size, bool return_indices=False) -> ((Tensor, Tensor))
alpha_dropout(Tensor input, float p=0.5, bool training=False, bool inplace=False) -> Tensor
batch_norm(Tensor input, Tensor? running_mean, Tensor? running_var, Tensor? weight=None, Tensor? bias=None, bool training=False, float momentum=0.10000000000000001, float eps=1.0000000000000001e-05) -> Tensor
celu(Tensor input, float alpha=1., bool inplace=False) -> Tensor
cosine_embedding_loss(Tensor input1, Tensor input2, Tensor target, float margin=0., bool? size_average=None, bool? reduce=None, str reduction="mean") -> Tensor
cross_entropy(Tensor input, Tensor target, Tensor? weight=None, bool? size_average=None, int ignore_index=-100, bool? reduce=None, str reduction="mean", float label_smoothing=0.) -> Tensor
ctc_loss(Tensor log_probs, Tensor targets, Tensor input_lengths, Tensor target_lengths, int blank=0, str reduction="mean", bool zero_infinity=False) -> Tensor
dropout(Tensor input, float p=0.5, bool training=True, bool inplace=False) -> Tensor
dropout1d(Tensor input, float p=0.5, bool training=True, bool inplace=False) -> Tensor
dropout2d(Tensor input, float p=0.5, bool training=True, bool inplace=False) -> Tensor
dropout3d(Tensor input, float p=0.5, bool training=True, bool inplace=False) -> Tensor
elu(Tensor input, float alpha=1., bool inplace=False) -> Tensor
embedding(Tensor input, Tensor weight, int? padding_idx=None, float? max_norm=None, float norm_type=2., bool scale_grad_by_freq=False, bool sparse=False) -> Tensor
embedding_bag(Tensor input, Tensor weight, Tensor? offsets=None, float? max_norm=None, float norm_type=2., bool scale_grad_by_freq=False, str mode="mean", bool sparse=False, Tensor? per_sample_weights=None, bool include_last_offset=False, int? padding_idx=None) -> Tensor
feature_alpha_dropout(Tensor input, float p=0.5, bool training=False, bool inplace=False) -> Tensor
fractional_max_pool2d_with_indices(Tensor input, int[2] kernel_size, int[2]? output_size=None, float[2]? output_ratio=None, bool return_indices=False, Tensor? _random_samples=None) -> ((Tensor, Tensor))
fractional_max_pool3d_with_indices(Tensor input, int[3] kernel_size, int[3]? output_size=None, float[3]? output_ratio=None, bool return_indices=False, Tensor? _random_samples=None) -> ((Tensor, Tensor))
group_norm(Tensor input, int num_groups, Tensor? weight=None, Tensor? bias=None, float eps=1.0000000000000001e-05) -> Tensor
gumbel_softmax(Tensor logits, float tau=1., bool hard=False, float eps=1e-10, int dim=-1) -> Tensor
hardsigmoid(Tensor input, bool inplace=False) -> Tensor
hardswish(Tensor input, bool inplace=False) -> Tensor
hardtanh(Tensor input, float min_val=-1., float max_val=1., bool inplace=False) -> Tensor
hinge_embedding_loss(Tensor input, Tensor target, float margin=1., bool? size_average=None, bool? reduce=None, str reduction="mean") -> Tensor
huber_loss(Tensor input, Tensor target, str reduction="mean", float delta=1., Tensor? weight=None) -> Tensor
instance_norm(Tensor input, Tensor? running_mean=None, Tensor? running_var=None, Tensor? weight=None, Tensor? bias=None, bool use_input_stats=True, float momentum=0.10000000000000001, float eps=1.0000000000000001e-05) -> Tensor
kl_div(Tensor input, Tensor target, bool? size_average=None, bool? reduce=None, str reduction="mean", bool log_target=False) -> Tensor
layer_norm(Tensor input, int[] normalized_shape, Tensor? weight=None, Tensor? bias=None, float eps=1.0000000000000001e-05) -> Tensor
leaky_relu(Tensor input, float negative_slope=0.01, bool inplace=False) -> Tensor
local_response_norm(Tensor input, int size, float alpha=0.0001, float beta=0.75, float k=1.) -> Tensor
lp_pool1d(Tensor input, Union(float, int) norm_type, int kernel_size, int[1]? stride=None, bool ceil_mode=False) -> Tensor
lp_pool2d(Tensor input, Union(float, int) norm_type, int[2] kernel_size, int[2]? stride=None, bool ceil_mode=False) -> Tensor
lp_pool3d(Tensor input, Union(float, int) norm_type, int[3] kernel_size, int[3]? stride=None, bool ceil_mode=False) -> Tensor
margin_ranking_loss(Tensor input1, Tensor input2, Tensor target, float margin=0., bool? size_average=None, bool? reduce=None, str reduction="mean") -> Tensor
mish(Tensor input, bool inplace=False) -> Tensor
multi_head_attention_forward(Tensor query, Tensor key, Tensor value, int embed_dim_to_check, int num_heads, Tensor? in_proj_weight, Tensor? in_proj_bias, Tensor? bias_k, Tensor? bias_v, bool add_zero_attn, float dropout_p, Tensor out_proj_weight, Tensor? out_proj_bias, bool training=True, Tensor? key_padding_mask=None, bool need_weights=True, Tensor? attn_mask=None, bool use_separate_proj_weight=False, Tensor? q_proj_weight=None, Tensor? k_proj_weight=None, Tensor? v_proj_weight=None, Tensor? static_k=None, Tensor? static_v=None, bool average_attn_weights=True, bool is_causal=False) -> ((Tensor, Tensor?))
multi_margin_loss(Tensor input, Tensor target, int p=1, float margin=1., Tensor? weight=None, bool? size_average=None, bool? reduce=None, str reduction="mean") -> Tensor
normalize(Tensor input, float p=2., int dim=1, float eps=9.9999999999999998e-13, Tensor? out=None) -> Tensor
pad(Tensor input, int[] pad, str mode="constant", float? value=None) -> Tensor
poisson_nll_loss(Tensor input, Tensor target, bool log_input=True, bool full=False, bool? size_average=None, float eps=1e-08, bool? reduce=None, str reduction="mean") -> Tensor
relu(Tensor input, bool inplace=False) -> Tensor
relu6(Tensor input, bool inplace=False) -> Tensor
rms_norm(Tensor input, int[] normalized_shape, Tensor? weight=None, float? eps=None) -> Tensor
rrelu(Tensor input, float lower=0.125, float upper=0.33333333333333331, bool training=False, bool inplace=False) -> Tensor
selu(Tensor input, bool inplace=False) -> Tensor
silu(Tensor input, bool inplace=False) -> Tensor
smooth_l1_loss(Tensor input, Tensor target, bool? size_average=None, bool? reduce=None, str reduction="mean", float beta=1.) -> Tensor
_threshold(Tensor input, float threshold, float value, bool inplace=False) -> Tensor
triplet_margin_loss(Tensor anchor, Tensor positive, Tensor negative, float margin=1., float p=2., float eps=9.9999999999999995e-07, bool swap=False, bool? size_average=None, bool? reduce=None, str reduction="mean") -> Tensor
"""

_F_PARAMS: dict = {}


def _f_params(name):
    """(schema text, [(parameter name, type text)]) of torch's F.<name>, or None."""
    if not _F_PARAMS:
        for text in _F_SCHEMAS.strip().splitlines():
            fname = text[:text.index("(")]
            inner = text[text.index("(") + 1:text.rindex(") ->")]
            params = [(a.split("=")[0].split()[-1], a.split()[0]) for a in inner.split(", ")]
            _F_PARAMS[fname.lstrip("_")] = (text, params)
    return _F_PARAMS.get(name)


_NUMBER_PARAMS = {"float": "float", "float?": "Optional[float]", "bool": "bool",
                  "bool?": "Optional[bool]"}


def number_argument_refusal(name, args, kwargs):
    """TorchScript's refusal of a scripted call F.<name>(*args, **kwargs) (argument Values)
    that passes an int (or Optional[int]) for one of torch's float / bool parameters of
    that function, in torch's words; None when the call passes none such (or does not bind
    to torch's signature: the call's own matching reports that)."""
    from ...ir import types as T
    found = _f_params(name)
    if found is None:
        return None
    text, params = found
    names = [n for n, _ in params]
    if len(args) > len(params) or any(k not in names for k in kwargs):
        return None
    given = list(zip(names, args)) + [(k, kwargs[k]) for k in names if k in kwargs]
    types = dict(params)
    for pname, v in given:
        expected = _NUMBER_PARAMS.get(types[pname])
        t = v.type
        opt = isinstance(t, T.OptionalType)
        if expected is None or not isinstance(t.elem if opt else t, T.IntType):
            continue
        return (f"{text}:\nExpected a value of type '{expected}' for argument '{pname}' but "
                f"instead found type '{'Optional[int]' if opt else 'int'}'.")
    return None



def torch_signature_refusal(fn, pname, vtype):
    """torch's words refusing a value of type vtype for parameter pname of fn, when fn is
    one of torch.nn.functional's Python-level functions that gpujit compiles from its own
    source and pname is one of torch's float / bool parameters of it; else None."""
    import gpujit
    home = library_home(fn)
    if home is None and getattr(fn, "__module__", None) == "gpujit.nn._functional_scripted":
        home = gpujit.nn.functional, fn.__name__.lstrip("_")   # (F.hardtanh's torch-shaped body)
    if home is None or home[0] is not gpujit.nn.functional:
        return None
    found = _f_params(home[1])
    if found is None or dict(found[1]).get(pname) not in _NUMBER_PARAMS:
        return None
    return (f"{found[0]}:\nExpected a value of type '{_NUMBER_PARAMS[dict(found[1])[pname]]}' "
            f"for argument '{pname}' but instead found type '{vtype.annotation()}'.")
