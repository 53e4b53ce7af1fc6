"""Running a TensorRT engine from the model pack, beside ONNX Runtime (TensorRT 10 API).

The ``tensorrt`` runtime of :data:`edge.runtime.backends.RUNTIMES`. :class:`TensorRTEngine` is a
:class:`edge.runtime.Runner` like the ONNX Runtime one, so the D-FINE detector and the quality
regressor use either runtime unchanged. Device buffers are sized once for the profile's largest
batch; a bigger call is split into chunks of that size. TensorRT and the CUDA driver are loaded
only when an engine is opened.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from edge.config.models import ModelConfig
from edge.errors import ModelError
from edge.runtime.graph import GraphTensor
from edge.runtime.manifest import ModelPack, PackEntry, Role
from edge.runtime.onnx_session import open_onnxruntime
from edge.runtime.runner import Check, ModelSignature, OpenedModel
from edge.runtime.target import check_engine, tensorrt
from edge.types import ModelInfo

PROVIDER = "TensorRT"
T = TypeVar("T")
log = logging.getLogger("liveguard.models")


class TensorRTEngine:
    """One deserialised engine with its execution context, stream and device buffers."""

    def __init__(self, path: str | Path) -> None:
        from edge.runtime.cuda import CudaContext, DeviceBuffer, Stream

        trt = tensorrt()
        self.path = Path(path)
        self._cuda = CudaContext()
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._logger)
        self._engine = self._runtime.deserialize_cuda_engine(self.path.read_bytes())
        if self._engine is None:
            raise ModelError(
                str(self.path),
                f"TensorRT {trt.__version__} cannot deserialise this engine (built by another TensorRT "
                "version or for another GPU?): rebuild it with `liveguard engines build`",
            )
        self._context = self._engine.create_execution_context()
        names = [self._engine.get_tensor_name(i) for i in range(self._engine.num_io_tensors)]
        is_input = {name: self._engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT for name in names}
        self.input_names = [name for name in names if is_input[name]]
        self.output_names = [name for name in names if not is_input[name]]
        self._dtypes = {name: np.dtype(trt.nptype(self._engine.get_tensor_dtype(name))) for name in names}
        self._shapes = {name: tuple(self._engine.get_tensor_shape(name)) for name in names}
        max_shapes = {name: tuple(self._engine.get_tensor_profile_shape(name, 0)[2]) for name in self.input_names}
        self.max_batch = int(max_shapes[self.input_names[0]][0])
        self._stream = Stream()
        self._buffers = {}
        for name in names:
            shape = max_shapes.get(name) or tuple(self.max_batch if d < 0 else d for d in self._shapes[name])
            if any(d < 0 for d in shape):
                raise ModelError(str(self.path), f"tensor '{name}' has dynamic dimensions besides the batch: {shape}")
            self._buffers[name] = DeviceBuffer(int(np.prod(shape)) * self._dtypes[name].itemsize)
            self._context.set_tensor_address(name, self._buffers[name].address)

    def tensors(self) -> tuple[list[GraphTensor], list[GraphTensor]]:
        """Inputs and outputs as graph tensors (dynamic dimensions named ``N``) for signature checks."""

        def tensor(name: str) -> GraphTensor:
            return GraphTensor(name, self._dtypes[name].name, tuple("N" if d < 0 else int(d) for d in self._shapes[name]))

        return [tensor(n) for n in self.input_names], [tensor(n) for n in self.output_names]

    def run(self, output_names: Sequence[str], feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """Like ``InferenceSession.run``: outputs in the order of ``output_names``."""
        missing = [name for name in self.input_names if name not in feeds]
        if missing:
            raise ValueError(f"missing inputs {missing}")
        total = len(feeds[self.input_names[0]])
        parts = [self._run_chunk(output_names, feeds, start, min(start + self.max_batch, total))
                 for start in range(0, total, self.max_batch)]
        return [np.concatenate(outs) for outs in zip(*parts)]

    def _run_chunk(self, output_names: Sequence[str], feeds: Mapping[str, np.ndarray], start: int, stop: int) -> list[np.ndarray]:
        self._cuda.make_current()
        for name in self.input_names:
            array = np.ascontiguousarray(feeds[name][start:stop], dtype=self._dtypes[name])
            if not self._context.set_input_shape(name, array.shape):
                raise ModelError(str(self.path), f"input '{name}' of shape {list(array.shape)} is outside the engine's profile")
            self._buffers[name].upload(array, self._stream)
        if not self._context.execute_async_v3(self._stream.address):
            raise ModelError(str(self.path), "TensorRT execution failed (see its log above)")
        outputs = []
        for name in output_names:
            host = np.empty(tuple(self._context.get_tensor_shape(name)), dtype=self._dtypes[name])
            self._buffers[name].download(host, self._stream)
            outputs.append(host)
        self._stream.synchronize()
        return outputs

    def close(self) -> None:
        """Free the device buffers and the stream; the engine is not run afterwards."""
        for buffer in self._buffers.values():
            buffer.free()
        self._stream.close()


def open_pack_engine(pack_path: str | Path, name: str, role: Role) -> tuple[TensorRTEngine, PackEntry, ModelInfo]:
    """The engine ``name`` of the pack, refused unless built for this box from the current source."""
    pack = ModelPack.load(pack_path)
    entry = pack.get(name)
    if entry.format != "tensorrt":
        raise ModelError(str(pack.path), f"model '{name}' is an ONNX file, not a TensorRT engine (runtime tensorrt)")
    if entry.role != role:
        raise ModelError(str(pack.path), f"model '{name}' is a {entry.role} engine, not a {role}")
    check_engine(pack, entry)
    engine = TensorRTEngine(pack.file_of(entry))
    info = ModelInfo(name=entry.file, sha256=entry.sha256, precision=entry.precision, provider=PROVIDER)
    return engine, entry, info


def source_onnx(pack_path: str | Path, name: str) -> Path:
    """The verified ONNX file an engine entry is built from (the ONNX Runtime fallback)."""
    pack = ModelPack.load(pack_path)
    entry = pack.get(name)
    source = pack.get(entry.source) if entry.source else entry
    return pack.verify(source)


def open_tensorrt(pack_path: str | Path, name: str, role: Role, check: Check[T]) -> OpenedModel[T]:
    """The engine ``name`` of the pack (see :func:`open_pack_engine`), its signature checked by ``check``.

    The signature is the engine's own tensors with the entry's metadata (the quality range).
    """
    engine, entry, info = open_pack_engine(pack_path, name, role)
    try:
        inputs, outputs = engine.tensors()
        signature = ModelSignature(engine.path, tuple(inputs), tuple(outputs), dict(entry.metadata))
        contract = check(signature)
    except BaseException:
        engine.close()
        raise
    return OpenedModel(engine, info, signature, contract)


def open_from_config(
    section: ModelConfig, role: Role, threads: int, pack: Path | None, check: Check[T]
) -> OpenedModel[T]:
    """Runtime ``tensorrt``: the section's engine of ``pack``, or ONNX Runtime when it cannot serve.

    If the engine cannot serve on this box (TensorRT missing, no GPU, an engine built for another
    GPU or TensorRT version, a stale engine, a signature ``check`` refuses) the error is raised
    as it is, or, with ``fallback_to_onnxruntime``, logged as a warning and the section's ONNX
    file, else the engine's source ONNX in the pack, runs on ONNX Runtime.
    """
    key = f"{section.section_key}.engine"
    if pack is None or section.engine is None:
        raise ModelError(key, "runtime tensorrt needs models.pack and an engine name")
    try:
        return open_tensorrt(pack, section.engine, role, check)
    except Exception as error:  # TensorRT and the driver raise their own kinds too
        if not section.fallback_to_onnxruntime:
            if isinstance(error, ModelError):
                raise
            raise ModelError(key, f"TensorRT engine '{section.engine}' failed to load: {error}") from error
        # the section's own ONNX when the config names one, else the one the engine was built from (not the
        # bundled default, which is only the default of runtime onnxruntime)
        named = section.model is not None and "model" in section.model_fields_set
        source = section.model if named else source_onnx(pack, section.engine)
        log.warning("%s; falling back to ONNX Runtime with %s", error, source)
        return open_onnxruntime(source, section.providers, threads, check)
