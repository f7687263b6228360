"""Writes legacy_s49.pt, the file tests/test_torch_load_s49.py loads: torch.save's legacy
(non-zip) format (_use_new_zipfile_serialization=False) of a dict of tensors sharing one
storage (a view, a transpose, a strided slice), bfloat16 / float16 / complex64 / bool
tensors, a 0-size tensor and an nn.Parameter. Run with PyTorch
(`python tests/data/torch_archives/make_legacy_s49.py`; torch 2.13 made the committed file).
state() takes the torch module to build it with (the test passes gpujit too)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def state(torch):
    base = torch.arange(12.).reshape(3, 4)
    return {"base": base, "row": base[1], "t": base.t(), "sl": base[:, 1::2],
            "nested": [base[2], (base[0, 1:],)],
            "b16": torch.tensor([1.5, -2.25], dtype=torch.bfloat16),
            "h": torch.tensor([0.5, 65504.0], dtype=torch.float16),
            "c": torch.tensor([1 + 2j, 3 - 1j]), "flags": torch.tensor([True, False, True]),
            "empty": torch.zeros(0, 3), "p": torch.nn.Parameter(torch.ones(2)), "n": 7}


if __name__ == "__main__":
    import torch
    torch.save(state(torch), sys.argv[1] if len(sys.argv) > 1 else
               os.path.join(HERE, "legacy_s49.pt"), _use_new_zipfile_serialization=False)
