"""Source URLs: the kind by scheme, credentials in and masked out, and FFmpeg options that bound every read."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config.models import SourcesConfig
from edge.sources.urls import av_options, av_timeouts, masked, source_kind, with_credentials


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("rtsp://10.0.0.5:554/Streaming/Channels/101", "rtsp"),
        ("RTSPS://cam.local/live", "rtsp"),
        ("rtmp://127.0.0.1/live/cam1", "rtmp"),
        ("rtmps://push.example.com/app/key", "rtmp"),
        ("http://cdn.example.com/live/room.flv", "http-flv"),
        ("https://cdn.example.com/live/room.FLV?auth_key=1-0-0-abc&x=1", "http-flv"),
        ("http://127.0.0.1:8080/hls/live.m3u8", "hls"),
        ("https://example.com/a/index.m3u8?token=t", "hls"),
    ],
)
def test_kind_by_scheme(url: str, kind: str) -> None:
    assert source_kind(url) == kind


def test_paths_are_files_or_folders(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    assert source_kind(str(clip)) == "file"
    assert source_kind(clip.as_uri()) == "file"
    assert source_kind(str(tmp_path)) == "folder"
    assert source_kind(tmp_path.as_uri()) == "folder"
    assert source_kind("relative/missing.mp4") == "file"  # opening it says what is wrong
    assert source_kind("incoming/") == "folder"


@pytest.mark.parametrize(
    "url", ["ftp://host/x.mp4", "http://example.com/live/room", "https://example.com/index.html", "srt://127.0.0.1:9000", "  "]
)
def test_anything_else_is_refused_naming_the_url(url: str) -> None:
    with pytest.raises(ValueError) as caught:
        source_kind(url)
    assert url.strip() in str(caught.value) or "empty" in str(caught.value)


def test_a_refused_url_does_not_echo_its_password() -> None:
    with pytest.raises(ValueError) as caught:
        source_kind("ftp://user:hunter2@host/x")
    assert "hunter2" not in str(caught.value) and "ftp://user:***@host/x" in str(caught.value)


def test_credentials_are_percent_encoded_and_masked() -> None:
    url = with_credentials("rtsp://10.0.0.5:554/live?channel=1", "ad min", "p@ss:w/rd%")
    assert url == "rtsp://ad%20min:p%40ss%3Aw%2Frd%25@10.0.0.5:554/live?channel=1"
    assert masked(url) == "rtsp://ad%20min:***@10.0.0.5:554/live?channel=1"
    assert with_credentials("rtsp://old:pw@h/live", "new", "x") == "rtsp://new:x@h/live"
    assert with_credentials("rtmp://h/app/key", "user") == "rtmp://user@h/app/key"
    assert with_credentials("rtsp://h/live", None, None) == "rtsp://h/live"
    with pytest.raises(ValueError, match="needs a username"):
        with_credentials("rtsp://h/live", None, "secret")
    assert masked("rtsp://user@h/live") == "rtsp://user@h/live"
    assert masked("http://h/a.flv") == "http://h/a.flv" and masked("/srv/clips/a.mp4") == "/srv/clips/a.mp4"


def test_options_bound_every_protocol() -> None:
    sources = SourcesConfig(read_timeout_s=2.5, rtsp_transport="udp", stall_s=15)
    rtsp = av_options("rtsp", sources)
    assert rtsp["rtsp_transport"] == "udp" and rtsp["timeout"] == "2500000" and "stimeout" not in rtsp
    assert rtsp["analyzeduration"] == "500000" and 100_000 <= int(rtsp["probesize"]) <= 500_000
    for kind in ("rtmp", "http-flv", "hls"):
        options = av_options(kind, sources)
        assert options["rw_timeout"] == "2500000" and "timeout" not in options
        assert int(options["analyzeduration"]) <= 2_000_000 and options["fpsprobesize"] == "0"
    assert av_options("hls", sources)["m3u8_hold_counters"] == "6"
    assert "m3u8_hold_counters" not in av_options("rtmp", sources)
    assert av_options("file", sources) == {}
    assert av_timeouts("rtsp", sources) == (sources.open_timeout_s, 2.5)
    assert av_timeouts("hls", sources) == (sources.open_timeout_s, 17.5)  # a read waits for the next segment
    with pytest.raises(ValueError, match="unknown source kind"):
        av_options("srt", sources)
