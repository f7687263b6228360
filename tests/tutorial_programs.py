"""The programs of PyTorch's tutorials (pytorch.org/tutorials), written once against a
`torch` module argument so that tests/test_tutorials_s20.py runs each with real PyTorch and
with gpujit and compares what they print and return. Downloads are replaced by small
synthetic data; each program takes `p` (its print) and returns a dict of named results."""
from __future__ import annotations

import numpy as np


def rnd(torch, *shape, seed=0, lo=0.0, hi=1.0, dtype="float32"):
    """torch.rand's stand-in: the same values under both modules (their generators differ)."""
    a = np.random.default_rng(seed).uniform(lo, hi, shape).astype(dtype)
    return torch.from_numpy(a)


# ------------------------------------------------------------ Learn the Basics: Tensors

def tensors_basics(torch, p):
    r = {}
    data = [[1, 2], [3, 4]]
    x_data = torch.tensor(data)
    np_array = np.array(data)
    x_np = torch.from_numpy(np_array)
    x_ones = torch.ones_like(x_data)
    p(f"Ones Tensor: \n {x_ones} \n")
    torch.manual_seed(0)
    x_rand = torch.rand_like(x_data, dtype=torch.float)
    r["rand_shape"] = x_rand.shape
    shape = (2, 3,)
    ones_tensor = torch.ones(shape)
    zeros_tensor = torch.zeros(shape)
    p(f"Ones Tensor: \n {ones_tensor} \n")
    p(f"Zeros Tensor: \n {zeros_tensor}")
    tensor = torch.ones(3, 4)
    p(f"Shape of tensor: {tensor.shape}")
    p(f"Datatype of tensor: {tensor.dtype}")
    p(f"Device tensor is stored on: {tensor.device}")
    tensor = torch.ones(4, 4)
    p(f"First row: {tensor[0]}")
    p(f"First column: {tensor[:, 0]}")
    p(f"Last column: {tensor[..., -1]}")
    tensor[:, 1] = 0
    p(tensor)
    t1 = torch.cat([tensor, tensor, tensor], dim=1)
    p(t1)
    r["t1"] = t1
    r["stack"] = torch.stack([tensor, tensor], dim=0)
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.rand_like(y1)
    torch.matmul(tensor, tensor.T, out=y3)
    r["y1"], r["y2"], r["y3"] = y1, y2, y3
    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    z3 = torch.rand_like(tensor)
    torch.mul(tensor, tensor, out=z3)
    r["z1"], r["z2"], r["z3"] = z1, z2, z3
    agg = tensor.sum()
    agg_item = agg.item()
    p(agg_item, type(agg_item))
    p(f"{tensor} \n")
    tensor.add_(5)
    p(tensor)
    t = torch.ones(5)
    p(f"t: {t}")
    n = t.numpy()
    p(f"n: {n}")
    t.add_(1)
    p(f"t: {t}")
    p(f"n: {n}")
    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
    p(f"t: {t}")
    p(f"n: {n}")
    r["x_np"], r["x_ones"] = x_np, x_ones
    return r


def tensors_more(torch, p):
    """Attributes, indexing, joining and the less common creation calls of the tensor
    tutorial and the 'Introduction to PyTorch Tensors' video tutorial."""
    r = {}
    x = torch.empty(3, 4)
    p(type(x))
    zeros = torch.zeros(2, 3)
    p(zeros)
    ones = torch.ones(2, 3)
    p(ones)
    torch.manual_seed(1729)
    random = torch.rand(2, 3)
    r["random_shape"] = random.shape
    some_constants = torch.tensor([[3.1415926, 2.71828], [1.61803, 0.0072897]])
    p(some_constants)
    some_integers = torch.tensor((2, 3, 5, 7, 11, 13, 17, 19))
    p(some_integers)
    more_integers = torch.tensor(((2, 4, 6), [3, 6, 9]))
    p(more_integers)
    a = torch.ones((2, 3), dtype=torch.int16)
    p(a)
    b = torch.rand((2, 3), dtype=torch.float64) * 20.
    c = b.to(torch.int32)
    r["c_dtype"] = c.dtype
    ones = torch.zeros(2, 2) + 1
    twos = torch.ones(2, 2) * 2
    threes = (torch.ones(2, 2) * 7 - 1) / 2
    fours = twos ** 2
    sqrt2s = twos ** 0.5
    p(ones)
    p(twos)
    p(threes)
    p(fours)
    p(sqrt2s)
    powers2 = twos ** torch.tensor([[1, 2], [3, 4]])
    p(powers2)
    fives = ones + fours
    p(fives)
    dozens = threes * fours
    p(dozens)
    rand = torch.rand(2, 4)
    doubled = rand * (torch.ones(1, 4) * 2)
    r["doubled"] = doubled / rand
    a = torch.ones(4, 3, 2)
    b = a * torch.rand(3, 2)
    c = a * torch.rand(3, 1)
    d = a * torch.rand(1, 2)
    r["bshapes"] = (b.shape, c.shape, d.shape)
    a = rnd(torch, 2, 4, seed=1) * 2 - 1
    p('Common functions:')
    p(torch.abs(a).shape)
    p(torch.ceil(a).dtype)
    r["floor"] = torch.floor(a)
    r["clamp"] = torch.clamp(a, -0.5, 0.5)
    angles = torch.tensor([0, np.pi / 4, np.pi / 2, 3 * np.pi / 4])
    sines = torch.sin(angles)
    inverses = torch.asin(sines)
    p('\nSine and arcsine:')
    p(angles)
    p(sines)
    p(inverses)
    p('\nBitwise XOR:')
    b = torch.tensor([1, 5, 11])
    c = torch.tensor([2, 7, 10])
    p(torch.bitwise_xor(b, c))
    p('\nBroadcasted, element-wise equality comparison:')
    d = torch.tensor([[1., 2.], [3., 4.]])
    e = torch.ones(1, 2)
    p(torch.eq(d, e))
    p('\nReduction ops:')
    p(torch.max(d))
    p(torch.max(d).item())
    p(torch.mean(d))
    p(torch.std(d))
    p(torch.prod(d))
    p(torch.unique(torch.tensor([1, 2, 1, 2, 1, 2])))
    v1 = torch.tensor([1., 0., 0.])
    v2 = torch.tensor([0., 1., 0.])
    m1 = rnd(torch, 2, 2, seed=2)
    m2 = torch.tensor([[3., 0.], [0., 3.]])
    p('\nVectors & Matrices:')
    p(torch.linalg.cross(v2, v1))
    m3 = torch.linalg.matmul(m1, m2)
    r["m3"] = m3 - m1 * 3
    r["svd_s"] = torch.linalg.svd(m3)[1]
    a = torch.tensor([0, np.pi / 4, np.pi / 2, 3 * np.pi / 4])
    p('a:')
    p(a)
    p(torch.sin(a))
    p(a)
    b = torch.tensor([0, np.pi / 4, np.pi / 2, 3 * np.pi / 4])
    p(torch.sin_(b))
    p(b)
    a = torch.ones(2, 2)
    b = torch.rand(2, 2)
    p(a.add_(b) is a)
    c = torch.zeros(2, 2)
    old_id = id(c)
    d = torch.matmul(a, b, out=c)
    p(id(c) == old_id, d is c)
    torch.rand(2, 2, out=c)
    p(id(c) == old_id)
    a = torch.ones(2, 2)
    b = a
    a[0][1] = 561
    p(b)
    a = torch.ones(2, 2)
    b = a.clone()
    p(torch.eq(a, b))
    a[0][1] = 561
    p(b)
    a = torch.rand(2, 2, requires_grad=True)
    b = a.clone()
    p(b.requires_grad, b.grad_fn is not None)
    c = a.detach().clone()
    p(c.requires_grad)
    a = torch.rand(3, 226, 226)
    b = a.unsqueeze(0)
    p(a.shape)
    p(b.shape)
    c = torch.rand(1, 1, 1, 1, 1)
    p(c.shape)
    a = torch.rand(1, 20)
    p(a.shape)
    b = a.squeeze(0)
    p(b.shape)
    c = torch.rand(2, 2)
    p(c.shape)
    d = c.squeeze(0)
    p(d.shape)
    a = torch.ones(4, 3, 2)
    c = a * torch.rand(3, 1)
    a = torch.ones(4, 3, 2)
    b = torch.rand(3)
    c = b.unsqueeze(1)
    p(c.shape)
    p((a * c).shape)
    batch_me = torch.rand(3, 226, 226)
    p(batch_me.shape)
    batch_me.unsqueeze_(0)
    p(batch_me.shape)
    output3d = torch.rand(6, 20, 20)
    p(output3d.shape)
    input1d = output3d.reshape(6 * 20 * 20)
    p(input1d.shape)
    p(torch.reshape(output3d, (6 * 20 * 20,)).shape)
    numpy_array = np.ones((2, 3))
    p(numpy_array)
    pytorch_tensor = torch.from_numpy(numpy_array)
    p(pytorch_tensor)
    numpy_array[1, 1] = 23
    p(pytorch_tensor)
    pytorch_rand = torch.rand(2, 3)
    numpy_rand = pytorch_rand.numpy()
    pytorch_rand[1, 1] = 17
    r["np_shared"] = float(numpy_rand[1, 1])
    x = torch.zeros(2, 1, 2, 1, 2)
    p(x.size(), x.dim(), x.numel(), x.ndim, x.is_leaf)
    y = torch.arange(12).view(3, 4)
    p(y[1:, ::2])
    p(y[y > 5])
    p(y[[0, 2], [1, 3]])
    p(y[:, None, 1].shape)
    p(torch.where(y > 5, y, -y))
    p(y.t().is_contiguous(), y.t().contiguous().is_contiguous())
    p(torch.arange(0, 1, 0.25), torch.linspace(-1, 1, 5))
    p(torch.eye(3), torch.full((2, 2), 7.), torch.zeros(2, dtype=torch.bool))
    p(torch.tensor(3.5), torch.tensor(True), torch.tensor([]))
    p(torch.tensor([1.5, float('nan'), float('inf')]))
    p(torch.tensor([1e-5, 1e5]), torch.tensor([123456789.0]))
    p(torch.tensor([[1, 2], [255, 4]], dtype=torch.uint8))
    p(torch.tensor([0.1, 0.2], dtype=torch.float64), torch.tensor([1., 2.], dtype=torch.half))
    p(torch.rand(2, 2, requires_grad=True).shape, torch.ones(2, requires_grad=True))
    p(torch.ones(2, requires_grad=True) * 2)
    p(torch.tensor([1, 2]).float().mean(), torch.arange(6.).view(2, 3).sum(dim=1))
    p(torch.chunk(torch.arange(5), 2), torch.split(torch.arange(5), 2))
    p(torch.tensor([[1, 2], [3, 4]]).T.flatten(), torch.arange(4).repeat(2))
    return r


# ------------------------------------------------- Learn the Basics: Datasets & DataLoaders

def _image_dataset_class(torch):
    Dataset = torch.utils.data.Dataset

    class CustomImageDataset(Dataset):
        """The tutorial's CustomImageDataset over an in-memory 'annotations file'."""

        def __init__(self, n=10, transform=None, target_transform=None):
            rng = np.random.default_rng(5)
            self.img_labels = [(f"img{i}.png", int(i % 3)) for i in range(n)]
            self.images = rng.integers(0, 256, (n, 1, 4, 4)).astype(np.uint8)
            self.transform = transform
            self.target_transform = target_transform

        def __len__(self):
            return len(self.img_labels)

        def __getitem__(self, idx):
            image = torch.from_numpy(self.images[idx])
            label = self.img_labels[idx][1]
            if self.transform:
                image = self.transform(image)
            if self.target_transform:
                label = self.target_transform(label)
            return image, label
    return CustomImageDataset


def datasets_dataloaders(torch, p):
    r = {}
    data = torch.utils.data
    CustomImageDataset = _image_dataset_class(torch)

    def to_tensor(img):                       # ToTensor: uint8 HWC-ish -> float in [0, 1]
        return img.float().div(255)

    def one_hot(y):                           # the tutorial's Lambda target transform
        return torch.zeros(3, dtype=torch.float).scatter_(0, torch.tensor(y), value=1)

    ds = CustomImageDataset(10, transform=to_tensor, target_transform=one_hot)
    p(len(ds))
    img, label = ds[4]
    p(img.shape, img.dtype, label)
    r["img4"] = img
    loader = data.DataLoader(ds, batch_size=4, shuffle=False)
    for i, (x, y) in enumerate(loader):
        p(i, x.shape, x.dtype, y.shape, y.dtype)
        r[f"batch{i}"] = (x, y)
    p(len(loader))
    loader = data.DataLoader(ds, batch_size=4, drop_last=True)
    p(len(loader), [b[0].shape for b in loader])
    plain = CustomImageDataset(6)
    train_features, train_labels = next(iter(data.DataLoader(plain, batch_size=3)))
    p(f"Feature batch shape: {train_features.size()}")
    p(f"Labels batch shape: {train_labels.size()}")
    p(train_labels, train_labels.dtype)
    img = train_features[0].squeeze()
    p(img.shape, train_labels[0].item())

    def collate(batch):
        xs, ys = zip(*batch)
        return torch.stack(xs).sum(dim=(1, 2, 3)), torch.tensor(ys)

    r["collated"] = list(data.DataLoader(plain, batch_size=2, collate_fn=collate))
    td = data.TensorDataset(torch.arange(10.).view(5, 2), torch.arange(5))
    p(len(td), td[1], td[1:3])
    seq = list(data.SequentialSampler(td))
    bs = list(data.BatchSampler(data.SequentialSampler(range(7)), batch_size=3, drop_last=False))
    bs2 = list(data.BatchSampler(range(7), batch_size=3, drop_last=True))
    p(seq, bs, bs2)
    g = torch.Generator().manual_seed(42)
    a, b = data.random_split(range(10), [7, 3], generator=g)
    p(len(a), len(b), type(a).__name__, sorted(list(a) + list(b)) == list(range(10)))
    a, b, c = data.random_split(range(10), [0.5, 0.3, 0.2])
    p(len(a), len(b), len(c))
    sub = data.Subset(td, [0, 2])
    p(len(sub), sub[1])
    cat = data.ConcatDataset([td, td])
    p(len(cat), cat[6])
    loader = data.DataLoader(td, batch_size=2, shuffle=True)
    seen = torch.cat([y for _, y in loader])
    p(sorted(seen.tolist()), len(loader))
    loader = data.DataLoader(td, batch_size=None)
    p([y for _, y in loader][:2])
    p(next(iter(data.DataLoader([(1, 2.0), (3, 4.0)], batch_size=2))))
    p(next(iter(data.DataLoader([{"a": 1, "b": [1.5, 2]}, {"a": 2, "b": [3.5, 4]}], batch_size=2))))
    p(next(iter(data.DataLoader([np.ones(2), np.zeros(2)], batch_size=2))))
    wrs = data.WeightedRandomSampler([0.0, 0.0, 1.0], 4, replacement=True)
    p(list(wrs), len(wrs))
    rs = data.RandomSampler(range(5))
    p(sorted(rs), len(rs))
    srs = data.SubsetRandomSampler([3, 1])
    p(sorted(srs), len(srs))
    return r


def transforms_callables(torch, p):
    """torchvision-style transforms written as plain callables, composed."""
    r = {}

    class Compose:
        def __init__(self, transforms):
            self.transforms = transforms

        def __call__(self, x):
            for t in self.transforms:
                x = t(x)
            return x

    class Normalize(torch.nn.Module):
        def __init__(self, mean, std):
            super().__init__()
            self.mean = torch.tensor(mean).view(-1, 1, 1)
            self.std = torch.tensor(std).view(-1, 1, 1)

        def forward(self, x):
            return (x - self.mean) / self.std

    class Lambda:
        def __init__(self, fn):
            self.fn = fn

        def __call__(self, x):
            return self.fn(x)

    img = torch.from_numpy(np.arange(2 * 3 * 3, dtype=np.uint8).reshape(3, 3, 2))
    t = Compose([Lambda(lambda a: a.permute(2, 0, 1).float().div(255)),
                 Normalize([0.5, 0.25], [0.5, 0.5]),
                 Lambda(lambda a: torch.flip(a, dims=[2]))])
    out = t(img)
    p(out.shape, out.dtype, out.is_contiguous())
    r["out"] = out
    target = Lambda(lambda y: torch.zeros(10, dtype=torch.float).scatter_(
        dim=0, index=torch.tensor(y), value=1))
    p(target(3))
    r["onehot"] = torch.nn.functional.one_hot(torch.tensor([0, 2]), num_classes=3)
    p(r["onehot"])
    return r


# ------------------------------------------------- Learn the Basics: model, autograd, loop

def _neural_network_class(torch):
    nn = torch.nn

    class NeuralNetwork(nn.Module):
        def __init__(self, side=6, hidden=16):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(side * side, hidden),
                nn.ReLU(),
                nn.Linear(hidden, hidden),
                nn.ReLU(),
                nn.Linear(hidden, 10),
            )

        def forward(self, x):
            x = self.flatten(x)
            logits = self.linear_relu_stack(x)
            return logits
    return NeuralNetwork


def load_weights(torch, model, seed=0):
    """Deterministic parameters (the two modules' init draws differ)."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for _, prm in model.named_parameters():
            prm.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(prm.shape)).astype(np.float32)))
    return model


def build_model(torch, p):
    r = {}
    nn = torch.nn
    device = "cuda" if torch.cuda.is_available() else "cpu"
    device = "cpu"
    p(f"Using {device} device")
    model = load_weights(torch, _neural_network_class(torch)().to(device))
    p(model)
    X = rnd(torch, 1, 6, 6, seed=3)
    logits = model(X)
    pred_probab = nn.Softmax(dim=1)(logits)
    y_pred = pred_probab.argmax(1)
    p(f"Predicted class: {y_pred}")
    r["logits"], r["probab"] = logits, pred_probab
    input_image = rnd(torch, 3, 6, 6, seed=4)
    p(input_image.size())
    flatten = nn.Flatten()
    flat_image = flatten(input_image)
    p(flat_image.size())
    layer1 = load_weights(torch, nn.Linear(in_features=36, out_features=20))
    hidden1 = layer1(flat_image)
    p(hidden1.size())
    p(f"Before ReLU: {hidden1.shape}\n\n")
    hidden1 = nn.ReLU()(hidden1)
    r["hidden1"] = hidden1
    seq_modules = nn.Sequential(flatten, layer1, nn.ReLU(), nn.Linear(20, 10))
    p(seq_modules)
    logits = seq_modules(input_image)
    softmax = nn.Softmax(dim=1)
    r["softmax_sum"] = softmax(logits).sum(1)
    p(f"Model structure: {model}\n\n")
    for name, param in model.named_parameters():
        p(f"Layer: {name} | Size: {param.size()} | Values : {param[:2]} \n")
    p([n for n, _ in model.named_modules()])
    p([type(m).__name__ for m in model.children()])
    p(sum(prm.numel() for prm in model.parameters() if prm.requires_grad))
    p(list(model.state_dict().keys()))
    p(model.linear_relu_stack[0], model.linear_relu_stack[-1], len(model.linear_relu_stack))
    p(nn.Flatten(0, 1)(torch.ones(2, 3, 4)).shape, nn.Unflatten(1, (2, 2))(torch.ones(3, 4)).shape)
    return r


def autograd_basics(torch, p):
    r = {}
    x = torch.ones(5)
    y = torch.zeros(3)
    w = torch.tensor(np.random.default_rng(7).standard_normal((5, 3)).astype(np.float32),
                     requires_grad=True)
    b = torch.tensor(np.random.default_rng(8).standard_normal(3).astype(np.float32),
                     requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    p(f"Gradient function for z = {z.grad_fn}".split(" object at")[0])
    p(f"Gradient function for loss = {loss.grad_fn}".split(" object at")[0])
    p(type(z.grad_fn).__name__, type(loss.grad_fn).__name__)
    loss.backward()
    r["w.grad"], r["b.grad"], r["loss"] = w.grad, b.grad, loss
    z = torch.matmul(x, w) + b
    p(z.requires_grad)
    with torch.no_grad():
        z = torch.matmul(x, w) + b
    p(z.requires_grad)
    z = torch.matmul(x, w) + b
    z_det = z.detach()
    p(z_det.requires_grad)
    inp = torch.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    out.backward(torch.ones_like(out), retain_graph=True)
    p(f"First call\n{inp.grad}")
    out.backward(torch.ones_like(out), retain_graph=True)
    p(f"\nSecond call\n{inp.grad}")
    inp.grad.zero_()
    out.backward(torch.ones_like(out), retain_graph=True)
    p(f"\nCall after zeroing gradients\n{inp.grad}")
    # the autograd blitz: requires_grad_, grad_fn chain, vector-Jacobian products
    a = torch.tensor([2., 3.], requires_grad=True)
    b = torch.tensor([6., 4.], requires_grad=True)
    Q = 3 * a ** 3 - b ** 2
    external_grad = torch.tensor([1., 1.])
    Q.backward(gradient=external_grad)
    p(9 * a ** 2 == a.grad)
    p(-2 * b == b.grad)
    p(a.grad, b.grad)
    x = torch.tensor([1., 2., 3.])
    p(x.requires_grad)
    x.requires_grad_()
    p(x.requires_grad, x.is_leaf)
    y = x * 2
    while y.data.norm() < 1000:
        y = y * 2
    p(y)
    p(type(y.grad_fn).__name__, y.is_leaf, y.requires_grad)
    v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
    y.backward(v)
    p(x.grad)
    p(x.requires_grad)
    p((x ** 2).requires_grad)
    with torch.no_grad():
        p((x ** 2).requires_grad)
    y = x.detach()
    p(y.requires_grad)
    p(x.eq(y).all())
    fn = (x * 3).sum().grad_fn
    p(type(fn).__name__, [type(f).__name__ if f is not None else None
                          for f, _ in fn.next_functions])
    leaf = torch.tensor([1.0, 2.0], requires_grad=True)
    out = (leaf * leaf).sum()
    g, = torch.autograd.grad(out, leaf, create_graph=True)
    p(g, g.requires_grad)
    g2, = torch.autograd.grad(g.sum(), leaf)
    p(g2)
    try:
        out.backward()
        out.backward()
    except RuntimeError as e:
        p("second backward:", str(e).split(".")[0])
    p(torch.is_grad_enabled())
    with torch.set_grad_enabled(False):
        p(torch.is_grad_enabled())
    @torch.no_grad()
    def f(t):
        return t * 2
    p(f(leaf).requires_grad)
    with torch.enable_grad():
        p((leaf * 2).requires_grad)
    with torch.inference_mode():
        p((leaf * 2).requires_grad)
    jvp = torch.autograd.functional.jvp(lambda t: t ** 2, torch.tensor([1., 2.]),
                                        torch.tensor([1., 1.]))
    vjp = torch.autograd.functional.vjp(lambda t: t ** 2, torch.tensor([1., 2.]),
                                        torch.tensor([1., 1.]))
    jac = torch.autograd.functional.jacobian(lambda t: t ** 2, torch.tensor([1., 2.]))
    hes = torch.autograd.functional.hessian(lambda t: (t ** 3).sum(), torch.tensor([1., 2.]))
    p(jvp, vjp, jac, hes)
    return r


def _fake_fashion(torch, n, seed):
    """FashionMNIST's stand-in: n 6x6 images whose class is set by a bright pixel."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = rng.uniform(0, 0.3, (n, 1, 6, 6)).astype(np.float32)
    x[np.arange(n), 0, y // 6 + 1, y % 6] += 1.0
    return torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))


def optimization_loop(torch, p):
    r = {}
    nn = torch.nn
    DataLoader = torch.utils.data.DataLoader
    training_data, test_data = _fake_fashion(torch, 64, 0), _fake_fashion(torch, 32, 1)
    train_dataloader = DataLoader(training_data, batch_size=16)
    test_dataloader = DataLoader(test_data, batch_size=16)
    model = load_weights(torch, _neural_network_class(torch)())
    learning_rate = 1e-1
    batch_size = 16
    epochs = 3
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)

    def train_loop(dataloader, model, loss_fn, optimizer):
        size = len(dataloader.dataset)
        model.train()
        for batch, (X, y) in enumerate(dataloader):
            pred = model(X)
            loss = loss_fn(pred, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if batch % 2 == 0:
                loss, current = loss.item(), batch * batch_size + len(X)
                p(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")

    def test_loop(dataloader, model, loss_fn):
        model.eval()
        size = len(dataloader.dataset)
        num_batches = len(dataloader)
        test_loss, correct = 0, 0
        with torch.no_grad():
            for X, y in dataloader:
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(torch.float).sum().item()
        test_loss /= num_batches
        correct /= size
        p(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
        return test_loss

    for t in range(epochs):
        p(f"Epoch {t+1}\n-------------------------------")
        train_loop(train_dataloader, model, loss_fn, optimizer)
        r[f"test_loss{t}"] = test_loop(test_dataloader, model, loss_fn)
    p("Done!")
    r["weights"] = [prm.detach() for prm in model.parameters()]
    return r


def _pickleable(cls, torch):
    """torch.save of a whole model pickles its class by name: give the class made for this
    `torch` a module-level name."""
    name = f"{cls.__name__}_{torch.__name__}"
    cls.__name__ = cls.__qualname__ = name
    cls.__module__ = __name__
    globals()[name] = cls
    return cls


def save_load(torch, p, tmpdir):
    import os
    r = {}
    Net = _pickleable(_neural_network_class(torch), torch)
    model = load_weights(torch, Net())
    path = os.path.join(tmpdir, "model_weights.pth")
    torch.save(model.state_dict(), path)
    model2 = Net()
    res = model2.load_state_dict(torch.load(path, weights_only=True))
    p(res)
    p(model2.eval())
    x = rnd(torch, 2, 6, 6, seed=9)
    r["same"] = model2(x) - model(x)
    path = os.path.join(tmpdir, "model.pth")
    torch.save(model, path)
    model3 = torch.load(path, weights_only=False)
    p(type(model3).__name__, model3.training)
    r["whole"] = model3(x)
    sd = torch.load(os.path.join(tmpdir, "model_weights.pth"), map_location="cpu")
    p(list(sd.keys()), type(sd).__name__)
    p(sd["linear_relu_stack.0.bias"].device, sd["linear_relu_stack.0.bias"].requires_grad)
    sd = torch.load(os.path.join(tmpdir, "model_weights.pth"), map_location=torch.device("cpu"))
    p(sd["linear_relu_stack.4.bias"].shape)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(x).sum().backward()
    opt.step()
    ckpt = os.path.join(tmpdir, "ckpt.tar")
    torch.save({"epoch": 5, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": opt.state_dict(), "loss": 0.25}, ckpt)
    checkpoint = torch.load(ckpt, weights_only=True)
    model4 = Net()
    opt4 = torch.optim.SGD(model4.parameters(), lr=0.5)
    model4.load_state_dict(checkpoint["model_state_dict"])
    opt4.load_state_dict(checkpoint["optimizer_state_dict"])
    p(checkpoint["epoch"], checkpoint["loss"], opt4.param_groups[0]["lr"],
      opt4.param_groups[0]["momentum"])
    p(sorted(opt4.state_dict()["state"].keys()))
    r["momentum0"] = opt4.state_dict()["state"][0]["momentum_buffer"]
    bad = {k: v for k, v in model.state_dict().items() if not k.endswith("4.bias")}
    bad["extra"] = torch.zeros(1)
    res = model4.load_state_dict(bad, strict=False)
    p(res.missing_keys, res.unexpected_keys)
    try:
        model4.load_state_dict(bad)
    except RuntimeError as e:
        p(str(e))
    t = torch.arange(4.)
    torch.save([t, t[1:]], os.path.join(tmpdir, "views.pt"))
    a, b = torch.load(os.path.join(tmpdir, "views.pt"))
    a[1] = 100
    p(b)
    return r
