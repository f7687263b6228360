"""Packed variable-length batches as torch.nn.utils.rnn has them: PackedSequence,
pack_padded_sequence, pad_packed_sequence, pad_sequence, pack_sequence, unpad_sequence,
unpack_sequence. Packing is written with registry ops (slices, cat, index_select), so
gradients flow from the packed data back to the padded input and the other way round.

A PackedSequence holds `data` (sum(lengths), *) — time step t's rows of the sequences
still running at t, longest first — and `batch_sizes` (int64 CPU tensor, how many
sequences run at each step); `sorted_indices` / `unsorted_indices` when the batch was
sorted by length (enforce_sorted=False)."""
from __future__ import annotations

from collections import namedtuple
from typing import List, Optional, Tuple, Union

import gpujit
from ...tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "pack_sequence", "unpad_sequence", "unpack_sequence", "invert_permutation"]


def invert_permutation(permutation: Optional[Tensor]) -> Optional[Tensor]:
    if permutation is None:
        return None
    return gpujit.argsort(permutation)     # the inverse of a permutation


class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Holds the data and list of batch_sizes of a packed sequence (never built by hand:
    use pack_padded_sequence / pack_sequence). Scripted code sees a NamedTuple of these
    four fields (TorchScript's PackedSequence)."""
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Optional[Tensor]
    unsorted_indices: Optional[Tensor]

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            if batch_sizes.device.type != "cpu":
                raise ValueError(
                    "batch_sizes should always be on CPU. Instances of PackedSequence "
                    "should never be created manually. They should be instantiated by "
                    "functions like pack_sequence and pack_padded_sequences in "
                    "nn.utils.rnn. https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
            return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)
        data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        dev = data.device
        si = None if self.sorted_indices is None else self.sorted_indices.to(dev)
        ui = None if self.unsorted_indices is None else self.unsorted_indices.to(dev)
        return type(self)(data, self.batch_sizes, si, ui)

    def cuda(self, *args, **kwargs):
        return self.to("cuda")

    def cpu(self, *args, **kwargs):
        return self.to("cpu")

    def double(self):
        return self.to(dtype=gpujit.double)

    def float(self):
        return self.to(dtype=gpujit.float)

    def half(self):
        return self.to(dtype=gpujit.half)

    def long(self):
        return self.to(dtype=gpujit.long)

    def int(self):
        return self.to(dtype=gpujit.int)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def _lengths_list(lengths: Union[Tensor, List[int]], cpu_only: bool = False) -> List[int]:
    out: List[int] = []
    if isinstance(lengths, Tensor):
        # (pack_padded_sequence: ATen's check, after torch's lengths.to(int64): lengths on
        # a GPU are refused, a common slip when the batch moved there)
        if lengths.dim() != 1 or (cpu_only and lengths.device.type != "cpu"):
            if not gpujit.jit.is_scripting():
                raise RuntimeError(
                    f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                    f"{lengths.dim()}D {lengths.device} Long tensor")
            raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but "
                               f"got {lengths.dim()}D tensor")
        for i in range(lengths.size(0)):
            out.append(int(lengths[i]))
    else:
        for v in lengths:
            out.append(int(v))
    return out


def _descending_order(lens: List[int]) -> List[int]:
    """The indices of lens, longest first; equal lengths keep their order (torch.sort)."""
    order: List[int] = []
    for i in range(len(lens)):
        k = len(order)
        while k > 0 and lens[order[k - 1]] < lens[i]:
            k -= 1
        order.insert(k, i)
    return order


def pack_padded_sequence(input: Tensor, lengths: Union[Tensor, List[int]],
                         batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Packs a padded batch (T, B, *) ((B, T, *) with batch_first) of sequences of the
    given lengths. Scripted code compiles it from this source (and a trace records it
    scripted, so that the traced code packs other lengths)."""
    if not gpujit.jit.is_scripting():
        if gpujit.jit.is_tracing():
            return gpujit.jit.script(pack_padded_sequence)(input, lengths, batch_first,
                                                            enforce_sorted)
    lens = _lengths_list(lengths, True)
    sorted_indices: Optional[Tensor] = None
    if not enforce_sorted:
        order = _descending_order(lens)
        si = gpujit.tensor(order, dtype=gpujit.int64, device=input.device)
        sorted_indices = si
        by_length: List[int] = []
        for i in order:
            by_length.append(lens[i])
        lens = by_length
        input = input.index_select(0 if batch_first else 1, si)
    if input.dim() < 2:
        raise RuntimeError(f"Expected input to have at least 2 dimensions, got {input.dim()}")
    if batch_first:
        input = input.transpose(0, 1)
    if len(lens) != input.size(1):
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(lens)} (batch_size={input.size(1)})")
    for i in range(len(lens) - 1):
        if lens[i] < lens[i + 1]:
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
    if len(lens) == 0 or lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if lens[0] > input.size(0):
        raise RuntimeError(f"Expected sequence length to be at most {input.size(0)}, but "
                           f"got {lens[0]}")
    batch_sizes: List[int] = []
    rows: List[Tensor] = []
    for t in range(lens[0]):
        bs = 0
        for n in lens:
            if n > t:
                bs += 1
        batch_sizes.append(bs)
        rows.append(input[t, :bs])
    return PackedSequence(gpujit.cat(rows, 0), gpujit.tensor(batch_sizes, dtype=gpujit.int64),
                          sorted_indices, invert_permutation(sorted_indices))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: Optional[int] = None) -> Tuple[Tensor, Tensor]:
    """Inverse of pack_padded_sequence: (padded (T, B, *) or (B, T, *), lengths).
    Scripted code compiles it from this source (and a trace records it scripted)."""
    if not gpujit.jit.is_scripting():
        if gpujit.jit.is_tracing():
            return gpujit.jit.script(pad_packed_sequence)(sequence, batch_first,
                                                           padding_value, total_length)
    data = sequence.data
    sizes = sequence.batch_sizes
    bsz: List[int] = []
    for i in range(sizes.size(0)):
        bsz.append(int(sizes[i]))
    max_len = len(bsz)
    length = max_len
    if total_length is not None:
        if total_length < max_len:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence "
                f"in input, but got total_length={total_length} and max sequence length "
                f"being {max_len}")
        length = total_length
    B = bsz[0]
    tail = list(data.shape[1:])
    rows: List[Tensor] = []
    off = 0
    for bs in bsz:
        step = data[off:off + bs]
        off += bs
        if bs < B:
            step = gpujit.cat([step, gpujit.full([B - bs] + tail, padding_value,
                                                 dtype=data.dtype, device=data.device)], 0)
        rows.append(step)
    for _ in range(length - max_len):
        rows.append(gpujit.full([B] + tail, padding_value, dtype=data.dtype,
                                device=data.device))
    padded = gpujit.stack(rows, 0)
    lengths: List[int] = []
    for i in range(B):
        n = 0
        for b in bsz:
            if b > i:
                n += 1
        lengths.append(n)
    lengths_t = gpujit.tensor(lengths, dtype=gpujit.int64)
    if batch_first:
        padded = padded.transpose(0, 1)
    unsorted = sequence.unsorted_indices
    if unsorted is not None:
        padded = padded.index_select(0 if batch_first else 1, unsorted)
        lengths_t = lengths_t.index_select(0, unsorted.to(lengths_t.device))
    return padded, lengths_t


for _f in (_lengths_list, _descending_order, pack_padded_sequence, pad_packed_sequence,
           invert_permutation):
    _f.__gpujit_script_source__ = True


def pad_sequence(sequences: Union[Tensor, List[Tensor]], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Stacks tensors of shape (L_i, *) into (T, B, *) ((B, T, *) with batch_first),
    padding with padding_value on padding_side ("right" or "left"). Scripted code
    compiles it from this source (TorchScript scripts torch's pad_sequence)."""
    if padding_side != "left" and padding_side != "right":
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    seqs: List[Tensor] = []
    if isinstance(sequences, Tensor):
        seqs = sequences.unbind(0)
    else:
        for s in sequences:
            seqs.append(s)
    if len(seqs) == 0:
        raise RuntimeError("received an empty list of sequences")
    longest = 0
    for s in seqs:
        longest = max(longest, s.size(0))
    tail = list(seqs[0].shape[1:])
    out: List[Tensor] = []
    for s in seqs:
        n = longest - s.size(0)
        if n > 0:
            pad = gpujit.full([n] + tail, padding_value, dtype=s.dtype, device=s.device)
            if padding_side == "right":
                s = gpujit.cat([s, pad], 0)
            else:
                s = gpujit.cat([pad, s], 0)
        out.append(s)
    return gpujit.stack(out, 0 if batch_first else 1)


pad_sequence.__gpujit_script_source__ = True


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor,
                   batch_first: bool = False) -> List[Tensor]:
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:n] for seq, n in zip(padded_sequences.unbind(0), _lengths_list(lengths))]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Packs a list of tensors (L_i, *) (longest first unless enforce_sorted=False)."""
    lengths = gpujit.tensor([v.size(0) for v in sequences], dtype=gpujit.int64)
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> List[Tensor]:
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
