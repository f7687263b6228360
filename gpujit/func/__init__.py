"""torch.func: function transforms (grad, vjp, jvp, jacrev, jacfwd, hessian, vmap,
linearize) over gpujit's reverse-mode autograd, and functional_call /
stack_module_state for calling modules with given parameters."""
from ._functional_call import functional_call, stack_module_state
from ._grad import grad, grad_and_value, vjp, jvp, linearize
from ._jac import jacrev, jacfwd, hessian
from ._vmap import vmap
from ._utils import functionalize, replace_all_batch_norm_modules_

__all__ = ["functional_call", "stack_module_state", "grad", "grad_and_value", "vjp", "jvp",
           "linearize", "jacrev", "jacfwd", "hessian", "vmap", "functionalize",
           "replace_all_batch_norm_modules_"]
