"""The whole configuration as one typed tree (paper defaults everywhere).

Every knob of the method lives here with its bounds and a description, so the same models
validate YAML, produce the JSON Schema for editors and document the defaults. Unknown keys
are refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from edge import bundled


def _relative_to_config(path: Path, info: ValidationInfo) -> Path:
    """Paths in a YAML file are relative to that file's folder, not the working directory."""
    base = (info.context or {}).get("base_dir")
    if bundled.is_bundled(path):  # bundled:NAME, a file of the package (edge.bundled)
        return path
    path = path.expanduser()
    return path if path.is_absolute() or base is None else Path(base) / path


ConfigPath = Annotated[Path, AfterValidator(_relative_to_config)]

DEFAULT_PROVIDERS = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceConfig(Section):
    id: str = Field("box-0", min_length=1, description="Device id, used in evidence ids and MQTT topics.")
    site: str = Field("site-0", min_length=1, description="Site (monitoring centre) id.")


class SamplingConfig(Section):
    fps: float = Field(
        2.0, gt=0, le=60, description="Frames sampled per second of video (paper §3.2: a fixed frame rate)."
    )


# Model runtimes: each value has its opener in edge.runtime.backends.RUNTIMES.
Runtime = Literal["onnxruntime", "tensorrt"]


class ModelsConfig(Section):
    pack: ConfigPath | None = Field(
        None,
        description="Model pack manifest (engines/manifest.yaml) that TensorRT engines are loaded through, "
        "checked by sha256; needed by runtime tensorrt. Build its engines with `liveguard engines build`.",
    )


class ModelConfig(Section):
    """A model and how it runs: its ONNX file, the runtime, the TensorRT engine, providers, input side.

    Every model of the pipeline has one such section (``detector``, ``scoring.quality``), opened by
    :func:`edge.runtime.open_model`; ``section_key`` is where the section sits, for messages.
    """

    section_key: ClassVar[str] = "model"

    model: ConfigPath | None = Field(
        None, description="ONNX file of the model: run by ONNX Runtime, and the TensorRT fallback when set."
    )
    runtime: Runtime = Field(
        "onnxruntime",
        description="onnxruntime: run model on ONNX Runtime; tensorrt: run the engine of models.pack named by engine.",
    )
    engine: str | None = Field(
        None, min_length=1, description="Name of the model's TensorRT engine in models.pack (runtime tensorrt)."
    )
    fallback_to_onnxruntime: bool = Field(
        True,
        description="Runtime tensorrt: when the engine cannot run here (no TensorRT, built for another GPU or "
        "TensorRT version, stale), warn and run model, else the engine's source ONNX, on ONNX Runtime.",
    )
    providers: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PROVIDERS),
        min_length=1,
        description="ONNX Runtime execution providers in order of preference; unavailable ones are skipped.",
    )
    input_size: int = Field(ge=32, description="Square input side of the model.")

    @model_validator(mode="after")
    def _engine_for_tensorrt(self) -> ModelConfig:
        if self.runtime == "tensorrt" and self.engine is None:
            raise ValueError(f"runtime tensorrt needs {self.section_key}.engine (an engine name in models.pack)")
        return self


class DetectorConfig(ModelConfig):
    """The product detector: D-FINE with the official export contract, and which boxes count."""

    section_key: ClassVar[str] = "detector"

    model: ConfigPath | None = Field(
        default=bundled.DETECTOR,
        description="D-FINE ONNX file (official export contract). Default: the D-FINE-N that ships in the "
        "package (bundled:detector.onnx, 320 px). None: no detector, the whole-frame fallback of paper "
        "§3.3 scores every frame and the evidence says so.",
    )
    input_size: int | None = Field(
        None, ge=32,
        description="Square detector input side. None: the side the graph fixes (the shipped detector: 320), "
        "else 640 (the official export).",
    )
    threshold: float = Field(0.5, ge=0, le=1, description="Minimum product-box score (det_threshold).")
    product_labels: list[int] = Field(
        default_factory=lambda: [0], min_length=1, description="Label ids that count as products."
    )
    batch_size: int = Field(4, ge=1, le=64, description="Sampled frames per detector call.")


class QualityConfig(ModelConfig):
    """The Strategy B quality regressor Q(crop) (paper §3.3.3) and how it runs."""

    section_key: ClassVar[str] = "scoring.quality"

    model: ConfigPath | None = Field(
        default=bundled.QUALITY,
        description="EfficientNetV2 quality regressor ONNX, its raw-score range in the file's metadata. "
        "Default: the EfficientNetV2-B0 that ships in the package (bundled:quality.onnx). Strategy B "
        "needs one, or runtime tensorrt.",
    )
    input_size: int = Field(224, ge=32, description="Side of the square crops fed to the regressor.")


# Keys of earlier versions: refused with their new place ("scoring.quality_model: moved to ...").
# Before the quality regressor had a model section, its keys were flat: scoring.quality_<key>.
MOVED_KEYS = {
    f"scoring.quality_{key}": f"scoring.quality.{key}"
    for key in ("model", "input_size", "runtime", "engine", "fallback_to_onnxruntime")
}


class ScoringConfig(Section):
    """The frame score's formula (paper §3.3) and, for Strategy B, the quality regressor."""

    strategy: Literal["baseline", "A", "B"] = Field(
        "A",
        description="baseline: last frame; A: detection confidence + Laplacian sharpness; "
        "B: detection confidence + learned quality (paper §3.3).",
    )
    w_d: float = Field(0.7, ge=0, le=1, description="Weight of detection confidence C_d.")
    w_s: float = Field(0.3, ge=0, le=1, description="Weight of sharpness C_s (Strategy A); w_d + w_s = 1.")
    w_q: float = Field(0.3, ge=0, le=1, description="Weight of learned quality Q (Strategy B); w_d + w_q = 1.")
    laplacian_norm: float = Field(
        500.0, gt=0, description="C_s = min(Var(Laplacian(ROI)) / laplacian_norm, 1) (paper: 500)."
    )
    quality: QualityConfig = QualityConfig()

    @model_validator(mode="after")
    def _weights_and_model(self) -> ScoringConfig:
        if abs(self.w_d + self.w_s - 1.0) > 1e-6:
            raise ValueError(f"w_d + w_s must equal 1 (got {self.w_d} + {self.w_s})")
        if abs(self.w_d + self.w_q - 1.0) > 1e-6:
            raise ValueError(f"w_d + w_q must equal 1 (got {self.w_d} + {self.w_q})")
        if self.strategy == "B" and self.quality.model is None and self.quality.runtime != "tensorrt":
            raise ValueError("strategy B needs scoring.quality.model (an EfficientNetV2 ONNX file)")
        return self


class SelectionConfig(Section):
    top_k: int = Field(1, ge=1, le=32, description="Frames kept; K > 1 fuses their OCR texts (paper §3.4.2).")
    spacing_divisor: float = Field(
        2.0, gt=0, description="Top-K minimum spacing d_min = n / (spacing_divisor * K) sampled frames (paper: 2)."
    )


class OcrConfig(Section):
    engine: Literal["rapidocr"] = Field("rapidocr", description="OCR engine.")
    min_confidence: float = Field(0.5, ge=0, le=1, description="Lines below this recognition score are dropped.")
    spaced_text: bool = Field(
        True, description="Read letter-spaced print in product boxes (a logo's tracked letters) that the detector "
        "boxes letter by letter: the gaps closed, the recogniser alone (edge/ocr/spaced.py).")
    fuse_similarity: float = Field(
        0.8, gt=0, le=1, description="Top-K text fusion: normalised lines at least this similar are merged."
    )


class AsrSection(Section):
    """What every ASR backend shares: the window's audio reaches it in chunks of ``chunk_seconds``."""

    chunk_seconds: float = Field(30.0, ge=5, le=600, description="Audio is transcribed in chunks of this length.")


class WhisperAsrConfig(AsrSection):
    backend: Literal["whisper"] = "whisper"
    model_dir: ConfigPath | None = Field(
        None, description="CTranslate2 Whisper model dir; None: the Whisper-base weights shipped in packages."
    )
    language: str | None = Field(None, description="Language code ('en', 'zh'); None: detect.")
    languages: tuple[str, ...] | None = Field(
        ("zh", "en"), description="With language None: detect among these only (the streams' languages; Whisper takes "
        "synthetic or accented English for Norwegian or Thai). None: any of Whisper's languages.")
    claim_hotwords: bool = Field(
        True, description="Decode each chunk a second time, given the terms of the claim rule sets written in the detected "
        "language as hotwords and that language's claim_prompts, and screen that text for claims only: a spoken claim "
        "comes out spelt as the rules write it (tools/asr_hotwords.py measures it). The text the fusion reads stays the "
        "first decoding's (told the claim terms, Whisper also hears them in names: the demo's 'Aurora' became 'Rural'). "
        "Doubles the decoding time of speech; off: one decoding, screened as well.")
    claim_prompts: dict[str, str] = Field(
        default_factory=lambda: {"en": "Prices are in yuan."}, description="Language -> text the claims decoding reads as "
        "if said before each chunk (with claim_hotwords): how the streams state prices, so that a spoken price keeps its "
        "unit. No number in it: Whisper may repeat a prompt's number into a silent chunk.")
    compute_type: str = Field("int8", description="CTranslate2 compute type (int8, float16, float32).")
    beam_size: int = Field(1, ge=1, le=10, description="Beam width; 1 is greedy (deterministic).")
    prompt: str | None = Field(
        None, max_length=500, description="Text Whisper reads as if said before each chunk (its initial_prompt): the words a "
        "stream uses, e.g. 'Prices are in yuan: only 99 yuan.' None: no prompt.")


class FunAsrConfig(AsrSection):
    backend: Literal["funasr"] = "funasr"
    model_dir: ConfigPath = Field(description="Paraformer model dir (model.onnx or model_quant.onnx, config.yaml, am.mvn, tokens.json).")
    vad_dir: ConfigPath | None = Field(None, description="FSMN-VAD model dir; None: no VAD, fixed chunks.")
    punc_dir: ConfigPath | None = Field(None, description="CT-Transformer punctuation model dir; None: no punctuation.")
    quantize: bool = Field(False, description="Load model_quant.onnx instead of model.onnx.")


class NoAsrConfig(AsrSection):
    backend: Literal["none"] = "none"


AsrConfig = Annotated[WhisperAsrConfig | FunAsrConfig | NoAsrConfig, Field(discriminator="backend")]


DASHSCOPE_URL = "https://dashscope.aliyuncs.com/compatible-mode/v1"
DASHSCOPE_INTL_URL = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"


def _refuse_plain_secret(data: object, key: str) -> object:
    """Secrets never live in YAML: a plain ``key`` is dropped (so no error echoes it) and refused."""
    if isinstance(data, dict) and key in data:
        data.pop(key)
        raise ValueError(
            f"a plain {key} is refused (secrets never live in YAML): "
            f"use {key}_env (an environment variable name) or {key}_file (a file holding it)"
        )
    return data


def _refuse_plain_api_key(data: object) -> object:
    return _refuse_plain_secret(data, "api_key")


class RetryConfig(Section):
    """Retries of one cloud call: 429, 5xx, timeouts and connection errors back off; other 4xx do not."""

    max_attempts: int = Field(4, ge=1, le=10, description="Attempts per call, the first one included.")
    max_wait_s: float = Field(
        20.0, ge=0, le=600, description="Total seconds one call may spend waiting between attempts (Retry-After included)."
    )
    base_delay_s: float = Field(0.5, ge=0, le=60, description="First back-off; doubles per retry, with jitter.")
    max_delay_s: float = Field(8.0, ge=0, le=300, description="Cap on one exponential back-off step.")


class CloudConfig(Section):
    """An OpenAI-compatible chat-completions endpoint (DashScope compatible mode by default)."""

    base_url: str = Field(
        DASHSCOPE_URL,
        pattern=r"^https?://[^\s]+$",
        description=f"API base URL; '/chat/completions' is appended. DashScope: {DASHSCOPE_URL} (Beijing) or "
        f"{DASHSCOPE_INTL_URL} (Singapore). Keys are per region.",
    )
    model: str = Field("qwen-plus", min_length=1, description="Fusion LLM (paper §3.5: Qwen-Plus).")
    api_key_env: str | None = Field(
        "DASHSCOPE_API_KEY", min_length=1, description="Environment variable holding the API key (None: no variable)."
    )
    api_key_file: ConfigPath | None = Field(
        None,
        description="File holding the API key (e.g. a systemd credential); read instead of api_key_env when set. "
        "None and no api_key_env: requests carry no key (a local server).",
    )
    connect_timeout_s: float = Field(5.0, gt=0, le=120, description="Seconds to establish a connection.")
    read_timeout_s: float = Field(30.0, gt=0, le=600, description="Seconds to wait for the reply to one request.")
    seed: int = Field(42, ge=0, description="Sampling seed sent with every request (with temperature 0: repeatable).")
    max_tokens: int = Field(512, ge=16, le=8192, description="Upper bound on the tokens of one answer.")
    json_schema: bool = Field(
        False,
        description="Also send the answer's JSON Schema in response_format (schema-constrained decoding, "
        "e.g. llama.cpp's server); plain JSON mode otherwise.",
    )
    retry: RetryConfig = RetryConfig()

    _no_plain_key = model_validator(mode="before")(_refuse_plain_api_key)


class VlConfig(Section):
    """Qwen-VL on the best product crop of the best keyframe (paper §3.2), when enabled."""

    enabled: bool = Field(False, description="Send one small crop per window to the VL model (needs mode direct).")
    model: str = Field("qwen-vl-plus", min_length=1, description="Vision-language model (qwen-vl-plus, qwen-vl-max).")
    max_side: int = Field(512, ge=64, le=2048, description="The crop is downscaled to at most this many pixels a side.")
    jpeg_quality: int = Field(85, ge=30, le=100, description="JPEG quality of the uploaded crop.")


class FusionConfig(Section):
    mode: Literal["direct", "local", "central"] = Field(
        "local",
        description="direct: the box calls the cloud LLM (falls back to the local engine on failure); "
        "local: local rules only, no network; central: the box publishes evidence only and a central fusion "
        "worker publishes the result.",
    )
    engine: Literal["local-rules"] = Field(
        "local-rules", description="Local engine: the whole fusion in local mode, the fallback in direct mode (paper §3.5 principles)."
    )
    structuring: bool = Field(
        False,
        description="direct mode: first turn the raw OCR and ASR outputs into structured evidence units with the LLM "
        "(paper §3.2); two more calls per window.",
    )
    cloud: CloudConfig = CloudConfig()
    vl: VlConfig = VlConfig()

    _no_plain_key = model_validator(mode="before")(_refuse_plain_api_key)

    @model_validator(mode="after")
    def _vl_needs_direct(self) -> FusionConfig:
        if self.vl.enabled and self.mode != "direct":
            raise ValueError("fusion.vl.enabled needs fusion.mode direct (local mode makes no network calls)")
        return self


# The rule sets that ship with the package (edge/claims/sets/NAME.yaml).
ShippedRuleSet = Literal["cn-mainland", "generic-en"]


class WatchEntry(Section):
    """A brand (or one of its products) a site screens for, e.g. one reported as counterfeited."""

    brand: str = Field(min_length=1, description="The brand as packaging or speech names it.")
    aliases: tuple[str, ...] = Field((), description="Other spellings of the brand (its Chinese name, a transliteration).")
    product: str | None = Field(None, min_length=1, description="Only this product of the brand (words of its name); none: all.")
    reason: str = Field("site watchlist", min_length=1, description="Why it is listed (a case number, a notice); shown in the flag.")
    severity: Literal["low", "medium", "high"] = "high"


class ClaimsConfig(Section):
    """Screening for false advertising (issue 15): claim rule sets over speech and OCR, and a watchlist."""

    enabled: bool = Field(True, description="Screen every window's speech segments and OCR lines; flags go into evidence and result.")
    rule_sets: tuple[ShippedRuleSet, ...] = Field(
        ("cn-mainland", "generic-en"), description="Shipped rule sets to apply (edge/claims/sets): cn-mainland, generic-en."
    )
    files: tuple[ConfigPath, ...] = Field((), description="A site's own rule sets (YAML in the shipped sets' format).")
    watchlist: tuple[WatchEntry, ...] = Field((), description="Brands or products to flag when a window shows them.")


class OutboxConfig(Section):
    """The durable outbox every evidence and result is committed to before it is sent."""

    path: ConfigPath = Field(
        Path("/var/lib/liveguard/outbox.sqlite"),
        description="SQLite file of the outbox (WAL); under systemd, in the service's StateDirectory.",
    )
    max_rows: int = Field(100_000, ge=1, description="Rows kept at most; past it the oldest are dropped (counted, logged).")
    max_mb: float = Field(512.0, gt=0, description="Payload megabytes kept at most; past it the oldest are dropped (counted).")
    max_age_s: float = Field(
        7 * 24 * 3600.0, gt=0, description="Rows older than this are dropped unsent (counted): stale on arrival."
    )


class BrokerConfig(Section):
    """How one MQTT v5 client reaches the broker: address, credentials, TLS, flow control, reconnects.

    The box's publisher (``transport.mqtt``) and the centre's collector and fusion worker
    (``centre.mqtt``) connect the same way.
    """

    host: str = Field("127.0.0.1", min_length=1, description="Broker host name or address.")
    port: int = Field(1883, ge=1, le=65535, description="Broker port (8883 for TLS by convention).")
    client_id: str | None = Field(None, min_length=1, description="MQTT client id; None: liveguard-<site>-<device> on a box, "
                                  "liveguard-<role>-<host name> at the centre.")
    keepalive_s: int = Field(30, ge=5, le=3600, description="Keep-alive interval; a silent broker is noticed after 1.5 times it.")
    topic_prefix: str = Field("liveguard", min_length=1, pattern=r"^[^#+$/][^#+]*$", description="First level of every topic.")
    username: str | None = Field(None, min_length=1, description="User name; the password comes from password_env or password_file.")
    password_env: str | None = Field(None, min_length=1, description="Environment variable holding the broker password.")
    password_file: ConfigPath | None = Field(None, description="File holding the broker password (e.g. a systemd credential).")
    ca_file: ConfigPath | None = Field(None, description="CA bundle that signs the broker's certificate; set: TLS is used.")
    cert_file: ConfigPath | None = Field(None, description="Client certificate (PEM) for TLS client authentication.")
    key_file: ConfigPath | None = Field(None, description="Client private key (PEM) of cert_file.")
    message_expiry_s: int = Field(
        7 * 24 * 3600, ge=1, description="MQTT v5 message expiry: a broker drops a message nobody fetched by then."
    )
    max_inflight: int = Field(20, ge=1, le=1000, description="Messages sent and not yet acknowledged at most (mosquitto: 20).")
    reconnect_min_s: float = Field(1.0, gt=0, le=60, description="First reconnect delay; doubles up to reconnect_max_s.")
    reconnect_max_s: float = Field(60.0, gt=0, le=3600, description="Longest reconnect delay.")

    _no_plain_password = model_validator(mode="before")(lambda data: _refuse_plain_secret(data, "password"))

    @model_validator(mode="after")
    def _tls_pair(self) -> BrokerConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError(f"{self.section_name}: cert_file and key_file go together (TLS client authentication)")
        return self

    section_name: ClassVar[str] = "centre.mqtt"


class MqttConfig(BrokerConfig):
    """The MQTT v5 broker documents go to (DESIGN.md topic layout, QoS 1)."""

    enabled: bool = Field(False, description="Publish evidence and results from the outbox to this broker.")

    section_name: ClassVar[str] = "transport.mqtt"


class HttpsSinkConfig(Section):
    """An HTTPS endpoint that also receives every evidence and result from the outbox (POST, JSON)."""

    enabled: bool = Field(False, description="POST each document to url; a 2xx reply removes it from the outbox.")
    url: str = Field(
        "https://collector.invalid/liveguard", pattern=r"^https?://[^\s]+$",
        description="Endpoint; each document is POSTed with its id as the Idempotency-Key header.",
    )
    token_env: str | None = Field(None, min_length=1, description="Environment variable holding a bearer token.")
    token_file: ConfigPath | None = Field(None, description="File holding a bearer token (e.g. a systemd credential).")
    ca_file: ConfigPath | None = Field(None, description="CA bundle for the endpoint's certificate; None: the system store.")
    timeout_s: float = Field(10.0, gt=0, le=300, description="Seconds for one request (connect and read).")
    retry_min_s: float = Field(1.0, gt=0, le=60, description="First retry delay after a failure; doubles up to retry_max_s.")
    retry_max_s: float = Field(60.0, gt=0, le=3600, description="Longest retry delay.")

    _no_plain_token = model_validator(mode="before")(lambda data: _refuse_plain_secret(data, "token"))


class TransportConfig(Section):
    outbox: OutboxConfig = OutboxConfig()
    mqtt: MqttConfig = MqttConfig()
    https: HttpsSinkConfig = HttpsSinkConfig()


_URL_PASSWORD = re.compile(r"^([a-z][a-z0-9+.-]*://[^/@\s:]*):[^/@\s]*@", re.IGNORECASE)


class StreamConfig(Section):
    """One stream `liveguard serve` watches; the source kind follows from the URL's scheme."""

    id: str = Field(min_length=1, pattern=r"^[^/#+$\s]+$", description="Stream id: evidence ids and one MQTT topic level.")
    url: str = Field(
        min_length=1,
        description="rtsp://, rtmp://, http(s)://...flv (HTTP-FLV), http(s)://...m3u8 (HLS), file:// or a path to "
        "a video file, or a path to a folder watched for new files. Credentials never sit in the URL: "
        "use username and password_env/password_file.",
    )
    enabled: bool = Field(True, description="false: configured but not served.")
    username: str | None = Field(None, min_length=1, description="User name for the source; inserted into the URL at open.")
    password_env: str | None = Field(None, min_length=1, description="Environment variable holding the source's password.")
    password_file: ConfigPath | None = Field(None, description="File holding the source's password.")

    @model_validator(mode="before")
    @classmethod
    def _no_password_in_url(cls, data: object) -> object:
        url = data.get("url") if isinstance(data, dict) else None
        if isinstance(url, str) and _URL_PASSWORD.match(url):
            data["url"] = _URL_PASSWORD.sub(r"\1***@", url)  # so that no message echoes it  # type: ignore[index]
            raise ValueError(
                "a password in the url is refused (secrets never live in YAML): "
                "use username with password_env or password_file"
            )
        return data


class SourcesConfig(Section):
    """How live sources are opened and read (PyAV/FFmpeg timeouts per protocol, reconnects, the stall watchdog)."""

    open_timeout_s: float = Field(10.0, gt=0, le=120, description="Seconds to open and probe a live source.")
    read_timeout_s: float = Field(5.0, gt=0, le=120, description="Seconds one read may block (FFmpeg timeout/rw_timeout).")
    stall_s: float = Field(
        15.0, gt=0, le=600, description="No frame for this long: the reader is abandoned and the source reconnected."
    )
    reconnect_min_s: float = Field(1.0, gt=0, le=60, description="First reconnect delay; doubles (with jitter) up to reconnect_max_s.")
    reconnect_max_s: float = Field(30.0, gt=0, le=3600, description="Longest reconnect delay.")
    rtsp_transport: Literal["tcp", "udp"] = Field("tcp", description="RTSP transport (tcp survives NAT and loss).")
    folder_poll_s: float = Field(2.0, gt=0, le=3600, description="Seconds between scans of a watched folder.")
    folder_settle_s: float = Field(
        2.0, ge=0, le=3600, description="A file in a watched folder is read once its size has not changed for this long."
    )


class WindowsConfig(Section):
    """How a stream is cut into windows, each one evidence and one result (DESIGN.md)."""

    window_s: float = Field(30.0, ge=2, le=3600, description="Length of a live stream's window in stream seconds.")
    overlap_s: float = Field(0.0, ge=0, le=3600, description="Seconds shared by consecutive windows (< window_s).")
    files: Literal["whole", "windows"] = Field(
        "whole", description="whole: a file (or a watched folder's file) is one window; windows: cut like a live stream."
    )

    @model_validator(mode="after")
    def _overlap_below_window(self) -> WindowsConfig:
        if self.overlap_s >= self.window_s:
            raise ValueError(f"windows.overlap_s ({self.overlap_s}) must be below windows.window_s ({self.window_s})")
        return self


class HealthConfig(Section):
    """The daemon's HTTP endpoint: liveness, readiness and Prometheus metrics."""

    enabled: bool = Field(True, description="Serve /healthz, /readyz and /metrics.")
    host: str = Field("127.0.0.1", min_length=1, description="Listen address (loopback: only this box can ask).")
    port: int = Field(9108, ge=0, le=65535, description="Listen port (0: any free port, logged).")


class KeyframeStoreConfig(Section):
    """The keyframe JPEGs the evidence names by sha256, kept on the box for the centre to fetch (cmd/keyframe)."""

    enabled: bool = Field(True, description="Keep each window's keyframe JPEGs, written before its documents are committed.")
    path: ConfigPath | None = Field(None, description="Folder of <sha256>.jpg files; None: <state_dir>/keyframes.")
    max_files: int = Field(5000, ge=1, le=1_000_000, description="Files kept at most; past it the oldest are removed (counted).")
    max_mb: float = Field(512.0, gt=0, description="Megabytes kept at most; past it the oldest files are removed (counted).")


class ServiceConfig(Section):
    """`liveguard serve`: the daemon's own state, shutdown bound and reports."""

    state_dir: ConfigPath = Field(
        Path("/var/lib/liveguard"),
        description="Where the daemon keeps state (watched-folder memory); under systemd, the StateDirectory.",
    )
    shutdown_s: float = Field(
        20.0, gt=0, le=600,
        description="SIGTERM: windows in flight get this long to finish (their documents committed), then the daemon exits.",
    )
    stats_interval_s: float = Field(60.0, ge=1, le=3600, description="Seconds between stats documents on the stats topic.")
    health: HealthConfig = HealthConfig()
    keyframes: KeyframeStoreConfig = KeyframeStoreConfig()

    @property
    def keyframes_path(self) -> Path:
        """Where the keyframe store lives: ``keyframes.path``, or ``keyframes`` in the state directory."""
        return self.keyframes.path if self.keyframes.path is not None else self.state_dir / "keyframes"


_STORE_URL = re.compile(r"^(sqlite:///.+|postgres(ql)?://[^\s]+)$")


class StoreConfig(Section):
    """Where the centre keeps what boxes publish: a SQLite file (one host) or PostgreSQL (a fleet)."""

    url: str = Field(
        "sqlite:////var/lib/liveguard/centre.sqlite",
        description="sqlite:///RELATIVE/PATH or sqlite:////ABSOLUTE/PATH, or postgresql://USER@HOST[:PORT]/DB[?sslmode=...]. "
        "No password in the URL: use password_env or password_file (or libpq's PGPASSFILE).",
    )
    password_env: str | None = Field(None, min_length=1, description="Environment variable holding the PostgreSQL password.")
    password_file: ConfigPath | None = Field(None, description="File holding the PostgreSQL password (e.g. a systemd credential).")
    connect_timeout_s: float = Field(10.0, gt=0, le=300, description="Seconds to reach the database.")

    _no_plain_password = model_validator(mode="before")(lambda data: _refuse_plain_secret(data, "password"))

    @model_validator(mode="before")
    @classmethod
    def _no_password_in_url(cls, data: object) -> object:
        url = data.get("url") if isinstance(data, dict) else None
        if isinstance(url, str) and _URL_PASSWORD.match(url):
            data["url"] = _URL_PASSWORD.sub(r"\1***@", url)  # type: ignore[index]
            raise ValueError("a password in the url is refused (secrets never live in YAML): use password_env or password_file")
        return data

    @field_validator("url")
    @classmethod
    def _sqlite_relative_to_config(cls, url: str, info: ValidationInfo) -> str:
        """A relative SQLite path is relative to the YAML file's folder, like every path of the config."""
        base = (info.context or {}).get("base_dir")
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and base is not None:
            return "sqlite:///" + str(Path(base).resolve() / url.removeprefix("sqlite:///"))
        return url

    @model_validator(mode="after")
    def _known_scheme(self) -> StoreConfig:
        if not _STORE_URL.match(self.url):
            raise ValueError(f"centre.store.url {self.url!r}: expected sqlite:///PATH or postgresql://USER@HOST/DB")
        return self


class CollectorConfig(Section):
    """`liveguard collect`: a shared subscription with a persistent session, stored in batches."""

    group: str | None = Field(
        None, pattern=r"^[^/#+$\s]+$",
        description="Shared subscription group ($share/<group>/...): collectors of one group split the messages. None: a "
        "plain subscription, each collector gets everything (the store keeps one copy). mosquitto 2.0 forgets shared "
        "subscriptions when it restarts, and drops what boxes publish until the collectors are back: see the README.",
    )
    kinds: list[Literal["result", "evidence", "status", "stats"]] = Field(
        ["result", "evidence", "status", "stats"], min_length=1, description="Which documents to subscribe to and store."
    )
    session_expiry_s: int = Field(
        7 * 24 * 3600, ge=60, description="How long the broker keeps this collector's session (and queues for it) while it is away.",
    )
    batch_max: int = Field(200, ge=1, le=10000, description="Messages committed in one transaction at most.")
    batch_ms: int = Field(100, ge=0, le=60000, description="Milliseconds a batch waits for more messages before it is committed.")
    receive_maximum: int = Field(
        500, ge=1, le=65535, description="Messages the broker may send before this collector acknowledged them (MQTT v5 Receive Maximum).",
    )
    max_payload_kb: int = Field(1024, ge=1, description="A larger message is rejected (counted, kept in the rejects table) unparsed.")
    keep_reject_kb: int = Field(16, ge=0, le=1024, description="Bytes of a rejected payload kept (with its size and sha256).")


class WorkerConfig(Section):
    """`liveguard fuse --serve`: the central fusion worker for boxes whose ``fusion.mode`` is central."""

    group: str = Field("fusion", pattern=r"^[^/#+$\s]+$", description="Shared subscription group of the workers.")
    session_expiry_s: int = Field(7 * 24 * 3600, ge=60, description="How long the broker keeps this worker's session while it is away.")
    receive_maximum: int = Field(
        4, ge=1, le=1000, description="Evidence the broker may hand this worker unacknowledged (fusion is slow: keep it small).",
    )
    outbox: OutboxConfig = OutboxConfig(path=Path("/var/lib/liveguard/fusion-outbox.sqlite"))
    max_payload_kb: int = Field(1024, ge=1, description="Larger evidence is refused unparsed (logged, counted).")


class WebConfig(Section):
    """`liveguard web`: the operators' read-only page over the store (results, evidence, keyframes, devices)."""

    host: str = Field("127.0.0.1", min_length=1, description="Address to listen on; loopback by default (put a TLS proxy in front).")
    port: int = Field(8080, ge=1, le=65535, description="Port to listen on.")
    users_file: ConfigPath | None = Field(
        None, description="Operators, one `name:scrypt$...` line each (`liveguard web passwd NAME` writes one); never passwords.")
    users_env: str | None = Field(None, min_length=1, description="Environment variable holding such lines (newline-separated).")
    session_s: float = Field(8 * 3600.0, ge=60, le=7 * 24 * 3600, description="A login lasts this long without use.")
    keyframe_timeout_s: float = Field(5.0, gt=0, le=60, description="How long to wait for a box to send a keyframe.")
    cache_dir: ConfigPath = Field(Path("/var/cache/liveguard/keyframes"), description="Keyframes fetched from boxes, by sha256.")
    cache_max_mb: float = Field(256.0, gt=0, description="Cached keyframes kept at most; the oldest go first.")
    mqtt_username: str | None = Field(
        None, min_length=1, description="Broker user of the page (the ACL's `web`: requests keyframes only); None: centre.mqtt's.")
    mqtt_password_env: str | None = Field(None, min_length=1, description="Environment variable holding that user's password.")
    mqtt_password_file: ConfigPath | None = Field(None, description="File holding that user's password.")
    page_size: int = Field(50, ge=1, le=500, description="Results per page.")


class CentreConfig(Section):
    """The monitoring centre's programs: the collector, the fusion worker and the queries over their store."""

    mqtt: BrokerConfig = BrokerConfig()
    store: StoreConfig = StoreConfig()
    collector: CollectorConfig = CollectorConfig()
    worker: WorkerConfig = WorkerConfig()
    web: WebConfig = WebConfig()


class RuntimeConfig(Section):
    threads: int = Field(2, ge=1, le=64, description="Intra-op threads for each model (ONNX Runtime, OCR, ASR).")
    queue_frames: int = Field(8, ge=1, le=256, description="Decoded frames buffered ahead of the detector.")


class Config(Section):
    """The root of the configuration tree."""

    device: DeviceConfig = DeviceConfig()
    sampling: SamplingConfig = SamplingConfig()
    models: ModelsConfig = ModelsConfig()
    detector: DetectorConfig = DetectorConfig()
    scoring: ScoringConfig = ScoringConfig()
    selection: SelectionConfig = SelectionConfig()
    ocr: OcrConfig = OcrConfig()
    asr: AsrConfig = WhisperAsrConfig()
    fusion: FusionConfig = FusionConfig()
    claims: ClaimsConfig = ClaimsConfig()
    runtime: RuntimeConfig = RuntimeConfig()
    transport: TransportConfig = TransportConfig()
    sources: SourcesConfig = SourcesConfig()
    windows: WindowsConfig = WindowsConfig()
    service: ServiceConfig = ServiceConfig()
    centre: CentreConfig = CentreConfig()
    streams: list[StreamConfig] = Field(default_factory=list, description="Streams `liveguard serve` watches.")

    @model_validator(mode="after")
    def _unique_stream_ids(self) -> Config:
        seen: set[str] = set()
        for stream in self.streams:
            if stream.id in seen:
                raise ValueError(f"streams: id {stream.id!r} appears twice")
            seen.add(stream.id)
        return self

    @model_validator(mode="after")
    def _engines_need_a_pack(self) -> Config:
        models: tuple[ModelConfig, ...] = (self.detector, self.scoring.quality)
        uses = [f"{model.section_key}.runtime" for model in models if model.runtime == "tensorrt"]
        if uses and self.models.pack is None:
            raise ValueError(f"{uses[0]} = tensorrt needs models.pack (the model pack manifest holding the engine)")
        return self

    @model_validator(mode="after")
    def _baseline_is_one_frame(self) -> Config:
        if self.scoring.strategy == "baseline" and self.selection.top_k > 1:
            raise ValueError(
                f"selection.top_k = {self.selection.top_k}: strategy baseline takes the last frame only; use top_k 1"
            )
        return self
