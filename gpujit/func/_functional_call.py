"""torch.func.functional_call: run a module with given tensors standing in for its
parameters and buffers (restored afterwards; gradients flow to the given tensors); and
stack_module_state, which stacks several same-class modules' state for vmap."""
from __future__ import annotations

__all__ = ["functional_call", "stack_module_state"]


def _owner(module, path):
    """(the submodule holding path's tensor, its name there), with the errors of
    PyTorch's NamedMemberAccessor."""
    from ..nn.module import Module
    *prefix, leaf = path.split(".")
    m = module
    for p in prefix:
        try:
            sub = getattr(m, p)
        except AttributeError as ex:
            raise AttributeError(f"{m._get_name()} has no attribute `{p}`") from ex
        if not isinstance(sub, Module):
            raise TypeError(f"{sub!r} is not an instance of torch.nn.Module")
        m = sub
    return m, leaf


def _swap(owner, leaf, value):
    """Put value at owner.<leaf> as a plain entry of the dict it lives in; the old entry."""
    from ..tensor import Tensor
    if value is not None and not isinstance(value, Tensor):
        raise TypeError(f"{value} is not an instance of torch.Tensor")
    d = owner.__dict__
    for kind in ("_parameters", "_buffers"):
        store = d.get(kind)
        if store is not None and leaf in store:
            old = store[leaf]
            store[leaf] = value        # in place (keeps the order named_parameters gives)
            return kind, old
    if isinstance(getattr(type(owner), leaf, None), property):
        # a parametrized tensor (parametrize's property): set through it, as PyTorch's
        # swap_tensor does (the parametrization's right_inverse writes its original)
        old = getattr(owner, leaf)
        setattr(owner, leaf, value)
        return "property", old
    had = leaf in d
    old = d.get(leaf)
    d[leaf] = value
    return ("attr" if had else "new"), old


def _restore(owner, leaf, kind, old):
    d = owner.__dict__
    if kind in ("_parameters", "_buffers"):
        d[kind][leaf] = old
        return
    if kind == "property":
        setattr(owner, leaf, old)
        return
    d.pop(leaf, None)
    if kind == "attr":
        d[leaf] = old


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """module(*args, **kwargs) with the tensors of `parameter_and_buffer_dicts` (a dict of
    dotted names, or a tuple/list of dicts with disjoint keys) in place of its own."""
    if isinstance(parameter_and_buffer_dicts, dict):
        merged = dict(parameter_and_buffer_dicts)
    elif isinstance(parameter_and_buffer_dicts, (list, tuple)):
        merged = {}
        seen = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                seen[k] = seen.get(k, 0) + 1
        dup = [k for k, n in seen.items() if n > 1]
        if dup:
            raise ValueError(f"{dup} appeared in multiple dictionaries; behavior of "
                             f"functional call is ambiguous")
        for d in parameter_and_buffer_dicts:
            merged.update(d)
    else:
        raise ValueError(f"Expected parameter_and_buffer_dicts to be a dict, or a list/tuple "
                         f"of dicts, but got {type(parameter_and_buffer_dicts)}")
    if tie_weights:
        # a tensor the module shares under several names (tied weights) is replaced under
        # all of them when one is given
        by_id = {}
        for n, t in list(module.named_parameters(remove_duplicate=False)) + \
                list(module.named_buffers(remove_duplicate=False)):
            by_id.setdefault(id(t), []).append(n)
        for names in by_id.values():
            given = [n for n in names if n in merged]
            if len({id(merged[n]) for n in given}) > 1:
                raise ValueError(f"functional_call got multiple values for keys "
                                 f"{sorted(names)}, which are tied. Consider using "
                                 f"tie_weights=False")
            if given:
                for n in names:
                    merged.setdefault(n, merged[given[0]])
    if strict:
        names = [n for n, _ in module.named_parameters(remove_duplicate=False)] + \
            [n for n, _ in module.named_buffers(remove_duplicate=False)]
        missing = [n for n in names if n not in merged]
        unexpected = [k for k in merged if k not in names]
        if missing or unexpected:
            msg = f"Error(s) in reparametrizing for {type(module).__name__}:"
            if unexpected:
                msg += "\n\tUnexpected key(s): " + ", ".join(f"'{k}'" for k in unexpected) + "."
            if missing:
                msg += "\n\tMissing key(s): " + ", ".join(f"'{k}'" for k in missing) + "."
            raise RuntimeError(msg)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    kwargs = {} if kwargs is None else kwargs
    swapped = []
    try:
        for name, value in merged.items():
            owner, leaf = _owner(module, name)
            kind, old = _swap(owner, leaf, value)
            swapped.append((name, owner, leaf, kind, old))
        return module(*args, **kwargs)
    finally:
        now = {name: _current(owner, leaf, kind) for name, owner, leaf, kind, _ in swapped}
        for _, owner, leaf, kind, old in reversed(swapped):
            _restore(owner, leaf, kind, old)
        if isinstance(parameter_and_buffer_dicts, dict):
            # what the module put in their place (self.foo = self.foo + 1) goes back into
            # the caller's dict, as PyTorch's (a tuple of dicts is merged into a new one)
            for k in parameter_and_buffer_dicts:
                if k in now:
                    parameter_and_buffer_dicts[k] = now[k]


def _current(owner, leaf, kind):
    d = owner.__dict__
    if kind in ("_parameters", "_buffers"):
        return d[kind].get(leaf)
    if kind == "property":
        return getattr(owner, leaf)
    return d.get(leaf)


def _stacked_leaf(tensors, name):
    from .. import stack
    grads = [t.requires_grad for t in tensors]
    if any(grads) and not all(grads):
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    result = stack(tensors)
    # a new leaf, unrelated to the models' own parameters (optimizable as PyTorch's)
    return result.detach().requires_grad_() if all(grads) else result


def stack_module_state(models):
    """(params, buffers): dicts by dotted name of the models' parameters and buffers,
    stacked along a new first dimension (one entry per model), for
    vmap(functional_call(...)) over an ensemble."""
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    typ = type(models[0])
    if not all(type(m) is typ for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    params = {k: _stacked_leaf(tuple(p[k] for p in all_params), k) for k in all_params[0]}
    all_buffers = [dict(m.named_buffers()) for m in models]
    buffers = {k: _stacked_leaf(tuple(b[k] for b in all_buffers), k) for k in all_buffers[0]}
    return params, buffers
