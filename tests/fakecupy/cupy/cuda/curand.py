CURAND_RNG_PSEUDO_DEFAULT = 100
CURAND_RNG_PSEUDO_XORWOW = 101
CURAND_RNG_PSEUDO_MRG32K3A = 121
CURAND_RNG_PSEUDO_MTGP32 = 141
CURAND_RNG_PSEUDO_PHILOX4_32_10 = 161


def setGeneratorOffset(generator, offset):
    if not isinstance(generator, int):
        raise TypeError(f"setGeneratorOffset: generator must be the handle (int), "
                        f"not {type(generator)}")
    from ..random import _GENERATORS
    _GENERATORS[generator]._set_offset(int(offset))


def setPseudoRandomGeneratorSeed(generator, seed):
    from ..random import _GENERATORS
    _GENERATORS[generator]._seed = int(seed)
