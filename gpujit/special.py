"""`gpujit.special`: PyTorch's `torch.special` namespace.

Most names are the same ops as elsewhere (`expit` is `gpujit.sigmoid`, `gammaln` is
`gpujit.lgamma`, ...): the same function objects, so scripted code resolves them to the
same graph nodes and the fuser fuses them as any pointwise op. `ndtr`, `entr` and
`xlog1py` are PyTorch's `aten::special_*` pointwise ops (fusible), bound only here.
`multigammaln` is Python over lgamma (it checks its input's values), which scripted code
compiles from its source.
"""
from __future__ import annotations

import math

import gpujit as _g
from gpujit.nn.functional import _from_source
from gpujit.ops import registry as _reg

__all__ = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t",
           "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
           "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammaln",
           "gammainc", "gammaincc", "hermite_polynomial_h", "hermite_polynomial_he", "i0", "i0e", "i1", "i1e", "laguerre_polynomial_l", "legendre_polynomial_p", "log1p", "log_softmax", "logit", "log_ndtr", "logsumexp", "modified_bessel_i0",
           "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1", "multigammaln", "ndtr",
           "ndtri",
           "polygamma", "psi", "round", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
           "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
           "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "sinc", "softmax", "spherical_bessel_j0", "xlog1py", "xlogy", "zeta"]

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


ndtr = _reg.OPS["aten::special_ndtr"].public
entr = _reg.OPS["aten::special_entr"].public
xlog1py = _reg.OPS["aten::special_xlog1py"].public
i1 = _reg.OPS["aten::special_i1"].public
i0e = _reg.OPS["aten::special_i0e"].public
i1e = _reg.OPS["aten::special_i1e"].public
i0 = _g.i0
ndtri = _reg.OPS["aten::special_ndtri"].public
log_ndtr = _reg.OPS["aten::special_log_ndtr"].public
erfcx = _reg.OPS["aten::special_erfcx"].public
bessel_j0 = _reg.OPS["aten::special_bessel_j0"].public
bessel_j1 = _reg.OPS["aten::special_bessel_j1"].public
bessel_y0 = _reg.OPS["aten::special_bessel_y0"].public
bessel_y1 = _reg.OPS["aten::special_bessel_y1"].public
modified_bessel_i0 = _reg.OPS["aten::special_modified_bessel_i0"].public
modified_bessel_i1 = _reg.OPS["aten::special_modified_bessel_i1"].public
modified_bessel_k0 = _reg.OPS["aten::special_modified_bessel_k0"].public
modified_bessel_k1 = _reg.OPS["aten::special_modified_bessel_k1"].public
scaled_modified_bessel_k0 = _reg.OPS["aten::special_scaled_modified_bessel_k0"].public
scaled_modified_bessel_k1 = _reg.OPS["aten::special_scaled_modified_bessel_k1"].public
chebyshev_polynomial_t = _reg.OPS["aten::special_chebyshev_polynomial_t"].public
chebyshev_polynomial_u = _reg.OPS["aten::special_chebyshev_polynomial_u"].public
chebyshev_polynomial_v = _reg.OPS["aten::special_chebyshev_polynomial_v"].public
chebyshev_polynomial_w = _reg.OPS["aten::special_chebyshev_polynomial_w"].public
shifted_chebyshev_polynomial_t = _reg.OPS["aten::special_shifted_chebyshev_polynomial_t"].public
shifted_chebyshev_polynomial_u = _reg.OPS["aten::special_shifted_chebyshev_polynomial_u"].public
shifted_chebyshev_polynomial_v = _reg.OPS["aten::special_shifted_chebyshev_polynomial_v"].public
shifted_chebyshev_polynomial_w = _reg.OPS["aten::special_shifted_chebyshev_polynomial_w"].public
hermite_polynomial_h = _reg.OPS["aten::special_hermite_polynomial_h"].public
hermite_polynomial_he = _reg.OPS["aten::special_hermite_polynomial_he"].public
laguerre_polynomial_l = _reg.OPS["aten::special_laguerre_polynomial_l"].public
legendre_polynomial_p = _reg.OPS["aten::special_legendre_polynomial_p"].public
zeta = _reg.OPS["aten::special_zeta"].public
airy_ai = _reg.OPS["aten::special_airy_ai"].public
spherical_bessel_j0 = _reg.OPS["aten::special_spherical_bessel_j0"].public


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
