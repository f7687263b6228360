"""gpujit.nn.functional: bound from the op registry (ops declared with functional=True) by
`gpujit/__init__.py`; the few pure-Python compositions PyTorch has here live below."""
