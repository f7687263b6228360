"""`gpujit.linalg`: PyTorch's `torch.linalg` namespace.

Every name is a registry op, `aten::linalg_<name>` as in PyTorch (declared in
gpujit/ops/linalg.py and gpujit/ops/linalg_{decomp,lu,ex,spectral,matfn,extra}.py): scripted code
calling `torch.linalg.<name>` resolves to that op, and its meta rule types the result
(named tuples keep their fields: `torch.linalg.qr(A).Q`). `matmul` is `gpujit.matmul`.
"""
from __future__ import annotations

import gpujit as _g
from gpujit.ops import registry as _reg
from gpujit.ops.overloads import make_dispatcher as _dispatcher
from gpujit.ops.linalg_decomp import LinAlgError
from gpujit.ops.out_variants import python_out as _python_out, with_out as _with_out

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh",
           "eigvalsh", "householder_product", "inv", "inv_ex", "ldl_factor", "ldl_factor_ex",
           "ldl_solve", "lstsq", "lu", "lu_factor", "lu_factor_ex", "lu_solve", "matmul", "matrix_exp",
           "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr",
           "slogdet", "solve", "solve_ex", "solve_triangular", "svd", "svdvals", "tensorinv",
           "tensorsolve", "vander", "vecdot", "vector_norm"]
__all__ += ["eig", "eigvals"]         # (complex results: ops/linalg_eig.py)


def _bind(name):
    ops = _reg.OVERLOADS[f"aten::linalg_{name}"]
    fn = _dispatcher(name, ops)
    if len(ops) > 1:
        fn.__module__ = __name__
    # torch.linalg.inv(A, out=o), torch.linalg.qr(A, out=(Q, R)): the .out overloads
    # (named linalg_<name>, as torch's: its __name__ and its errors' words)
    return _with_out(f"linalg_{name}", fn, ops) if any(_python_out(d) for d in ops) else fn


matmul = _g.matmul
for _n in __all__:
    if _n not in ("LinAlgError", "matmul"):
        globals()[_n] = _bind(_n)
del _n
