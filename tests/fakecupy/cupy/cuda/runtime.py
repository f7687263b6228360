from .. import _State, _ndev


class CUDARuntimeError(RuntimeError):
    pass


is_hip = False


def getDeviceCount():
    from .._emulate import install_hooks
    install_hooks()
    return _ndev()


def getDevice():
    return _State.current


def setDevice(i):
    if not 0 <= i < _ndev():
        raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
    _State.current = i


def deviceSynchronize():
    pass


def getDeviceProperties(i):
    if not 0 <= i < _ndev():
        raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
    return {"name": b"Fake NVIDIA H200", "major": 9, "minor": 0,
            "totalGlobalMem": 150754820096, "multiProcessorCount": 132}


def runtimeGetVersion():
    return 12040


def driverGetVersion():
    return 12040


def deviceCanAccessPeer(device, peerDevice):
    """1 between two distinct devices (the fake's have peer access), else 0."""
    n = getDeviceCount()
    if not (0 <= device < n and 0 <= peerDevice < n):
        raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
    return int(device != peerDevice)
