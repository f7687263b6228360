"""gpujit.jit.save of scripted code calling different functions with the same name
(utils_a.normalize and utils_b.normalize): each distinct function gets a name of its own in
the archive (its bare name when free, else `<name>_<k>`), the call sites print it, and the
loaded module runs, gives the same values and saves again identically."""
import io
import zipfile

import numpy as np

import gpujit as torch

FORMAT = "gpujit"          # (the names gpujit's own format gives; PyTorch's: test_lead_s46.py)


def _make_a():
    def normalize(x):
        return x / x.sum()
    return normalize


def _make_b():
    def normalize(x):
        return x - x.mean()
    return normalize


def _make_same():               # the body of _make_a's, a separate function object
    def normalize(x):
        return x / x.sum()
    return normalize


norm_a, norm_b, norm_same = _make_a(), _make_b(), _make_same()


def normalize_1(x):             # a real function with the name a mangled one would take
    return x * 3.0


def _make_inner(k):
    if k == 0:
        def inner(x):
            return x + 1.0
    else:
        def inner(x):
            return x * 2.0
    return inner


inner_a, inner_b = _make_inner(0), _make_inner(1)


def _make_outer(k):             # same source, different `inner`: different functions
    inner = inner_a if k == 0 else inner_b

    def outer(x):
        return inner(x) - 0.5
    return outer


outer_a, outer_b = _make_outer(0), _make_outer(1)


def _save(m):
    buf = io.BytesIO()
    torch.jit.save(m, buf, format=FORMAT)
    return buf.getvalue()


def _entries(data):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def _functions_code(data):
    e = _entries(data)
    return e.get("archive/code/__functions__.py", b"").decode()


def _roundtrip(m):
    """The loaded module, after checking that saving it again gives the same archive."""
    data = _save(m)
    loaded = torch.jit.load(io.BytesIO(data))
    if FORMAT == "gpujit":
        assert _entries(_save(loaded)) == _entries(data)
    return loaded, data


X = np.array([1.0, 2.0, 5.0], dtype=np.float32)
Y = np.array([3.0, -1.0, 4.0], dtype=np.float32)


def _t(a):
    return torch.tensor(a)


class TwoModules(torch.nn.Module):
    def forward(self, x, y):
        return norm_a(x) + norm_b(y)


def _expected_two(x, y):
    return x / x.sum() + (y - y.mean())


def test_two_functions_same_name_save_load():
    m = torch.jit.script(TwoModules())
    loaded, data = _roundtrip(m)
    out = loaded(_t(X), _t(Y)).numpy()
    np.testing.assert_allclose(out, _expected_two(X, Y), rtol=1e-6)
    np.testing.assert_allclose(out, m(_t(X), _t(Y)).numpy(), rtol=1e-6)
    code = _functions_code(data)
    assert code.count("def normalize(") == 1 and code.count("def normalize_1(") == 1
    assert "normalize(x, )" in loaded.code and "normalize_1(y, )" in loaded.code


def test_no_clash_keeps_bare_names():
    class One(torch.nn.Module):
        def forward(self, x):
            return norm_a(x) * 2.0
    data = _save(torch.jit.script(One()))
    code = _functions_code(data)
    assert "def normalize(" in code and "normalize_1" not in code
    loaded = torch.jit.load(io.BytesIO(data))
    assert "normalize(x, )" in loaded.code
    np.testing.assert_allclose(loaded(_t(X)).numpy(), X / X.sum() * 2, rtol=1e-6)


def test_same_function_called_twice_written_once():
    class Twice(torch.nn.Module):
        def forward(self, x, y):
            return norm_a(x) + norm_a(y) + norm_same(x)
    data = _save(torch.jit.script(Twice()))
    code = _functions_code(data)
    # norm_same has norm_a's code under the same name: one entry serves both
    assert code.count("def normalize") == 1
    loaded, _ = _roundtrip(torch.jit.script(Twice()))
    np.testing.assert_allclose(loaded(_t(X), _t(Y)).numpy(),
                               2 * X / X.sum() + Y / Y.sum(), rtol=1e-6)


def test_mangled_name_does_not_take_a_real_functions_name():
    class Three(torch.nn.Module):
        def forward(self, x):
            return norm_a(x) + norm_b(x) + normalize_1(x, )
    m = torch.jit.script(Three())
    loaded, data = _roundtrip(m)
    code = _functions_code(data)
    # names go first come, first served: norm_b took normalize_1, so the real normalize_1
    # (seen later) is written as normalize_1_1
    assert [n for n in ("normalize", "normalize_1", "normalize_1_1")
            if f"def {n}(" in code] == ["normalize", "normalize_1", "normalize_1_1"]
    assert "normalize_1_1(x, )" in loaded.code
    np.testing.assert_allclose(loaded(_t(X)).numpy(),
                               X / X.sum() + (X - X.mean()) + 3 * X, rtol=1e-6)


def test_clash_at_different_depths():
    def top(x):
        return outer_a(x) + inner_b(x)

    class Deep(torch.nn.Module):
        def forward(self, x):
            return top(x) + outer_b(x)
    m = torch.jit.script(Deep())
    loaded, data = _roundtrip(m)
    code = _functions_code(data)
    assert code.count("def inner") == 2 and code.count("def outer") == 2
    expect = ((X + 1) - 0.5 + X * 2) + (X * 2 - 0.5)
    np.testing.assert_allclose(loaded(_t(X)).numpy(), expect, rtol=1e-6)
    np.testing.assert_allclose(m(_t(X)).numpy(), expect, rtol=1e-6)


def test_same_source_callers_of_different_callees_stay_apart():
    class Outers(torch.nn.Module):
        def forward(self, x):
            return outer_a(x) * outer_b(x)
    loaded, data = _roundtrip(torch.jit.script(Outers()))
    code = _functions_code(data)
    assert "def outer(" in code and "def outer_1(" in code
    assert "inner_1(x, )" in code
    np.testing.assert_allclose(loaded(_t(X)).numpy(), (X + 0.5) * (X * 2 - 0.5),
                               rtol=1e-6)


def test_method_and_free_function_with_the_same_name():
    class WithMethod(torch.nn.Module):
        def forward(self, x):
            return self.normalize(x, ) + norm_a(x) + norm_b(x)

        @torch.jit.export
        def normalize(self, x):
            return x * 10.0
    m = torch.jit.script(WithMethod())
    loaded, _ = _roundtrip(m)
    expect = X * 10 + X / X.sum() + (X - X.mean())
    np.testing.assert_allclose(loaded(_t(X)).numpy(), expect, rtol=1e-6)
    np.testing.assert_allclose(loaded.normalize(_t(X)).numpy(), X * 10, rtol=1e-6)


def test_clash_across_submodules_methods():
    class A(torch.nn.Module):
        def forward(self, x):
            return norm_a(x)

    class B(torch.nn.Module):
        def forward(self, x):
            return norm_b(x)

        @torch.jit.export
        def other(self, x):
            return outer_b(x)

    class Top(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = A(), B()

        def forward(self, x):
            return self.a(x) + self.b(x) + self.b.other(x) + outer_a(x)
    m = torch.jit.script(Top())
    loaded, _ = _roundtrip(m)
    expect = X / X.sum() + (X - X.mean()) + (X * 2 - 0.5) + (X + 0.5)
    np.testing.assert_allclose(loaded(_t(X)).numpy(), expect, rtol=1e-6)
    assert "normalize_1(x, )" in loaded.b.code or "normalize_1(x, )" in loaded.a.code


def test_script_function_with_clash():
    def both(x, y):
        return norm_a(x) + norm_b(y)
    f = torch.jit.script(both)
    loaded, data = _roundtrip(f)
    np.testing.assert_allclose(loaded(_t(X), _t(Y)).numpy(), _expected_two(X, Y),
                               rtol=1e-6)
    assert "normalize_1(y, )" in loaded.code


def test_hinge_embedding_loss_torch_and_functional():
    import gpujit.nn.functional as F

    class H(torch.nn.Module):
        def forward(self, x, y):
            return torch.hinge_embedding_loss(x, y) + F.hinge_embedding_loss(x, y,
                                                                             margin=0.5)
    m = torch.jit.script(H())
    loaded, _ = _roundtrip(m)
    lab = np.array([1.0, -1.0, 1.0], dtype=np.float32)

    def ref(margin):
        return np.where(lab == 1, X, np.maximum(0, margin - X)).mean()
    np.testing.assert_allclose(loaded(_t(X), _t(lab)).item(), ref(1.0) + ref(0.5),
                               rtol=1e-6)


@torch.jit.script
class _Scaler:
    def __init__(self, k: float):
        self.k = k

    def apply(self, x):
        return norm_b(x) * self.k + outer_b(x)


def test_clash_between_script_class_method_and_module():
    class UsesClass(torch.nn.Module):
        def forward(self, x):
            s = _Scaler(2.0)
            return s.apply(x) + norm_a(x) + outer_a(x)
    m = torch.jit.script(UsesClass())
    loaded, data = _roundtrip(m)
    expect = (X - X.mean()) * 2 + (X * 2 - 0.5) + X / X.sum() + (X + 0.5)
    np.testing.assert_allclose(loaded(_t(X)).numpy(), expect, rtol=1e-6)
    np.testing.assert_allclose(m(_t(X)).numpy(), expect, rtol=1e-6)


def test_function_table_literal_order_and_names():
    class Nested(torch.nn.Module):
        def forward(self, x):
            return outer_a(x) + outer_b(x)
    code = _functions_code(_save(torch.jit.script(Nested())))
    # each function before the ones it calls (first seen first), as before
    assert code == (
        "def outer(x: Tensor) -> Tensor:\n"
        "  return torch.sub(inner(x, ), 0.5)\n\n"
        "def inner(x: Tensor) -> Tensor:\n"
        "  return torch.add(x, 1.)\n\n"
        "def outer_1(x: Tensor) -> Tensor:\n"
        "  return torch.sub(inner_1(x, ), 0.5)\n\n"
        "def inner_1(x: Tensor) -> Tensor:\n"
        "  return torch.mul(x, 2.)\n")
