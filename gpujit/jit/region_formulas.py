"""A DifferentiableGraph region's backward formulas where torch 2.13's (TorchScript's
symbolic_script, as its second scripted call computes them) differ from the registry's
derivatives (derivatives.yaml's, which eager recording and fusion groups use): comparison
masks that give a NaN no gradient, inclusive edges, a tie of max / min giving none, a
float32 leaky_relu slope. graph_autodiff's reverse walk of a region takes SCRIPT_FORMULAS
({op name: f(node, env, grad_outputs, req) -> input grads})."""
from __future__ import annotations

from ..tensor import Tensor
from .autodiff import _node_grads


def _hardsigmoid_script(n, env, gouts, req):
    """A region's hardsigmoid backward as torch 2.13's: where(-3 < x < 3, grad * (1/6), 0)
    with the double 1/6 (float64's gradient is 0.16666666666666666; eager's
    hardsigmoid_backward multiplies by the float32 1.0f / 6.0f, 0.1666666716337204, and a
    float32 grad of 0.3 gives 0.05000000447 both ways, not 0.3 / 6's 0.05000000075)."""
    import gpujit
    x, g = env[n.inputs[0]], gouts[0]
    return [gpujit.where((x > -3.0).logical_and(x < 3.0), g * (1.0 / 6.0),
                         gpujit.zeros((), dtype=g.dtype, device=g.device))]


def _masked(mask_of):
    """A region formula grad * mask(x, the op's numbers) as torch 2.13's: a comparison
    mask, so a NaN x gets no gradient (eager's *_backward kernels pass it on) and the
    bounds are those torch's masks use (hardtanh's and threshold's take their edges)."""
    def formula(n, env, gouts, req):
        import gpujit
        x, g = env[n.inputs[0]], gouts[0]
        nums = [env[v] for v in n.inputs[1:]]
        m = mask_of(x, *nums)
        return [gpujit.where(m, g, gpujit.zeros((), dtype=g.dtype, device=g.device))] + \
            [None] * len(nums)
    return formula


def _leaky_relu_script(n, env, gouts, req):
    """A region's leaky_relu backward as torch 2.13's: the slope taken as a float32, then
    as the grad's dtype (grad 3 of a float64 x < 0 at slope 0.1: 0.30000000447034836,
    eager's 0.30000000000000004; float16: 0.2998046875)."""
    import gpujit
    import numpy as np
    x, g = env[n.inputs[0]], gouts[0]
    slope = env[n.inputs[1]] if len(n.inputs) > 1 else 0.01
    s = gpujit.tensor(float(np.float32(slope)), dtype=g.dtype, device=g.device)
    return [gpujit.where(x > 0, g, g * s), None][:len(n.inputs)]


def _extreme_script(wins):
    """A region's max(x, y) / min(x, y) backward as torch 2.13's: the grad to the operand
    strictly past the other, none to either on a tie or a NaN (eager splits a tie)."""
    def formula(n, env, gouts, req):
        import gpujit
        x, y, g = env[n.inputs[0]], env[n.inputs[1]], gouts[0]
        zero = gpujit.zeros((), dtype=g.dtype, device=g.device)
        return [gpujit.where(wins(x, y), g, zero), gpujit.where(wins(y, x), g, zero)]
    return formula


def _softplus_script(n, env, gouts, req):
    """A region's softplus backward as torch 2.13's: from the result r, where(r * beta >
    threshold, grad, grad * (z - 1) / z) with z = exp(r * beta) (x = threshold / beta
    itself passes the grad)."""
    import gpujit
    g = gouts[0]
    beta = env[n.inputs[1]] if len(n.inputs) > 1 else 1.0
    threshold = env[n.inputs[2]] if len(n.inputs) > 2 else 20.0
    # (the result computed again from x: the region keeps what eager's formula reads)
    rb = gpujit.nn.functional.softplus(env[n.inputs[0]], beta, threshold) * beta
    z = gpujit.exp(rb)
    return [gpujit.where(rb > threshold, g, g * (z - 1.0) / z)] + [None] * (len(n.inputs) - 1)


def _hardswish_script(n, env, gouts, req):
    """A region's hardswish backward as torch 2.13's: grad * where(-3 < x < 3, x / 3 + .5,
    x >= 3) (x = 3 gets grad, eager's 1.5 grad; a NaN x gets none)."""
    import gpujit
    x, g = env[n.inputs[0]], gouts[0]
    m = gpujit.where((x > -3.0).logical_and(x < 3.0), x / 3.0 + 0.5, (x >= 3.0).type_as(x))
    return [g * m]


def _pow_script(n, env, gouts, req):
    """A region's pow(x, y) backward (two tensors) as torch 2.13's: x's grad where(y == 0,
    0, grad * y * x ** (y - 1)), y's grad * x ** y * log(x) (-inf at x = 0, y = 0, where
    eager's is 0)."""
    import gpujit
    x, y, g = env[n.inputs[0]], env[n.inputs[1]], gouts[0]
    gx = gy = None
    if n.inputs[0] in req:
        gx = gpujit.where(y == 0.0, gpujit.zeros((), dtype=g.dtype, device=g.device),
                          g * y * gpujit.pow(x, y - 1.0))
    if n.inputs[1] in req:
        gy = g * gpujit.pow(x, y) * gpujit.log(x)
    return [gx, gy]


# the region formulas (symbolic_script's) that compute otherwise than the registry's
# derivatives (derivatives.yaml's, which eager recording and fusion groups use), each
# checked against torch 2.13's second scripted call
def _on_tensors(formulas, tensor_args):
    """formulas, each used only where its op's tensor arguments are tensors in env (a
    value the walk holds as a Python number takes the registry's derivative)."""
    def wrap(name, f):
        k = tensor_args.get(name, 1)

        def formula(n, env, gouts, req):
            if gouts[0] is None or not all(isinstance(env[v], Tensor) for v in n.inputs[:k]):
                return _node_grads(n, env, gouts, req)
            return f(n, env, gouts, req)
        return formula
    return {name: wrap(name, f) for name, f in formulas.items()}


SCRIPT_FORMULAS = {
    "aten::hardsigmoid": _hardsigmoid_script,
    "aten::leaky_relu": _leaky_relu_script,
    "aten::relu": _masked(lambda x: x > 0),
    "aten::relu6": _masked(lambda x: (x > 0).logical_and(x < 6)),
    "aten::hardtanh": _masked(lambda x, lo=-1.0, hi=1.0: (x >= lo).logical_and(x <= hi)),
    "aten::threshold": _masked(lambda x, th, value: x >= th),
    "aten::hardshrink": _masked(lambda x, lam=0.5: (x < -lam).logical_or(x > lam)),
    "aten::max.other": _extreme_script(lambda a, b: a > b),
    "aten::min.other": _extreme_script(lambda a, b: a < b),
    "aten::softplus": _softplus_script,
    "aten::hardswish": _hardswish_script,
    "aten::pow.Tensor_Tensor": _pow_script,
}
SCRIPT_FORMULAS = _on_tensors(SCRIPT_FORMULAS, {
    "aten::max.other": 2, "aten::min.other": 2, "aten::pow.Tensor_Tensor": 2})
