"""Speech (espeak-ng) and the room-noise bed under it."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path
from xml.sax.saxutils import escape

import cv2
import numpy as np


def synthesize_speech(text: str, *, voice: str = "en-us", wpm: int = 150, max_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """Speak ``text`` with espeak-ng; returns mono float32 samples in [-1, 1] and the sample rate.

    When ``max_seconds`` is given and the speech is longer, it is re-spoken faster to fit.
    """
    if not shutil.which("espeak-ng"):
        raise FileNotFoundError("espeak-ng not found: apt-get install -y espeak-ng")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        for _ in range(4):
            subprocess.run(["espeak-ng", *_voice_args(text, voice), "-s", str(wpm), "-a", "140", "-w", str(wav), _input(text, voice)],
                           check=True, capture_output=True)
            samples, rate = read_wav(wav)
            if max_seconds is None or len(samples) / rate <= max_seconds:
                break
            wpm = int(math.ceil(wpm * (len(samples) / rate) / max_seconds)) + 2
    return samples, rate


# Mandarin voices of espeak-ng: "cmn" reads the pinyin its dictionary gives a character as English letters and
# tone digits ("大" as "D four"), as every benchmark before issue 15 spoke; "cmn-latn-pinyin" speaks Mandarin.
PINYIN_VOICE = "cmn-latn-pinyin"
_LATIN_RUN = re.compile(r"[A-Za-z](?:[A-Za-z' ]*[A-Za-z])?")


def _voice_args(text: str, voice: str) -> list[str]:
    return ["-m", "-v", voice] if _mixed(text, voice) else ["-v", voice]


def _mixed(text: str, voice: str) -> bool:
    """Latin words in Mandarin spoken by the pinyin voice: spoken in English (it would read them as pinyin)."""
    return voice == PINYIN_VOICE and _LATIN_RUN.search(text) is not None


def _input(text: str, voice: str) -> str:
    """``text``, or SSML that hands its Latin runs ("Cloudpeak") to the English voice."""
    if not _mixed(text, voice):
        return text
    parts, pos = [], 0
    for run in _LATIN_RUN.finditer(text):
        if run.start() > pos:
            parts.append(f'<voice name="{voice}">{escape(text[pos:run.start()])}</voice>')
        parts.append(f'<voice name="en-us">{escape(run.group(0))}</voice>')
        pos = run.end()
    if pos < len(text):
        parts.append(f'<voice name="{voice}">{escape(text[pos:])}</voice>')
    return "<speak>" + "".join(parts) + "</speak>"


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2, "expected 16-bit PCM"
        data = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768.0
        if w.getnchannels() > 1:
            data = data.reshape(-1, w.getnchannels()).mean(axis=1)
        return data, w.getframerate()


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def mix_audio(
    speech: np.ndarray,
    rate: int,
    *,
    start: float,
    duration: float,
    seed: int,
    noise_db: float = -42.0,
    music_db: float | None = None,
) -> np.ndarray:
    """Place speech at ``start`` s in a ``duration`` s track over quiet seeded room noise (low-passed).

    ``music_db`` adds a soft background-music bed (a slowly pulsing chord) at that RMS level.
    """
    n = int(round(duration * rate))
    out = np.zeros(n, np.float32)
    s0 = int(round(start * rate))
    seg = speech[: max(n - s0, 0)]
    peak = float(np.abs(seg).max()) if seg.size else 0.0
    if peak > 0:
        out[s0 : s0 + seg.size] = seg * (0.7 / peak)
    rng = np.random.default_rng((seed, 0xA0D10))
    white = rng.normal(0, 1, n).astype(np.float32)
    room = cv2.GaussianBlur(white[None, :], (0, 0), sigmaX=3.0)[0]  # soft low-pass "room tone"
    room *= 10 ** (noise_db / 20) / (float(np.sqrt(np.mean(room**2))) + 1e-9)
    if music_db is not None:
        t = np.arange(n, dtype=np.float32) / rate
        root = float(rng.choice([196.0, 220.0, 246.9, 261.6]))
        chord = sum(np.sin(2 * np.pi * root * r * t + rng.uniform(0, 6.3)) for r in (1.0, 1.26, 1.5, 2.0))
        pulse = 0.6 + 0.4 * np.sin(2 * np.pi * 2.0 * t) ** 2  # a 120 bpm throb
        music = (chord * pulse).astype(np.float32)
        room += music * (10 ** (music_db / 20) / (float(np.sqrt(np.mean(music**2))) + 1e-9))
    return np.clip(out + room, -1.0, 1.0)
