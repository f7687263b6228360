"""The tutorials' programs, continued (see tutorial_programs.py): "What is torch.nn
really?", "Extending PyTorch" / autograd mechanics and "Learning PyTorch with Examples"."""
from __future__ import annotations

import numpy as np

from tutorial_programs import load_weights


# ------------------------------------------------------- What is torch.nn really?

def _mnist_like(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = rng.uniform(0, 0.2, (n, 64)).astype(np.float32)
    x[np.arange(n), y * 6 + 2] += 1.0          # one bright pixel per class
    return x, y


def nn_really(torch, p):
    import math
    r = {}
    F = torch.nn.functional
    nn = torch.nn
    optim = torch.optim
    TensorDataset = torch.utils.data.TensorDataset
    DataLoader = torch.utils.data.DataLoader
    xt, yt = _mnist_like(96, 0)
    xv, yv = _mnist_like(48, 1)
    x_train, y_train, x_valid, y_valid = map(torch.tensor, (xt, yt, xv, yv))
    n, c = x_train.shape
    p(x_train, y_train)
    p(x_train.shape)
    p(y_train.min(), y_train.max())
    rng = np.random.default_rng(3)
    weights = torch.tensor(rng.standard_normal((64, 10)).astype(np.float32)) / math.sqrt(64)
    weights.requires_grad_()
    bias = torch.zeros(10, requires_grad=True)

    def log_softmax(x):
        return x - x.exp().sum(-1).log().unsqueeze(-1)

    def model(xb):
        return log_softmax(xb @ weights + bias)

    bs = 16
    xb = x_train[0:bs]
    preds = model(xb)
    p(preds[0], preds.shape)

    def nll(input, target):
        return -input[range(target.shape[0]), target].mean()

    loss_func = nll
    yb = y_train[0:bs]
    p(loss_func(preds, yb))

    def accuracy(out, yb):
        preds = torch.argmax(out, dim=1)
        return (preds == yb).float().mean()

    p(accuracy(preds, yb))
    lr = 0.5
    epochs = 2
    for epoch in range(epochs):
        for i in range((n - 1) // bs + 1):
            start_i = i * bs
            end_i = start_i + bs
            xb = x_train[start_i:end_i]
            yb = y_train[start_i:end_i]
            pred = model(xb)
            loss = loss_func(pred, yb)
            loss.backward()
            with torch.no_grad():
                weights -= weights.grad * lr
                bias -= bias.grad * lr
                weights.grad.zero_()
                bias.grad.zero_()
    p(loss_func(model(xb), yb), accuracy(model(xb), yb))
    r["manual_w"] = weights.detach()
    loss_func = F.cross_entropy

    def model(xb):
        return xb @ weights + bias

    p(loss_func(model(xb), yb), accuracy(model(xb), yb))

    class Mnist_Logistic(nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = nn.Parameter(torch.tensor(
                np.random.default_rng(3).standard_normal((64, 10)).astype(np.float32)) / math.sqrt(64))
            self.bias = nn.Parameter(torch.zeros(10))

        def forward(self, xb):
            return xb @ self.weights + self.bias

    model = Mnist_Logistic()
    p(loss_func(model(xb), yb))

    def fit():
        for epoch in range(epochs):
            for i in range((n - 1) // bs + 1):
                start_i = i * bs
                end_i = start_i + bs
                xb = x_train[start_i:end_i]
                yb = y_train[start_i:end_i]
                pred = model(xb)
                loss = loss_func(pred, yb)
                loss.backward()
                with torch.no_grad():
                    for prm in model.parameters():
                        prm -= prm.grad * lr
                    model.zero_grad()

    fit()
    p(loss_func(model(xb), yb))
    r["module_w"] = model.weights.detach()

    class Mnist_Logistic2(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(64, 10)

        def forward(self, xb):
            return self.lin(xb)

    def get_model():
        m = load_weights(torch, Mnist_Logistic2())
        return m, optim.SGD(m.parameters(), lr=lr)

    model, opt = get_model()
    p(loss_func(model(xb), yb))
    train_ds = TensorDataset(x_train, y_train)
    for epoch in range(epochs):
        for i in range((n - 1) // bs + 1):
            xb, yb = train_ds[i * bs: i * bs + bs]
            pred = model(xb)
            loss = loss_func(pred, yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
    p(loss_func(model(xb), yb))
    r["linear_w"] = model.lin.weight.detach()
    valid_ds = TensorDataset(x_valid, y_valid)

    def get_data(train_ds, valid_ds, bs):
        return (DataLoader(train_ds, batch_size=bs, shuffle=False),
                DataLoader(valid_ds, batch_size=bs * 2))

    def loss_batch(model, loss_func, xb, yb, opt=None):
        loss = loss_func(model(xb), yb)
        if opt is not None:
            loss.backward()
            opt.step()
            opt.zero_grad()
        return loss.item(), len(xb)

    def fit2(epochs, model, loss_func, opt, train_dl, valid_dl):
        for epoch in range(epochs):
            model.train()
            for xb, yb in train_dl:
                loss_batch(model, loss_func, xb, yb, opt)
            model.eval()
            with torch.no_grad():
                losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
            val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)
            p(epoch, f"{val_loss:.5f}")
        return val_loss

    train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
    model, opt = get_model()
    r["fit_logistic"] = fit2(epochs, model, loss_func, opt, train_dl, valid_dl)

    class Mnist_CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, kernel_size=3, stride=2, padding=1)
            self.conv2 = nn.Conv2d(4, 4, kernel_size=3, stride=2, padding=1)
            self.conv3 = nn.Conv2d(4, 10, kernel_size=3, stride=2, padding=1)

        def forward(self, xb):
            xb = xb.view(-1, 1, 8, 8)
            xb = F.relu(self.conv1(xb))
            xb = F.relu(self.conv2(xb))
            xb = F.relu(self.conv3(xb))
            xb = F.avg_pool2d(xb, 1)
            return xb.view(-1, xb.size(1))

    lr = 0.1
    model = load_weights(torch, Mnist_CNN())
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    r["fit_cnn"] = fit2(epochs, model, loss_func, opt, train_dl, valid_dl)

    class Lambda(nn.Module):
        def __init__(self, func):
            super().__init__()
            self.func = func

        def forward(self, x):
            return self.func(x)

    def preprocess(x):
        return x.view(-1, 1, 8, 8)

    model = nn.Sequential(
        Lambda(preprocess),
        nn.Conv2d(1, 4, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 4, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 10, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        Lambda(lambda x: x.view(x.size(0), -1)),
    )
    p(model)
    load_weights(torch, model)
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    r["fit_seq"] = fit2(epochs, model, loss_func, opt, train_dl, valid_dl)

    class WrappedDataLoader:
        def __init__(self, dl, func):
            self.dl = dl
            self.func = func

        def __len__(self):
            return len(self.dl)

        def __iter__(self):
            for b in self.dl:
                yield (self.func(*b))

    def preprocess2(x, y):
        return x.view(-1, 1, 8, 8), y

    train_dl2 = WrappedDataLoader(train_dl, preprocess2)
    valid_dl2 = WrappedDataLoader(valid_dl, preprocess2)
    model = nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(4, 10, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), Lambda(lambda x: x.view(x.size(0), -1)))
    load_weights(torch, model)
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    r["fit_wrapped"] = fit2(epochs, model, loss_func, opt, train_dl2, valid_dl2)
    r["seq_params"] = [prm.detach() for prm in model.parameters()]
    return r


# ------------------------------------------- Autograd mechanics / Extending PyTorch

def extending_autograd(torch, p):
    r = {}
    Function = torch.autograd.Function

    class LinearFunction(Function):
        @staticmethod
        def forward(ctx, input, weight, bias=None):
            ctx.save_for_backward(input, weight, bias)
            output = input.mm(weight.t())
            if bias is not None:
                output += bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_weight = grad_bias = None
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t().mm(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

    class MulConstant(Function):
        @staticmethod
        def forward(tensor, constant):
            return tensor * constant

        @staticmethod
        def setup_context(ctx, inputs, output):
            tensor, constant = inputs
            ctx.constant = constant

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.constant, None

    class MyCube(Function):
        @staticmethod
        def forward(x):
            result = x ** 3
            dx = 3 * x ** 2
            return result, dx

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, = inputs
            result, dx = output
            ctx.save_for_backward(x, dx)

        @staticmethod
        def backward(ctx, grad_output, grad_dx):
            x, dx = ctx.saved_tensors
            result = grad_output * dx + grad_dx * 6 * x
            return result

    class Sort(Function):
        @staticmethod
        def forward(ctx, x):
            out, idx = x.sort()
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            return out, idx

        @staticmethod
        def backward(ctx, g1, g2):
            idx, = ctx.saved_tensors
            grad_input = torch.zeros_like(g1)
            grad_input.index_add_(0, idx, g1)
            return grad_input

    class SimpleFunc(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            ctx.save_for_backward(x)
            return x.clone(), x.clone()

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, g1, g2):
            x, = ctx.saved_tensors
            grad_input = torch.zeros_like(x)
            if g1 is not None:
                grad_input += g1
            if g2 is not None:
                grad_input += g2
            return grad_input

    class MyExp(Function):
        @staticmethod
        def forward(ctx, i):
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            result, = ctx.saved_tensors
            return grad_output * result

    class MyLinear(torch.nn.Module):
        def __init__(self, input_features, output_features, bias=True):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.empty(output_features, input_features))
            if bias:
                self.bias = torch.nn.Parameter(torch.empty(output_features))
            else:
                self.register_parameter('bias', None)
            self.weight.data.uniform_(-0.1, 0.1)
            if self.bias is not None:
                self.bias.data.uniform_(-0.1, 0.1)

        def forward(self, input):
            return LinearFunction.apply(input, self.weight, self.bias)

        def extra_repr(self):
            return 'input_features={}, output_features={}, bias={}'.format(
                self.weight.size(1), self.weight.size(0), self.bias is not None)

    d = dict(dtype=torch.double)
    rng = np.random.default_rng(11)
    inp = (torch.tensor(rng.standard_normal((4, 3)), requires_grad=True),
           torch.tensor(rng.standard_normal((2, 3)), requires_grad=True))
    p(torch.autograd.gradcheck(LinearFunction.apply, inp, eps=1e-6, atol=1e-4))
    x = torch.tensor(rng.standard_normal(3), requires_grad=True)
    y = MulConstant.apply(x, 2.5)
    p(y.grad_fn.name() == type(y.grad_fn).__name__, type(y.grad_fn).__name__)
    y.sum().backward()
    r["mulc"] = x.grad
    x = torch.tensor([1., 2., 3.], **d, requires_grad=True)
    res, dx = MyCube.apply(x)
    p(res, dx)
    g, = torch.autograd.grad(res.sum(), x, create_graph=True)
    gg, = torch.autograd.grad(g.sum(), x)
    r["cube_g"], r["cube_gg"] = g, gg
    p(torch.autograd.gradgradcheck(lambda t: MyCube.apply(t)[0], (x,)))
    x = torch.tensor([3., 1., 2.], requires_grad=True)
    out, idx = Sort.apply(x)
    p(out, idx, idx.requires_grad, out.requires_grad)
    (out * torch.tensor([1., 10., 100.])).sum().backward()
    r["sort_grad"] = x.grad
    x = torch.tensor([1., 2.], requires_grad=True)
    a, b = SimpleFunc.apply(x)
    a.sum().backward()
    p(x.grad)
    y = MyExp.apply(x)
    p(y)
    y.backward(torch.ones(2))
    r["exp_grad"] = x.grad
    lin = MyLinear(3, 2)
    p(lin)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.1, 0.2, 0.3], [-0.1, 0.0, 0.5]]))
        lin.bias.copy_(torch.tensor([0.5, -0.5]))
    z = lin(torch.tensor([[1., 2., 3.]]))
    p(z)
    z.sum().backward()
    r["lin_w_grad"] = lin.weight.grad
    # hooks: tensors and modules
    v = torch.tensor([0., 0., 0.], requires_grad=True)
    h = v.register_hook(lambda grad: grad * 2)
    v.backward(torch.tensor([1., 2., 3.]))
    p(v.grad)
    h.remove()
    seen = []
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())
    load_weights(torch, net)
    fh = net[0].register_forward_hook(lambda m, i, o: seen.append(("fwd", type(m).__name__,
                                                                   tuple(o.shape))))
    ph = net[0].register_forward_pre_hook(lambda m, i: seen.append(("pre", len(i))))
    out = net(torch.ones(4, 3))
    out.sum().backward()
    p(seen)
    fh.remove(), ph.remove()
    seen.clear()
    net(torch.ones(1, 3))
    p(seen)
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    z = (y * y).sum()
    z.backward()
    p(y.grad, x.grad, y.is_leaf)
    return r


# --------------------------------------------------- Learning PyTorch with Examples

def examples_polynomial(torch, p):
    import math
    r = {}
    dtype = torch.float
    x = torch.linspace(-math.pi, math.pi, 200, dtype=dtype)
    y = torch.sin(x)
    coef = [torch.tensor(v, dtype=dtype) for v in (0.1, -0.2, 0.05, 0.01)]
    a, b, c, d = [t.clone() for t in coef]
    learning_rate = 1e-6
    for t in range(300):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum().item()
        if t % 100 == 99:
            p(t, f"{loss:.4f}")
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x ** 2).sum()
        grad_d = (grad_y_pred * x ** 3).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    p(f'Result: y = {a.item():.4f} + {b.item():.4f} x + {c.item():.4f} x^2 + {d.item():.4f} x^3')
    r["manual"] = [a, b, c, d]
    a, b, c, d = [t.clone().requires_grad_() for t in coef]
    for t in range(300):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            p(t, f"{loss.item():.4f}")
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    r["autograd"] = [a, b, c, d]

    class LegendrePolynomial3(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
    learning_rate = 5e-6
    for t in range(300):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            for prm in (a, b, c, d):
                prm -= learning_rate * prm.grad
                prm.grad = None
    p(f'Result: y = {a.item():.4f} + {b.item():.4f} * P3({c.item():.4f} + {d.item():.4f} x)')
    r["legendre"] = [a, b, c, d]
    pw = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(pw)
    p(xx.shape)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    load_weights(torch, model)
    loss_fn = torch.nn.MSELoss(reduction='sum')
    learning_rate = 1e-6
    for t in range(200):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        if t % 100 == 99:
            p(t, f"{loss.item():.3f}")
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad
    linear_layer = model[0]
    p(f'Result: y = {linear_layer.bias.item():.4f} + {linear_layer.weight[:, 0].item():.4f} x '
      f'+ {linear_layer.weight[:, 1].item():.4f} x^2 + {linear_layer.weight[:, 2].item():.4f} x^3')
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    load_weights(torch, model)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    for t in range(200):
        loss = loss_fn(model(xx), y)
        if t % 100 == 99:
            p(t, f"{loss.item():.3f}")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    r["rmsprop"] = [prm.detach() for prm in model.parameters()]

    class Polynomial3(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Parameter(torch.tensor(0.1))
            self.b = torch.nn.Parameter(torch.tensor(-0.2))
            self.c = torch.nn.Parameter(torch.tensor(0.05))
            self.d = torch.nn.Parameter(torch.tensor(0.01))

        def forward(self, x):
            return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

        def string(self):
            return (f'y = {self.a.item():.4f} + {self.b.item():.4f} x + {self.c.item():.4f} '
                    f'x^2 + {self.d.item():.4f} x^3')

    model = Polynomial3()
    criterion = torch.nn.MSELoss(reduction='sum')
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
    for t in range(300):
        loss = criterion(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    p(f'Result: {model.string()}')
    p(list(model.named_parameters())[0])
    r["module"] = [prm.detach() for prm in model.parameters()]

    class DynamicNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Parameter(torch.tensor(0.1))
            self.b = torch.nn.Parameter(torch.tensor(-0.2))
            self.c = torch.nn.Parameter(torch.tensor(0.05))
            self.d = torch.nn.Parameter(torch.tensor(0.01))
            self.e = torch.nn.Parameter(torch.tensor(0.001))

        def forward(self, x, n_extra):
            y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
            for exp in range(4, n_extra + 4):
                y = y + self.e * x ** exp
            return y

    model = DynamicNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
    for t in range(60):
        loss = criterion(model(x, t % 3), y)
        if t % 20 == 19:
            p(t, f"{loss.item():.3f}")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    r["dynamic"] = [prm.detach() for prm in model.parameters()]
    return r
