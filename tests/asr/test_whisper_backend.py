"""Real Whisper-base (the bundled weights) on speech synthesised by espeak-ng."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
from asr_media import RATE

from edge.asr import Transcriber, create_transcriber
from edge.asr.whisper_cache import MANIFEST
from edge.config.models import WhisperAsrConfig
from edge.errors import ModelError
from edge.types import Transcript

pytestmark = pytest.mark.slow  # loads a 145 MB model and decodes real audio (a few seconds)


@pytest.fixture(scope="module")
def whisper(tmp_path_factory):
    """The default backend as the pipeline builds it, with its cache in a temporary folder."""
    cache = tmp_path_factory.mktemp("liveguard-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LIVEGUARD_CACHE_DIR", str(cache))
        yield create_transcriber(WhisperAsrConfig(), threads=2)
    shutil.rmtree(cache, ignore_errors=True)


def test_recognises_the_brand_phrase(whisper, brand_speech):
    result = whisper.transcribe(brand_speech)
    words = result.text.lower()
    assert "samsung" in words and "galaxy" in words and "live stream" in words
    assert result.language == "en" and result.backend == "whisper"
    duration = brand_speech.size / RATE
    assert result.segments
    assert all(0.0 <= s.start < s.end <= duration for s in result.segments)
    assert whisper.transcribe(brand_speech) == result  # deterministic decoding


def test_segment_times_include_the_offset_and_skip_leading_silence(whisper, brand_speech):
    lead = 3.0
    audio = np.concatenate([np.zeros(int(lead * RATE), np.float32), brand_speech])
    result = whisper.transcribe(audio, offset=12.5)
    assert "samsung" in result.text.lower()
    # Silero VAD pads speech by 0.4 s and Whisper's timestamps are coarse: allow 0.8 s early.
    assert result.segments[0].start >= 12.5 + lead - 0.8
    assert result.segments[-1].end <= 12.5 + audio.size / RATE


@pytest.mark.parametrize(
    "audio",
    [
        np.zeros(0, np.float32),
        np.full(160, 0.5, np.float32),  # 10 ms
        np.zeros(2 * RATE, np.float32),
        np.random.default_rng(3).normal(0, 0.003, 2 * RATE).astype(np.float32),  # faint hiss reaches the model
    ],
    ids=["empty", "10ms", "silence", "hiss"],
)
def test_short_or_silent_audio_gives_an_empty_transcript(whisper, audio):
    assert whisper.transcribe(audio, offset=4.0) == Transcript(backend="whisper")


def test_model_identity(whisper):
    assert isinstance(whisper, Transcriber)
    manifest = json.loads((whisper.model_dir / MANIFEST).read_text(encoding="utf-8"))
    assert whisper.model.name == "whisper-base"
    assert whisper.model.sha256 == manifest["sha256"]
    assert whisper.model.precision == "int8"
    assert whisper.model.provider == "ctranslate2-cpu"


def test_explicit_model_dir_is_used_and_hashed(whisper):
    same = create_transcriber(WhisperAsrConfig(model_dir=whisper.model_dir, language="en"), threads=2)
    assert same.model.name == f"whisper:{whisper.model_dir.name}"
    assert same.model.sha256 == whisper.model.sha256


def test_missing_model_dir_is_named(tmp_path):
    with pytest.raises(ModelError, match="does not exist") as caught:
        create_transcriber(WhisperAsrConfig(model_dir=tmp_path / "nowhere"), threads=1)
    assert caught.value.culprit == str(tmp_path / "nowhere")


def test_incomplete_model_dir_names_what_is_missing(whisper, tmp_path):
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(whisper.model_dir / "config.json", partial)
    with pytest.raises(ModelError, match=r"lacks model\.bin, tokenizer\.json") as caught:
        create_transcriber(WhisperAsrConfig(model_dir=partial), threads=1)
    assert caught.value.culprit == str(partial)
    for name in ("model.bin", "tokenizer.json"):
        (partial / name).write_bytes(b"")
    with pytest.raises(ModelError, match="vocabulary.txt or vocabulary.json"):
        create_transcriber(WhisperAsrConfig(model_dir=partial), threads=1)


def test_corrupt_weights_are_a_model_error(whisper, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(whisper.model_dir, broken, ignore=shutil.ignore_patterns("model.bin"))
    (broken / "model.bin").write_bytes(b"not a ctranslate2 model" * 100)
    with pytest.raises(ModelError, match="cannot load") as caught:
        create_transcriber(WhisperAsrConfig(model_dir=broken), threads=1)
    assert caught.value.culprit == str(broken)


def test_a_prompt_reaches_whisper_and_names_the_currency(tmp_path):
    """asr.prompt is Whisper's initial_prompt: espeak's "only 18 yuan" comes out as "18 uun" without one (no price),
    and as a price in yuan with "Prices are in yuan" (issue 15: the spoken price against the banner)."""
    from asr_media import read_wav, resample

    from edge.numbers import find_prices

    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed")
    wav = tmp_path / "price.wav"
    subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", str(wav),
                    "Hi everyone! Today I'm showing you the Zenith Whitening Mint Body Wash, 75 milliliters, only 18 yuan."], check=True)
    speech = resample(*read_wav(wav))
    prompted = create_transcriber(WhisperAsrConfig(prompt="Prices are in yuan: only 99 yuan."), threads=2).transcribe(speech)
    prices = find_prices(prompted.text)
    assert prices and all(p.startswith("¥") for p in prices), prompted.text
    assert WhisperAsrConfig().prompt is None  # the default is unchanged until the benchmarks are remeasured with one


def _espeak(tmp_path, text: str, wpm: int) -> np.ndarray:
    from asr_media import read_wav, resample

    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed")
    wav = tmp_path / "speech.wav"
    subprocess.run([espeak, "-v", "en-us", "-s", str(wpm), "-w", str(wav), text], check=True)
    return resample(*read_wav(wav))


def test_claim_hotwords_spell_a_spoken_claim_as_the_rules_write_it(tmp_path):
    """asr.claim_hotwords: espeak's quick "It cures acne!" comes out as "It's your Macnick" without the rule terms and
    with "cure" in it with them, so the medical rule fires on the claims decoding; the text the fusion reads is the
    first decoding's, as without them (issue 15: spoken claims)."""
    from edge.claims import Reading, screen, screening_for
    from edge.config.models import ClaimsConfig

    screening = screening_for(ClaimsConfig())
    speech = _espeak(tmp_path, "It cures acne! Today I'm showing you the hand cream, 120 grams, only 76 yuan.", 180)
    heard = {hot: create_transcriber(WhisperAsrConfig(claim_hotwords=hot), threads=2, vocabulary=screening.vocabulary()).transcribe(speech)
             for hot in (False, True)}
    families = lambda text: {f.family for f in screen(screening.rule_sets, [Reading(text, "asr")], language="en",  # noqa: E731
                                                      every_department=True)}
    told = " ".join(s.text for s in heard[True].claim_segments)
    assert "medical" in families(told), told
    assert heard[True].text == heard[False].text and not heard[False].claim_segments
    assert "medical" not in families(heard[False].text), heard[False].text  # the case is one hotwords decide


def test_detection_keeps_to_the_configured_languages(tmp_path):
    """asr.languages: the language is detected among these only (Whisper takes synthetic English for Norwegian at times)."""
    speech = _espeak(tmp_path, "Today I'm showing you the hand cream, 120 grams, only 76 yuan.", 150)
    assert create_transcriber(WhisperAsrConfig(), threads=2).transcribe(speech).language == "en"
    assert create_transcriber(WhisperAsrConfig(languages=("zh", "ja")), threads=2).transcribe(speech).language in ("zh", "ja")


def test_hotwords_keep_to_their_token_budget():
    from edge.asr.whisper import HOTWORD_TOKENS, hotwords

    terms = [f"term{i}" for i in range(200)]
    text = hotwords(terms, lambda s: len(s.split()))
    assert text.startswith("term0, term1") and len(text.split()) == HOTWORD_TOKENS


def test_a_claims_decoding_the_hotwords_send_into_a_loop_is_dropped(tmp_path):
    """Speech Whisper cannot make out (espeak's `cmn` voice spells pinyin in English) loops with the hotwords
    ("for the 1,000,000,000,..."), and may repeat them as a claim nobody made; such a claims decoding is dropped,
    and the first decoding is kept."""
    import zlib

    from edge.asr.whisper import LOOP_RATIO
    from edge.claims import asr_vocabulary
    from edge.config import Config

    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed")
    from asr_media import read_wav, resample

    wav = tmp_path / "zh.wav"
    said = "大家好！今天给大家推荐锦鲤肠道鱼油，120粒，直播间只要276元。"
    subprocess.run([espeak, "-v", "cmn", "-s", "170", "-w", str(wav), said], check=True)
    speech = resample(*read_wav(wav))
    hot = create_transcriber(WhisperAsrConfig(claim_hotwords=True, claim_prompts={}), threads=2,
                             vocabulary=asr_vocabulary(Config().claims))
    options = hot._decoding(speech)
    ratio = lambda text: len(text.encode()) / len(zlib.compress(text.encode()))  # noqa: E731  Whisper's measure
    told = {**options, "hotwords": hot._hotwords[options["language"]]}
    with_hotwords = " ".join(s.text.strip() for s in hot._model.transcribe(speech, **told)[0])
    assert ratio(with_hotwords) > LOOP_RATIO  # the case is one the check decides
    assert hot._claims_decoding(speech, options) == []
    transcript = hot.transcribe(speech)
    assert transcript.text and all(ratio(s.text) <= LOOP_RATIO for s in transcript.claim_segments)
