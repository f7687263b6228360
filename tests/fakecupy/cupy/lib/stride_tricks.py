import cupy as _cupy


def as_strided(x, shape=None, strides=None):
    """As upstream CuPy: an ndarray over x.data with the given shape and strides."""
    shape = x.shape if shape is None else tuple(shape)
    strides = x.strides if strides is None else tuple(strides)
    return _cupy.ndarray(shape=shape, dtype=x.dtype, memptr=x.data, strides=strides)
