"""nn ops: the family's shared helpers and conv1d/conv2d (with their derivatives) here;
2-D pooling in `nn_pool2d.py`; normalization in `nn_norm.py`; dropout, embedding, one_hot
and pad in `nn_dropout_embedding.py`; losses in `nn_loss.py`; upsampling in
`nn_upsample.py`; N-d pooling in `nn_pool.py`; conv3d and transposed convolutions in
`nn_conv.py` (all imported at the bottom, so importing this module registers the whole
family).

Convolution is im2col by stride tricks (a zero-copy windowed view of the padded input,
`as_strided`) followed by one batched matmul over the groups; pooling reduces the same
windowed view. Every shape check runs in the shared geometry helpers, which the meta rules
call too, so tracing reports the same errors as eager execution.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from . import memory_format as _mf
from .meta import TensorMeta
from .registry import op

_NN = {"nn"}
FLOATS = _dt.FLOATING_TYPES
NO_BOOL = tuple(d for d in _dt.ALL if d is not _dt.bool)


# ---------------------------------------------------------------------- shared helpers

def dtype_of(a):
    """gpujit dtype of an array (eager) or a TensorMeta (meta)."""
    d = a.dtype
    return d if isinstance(d, _dt.dtype) else _dt.from_numpy_dtype(d)


def not_implemented(name, dt):
    """PyTorch's wording for a kernel without this dtype."""
    return NotImplementedError(f'"{name}" not implemented for \'{dt.short_name}\'')


# PyTorch's CPU kernels whose names in "not implemented for" errors are not the op's
_CPU_KERNEL = {"avg_pool1d": "avg_pool2d", "avg_pool3d": "avg_pool3d_out_frame",
               "max_pool1d": "max_pool1d_impl", "adaptive_avg_pool1d": "adaptive_avg_pool2d",
               "adaptive_avg_pool3d": "adaptive_avg_pool3d_cpu",
               "adaptive_max_pool1d": "adaptive_max_pool2d",
               "adaptive_max_pool3d": "adaptive_max_pool3d_cpu",
               "max_pool1d_with_indices": "max_pool2d",
               "layer_norm": "LayerNormKernelImpl", "group_norm": "GroupNormKernelImpl",
               "mse_loss": "mse_cpu", "smooth_l1_loss": "smooth_l1_cpu",
               "huber_loss": "huber_cpu",
               # (its composite's first op refusing an integer input)
               "binary_cross_entropy_with_logits": "log_sigmoid_cpu"}


# ... and CUDA kernels, where known (the op's name otherwise, as before)
_CUDA_KERNEL = {"mse_loss": "mse_cuda", "smooth_l1_loss": "smooth_l1_cuda",
                "huber_loss": "huber_cuda"}


def kernel_of(name, where):
    """The kernel name PyTorch's dtype errors give for op `name` on where's device (the
    CPU's from _CPU_KERNEL; on CUDA _CUDA_KERNEL's, else the op's name)."""
    from .kernel_names import _on_cuda
    return _CUDA_KERNEL.get(name, name) if _on_cuda(where) else _CPU_KERNEL.get(name, name)


def check_conv_dtype(nd, input, transposed=False, dilation=1):
    """The dtypes PyTorch's CPU convolution kernels take: every one but bool (slow_conv2d /
    compute_columns3d), float and int64 dilated (slow_conv_dilated<>) or transposed
    (slow_conv_transpose2d / 3d); an empty input runs no kernel. On CUDA floating types
    only (as before)."""
    from .kernel_names import _on_cuda
    name = f"conv_transpose{nd}d" if transposed else f"conv{nd}d"
    if _on_cuda(input):
        check_float(name, input)
        return
    dt = dtype_of(input)
    if transposed:
        if dt.category != _dt.FLOATING and dt is not _dt.int64:
            raise not_implemented(f"slow_conv_transpose{3 if nd == 3 else 2}d_out_cpu", dt)
    elif not any(s == 0 for s in input.shape):
        d = dilation if isinstance(dilation, (list, tuple)) else [dilation]
        if any(x is not None and x > 1 for x in d):
            if dt.category != _dt.FLOATING and dt is not _dt.int64:
                raise not_implemented("slow_conv_dilated<>", dt)
        elif dt is _dt.bool:
            raise not_implemented("compute_columns3d" if nd == 3 else "slow_conv2d_cpu", dt)


def check_float(name, *arrays):
    for a in arrays:
        if a is not None:
            d = dtype_of(a)
            if d.category != _dt.FLOATING:
                raise not_implemented(kernel_of(name, a), d)


def compute_dtype(xp, a):
    """float16 is computed in float32 on every device: PyTorch accumulates half-precision
    norms, convolutions and losses in float32 (and NumPy has no fast half kernels), so the
    CPU and the GPU agree."""
    if a.dtype == np.float16:
        return np.dtype(np.float32)
    return a.dtype


def sizes(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def as_strided(xp, a, shape, strides):
    return xp.lib.stride_tricks.as_strided(a, shape=tuple(shape), strides=tuple(strides))


def expand_param(v, n, name, what="the convolution dimensions"):
    """An int or a sequence of ints -> a tuple of n ints (a 1-sequence is repeated)."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return (int(v),) * n
    v = tuple(int(x) for x in v)
    if len(v) == 1:
        return v * n
    if len(v) != n:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} "
                           f"values to match {what}, but got {name}={list(v)}")
    return v


# ---------------------------------------------------------------------- convolution

def conv_backend_checks(nd, shape, w_shape, dilation, transposed):
    """What ATen's convolution checks once the shapes agree, as it picks a backend (shape:
    the batched input's): an input with no elements but a batch and channels is refused,
    then (the backends' own checks; an empty batch or no channels takes the empty path,
    which has none) a kernel with a zero-size dim, in the words of the backend a
    float32 / float64 CPU call reaches."""
    k = tuple(w_shape[2:])
    if None in shape or None in k or shape[0] == 0 or shape[1] == 0:
        return
    view = (tuple(shape[:2]) + (1,) + tuple(shape[2:])) if nd == 1 else tuple(shape)
    if 0 in shape:
        raise RuntimeError(f"Only zero batch or zero channel inputs are supported, but got "
                           f"input shape: {sizes(view)}")
    if 0 not in k:
        return
    k2 = ((1,) + k) if nd == 1 else k
    if not transposed and any(d != 1 for d in dilation):
        raise RuntimeError(f"kernel size should be greater than zero, but got {list(k2)}")
    if nd == 3 and transposed:
        raise RuntimeError(f"non-empty 5D (n_output_plane x n_input_plane x kernel_depth x "
                           f"kernel_height x kernel_width) tensor expected for weight, but "
                           f"got: {sizes(w_shape)}")
    if nd == 3:
        raise RuntimeError(f"kernel size should be greater than zero, but got: "
                           f"{k2[0]} x {k2[1]} x {k2[2]} (TxHxW)")
    raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: "
                       f"{k2[0]} kernel_width: {k2[1]}")


def _conv_geometry(nd, in_shape, w_shape, b_shape, stride, padding, dilation, groups):
    """Validate a conv{nd}d call as PyTorch does; return (batched, padding as (left, right)
    per spatial dim, output shape). Shapes may hold None (unknown) in meta use."""
    name = f"conv{nd}d"
    if len(in_shape) not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {sizes(in_shape)}")
    batched = len(in_shape) == nd + 2
    shape = tuple(in_shape) if batched else (1,) + tuple(in_shape)
    stride = expand_param(stride, nd, "stride")
    dilation = expand_param(dilation, nd, "dilation")
    if len(w_shape) < 3:
        raise RuntimeError(f"weight should have at least three dimensions, got weight of "
                           f"size {sizes(w_shape)}")
    k = w_shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = []
            for d, kk in zip(dilation, k):
                # (an empty kernel: ATen crops the input instead of a negative padding,
                # and its backend then refuses the kernel)
                total = d * (kk - 1) if kk else 0
                pads.append((total // 2, total - total // 2))
            pads = tuple(pads)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        p = expand_param(padding, nd, "padding")
        pads = tuple((x, x) for x in p)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(p < 0 for pr in pads for p in pr):
        raise RuntimeError("negative padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    if len(w_shape) != len(shape):
        raise RuntimeError(f"Expected {len(w_shape)}-dimensional input for {len(w_shape)}-"
                           f"dimensional weight {sizes(w_shape)}, but got {len(shape)}-"
                           f"dimensional input of size {sizes(shape)} instead")
    out_ch = w_shape[0]
    if out_ch < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} "
                           f"at dimension 0, but got weight of size {sizes(w_shape)} instead")
    if out_ch % groups:
        # (PyTorch prints the weight's sizes in two brackets)
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"[{sizes(w_shape)}] instead")
    if shape[1] is not None and shape[1] != w_shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {sizes(w_shape)}, expected "
                           f"input{sizes(shape)} to have {w_shape[1] * groups} channels, but "
                           f"got {shape[1]} channels instead")
    if b_shape is not None and (len(b_shape) != 1 or b_shape[0] != out_ch):
        raise RuntimeError(f"Given weight of size {sizes(w_shape)}, expected bias to be "
                           f"1-dimensional with {out_ch} elements, but got bias of size "
                           f"{sizes(b_shape)} instead")
    out = []
    padded, dilated = [], []
    for i in range(nd):
        n = shape[2 + i]
        ext = dilation[i] * (k[i] - 1) + 1
        if n is None:
            out.append(None)
            continue
        padded.append(n + pads[i][0] + pads[i][1])
        dilated.append(ext)
        out.append((padded[-1] - ext) // stride[i] + 1)
    if len(padded) == nd and any(p < e for p, e in zip(padded, dilated)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, dilated))}). Kernel size can't be greater "
            f"than actual input size")
    conv_backend_checks(nd, shape, w_shape, dilation, False)
    # an input without channels (a weight of no elements): PyTorch's empty-convolution
    # path gives no output channels either
    out_shape = (shape[0], 0 if w_shape[1] == 0 else out_ch) + tuple(out)
    return batched, pads, stride, dilation, out_shape if batched else out_shape[1:]


def _type_str(a):
    """ATen's tensor type name, e.g. CPUFloatType (a is an array or a TensorMeta)."""
    dev = getattr(a, "device", None)
    on_cpu = isinstance(a, np.ndarray) or (isinstance(a, TensorMeta) and dev.type == "cpu")
    return f"{'CPU' if on_cpu else 'CUDA'}{dtype_of(a).short_name}Type"




# the dtypes with a legacy tensor class (torch.FloatTensor ...); ATen prints the others'
# type as CPUBFloat16Type, CPUBoolType, CPUComplexFloatType, CPUUInt16Type
_LEGACY_TYPE_NAMES = frozenset({"Float", "Double", "Half", "Byte", "Char", "Short", "Int",
                                "Long"})


def _legacy_type(d):
    """A CPU tensor type's legacy name, as ATen's checks print it (mkldnn's, embedding's)."""
    n = d.short_name
    return f"torch.{n}Tensor" if n in _LEGACY_TYPE_NAMES else f"CPU{n}Type"


def check_conv_types(inp, weight, bias, padding=None, transposed_nd=0):
    """PyTorch 2.13's CPU checks of a convolution's dtypes, in its order: conv{n}d with
    numeric padding first compares the bias with the input ("Input type (double) and bias
    type (float) should be the same", TypeMeta names); then the backend's: a float32 (or
    bfloat16) batch of more than one (mkldnn) names the legacy types of a different weight,
    then bias ("Input type (torch.FloatTensor) and weight type (torch.DoubleTensor) should
    be the same or input should be a MKLDNN tensor and weight is a dense tensor"); another
    input (the slow kernels; also a float32 batch of one or an unbatched input) says
    "expected scalar type Double but found Float" of the weight, and takes a bias of
    another dtype (converted; not conv_transpose3d's)."""
    di, dw = dtype_of(inp), dtype_of(weight)
    db = None if bias is None else dtype_of(bias)
    dev = getattr(inp, "device", None)
    if not (isinstance(inp, np.ndarray) or (isinstance(inp, TensorMeta) and dev.type == "cpu")):
        return _check_same_type(inp, weight, bias)
    if db is not None and db is not di and padding is not None and \
            not isinstance(padding, str):
        raise RuntimeError(f"Input type ({_dt.CPP_NAMES[di.name]}) and "
                           f"bias type ({_dt.CPP_NAMES[db.name]}) should "
                           f"be the same")
    batch = inp.shape[0] if len(inp.shape) == len(weight.shape) else 1
    if di is _dt.float32 and batch != 1:   # (and bfloat16, which gpujit has not)
        for what, d in (("weight", dw), ("bias", db)):
            if d is not None and d is not di:
                raise RuntimeError(f"Input type ({_legacy_type(di)}) and {what} type "
                                   f"({_legacy_type(d)}) should be the same or input should "
                                   f"be a MKLDNN tensor and {what} is a dense tensor")
        return
    for d in (dw, db if transposed_nd == 3 else None):
        if d is not None and d is not di:
            raise RuntimeError(f"expected scalar type {di.short_name} but found "
                               f"{d.short_name}")


def _check_same_type(inp, weight, bias):
    if dtype_of(inp) is not dtype_of(weight):
        raise RuntimeError(f"Input type ({_type_str(inp)}) and weight type "
                           f"({_type_str(weight)}) should be the same")
    if bias is not None and dtype_of(bias) is not dtype_of(inp):
        raise RuntimeError(f"Input type ({_type_str(inp)}) and bias type "
                           f"({_type_str(bias)}) should be the same")


def _conv_meta(nd):
    def meta(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        check_conv_types(input, weight, bias, padding)
        check_conv_dtype(nd, input, dilation=dilation)
        out_shape = _conv_geometry(nd, input.shape, weight.shape,
                                   None if bias is None else bias.shape, stride, padding,
                                   dilation, groups)[-1]
        return TensorMeta(input.dtype, tuple(out_shape), input.device)
    return meta


def conv2d_core(xp, x, w, b, pads, stride, dilation, groups, out_hw):
    """x (N, C, H, W), w (O, C/groups, kH, kW) -> (N, O, oH, oW). im2col through a strided
    view of the padded input and one batched matmul over the groups."""
    ct = compute_dtype(xp, x)
    odt = x.dtype
    if ct != x.dtype:
        x, w = x.astype(ct), w.astype(ct)
        b = None if b is None else b.astype(ct)
    if any(p for pr in pads for p in pr):
        x = xp.pad(x, ((0, 0), (0, 0)) + tuple(pads))
    n = x.shape[0]
    o, cg, kh, kw = w.shape
    g = groups
    og = o // g
    oh, ow = out_hw
    k = cg * kh * kw
    wm = w.reshape(g, og, k).transpose(0, 2, 1)     # (G, K, O/G)
    # the im2col matrix holds K values per output pixel: bound it by converting a chunk
    # of the batch at a time (one chunk for all but large inputs)
    chunk = max(1, _IM2COL_ELEMENTS // max(g * oh * ow * k, 1))
    if chunk >= n:
        out = _conv_chunk(xp, x, wm, g, cg, og, oh, ow, kh, kw, stride, dilation)
    else:
        out = xp.empty((n, o, oh, ow), x.dtype)
        for i in range(0, n, chunk):
            out[i:i + chunk] = _conv_chunk(xp, x[i:i + chunk], wm, g, cg, og, oh, ow, kh, kw,
                                           stride, dilation)
    if b is not None:
        out += b.reshape(1, o, 1, 1)
    return xp.ascontiguousarray(out.astype(odt, copy=False))


_IM2COL_ELEMENTS = 1 << 25     # 32M values (128 MiB of float32) per im2col matrix


def _conv_chunk(xp, x, wm, g, cg, og, oh, ow, kh, kw, stride, dilation):
    n = x.shape[0]
    sn, sc, sh, sw = x.strides
    win = as_strided(xp, x, (n, g, cg, oh, ow, kh, kw),
                     (sn, cg * sc, sc, sh * stride[0], sw * stride[1], sh * dilation[0],
                      sw * dilation[1]))
    cols = win.transpose(1, 0, 3, 4, 2, 5, 6).reshape(g, n * oh * ow, cg * kh * kw)
    out = xp.matmul(cols, wm)                       # (G, N*oH*oW, O/G)
    return out.reshape(g, n, oh, ow, og).transpose(1, 0, 4, 2, 3).reshape(n, g * og, oh, ow)


def _conv(xp, nd, input, weight, bias, stride, padding, dilation, groups):
    check_conv_types(input, weight, bias, padding)
    if bias is not None and bias.dtype != input.dtype:
        bias = bias.astype(input.dtype)     # (the slow kernels' conversion)
    check_conv_dtype(nd, input, dilation=dilation)
    batched, pads, stride, dilation, out_shape = _conv_geometry(
        nd, input.shape, weight.shape, None if bias is None else bias.shape, stride, padding,
        dilation, groups)
    x = input if batched else input[None]
    if weight.shape[1] == 0:
        return xp.zeros(out_shape, dtype=input.dtype)
    if nd == 1:
        out = conv2d_core(xp, x[:, :, None, :], weight[:, :, None, :], bias,
                          ((0, 0),) + pads, (1,) + stride, (1,) + dilation, groups,
                          (1, out_shape[-1]))[:, :, 0, :]
    else:
        out = conv2d_core(xp, x, weight, bias, pads, stride, dilation, groups, out_shape[-2:])
        if _mf.suggest(weight.shape, weight.strides) == _mf.CHANNELS_LAST or (
                batched and _mf.suggest(input.shape, input.strides) == _mf.CHANNELS_LAST):
            # PyTorch: channels-last input or weight -> channels-last result
            if batched:
                return _mf.copy_in(xp, out, _mf.format_order(_mf.CHANNELS_LAST, 4))
            return _mf.copy_in(xp, out[0], (1, 2, 0))       # H, W, C as the batched one
    return xp.ascontiguousarray(out if batched else out[0])


_CONV_DOC = "conv{n}d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)"


@op("aten::conv1d(Tensor input, Tensor weight, Tensor? bias=None, SymInt[1] stride=1, "
    "SymInt[1] padding=0, SymInt[1] dilation=1, SymInt groups=1) -> Tensor", tags=_NN,
    meta=_conv_meta(1), method=False, functional=True, dtypes=FLOATS)
def conv1d(xp, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over (N, C, L) or (C, L) input (cross-correlation, as PyTorch)."""
    return _conv(xp, 1, input, weight, bias, stride, padding, dilation, groups)


@op("aten::conv1d.padding(Tensor input, Tensor weight, Tensor? bias=None, "
    "SymInt[1] stride=1, str padding=\"valid\", SymInt[1] dilation=1, SymInt groups=1) "
    "-> Tensor", tags=_NN, meta=_conv_meta(1), method=False, functional=True, dtypes=FLOATS)
def conv1d_padding(xp, input, weight, bias=None, stride=1, padding="valid", dilation=1,
                   groups=1):
    """conv1d with padding='same' or 'valid'."""
    return _conv(xp, 1, input, weight, bias, stride, padding, dilation, groups)


@op("aten::conv2d(Tensor input, Tensor weight, Tensor? bias=None, SymInt[2] stride=1, "
    "SymInt[2] padding=0, SymInt[2] dilation=1, SymInt groups=1) -> Tensor", tags=_NN,
    meta=_conv_meta(2), method=False, functional=True, dtypes=FLOATS)
def conv2d(xp, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over (N, C, H, W) or (C, H, W) input (cross-correlation)."""
    return _conv(xp, 2, input, weight, bias, stride, padding, dilation, groups)


@op("aten::conv2d.padding(Tensor input, Tensor weight, Tensor? bias=None, "
    "SymInt[2] stride=1, str padding=\"valid\", SymInt[2] dilation=1, SymInt groups=1) "
    "-> Tensor", tags=_NN, meta=_conv_meta(2), method=False, functional=True, dtypes=FLOATS)
def conv2d_padding(xp, input, weight, bias=None, stride=1, padding="valid", dilation=1,
                   groups=1):
    """conv2d with padding='same' or 'valid'."""
    return _conv(xp, 2, input, weight, bias, stride, padding, dilation, groups)



# ---------------------------------------------------------------------- derivatives
# (gpujit.autograd) written with registry ops, so a backward is itself recorded (double
# backward). Convolution gradients are convolutions too: the input's is the transposed
# convolution (a stride-1 conv2d of the zero-stuffed, re-padded gradient with each
# group's weights transposed and flipped), the weight's a conv2d that correlates the
# input with the gradient (batch and channels swapped). conv1d runs them with a unit H.
from .registry import derivative as _derivative  # noqa: E402


def _F():
    import gpujit
    return gpujit, gpujit.nn.functional


def conv2d_input_grad(grad, weight, in_hw, pads, stride, dilation, groups):
    """d/d input of conv2d: grad (N, O, oH, oW), weight (O, C/groups, kH, kW), pads
    ((top, bottom), (left, right)) -> (N, C, H, W). Also avg_pool2d's (a ones kernel)."""
    gpujit, F = _F()
    n, o, oh, ow = grad.shape
    g = grad
    if stride[0] > 1:      # stride - 1 zeros after each row (the trailing ones cropped below)
        g = F.pad(g.unsqueeze(3), [0, 0, 0, stride[0] - 1]).reshape(n, o, oh * stride[0],
                                                                      ow)
    if stride[1] > 1:
        g = F.pad(g.unsqueeze(4), [0, stride[1] - 1]).reshape(n, o, g.shape[2],
                                                              ow * stride[1])
    widths = []
    for i in (1, 0):       # F.pad lists the last dim first
        ext = dilation[i] * (weight.shape[2 + i] - 1)
        out = (oh, ow)[i]
        unused = in_hw[i] + sum(pads[i]) - ((out - 1) * stride[i] + ext + 1)
        widths += [ext - pads[i][0], ext - pads[i][1] + unused - (stride[i] - 1)]
    g = F.pad(g, widths)
    cg = weight.shape[1]
    wt = weight.reshape((groups, o // groups, cg) + tuple(weight.shape[2:])).transpose(1, 2)
    wt = wt.reshape((groups * cg, o // groups) + tuple(weight.shape[2:])).flip([2, 3])
    return gpujit.conv2d(g, wt, None, 1, 0, dilation, groups)


def _conv2d_weight_grad(grad, input, w_shape, pads, stride, dilation, groups):
    """d/d weight of conv2d: sum over the batch and output positions of grad times the
    input window, as conv2d(input as (C/groups, groups*N, ...), grad as (O, N, ...))."""
    gpujit, F = _F()
    x = F.pad(input, [pads[1][0], pads[1][1], pads[0][0], pads[0][1]])
    n, c, hp, wp = x.shape
    o, oh, ow = grad.shape[1], grad.shape[2], grad.shape[3]
    cg = c // groups
    xi = x.reshape(n, groups, cg, hp, wp).permute(2, 1, 0, 3, 4).reshape(
        cg, groups * n, hp, wp)
    gw = grad.reshape(n, groups, o // groups, oh, ow).permute(1, 2, 0, 3, 4).reshape(
        o, n, oh, ow)
    r = gpujit.conv2d(xi, gw, None, dilation, 0, stride, groups)   # (C/groups, O, >=kH, >=kW)
    return r.narrow(2, 0, w_shape[2]).narrow(3, 0, w_shape[3]).transpose(0, 1)


def _empty_conv_grad(input, weight, bias_shape):
    """The gradients of a convolution without input channels (no output channels): zeros
    (PyTorch's empty-convolution path)."""
    return (input.new_zeros(input.shape), weight.new_zeros(weight.shape),
            None if bias_shape is None else weight.new_zeros(list(bias_shape)))


def _conv_grad(nd, grad, input, weight, bias_shape, stride, padding, dilation, groups,
               needs_grad=(True, True, True)):
    # (the bias's gradient needs only whether there is one: PyTorch keeps its sizes). Only
    # the gradients needed are computed (PyTorch's convolution_backward output_mask): a
    # first layer's input needs none, and its transposed convolution is the costly one
    # (a stride-32 patch embedding's ran a 32x32-kernel convolution over a zero-stuffed
    # gradient: minutes for timm's mixer_s32 in float64)
    if weight.shape[1] == 0:
        return _empty_conv_grad(input, weight, bias_shape)
    batched, pads, stride, dilation, _ = _conv_geometry(
        nd, input.shape, weight.shape, None, stride, padding, dilation, groups)
    x, g, w = input, grad, weight
    if not batched:
        x, g = x.unsqueeze(0), g.unsqueeze(0)
    if nd == 1:            # as conv2d over (N, C, 1, L)
        x, g, w = x.unsqueeze(2), g.unsqueeze(2), w.unsqueeze(2)
        pads, stride, dilation = ((0, 0),) + pads, (1,) + stride, (1,) + dilation
    gi = conv2d_input_grad(g, w, tuple(x.shape[2:]), pads, stride, dilation,
                           groups) if needs_grad[0] else None
    gw = _conv2d_weight_grad(g, x, tuple(w.shape), pads, stride, dilation,
                             groups) if needs_grad[1] else None
    gb = g.sum([0, 2, 3]) if bias_shape is not None and needs_grad[2] else None
    if nd == 1:
        gi = None if gi is None else gi.squeeze([2])
        gw = None if gw is None else gw.squeeze([2])
    return (gi if batched or gi is None else gi.squeeze([0])), gw, gb


@_derivative(conv1d, conv1d_padding)
def _conv1d_grad(grad, input, weight, bias_shape, stride, padding, dilation, groups,
                 needs_grad):
    return _conv_grad(1, grad, input, weight, bias_shape, stride, padding, dilation, groups,
                      needs_grad)


@_derivative(conv2d, conv2d_padding)
def _conv2d_grad(grad, input, weight, bias_shape, stride, padding, dilation, groups,
                 needs_grad):
    return _conv_grad(2, grad, input, weight, bias_shape, stride, padding, dilation, groups,
                      needs_grad)


# the rest of the family (importing this module registers it all): 2-D pooling,
# normalization/dropout/embedding/pad, losses, upsampling, N-d pooling, conv3d and the
# transposed convolutions; they import the helpers above
from . import nn_pool2d, nn_norm, nn_dropout_embedding, nn_loss, nn_upsample  # noqa: E402
from . import nn_pool, nn_conv, nn_convolution, nn_bilinear, nn_rnn, nn_fastpath  # noqa: E402,E501
from . import nn_sdpa, nn_embedding_bag  # noqa: E402

_FAMILY = (nn_pool2d, nn_norm, nn_dropout_embedding, nn_loss, nn_upsample, nn_pool, nn_conv,
           nn_convolution, nn_bilinear, nn_rnn, nn_fastpath, nn_sdpa, nn_embedding_bag)
