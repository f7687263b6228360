"""torch.func.jacrev, jacfwd and hessian.

jacrev runs f once and pulls back one basis cotangent per output element (PyTorch pulls
them all back at once under vmap: same values, one backward per row here). jacfwd pushes
one basis tangent per input element through the double-vjp trick of `_grad._Linearized`:
f runs once (under randomness='different' it runs once per column, as PyTorch's vmap
would draw differently per column), then one backward-of-backward per column; when f's
graph holds a node with a forward rule of its own (an op's forward formula, a custom
Function's jvp) each column is pushed by forward-mode AD instead, f running once more per
column."""
from __future__ import annotations

from ..tensor import Tensor
from ._tree import tree_flatten, tree_unflatten
from ._grad import _Linearized, _jvp, _vjp, _wraps
from ._levels import error_if_complex, slice_argnums
from ._vmap import _check_randomness_arg, randomness_scope, vmap

__all__ = ["jacrev", "jacfwd", "hessian"]


def _one_hots(flat, k):
    """Flat zeros like each tensor of flat, with a 1 at element k of their concatenation."""
    out = []
    for t in flat:
        e = t.new_zeros(t.numel())
        if 0 <= k < t.numel():
            e[k] = 1
        k -= t.numel()
        out.append(e.view(t.shape))
    return out


def _assemble(columns, flat_out, flat_primals, primals_spec, argnums, out_spec, rows):
    """Jacobian blocks from the stacked products: `columns[i]` per flat primal i (rows=True:
    shape (sum of output numels,) + primal.shape, from jacrev) or per flat output
    (rows=False: output.shape + (sum of primal numels,), from jacfwd)."""
    from .. import split
    out_numels = [o.numel() for o in flat_out]
    in_numels = [p.numel() for p in flat_primals]
    blocks = [[None] * len(flat_primals) for _ in flat_out]
    if rows:
        for i, (stacked, p) in enumerate(zip(columns, flat_primals)):
            for o, part in enumerate(split(stacked, out_numels, dim=0)):
                blocks[o][i] = part.reshape(tuple(flat_out[o].shape) + tuple(p.shape))
    else:
        for o, (stacked, out) in enumerate(zip(columns, flat_out)):
            for i, part in enumerate(split(stacked, in_numels, dim=-1)):
                blocks[o][i] = part.reshape(tuple(out.shape) + tuple(flat_primals[i].shape))
    per_out = [tree_unflatten(b, primals_spec) for b in blocks]
    if isinstance(argnums, int):
        per_out = [b[0] for b in per_out]
    return tree_unflatten(per_out, out_spec)


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None,
           _preallocate_and_copy=False):
    """A function returning the Jacobian of func with respect to args[argnums] by
    reverse mode: per output, a tensor output.shape + input.shape (nested as the inputs
    and outputs are); with has_aux, (jacobian, aux). chunk_size is checked as PyTorch does
    and otherwise changes nothing (rows are pulled back one at a time)."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @_wraps(func)
    def wrapper(*args):
        from .. import stack
        error_if_complex("jacrev", args, is_input=True)
        res = _vjp(func, args, argnums, has_aux)
        output, vjp_fn = res[0], res[1]
        flat_out, out_spec = tree_flatten(output)
        error_if_complex("jacrev", flat_out, is_input=False)
        flat_primals, primals_spec = tree_flatten(slice_argnums(args, argnums))
        total = sum(o.numel() for o in flat_out)
        rows = [tree_flatten(vjp_fn(tree_unflatten(_one_hots(flat_out, k), out_spec)))[0]
                for k in range(total)]
        stacked = [stack([r[i] for r in rows]) if rows else
                   p.new_zeros((0,) + tuple(p.shape)) for i, p in enumerate(flat_primals)]
        jac = _assemble(stacked, flat_out, flat_primals, primals_spec, argnums, out_spec,
                        rows=True)
        return (jac, res[2]) if has_aux else jac

    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """A function returning the Jacobian of func with respect to args[argnums] by pushing
    forward one basis tangent per input element (double-vjp trick, see the module's
    docstring); same layout as jacrev. randomness as vmap's: 'error' refuses random ops in
    func, 'same' draws once, 'different' once per column."""
    @_wraps(func)
    def wrapper(*args):
        from .. import stack
        _check_randomness_arg(randomness)          # when called, as PyTorch's vmap checks
        error_if_complex("jacfwd", args, is_input=True)
        flat_primals, primals_spec = tree_flatten(slice_argnums(args, argnums))
        for p in flat_primals:      # (PyTorch's make_dual, of each primal, refuses)
            if isinstance(p, Tensor) and not (p.is_floating_point() or p.is_complex()):
                raise ValueError(f"Expected primal to be floating point or complex, but "
                                 f"got: {p.dtype}")
        total = sum(p.numel() for p in flat_primals)
        if randomness == "different":
            def push(*basis):
                out = _jvp(func, args, tree_unflatten(list(basis), primals_spec), argnums,
                           has_aux=has_aux)
                return (out[1], out[2]) if has_aux else out[1]
            bases = [_one_hots(flat_primals, k) for k in range(total)]
            flat_basis = [stack([b[i] for b in bases]) for i in range(len(flat_primals))]
            results = vmap(push, randomness="different")(*flat_basis)
            aux = None
            if has_aux:
                results, aux = results
                flat_aux, aux_spec = tree_flatten(aux)
                aux = tree_unflatten([a[0] for a in flat_aux], aux_spec)
            flat_res, out_spec = tree_flatten(results)
            columns = [r.movedim(0, -1) for r in flat_res]
            flat_res = [r[0] for r in flat_res]      # one column's shape: the output's
        else:
            with randomness_scope(randomness):
                lin = _Linearized(func, args, argnums, has_aux, "jvp(f, primals, tangents)",
                                  batched=True)
            error_if_complex("jacfwd", lin.flat_out, is_input=False)
            # one basis tangent at a time (all of them at once would be total**2 numbers)
            cols = [tree_flatten(lin.tangents_out(_one_hots(flat_primals, k)))[0]
                    for k in range(total)]
            flat_res = lin.flat_out
            out_spec = lin.out_spec
            aux = lin.aux
            columns = [stack([c[o] for c in cols], dim=-1) if cols else
                       out.new_zeros(tuple(out.shape) + (0,))
                       for o, out in enumerate(flat_res)]
        jac = _assemble(columns, flat_res, flat_primals, primals_spec, argnums, out_spec,
                        rows=False)
        return (jac, aux) if has_aux else jac

    return wrapper


def hessian(func, argnums=0):
    """The Hessian of func with respect to args[argnums]: jacfwd(jacrev(func))."""
    return jacfwd(jacrev(func, argnums), argnums)

