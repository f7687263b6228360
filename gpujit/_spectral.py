"""torch.stft / Tensor.stft for real inputs with return_complex=False: the short-time Fourier
transform as a real tensor [..., freq, frames, 2] (real and imaginary parts), PyTorch's old
return format. gpujit has no complex dtypes, so return_complex=True is refused, saying so.

Written over registry ops (pad, unfold, matmul with the DFT's cosine and sine matrices), so
autograd, tracing and every device follow; the values agree with PyTorch's FFT to rounding
(a matrix DFT sums in another order than pocketfft)."""
from __future__ import annotations

import math
import warnings

import numpy as np

import gpujit as _gpujit
from ._no_complex import _WHY

__all__ = ["stft"]

_warned = set()


def _warn_once(key, msg):
    # (ATen's TORCH_WARN_ONCE: once per process unless torch.set_warn_always(True))
    if key not in _warned or _gpujit.is_warn_always_enabled():
        _warned.add(key)
        warnings.warn(msg, UserWarning, stacklevel=3)


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
         pad_mode="reflect", normalized=False, onesided=None, return_complex=None):
    """torch.stft of a real 1-D (L) or 2-D (B, L) signal: frames of n_fft samples every
    hop_length (n_fft // 4), each times the window (win_length long, zero-padded to n_fft in
    the middle; a rectangular one when None, with PyTorch's warning), transformed; with
    center, the signal is first padded by n_fft // 2 on both sides (pad_mode)."""
    if return_complex is None:
        raise RuntimeError("stft requires the return_complex parameter be given for real "
                           "inputs, and will further require that return_complex=True in a "
                           "future PyTorch release.")
    if return_complex:
        raise RuntimeError(f"torch.stft(..., return_complex=True): {_WHY}, so its complex "
                           f"result is not available; return_complex=False gives the real "
                           f"and imaginary parts in a last dimension of 2")
    if input.is_floating_point() is False:
        raise RuntimeError(f"stft: expected a tensor of floating point, got "
                           f"{input.dtype}")
    if input.dim() not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.dim()}D tensor")
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    x = input if input.dim() == 2 else input.unsqueeze(0)
    if center:
        pad = n_fft // 2
        x = _gpujit.nn.functional.pad(x.unsqueeze(0), [pad, pad], mode=pad_mode).squeeze(0)
    length = x.shape[-1]
    if n_fft <= 0 or n_fft > length:
        raise RuntimeError(f"stft: expected 0 < n_fft <= {length}, but got n_fft={n_fft}")
    if hop <= 0:
        raise RuntimeError(f"stft: expected hop_length > 0, but got hop_length={hop}")
    if win <= 0 or win > n_fft:
        raise RuntimeError(f"stft: expected 0 < win_length <= n_fft, but got "
                           f"win_length={win}")
    if window is None:
        _warn_once("window", "A window was not provided. A rectangular window will be "
                   "applied,which is known to cause spectral leakage. Other windows such as "
                   "torch.hann_window or torch.hamming_window are recommended to reduce "
                   "spectral leakage.To suppress this warning and use a rectangular window, "
                   "explicitly set `window=torch.ones(n_fft, device=<device>)`.")
        window = _gpujit.ones(win, dtype=input.dtype, device=input.device)
    elif window.dim() != 1 or window.shape[0] != win:
        raise RuntimeError(f"stft: expected a 1D window tensor of size equal to "
                           f"win_length={win}, but got window with size "
                           f"{list(window.shape)}")
    _warn_once("return_complex", "stft with return_complex=False is deprecated. In a future "
               "pytorch release, stft will return complex tensors for all inputs, and "
               "return_complex=False will raise an error.\nNote: you can still call "
               "torch.view_as_real on the complex output to recover the old return format.")
    if win < n_fft:
        left = (n_fft - win) // 2
        window = _gpujit.nn.functional.pad(window, [left, n_fft - win - left])
    frames = x.unfold(-1, n_fft, hop) * window.to(input.dtype)        # (B, T, n_fft)
    n_freq = n_fft // 2 + 1 if onesided is None or onesided else n_fft
    k = np.arange(n_fft)[:, None] * np.arange(n_freq)[None, :] % n_fft
    angle = (2 * math.pi / n_fft) * k
    dt = input.dtype
    cos = _gpujit.from_numpy(np.cos(angle)).to(device=input.device, dtype=dt)
    sin = _gpujit.from_numpy(-np.sin(angle)).to(device=input.device, dtype=dt)
    out = _gpujit.stack([frames.matmul(cos), frames.matmul(sin)], -1)   # (B, T, F, 2)
    if normalized:
        out = out * (1.0 / math.sqrt(n_fft))
    out = out.transpose(1, 2)                                          # (B, F, T, 2)
    return out if input.dim() == 2 else out.squeeze(0)


def _stft_method(self, n_fft, hop_length=None, win_length=None, window=None, center=True,
                 pad_mode="reflect", normalized=False, onesided=None, return_complex=None):
    return stft(self, n_fft, hop_length, win_length, window, center, pad_mode, normalized,
                onesided, return_complex)


_stft_method.__name__ = "stft"
