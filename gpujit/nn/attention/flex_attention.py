"""torch.nn.attention.flex_attention, as torch 2.13 runs it without torch.compile: the
unfused math (scores materialized): scores = q @ k^T * scale in float32 (float64 for
float64 inputs), score_mod(score, b, h, q_idx, kv_idx) applied, entries where the block
mask's mask_mod(b, h, q_idx, kv_idx) is False set to -inf, a softmax that gives fully
masked rows zeros, then @ value. score_mod and mask_mod are called once with broadcast
index tensors (b: (B,1,1,1), h: (1,H,1,1), q_idx: (1,1,Q,1), kv_idx: (1,1,1,KV)), which
for the elementwise functions flex_attention takes gives what PyTorch's vmap over each
index gives. As torch 2.13, CPU inputs that require grad and max_scores on the CPU are
refused (NotImplementedError, torch's words); on CUDA the backward is autograd's through
the math. create_block_mask's BlockMask holds PyTorch's block tables (kv_num_blocks,
kv_indices, the full blocks, their transposes) for its BLOCK_SIZE, and prints as
PyTorch's; gpujit's attention reads only its mask_mod."""
from __future__ import annotations

import itertools
import math
import warnings
from typing import NamedTuple

import gpujit as _torch

__all__ = ["BlockMask", "flex_attention", "AuxOutput", "AuxRequest", "FlexKernelOptions",
           "create_block_mask", "create_mask", "or_masks", "and_masks", "noop_mask"]

_DEFAULT_SPARSE_BLOCK_SIZE = 128
_LARGE_SPARSE_BLOCK_SIZE = 1 << 30
_FLEX_ATTENTION_DISABLE_COMPILE_DEBUG = False
FlexKernelOptions = dict
_WARNINGS_SHOWN: set = set()


def _warn_once(warning_id, message, category=UserWarning):
    if warning_id not in _WARNINGS_SHOWN:
        _WARNINGS_SHOWN.add(warning_id)
        warnings.warn(message, category, stacklevel=3)


class AuxRequest(NamedTuple):
    """Which extra outputs flex_attention returns (return_aux=)."""
    lse: bool = False
    max_scores: bool = False


class AuxOutput(NamedTuple):
    lse: object = None
    max_scores: object = None


def noop_mask(batch, head, token_q, token_kv):
    """The mask_mod that masks nothing."""
    return batch.new_ones(size=(), dtype=_torch.bool, device=batch.device)


def _identity(score, batch, head, token_q, token_kv):
    return score


def and_masks(*mask_mods):
    """A mask_mod True where every one of mask_mods is."""
    if not all(callable(arg) for arg in mask_mods):
        raise RuntimeError(f"All inputs should be callable mask_mods: {mask_mods}")

    def and_mask(b, h, q_idx, kv_idx):
        result = b.new_ones((), dtype=_torch.bool)
        for mask in mask_mods:
            result = result & mask(b, h, q_idx, kv_idx)
        return result
    return and_mask


def or_masks(*mask_mods):
    """A mask_mod True where any one of mask_mods is."""
    if not all(callable(arg) for arg in mask_mods):
        raise RuntimeError(f"All inputs should be callable mask_mods: {mask_mods}")

    def or_mask(b, h, q_idx, kv_idx):
        result = b.new_zeros((), dtype=_torch.bool)
        for mask in mask_mods:
            result = result | mask(b, h, q_idx, kv_idx)
        return result
    return or_mask


def _is_score_mod(fn):
    import inspect
    try:
        n = sum(1 for p in inspect.signature(fn).parameters.values()
                if p.default is inspect.Parameter.empty and
                p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    except (TypeError, ValueError):
        n = 4
    return n == 5


def _indices(B, H, Q, KV, device):
    return (_torch.arange(B, device=device).view(B, 1, 1, 1),
            _torch.arange(H, device=device).view(1, H, 1, 1),
            _torch.arange(Q, device=device).view(1, 1, Q, 1),
            _torch.arange(KV, device=device).view(1, 1, 1, KV))


def _default_device(device):
    if device is None:
        acc = _torch.accelerator.current_accelerator()
        return acc if acc is not None else "cpu"
    return device


def create_mask(mod_fn, B, H, Q_LEN, KV_LEN, device=None):
    """The (B, H, Q_LEN, KV_LEN) bool mask of a mask_mod (or where a score_mod leaves the
    score finite); B / H None are 1."""
    device = _default_device(device)
    B = 1 if B is None else B
    H = 1 if H is None else H
    b, h, m, n = _indices(B, H, Q_LEN, KV_LEN, device)
    if _is_score_mod(mod_fn):
        out = mod_fn(_torch.zeros(B, H, Q_LEN, KV_LEN, device=device), b, h, m, n)
        out = _torch.as_tensor(out).expand(B, H, Q_LEN, KV_LEN)
        return _torch.where(_torch.isneginf(out), False, True)
    mask = _torch.as_tensor(mod_fn(b, h, m, n), device=device)
    return mask.to(_torch.bool).expand(B, H, Q_LEN, KV_LEN).contiguous()


def _dense_to_ordered(dense_mask):
    dense_mask = dense_mask.to(dtype=_torch.int32)
    num_blocks_in_row = dense_mask.sum(dim=-1)
    col_indices = _torch.argsort(dense_mask, dim=-1, descending=True, stable=True)
    return num_blocks_in_row.to(_torch.int32), col_indices.to(_torch.int32)


def _ordered_to_dense(num_blocks_in_row, col_indices, num_cols):
    max_entries = col_indices.shape[-1]
    col_range = _torch.arange(max_entries, dtype=_torch.int32, device=col_indices.device)
    valid = _torch.where(col_range < num_blocks_in_row.unsqueeze(-1), col_indices, num_cols)
    dense = col_indices.new_zeros(tuple(col_indices.shape[:-1]) + (num_cols + 1,),
                                  dtype=_torch.int32)
    dense.scatter_(-1, valid.long(), 1)
    return dense[..., :num_cols].contiguous()


def _transpose_ordered(num_blocks_in_row, col_indices):
    dense = _ordered_to_dense(num_blocks_in_row, col_indices, col_indices.shape[-1])
    return _dense_to_ordered(dense.transpose(-2, -1))


class BlockMask:
    """The block-sparse layout of a mask (PyTorch's fields), with its mask_mod."""

    def __init__(self, seq_lengths, kv_num_blocks, kv_indices, full_kv_num_blocks,
                 full_kv_indices, q_num_blocks, q_indices, full_q_num_blocks, full_q_indices,
                 BLOCK_SIZE, mask_mod):
        if kv_indices.dim() < 2:
            raise RuntimeError("BlockMask must have at least 2 dimensions")
        self.seq_lengths = tuple(seq_lengths)
        self.kv_num_blocks, self.kv_indices = kv_num_blocks, kv_indices
        self.full_kv_num_blocks, self.full_kv_indices = full_kv_num_blocks, full_kv_indices
        self.q_num_blocks, self.q_indices = q_num_blocks, q_indices
        self.full_q_num_blocks, self.full_q_indices = full_q_num_blocks, full_q_indices
        self.BLOCK_SIZE = BLOCK_SIZE
        self.mask_mod = mask_mod

    @classmethod
    def from_kv_blocks(cls, kv_num_blocks, kv_indices, full_kv_num_blocks=None,
                       full_kv_indices=None, BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE,
                       mask_mod=None, seq_lengths=None, compute_q_blocks=True):
        if kv_indices.dim() < 2:
            raise RuntimeError("BlockMask must have at least 2 dimensions")
        if (full_kv_num_blocks is None) != (full_kv_indices is None):
            raise AssertionError("full_kv_num_blocks and full_kv_indices must be both "
                                 "provided or omitted")
        q_num_blocks = q_indices = full_q_num_blocks = full_q_indices = None
        if compute_q_blocks:
            q_num_blocks, q_indices = _transpose_ordered(kv_num_blocks, kv_indices)
            if full_kv_num_blocks is not None:
                full_q_num_blocks, full_q_indices = _transpose_ordered(full_kv_num_blocks,
                                                                       full_kv_indices)
        if isinstance(BLOCK_SIZE, int):
            BLOCK_SIZE = (BLOCK_SIZE, BLOCK_SIZE)
        mask_mod = mask_mod if mask_mod is not None else noop_mask
        if seq_lengths is None:
            seq_lengths = (kv_indices.shape[-2] * BLOCK_SIZE[0],
                           kv_indices.shape[-1] * BLOCK_SIZE[1])
        return cls(seq_lengths, kv_num_blocks, kv_indices, full_kv_num_blocks,
                   full_kv_indices, q_num_blocks, q_indices, full_q_num_blocks,
                   full_q_indices, BLOCK_SIZE, mask_mod)

    def as_tuple(self, flatten: bool = True):
        return (*self.seq_lengths, self.kv_num_blocks, self.kv_indices,
                self.full_kv_num_blocks, self.full_kv_indices, self.q_num_blocks,
                self.q_indices, self.full_q_num_blocks, self.full_q_indices,
                *self.BLOCK_SIZE, self.mask_mod)

    @property
    def shape(self):
        *batch_dims, _, _ = self.kv_indices.shape
        return tuple(batch_dims) + self.seq_lengths

    def numel(self) -> int:
        return math.prod(self.shape)

    def sparsity(self) -> float:
        """The percentage of the mask's entries in no computed block."""
        computed_blocks = self.kv_num_blocks.sum()
        if self.full_kv_num_blocks is not None:
            computed_blocks = computed_blocks + self.full_kv_num_blocks.sum()
        computed = computed_blocks.item() * self.BLOCK_SIZE[0] * self.BLOCK_SIZE[1]
        return 100 * (1 - computed / self.numel())

    def to_dense(self):
        """The (..., Q blocks, KV blocks) int32 table of the blocks computed."""
        partial = _ordered_to_dense(self.kv_num_blocks, self.kv_indices,
                                    self.kv_indices.shape[-1])
        if self.full_kv_num_blocks is not None:
            return partial | _ordered_to_dense(self.full_kv_num_blocks, self.full_kv_indices,
                                               self.full_kv_indices.shape[-1])
        return partial

    def to_string(self, grid_size=(20, 20), limit: int = 4) -> str:
        dense_mask = self.to_dense()
        *batch_dims, num_rows, num_cols = dense_mask.shape
        if isinstance(grid_size, int):
            max_rows = max_cols = grid_size
        elif grid_size == -1:
            max_rows, max_cols = num_rows, num_cols
        else:
            max_rows, max_cols = grid_size

        def create_block_vis(*batch_idx):
            vis = f"{batch_idx}" + "\n"
            row_step = max(1, -(-num_rows // max_rows))
            col_step = max(1, -(-num_cols // max_cols))
            cur = dense_mask
            for idx in batch_idx:
                cur = cur[idx]
            for r in range(0, num_rows, row_step):
                for c in range(0, num_cols, col_step):
                    pct = cur[r:r + row_step, c:c + col_step].float().mean().item()
                    vis += ("█" if pct == 1 else " " if pct == 0 else "░") * 2
                vis += "\n"
            return vis

        total = []
        for i, batch_idx in enumerate(itertools.product(*[range(d) for d in batch_dims])):
            if i == limit:
                total.append("...")
                total.append("To print out more, set BlockMask.to_string(limit=N)")
                total.append("You can also index (BlockMask[batch, head]) to choose a "
                             "specific batch or head")
                break
            total.append(create_block_vis(*batch_idx))
        return "\n".join(total)

    def __str__(self) -> str:
        return (f"BlockMask(shape={self.shape}, sparsity={self.sparsity():.2f}%, \n"
                + self.to_string().strip() + "\n)")

    def __repr__(self) -> str:
        def shape_or_none(x):
            return x.shape if x is not None else None
        return (f"BlockMask(\n"
                f"    kv_num_blocks={self.kv_num_blocks.shape},\n"
                f"    kv_indices={self.kv_indices.shape},\n"
                f"    full_kv_num_blocks={shape_or_none(self.full_kv_num_blocks)},\n"
                f"    full_kv_indices={shape_or_none(self.full_kv_indices)},\n"
                f"    q_num_blocks={shape_or_none(self.q_num_blocks)},\n"
                f"    q_indices={shape_or_none(self.q_indices)},\n"
                f"    full_q_num_blocks={shape_or_none(self.full_q_num_blocks)},\n"
                f"    full_q_indices={shape_or_none(self.full_q_indices)},\n"
                f"    BLOCK_SIZE={self.BLOCK_SIZE},\n"
                f"    shape={self.shape},\n"
                f"    sparsity={self.sparsity():.2f}%,\n"
                f"    mask_mod={getattr(self.mask_mod, '__name__', self.mask_mod)}\n"
                f")")


def _convert_mask_to_block_mask(mask, Q_BLOCK_SIZE, KV_BLOCK_SIZE, separate_full_blocks):
    while mask.dim() < 4:
        mask = mask.unsqueeze(0)
    pad_kv = -mask.shape[-1] % KV_BLOCK_SIZE
    pad_q = -mask.shape[-2] % Q_BLOCK_SIZE
    mask = _torch.nn.functional.pad(mask, (0, pad_kv, 0, pad_q))
    B, H, Q, KV = mask.shape
    mask = mask.view(B, H, Q // Q_BLOCK_SIZE, Q_BLOCK_SIZE, KV // KV_BLOCK_SIZE,
                     KV_BLOCK_SIZE).permute(0, 1, 2, 4, 3, 5)
    block_sum = mask.sum(dim=[-2, -1])
    if separate_full_blocks:
        full = Q_BLOCK_SIZE * KV_BLOCK_SIZE
        return (((block_sum > 0) & (block_sum < full)).to(_torch.int8),
                (block_sum == full).to(_torch.int8))
    return (block_sum > 0).to(_torch.int8), None


def create_block_mask(mask_mod, B, H, Q_LEN, KV_LEN, device=None,
                      BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE, _compile=False,
                      separate_full_blocks: bool = True, compute_dq_write_order: bool = False,
                      dq_kv_order: bool = True):
    """The BlockMask of mask_mod over (B, H, Q_LEN, KV_LEN) in BLOCK_SIZE blocks (B / H
    None: 1, broadcast over the batch / heads)."""
    device = _default_device(device)
    if _is_score_mod(mask_mod):
        raise AssertionError(f"create-block_mask requires a mask_mod function! Got {mask_mod}")
    B = 1 if B is None else B
    H = 1 if H is None else H
    q_bs, kv_bs = (BLOCK_SIZE, BLOCK_SIZE) if isinstance(BLOCK_SIZE, int) else BLOCK_SIZE
    if _compile:
        warnings.warn("_compile flag on create_block_mask was originally added to work around "
                      "a torch.compile limitation. That limitation has since been addressed. "
                      "So, to compile create_block_mask, we suggest doing "
                      "torch.compile(create_block_mask). This still works for now, but will "
                      "be removed in the future.", DeprecationWarning, stacklevel=2)
    if not isinstance(dq_kv_order, bool):
        raise ValueError("dq_kv_order must be a bool when using create_block_mask")
    mask = create_mask(mask_mod, B, H, Q_LEN, KV_LEN, device)
    partial, full = _convert_mask_to_block_mask(mask, q_bs, kv_bs, separate_full_blocks)
    kv_num, kv_idx = _dense_to_ordered(partial)
    full_num, full_idx = _dense_to_ordered(full) if full is not None else (None, None)
    return BlockMask.from_kv_blocks(kv_num, kv_idx, full_num, full_idx,
                                    BLOCK_SIZE=(q_bs, kv_bs), mask_mod=mask_mod,
                                    seq_lengths=(Q_LEN, KV_LEN))


def _create_empty_block_mask(query, key):
    device = query.device
    return BlockMask.from_kv_blocks(
        kv_num_blocks=_torch.ones([1, 1, 1], dtype=_torch.int32, device=device),
        kv_indices=_torch.zeros([1, 1, 1, 1], dtype=_torch.int32, device=device),
        BLOCK_SIZE=_LARGE_SPARSE_BLOCK_SIZE, seq_lengths=(1, 1))


def _math_attention(query, key, value, score_mod, mask_mod, scale):
    G = query.size(1) // key.size(1)
    value = _torch.repeat_interleave(value, G, dim=1)
    key = _torch.repeat_interleave(key, G, dim=1)
    Bq, Bkv = query.size(0), key.size(0)
    if not (Bq == Bkv or (Bq > 1 and Bkv == 1)):
        raise RuntimeError(f"Bq and Bkv must broadcast. Got Bq={Bq} and Bkv={Bkv}")
    key = key.expand((Bq, *key.size()[1:]))
    value = value.expand((Bq, *value.size()[1:]))
    wp = _torch.float64 if query.dtype == _torch.float64 else _torch.float32
    scores = query.to(wp) @ key.to(wp).transpose(-2, -1)
    B, H, Q, KV = scores.shape
    b, h, m, n = _indices(B, H, Q, KV, scores.device)
    scores = (scores * scale).to(wp)
    keep = _torch.as_tensor(mask_mod(b, h, m, n), device=scores.device)
    post = _torch.where(keep, score_mod(scores, b, h, m, n),
                        _torch.tensor(-float("inf"), dtype=wp, device=scores.device))
    post = post.expand(B, H, Q, KV)
    lse = post.logsumexp(dim=-1)
    masked_rows = _torch.all(post == -float("inf"), dim=-1)
    lse = _torch.where(masked_rows, -float("inf"), lse)
    max_scores = _torch.max(post, dim=-1)[0]
    probs = _torch.softmax(post, dim=-1)
    probs = _torch.where(masked_rows.unsqueeze(-1), 0.0, probs)     # (_safe_softmax)
    return probs.to(query.dtype) @ value.to(query.dtype), lse, max_scores


def flex_attention(query, key, value, score_mod=None, block_mask=None, scale=None,
                   enable_gqa: bool = False, return_lse: bool = False, kernel_options=None,
                   *, return_aux=None):
    """Attention of (B, H, L, E) query with (B, Hkv, S, E) key / (B, Hkv, S, Ev) value,
    its scores changed by score_mod and masked by block_mask's mask_mod."""
    if query.device.type == "cpu" and (query.requires_grad or key.requires_grad
                                       or value.requires_grad):
        raise NotImplementedError(      # (torch 2.13's CPU implementation has no backward)
            "FlexAttention does not support backward on CPU. Please set the input "
            "requires_grad to False or use another device.")
    if query.dim() != 4 or key.dim() != 4 or value.dim() != 4:
        raise NotImplementedError("NYI: query, key, and value must be 4D tensors")
    if query.size(-1) != key.size(-1):
        raise ValueError(f"Expect query and key to have the same embedding dimension but "
                         f"got E={query.size(-1)} and E={key.size(-1)}.")
    if (not enable_gqa) and query.size(-3) != key.size(-3):
        raise ValueError(f"Expect query and key/value to have the same number of heads but "
                         f"got Hq={query.size(-3)} and Hkv={key.size(-3)}. Try setting "
                         f"enable_gqa=True for GQA.")
    if enable_gqa and query.size(1) % key.size(1) != 0:
        raise ValueError(f"Expect number of query heads to be a multiple of kv heads for GQA "
                         f"but got Hq={query.size(1)} and Hkv={key.size(1)}.")
    if query.size(0) != key.size(0):
        if block_mask is None:
            raise ValueError(f"Expect query and key/value to have the same batch size, or "
                             f"non-none block_mask, but got block_mask=None, "
                             f"Bq={query.size(0)}, and Bkv={key.size(0)}.")
        if block_mask.kv_num_blocks.size(0) != query.size(0):
            raise ValueError(f"Expect query and key/value to have the same batch size, or "
                             f"block_mask and query to have the same batch size, but got "
                             f"Bq={query.size(0)}, Bkv={key.size(0)}, "
                             f"B_block_mask={block_mask.kv_num_blocks.size(0)}.")
    if score_mod is None:
        score_mod = _identity
    if block_mask is None:
        block_mask = _create_empty_block_mask(query, key)
    if block_mask.BLOCK_SIZE != (_LARGE_SPARSE_BLOCK_SIZE, _LARGE_SPARSE_BLOCK_SIZE):
        bq, bkv = block_mask.shape[-2], block_mask.shape[-1]
        if query.size(-2) > bq or key.size(-2) > bkv:
            raise ValueError(
                f"block_mask was created for block_mask.shape={block_mask.shape} but got "
                f"q_len={query.size(-2)} and kv_len={key.size(-2)}. As the block mask was "
                f"created for a smaller length than you're using it for, you likely need to "
                f"create a new block mask.")
        if query.size(-2) != bq or key.size(-2) != bkv:
            raise ValueError(
                f"block_mask was created for block_mask.shape={block_mask.shape} but got "
                f"q_len={query.size(-2)} and kv_len={key.size(-2)}. As the block mask was "
                f"created for a larger length than you're using it for, you can either 1. "
                f"create a new block mask with the correct length, or 2. 'adjust' the "
                f"existing block mask to the correct length by calling "
                f"block_mask._adjust(q_len, kv_len). This essentially 'crops' the block "
                f"mask to the upper left corner, which does not work for all mask_mods!")
    if scale is None:
        scale = 1.0 / math.sqrt(query.size(-1))
    if query.device != block_mask.kv_num_blocks.device:
        raise RuntimeError(f"Expect q/k/v and block_mask to be on the same device but got "
                           f"{query.device} and {block_mask.kv_num_blocks.device}.")
    if return_lse and return_aux is not None:
        raise ValueError("Cannot specify both return_lse and return_aux. return_lse is "
                         "deprecated, please use return_aux=AuxRequest(lse=True) instead.")
    elif return_lse:
        _warn_once("deprecated_return_lse", "return_lse is deprecated and will be removed in "
                   "v2.10. Please use return_aux=AuxRequest(lse=True) instead.",
                   category=FutureWarning)
    if return_aux is not None and return_aux.max_scores and query.device.type == "cpu":
        raise NotImplementedError("Returning max scores is not supported on CPU/MPS.")
    if not _FLEX_ATTENTION_DISABLE_COMPILE_DEBUG:
        _warn_once("flex_attention_performance", (
            "flex_attention called without torch.compile() - this will use an unfused "
            "implementation that materializes the full scores matrix instead of generating "
            "a fused kernel.\n\nSOLUTION: Use torch.compile(flex_attention)(...)\n\n"
            "If you want to debug your score_mod/mask_mod, you can set:\n"
            "torch.nn.attention.flex_attention._FLEX_ATTENTION_DISABLE_COMPILE_DEBUG = "
            "True\n\nThis will allow you to use print statements or breakpoints. Note: This "
            "doesn't work with the backwards pass and may produce incorrect results."))
    out, lse, max_scores = _math_attention(query, key, value, score_mod, block_mask.mask_mod,
                                           scale)
    want_lse = return_lse or (return_aux is not None and return_aux.lse)
    if return_aux is not None:
        return out, AuxOutput(lse=lse if want_lse else None,
                              max_scores=max_scores if return_aux.max_scores else None)
    if return_lse:
        return out, lse
    return out
