"""The TorchScript tutorial's MyCell, run eagerly with `import gpujit as torch`.

    python examples/eager_mycell.py [--device cuda]

Scripting and tracing it (torch.jit.script / torch.jit.trace) come with the IR and
frontend issues; the eager part below is what the tutorial prints before that.
"""
import argparse

import gpujit as torch


class MyDecisionGate(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        else:
            return -x


class MyCell(torch.nn.Module):
    def __init__(self):
        super(MyCell, self).__init__()
        self.dg = MyDecisionGate()
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.dg(self.linear(x)) + h)
        return new_h, new_h


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    torch.manual_seed(0)
    my_cell = MyCell().to(args.device)
    x = torch.rand(3, 4, device=args.device)
    h = torch.rand(3, 4, device=args.device)
    print(my_cell)
    print(my_cell(x, h))


if __name__ == "__main__":
    main()
