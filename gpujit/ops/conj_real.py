"""The complex-number views PyTorch gives every tensor, for real tensors (gpujit has no
complex dtypes): conj, conj_physical, resolve_conj, resolve_neg and real hand back the
tensor itself (`x.conj() is x`, its grad_fn unchanged, as PyTorch's for a real x; a trace
and scripted code record the registry op, an identity with an identity derivative); imag
raises PyTorch's error. Code written for both kinds (`x.conj().T`, `torch.real(z)`) runs
on real tensors."""
from __future__ import annotations

from .meta import TensorMeta
from . import registry as _registry
from .registry import op, derivative, tensor_method

PUBLIC = {}


def _same(self):
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


def _identity(schema, name):
    @op(schema, meta=_same)
    def impl(xp, self):
        return self
    impl.__name__ = impl.__qualname__ = name
    impl.__doc__ = f"{name}(): a real tensor is its own {name.strip('_')} (itself)."

    def public(input):
        if _registry.dispatch_state.tracing is None and isinstance(input, _registry._Tensor):
            return input
        return impl.op.public(input)
    public.__name__ = public.__qualname__ = name
    public.__doc__ = impl.__doc__
    PUBLIC[name] = public
    if name != "real":              # (Tensor.real is a property)
        tensor_method(name)(public)
    return impl


conj = _identity("aten::conj(Tensor(a) self) -> Tensor(a)", "conj")
conj_physical = _identity("aten::conj_physical(Tensor(a) self) -> Tensor(a)", "conj_physical")
resolve_conj = _identity("aten::resolve_conj(Tensor(a) self) -> Tensor(a)", "resolve_conj")
resolve_neg = _identity("aten::resolve_neg(Tensor(a) self) -> Tensor(a)", "resolve_neg")
real = _identity("aten::real(Tensor(a) self) -> Tensor(a)", "real")


@derivative(conj, conj_physical, resolve_conj, resolve_neg, real)
def _identity_grad(grad):
    return grad


def imag(input):
    """PyTorch's error: a real tensor has no imaginary part to view."""
    raise _imag_error()


PUBLIC["imag"] = imag


def _imag_error():
    return RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
