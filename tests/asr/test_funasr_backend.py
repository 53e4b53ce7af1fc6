"""The funasr-onnx backend driven end to end through tiny models with the real export signatures."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import numpy as np
import pytest
import tiny_funasr
from asr_media import BURSTS, RATE

from edge.asr import Transcriber, create_transcriber
from edge.config.models import FunAsrConfig
from edge.errors import ModelError
from edge.types import Transcript


def transcriber(dirs, vad=True, punc=True, asr="asr", **extra):
    config = FunAsrConfig(
        model_dir=dirs[asr], vad_dir=dirs["vad"] if vad else None, punc_dir=dirs["punc"] if punc else None, **extra
    )
    return create_transcriber(config, threads=1)


@pytest.fixture(scope="module")
def full(funasr_dirs):
    return transcriber(funasr_dirs)


def test_vad_segments_follow_the_speech_and_carry_the_offset(full, burst_audio):
    result = full.transcribe(burst_audio, offset=3.0)
    assert len(result.segments) == len(BURSTS)
    for segment, (start, end) in zip(result.segments, BURSTS):
        # FSMN-VAD opens ~200-300 ms early (look-back + decision window) and closes ~100-200 ms late.
        assert start + 3.0 - 0.4 <= segment.start <= start + 3.0 + 0.05
        assert end + 3.0 - 0.05 <= segment.end <= end + 3.0 + 0.4
        samples = round((segment.end - segment.start) * RATE)
        assert segment.text == tiny_funasr.punctuated(tiny_funasr.expected_paraformer_text(samples))
    assert result.text == "".join(s.text for s in result.segments)
    assert result.text.startswith("新品上市，好")
    assert result.language == "zh" and result.backend == "funasr"


def test_without_vad_the_chunk_is_one_segment_with_exact_text(funasr_dirs, burst_audio):
    plain = transcriber(funasr_dirs, vad=False, punc=False)
    result = plain.transcribe(burst_audio, offset=30.0)
    assert [(s.start, s.end) for s in result.segments] == [(30.0, 36.0)]
    assert result.text == tiny_funasr.expected_paraformer_text(burst_audio.size)
    assert result.text == "新品上市好价格新品上市好价格新品上市好"


def test_random_paraformer_speaks_only_tokens_from_tokens_json(funasr_dirs, burst_audio):
    result = transcriber(funasr_dirs, vad=False, punc=False, asr="asr_random").transcribe(burst_audio)
    vocabulary = set(json.loads((funasr_dirs["asr_random"] / "tokens.json").read_text(encoding="utf-8")))
    assert result.text
    assert set(result.text) <= vocabulary
    assert len(result.text) <= len(tiny_funasr.expected_paraformer_text(burst_audio.size))


@pytest.mark.parametrize(
    "audio",
    [
        np.zeros(0, np.float32),
        np.full(160, 0.5, np.float32),  # 10 ms: funasr-onnx itself crashes under ~25 ms
        np.zeros(3 * RATE, np.float32),
        np.full(3 * RATE, 1e-4, np.float32),  # below -60 dBFS
    ],
    ids=["empty", "10ms", "zeros", "quiet"],
)
@pytest.mark.parametrize("vad", [True, False], ids=["vad", "novad"])
def test_short_or_silent_audio_gives_an_empty_transcript(funasr_dirs, audio, vad):
    assert transcriber(funasr_dirs, vad=vad).transcribe(audio, offset=5.0) == Transcript(backend="funasr")


def test_empty_recognition_skips_punctuation(funasr_dirs):
    """0.3 s gives the tiny Paraformer no token; CT-Transformer would crash on the empty text."""
    from funasr_onnx import CT_Transformer

    noise = np.random.default_rng(1).normal(0, 0.1, int(0.3 * RATE)).astype(np.float32)
    assert tiny_funasr.expected_paraformer_text(noise.size) == ""
    with pytest.raises(IndexError):  # funasr-onnx 0.4.3 punc_bin: new_mini_sentence[-1] on ""
        CT_Transformer(str(funasr_dirs["punc"]))("")
    assert transcriber(funasr_dirs, vad=False).transcribe(noise) == Transcript(backend="funasr")


def test_features_are_not_dithered(full, funasr_dirs, burst_audio):
    """config.yaml says dither: 1.0 (funasr-onnx's default); the transcriber must switch it off."""
    from funasr_onnx import Paraformer

    stock = Paraformer(str(funasr_dirs["asr"]), intra_op_num_threads=1)
    first, _ = stock.extract_feat([burst_audio])
    second, _ = stock.extract_feat([burst_audio])
    assert not np.array_equal(first, second), "stock funasr-onnx dithers: the check below would prove nothing"
    ours = [full._asr.extract_feat([burst_audio])[0] for _ in range(2)]
    assert np.array_equal(*ours)
    assert full._vad.frontend.opts.frame_opts.dither == 0.0
    assert full.transcribe(burst_audio) == full.transcribe(burst_audio)


def test_stock_fsmn_vad_call_fails_on_numpy_2(funasr_dirs, burst_audio):
    """Why the VAD loop is ours: Fsmn_vad.__call__ does int() on a 1-element array.

    If this starts passing, funasr-onnx was fixed and ``FunAsrTranscriber._speech_spans`` could
    go back to calling the library.
    """
    from funasr_onnx import Fsmn_vad

    with pytest.raises(TypeError, match="0-dimensional"):
        Fsmn_vad(str(funasr_dirs["vad"]), intra_op_num_threads=1)(burst_audio)


def test_model_identity_and_protocol(full, funasr_dirs):
    assert isinstance(full, Transcriber)
    assert full.name == "funasr"
    assert full.model.name == "paraformer:paraformer+fsmn-vad:fsmn-vad+ct-punc:ct-punc"
    assert full.model.precision == "fp32" and full.model.provider == "CPUExecutionProvider"
    assert full.model.sha256 is not None and len(full.model.sha256) == 64


# --- broken model folders: ModelError naming the culprit, never a ModelScope download ------------


def test_missing_dirs_are_refused_before_funasr_onnx_sees_them(funasr_dirs, tmp_path):
    for key in ("model_dir", "vad_dir", "punc_dir"):
        dirs = {"model_dir": funasr_dirs["asr"], key: tmp_path / f"no-{key}"}
        with pytest.raises(ModelError, match="does not exist") as caught:
            create_transcriber(FunAsrConfig(**dirs), threads=1)
        assert caught.value.culprit == str(tmp_path / f"no-{key}")


@pytest.mark.parametrize(
    ("model", "missing"),
    [("asr", "am.mvn"), ("asr", "tokens.json"), ("asr", "config.yaml"), ("asr", "model.onnx"), ("vad", "model.onnx"),
     ("vad", "am.mvn"), ("punc", "tokens.json")],
)
def test_missing_file_is_named(funasr_dirs, copy_model, model, missing):
    broken = copy_model(funasr_dirs[model])
    (broken / missing).unlink()
    dirs = {**funasr_dirs, model: broken}
    with pytest.raises(ModelError, match=missing) as caught:
        transcriber(dirs)
    assert caught.value.culprit == str(broken)


def test_quantize_wants_model_quant_onnx(funasr_dirs):
    with pytest.raises(ModelError, match="model_quant.onnx"):
        transcriber(funasr_dirs, quantize=True)


def test_quantized_models_load_when_present(funasr_dirs, copy_model, burst_audio):
    dirs = {key: copy_model(funasr_dirs[key]) for key in ("asr", "vad", "punc")}
    for folder in dirs.values():
        (folder / "model.onnx").rename(folder / "model_quant.onnx")
    quantized = transcriber(dirs, quantize=True)
    assert quantized.model.precision == "int8"
    assert len(quantized.transcribe(burst_audio).segments) == len(BURSTS)


def test_wrong_input_names_are_refused(funasr_dirs, tmp_path):
    foreign = tiny_funasr.build_paraformer(tmp_path / "foreign", input_names=("feats", "feats_lengths"))
    with pytest.raises(ModelError, match=r"feats:float.*speech:float") as caught:
        transcriber({**funasr_dirs, "asr": foreign})
    assert caught.value.culprit == str(foreign / "model.onnx")


def test_a_paraformer_is_not_a_punctuation_model(funasr_dirs, copy_model):
    punc = copy_model(funasr_dirs["punc"])
    (punc / "model.onnx").write_bytes((funasr_dirs["asr"] / "model.onnx").read_bytes())
    with pytest.raises(ModelError, match="CT-Transformer punctuation inputs") as caught:
        transcriber({**funasr_dirs, "punc": punc})
    assert caught.value.culprit == str(punc / "model.onnx")


def test_vad_cache_shape_must_match_config(funasr_dirs, copy_model):
    vad = copy_model(funasr_dirs["vad"])
    config = (vad / "config.yaml").read_text(encoding="utf-8")
    (vad / "config.yaml").write_text(config.replace("lorder: 5", "lorder: 9"), encoding="utf-8")
    with pytest.raises(ModelError, match="in_cache0"):
        transcriber({**funasr_dirs, "vad": vad})


def test_config_without_frontend_is_named(funasr_dirs, copy_model):
    asr = copy_model(funasr_dirs["asr"])
    config = (asr / "config.yaml").read_text(encoding="utf-8")
    (asr / "config.yaml").write_text(config.replace("frontend_conf:", "frontend_settings:"), encoding="utf-8")
    with pytest.raises(ModelError, match="frontend_conf") as caught:
        transcriber({**funasr_dirs, "asr": asr})
    assert caught.value.culprit == str(asr / "config.yaml")


def test_token_list_must_match_the_model(funasr_dirs, copy_model):
    asr = copy_model(funasr_dirs["asr"])
    (asr / "tokens.json").write_text(json.dumps(["<blank>", "<s>", "</s>", "<unk>"]), encoding="utf-8")
    with pytest.raises(ModelError, match="tokens.json lists 4"):
        transcriber({**funasr_dirs, "asr": asr})


def test_cmvn_narrower_than_the_features_is_named(funasr_dirs, copy_model):
    asr = copy_model(funasr_dirs["asr"])
    tiny_funasr.write_am_mvn(asr / "am.mvn", 400, shift=0.0, scale=1.0)
    with pytest.raises(ModelError, match="400 dims") as caught:
        transcriber({**funasr_dirs, "asr": asr})
    assert caught.value.culprit == str(asr / "am.mvn")


def test_vad_spans_cross_the_60_s_block_boundary(funasr_dirs):
    """FSMN-VAD scores at most 6000 frames a call; a span across the cut must come out whole."""
    rng = np.random.default_rng(5)
    audio = rng.normal(0.0, 1e-4, 65 * RATE).astype(np.float32)
    for start, end in ((10.0, 12.0), (59.0, 61.5)):
        audio[int(start * RATE) : int(end * RATE)] += rng.normal(0.0, 0.1, int((end - start) * RATE))
    segments = transcriber(funasr_dirs, punc=False).transcribe(audio).segments
    assert len(segments) == 2
    assert 58.6 <= segments[1].start <= 59.05 and 61.45 <= segments[1].end <= 61.9
    assert segments[1].text == tiny_funasr.expected_paraformer_text(round((segments[1].end - segments[1].start) * RATE))


def test_loading_leaves_the_root_logger_alone(funasr_dirs):
    """funasr_onnx's import calls logging.basicConfig(level=ERROR); the service's logging must survive it."""
    script = (
        "import logging, sys\n"
        "from edge.asr import create_transcriber\n"
        "from edge.config.models import FunAsrConfig\n"
        "create_transcriber(FunAsrConfig(model_dir=sys.argv[1]), threads=1)\n"
        "root = logging.getLogger()\n"
        "print(len(root.handlers), root.level)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(funasr_dirs["asr"])], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", str(logging.WARNING)]
