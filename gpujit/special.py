"""`gpujit.special`: PyTorch's `torch.special` namespace.

Most names are the same ops as elsewhere (`expit` is `gpujit.sigmoid`, `gammaln` is
`gpujit.lgamma`, ...): the same function objects, so scripted code resolves them to the
same graph nodes and the fuser fuses them as any pointwise op. `ndtr`, `entr` and
`xlog1py` are PyTorch's `aten::special_*` pointwise ops (fusible), bound only here, as are
ndtri, log_ndtr, erfcx, zeta, the Bessel functions (bessel_j0 ... scaled_modified_bessel_k1,
spherical_bessel_j0), airy_ai and the orthogonal polynomials of x and a degree n
(chebyshev_polynomial_t ... legendre_polynomial_p): gpujit/ops/special_more.py.
`multigammaln` is Python over lgamma (it checks its input's values), which scripted code
compiles from its source.
"""
from __future__ import annotations

import math

import gpujit as _g
from gpujit.nn.functional import _from_source
from gpujit.ops import registry as _reg
from gpujit.ops.out_variants import python_out as _python_out, with_out as _with_out

__all__ = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1",
           "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
           "chebyshev_polynomial_w", "digamma", "entr", "erf", "erfc", "erfcx", "erfinv",
           "exp2", "expit", "expm1", "gammainc", "gammaincc", "gammaln",
           "hermite_polynomial_h", "hermite_polynomial_he", "i0", "i0e", "i1", "i1e",
           "laguerre_polynomial_l", "legendre_polynomial_p", "log1p", "log_ndtr",
           "log_softmax", "logit", "logsumexp", "modified_bessel_i0", "modified_bessel_i1",
           "modified_bessel_k0", "modified_bessel_k1", "multigammaln", "ndtr", "ndtri",
           "polygamma", "psi", "round", "scaled_modified_bessel_k0",
           "scaled_modified_bessel_k1", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "sinc", "softmax", "spherical_bessel_j0",
           "xlog1py", "xlogy", "zeta"]



def _special(name):
    """The public function of op aten::special_<name>, accepting `out=` as PyTorch's
    (torch.special.ndtri(x, out=o): the op's .out overload)."""
    d = _reg.OPS[f"aten::special_{name}"]
    return _with_out(d.public_name, d.public, [d]) if _python_out(d) else d.public


erf = _g.erf
erfc = _g.erfc
erfinv = _g.erfinv
exp2 = _g.exp2
expit = _g.sigmoid
expm1 = _g.expm1
log1p = _g.log1p
logit = _g.logit
logsumexp = _g.logsumexp
round = _g.round
sinc = _g.sinc
xlogy = _g.xlogy
softmax = _g.softmax
log_softmax = _g.log_softmax
gammaln = _g.lgamma
digamma = _g.digamma
psi = _g.digamma
polygamma = _g.polygamma
gammainc = _g.igamma         # torch.special.gammainc is aten::igamma
gammaincc = _g.igammac


ndtr = _special("ndtr")
entr = _special("entr")
xlog1py = _special("xlog1py")
i1 = _special("i1")
i0e = _special("i0e")
i1e = _special("i1e")
i0 = _g.i0
ndtri = _special("ndtri")
log_ndtr = _special("log_ndtr")
erfcx = _special("erfcx")
bessel_j0 = _special("bessel_j0")
bessel_j1 = _special("bessel_j1")
bessel_y0 = _special("bessel_y0")
bessel_y1 = _special("bessel_y1")
modified_bessel_i0 = _special("modified_bessel_i0")
modified_bessel_i1 = _special("modified_bessel_i1")
modified_bessel_k0 = _special("modified_bessel_k0")
modified_bessel_k1 = _special("modified_bessel_k1")
scaled_modified_bessel_k0 = _special("scaled_modified_bessel_k0")
scaled_modified_bessel_k1 = _special("scaled_modified_bessel_k1")
chebyshev_polynomial_t = _special("chebyshev_polynomial_t")
chebyshev_polynomial_u = _special("chebyshev_polynomial_u")
chebyshev_polynomial_v = _special("chebyshev_polynomial_v")
chebyshev_polynomial_w = _special("chebyshev_polynomial_w")
shifted_chebyshev_polynomial_t = _special("shifted_chebyshev_polynomial_t")
shifted_chebyshev_polynomial_u = _special("shifted_chebyshev_polynomial_u")
shifted_chebyshev_polynomial_v = _special("shifted_chebyshev_polynomial_v")
shifted_chebyshev_polynomial_w = _special("shifted_chebyshev_polynomial_w")
hermite_polynomial_h = _special("hermite_polynomial_h")
hermite_polynomial_he = _special("hermite_polynomial_he")
laguerre_polynomial_l = _special("laguerre_polynomial_l")
legendre_polynomial_p = _special("legendre_polynomial_p")
zeta = _special("zeta")
airy_ai = _special("airy_ai")
spherical_bessel_j0 = _special("spherical_bessel_j0")


@_from_source
def multigammaln(input, p: int):
    """The log of the multivariate gamma function of dimension p: sum over j < p of
    lgamma(input - j / 2), plus p (p - 1) / 4 log(pi). Every element must be greater than
    (p - 1) / 2."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if not bool((input > (p - 1) / 2).all()):
        raise RuntimeError("All elements must be greater than (p-1)/2")
    out = _g.lgamma(input)
    for j in range(1, p):
        out = out + _g.lgamma(input - j / 2)
    return out + p * (p - 1) / 4 * math.log(math.pi)
