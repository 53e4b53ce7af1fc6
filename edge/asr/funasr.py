"""ASR with funasr-onnx: Paraformer, optionally behind FSMN-VAD and followed by CT-Transformer punctuation.

funasr-onnx is used for loading and decoding, with guards around its quirks: a missing folder or
file makes it try a ModelScope download or a model export (we check folders first); it matches
ONNX inputs by position, not name (we check the export's signature); it dithers features unless
the config says otherwise (we switch dither off); it drops an utterance whose inference failed
(we read that as no speech); punctuation crashes on empty text (we skip it); its import calls
``logging.basicConfig`` (we undo that, the service owns logging). ``Fsmn_vad.__call__``
calls ``int()`` on a 1-element array (deprecated in NumPy 1.25, a TypeError in the NumPy 2.4 we
run), so the VAD loop is ours; the rest of funasr-onnx 0.4.3 runs unchanged on NumPy 2.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from edge.asr.audio import MIN_SECONDS, SAMPLE_RATE, as_mono_float32, has_speech_candidate
from edge.asr.modelfiles import HASH_LIMIT_BYTES, require_files
from edge.asr.transcript import is_cjk, make_transcript
from edge.config.models import FunAsrConfig
from edge.errors import ModelError
from edge.files import file_sha256
from edge.types import ModelInfo, Transcript, TranscriptSegment

log = logging.getLogger(__name__)

FLOAT, INT32 = "tensor(float)", "tensor(int32)"
VAD_BLOCK_FRAMES = 6000  # FSMN-VAD scores at most 60 s of frames per call, as funasr-onnx does
_LANGUAGES = {"zh-cn": "zh", "zh": "zh", "en-bpe": "en", "en": "en"}


@dataclass(frozen=True)
class Signature:
    """The ONNX inputs (name, element type) and leading output names of an official FunASR export."""

    inputs: tuple[tuple[str, str], ...]
    outputs: tuple[str, ...]


PARAFORMER = Signature((("speech", FLOAT), ("speech_lengths", INT32)), ("logits", "token_num"))
PUNCTUATION = Signature((("inputs", INT32), ("text_lengths", INT32)), ("logits",))


def vad_signature(layers: int) -> Signature:
    caches = tuple((f"in_cache{i}", FLOAT) for i in range(layers))
    return Signature((("speech", FLOAT), *caches), ("logits", *(f"out_cache{i}" for i in range(layers))))


class FunAsrTranscriber:
    """Paraformer ASR; with a VAD dir each speech span becomes one segment, else the chunk is one."""

    name = "funasr"

    def __init__(self, config: FunAsrConfig, threads: int) -> None:
        onnx_name = "model_quant.onnx" if config.quantize else "model.onnx"
        self._asr_dir = Path(config.model_dir)
        self._asr, asr_config = _load_paraformer(self._asr_dir, onnx_name, threads)
        self._vad_dir = Path(config.vad_dir) if config.vad_dir else None
        self._vad = _load_vad(self._vad_dir, onnx_name, threads) if self._vad_dir else None
        self._punc_dir = Path(config.punc_dir) if config.punc_dir else None
        self._punc = _load_punctuation(self._punc_dir, onnx_name, threads) if self._punc_dir else None
        self._language = _LANGUAGES.get(str(asr_config.get("lang", "")).lower())
        parts = (("paraformer", self._asr_dir), ("fsmn-vad", self._vad_dir), ("ct-punc", self._punc_dir))
        self.model = ModelInfo(
            name="+".join(f"{kind}:{folder.name}" for kind, folder in parts if folder is not None),
            sha256=file_sha256(self._asr_dir / onnx_name, HASH_LIMIT_BYTES),
            precision="int8" if config.quantize else "fp32",
            provider=self._asr.ort_infer.session.get_providers()[0],
        )

    def transcribe(self, samples: np.ndarray, offset: float = 0.0) -> Transcript:
        """Recognise one chunk; segment times are seconds from the window start (``offset`` added)."""
        audio = as_mono_float32(samples)
        if not has_speech_candidate(audio):
            return Transcript(backend=self.name)
        duration_ms = audio.shape[0] * 1000 // SAMPLE_RATE
        spans = self._speech_spans(audio) if self._vad is not None else [(0, duration_ms)]
        segments = []
        for start_ms, end_ms in spans:
            start_ms, end_ms = max(start_ms, 0), min(end_ms, duration_ms)
            piece = audio[start_ms * SAMPLE_RATE // 1000 : end_ms * SAMPLE_RATE // 1000]
            if piece.shape[0] < MIN_SECONDS * SAMPLE_RATE:
                continue
            text = self._recognise(piece)
            start, end = round(offset + start_ms / 1000, 3), round(offset + end_ms / 1000, 3)
            segments.append(TranscriptSegment(start, end, text))
        text = " ".join(s.text for s in segments)
        return make_transcript(segments, self._language or _guess_language(text), self.name)

    def close(self) -> None:
        self._asr = self._vad = self._punc = None  # their ONNX Runtime sessions go with them

    def _speech_spans(self, audio: np.ndarray) -> list[tuple[int, int]]:
        """FSMN-VAD speech spans in ms; the loop of ``Fsmn_vad.__call__`` with plain ints."""
        from funasr_onnx.utils.e2e_vad import E2EVadModel

        vad = self._vad
        frame = vad.frontend.opts.frame_opts
        shift = int(frame.frame_shift_ms * frame.samp_freq / 1000)
        length = int(frame.frame_length_ms * frame.samp_freq / 1000)
        feats, lengths = vad.extract_feat([audio])
        total = int(lengths[0])
        scorer = E2EVadModel(vad.vad_scorer_config)
        caches = _vad_caches(vad.encoder_conf)
        waveform = audio[None, :]
        spans: list[tuple[int, int]] = []
        start = 0
        while start < total:
            end = min(start + VAD_BLOCK_FRAMES, total)
            final = end >= total - 1
            end = total if final else end
            block = waveform[:, start * shift : min(waveform.shape[1], (end - 1) * shift + length)]
            outputs = self._run(vad, self._vad_dir, [feats[:, start:end, :], *caches])
            scores, caches = outputs[0], list(outputs[1:])
            for batch in scorer(scores, block, is_final=final, max_end_sil=vad.max_end_sil, online=False):
                spans.extend((int(s), int(e)) for s, e in batch)
            start = end
        return spans

    def _recognise(self, piece: np.ndarray) -> str:
        try:
            results = self._asr(piece)
        except Exception as exc:  # funasr-onnx raises bare ValueError/IndexError on odd tokens or shapes
            raise ModelError(str(self._asr_dir), f"Paraformer inference failed: {exc!r}") from exc
        if not results:  # funasr-onnx drops an utterance whose ONNX run failed
            seconds = piece.shape[0] / SAMPLE_RATE
            log.warning("%s: inference failed on a %.2f s span; taken as no speech", self._asr_dir, seconds)
            return ""
        preds = results[0]["preds"]
        text = (preds[0] if isinstance(preds, tuple) else preds).strip()
        if text and self._punc is not None:  # CT-Transformer crashes on ""
            try:
                text = self._punc(text)[0].strip()
            except Exception as exc:
                raise ModelError(str(self._punc_dir), f"punctuation failed: {exc!r}") from exc
        return text

    @staticmethod
    def _run(model, folder: Path | None, inputs: list[np.ndarray]) -> list[np.ndarray]:
        try:
            return model.ort_infer(inputs)
        except Exception as exc:
            raise ModelError(str(folder), f"ONNX inference failed: {exc.__cause__ or exc}") from exc


def _load_paraformer(folder: Path, onnx_name: str, threads: int):
    require_files(folder, (onnx_name, "config.yaml", "am.mvn", "tokens.json"), "Paraformer")
    config = _read_config(folder, ("frontend_conf", "model_conf"))
    tokens = _read_tokens(folder / "tokens.json")
    model = _construct(_funasr_onnx().Paraformer, folder, onnx_name, threads, "Paraformer")
    _check_signature(model.ort_infer.session, folder / onnx_name, PARAFORMER, "Paraformer")
    _check_features(model, folder, onnx_name)
    _check_vocabulary(model.ort_infer.session, folder / onnx_name, len(tokens))
    _no_dither(model)
    return model, config


def _load_vad(folder: Path, onnx_name: str, threads: int):
    require_files(folder, (onnx_name, "config.yaml", "am.mvn"), "FSMN-VAD")
    config = _read_config(folder, ("frontend_conf", "model_conf", "encoder_conf"))
    _require_keys(folder / "config.yaml", config["model_conf"], "model_conf", ("max_end_silence_time",))
    _require_keys(folder / "config.yaml", config["encoder_conf"], "encoder_conf", ("fsmn_layers", "proj_dim", "lorder"))
    model = _construct(_funasr_onnx().Fsmn_vad, folder, onnx_name, threads, "FSMN-VAD")
    signature = vad_signature(int(config["encoder_conf"]["fsmn_layers"]))
    _check_signature(model.ort_infer.session, folder / onnx_name, signature, "FSMN-VAD")
    _check_features(model, folder, onnx_name)
    _check_caches(model, folder / onnx_name)
    _no_dither(model)
    return model


def _load_punctuation(folder: Path, onnx_name: str, threads: int):
    require_files(folder, (onnx_name, "config.yaml", "tokens.json"), "CT-Transformer punctuation")
    config = _read_config(folder, ("model_conf",))
    _require_keys(folder / "config.yaml", config["model_conf"], "model_conf", ("punc_list",))
    _read_tokens(folder / "tokens.json")
    model = _construct(_funasr_onnx().CT_Transformer, folder, onnx_name, threads, "CT-Transformer punctuation")
    _check_signature(model.ort_infer.session, folder / onnx_name, PUNCTUATION, "CT-Transformer punctuation")
    return model


def _funasr_onnx():
    """Import funasr_onnx without keeping the root-logger handler and ERROR level its import installs."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    import funasr_onnx

    root.handlers[:] = handlers
    root.setLevel(level)
    return funasr_onnx


def _construct(cls, folder: Path, onnx_name: str, threads: int, what: str):
    """Build a funasr-onnx model from a folder already checked to be complete."""
    try:
        return cls(
            model_dir=str(folder),
            quantize=onnx_name == "model_quant.onnx",
            intra_op_num_threads=threads,
            device_id="-1",
        )
    except Exception as exc:  # onnxruntime, yaml or numpy errors on a malformed file
        raise ModelError(str(folder), f"funasr-onnx cannot load this {what} model: {exc}") from exc


def _read_config(folder: Path, sections: Sequence[str]) -> dict:
    path = folder / "config.yaml"
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ModelError(str(path), f"unreadable config: {exc}") from exc
    if not isinstance(config, dict):
        raise ModelError(str(path), "config is not a YAML mapping")
    _require_keys(path, config, "config", sections)
    for section in sections:
        if not isinstance(config[section], dict):
            raise ModelError(str(path), f"{section} must be a mapping")
    return config


def _require_keys(path: Path, mapping: dict, where: str, keys: Sequence[str]) -> None:
    missing = [key for key in keys if key not in mapping]
    if missing:
        raise ModelError(str(path), f"{where} lacks {', '.join(missing)}")


def _read_tokens(path: Path) -> list[str]:
    try:
        tokens = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelError(str(path), f"unreadable token list: {exc}") from exc
    if not isinstance(tokens, list) or not tokens or not all(isinstance(t, str) for t in tokens):
        raise ModelError(str(path), "must be a non-empty JSON list of strings")
    return tokens


def _check_signature(session, path: Path, expected: Signature, what: str) -> None:
    """funasr-onnx feeds inputs by position, so a foreign model would run on wrong tensors: refuse it."""
    inputs = tuple((arg.name, arg.type) for arg in session.get_inputs())
    outputs = tuple(arg.name for arg in session.get_outputs())
    if inputs != expected.inputs:
        found, wanted = _describe(inputs), _describe(expected.inputs)
        raise ModelError(str(path), f"{what} inputs {found} differ from the FunASR export {wanted}")
    if outputs[: len(expected.outputs)] != expected.outputs:
        found, wanted = list(outputs), list(expected.outputs)
        raise ModelError(str(path), f"{what} outputs {found} differ from the FunASR export {wanted}")


def _describe(args: Sequence[tuple[str, str]]) -> str:
    return "[" + ", ".join(f"{name}:{kind.removeprefix('tensor(').rstrip(')')}" for name, kind in args) + "]"


def _check_features(model, folder: Path, onnx_name: str) -> None:
    """The model's feature width must equal n_mels x lfr_m, and am.mvn must cover it."""
    front = model.frontend
    width = front.opts.mel_opts.num_bins * front.lfr_m
    declared = model.ort_infer.session.get_inputs()[0].shape[-1]
    if isinstance(declared, int) and declared != width:
        message = f"takes {declared}-dim features but config.yaml gives n_mels x lfr_m = {width}"
        raise ModelError(str(folder / onnx_name), message)
    if front.cmvn.ndim != 2 or front.cmvn.shape[1] < width:
        raise ModelError(str(folder / "am.mvn"), f"has {front.cmvn.shape[-1]} dims, features have {width}")


def _check_vocabulary(session, path: Path, size: int) -> None:
    declared = session.get_outputs()[0].shape[-1]
    if isinstance(declared, int) and declared != size:
        raise ModelError(str(path), f"scores {declared} tokens but tokens.json lists {size}")


def _check_caches(model, path: Path) -> None:
    for arg, cache in zip(model.ort_infer.session.get_inputs()[1:], _vad_caches(model.encoder_conf)):
        declared = arg.shape
        if all(isinstance(d, int) for d in declared) and tuple(declared) != cache.shape:
            raise ModelError(str(path), f"{arg.name} has shape {declared}, config.yaml implies {list(cache.shape)}")


def _vad_caches(encoder_conf: dict) -> list[np.ndarray]:
    shape = (1, int(encoder_conf["proj_dim"]), int(encoder_conf["lorder"]) - 1, 1)
    return [np.zeros(shape, np.float32) for _ in range(int(encoder_conf["fsmn_layers"]))]


def _no_dither(model) -> None:
    """Same audio, same features: funasr-onnx dithers unless config.yaml sets ``dither: 0``."""
    model.frontend.opts.frame_opts.dither = 0.0


def _guess_language(text: str) -> str | None:
    if any(is_cjk(ch) for ch in text):
        return "zh"
    return "en" if any(ch.isascii() and ch.isalpha() for ch in text) else None
