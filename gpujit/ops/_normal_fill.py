"""ATen's AVX2 float32 normal fill as one numba loop (ops/random.py uses it for large draws;
the NumPy version there, op by op over whole arrays, for small ones: both bit for bit the same).
The function is plain Python until ops/numba_helpers.njit compiles it (lazily, disk-cached)."""
import numpy as np


def _fill16_f32_rows(u, out, mean, std, affine):
    """numba body: ATen's AVX2 normal fill on rows of 16 float32 uniforms (u, out: (nb, 16)),
    the log / sincos of avx_mathfun.h op by op, an fma as one float64 sum rounded."""
    f4 = np.float32
    f8 = np.float64
    cell = np.empty(1, np.float32)
    bits = cell.view(np.int32)
    lp = (f4(-1.1514610310E-1), f4(1.1676998740E-1), f4(-1.2420140846E-1),
          f4(1.4249322787E-1), f4(-1.6668057665E-1), f4(2.0000714765E-1),
          f4(-2.4999993993E-1), f4(3.3333331174E-1))
    for b in range(u.shape[0]):
        for j in range(8):
            # ---- r = sqrt(-2 * log(1 - u1))
            x = f4(1.0) - u[b, j]
            if x < f4(1.1754943508222875e-38):
                x = f4(1.1754943508222875e-38)
            cell[0] = x
            ib = bits[0]
            e = f4((ib >> 23) - 0x7f) + f4(1)
            bits[0] = (ib & ~0x7f800000) | 0x3f000000
            x = cell[0]
            if x < f4(0.707106781186547524):
                x = (x - f4(1)) + x
                e = e - f4(1)
            else:
                x = (x - f4(1)) + f4(0)
            z = x * x
            y = f4(7.0376836292E-2)
            for p in lp:
                y = f4(f8(y) * f8(x) + f8(p))
            y = f4(f8(y * x) * f8(z) + f8(e * f4(-2.12194440e-4)))
            y = f4(f8(z) * f8(f4(-0.5)) + f8(y))
            lg = f4(f8(e) * f8(f4(0.693359375)) + f8(x + y))
            r = np.sqrt(f4(-2.0) * lg)
            # ---- sincos(2 pi u2)
            t = f4(2.0 * np.pi) * u[b, j + 8]
            neg = t < f4(0) or (t == f4(0) and np.signbit(t))
            xs = abs(t)
            jj = np.int32(xs * f4(1.27323954473516))
            jj = (jj + 1) & ~1
            yy = f4(jj)
            xs = f4(f8(yy) * f8(f4(-0.78515625)) + f8(xs))
            xs = f4(f8(yy) * f8(f4(-2.4187564849853515625e-4)) + f8(xs))
            xs = f4(f8(yy) * f8(f4(-3.77489497744594108e-8)) + f8(xs))
            z = xs * xs
            yc = f4(f8(f4(2.443315711809948E-005)) * f8(z) + f8(f4(-1.388731625493765E-003)))
            yc = f4(f8(yc) * f8(z) + f8(f4(4.166664568298827E-002)))
            yc = f4(f8(yc * z) * f8(z) + f8(-(z * f4(0.5)))) + f4(1)
            ys = f4(f8(f4(-1.9515295891E-4)) * f8(z) + f8(f4(8.3321608736E-3)))
            ys = f4(f8(ys) * f8(z) + f8(f4(-1.6666654611E-1)))
            ys = f4(f8(ys * z) * f8(xs) + f8(xs))
            if (jj & 2) == 0:
                s, c = ys, yc
            else:
                s, c = yc, ys
            if neg != ((jj & 4) != 0):
                s = -s
            if (~(jj - 2) & 4) != 0:
                c = -c
            v0 = r * c
            v1 = r * s
            if affine:
                v0 = f4(f8(v0) * f8(std) + f8(mean))
                v1 = f4(f8(v1) * f8(std) + f8(mean))
            out[b, j] = v0
            out[b, j + 8] = v1
