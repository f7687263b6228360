"""Module backward hooks (register_full_backward_hook, register_full_backward_pre_hook,
register_backward_hook), as PyTorch's torch.utils.hooks.BackwardHook does them: the
module's Tensor arguments and its Tensor results pass through an identity autograd
Function; the results' backward node hands grad_output to the pre hooks (which may replace
it) and the arguments' node hands grad_input to the full hooks (which may replace it).
When no argument requires grad, the full hooks run from the results' node with
grad_input all None."""
from __future__ import annotations

from ..autograd.function import FUNCTORCH, Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor

__all__ = ["BackwardHook", "BackwardHookFunction"]


class BackwardHookFunction(Function):
    @staticmethod
    def forward(ctx, on_grads, *tensors):
        ctx.on_grads = on_grads
        ctx.set_materialize_grads(False)
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.on_grads(grads))


def _requires_grad(t):
    """t requires grad as the hooks see it: under vmap a batched tensor does not (as
    PyTorch's BatchedTensor, so vmap of a hooked module sets up no hook Function)."""
    if not (isinstance(t, Tensor) and t.requires_grad):
        return False
    if FUNCTORCH[2]:
        from ..func._vmap import is_batched
        return not is_batched(t)
    return True


def _fix_len(res, n, what):
    if not isinstance(res, (tuple, list)):
        res = (res,)
    if len(res) != n:
        raise RuntimeError(f"Backward hook returned an invalid number of {what}, got "
                           f"{len(res)}, but expected {n}")
    return tuple(res)


class BackwardHook:
    """One call's hooks of one module."""

    def __init__(self, module, full_hooks, pre_hooks):
        self.module = module
        self.full_hooks = full_hooks
        self.pre_hooks = pre_hooks
        self.grad_outputs = None
        self.n_inputs = 0
        self.input_index = []

    def _call_full(self, grad_inputs):
        for hook in self.full_hooks:
            res = hook(self.module, grad_inputs, self.grad_outputs)
            if res is not None:
                grad_inputs = _fix_len(res, len(grad_inputs), "grad_input")
        return grad_inputs

    def setup_input_hook(self, args):
        """args with its Tensors that require grad passed through the hook Function."""
        self.n_inputs = len(args)
        self.input_index = [i for i, a in enumerate(args) if _requires_grad(a)]
        if not self.input_index or not is_grad_enabled() or not self.full_hooks:
            return args

        def on_grads(grads):
            full = [None] * self.n_inputs
            for i, g in zip(self.input_index, grads):
                full[i] = g
            full = self._call_full(tuple(full))
            self.grad_outputs = None
            return [full[i] for i in self.input_index]

        out = BackwardHookFunction.apply(on_grads, *[args[i] for i in self.input_index])
        args = list(args)
        for i, t in zip(self.input_index, out):
            args[i] = t
        return tuple(args)

    def setup_output_hook(self, result):
        """result with its Tensors that require grad passed through the hook Function."""
        single = isinstance(result, Tensor)
        items = (result,) if single else result
        if not isinstance(items, (tuple, list)) or not is_grad_enabled():
            return result
        index = [i for i, r in enumerate(items) if _requires_grad(r)]
        if not index:
            return result
        n_out = len(items)

        def on_grads(grads):
            full = [None] * n_out
            for i, g in zip(index, grads):
                full[i] = g
            full = tuple(full)
            for hook in self.pre_hooks:
                res = hook(self.module, full)
                if res is not None:
                    full = _fix_len(res, n_out, "grad_output")
            self.grad_outputs = full
            if not self.input_index and self.full_hooks:     # no input node will run them
                self._call_full((None,) * self.n_inputs)
                self.grad_outputs = None
            return [full[i] for i in index]

        out = BackwardHookFunction.apply(on_grads, *[items[i] for i in index])
        fixed = list(items)
        for i, t in zip(index, out):
            fixed[i] = t
        if single:
            return fixed[0]
        return type(result)(fixed) if isinstance(result, list) else tuple(fixed)
