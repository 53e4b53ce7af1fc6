"""Tiny ONNX stand-ins for FunASR's Paraformer, FSMN-VAD and CT-Transformer exports.

Each model has the official export's input/output names, element types and layouts (see
FunASR's ``export_meta.py`` for the three models) and sits in a folder with config.yaml, am.mvn
and tokens.json in the real formats, so funasr-onnx loads it exactly as it loads the real thing.
Weights are hand-set so that the output is known in advance:

- Paraformer emits one token per 5 LFR frames (``token_num = speech_lengths // 5``); token n is
  ``SEQUENCE[n % len(SEQUENCE)]`` when ``table_scale`` dominates, or decided by the audio through
  a random projection when ``projection_scale`` does.
- FSMN-VAD's silence probability falls as the mean log-mel energy of a frame rises.
- CT-Transformer puts a comma after ``COMMA_AFTER`` and nothing elsewhere.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import yaml
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
N_MELS = 80
ASR_TOKENS = ["<blank>", "<s>", "</s>", "新", "品", "上", "市", "好", "价", "格", "<unk>"]
SEQUENCE = "新品上市好价格"  # the deterministic Paraformer's output cycles through these
FRAMES_PER_TOKEN = 5
PREDICTOR_BIAS = 1
MAX_TOKENS = 2048
PUNC_TOKENS = ["<s>", "</s>", "新", "品", "上", "市", "好", "价", "格", "<unk>"]
PUNC_LIST = ["<unk>", "_", ",", "。", "?", "、"]
COMMA_AFTER = "市"
VAD_LAYERS, VAD_PROJ, VAD_LORDER = 4, 8, 5


def expected_paraformer_text(num_samples: int) -> str:
    """What the deterministic tiny Paraformer says for ``num_samples`` of 16 kHz audio."""
    fbank_frames = 1 + (num_samples - 400) // 160  # 25 ms window, 10 ms shift, snip_edges
    lfr_frames = math.ceil(fbank_frames / 6)  # lfr_n = 6
    tokens = lfr_frames // FRAMES_PER_TOKEN - PREDICTOR_BIAS
    return "".join(SEQUENCE[i % len(SEQUENCE)] for i in range(max(tokens, 0)))


def punctuated(text: str) -> str:
    """What the tiny CT-Transformer makes of ``text`` (funasr-onnx always ends with a period)."""
    out = text.replace(COMMA_AFTER, COMMA_AFTER + "，")
    return out[:-1] + "。" if out.endswith("，") else out + "。"


def build_paraformer(
    folder: Path,
    *,
    table_scale: float = 50.0,
    projection_scale: float = 1e-3,
    input_names: Sequence[str] = ("speech", "speech_lengths"),
    seed: int = 0,
    onnx_name: str = "model.onnx",
    dither: float = 1.0,
) -> Path:
    """A Paraformer folder; ``dither: 1.0`` in config.yaml like funasr-onnx's default."""
    folder.mkdir(parents=True, exist_ok=True)
    width, vocab = N_MELS * 7, len(ASR_TOKENS)
    rng = np.random.default_rng(seed)
    table = np.zeros((MAX_TOKENS, vocab), np.float32)
    ids = [ASR_TOKENS.index(ch) for ch in SEQUENCE]
    table[np.arange(MAX_TOKENS), [ids[i % len(ids)] for i in range(MAX_TOKENS)]] = table_scale
    projection = (rng.standard_normal((width, vocab)) * projection_scale).astype(np.float32)
    speech, lengths = input_names
    nodes = [
        helper.make_node("Div", [lengths, "frames_per_token"], ["token_num"]),
        helper.make_node("ReduceMax", ["token_num"], ["n32"], keepdims=1),
        helper.make_node("Cast", ["n32"], ["n"], to=TensorProto.INT64),
        helper.make_node("Slice", ["table", "zero", "n", "zero"], ["rows"]),
        helper.make_node("Mul", ["n", "five"], ["n_frames"]),
        helper.make_node("Slice", [speech, "zero", "n_frames", "one", "five"], ["picked"]),
        helper.make_node("MatMul", ["picked", "projection"], ["from_audio"]),
        helper.make_node("Add", ["from_audio", "rows"], ["scores"]),
        helper.make_node("LogSoftmax", ["scores"], ["logits"], axis=-1),
    ]
    initializers = [
        numpy_helper.from_array(np.array(FRAMES_PER_TOKEN, np.int32), "frames_per_token"),
        numpy_helper.from_array(table, "table"),
        numpy_helper.from_array(projection, "projection"),
        numpy_helper.from_array(np.array([0], np.int64), "zero"),
        numpy_helper.from_array(np.array([1], np.int64), "one"),
        numpy_helper.from_array(np.array([FRAMES_PER_TOKEN], np.int64), "five"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_paraformer",
        [
            helper.make_tensor_value_info(speech, TensorProto.FLOAT, ["batch_size", "feats_length", width]),
            helper.make_tensor_value_info(lengths, TensorProto.INT32, ["batch_size"]),
        ],
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", "logits_length", vocab]),
            helper.make_tensor_value_info("token_num", TensorProto.INT32, ["batch_size"]),
        ],
        initializers,
    )
    _save(graph, folder / onnx_name)
    _write_yaml(
        folder / "config.yaml",
        {
            "model": "Paraformer",
            "model_conf": {"ctc_weight": 0.0, "predictor_bias": PREDICTOR_BIAS},
            "frontend": "WavFrontend",
            "frontend_conf": _frontend(lfr_m=7, lfr_n=6, dither=dither),
            "tokenizer": "CharTokenizer",
            "tokenizer_conf": {"unk_symbol": "<unk>", "split_with_space": True},
            "input_size": width,
        },
    )
    write_am_mvn(folder / "am.mvn", width, shift=-8.0, scale=0.25)
    (folder / "tokens.json").write_text(json.dumps(ASR_TOKENS, ensure_ascii=False), encoding="utf-8")
    return folder


def build_vad(folder: Path, *, threshold: float = 13.0, steepness: float = 2.0) -> Path:
    """An FSMN-VAD folder: speech where the frame's mean log-mel exceeds ``threshold``."""
    folder.mkdir(parents=True, exist_ok=True)
    width = N_MELS * 5
    cache_shape = [1, VAD_PROJ, VAD_LORDER - 1, 1]
    nodes = [
        helper.make_node("ReduceMean", ["speech"], ["energy"], axes=[2], keepdims=1),
        helper.make_node("Sub", ["energy", "threshold"], ["centred"]),
        helper.make_node("Mul", ["centred", "steepness"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["speech_prob"]),
        helper.make_node("Sub", ["one", "speech_prob"], ["sil_raw"]),
        helper.make_node("Clip", ["sil_raw", "low", "high"], ["sil"]),  # the VAD takes log(p)
        helper.make_node("Sub", ["one", "sil"], ["speech_clipped"]),
        helper.make_node("Concat", ["sil", "speech_clipped"], ["logits"], axis=2),
    ]
    nodes += [helper.make_node("Identity", [f"in_cache{i}"], [f"out_cache{i}"]) for i in range(VAD_LAYERS)]
    initializers = [
        numpy_helper.from_array(np.array(threshold, np.float32), "threshold"),
        numpy_helper.from_array(np.array(steepness, np.float32), "steepness"),
        numpy_helper.from_array(np.array(1.0, np.float32), "one"),
        numpy_helper.from_array(np.array(1e-4, np.float32), "low"),
        numpy_helper.from_array(np.array(1 - 1e-4, np.float32), "high"),
    ]
    caches_in = [_float_input(f"in_cache{i}", cache_shape) for i in range(VAD_LAYERS)]
    caches_out = [_float_input(f"out_cache{i}", cache_shape) for i in range(VAD_LAYERS)]
    graph = helper.make_graph(
        nodes,
        "tiny_fsmn_vad",
        [helper.make_tensor_value_info("speech", TensorProto.FLOAT, [1, "feats_length", width]), *caches_in],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, "feats_length", 2]), *caches_out],
        initializers,
    )
    _save(graph, folder / "model.onnx")
    _write_yaml(
        folder / "config.yaml",
        {
            "model": "FsmnVADStreaming",
            "model_conf": _vad_model_conf(),
            "encoder": "FSMN",
            "encoder_conf": {
                "input_dim": width, "input_affine_dim": 16, "fsmn_layers": VAD_LAYERS, "linear_dim": 16,
                "proj_dim": VAD_PROJ, "lorder": VAD_LORDER, "rorder": 0, "lstride": 1, "rstride": 0,
                "output_affine_dim": 16, "output_dim": 2,
            },
            "frontend": "WavFrontend",
            "frontend_conf": _frontend(lfr_m=5, lfr_n=1, dither=1.0),
        },
    )
    write_am_mvn(folder / "am.mvn", width, shift=0.0, scale=1.0)
    return folder


def build_punctuation(folder: Path) -> Path:
    """A CT-Transformer folder whose model puts a comma after ``COMMA_AFTER`` only."""
    folder.mkdir(parents=True, exist_ok=True)
    table = np.zeros((len(PUNC_TOKENS), len(PUNC_LIST)), np.float32)
    table[:, PUNC_LIST.index("_")] = 5.0
    table[PUNC_TOKENS.index(COMMA_AFTER)] = 0.0
    table[PUNC_TOKENS.index(COMMA_AFTER), PUNC_LIST.index(",")] = 5.0
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "inputs"], ["logits"], axis=0)],
        "tiny_ct_transformer",
        [
            helper.make_tensor_value_info("inputs", TensorProto.INT32, ["batch_size", "feats_length"]),
            helper.make_tensor_value_info("text_lengths", TensorProto.INT32, ["batch_size"]),
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", "logits_length", len(PUNC_LIST)])],
        [numpy_helper.from_array(table, "table")],
    )
    _save(graph, folder / "model.onnx")
    _write_yaml(
        folder / "config.yaml",
        {
            "model": "CTTransformer",
            "model_conf": {"ignore_id": 0, "punc_list": PUNC_LIST, "sentence_end_id": 3},
            "tokenizer": "CharTokenizer",
            "tokenizer_conf": {"unk_symbol": "<unk>"},
        },
    )
    (folder / "tokens.json").write_text(json.dumps(PUNC_TOKENS, ensure_ascii=False), encoding="utf-8")
    return folder


def write_am_mvn(path: Path, width: int, shift: float, scale: float) -> None:
    """Kaldi nnet1 text CMVN as FunASR ships it: features become (x + shift) * scale."""
    shifts = " ".join([f"{shift:g}"] * width)
    scales = " ".join([f"{scale:g}"] * width)
    path.write_text(
        f"<Nnet>\n<Splice> {width} {width}\n[ 0 ]\n"
        f"<AddShift> {width} {width}\n<LearnRateCoef> 0 [ {shifts} ]\n"
        f"<Rescale> {width} {width}\n<LearnRateCoef> 0 [ {scales} ]\n</Nnet>\n",
        encoding="utf-8",
    )


def _frontend(lfr_m: int, lfr_n: int, dither: float) -> dict:
    return {
        "fs": 16000, "window": "hamming", "n_mels": N_MELS, "frame_length": 25, "frame_shift": 10,
        "dither": dither, "lfr_m": lfr_m, "lfr_n": lfr_n,
    }


def _vad_model_conf() -> dict:
    """FunASR's fsmn-vad defaults (model_conf of its template.yaml)."""
    return {
        "sample_rate": 16000, "detect_mode": 1, "snr_mode": 0, "max_end_silence_time": 800,
        "max_start_silence_time": 3000, "do_start_point_detection": True, "do_end_point_detection": True,
        "window_size_ms": 200, "sil_to_speech_time_thres": 150, "speech_to_sil_time_thres": 150,
        "speech_2_noise_ratio": 1.0, "do_extend": 1, "lookback_time_start_point": 200,
        "lookahead_time_end_point": 100, "max_single_segment_time": 60000, "snr_thres": -100.0,
        "noise_frame_num_used_for_snr": 100, "decibel_thres": -100.0, "speech_noise_thres": 0.6,
        "fe_prior_thres": 0.0001, "silence_pdf_num": 1, "sil_pdf_ids": [0], "speech_noise_thresh_low": -0.1,
        "speech_noise_thresh_high": 0.3, "output_frame_probs": False, "frame_in_ms": 10, "frame_length_ms": 25,
    }


def _float_input(name: str, shape: list) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _save(graph: onnx.GraphProto, path: Path) -> None:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


def _write_yaml(path: Path, data: dict) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
