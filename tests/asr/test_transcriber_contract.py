"""The Transcriber contract, run over every backend the registry knows (real models, real audio).

Whisper runs the bundled Whisper-base weights; FunASR runs tiny Paraformer/FSMN-VAD/CT-Transformer
models with the real export signatures (no package ships Paraformer weights).
"""

from __future__ import annotations

import numpy as np
import pytest
from asr_media import RATE

from edge.asr import BACKENDS, Transcriber, create_transcriber
from edge.config.models import FunAsrConfig, NoAsrConfig, WhisperAsrConfig
from edge.types import Transcript

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=sorted(BACKENDS))
def backend(request, funasr_dirs, tmp_path_factory):
    """(transcriber, audio it should hear something in) for each registered backend; closed afterwards."""
    if request.param == "whisper":
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("LIVEGUARD_CACHE_DIR", str(tmp_path_factory.mktemp("liveguard-cache")))
            transcriber = create_transcriber(WhisperAsrConfig(), threads=1)
        audio = request.getfixturevalue("brand_speech")
    elif request.param == "funasr":
        config = FunAsrConfig(model_dir=funasr_dirs["asr"], vad_dir=funasr_dirs["vad"], punc_dir=funasr_dirs["punc"])
        transcriber = create_transcriber(config, threads=1)
        audio = request.getfixturevalue("burst_audio")
    else:
        pytest.fail(f"no contract fixture for ASR backend {request.param!r}: add one here")
    yield request.param, transcriber, audio
    transcriber.close()


def test_every_backend_of_the_config_is_registered():
    literals = {cls.model_fields["backend"].default for cls in (WhisperAsrConfig, FunAsrConfig)}
    assert set(BACKENDS) == literals
    assert create_transcriber(NoAsrConfig(), threads=1) is None


def test_is_a_transcriber_with_its_identity(backend):
    name, transcriber, _ = backend
    assert isinstance(transcriber, Transcriber)
    assert transcriber.name == name and transcriber.model.name and transcriber.model.provider


def test_hears_speech_with_times_inside_the_chunk_plus_its_offset(backend):
    name, transcriber, audio = backend
    result = transcriber.transcribe(audio, offset=7.5)
    assert isinstance(result, Transcript) and result.backend == name
    assert result.text.strip() and result.segments
    end = 7.5 + len(audio) / RATE
    for segment in result.segments:
        assert 7.5 <= segment.start <= segment.end <= end + 1e-3, segment
    assert result.text == " ".join(s.text for s in result.segments) or all(s.text in result.text for s in result.segments)


@pytest.mark.parametrize("audio", [np.zeros(RATE, np.float32), np.zeros(RATE // 20, np.float32)], ids=["silence", "50ms"])
def test_silent_or_too_short_audio_is_an_empty_transcript(backend, audio):
    name, transcriber, _ = backend
    assert transcriber.transcribe(audio) == Transcript(backend=name)


def test_bad_shapes_are_refused(backend):
    _, transcriber, _ = backend
    with pytest.raises(ValueError, match="mono"):
        transcriber.transcribe(np.zeros((2, RATE), np.float32))
