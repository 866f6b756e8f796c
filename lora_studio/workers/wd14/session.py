"""The onnxruntime session: providers, and the I/O contract read from the model itself.

onnxruntime-gpu falls back to CPU without an exception when CUDA libraries or the driver are missing,
so the provider that *actually* runs is read back from the session and logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from lora_studio.config.tagging import TaggerDevice
from lora_studio.core.errors import InvalidInput

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
DEFAULT_SIZE = 448
CPU_BATCH, CUDA_BATCH = 1, 16  # batches are slower per image on CPU (reference measurements)

Log = Callable[[str], None]


class BadModelFile(InvalidInput):
    """model.onnx cannot be loaded or does not follow the tagger I/O contract."""


@dataclass(frozen=True)
class TaggerSession:
    session: ort.InferenceSession
    input_name: str
    output_name: str
    height: int
    width: int
    fixed_batch: int | None  # v2 Keras exports: 1; v3: None (dynamic)
    n_outputs: int | None
    provider: str

    @property
    def on_cuda(self) -> bool:
        return self.provider == CUDA

    def run(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        (scores,) = self.session.run([self.output_name], {self.input_name: batch})
        return np.asarray(scores, dtype=np.float32)

    def batch_size(self, wanted: int | None, log: Log) -> int:
        """The batch size to use: the model's fixed one, else ``wanted``, else a per-device default."""
        if self.fixed_batch is not None:
            if wanted not in (None, self.fixed_batch):
                log(f"this model takes exactly {self.fixed_batch} image(s) per call; batch size set to that")
            return self.fixed_batch
        return wanted or (CUDA_BATCH if self.on_cuda else CPU_BATCH)


def requested_providers(device: TaggerDevice, available: list[str]) -> list[str]:
    if device is TaggerDevice.CPU:
        return [CPU]
    if device is TaggerDevice.CUDA or CUDA in available:
        return [CUDA, CPU]
    return [CPU]


def available_providers() -> list[str]:
    return list(ort.get_available_providers())


def _dim(value: object) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def open_session(model_path: Path, device: TaggerDevice, log: Log) -> TaggerSession:
    """Create the session and read names, size and batch dimension from it.

    onnxruntime's default options: its idle threads spin, which was as fast or faster beside the
    decoding threads than letting them sleep (README, Benchmarks, Tagging).

    Raises:
        BadModelFile: onnxruntime cannot load the file, or its input is not ``[N, H, W, 3]``.
    """
    providers = requested_providers(device, available_providers())
    if CUDA in providers and hasattr(ort, "preload_dlls"):
        try:
            ort.preload_dlls()  # finds pip-installed CUDA/cuDNN libraries
        except Exception as error:  # noqa: BLE001 - the session's provider check below decides
            log(f"note: onnxruntime.preload_dlls() failed: {error}")
    log(f"loading {model_path} (requested providers: {', '.join(providers)})")
    try:
        session = ort.InferenceSession(str(model_path), providers=providers)
    except Exception as error:  # noqa: BLE001 - onnxruntime raises its own untyped errors
        raise BadModelFile(
            f"onnxruntime cannot load {model_path}: {error}",
            hint="Download the model again, or check it is a WD14 tagger model.onnx.",
        ) from None
    actual = session.get_providers()[0]
    log(f"onnxruntime provider actually running: {actual}")
    if device is TaggerDevice.CUDA and actual != CUDA:
        log(
            "WARNING: CUDA was requested but onnxruntime runs on CPU (onnxruntime-gpu missing, or its "
            "CUDA/cuDNN libraries or the NVIDIA driver do not match; see onnxruntime's messages above)"
        )
    elif CUDA in providers and actual != CUDA:  # "auto" on a machine without a usable GPU: expected
        log("note: no usable CUDA GPU for onnxruntime here, so tagging runs on the CPU")
    return _describe(session, actual)


def _describe(session: ort.InferenceSession, provider: str) -> TaggerSession:
    model_input = session.get_inputs()[0]
    shape = list(model_input.shape)
    if len(shape) != 4 or (_dim(shape[3]) not in (None, 3)):
        raise BadModelFile(
            f"the model input {model_input.name} has shape {shape}; expected [N, H, W, 3] (NHWC)"
        )
    height, width = _dim(shape[1]) or DEFAULT_SIZE, _dim(shape[2]) or DEFAULT_SIZE
    output = session.get_outputs()[0]
    return TaggerSession(
        session=session,
        input_name=model_input.name,
        output_name=output.name,
        height=height,
        width=width,
        fixed_batch=_dim(shape[0]),
        n_outputs=_dim(output.shape[-1]) if output.shape else None,
        provider=provider,
    )
