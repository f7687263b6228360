"""Random ops: factories (rand, randn, randint, randperm, *_like, normal), in-place fills
(normal_, uniform_, bernoulli_, random_, exponential_) and sampling (bernoulli,
multinomial). Each draws from the device's default generator or `generator=` (see
ops/random.py); Python wrappers with PyTorch's varargs sizes are in `PUBLIC`.
"""
from __future__ import annotations

import math

import numpy as np

from .kernel_names import kernel_name, not_implemented
from .. import dtypes as _dt
from ..device import cpu as _cpu, device as _device_cls, device_of_array
from .meta import TensorMeta, broadcast_shapes, same_as
from .registry import op, OPS
from .random import generator_for
from .creation import like_alloc, like_contiguous, _size_arg, _finish, _out_dtype_device
from .creation import check_sizes

PUBLIC = {}

_RF = {"random", "factory"}
_R = {"random"}
_RI = {"random", "inplace"}
_TAIL = ("Generator? generator=None, ScalarType? dtype=None, Layout? layout=None, "
         "Device? device=None, bool? pin_memory=None")
_LIKE_TAIL = _TAIL + ", MemoryFormat? memory_format=None"
# the `.generator` overloads of the factories: PyTorch declares each factory twice, without
# a generator (what a call without one records: `aten::rand_like(%x, %dtype, ...)`) and
# with one it must be given (`rand_like.generator`); without_generator declares the former
_GTAIL = _TAIL.replace("generator=None", "generator")
_GLIKE_TAIL = _LIKE_TAIL.replace("generator=None", "generator")


# the kernels whose dtype dispatch refuses an integer or bool tensor in PyTorch 2.13's CPU
# words ('"normal_kernel_cpu" not implemented for 'Long''): normal_ / randn / normal,
# uniform_ / rand (its bounds check dispatches first)
_NORMAL_KERNEL = "normal_kernel_cpu"
_UNIFORM_KERNEL = "check_uniform_bounds"


def _float_dtype(dtype, kernel):
    dt = _dt.get_default_dtype() if dtype is None else dtype
    if dt.category < _dt.FLOATING:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{dt.short_name}\'')
    return dt


_COMPLEX_STD = 1.0 / math.sqrt(2.0)


def _draw(sample, shape, dt, **kw):
    """sample(shape, npdtype, **kw) in dtype dt; a complex dt as PyTorch's normal_ /
    uniform_ fill a complex tensor: its view_as_real (shape + (2,), the real dtype) drawn
    in order, a normal one with std / sqrt(2) (randn complex: real and imaginary parts
    each N(0, 1/2))."""
    if dt is _dt.bfloat16:     # (ATen's reduced-float draws: ops/random.py's BF16)
        from .random import BF16
        return sample(shape, BF16, **kw)
    if not dt.cplx:
        return sample(shape, dt.np, **kw)
    if sample.__name__ == "normal":
        kw["std"] = kw.get("std", 1.0) * _COMPLEX_STD
    v = sample(tuple(shape) + (2,), dt.to_real().np, **kw)
    return v.view(dt.np).reshape(shape)




def _check_continuous(a, what, c_name=False):
    """exponential_ / cauchy_ of an integer tensor: PyTorch's own check (a RuntimeError)."""
    if a.dtype.kind != "f":
        d = _dt.from_numpy_dtype(a.dtype)
        name = _dt.CPP_NAMES[d.name] if c_name else d.short_name   # (cauchy_'s: TypeMeta)
        raise RuntimeError(f"{what} distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified {name}")


def _check_float(a, kernel):
    if a.dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for '
                           f'\'{_dt.from_numpy_dtype(a.dtype).short_name}\'')


def _meta_dev(device, default=_cpu):
    return default if device is None else _device_cls(device)


def _gen(device, generator):
    return generator_for(_cpu if device is None else device, generator)


def _gen_like(a, device, generator):
    return generator_for(device if device is not None else device_of_array(a), generator)


# ------------------------------------------------------------------ factories

@op("aten::manual_seed(int seed) -> ()", meta=lambda seed: None, function=False,
    method=False, tags={"nondeterministic"})     # (never folded, merged or dropped)
def manual_seed(xp, seed):
    """Scripted `torch.manual_seed(n)`: seeds the CPU and every CUDA generator, as eager
    gpujit.manual_seed does (TorchScript's aten::manual_seed)."""
    from .random import manual_seed as _seed
    _seed(seed)


# ------------------------------------------------------------------ Generator objects
# Scripted `torch.Generator(...)` and the methods of a Generator value, TorchScript's ops
# over its Generator type. Each is tagged nondeterministic: a new generator (or a seeding)
# is never folded into a constant, merged with another or dropped.

_GEN = {"nondeterministic"}


@op("aten::Generator(*, Device? device=None, int? seed=None) -> Generator",
    meta=lambda device=None, seed=None: None, function=False, method=False, tags=_GEN)
def generator_new(xp, device=None, seed=None):
    """`torch.Generator(device=..., seed=...)`: a new generator (seeded when seed is
    given, else at the default seed, as eager gpujit.Generator)."""
    from .random import Generator
    g = Generator("cpu" if device is None else device)
    if seed is not None:
        g.manual_seed(seed)
    return g


@op("aten::manual_seed.generator(Generator(a!) self, int seed) -> Generator(a!)",
    meta=lambda self, seed: None, function=False, method=False, tags=_GEN)
def generator_manual_seed(xp, self, seed):
    return self.manual_seed(seed)


@op("aten::seed(Generator(a!) self) -> int", meta=lambda self: None, function=False,
    method=False, tags=_GEN)
def generator_seed(xp, self):
    return _as_int64(self.seed())


@op("aten::initial_seed(Generator self) -> int", meta=lambda self: None, function=False,
    method=False, tags=_GEN)
def generator_initial_seed(xp, self):
    return _as_int64(self.initial_seed())


def _as_int64(seed):
    """A uint64 seed as TorchScript's int holds it (an IValue int64: past 2**63 it is
    negative); a random seed() was past int64 half the time, and `!= 3` of it then hit
    the int ops' overflow check."""
    return seed - (1 << 64) if seed >= 1 << 63 else seed


@op(f"aten::rand.generator(SymInt[] size, *, {_GTAIL}) -> Tensor", tags=_RF, function=False,
    method=False,
    meta=lambda size, generator=None, dtype=None, layout=None, device=None, pin_memory=None:
    TensorMeta(_float_dtype(dtype, _UNIFORM_KERNEL), tuple(size), _meta_dev(device)))
def _rand(xp, size, generator=None, dtype=None, layout=None, device=None, pin_memory=None):
    dt = _float_dtype(dtype, _UNIFORM_KERNEL)
    return _draw(_gen(device, generator).uniform, tuple(check_sizes(size)), dt)


@op(f"aten::randn.generator(SymInt[] size, *, {_GTAIL}) -> Tensor", tags=_RF, function=False,
    method=False,
    meta=lambda size, generator=None, dtype=None, layout=None, device=None, pin_memory=None:
    TensorMeta(_float_dtype(dtype, _NORMAL_KERNEL), tuple(size), _meta_dev(device)))
def _randn(xp, size, generator=None, dtype=None, layout=None, device=None, pin_memory=None):
    dt = _float_dtype(dtype, _NORMAL_KERNEL)
    return _draw(_gen(device, generator).normal, tuple(check_sizes(size)), dt)


def _int64_args(*vals):
    """PyTorch's parser reads an int / SymInt argument as an int64 (randint's bounds,
    random_'s from / to): past it, its ValueError."""
    for v in vals:
        if v.__class__ is int and not -(1 << 63) <= v < 1 << 63:
            raise ValueError("Overflow when unpacking long long")


def _check_range(low, high):
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")


def _int_dtype(dtype):
    return _dt.int64 if dtype is None else _dt.to_dtype(dtype)


@op(f"aten::randint.low_generator(SymInt low, SymInt high, SymInt[] size, *, "
    f"{_GTAIL.replace('dtype=None', 'dtype=long')}) -> Tensor", tags=_RF, function=False,
    method=False,
    meta=lambda low, high, size, generator=None, dtype="long", layout=None, device=None,
    pin_memory=None: (_check_range(low, high), TensorMeta(
        _int_dtype(dtype), tuple(size), _meta_dev(device)))[1])
def _randint(xp, low, high, size, generator=None, dtype="long", layout=None, device=None,
             pin_memory=None):
    _int64_args(low, high)
    _check_range(low, high)
    # (ATen's check_from_to_in_range, as random_'s: randint(0, 300, dtype=uint8) drew
    # values wrapped into 0..255 where PyTorch refuses)
    dt = _int_dtype(dtype)
    _check_from_to_in_range(int(low), int(high) - 1, dt.np, dt)
    # (bfloat16: ATen draws the same integers, converted; its float32 carrier is rounded
    # by the registry's bfloat16 finish)
    v = _gen(device, generator).integers(int(low), int(high), tuple(check_sizes(size)))
    return v.astype(dt.np, copy=False)


@op(f"aten::randint.generator(SymInt high, SymInt[] size, *, "
    f"{_GTAIL.replace('dtype=None', 'dtype=long')}) -> Tensor", tags=_RF, function=False,
    method=False,
    meta=lambda high, size, generator=None, dtype="long", layout=None, device=None,
    pin_memory=None: (_check_range(0, high), TensorMeta(
        _int_dtype(dtype), tuple(size), _meta_dev(device)))[1])
def _randint_high(xp, high, size, generator=None, dtype="long", layout=None, device=None,
                  pin_memory=None):
    return _randint(xp, 0, high, size, generator, dtype, layout, device, pin_memory)


@op("aten::randperm.generator(SymInt n, *, " + _GTAIL.replace("dtype=None", "dtype=long") + ") -> Tensor",
    tags=_RF, function=False, method=False,
    meta=lambda n, generator=None, dtype="long", layout=None, device=None, pin_memory=None:
    TensorMeta(_int_dtype(dtype), (n,), _meta_dev(device)))
def _randperm(xp, n, generator=None, dtype="long", layout=None, device=None,
              pin_memory=None):
    if n < 0:       # (PyTorch 2.13: the empty result's size check)
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    dt = _int_dtype(dtype)
    # (ATen's randperm checks: n - 1 must fit the dtype, which wrapped before: randperm(300,
    # dtype=torch.uint8); float16 counts exactly to 2049; no bool kernel)
    if dt is _dt.bool:
        from .registry import UnsupportedDtypeError
        raise UnsupportedDtypeError("\"randperm\" not implemented for 'Bool'")
    if dt is _dt.float16 and n > 2049:
        raise RuntimeError("n cannot be greater than 2049 for Half type.")
    if dt.np.kind in "iu" and n > 0:
        from .registry import checked_int, _NARROW
        if dt.np in _NARROW:
            checked_int(int(n) - 1, dt.np)
    return _gen(device, generator).permutation(int(n)).astype(dt.np, copy=False)


def _like_meta(dtype_rule, low_high=0):
    """Meta of a *_like op; low_high: how many int args (high / low, high) follow self."""
    def meta(self, *args):
        bounds, rest = args[:low_high], list(args[low_high:]) + [None] * 6
        if low_high:
            _check_range(*((0,) + tuple(bounds) if low_high == 1 else bounds))
        generator, dtype, layout, device = rest[:4]
        return TensorMeta(dtype_rule(dtype or self.dtype), tuple(self.shape),
                          _meta_dev(device, self.device))
    return meta


@op(f"aten::rand_like.generator(Tensor self, *, {_GLIKE_TAIL}) -> Tensor", tags=_RF, method=False,
    meta=_like_meta(lambda d: _float_dtype(d, _UNIFORM_KERNEL)))
def rand_like(xp, self, generator=None, dtype=None, layout=None, device=None,
              pin_memory=None, memory_format=None):
    dt = _float_dtype(dtype or _dt.from_numpy_dtype(self.dtype), _UNIFORM_KERNEL)
    return like_alloc(xp, lambda s: _draw(_gen_like(self, device, generator).uniform, s, dt),
                      self, memory_format)


@op(f"aten::randn_like.generator(Tensor self, *, {_GLIKE_TAIL}) -> Tensor", tags=_RF, method=False,
    meta=_like_meta(lambda d: _float_dtype(d, _NORMAL_KERNEL)))
def randn_like(xp, self, generator=None, dtype=None, layout=None, device=None,
               pin_memory=None, memory_format=None):
    dt = _float_dtype(dtype or _dt.from_numpy_dtype(self.dtype), _NORMAL_KERNEL)
    # (PyTorch's empty_like(self).normal_(): a permuted (channels_last, transposed) result
    # is no contiguous tensor, so its values come from the scalar sampler)
    contiguous = like_contiguous(self, memory_format)
    return like_alloc(xp, lambda s: _draw(_gen_like(self, device, generator).normal, s, dt,
                                          contiguous=contiguous), self, memory_format)


def _randint_like(xp, self, low, high, generator, dtype, device, memory_format):
    _int64_args(low, high)
    _check_range(low, high)
    dt = dtype.np if dtype is not None else self.dtype
    _check_from_to_in_range(int(low), int(high) - 1, np.dtype(dt))     # (as randint's)
    return like_alloc(xp, lambda s: _gen_like(self, device, generator).integers(
        int(low), int(high), s).astype(dt, copy=False), self, memory_format)


@op(f"aten::randint_like.generator(Tensor self, SymInt high, *, {_GLIKE_TAIL}) -> Tensor", tags=_RF,
    method=False, name="randint_like",
    meta=_like_meta(lambda d: d, 1))
def randint_like_high(xp, self, high, generator=None, dtype=None, layout=None, device=None,
                 pin_memory=None, memory_format=None):
    return _randint_like(xp, self, 0, high, generator, dtype, device, memory_format)


@op(f"aten::randint_like.low_generator_dtype(Tensor self, SymInt low, SymInt high, *, {_GLIKE_TAIL}) "
    "-> Tensor", tags=_RF, method=False, name="randint_like",
    meta=_like_meta(lambda d: d, 2))
def randint_like_low(xp, self, low, high, generator=None, dtype=None, layout=None,
                     device=None, pin_memory=None, memory_format=None):
    return _randint_like(xp, self, low, high, generator, dtype, device, memory_format)


def without_generator(generator_overload, name):
    """Declare `name`, the overload of a factory without a generator, from its `.generator`
    overload's op: the same schema but that argument, the same body given None for it."""
    g = OPS[generator_overload]
    k = [a.name for a in g.schema.arguments].index("generator")
    text = str(g.schema).replace("Generator? generator, ", "").split("(", 1)[1]

    def with_none(fn):
        return lambda *a: fn(*a[:k], None, *a[k:])

    def impl(xp, *args):
        return g.impl(xp, *args[:k], None, *args[k:])
    impl.__name__ = impl.__qualname__ = name.split("::")[1].replace(".", "_")
    impl.__doc__ = g.impl.__doc__
    op(f"{name}({text}", tags=g.tags, meta=with_none(g.meta), method=g.bind_method,
       function=g.bind_function, name=g.public_name)(impl)


for _g, _name in (("rand.generator", "rand"), ("randn.generator", "randn"),
                  ("randint.low_generator", "randint.low"), ("randint.generator", "randint"),
                  ("randperm.generator", "randperm"),
                  ("rand_like.generator", "rand_like"), ("randn_like.generator", "randn_like"),
                  ("randint_like.generator", "randint_like"),
                  ("randint_like.low_generator_dtype", "randint_like.low_dtype")):
    without_generator("aten::" + _g, "aten::" + _name)
del _g, _name


def _factory_op(name, generator):
    """The overload of a random factory a call records: with a generator, its `.generator`
    overload; and the keywords it takes."""
    if generator is None:
        return OPS[name], {}
    return OPS[_GENERATOR_OVERLOADS.get(name, name + ".generator")], {"generator": generator}


_GENERATOR_OVERLOADS = {"aten::randint.low": "aten::randint.low_generator",
                        "aten::randint_like.low_dtype": "aten::randint_like.low_generator_dtype"}


# ------------------------------------------------------------------ normal(mean, std)

def _check_std(std):
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")


def _check_std_tensor(xp, std):
    if xp is np and std.size and not (std >= 0).all():
        raise RuntimeError("normal expects all elements of std >= 0.0")


def _normal_meta_dtype(dt):
    """normal's result dtype: its tensor's (mean's where both are tensors), floating."""
    if dt.category != _dt.FLOATING:
        raise NotImplementedError(f'"{_NORMAL_KERNEL}" not implemented for '
                                  f'\'{dt.short_name}\'')
    return dt


def _draw_normal(g, shape, npdt, mean, std):
    """PyTorch's normal(mean, std) with a tensor among them: normal_(0, 1) (or
    normal_(0, std) for a float std), then `* std + mean` as separate ops (ATen's mul_ and
    add_: the product in the type promoted with std's, rounded back, then the sum)."""
    if not hasattr(std, "shape"):
        v = g.normal(shape, npdt, 0.0, float(std))
        return (v + mean).astype(npdt, copy=False)
    v = (g.normal(shape, npdt) * std).astype(npdt, copy=False)
    return (v + mean).astype(npdt, copy=False)


@op("aten::normal.Tensor_Tensor(Tensor mean, Tensor std, *, Generator? generator=None) -> "
    "Tensor", tags=_R, method=False,
    meta=lambda mean, std, generator=None: TensorMeta(
        _normal_meta_dtype(mean.dtype), broadcast_shapes(mean.shape, std.shape), mean.device))
def normal_tensor_tensor(xp, mean, std, generator=None):
    """ATen's normal_out_impl: the result has mean's dtype (an integral or bool mean is
    normal_'s NotImplementedError, whatever std's), filled by normal_(0, 1), then
    mul_(std) (in the dtype it promotes to with std's, rounded back) and add_(mean)."""
    dt = _normal_meta_dtype(_dt.from_numpy_dtype(mean.dtype))
    shape = broadcast_shapes(mean.shape, std.shape)
    _check_std_tensor(xp, std)
    return _draw_normal(_gen_like(mean, None, generator), shape, dt.np, mean, std)


@op("aten::normal.Tensor_float(Tensor mean, float std=1, *, Generator? generator=None) -> "
    "Tensor", tags=_R, method=False,
    meta=lambda mean, std=1, generator=None: (_check_std(std), TensorMeta(
        _normal_meta_dtype(mean.dtype), tuple(mean.shape), mean.device))[1])
def normal_tensor_float(xp, mean, std=1, generator=None):
    _check_std(std)
    dt = _normal_meta_dtype(_dt.from_numpy_dtype(mean.dtype))
    return _draw_normal(_gen_like(mean, None, generator), mean.shape, dt.np, mean, std)


@op("aten::normal.float_Tensor(float mean, Tensor std, *, Generator? generator=None) -> "
    "Tensor", tags=_R, method=False,
    meta=lambda mean, std, generator=None: TensorMeta(
        _normal_meta_dtype(std.dtype), tuple(std.shape), std.device))
def normal_float_tensor(xp, mean, std, generator=None):
    dt = _normal_meta_dtype(_dt.from_numpy_dtype(std.dtype))
    _check_std_tensor(xp, std)
    return _draw_normal(_gen_like(std, None, generator), std.shape, dt.np, dt.np.type(mean),
                        std)


@op(f"aten::normal.float_float(float mean, float std, SymInt[] size, *, {_TAIL}) -> Tensor",
    tags=_RF, method=False,
    meta=lambda mean, std, size, generator=None, dtype=None, layout=None, device=None,
    pin_memory=None: (_check_std(std), TensorMeta(_float_dtype(dtype, _NORMAL_KERNEL), tuple(size),
                                                  _meta_dev(device)))[1])
def normal_float_float(xp, mean, std, size, generator=None, dtype=None, layout=None,
                       device=None, pin_memory=None):
    _check_std(std)
    dt = _float_dtype(dtype, _NORMAL_KERNEL)
    return _gen(device, generator).normal(tuple(check_sizes(size)), dt.np, float(mean),
                                          float(std))


# ------------------------------------------------------------------ in-place fills

def _write(self, v):
    self[...] = v
    return self


def _serial_axes(self):
    """The axes of self in the order ATen's TensorIterator walks it (its dimensions sorted
    by stride, outermost first), or None for C order."""
    if self.ndim < 2 or self.flags.c_contiguous:
        return None
    return sorted(range(self.ndim), key=lambda d: -abs(self.strides[d]))


def _serial_order(self):
    """A view of self whose C order is the order ATen's TensorIterator walks it in:
    in-place fills draw in that order."""
    axes = _serial_axes(self)
    return self if axes is None else self.transpose(axes)


def _write_serial(self, draw):
    """Fill self with draw(shape) generated in ATen's order over self's memory."""
    view = _serial_order(self)
    view[...] = draw(view.shape)
    return self


@op("aten::normal_(Tensor(a!) self, float mean=0, float std=1, *, "
    "Generator? generator=None) -> Tensor(a!)", tags=_RI, function=False, meta=same_as(0))
def normal_(xp, self, mean=0, std=1, generator=None):
    _check_std(std)        # (before the kernel's dtype dispatch, as ATen's normal_)
    if self.dtype.kind == "c":
        # ATen's normal_impl_: the real pairs (view_as_real), each part with half the
        # variance (nn.Embedding(..., dtype=torch.cfloat), init.normal_ of complex weights)
        normal_(xp, _real_pairs(xp, self), mean, std / math.sqrt(2), generator)
        return self
    _check_float(self, _NORMAL_KERNEL)
    g = _gen_like(self, None, generator)
    contiguous = bool(self.flags.c_contiguous)
    return _write_serial(self, lambda s: g.normal(s, self.dtype, float(mean), float(std),
                                                  contiguous=contiguous))


@op("aten::uniform_(Tensor(a!) self, float from_=0, float to=1, *, "
    "Generator? generator=None) -> Tensor(a!)", tags=_RI, function=False, meta=same_as(0))
def uniform_(xp, self, from_=0, to=1, generator=None):
    if self.dtype.kind != "c":
        _check_float(self, _UNIFORM_KERNEL)
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={from_} > to={to}")
    if self.dtype.kind == "c":
        # ATen's uniform_impl_: both parts of each element, in view_as_real's order
        # (nn.Linear / Conv / LSTM(..., dtype=torch.cfloat) initialize through it)
        uniform_(xp, _real_pairs(xp, self), from_, to, generator)
        return self
    g = _gen_like(self, None, generator)
    return _write_serial(self, lambda s: g.uniform(s, self.dtype, float(from_), float(to)))


def _real_pairs(xp, a):
    """A complex array's memory as its (real, imaginary) pairs: view_as_real's view."""
    re = a.real
    return xp.lib.stride_tricks.as_strided(re, shape=a.shape + (2,),
                                           strides=re.strides + (re.itemsize,))


@op("aten::exponential_(Tensor(a!) self, float lambd=1, *, Generator? generator=None) -> "
    "Tensor(a!)", tags=_RI, function=False, meta=same_as(0))
def exponential_(xp, self, lambd=1, generator=None):
    _check_continuous(self, "Exponential")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    # ATen's exponential_distribution<double>: -1 / lambda * log1p(-u), u a double uniform
    g = _gen_like(self, None, generator)
    exp = getattr(g, "exponential", None)        # (the CPU stream's: C's log1p)
    if exp is not None:
        return _write_serial(self, lambda s: exp(s, lambd).astype(self.dtype))
    return _write_serial(self, lambda s: ((-1.0 / lambd) * xp.log1p(
        -g.uniform(s, np.dtype(np.float64)))).astype(self.dtype))


def _check_p(p):
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")


def _check_p_tensor(xp, p):
    if xp is np and p.size and not ((p >= 0) & (p <= 1)).all():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  "
                           "(bernoulli: all probabilities must be in [0, 1])")


def _uniform_for(g, shape, p_dtype):
    """The uniforms ATen's bernoulli compares p with: double for a double (or Python
    float) p, float for any other p."""
    return g.uniform(shape, np.dtype(np.float64 if p_dtype == np.float64 else np.float32))


def _below(g, shape, p):
    """A double uniform < p per element (ATen's bernoulli with a float p)."""
    below = getattr(g, "below", None)        # (the CPU stream's exact integer test)
    if below is not None:
        return below(shape, p)
    return _uniform_for(g, shape, np.dtype(np.float64)) < p


@op("aten::bernoulli_.float(Tensor(a!) self, float p=0.5, *, Generator? generator=None) -> "
    "Tensor(a!)", tags=_RI, function=False, meta=same_as(0))
def bernoulli_float_(xp, self, p=0.5, generator=None):
    _check_p(p)
    g = _gen_like(self, None, generator)
    return _write_serial(self, lambda s: _below(g, s, p).astype(self.dtype))


@op("aten::bernoulli_.Tensor(Tensor(a!) self, Tensor p, *, Generator? generator=None) -> "
    "Tensor(a!)", tags=_RI, function=False, name="bernoulli_",
    meta=lambda self, p, generator=None: (broadcast_shapes(self.shape, p.shape),
                                          TensorMeta(self.dtype, tuple(self.shape),
                                                     self.device))[1])
def bernoulli_tensor_(xp, self, p, generator=None):
    _check_p_tensor(xp, p)
    if broadcast_shapes(self.shape, p.shape) != tuple(self.shape):
        raise RuntimeError(f"bernoulli_: p of shape {list(p.shape)} can't be broadcast to "
                           f"self of shape {list(self.shape)}")
    g = _gen_like(self, None, generator)
    axes = _serial_axes(self)           # (drawn in self's memory order, p beside it)
    if axes is not None:
        p = xp.broadcast_to(p, self.shape).transpose(axes)
    view = self if axes is None else self.transpose(axes)
    view[...] = (_uniform_for(g, view.shape, p.dtype) < p).astype(self.dtype)
    return self


def _bernoulli_meta(self, generator=None):
    if self.dtype.category != _dt.FLOATING:
        raise not_implemented("bernoulli_tensor_cpu_p_", self, self.dtype.short_name)
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


@op("aten::bernoulli(Tensor self, *, Generator? generator=None) -> Tensor", tags=_R,
    meta=_bernoulli_meta)
def bernoulli(xp, self, generator=None):
    _check_float(self, kernel_name("bernoulli_tensor_cpu_p_", xp))
    _check_p_tensor(xp, self)
    u = _uniform_for(_gen_like(self, None, generator), self.shape, self.dtype)
    return (u < self).astype(self.dtype)


@op("aten::bernoulli.p(Tensor self, float p, *, Generator? generator=None) -> Tensor",
    tags=_R, name="bernoulli",
    meta=lambda self, p, generator=None: (_check_p(p), TensorMeta(
        self.dtype, tuple(self.shape), self.device))[1])
def bernoulli_p(xp, self, p, generator=None):
    _check_p(p)
    return _below(_gen_like(self, None, generator), self.shape, p).astype(self.dtype)


def _random_bounds(npdt):
    """random_() without bounds: [0, 2**mantissa] for floats, [0, max] for ints."""
    if npdt.kind == "f":
        return 0, (1 << (np.finfo(npdt).nmant + 1)) + 1
    if npdt.kind == "b":
        return 0, 2
    return 0, int(np.iinfo(npdt).max) + 1


def _random_fill(self, low, high, generator):
    _check_range(low, high)
    g = _gen_like(self, None, generator)
    return _write_serial(self, lambda s: g.integers(low, min(high, 1 << 63), s)
                         .astype(self.dtype))


def _check_from_to_in_range(from_, to_inc, npdt, dt=None):
    """ATen's check_from_to_in_range: from and to - 1 within the dtype's range (uint64's
    taken as [0, int64 max]: its max as an int64 is -1, so random_(0) of a uint64 tensor is
    refused), and its warning for a float range past the mantissa's exact integers."""
    bf16 = dt is _dt.bfloat16       # (its carrier is float32: 8 bits of mantissa, not 24)
    dt = _dt.bfloat16 if bf16 else _dt.from_numpy_dtype(npdt)
    name = _dt.CPP_NAMES.get(dt.name, dt.name)
    if bf16:
        lo, hi = -3.3895313892515355e38, 3.3895313892515355e38
    elif npdt.kind == "f":
        info = np.finfo(npdt)
        lo, hi = float(info.min), float(info.max)
    elif npdt == np.uint64:
        lo, hi = 0, (1 << 63) - 1
    elif npdt.kind == "b":
        lo, hi = 0, 1
    else:
        info = np.iinfo(npdt)
        lo, hi = int(info.min), int(info.max)
    for v, what in ((from_, "from"), (to_inc, "to - 1")):
        if not lo <= v <= hi:
            raise RuntimeError(f"{what} is out of bounds for {name}")
    if npdt.kind == "f":
        digits = 8 if bf16 else np.finfo(npdt).nmant + 1
        for v, what in ((from_, "from"), (to_inc, "to - 1")):
            if not -(1 << digits) <= v <= 1 << digits:
                from .._frames import warn_at_user_frame
                warn_at_user_frame(
                    f"{what} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision "
                    f"limitations {name} can support discrete uniform distribution only "
                    f"within this range. This warning will become an error in version 1.7 "
                    f"release, please fix the code in advance")


@op("aten::random_(Tensor(a!) self, *, Generator? generator=None) -> Tensor(a!)", tags=_RI,
    function=False, meta=same_as(0))
def random_(xp, self, generator=None):
    return _random_fill(self, *_random_bounds(self.dtype), generator)


@op("aten::random_.from(Tensor(a!) self, int from_, int? to, *, Generator? generator=None) "
    "-> Tensor(a!)", tags=_RI, function=False, name="random_", meta=same_as(0))
def random_from(xp, self, from_, to, generator=None):
    _int64_args(from_, to)
    if to is None:
        high = _random_bounds(self.dtype)[1]
        # (ATen's to_inc: the type's max as an int64, 2**digits for a float)
        _check_from_to_in_range(from_, _as_int64(high - 1), self.dtype)
    else:
        _check_range(from_, to)
        high = to
        _check_from_to_in_range(from_, to - 1, self.dtype)
    return _random_fill(self, from_, high, generator)


def _as_int64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


@op("aten::random_.to(Tensor(a!) self, int to, *, Generator? generator=None) -> Tensor(a!)",
    tags=_RI, function=False, name="random_", meta=same_as(0))
def random_to(xp, self, to, generator=None):
    _int64_args(to)
    _check_range(0, to)
    _check_from_to_in_range(0, to - 1, self.dtype)
    return _random_fill(self, 0, to, generator)


# ------------------------------------------------------------------ multinomial

def _multinomial_rule(shape, dtype, num_samples, replacement):
    if len(shape) not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if dtype.category != _dt.FLOATING:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{dtype.short_name}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    n = shape[-1]
    if not replacement and n is not None and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    return tuple(shape[:-1]) + (num_samples,)


@op("aten::multinomial(Tensor self, SymInt num_samples, bool replacement=False, *, "
    "Generator? generator=None) -> Tensor", tags=_R,
    meta=lambda self, num_samples, replacement=False, generator=None: TensorMeta(
        _dt.int64, _multinomial_rule(self.shape, self.dtype, num_samples, replacement),
        self.device))
def multinomial(xp, self, num_samples, replacement=False, generator=None):
    out_shape = _multinomial_rule(self.shape, _dt.from_numpy_dtype(self.dtype), num_samples,
                                  replacement)
    n = self.shape[-1]
    p = self.reshape(-1, n).astype(np.float64)
    rows = p.shape[0]
    if p.size and (not replacement or num_samples == 1):
        # PyTorch's checks before its sampler without replacement (ATen's multinomial):
        # on every device (a host sync, as PyTorch's .item()); it samples zero-probability
        # categories when the others run out, as PyTorch's topk does
        if not bool(((p.max() < np.inf) & (p.min() >= 0)).item()):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or "
                               "element < 0")
        if bool((p.sum(axis=1) == 0).any().item()):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    elif xp is np and p.size:
        # the CPU kernel with replacement checks each entry (CUDA's asserts on the device)
        if not (p >= 0).all():
            raise RuntimeError("invalid multinomial distribution (encountering probability "
                               "entry < 0)")
        if not np.isfinite(p).all():
            raise RuntimeError("invalid multinomial distribution (encountering probability "
                               "entry = infinity or NaN)")
        if (p.sum(axis=1) <= 0).any():
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    g = _gen_like(self, None, generator)
    if replacement and num_samples > 1:
        # ATen's CPU sampler: per row, the running sum in the input's type normalized (its
        # last entry set to 1), then per sample a double uniform and the first entry >= it
        cdf = xp.cumsum(self.reshape(-1, n), axis=1)
        cdf = cdf / cdf[:, -1:]
        cdf[:, -1] = 1
        u = g.uniform((rows, num_samples), np.dtype(np.float64))
        if xp is np:
            idx = np.stack([np.searchsorted(cdf[r].astype(np.float64), u[r], side="left")
                            for r in range(rows)]) if rows else np.zeros((0, num_samples))
        else:
            off = xp.arange(rows, dtype=np.float64)[:, None]
            pos = xp.searchsorted((cdf.astype(np.float64) + off).reshape(-1),
                                  (u + off).reshape(-1), side="left")
            idx = pos.reshape(rows, num_samples) - xp.arange(rows)[:, None] * n
        idx = xp.clip(idx, 0, n - 1)
    else:
        # PyTorch's: q = empty_like(self).exponential_(1) in the input's type (drawn in the
        # memory order of self's layout), then the top num_samples of p / q
        from . import memory_format as _mf
        u = _mf.alloc(xp, lambda s: g.uniform(s, np.dtype(np.float64)), self.shape,
                      _mf.order_for(self, _mf.PRESERVE))
        q = ((-1.0) * xp.log1p(-u.reshape(-1, n))).astype(self.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            keys = self.reshape(-1, n) / q
        order = xp.argsort(-keys, axis=1, **({"kind": "stable"} if xp is np else {}))
        idx = order[:, :num_samples]
    return idx.astype(np.int64, copy=False).reshape(out_shape)


# ------------------------------------------------------------------ Python entry points

def _public(fn):
    PUBLIC[fn.__name__] = fn
    return fn


def _size_and_finish():
    return _size_arg, _finish


def _for_out(out, dtype, device, name=None, resizes=False):
    """dtype and device of a factory called with out= (out's, which dtype must match)."""
    return (dtype, device) if out is None else _out_dtype_device(out, dtype, device, name,
                                                                 resizes)


def _refused(name, args, named):
    """PyTorch's parser TypeError for a call of factory `name` that none of its Python
    signatures takes (parser_errors.signature_error; keywords given as other than their
    defaults), or None."""
    from .parser_errors import signature_error
    kwargs = {k: v for k, v in named.items()
              if v is not None and not (v is False and k in ("requires_grad", "pin_memory"))}
    return signature_error(name, tuple(args), kwargs)


def _keyword_size(name, sizes, kw, named):
    """rand(size=(2, 3)): the sizes given by PyTorch's parser's name for them
    (creation.keyword_size); PyTorch's parser error over the call's signatures where
    the call also gives them positionally (rand(2, size=(3,)))."""
    if sizes or len(kw) > 1 or "size" not in kw:
        e = _refused(name, sizes, dict(named, **kw))
        if e is not None:
            raise e
    from .creation import keyword_size
    return keyword_size(name, sizes, kw["size"])


def _check_pin(name, pin_memory, args=(), named=None):
    from .creation import check_pin_memory
    check_pin_memory(name, pin_memory, args, named)


def _none(name):
    """rand() / randn(): no size; PyTorch's parser error (raised by rand's except clause)."""
    raise TypeError(f"{name}() takes a size")


def _reraise_refused(name, args, named):
    """In an except clause: PyTorch's parser TypeError for the call where it has one, else
    the exception being handled."""
    e = _refused(name, args, named)
    if e is None:
        raise
    raise e from None


def _fill_strided_out(out, size, fill, generator):
    """rand / randn with an out= of their size that is not contiguous: filled in place
    (PyTorch's `out.resize_(size).uniform_()`: resize_ keeps out's strides when the size is
    out's, and the fill then draws in out's memory order). False where out is None, of
    another size or contiguous (the factory's values are copied in)."""
    if out is None or tuple(out.shape) != tuple(size) or out.is_contiguous():
        return False
    from ..autograd.grad_mode import no_grad
    with no_grad():
        getattr(out, fill)(generator=generator)
    return True


@_public
def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False, **_kw):
    _check_pin("rand", pin_memory, size, dict(_kw, generator=generator, out=out, dtype=dtype,
               layout=layout, device=device, requires_grad=requires_grad))
    if _kw:
        size = _keyword_size("rand", size, _kw, dict(generator=generator, out=out, dtype=dtype,
                             layout=layout, device=device, requires_grad=requires_grad,
                             pin_memory=pin_memory))
    size_arg, finish = _size_and_finish()
    try:
        dtype, device = _for_out(out, dtype, device, "rand")
        if _fill_strided_out(out, size_arg(size or _none("rand")), "uniform_", generator):
            return finish(out, requires_grad, out, "rand")
        o, g = _factory_op("aten::rand", generator)
        return finish(o.public(size_arg(size or _none("rand")), **g, dtype=dtype,
                               layout=layout, device=device), requires_grad, out, "rand")
    except (TypeError, AttributeError):
        _reraise_refused("rand", size, dict(generator=generator, out=out, dtype=dtype,
                                            layout=layout, device=device,
                                            requires_grad=requires_grad,
                                            pin_memory=pin_memory))


@_public
def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False, **_kw):
    _check_pin("randn", pin_memory, size, dict(_kw, generator=generator, out=out, dtype=dtype,
               layout=layout, device=device, requires_grad=requires_grad))
    if _kw:
        size = _keyword_size("randn", size, _kw, dict(generator=generator, out=out, dtype=dtype,
                             layout=layout, device=device, requires_grad=requires_grad,
                             pin_memory=pin_memory))
    size_arg, finish = _size_and_finish()
    try:
        dtype, device = _for_out(out, dtype, device, "randn", resizes=True)
        if _fill_strided_out(out, size_arg(size or _none("randn")), "normal_", generator):
            return finish(out, requires_grad, out, "randn")
        o, g = _factory_op("aten::randn", generator)
        return finish(o.public(size_arg(size or _none("randn")), **g, dtype=dtype,
                               layout=layout, device=device), requires_grad, out, "randn")
    except (TypeError, AttributeError):
        _reraise_refused("randn", size, dict(generator=generator, out=out, dtype=dtype,
                                             layout=layout, device=device,
                                             requires_grad=requires_grad,
                                             pin_memory=pin_memory))


@_public
def randint(*args, size=None, low=None, high=None, generator=None, out=None, dtype=None,
            layout=None, device=None, requires_grad=False, pin_memory=False):
    """randint(high, size), randint(low, high, size); size also as a keyword."""
    _check_pin("randint", pin_memory, args, dict(
        size=size, low=low, high=high, generator=generator, out=out, dtype=dtype,
        layout=layout, device=device, requires_grad=requires_grad))
    n = len(args)
    if not (n in (2, 3) and size is None and low is None and high is None
            and args[0].__class__ is int and args[n - 2].__class__ is int
            and isinstance(args[n - 1], (list, tuple))):
        # (not randint(5, (2,)) / randint(0, 5, (2,)): each signature tried)
        e = _refused("randint", args, dict(size=size, low=low, high=high, generator=generator,
                                           out=out, dtype=dtype, layout=layout, device=device,
                                           requires_grad=requires_grad,
                                           pin_memory=pin_memory))
        if e is not None:
            raise e
    given, size_given, low_given, high_given = args, size, low, high
    args = list(args)
    if size is None:
        if not args or not isinstance(args[-1], (list, tuple)):
            raise TypeError("randint() missing required argument 'size' (a tuple of ints)")
        size = args.pop()
    if high is None:
        if not args:
            raise TypeError("randint() missing required argument 'high'")
        high = args.pop()
    if low is None and args:
        low = args.pop()
    if args:
        raise TypeError("randint() takes at most 3 positional arguments (low, high, size)")
    size_arg, finish = _size_and_finish()
    try:
        dtype, device = _for_out(out, dtype, device, "randint")
        # (PyTorch's binding passes its default long, which a trace records: dtype=4)
        # (randint(high, size) is PyTorch's own overload, which a trace records)
        o, g = _factory_op("aten::randint" + ("" if low is None else ".low"), generator)
        bounds = (int(high),) if low is None else (int(low), int(high))
        return finish(o.public(*bounds, size_arg((size,)), **g,
                               dtype=_dt.int64 if dtype is None else dtype,
                               device=device), requires_grad, out, "randint")
    except TypeError:           # (generator=3, dtype='a' ...)
        _reraise_refused("randint", given, dict(
            size=size_given, low=low_given, high=high_given, generator=generator, out=out,
            dtype=dtype, layout=layout, device=device, requires_grad=requires_grad,
            pin_memory=pin_memory))


@_public
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    _check_pin("randperm", pin_memory, (n,), dict(
        generator=generator, out=out, dtype=dtype, layout=layout, device=device,
        requires_grad=requires_grad))
    if n.__class__ is not int:
        e = _refused("randperm", (n,), dict(generator=generator, out=out, dtype=dtype,
                                            layout=layout, device=device,
                                            requires_grad=requires_grad,
                                            pin_memory=pin_memory))
        if e is not None:
            raise e
    _, finish = _size_and_finish()
    if out is not None and n < 0:
        # (randperm_out's own check, PyTorch 2.13's words: no space after "got")
        raise RuntimeError(f"n must be non-negative, got{n}")
    dtype, device = _for_out(out, dtype, device, "randperm")
    o, g = _factory_op("aten::randperm", generator)
    return finish(o.public(int(n), **g, dtype=_dt.int64 if dtype is None else dtype,
                           device=device), requires_grad, out, "randperm")


def _like(name):
    def fn(input, *, generator=None, dtype=None, layout=None, device=None,
           requires_grad=False, memory_format=None, pin_memory=False):
        _check_pin(name, pin_memory)
        _, finish = _size_and_finish()
        o, g = _factory_op(f"aten::{name}", generator)
        return finish(o.public(input, **g, dtype=dtype, device=device,
                               memory_format=memory_format), requires_grad, None, name)
    fn.__name__ = name
    PUBLIC[name] = fn
    return fn


_like("rand_like")
_like("randn_like")


@_public
def randint_like(input, *args, low=None, high=None, generator=None, dtype=None, layout=None,
                 device=None, requires_grad=False, memory_format=None, pin_memory=False):
    """randint_like(input, high) or randint_like(input, low, high)."""
    _check_pin("randint_like", pin_memory)
    args = list(args)
    if high is None:
        if not args:
            raise TypeError("randint_like() missing required argument 'high'")
        high = args.pop()
    if low is None and args:
        low = args.pop()
    _, finish = _size_and_finish()
    # (randint_like(x, high) is PyTorch's own overload, which a trace records)
    o, g = _factory_op("aten::randint_like" + ("" if low is None else ".low_dtype"), generator)
    bounds = (int(high),) if low is None else (int(low), int(high))
    return finish(o.public(input, *bounds, **g, dtype=dtype, device=device,
                           memory_format=memory_format), requires_grad, None, "randint_like")


# ------------------------------------------------------------------ derivatives
# PyTorch's (derivatives.yaml): a sample is not reparameterized, so the distribution's
# tensor parameters get zero gradients (normal's mean and std, bernoulli's p), and the
# in-place fills give the overwritten tensor a zero gradient. The factories and the
# integer-valued ops (randint_like, multinomial) carry no gradient at all.
from .registry import derivative as _derivative  # noqa: E402


def _zeros_grad(grad):
    import gpujit
    return gpujit.zeros_like(grad)     # autograd sums it to each input's shape


@_derivative(normal_tensor_tensor)
def _normal_tensor_tensor_grad(grad):
    return _zeros_grad(grad), _zeros_grad(grad)


@_derivative(normal_tensor_float, normal_float_tensor, bernoulli, bernoulli_p, normal_,
             uniform_, exponential_, bernoulli_float_, random_, random_from, random_to)
def _random_zero_grad(grad):
    return _zeros_grad(grad)


@_derivative(bernoulli_tensor_)
def _bernoulli_tensor_grad(grad):
    return _zeros_grad(grad), _zeros_grad(grad)
