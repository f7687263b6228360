"""float8 tensors (torch.float8_e4m3fn, float8_e5m2, float8_e4m3fnuz, float8_e5m2fnuz,
float8_e8m0fnu): their bits, their conversions, and the few ops PyTorch's CPU kernels run
on them.

Representation. A float8 tensor is a Float8Tensor whose carrier is a uint8 array of the
bits (`_f8bits`). A uint8 carrier, not a float32 one (bfloat16's choice, ops/
bfloat16_support.py), because PyTorch computes almost nothing in float8 (on the CPU: mul,
mm, abs, eq / ne, isnan, where, conversions; no add, no sum, no comparison but eq: its
"not implemented" errors), while what it does do is move bytes: views, cat / stack /
index, clone, `x.view(torch.uint8)` and back (which share memory), storages and
torch.save, element_size 1. All of those then hold without a line of float8 code: they
run on the carrier as on a uint8 tensor.

Dispatch. A Float8Tensor's `_data`, read inside a registry op's entry point, raises
Float8Operand (a registry.NestedOperand: the entry point's `except` for sparse and nested
operands, free when nothing is raised, and the tracer's and interpreter's handlers catch
it) and so does a float8 dtype's `np`, read by an op's body making an array of that dtype
(a factory's dtype=, .to(float8)); `float8_call` then runs the op:

- MOVES: ops that move elements (views, cat, index, clone ...): on the carriers, the
  uint8 results labelled float8 again;
- VALUES: ops that read values (conversions, factories, fill_ / copy_, mul, mm, abs, eq,
  isnan, where, item ...): on float32 tensors of the decoded values, their floating
  results encoded to float8 once (as c10's Float8 types compute: float in, float out,
  rounded once); an in-place op writes the encoded bits into its float8 self;
- any other op: PyTorch's NotImplementedError ('"add_stub" not implemented for
  'Float8_e4m3fn''), with its CPU kernel's name where it was probed (torch 2.13).

Read anywhere else (printing, storages, torch.save) `_data` is the carrier. Mixing float8
with another dtype is c10's promotion error (dtypes.promote_types). Scripted and traced
graphs holding float8 values run node by node (runtime/executor.py), never fused.

Rounding (encode): round to nearest, ties to even, from float32 (a float64 or integer
source is converted to float32 first, as c10's Float8 constructors take a float).
e4m3fn saturates: anything past 448, inf included, is +-448 (torch 2.13's CPU conversion);
e5m2 overflows to inf; the fnuz types have no inf and no -0: overflow, inf and NaN are
their one NaN (0x80), -0 is 0. e8m0fnu (a power of two, no sign) rounds the exponent as
c10's fp8e8m0fnu_from_fp32_value (guard, round and sticky bits of the float32 mantissa).
"""
from __future__ import annotations

import sys

import numpy as np

from .. import dtypes as _dt
from ..overrides import _disabled_torch_function_impl
from . import registry as _reg

__all__ = ["Float8Tensor", "Float8Operand", "encode", "decode", "make", "float8_call"]

E4M3FN, E5M2 = _dt.float8_e4m3fn, _dt.float8_e5m2
E4M3FNUZ, E5M2FNUZ, E8M0 = _dt.float8_e4m3fnuz, _dt.float8_e5m2fnuz, _dt.float8_e8m0fnu
_F8 = frozenset(_dt.FLOAT8_TYPES)


# ------------------------------------------------------------------ bits <-> float32

def _table(ebits, mbits, bias, kind):
    """The float32 value of each of the 256 codes of a sign / exponent / mantissa format:
    kind "fn" (e4m3fn: 0x7F / 0xFF NaN, no inf), "ieee" (e5m2: inf and NaNs as IEEE),
    "fnuz" (0x80 the one NaN, no inf, no -0)."""
    out = np.empty(256, np.float64)
    emax = (1 << ebits) - 1
    for c in range(256):
        sign, e, m = c >> 7, (c >> mbits) & emax, c & ((1 << mbits) - 1)
        v = (m / (1 << mbits)) * 2.0 ** (1 - bias) if e == 0 else \
            (1 + m / (1 << mbits)) * 2.0 ** (e - bias)
        if kind == "fn" and e == emax and m == (1 << mbits) - 1:
            v = np.nan
        elif kind == "ieee" and e == emax:
            v = np.inf if m == 0 else np.nan
        elif kind == "fnuz" and c == 0x80:
            out[c] = np.nan         # (the one NaN: no sign)
            continue
        out[c] = -v if sign else v
    return out.astype(np.float32)


_TABLES = {E4M3FN: _table(4, 3, 7, "fn"), E5M2: _table(5, 2, 15, "ieee"),
           E4M3FNUZ: _table(4, 3, 8, "fnuz"), E5M2FNUZ: _table(5, 2, 16, "fnuz")}
_e8m0 = np.array([2.0 ** (c - 127) for c in range(255)] + [np.nan])
_TABLES[E8M0] = _e8m0.astype(np.float32)
# the NaNs' float32 bits as c10's conversions make them: e4m3fn's mantissa shifted into
# place, e5m2's through float16 (quieted), the fnuz types' and e8m0fnu's 0x7F800001
_NAN_BITS = {E4M3FN: {0x7F: 0x7FF00000, 0xFF: 0xFFF00000},
             E5M2: {c | s: (s << 24) | 0x7F800000 | ((c & 3) << 21) | 0x400000
                    for c in (0x7D, 0x7E, 0x7F) for s in (0, 0x80)},
             E4M3FNUZ: {0x80: 0x7F800001}, E5M2FNUZ: {0x80: 0x7F800001},
             E8M0: {0xFF: 0x7F800001}}
for _d, _nans in _NAN_BITS.items():
    _u = _TABLES[_d].view(np.uint32)
    for _c, _b in _nans.items():
        _u[_c] = _b

# per sign-magnitude format: the non-negative finite values by code (0 .. largest), then
# one more value past the largest (the next step of the grid: where rounding overflows),
# and what an overflow or NaN encodes to
_MAXCODE = {E4M3FN: 0x7E, E5M2: 0x7B, E4M3FNUZ: 0x7F, E5M2FNUZ: 0x7F}
_GRID = {}
for _d, _m in _MAXCODE.items():
    _v = _TABLES[_d][:_m + 1].astype(np.float64)
    _GRID[_d] = np.append(_v, _v[-1] + (_v[-1] - _v[-2]))


def decode(xp, bits, d):
    """float32 values of the uint8 bits of float8 dtype d."""
    return xp.asarray(xp.asarray(_TABLES[d])[bits])


def encode(xp, f, d):
    """uint8 bits of float8 dtype d nearest to float32 values f (see the module's rules)."""
    f = xp.asarray(f)
    if f.dtype != np.float32:
        f = xp.asarray(f.astype(np.float32))
    if d is E8M0:
        return _encode_e8m0(xp, f)
    grid = xp.asarray(_GRID[d])
    top = len(_GRID[d]) - 1                 # (the code past the largest finite one)
    a = xp.abs(f.astype(np.float64))
    i = xp.clip(xp.searchsorted(grid, a), 1, top)
    lo, hi = grid[i - 1], grid[i]
    below, above = a - lo, hi - a
    code = xp.where(below < above, i - 1, xp.where(above < below, i, i - (i % 2)))
    code = xp.where(a > grid[-1], top, code)        # (past the grid: inf and beyond)
    nan = f != f
    if d is E4M3FN:
        code = xp.minimum(code, top - 1)            # (saturated)
    elif d is E5M2:
        code = xp.where(nan, 0x7F, code)            # (top is inf, 0x7C)
    else:
        code = xp.where(nan | (code == top), 0x80, code)
    code = code.astype(np.uint8)
    if d is E4M3FN:
        code = xp.where(nan, np.uint8(0x7F), code)
    neg = xp.signbit(f)
    if d in (E4M3FNUZ, E5M2FNUZ):
        neg = neg & (code != 0) & (code != 0x80)
    return xp.asarray(xp.where(neg, code | np.uint8(0x80), code).astype(np.uint8))


def _encode_e8m0(xp, f):
    u = xp.ascontiguousarray(f).view(np.uint32)
    exp = (u >> 23) & np.uint32(0xFF)
    g = (u & np.uint32(0x400000)) != 0
    r = (u & np.uint32(0x200000)) != 0
    s = (u & np.uint32(0x1FFFFF)) != 0
    up = g & (r | s | (exp > 0)) & (exp != 0xFF)
    return (exp + up).astype(np.uint8).reshape(f.shape)


# ------------------------------------------------------------------ the tensor

class Float8Operand(_reg.NestedOperand):
    """A float8 tensor's array (or a float8 dtype's NumPy type) read in the entry point of
    `op`: the entry point's handler runs float8_call."""


def _entry_op(frame):
    """The registry op whose generated entry point reads the array (registry.entry_op_of),
    directly or through the op's eager body (frames of gpujit.ops modules only: a read by
    the tracer, autograd or the IR below an entry point is no operand's)."""
    for _ in range(8):
        if frame is None:
            return None
        op = _reg.entry_op_of(frame)
        if op is not None:
            return op
        if not frame.f_globals.get("__name__", "").startswith("gpujit.ops."):
            return None
        frame = frame.f_back
    return None


def _np_read(d):
    op = _entry_op(sys._getframe(2))
    if op is not None:
        raise Float8Operand(f"float8 {d.name} in {op.name}", op)


class Float8Tensor(_reg._Tensor):
    """A tensor of a float8 dtype over a uint8 array of its bits (see the module)."""
    # (the bits `_f8bits` live in the instance dict, no slot of its own: a slotted Tensor
    # subclass, nn.Buffer, can then be a float8 tensor too, float8_class)
    __slots__ = ()
    __module__ = "gpujit"
    # (not a __torch_function__ subclass: no dispatch layer for it, gpujit/overrides.py)
    __torch_function__ = _disabled_torch_function_impl
    _float8_layout = True       # (the runtime's mark: a graph holding one runs op by op)

    @property
    def _data(self):
        op = _entry_op(sys._getframe(1))
        if op is not None:
            raise Float8Operand(f"float8 operand of {op.name}", op)
        return self._f8bits

    @_data.setter
    def _data(self, value):
        self._f8bits = value

    def _values(self):
        """A float32 Tensor of the values (a copy)."""
        return _decoded(self)

    def tolist(self):
        return self._values().tolist()

    def numpy(self, force=False):
        raise TypeError(f"Got unsupported ScalarType {self._dtype.short_name}")

    def __array__(self, dtype=None, copy=None):
        return self.numpy()

    def __dlpack__(self, *args, **kwargs):
        # (its bits typed with DLPack's float8 code, as PyTorch exports it)
        from .dlpack import float8_capsule
        return float8_capsule(self, *args, **kwargs)

    def __format__(self, spec):
        if self._f8bits.ndim == 0:
            return self._values().item().__format__(spec)
        return object.__format__(self, spec)

    def __repr__(self):
        from .._tensor_str import tensor_repr
        v = _decoded(self)
        shown = _reg.wrap(v._data, self._dtype, self._device)   # (values, float8's name)
        for k in ("_ag",):
            setattr(shown, k, getattr(self, k))
        return tensor_repr(shown)

    __str__ = __repr__

    def __reduce__(self):
        a = self._f8bits if self._device.type == "cpu" else self._f8bits.get()
        return (_rebuild, (a.copy(), self._dtype.name, str(self._device), self.requires_grad))


def _rebuild(bits, dtype_name, dev, requires_grad):
    from ..device import resolve, xp_for
    d = resolve(dev)
    t = make(bits if d.type == "cpu" else xp_for(d).asarray(bits), _dt.to_dtype(dtype_name), d)
    return t.requires_grad_() if requires_grad else t


def from_values(t, d):
    """A new float8 tensor of dtype d of the values of tensor t (torch.tensor(data,
    dtype=float8)): through float32, as c10's constructors."""
    return _encoded(t.to(_dt.float32), d)


_SUBCLASSES: dict = {}


def float8_class(cls):
    """The class of a float8 tensor that is also a cls (nn.Parameter, nn.Buffer): Float8Tensor
    first, so its array reads dispatch as a Float8Tensor's; named and printed as cls."""
    got = _SUBCLASSES.get(cls)
    if got is None:
        ns = {"__slots__": (), "__module__": cls.__module__, "__qualname__": cls.__qualname__}
        if "__repr__" in vars(cls):     # (Parameter's "Parameter containing:\n" + values)
            ns["__repr__"] = ns["__str__"] = lambda self: cls.__repr__(
                self).split("\n", 1)[0] + "\n" + Float8Tensor.__repr__(self)
        got = _SUBCLASSES[cls] = type(cls.__name__, (Float8Tensor, cls), ns)
    return got


def make(bits, d, dev, like=None):
    """A Float8Tensor of dtype d over uint8 array bits (sharing like's version counter)."""
    t = object.__new__(Float8Tensor)
    t._f8bits = bits
    t._dtype, t._device = d, dev
    t._vc = like._vc if like is not None else [0]
    t._ag, t._base = None, None
    return t


def _carrier(t):
    """t's bits as a uint8 Tensor over the same array and version counter."""
    c = _reg.wrap(t._f8bits, _dt.uint8, t._device)
    c._vc = t._vc
    return c


def _decoded(t):
    from ..device import xp_for
    xp = np if t._device.type == "cpu" else xp_for(t._device)
    return _reg.wrap(decode(xp, t._f8bits, t._dtype), _dt.float32, t._device)


def _encoded(t, d):
    from ..device import xp_for
    xp = np if t._device.type == "cpu" else xp_for(t._device)
    return make(encode(xp, t._data, d), d, t._device)


# ------------------------------------------------------------------ the ops

MOVES = frozenset({
    "aten::alias", "aten::as_strided", "aten::broadcast_to", "aten::cat", "aten::concat",
    "aten::concatenate", "aten::chunk", "aten::clone", "aten::contiguous", "aten::detach",
    "aten::diag", "aten::diagonal", "aten::expand", "aten::expand_as", "aten::flatten",
    "aten::index", "aten::index_select", "aten::lift_fresh", "aten::movedim",
    "aten::moveaxis", "aten::narrow", "aten::permute", "aten::ravel", "aten::repeat",
    "aten::reshape", "aten::reshape_as", "aten::roll", "aten::select", "aten::slice",
    "aten::split", "aten::split_with_sizes", "aten::squeeze", "aten::stack", "aten::swapaxes",
    "aten::swapdims", "aten::t", "aten::tensor_split", "aten::tile", "aten::transpose",
    "aten::unbind", "aten::unflatten", "aten::unfold", "aten::unsqueeze", "aten::view",
    "aten::view_as", "aten::_unsafe_view", "aten::_reshape_alias", "aten::numpy_T",
    "aten::mT", "aten::hstack", "aten::vstack", "aten::dstack", "aten::atleast_1d",
    "aten::atleast_2d", "aten::atleast_3d", "aten::empty", "aten::empty_like",
    "aten::new_empty", "aten::empty_strided", "aten::new_empty_strided",
    "aten::repeat_interleave", "aten::masked_select", "aten::diag_embed", "aten::narrow_copy",
    "aten::broadcast_tensors",
    "aten::embedding", "aten::positive", "aten::matrix_H", "aten::mH", "aten::adjoint",
})
# the scatters into a view of a copy of self: src converted to self's dtype, then moved
SCATTERS = frozenset({"aten::slice_scatter", "aten::select_scatter", "aten::diagonal_scatter",
                      "aten::as_strided_scatter"})
# (ops that only read sizes and flags: on the carrier, nothing to relabel)
FACTS = frozenset({
    "aten::size", "aten::dim", "aten::numel", "aten::stride", "aten::storage_offset",
    "aten::is_contiguous", "aten::is_floating_point", "aten::is_complex", "aten::is_signed",
    "aten::element_size", "aten::is_same_size", "aten::len", "aten::get_device",
    "aten::is_nonzero", "aten::is_cuda", "aten::is_cpu", "aten::requires_grad_",
    "aten::is_set_to", "aten::is_neg", "aten::is_conj", "aten::is_inference",
})
VALUES = frozenset({
    "aten::to", "aten::_to_copy", "aten::type_as", "aten::copy_", "aten::fill_", "aten::zero_",
    "aten::full", "aten::full_like", "aten::ones", "aten::ones_like", "aten::zeros",
    "aten::zeros_like", "aten::new_full", "aten::new_ones", "aten::new_zeros",
    "aten::tensor", "aten::as_tensor", "aten::scalar_tensor", "aten::new_tensor",
    "aten::item", "aten::_local_scalar_dense", "aten::eq", "aten::ne", "aten::isnan",
    "aten::isinf", "aten::isfinite", "aten::abs", "aten::absolute", "aten::mul",
    "aten::multiply", "aten::mul_", "aten::mm", "aten::matmul", "aten::linear",
    "aten::addmm", "aten::where", "aten::index_put", "aten::index_put_", "aten::any",
    "aten::all", "aten::pad", "aten::constant_pad_nd", "aten::fill_diagonal_", "aten::isreal",
    "aten::outer", "aten::ger", "aten::kron", "aten::eye",
})
# the names of PyTorch's CPU kernels in its refusals, where they are not "<op>_cpu"
# (probed on torch 2.13)
KERNELS = {
    "aten::add": "add_stub", "aten::sub": "add_stub", "aten::subtract": "add_stub",
    "aten::rsub": "add_stub", "aten::sum": "sum_cpu", "aten::mean": "sum_cpu",
    "aten::max": "max_all", "aten::min": "min_all", "aten::sort": "sorting_kernel_method_name",
    "aten::argsort": "sorting_kernel_method_name", "aten::masked_fill": "masked_fill",
    "aten::masked_fill_": "masked_fill", "aten::nonzero": "nonzero_count_cpu",
    "aten::count_nonzero": "nonzero_count_cpu", "aten::equal": "equal_notnan_cpu",
    "aten::allclose": "mul_cpu_reduced_float", "aten::isclose": "mul_cpu_reduced_float",
    "aten::randn": "normal_kernel_cpu", "aten::normal_": "normal_kernel_cpu",
    "aten::rand": "check_uniform_bounds", "aten::uniform_": "check_uniform_bounds",
    "aten::arange": "arange_cpu", "aten::gather": "gather_expanded_index",
    "aten::clamp": "clamp_scalar_cpu", "aten::relu": "clamp_min_scalar_cpu",
    "aten::sqrt": "sqrt_vml_cpu", "aten::floor": "floor_vml_cpu", "aten::trunc": "trunc_vml_cpu",
    "aten::maximum": "maximum_cpu", "aten::minimum": "minimum_cpu", "aten::dot": "dot",
    "aten::bmm": "bmm", "aten::unique": "unique", "aten::_unique2": "unique",
    "aten::tril": "tril", "aten::triu": "triu", "aten::isinf": "isinf",
    "aten::isfinite": "isfinite", "aten::softmax": "softmax_kernel_impl",
    "aten::_softmax": "softmax_kernel_impl", "aten::scatter": "scatter_gather_tensor_cpu",
    "aten::scatter_add": "scatter_gather_tensor_cpu",
    "aten::put": "take_put_cpu", "aten::masked_scatter": "masked_scatter",
    "aten::sgn": "sign_cpu", "aten::rand_like": "check_uniform_bounds",
    "aten::randn_like": "normal_kernel_cpu", "aten::randint": "random_update_from_to",
    "aten::fliplr": "flip_cpu", "aten::flipud": "flip_cpu", "aten::rot90": "flip_cpu",
    # (probed on torch 2.13 CPU: the VML kernels, the reduced-float and shared kernels)
    **{f"aten::{n}": f"{n}_vml_cpu" for n in (
        "exp", "log", "sin", "cos", "tan", "tanh", "asin", "acos", "atan", "ceil", "round",
        "expm1", "log1p", "log2", "log10", "erf", "erfc", "erfinv", "lgamma", "i0")},
    "aten::tanhshrink": "tanh_vml_cpu", "aten::exp2": "exp2", "aten::digamma": "digamma",
    "aten::sigmoid": "sigmoid_cpu_reduced_float", "aten::square": "pow", "aten::pow": "pow",
    "aten::amax": "max_values_cpu", "aten::amin": "min_values_cpu",
    "aten::logsumexp": "max_values_cpu", "aten::cumprod": "cumprod_out_cpu",
    "aten::logcumsumexp": "logcumsumexp_out_cpu", "aten::msort": "sorting_kernel_method_name",
    "aten::trace": "trace", "aten::clamp_min": "clamp_min_scalar_cpu",
    "aten::clamp_max": "clamp_max_scalar_cpu", "aten::bernoulli": "bernoulli_tensor_cpu_self_",
    "aten::deg2rad": "mul_cpu_reduced_float", "aten::rad2deg": "mul_cpu_reduced_float",
    "aten::selu": "elu_cpu", "aten::celu": "elu_cpu", "aten::gelu": "GeluKernelImpl",
    "aten::softshrink": "softshrink_check", "aten::relu6": "clamp_scalar_cpu",
    "aten::floor_divide": "div_floor_cpu", "aten::dist": "add_stub", "aten::mv": "addmv_impl_cpu",
    "aten::addmv": "addmv_impl_cpu", "aten::baddbmm": "baddbmm", "aten::cross": "cross",
    "aten::linalg_cross": "cross", "aten::scatter_reduce": "scatter_gather_tensor_cpu",
    "aten::bucketize": "searchsorted_out_cpu", "aten::searchsorted": "searchsorted_out_cpu",
    "aten::histc": "aminmax_cpu", "aten::diff": "add_stub", "aten::trapezoid": "add_stub",
    "aten::trapz": "add_stub", "aten::cdist": "cdist", "aten::layer_norm": "LayerNormKernelImpl",
    "aten::dropout": "bernoulli_scalar_cpu_", "aten::upsample_nearest1d": "compute_indices_weights_nearest",
    "aten::linalg_vector_norm": "norm_cpu",
    "aten::einsum": "bmm", "aten::prod": "prod_out_cpu", "aten::cumsum": "cumsum_out_cpu",
    "aten::norm": "norm_cpu", "aten::nan_to_num": "nan_to_num",
}
# (reductions whose refusal is a RuntimeError of their own)
_REFUSED_WORDS = {"aten::std": "std_var_all: Unsupported dtype {}",
                  "aten::var": "std_var_all: Unsupported dtype {}",
                  "aten::view_as_real": "view_as_real is only supported for complex tensors",
                  "aten::imag": "imag is not implemented for tensors with non-complex dtypes."}
# ops PyTorch runs for some float8 dtypes only: the others' refusal kernel
_ONLY = {
    "aten::abs": (_F8 - {E8M0}, "abs_cpu"), "aten::absolute": (_F8 - {E8M0}, "abs_cpu"),
    "aten::mm": (_F8 - {E8M0}, "addmm_impl_cpu_"), "aten::addmm": (_F8 - {E8M0}, "addmm_impl_cpu_"),
    "aten::linear": (_F8 - {E8M0}, "addmm_impl_cpu_"),
    "aten::matmul": (_F8 - {E8M0}, "addmm_impl_cpu_"),
    "aten::index_put": (_F8 - {E8M0}, "index_put"), "aten::index_put_": (_F8 - {E8M0}, "index_put"),
    "aten::isinf": ({E5M2}, "isinf"), "aten::isfinite": ({E5M2, E8M0}, "isfinite"),
}


# ops whose operands keep their own dtypes (conversions) and arguments never promoted
_OWN_DTYPES = frozenset({"aten::copy_", "aten::to", "aten::_to_copy", "aten::type_as",
                         "aten::fill_", "aten::view", "aten::view_as", "aten::expand_as",
                         "aten::reshape_as", "aten::new_full", "aten::new_ones",
                         "aten::new_zeros", "aten::new_empty", "aten::new_tensor",
                         "aten::new_empty_strided", "aten::index_put", "aten::index_put_"})
_NOT_PROMOTED = frozenset({"indices", "index", "mask", "condition", "source"})


# (overloads whose kernels differ: by op.name, in-place variants included)
_BY_OVERLOAD = {"aten::lerp.Scalar": "lerp_kernel_scalar", "aten::lerp.Tensor": "lerp_kernel_tensor",
                "aten::max.dim": "max_cpu", "aten::min.dim": "min_cpu",
                "aten::max.other": "maximum_cpu", "aten::min.other": "minimum_cpu",
                "aten::clamp.Tensor": "clamp_cpu", "aten::clamp_min.Tensor": "maximum_cpu",
                "aten::clamp_max.Tensor": "minimum_cpu", "aten::scatter.value": "scatter_gather_scalar_cpu",
                "aten::std.dim": "std_cpu", "aten::var.dim": "std_cpu", "aten::std.correction": "std_cpu",
                "aten::var.correction": "std_cpu"}
# (ops whose kernel depends on self's rank: (of a tensor of 0 or 1 dims, of more))
_BY_RANK = {"aten::index_add": ("index_add_", "scatter_gather_tensor_cpu")}


def _softmax_kernel(op, args):
    """softmax / log_softmax: the last-dim kernel's name where dim is the last one."""
    name = op.schema.name.split("::")[1]
    nd = args[0].dim() if args and isinstance(args[0], _reg._Tensor) else 0
    dim = args[1] if len(args) > 1 and isinstance(args[1], int) else None
    last = dim is not None and (dim == -1 or dim == nd - 1 or nd == 0)
    return f"{name}_lastdim_kernel_impl" if last else f"{name}_kernel_impl"


def _reduces_all(op, args):
    """std / var with no dim given (std_var_all's RuntimeError): dim None or absent."""
    names = [a.name for a in op.schema.arguments]
    if "dim" not in names:
        return True
    i = names.index("dim")
    return i >= len(args) or args[i] is None


def refused(op, d, args=()):
    base = op.schema.name
    if base in ("aten::softmax", "aten::log_softmax"):
        return refused_as(_softmax_kernel(op, args), d)
    if base in ("aten::std", "aten::var") and not _reduces_all(op, args):
        return refused_as("std_cpu", d)
    if base.rstrip("_") in ("aten::div", "aten::divide", "aten::true_divide") and len(args) > 1:
        # (div_cpu, div_floor_cpu, div_trunc_cpu; by a number or a 0-dim tensor: their
        # _reduced_float kernels)
        mode = args[2] if len(args) > 2 and isinstance(args[2], str) else None
        other = args[1]
        return refused_as(f"div{'_' + mode if mode else ''}_cpu" + (
            "_reduced_float" if not isinstance(other, _reg._Tensor) or other.dim() == 0
            else ""), d)
    words = _REFUSED_WORDS.get(base)
    if words is not None:
        return RuntimeError(words.format(d.short_name))
    kernel = KERNELS.get(base) or KERNELS.get(base.rstrip("_")) or \
        f"{op.schema.base_name.rstrip('_')}_cpu"
    kernel = _BY_OVERLOAD.get(op.name.replace("_.", ".")) or kernel
    ranked = _BY_RANK.get(base.rstrip("_"))
    if ranked is not None and args and isinstance(args[0], _reg._Tensor):
        kernel = ranked[args[0].dim() > 1]
    e = _reg.UnsupportedDtypeError(f"\"{kernel}\" not implemented for '{d.short_name}'")
    e.dtype = d
    return e


def _tensors(args):
    for a in args:
        if isinstance(a, _reg._Tensor):
            yield a
        elif isinstance(a, (list, tuple)):
            for x in a:
                if isinstance(x, _reg._Tensor):
                    yield x


def _map(args, fn):
    out = []
    for a in args:
        if isinstance(a, _reg._Tensor):
            out.append(fn(a))
        elif isinstance(a, (list, tuple)) and any(isinstance(x, _reg._Tensor) for x in a):
            out.append(type(a)(fn(x) if isinstance(x, _reg._Tensor) else x for x in a))
        else:
            out.append(a)
    return out


def _dtype_args(op, args):
    """{position: dtype} of the op's ScalarType arguments given (int codes read)."""
    got = {}
    for i, a in enumerate(op.schema.arguments):
        if a.type.base == "ScalarType" and i < len(args) and args[i] is not None:
            v = args[i]
            got[i] = _dt.scalar_type_arg(v) if isinstance(v, (int, str, _dt.dtype)) else v
    return got


def float8_call(e, args):
    """op(*args) (schema order) where a float8 tensor or dtype takes part (see the module)."""
    try:
        return _call(e.op, args)
    except BaseException as err:
        # (raised while the entry point handles e: gpujit's own signal stays out of the
        # traceback the user sees)
        if err.__context__ is e:
            err.__suppress_context__ = True
        raise


def scalar(value, d, dev):
    """A 0-dim float8 tensor of a Python number (x[i] = 2.5: indexing's value)."""
    from ..device import xp_for
    xp = np if dev.type == "cpu" else xp_for(dev)
    return make(encode(xp, xp.asarray(value, np.float32), d), d, dev)


# ops computing float8 operands their own way, on Tensors: name -> kernel(args)
# (ops/scaled_mm.py's torch._scaled_mm)
OWN_KERNELS: dict = {}


def _call(op, args):
    name = op.schema.name
    own = OWN_KERNELS.get(name)
    if own is not None:
        return own(args)
    args = list(args)
    dts = _dtype_args(op, args)
    f8 = [t._dtype for t in _tensors(args) if t._dtype in _F8]
    f8_dtype = next(iter(f8), None) or next((d for d in dts.values() if d in _F8), None)
    if name in FACTS:
        return op.eager(*_map(args, lambda t: _carrier(t) if isinstance(t, Float8Tensor) else t))
    if "inplace_view" in op.tags and isinstance(args[0], Float8Tensor):
        # (t_, transpose_, squeeze_, as_strided_, resize_ ...: self's bits become the view)
        self = args[0]
        c = _carrier(self)
        op.eager(c, *_map(args[1:], lambda t: _carrier(t) if isinstance(t, Float8Tensor) else t))
        self._f8bits = c._data
        return self
    if name in SCATTERS:
        # (src is copied into self's dtype, as ATen's copy_ into the view: any dtype)
        self, src = args[0], args[1]
        if isinstance(src, _reg._Tensor) and src._dtype is not self._dtype:
            args[1] = src.to(self._dtype)
        if not isinstance(self, Float8Tensor):
            return op.eager(*args)
        return _moved(op, args, dts, self._dtype)
    if f8 and name not in _OWN_DTYPES:
        # the other operands must be of this float8 dtype (c10's promotion error first)
        for a, v in zip(op.schema.arguments, args):
            if a.type.base == "Tensor" and a.name not in _NOT_PROMOTED:
                for t in _tensors([v]):
                    if t._dtype is not f8_dtype:
                        _dt.promote_types(f8_dtype, t._dtype)
    base = name.rstrip("_") if name not in VALUES else name
    if name == "aten::pad" and len(args) > 2 and args[2] in ("reflect", "replicate"):
        kind = "reflection" if args[2] == "reflect" else "replication"
        raise refused_as(f"{kind}_pad{len(args[1]) // 2}d", f8_dtype)
    if name in _FLIPS and isinstance(args[0], Float8Tensor) and _trivial_flip(args, _FLIPS[name]):
        return _moved(op, args, dts, f8_dtype)
    if name not in MOVES and name not in VALUES and base not in VALUES:
        raise refused(op, f8_dtype, args)
    only = _ONLY.get(name)
    if only is not None and any(d not in only[0] for d in f8):
        raise refused_as(only[1], next(d for d in f8 if d not in only[0]))
    if name in ("aten::mul", "aten::multiply", "aten::mul_") and any(
            not isinstance(a, _reg._Tensor) or a._f8bits.ndim == 0 if isinstance(
                a, Float8Tensor) else not isinstance(a, _reg._Tensor) for a in args[:2]):
        raise refused_as("mul_cpu_reduced_float", f8_dtype)
    if name in MOVES:
        return _moved(op, args, dts, f8_dtype)
    return _valued(op, args, dts, f8_dtype)


# flips: their flipped dims (ATen's flip copies without its kernel where each has one
# element at most, or there are none: x.flip(1) of a (3, 1) float8 tensor)
_FLIPS = {"aten::flip": None, "aten::fliplr": (1,), "aten::flipud": (0,)}


def _trivial_flip(args, dims):
    shape = args[0]._f8bits.shape
    dims = args[1] if dims is None else dims
    try:
        return 0 in shape or all(shape[d] <= 1 for d in dims)
    except (IndexError, TypeError):
        return True     # (the op's own error for the dims)


def refused_as(kernel, d):
    e = _reg.UnsupportedDtypeError(f"\"{kernel}\" not implemented for '{d.short_name}'")
    e.dtype = d
    return e


def _relabel(r, d):
    if isinstance(r, _reg._Tensor) and type(r) is _reg._Tensor and r._dtype is _dt.uint8:
        t = make(r._data, d, r._device, like=r)
        t._base = r._base
        return t
    if isinstance(r, (list, tuple)) and not hasattr(r, "_fields"):
        return type(r)(_relabel(x, d) for x in r)
    return r


def _moved(op, args, dts, d):
    explicit = next(iter(dts.values()), None)
    for i, v in dts.items():
        if v in _F8:
            args[i] = _dt.uint8
    r = op.eager(*_map(args, lambda t: _carrier(t) if isinstance(t, Float8Tensor) else t))
    if explicit is not None and explicit not in _F8:
        return r            # (x.view(torch.uint8): the bits as they are)
    return _relabel(r, explicit if explicit is not None else d)


def _encode_results(r, d):
    if isinstance(r, _reg._Tensor) and r._dtype is _dt.float32:
        return _encoded(r, d)
    if isinstance(r, (list, tuple)) and not hasattr(r, "_fields"):
        return type(r)(_encode_results(x, d) for x in r)
    return r


def _valued(op, args, dts, d):
    s = op.schema
    target = None
    for i, v in dts.items():
        target = v
        if v in _F8:
            args[i] = _dt.float32
    if target is None and s.name in ("aten::to", "aten::type_as") and len(args) > 1 and \
            isinstance(args[1], _reg._Tensor):
        target = args[1]._dtype         # (to.other, type_as: the other's dtype)
    if target is None and s.name in ("aten::to", "aten::_to_copy"):
        target = args[0]._dtype
    if target is None:
        target = d
    written = args[0] if s.is_inplace and isinstance(args[0], Float8Tensor) else None
    _check_fill_value(op, args, target)
    plain = _map(args, lambda t: _decoded(t) if isinstance(t, Float8Tensor) else t)
    r = op.eager(*plain)
    if s.is_inplace and written is None:
        return r            # (a float32 self.copy_(float8): self's dtype)
    if written is not None:
        from ..device import xp_for
        xp = np if written._device.type == "cpu" else xp_for(written._device)
        written._f8bits[...] = encode(xp, plain[0]._data, written._dtype)
        written._vc[0] += 1
        return written
    if target not in _F8:
        if target in (_dt.float16, _dt.bfloat16) and isinstance(r, _reg._Tensor):
            _reduced_nans(r, plain[0])
        return r
    return _encode_results(r, target)


_FILL_VALUES = {"aten::fill_": "value", "aten::full": "fill_value", "aten::full_like": "fill_value",
                "aten::new_full": "fill_value", "aten::constant_pad_nd": "value", "aten::pad": "value"}


def _check_fill_value(op, args, d):
    """c10's checked_convert of a fill's Scalar (ATen's fill kernel; one element is copied
    unchecked): a value past the type's range, or inf where it has none, is an error."""
    name = _FILL_VALUES.get(op.schema.name)
    if name is None or d not in _F8:
        return
    pos = [a.name for a in op.schema.arguments].index(name)
    v = args[pos] if pos < len(args) else None
    if v is None or isinstance(v, _reg._Tensor) or isinstance(v, complex):
        return
    v = float(v)
    if op.schema.name in ("aten::fill_",) and args[0]._f8bits.size == 1:
        return
    if op.schema.name in ("aten::full", "aten::new_full"):
        size = args[0] if op.schema.name == "aten::full" else args[1]
        if int(np.prod(size)) == 1:
            return
    if op.schema.name == "aten::full_like" and args[0]._f8bits.size == 1:
        return
    eps, hi, tiny = _dt._F8_FINFO[d]
    lo = tiny if d is E8M0 else -hi
    if v != v or (d is E5M2 and v in (float("inf"), -float("inf"))):
        return
    if v < lo or v > hi:
        raise RuntimeError(f"value cannot be converted to type c10::{d.short_name} without "
                           f"overflow")


def _reduced_nans(r, src):
    """The NaNs of a float8 tensor converted to float16 / bfloat16 as ATen's CPU copy
    makes them: float16 through F16C (quieted, the high payload bits kept), bfloat16 as
    c10's round_to_nearest_even (0x7FC0)."""
    from ..device import xp_for
    xp = np if r._device.type == "cpu" else xp_for(r._device)
    a, f = r._data, src._data
    nan = f != f
    if not nan.any():
        return
    if r._dtype is _dt.float16:
        u = xp.ascontiguousarray(f).view(np.uint32)
        h = (((u >> 16) & 0x8000) | 0x7E00 | ((u >> 13) & 0x3FF)).astype(np.uint16)
        a[nan] = h.view(np.float16)[nan]
    else:
        a[nan] = np.array(0x7FC00000, np.uint32).view(np.float32)


_dt.FLOAT8_NP_HOOK[0] = _np_read
