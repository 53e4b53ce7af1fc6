"""What a source URL is (its kind, chosen by scheme), how credentials go into it, how it is logged, and the
FFmpeg options that keep every open and read of a live source bounded (field-facts §2).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from edge.config.models import SourcesConfig

__all__ = ["KINDS", "LIVE_KINDS", "av_options", "av_timeouts", "local_path", "masked", "source_kind", "with_credentials"]

KINDS = ("file", "folder", "rtsp", "rtmp", "http-flv", "hls")
LIVE_KINDS = ("rtsp", "rtmp", "http-flv", "hls")

_SCHEMES = {"rtsp": "rtsp", "rtsps": "rtsp", "rtmp": "rtmp", "rtmps": "rtmp"}

# Probing: FFmpeg's defaults (5 s, 5 MB) make a live open take ~5 s. 500 kB of probe covers a
# keyframe of a few-Mbit/s camera.
_PROBESIZE = "500000"
# RTSP declares its streams in the SDP and HLS segments start on a keyframe: half a second of probing finds
# both. FLV (RTMP, HTTP-FLV) declares nothing, and nginx-rtmp sends a new player audio at once but video only
# from the next keyframe, so 0.5 s often finds no video stream at all: probe up to 2 s (a GOP), and with
# fpsprobesize 0 probing stops as soon as every stream is found instead of counting frames for the rate.
_ANALYZE_US = {"rtsp": 500_000, "hls": 500_000, "rtmp": 2_000_000, "http-flv": 2_000_000}
# HLS: a dead segmenter is re-polled forever unless m3u8_hold_counters ends it in EOF (field-facts §2d). The
# demuxer counts every pass over the playlist that finds no newer segment than the one it is on, including the
# pass that then finds it; passes come every half target duration, so one segment interval alone costs 2 to 3.
# 3 (as field-facts used) cut a healthy 1 s-segment stream after a segment came 0.2 s late; 6 ends a dead one
# about 3 target durations after its last segment.
_HLS_HOLD_COUNTERS = "6"
# Start at the newest segment, not 3 back: lower latency, and a reconnect re-reads at most one segment.
_HLS_START_INDEX = "-1"


def source_kind(url: str) -> str:
    """One of :data:`KINDS` for ``url``: by scheme; ``http(s)`` by the path's ending (``.flv`` or ``.m3u8``,
    query allowed); ``file://`` or a plain path is a ``folder`` when it names a directory, else a ``file``."""
    text = url.strip()
    if not text:
        raise ValueError("empty source url")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in _SCHEMES:
        return _SCHEMES[scheme]
    if scheme in ("http", "https"):
        path = parts.path.lower()
        if path.endswith(".flv"):
            return "http-flv"
        if path.endswith(".m3u8"):
            return "hls"
        raise ValueError(f"{masked(text)}: an http(s) source must end in .flv (HTTP-FLV) or .m3u8 (HLS)")
    if scheme == "file" or scheme == "" or (len(scheme) == 1 and text[1:3] in (":\\", ":/")):  # a drive letter too
        return "folder" if text.endswith(("/", "\\")) or local_path(text).is_dir() else "file"
    raise ValueError(f"{masked(text)}: unsupported source scheme {scheme!r} (rtsp, rtmp, http(s) .flv/.m3u8, file or a path)")


def local_path(url: str) -> Path:
    """The filesystem path of a ``file://`` URL or a plain path."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "file":
        return Path(unquote(parts.path))
    return Path(url)


def with_credentials(url: str, username: str | None, password: str | None = None) -> str:
    """``url`` with ``username[:password]@`` (percent-encoded) as its userinfo, replacing any there.

    Without a username the URL is returned unchanged; a password without a username is an error.
    """
    if not username:
        if password:
            raise ValueError(f"{masked(url)}: a password needs a username")
        return url
    parts = urlsplit(url)
    if not parts.netloc:
        raise ValueError(f"{masked(url)}: credentials need a network url (scheme://host/...)")
    userinfo = quote(username, safe="")
    if password is not None:
        userinfo += ":" + quote(password, safe="")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"{userinfo}@{host}", parts.path, parts.query, parts.fragment))


def masked(url: str) -> str:
    """``url`` for logs and metrics: a password in its userinfo becomes ``***`` (the user name stays)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user, sep, _ = userinfo.partition(":")
    return urlunsplit((parts.scheme, f"{user}{':***' if sep else ''}@{host}", parts.path, parts.query, parts.fragment))


def av_options(kind: str, sources: SourcesConfig) -> dict[str, str]:
    """FFmpeg options for opening a ``kind`` source: bounded probing, and a protocol timeout on every read.

    rtsp: ``rtsp_transport`` and ``timeout`` (µs; the old ``stimeout`` is silently ignored by FFmpeg 5+);
    rtmp and http-flv: ``rw_timeout`` (µs); hls: ``rw_timeout`` plus ``m3u8_hold_counters`` so that a
    playlist that stops growing ends in EOF, and ``live_start_index`` -1. Files get no options. PyAV's own ``timeout=(open, read)``
    goes to ``av.open`` beside these.
    """
    if kind in ("file", "folder"):
        return {}
    if kind not in LIVE_KINDS:
        raise ValueError(f"unknown source kind {kind!r} (one of {', '.join(KINDS)})")
    read_us = str(max(1, round(sources.read_timeout_s * 1_000_000)))
    options = {"analyzeduration": str(_ANALYZE_US[kind]), "probesize": _PROBESIZE, "fpsprobesize": "0"}
    if kind == "rtsp":
        options.update(rtsp_transport=sources.rtsp_transport, timeout=read_us)
    else:
        options["rw_timeout"] = read_us
    if kind == "hls":
        options.update(m3u8_hold_counters=_HLS_HOLD_COUNTERS, live_start_index=_HLS_START_INDEX)
    return options


def av_timeouts(kind: str, sources: SourcesConfig) -> tuple[float, float]:
    """PyAV's ``timeout=(open_s, read_s)`` for ``kind``: FFmpeg's interrupt callback, the one bound on a call
    that no protocol timeout covers; it ends the call with ``av.error.ExitError``.

    HLS waits inside one read for the next segment (up to a target duration, often 6-10 s): a read bound
    shorter than that cut healthy streams here (EOF or ExitError), so HLS reads get ``stall_s + read_timeout_s``
    and a dead playlist is left to ``m3u8_hold_counters`` and the stall watchdog.
    """
    if kind == "hls":
        return sources.open_timeout_s, sources.stall_s + sources.read_timeout_s
    return sources.open_timeout_s, sources.read_timeout_s
