"""The few CUDA driver calls TensorRT inference needs, through ctypes (no extra package).

``libcuda.so.1`` comes with every NVIDIA driver, JetPack included, so the edge needs neither
PyTorch nor cuda-python to name its GPU or to move tensors to and from an engine. Every call
is checked; a failure is a :class:`ModelError` naming the call and the driver's error name.
"""

from __future__ import annotations

import ctypes
from functools import cache, lru_cache

import numpy as np

from edge.errors import ModelError

_ATTRIBUTE_CC_MAJOR = 75  # CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
_ATTRIBUTE_CC_MINOR = 76  # CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR
_LIBRARY = "libcuda.so.1"


@lru_cache(maxsize=1)
def _driver() -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL(_LIBRARY)
    except OSError:
        raise ModelError(_LIBRARY, "no NVIDIA driver on this machine (the CUDA driver library is missing)") from None
    _check(lib, "cuInit", ctypes.c_uint(0))
    return lib


def _check(lib: ctypes.CDLL, name: str, *args: object) -> None:
    function = getattr(lib, name)
    status = function(*args)
    if status != 0:
        text = ctypes.c_char_p()
        lib.cuGetErrorName(status, ctypes.byref(text))
        label = text.value.decode() if text.value else f"error {status}"
        raise ModelError(_LIBRARY, f"{name} failed: {label}")


def driver_available() -> bool:
    try:
        _driver()
    except ModelError:
        return False
    return True


@cache
def device_identity(ordinal: int = 0) -> tuple[str, str]:
    """(GPU name, compute capability "major.minor") of device ``ordinal``."""
    lib = _driver()
    device = ctypes.c_int()
    _check(lib, "cuDeviceGet", ctypes.byref(device), ctypes.c_int(ordinal))
    name = ctypes.create_string_buffer(256)
    _check(lib, "cuDeviceGetName", name, ctypes.c_int(len(name)), device)
    major, minor = ctypes.c_int(), ctypes.c_int()
    _check(lib, "cuDeviceGetAttribute", ctypes.byref(major), ctypes.c_int(_ATTRIBUTE_CC_MAJOR), device)
    _check(lib, "cuDeviceGetAttribute", ctypes.byref(minor), ctypes.c_int(_ATTRIBUTE_CC_MINOR), device)
    return name.value.decode(errors="replace").strip(), f"{major.value}.{minor.value}"


class CudaContext:
    """The device's primary context (the one the CUDA runtime, hence TensorRT, also uses)."""

    def __init__(self, ordinal: int = 0) -> None:
        self._lib = _driver()
        device = ctypes.c_int()
        _check(self._lib, "cuDeviceGet", ctypes.byref(device), ctypes.c_int(ordinal))
        self._device = device
        self.handle = ctypes.c_void_p()
        _check(self._lib, "cuDevicePrimaryCtxRetain", ctypes.byref(self.handle), device)
        self.make_current()

    def make_current(self) -> None:
        _check(self._lib, "cuCtxSetCurrent", self.handle)

    def close(self) -> None:
        if self.handle:
            _check(self._lib, "cuDevicePrimaryCtxRelease_v2", self._device)
            self.handle = ctypes.c_void_p()


class DeviceBuffer:
    """``nbytes`` of device memory; ``address`` is what TensorRT's ``set_tensor_address`` takes."""

    def __init__(self, nbytes: int) -> None:
        self._lib = _driver()
        self.nbytes = max(int(nbytes), 1)
        pointer = ctypes.c_uint64()
        _check(self._lib, "cuMemAlloc_v2", ctypes.byref(pointer), ctypes.c_size_t(self.nbytes))
        self.address = int(pointer.value)

    def upload(self, array: np.ndarray, stream: Stream) -> None:
        array = np.ascontiguousarray(array)
        if array.nbytes > self.nbytes:
            raise ValueError(f"{array.nbytes} bytes do not fit a {self.nbytes}-byte device buffer")
        _check(
            self._lib,
            "cuMemcpyHtoDAsync_v2",
            ctypes.c_uint64(self.address),
            array.ctypes.data_as(ctypes.c_void_p),
            ctypes.c_size_t(array.nbytes),
            stream.handle,
        )

    def download(self, array: np.ndarray, stream: Stream) -> None:
        """Copy into the C-contiguous ``array`` (call :meth:`Stream.synchronize` before reading it)."""
        if not array.flags.c_contiguous or array.nbytes > self.nbytes:
            raise ValueError("the host array must be C-contiguous and fit the device buffer")
        _check(
            self._lib,
            "cuMemcpyDtoHAsync_v2",
            array.ctypes.data_as(ctypes.c_void_p),
            ctypes.c_uint64(self.address),
            ctypes.c_size_t(array.nbytes),
            stream.handle,
        )

    def free(self) -> None:
        if self.address:
            _check(self._lib, "cuMemFree_v2", ctypes.c_uint64(self.address))
            self.address = 0


class Stream:
    """A CUDA stream; ``handle.value`` is the integer TensorRT's ``execute_async_v3`` takes."""

    def __init__(self) -> None:
        self._lib = _driver()
        self.handle = ctypes.c_void_p()
        _check(self._lib, "cuStreamCreate", ctypes.byref(self.handle), ctypes.c_uint(0))

    @property
    def address(self) -> int:
        return int(self.handle.value or 0)

    def synchronize(self) -> None:
        _check(self._lib, "cuStreamSynchronize", self.handle)

    def close(self) -> None:
        if self.handle:
            _check(self._lib, "cuStreamDestroy_v2", self.handle)
            self.handle = ctypes.c_void_p()
