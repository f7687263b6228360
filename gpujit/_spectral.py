"""torch.stft / Tensor.stft and torch.istft.

stft: the short-time Fourier transform of a 1-D (L) or 2-D (B, L) signal, complex
[..., freq, frames] (return_complex=True) or PyTorch's old real format [..., freq, frames,
2] (return_complex=False, deprecated). Written over registry ops (pad, unfold, matmul with
the DFT's cosine and sine matrices; a complex input with the complex DFT matrix), so
tracing and every device follow; the values agree with PyTorch's FFT to rounding (a matrix
DFT sums in another order than pocketfft).

istft: its inverse: an inverse FFT of each frame (irfft of a one-sided input), times the
window, overlapped and added (index_add), divided by the overlapped squared window, as
ATen's istft.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

import gpujit as _gpujit

__all__ = ["stft", "istft"]

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
    cplx = input.is_complex() or (window is not None and window.is_complex())
    if not cplx and input.is_floating_point() is False:
        raise RuntimeError(f"stft: expected a tensor of floating point or complex values, "
                           f"got {input.dtype}")
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
    if not return_complex:
        _warn_once("return_complex", "stft with return_complex=False is deprecated. In a "
                   "future pytorch release, stft will return complex tensors for all inputs, "
                   "and return_complex=False will raise an error.\nNote: you can still call "
                   "torch.view_as_real on the complex output to recover the old return "
                   "format.")
    if cplx and onesided:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    if win < n_fft:
        left = (n_fft - win) // 2
        window = _gpujit.nn.functional.pad(window, [left, n_fft - win - left])
    dt = input.dtype
    if dt == _gpujit.bfloat16 or window.dtype == _gpujit.bfloat16:
        raise RuntimeError("MKL FFT doesn't support tensors of type: BFloat16")
    frames = x.unfold(-1, n_fft, hop) * window.to(dt)                 # (B, T, n_fft)
    n_freq = n_fft // 2 + 1 if not cplx and (onesided is None or onesided) else n_fft
    k = np.arange(n_fft)[:, None] * np.arange(n_freq)[None, :] % n_fft
    angle = (2 * math.pi / n_fft) * k
    if cplx:
        dft = _gpujit.from_numpy(np.exp(-1j * angle)).to(device=input.device,
                                                        dtype=frames.dtype)
        out = frames.matmul(dft)                                       # (B, T, F)
        if normalized:
            out = out * (1.0 / math.sqrt(n_fft))
    else:
        cos = _gpujit.from_numpy(np.cos(angle)).to(device=input.device, dtype=dt)
        sin = _gpujit.from_numpy(-np.sin(angle)).to(device=input.device, dtype=dt)
        out = _gpujit.stack([frames.matmul(cos), frames.matmul(sin)], -1)   # (B, T, F, 2)
        if normalized:
            out = out * (1.0 / math.sqrt(n_fft))
        out = _gpujit.view_as_complex(out)                             # (B, T, F)
    # ATen's ending, in place: transpose_ (strides (F T, 1, F)), squeeze_ of an unbatched
    # input, then view_as_real for return_complex=False (their nodes: TransposeBackward1,
    # SqueezeBackward4, ViewAsRealBackward0)
    out.transpose_(1, 2)                                               # (B, F, T)
    if input.dim() != 2:
        out.squeeze_(0)
    return out if return_complex else _gpujit.view_as_real(out)


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
          normalized=False, onesided=None, length=None, return_complex=False):
    """torch.istft: the signal whose stft (with the same arguments) is `input`, a complex
    (F, T) or (B, F, T) tensor; ATen's algorithm (inverse FFT per frame, window,
    overlap-add, divided by the overlapped squared window)."""
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if input.dim() not in (2, 3):
        raise RuntimeError(f"istft: expected a tensor with 2 or 3 dimensions of complex "
                           f"values, but got {input.dim()}")
    x = input if input.dim() == 3 else input.unsqueeze(0)
    n_frames, fft_size = x.shape[-1], x.shape[-2]
    expected_len = n_fft + hop * (n_frames - 1)
    if not 0 < hop <= win:
        raise RuntimeError("istft: expected 0 < hop_length <= win_length")
    if not 0 < win <= n_fft:
        raise RuntimeError(f"istft: expected 0 < win_length <= n_fft, but got "
                           f"win_length={win}")
    onesided_arg = onesided
    onesided = fft_size != n_fft if onesided is None else onesided
    if onesided:
        if n_fft // 2 + 1 != fft_size:
            raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) of "
                               f"the input tensor to match n_fft / 2 + 1 when onesided=True, "
                               f"but got {fft_size}")
    elif n_fft != fft_size:
        raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) of the "
                           f"input tensor to match n_fft when onesided=False, but got "
                           f"{fft_size}")
    real = x.dtype.to_real()
    if window is None:
        _warn_once("istft_window", "A window was not provided. A rectangular window will be "
                   "applied.Please provide the same window used by stft to make the "
                   "inversion lossless.To suppress this warning and use a rectangular "
                   "window, explicitly set `window=torch.ones(n_fft, device=<device>)`.")
        window = _gpujit.ones(win, dtype=real, device=input.device)
    elif window.dim() != 1 or window.shape[0] != win:
        raise RuntimeError(f"istft: expected a 1D window tensor of size equal to "
                           f"win_length={win}, but got window with size "
                           f"{list(window.shape)}")
    if win < n_fft:
        left = (n_fft - win) // 2
        window = _gpujit.nn.functional.pad(window, [left, n_fft - win - left])
    norm = "ortho" if normalized else "backward"
    frames = x.transpose(1, 2)                                         # (B, T, F)
    if return_complex:
        if onesided:
            raise RuntimeError("cannot have onesided output if window or input is complex")
        frames = _gpujit.fft.ifft(frames, dim=-1, norm=norm)
    elif onesided:
        frames = _gpujit.fft.irfft(frames, n=n_fft, dim=-1, norm=norm)
    else:       # (a two-sided input: its first half, as ATen's c2r)
        frames = _gpujit.fft.irfft(frames[..., : n_fft // 2 + 1], n=n_fft, dim=-1, norm=norm)
    frames = frames * window.to(frames.dtype)                          # (B, T, n_fft)
    b = frames.shape[0]
    idx = (_gpujit.arange(n_frames, device=input.device)[:, None] * hop
           + _gpujit.arange(n_fft, device=input.device)[None, :]).reshape(-1)
    y = _gpujit.zeros(b, expected_len, dtype=frames.dtype, device=input.device)
    y.index_add_(1, idx, frames.reshape(b, -1))
    env_frames = (window * window).to(real).expand(n_frames, n_fft).reshape(-1)
    env = _gpujit.zeros(expected_len, dtype=real, device=input.device)
    env.index_add_(0, idx, env_frames)
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = expected_len - n_fft // 2 if center else expected_len
    stop = min(end, expected_len)
    y, env = y[:, start:stop], env[start:stop]
    if bool((env.abs() < 1e-11).any()):
        # (ATen's words: the call's arguments, then the failed check's bool)
        def typ(t):
            return f"CPU{t.dtype.short_name}Type" if t.device.type == "cpu" else \
                f"CUDA{t.dtype.short_name}Type"
        wtype = {"float32": "Float", "float64": "Double", "float16": "Half"}.get(
            window.dtype.name, window.dtype.short_name)
        raise RuntimeError(
            f"istft({typ(input)}{list(input.shape)}, n_fft={n_fft}, hop_length={hop}, "
            f"win_length={win}, window=torch.{wtype}Tensor{{[{window.shape[0]}]}}, "
            f"center={int(center)}, normalized={int(normalized)}, onesided="
            f"{'None' if onesided_arg is None else int(onesided_arg)}, length="
            f"{'None' if length is None else length}, return_complex={int(return_complex)}) "
            f"window overlap add min: 1\n[ CPUBoolType{{}} ]")
    y = y / env
    if end > expected_len:
        y = _gpujit.nn.functional.pad(y, [0, end - expected_len])
    return y if input.dim() == 3 else y.squeeze(0)


def _stft_method(self, n_fft, hop_length=None, win_length=None, window=None, center=True,
                 pad_mode="reflect", normalized=False, onesided=None, return_complex=None):
    return stft(self, n_fft, hop_length, win_length, window, center, pad_mode, normalized,
                onesided, return_complex)


_stft_method.__name__ = "stft"


def _istft_method(self, n_fft, hop_length=None, win_length=None, window=None, center=True,
                  normalized=False, onesided=None, length=None, return_complex=False):
    return istft(self, n_fft, hop_length, win_length, window, center, normalized, onesided,
                 length, return_complex)


_istft_method.__name__ = "istft"
