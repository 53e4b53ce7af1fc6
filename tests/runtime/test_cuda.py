"""The CUDA driver wrapper on a machine without an NVIDIA driver."""

from __future__ import annotations

import pytest

from edge.errors import ModelError
from edge.runtime import cuda, tensorrt_available


@pytest.mark.skipif(cuda.driver_available(), reason="checks the message on a machine without an NVIDIA driver")
def test_no_driver_is_one_clear_error() -> None:
    with pytest.raises(ModelError, match=r"libcuda\.so\.1: no NVIDIA driver on this machine"):
        cuda.device_identity(0)
    assert not tensorrt_available()
