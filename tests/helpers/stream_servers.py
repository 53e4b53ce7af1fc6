"""Real live-stream servers on free loopback ports, for tests of live sources and of the daemon.

Each server is a context manager (``with RtspServer(tmp_path) as server: ... server.url``) whose processes
are its own children, started in their own session; leaving the block, ``close()`` or interpreter exit
SIGKILLs them, so a failing test leaves nothing behind. Every readiness wait is bounded and raises
``RuntimeError`` with the tail of the server's log.

The ways a source goes away, as a camera or a network does it (docs/field-facts §2):

- ``stop()``: SIGKILL, so the sockets close (a camera that reboots); ``start()`` brings it back on the same
  port and URL (a source that "disappears for 15 s and returns").
- ``freeze()`` / ``thaw()``: SIGSTOP / SIGCONT, so the socket stays open and no byte flows (a network
  partition: only timeouts notice it).

Servers: :class:`RtspServer` (gst-rtsp-server under Debian's ``/usr/bin/python3``, whose python3-gi the venv
cannot import), :class:`RtmpServer` (nginx-rtmp plus an ffmpeg publisher), :class:`HttpFlvServer`
(``ffmpeg -listen 1``, respawned after each client), :class:`HlsServer` (ffmpeg's HLS muxer plus
``http.server``) and :class:`SilentServer` (accepts TCP connections and never answers). :func:`make_clip`
encodes the small looping clip the ffmpeg-based servers send.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

GST_PYTHON = "/usr/bin/python3"  # python3-gi is installed for Debian's Python only
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
READY_S = 20.0  # the longest any readiness wait may take


def _gst_rtsp_available() -> bool:
    if not Path(GST_PYTHON).is_file():
        return False
    probe = "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"
    try:
        return subprocess.run([GST_PYTHON, "-c", probe], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg CLI (apt-get install -y ffmpeg)")
needs_rtsp_server = pytest.mark.skipif(
    not _gst_rtsp_available(),
    reason="needs gst-rtsp-server for /usr/bin/python3 (apt-get install -y python3-gi gir1.2-gst-rtsp-server-1.0 "
    "gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly)",
)
needs_nginx_rtmp = pytest.mark.skipif(
    not (Path(NGINX).is_file() and RTMP_MODULE.is_file()),
    reason="needs nginx with the RTMP module (apt-get install -y nginx-light libnginx-mod-rtmp)",
)


def free_port() -> int:
    """A TCP port nothing listens on now (the kernel's pick on 127.0.0.1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port: int) -> bool:
    """Whether something listens on ``port``, read from /proc without connecting (a connect would be the
    one client an ``ffmpeg -listen 1`` serves)."""
    wanted = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[1].endswith(wanted) and fields[3] == "0A":
                return True
    return False


def wait_until(ready: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> None:
    """Poll ``ready`` every 50 ms for at most ``timeout`` s; RuntimeError (with the log's tail) after that."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            tail = ""
            if log is not None and log.exists():
                tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-8:])
            raise RuntimeError(f"{what} not ready after {timeout:.0f} s{': ' + tail if tail else ''}")
        time.sleep(0.05)


def make_clip(folder: Path, seconds: float = 4.0, fps: int = 10, size: str = "320x240", audio: bool = True) -> Path:
    """A small H.264 (+ AAC 440 Hz) MP4 of ``testsrc`` with a keyframe every 10 frames, encoded once per folder."""
    path = folder / f"clip_{seconds}s_{fps}fps_{size}_{'av' if audio else 'v'}.mp4"
    if path.exists():
        return path
    args = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={size}:rate={fps}"]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
    args += ["-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-g", "10", "-pix_fmt", "yuv420p"]
    if audio:
        args += ["-c:a", "aac", "-b:a", "48k", "-ac", "1"]
    tmp = path.with_suffix(".part.mp4")
    subprocess.run([*args, "-threads", "2", str(tmp)], check=True, capture_output=True, timeout=120)
    tmp.replace(path)
    return path


# -- processes ----------------------------------------------------------------------------------------

_LIVE: set[subprocess.Popen] = set()  # every child still running, SIGKILLed at interpreter exit


@atexit.register
def _kill_leftovers() -> None:
    for process in list(_LIVE):
        _kill(process)


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: takes any child of it along
        except (ProcessLookupError, PermissionError):
            process.kill()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    _LIVE.discard(process)


class _Child:
    """One server process, logging to a file, SIGKILLed/SIGSTOPped/SIGCONTed by its pid."""

    def __init__(self, name: str, args: list[str], log: Path, cwd: Path | None = None) -> None:
        self.name = name
        self.args = args
        self.log = log
        self.cwd = cwd
        self.process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                self.args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=self.cwd, start_new_session=True
            )
        _LIVE.add(self.process)

    def kill(self) -> None:
        if self.process is not None:
            _kill(self.process)
            self.process = None

    def signal(self, sig: signal.Signals) -> None:
        if self.running:
            assert self.process is not None
            os.kill(self.process.pid, sig)


class _Server:
    """Base: the context manager, close() and the freeze/thaw of the process that holds the sockets."""

    port: int

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self):  # pragma: no cover - every server defines it
        raise NotImplementedError

    def stop(self) -> None:  # pragma: no cover - every server defines it
        raise NotImplementedError

    def close(self) -> None:
        """stop(), and nothing of this server is left running (same as leaving the ``with`` block)."""
        self.stop()

    def _frozen_child(self) -> _Child:  # pragma: no cover - servers that can freeze define it
        raise NotImplementedError

    def freeze(self) -> None:
        """SIGSTOP the process holding the clients' sockets: connections stay open, no data flows."""
        self._frozen_child().signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT what freeze() stopped: data flows again on the same connections."""
        self._frozen_child().signal(signal.SIGCONT)


# -- RTSP ---------------------------------------------------------------------------------------------

_RTSP_SCRIPT = """\
import sys
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer

port, mount, launch = sys.argv[1], sys.argv[2], sys.argv[3]
Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(launch)
factory.set_shared(True)
if len(sys.argv) > 5:  # basic authentication: only this user may see the mount
    user, password = sys.argv[4], sys.argv[5]
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", "viewer")
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    server.set_auth(auth)
    factory.add_role_from_structure(
        Gst.Structure.new_from_string("viewer, media.factory.access=(boolean)true, media.factory.construct=(boolean)true")
    )
server.get_mount_points().add_factory(mount, factory)
if server.attach(None) == 0:
    sys.exit("cannot listen on 127.0.0.1:" + port)
print("rtsp server on 127.0.0.1:" + port + mount, flush=True)
GLib.MainLoop().run()
"""


class RtspServer(_Server):
    """gst-rtsp-server serving ``rtsp://127.0.0.1:<port>/live``, shared by all clients; with ``username`` and
    ``password`` only to a client that logs in with them (basic authentication).

    By default a live ``videotestsrc`` (H.264, ``fps`` frames a second, a keyframe every ``fps`` frames)
    with, when ``audio``, a live 440 Hz Opus track. With ``clip`` it serves that MP4 (H.264 + AAC) once,
    then the stream ends. The first frame a client decodes has no pts (field-facts §2a).
    """

    def __init__(
        self,
        folder: Path,
        clip: Path | None = None,
        audio: bool = True,
        fps: int = 10,
        size: tuple[int, int] = (320, 240),
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        script = self.folder / "rtsp_server.py"
        script.write_text(_RTSP_SCRIPT, encoding="utf-8")
        if clip is None:
            width, height = size
            launch = (
                f"( videotestsrc is-live=true ! video/x-raw,width={width},height={height},framerate={fps}/1 "
                f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} ! rtph264pay name=pay0 pt=96 config-interval=1"
            )
            if audio:
                launch += " audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! opusenc"
                launch += " ! rtpopuspay name=pay1 pt=97"
        else:
            launch = f"( filesrc location={clip} ! qtdemux name=d d.video_0 ! queue ! h264parse"
            launch += " ! rtph264pay name=pay0 pt=96 config-interval=1"
            if audio:
                launch += " d.audio_0 ! queue ! aacparse ! rtpmp4gpay name=pay1 pt=97"
        self.launch = launch + " )"
        self.log = self.folder / f"rtsp-{self.port}.log"
        args = [GST_PYTHON, str(script), str(self.port), "/live", self.launch]
        if username is not None:
            args += [username, password or ""]
        self._child = _Child("rtsp server", args, self.log)

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/live"

    def start(self) -> RtspServer:
        """Start (or restart, on the same port) and wait until it listens."""
        self._child.start()
        wait_until(lambda: listening(self.port) or not self._child.running, READY_S, "rtsp server", self.log)
        if not self._child.running:
            raise RuntimeError(f"rtsp server exited: {self.log.read_text(errors='replace').strip()[-400:]}")
        return self

    def stop(self) -> None:
        """SIGKILL: every client's connection closes."""
        self._child.kill()

    def _frozen_child(self) -> _Child:
        return self._child


# -- RTMP ---------------------------------------------------------------------------------------------

_NGINX_CONF = """\
load_module {module};
daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 64; }}
rtmp {{
    server {{
        listen 127.0.0.1:{port};
        chunk_size 4096;
        application live {{
            live on;
            record off;
            allow publish 127.0.0.1;
            deny publish all;
            allow play all;
        }}
    }}
}}
"""


def _publisher_args(clip: Path, progress: Path, output: list[str]) -> list[str]:
    """ffmpeg sending ``clip`` in a loop at its own pace, writing progress lines to ``progress``."""
    return [
        "ffmpeg", "-nostdin", "-v", "warning", "-re", "-stream_loop", "-1", "-i", str(clip),
        "-c", "copy", "-progress", str(progress), "-stats_period", "0.2", *output,
    ]  # fmt: skip


def _progressed(progress: Path) -> bool:
    """Whether an ffmpeg ``-progress`` file reports at least one frame sent."""
    try:
        text = progress.read_text(errors="replace")
    except OSError:
        return False
    return any(line.startswith("frame=") and line[6:].strip() not in ("", "0") for line in text.splitlines())


class RtmpServer(_Server):
    """nginx-rtmp on a free port with an ffmpeg publisher looping ``clip`` to ``rtmp://127.0.0.1:<port>/live/cam1``.

    ``stop()``/``start()`` kill and bring back both; ``stop_publisher()``/``start_publisher()`` only the
    camera side (nginx keeps the players' sessions open, so a player only notices by its read timeout);
    ``freeze()`` stops nginx itself.
    """

    def __init__(self, folder: Path, clip: Path, key: str = "cam1") -> None:
        self.folder = Path(folder)
        self.port = free_port()
        self.prefix = self.folder / f"nginx-{self.port}"
        self.prefix.mkdir(parents=True, exist_ok=True)
        self.key = key
        conf = self.prefix / "nginx.conf"
        conf.write_text(_NGINX_CONF.format(module=RTMP_MODULE, prefix=self.prefix, port=self.port), encoding="utf-8")
        self.log = self.prefix / "nginx.log"
        self._nginx = _Child("nginx", [NGINX, "-c", str(conf), "-p", f"{self.prefix}/", "-e", str(self.prefix / "error.log")], self.log)
        self._progress = self.prefix / "publisher.progress"
        self.publisher_log = self.prefix / "publisher.log"
        self._publisher = _Child("rtmp publisher", _publisher_args(clip, self._progress, ["-f", "flv", self.url]), self.publisher_log)

    @property
    def url(self) -> str:
        return f"rtmp://127.0.0.1:{self.port}/live/{self.key}"

    def start(self) -> RtmpServer:
        """nginx, then the publisher; returns once frames are being published."""
        self._nginx.start()
        wait_until(lambda: listening(self.port), READY_S, "nginx-rtmp", self.prefix / "error.log")
        self.start_publisher()
        return self

    def start_publisher(self) -> None:
        self._progress.unlink(missing_ok=True)
        self._publisher.start()
        wait_until(lambda: _progressed(self._progress) or not self._publisher.running, READY_S, "rtmp publisher", self.publisher_log)
        if not self._publisher.running:
            raise RuntimeError(f"rtmp publisher exited: {self.publisher_log.read_text(errors='replace').strip()[-400:]}")

    def stop_publisher(self) -> None:
        self._publisher.kill()

    def stop(self) -> None:
        """SIGKILL the publisher and nginx: every player's connection closes."""
        self._publisher.kill()
        self._nginx.kill()

    def _frozen_child(self) -> _Child:
        return self._nginx


# -- HTTP-FLV -----------------------------------------------------------------------------------------


class HttpFlvServer(_Server):
    """``ffmpeg -listen 1`` serving ``clip`` in a loop as FLV at ``http://127.0.0.1:<port>/live.flv``.

    That ffmpeg serves one client and exits (field-facts §2b), so a watcher thread starts a fresh one
    whenever it ends, until stop(): a reconnecting player finds the server again. ``respawns`` counts them.
    """

    def __init__(self, folder: Path, clip: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log = self.folder / f"http-flv-{self.port}.log"
        self._progress = self.folder / f"http-flv-{self.port}.progress"
        args = _publisher_args(clip, self._progress, ["-f", "flv", "-listen", "1", self.url])
        self._child = _Child("http-flv server", args, self.log)
        self._lock = threading.Lock()
        self._wanted = False
        self._watcher: threading.Thread | None = None
        self.respawns = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/live.flv"

    def start(self) -> HttpFlvServer:
        """Start listening (and keep a listener up until stop())."""
        with self._lock:
            self._wanted = True
            self._child.start()
        if self._watcher is None or not self._watcher.is_alive():
            self._watcher = threading.Thread(target=self._respawn, name=f"http-flv-{self.port}", daemon=True)
            self._watcher.start()
        wait_until(lambda: listening(self.port), READY_S, "http-flv server", self.log)
        return self

    def stop(self) -> None:
        """SIGKILL the listener (the client's connection closes) and stop respawning it."""
        with self._lock:
            self._wanted = False
            self._child.kill()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
            self._watcher = None

    def _respawn(self) -> None:
        while True:
            time.sleep(0.05)
            with self._lock:
                if not self._wanted:
                    return
                if not self._child.running:
                    self._child.kill()  # reap it
                    self._child.start()
                    self.respawns += 1

    def _frozen_child(self) -> _Child:
        return self._child


# -- HLS ----------------------------------------------------------------------------------------------


class HlsServer(_Server):
    """ffmpeg's HLS muxer segmenting ``clip`` live (``segment_s`` segments, a sliding playlist of
    ``list_size``), served by ``http.server`` at ``http://127.0.0.1:<port>/live.m3u8``.

    ``stop_segmenter()``/``start_segmenter()``: the playlist stops growing and comes back (with new,
    higher segment numbers); ``stop()``/``start()`` take the web server along; ``freeze()`` stops the
    web server. A reader starts a few segments behind the live edge.
    """

    def __init__(self, folder: Path, clip: Path, segment_s: int = 1, list_size: int = 4) -> None:
        self.folder = Path(folder)
        self.port = free_port()
        self.root = self.folder / f"hls-{self.port}"
        self.root.mkdir(parents=True, exist_ok=True)
        self.clip = clip
        self.segment_s = segment_s
        self.list_size = list_size
        self.log = self.root.parent / f"hls-{self.port}.log"
        self._progress = self.root.parent / f"hls-{self.port}.progress"
        web = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(self.root), str(self.port)]
        self._web = _Child("hls web server", web, self.root.parent / f"hls-web-{self.port}.log")
        self._segmenter: _Child | None = None
        self._starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/live.m3u8"

    @property
    def playlist(self) -> Path:
        return self.root / "live.m3u8"

    def start(self) -> HlsServer:
        """Segmenter and web server; returns once the playlist lists two segments."""
        self._web.start()
        wait_until(lambda: listening(self.port), READY_S, "hls web server", self._web.log)
        self.start_segmenter()
        return self

    def start_segmenter(self) -> None:
        if self._segmenter is not None and self._segmenter.running:
            return
        self._starts += 1
        self.playlist.unlink(missing_ok=True)
        hls = [
            "-f", "hls", "-hls_time", str(self.segment_s), "-hls_list_size", str(self.list_size),
            "-hls_flags", "delete_segments+omit_endlist+temp_file", "-start_number", str(self._starts * 100000),
            "-hls_segment_filename", str(self.root / "seg_%d.ts"), str(self.playlist),
        ]  # fmt: skip
        self._segmenter = _Child("hls segmenter", _publisher_args(self.clip, self._progress, hls), self.log)
        self._segmenter.start()
        wait_until(self._has_segments, READY_S + 2 * self.segment_s, "hls segmenter", self.log)

    def stop_segmenter(self) -> None:
        if self._segmenter is not None:
            self._segmenter.kill()

    def stop(self) -> None:
        """SIGKILL the segmenter and the web server."""
        self.stop_segmenter()
        self._web.kill()

    def _has_segments(self) -> bool:
        try:
            return self.playlist.read_text().count("#EXTINF") >= 2
        except OSError:
            return False

    def _frozen_child(self) -> _Child:
        return self._web


# -- a server that never answers ----------------------------------------------------------------------


class SilentServer(_Server):
    """Accepts TCP connections on a free loopback port and never sends a byte (a hung camera).

    ``url`` is ``<scheme>://127.0.0.1:<port><path>``, so any protocol's client can be pointed at it;
    ``connections`` counts the accepted ones. In-process: stop() closes the listener and every connection.
    """

    def __init__(self, scheme: str = "rtsp", path: str = "/live") -> None:
        self.scheme = scheme
        self.path = path
        self.port = free_port()
        self.connections = 0
        self._listener: socket.socket | None = None
        self._held: list[socket.socket] = []
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{self.path}"

    def start(self) -> SilentServer:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.1)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, args=(listener,), name=f"silent-{self.port}", daemon=True)
        self._thread.start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._held.append(conn)
                self.connections += 1

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if listener is not None:
            listener.close()
        with self._lock:
            for conn in self._held:
                conn.close()
            self._held.clear()


# -- the consumer side --------------------------------------------------------------------------------


class SourceLog:
    """Reads a source (``get(timeout)``: frames, audio chunks, events) and keeps what came, with arrival times.

    ``frames`` are (index, pts, arrived), ``chunks`` (start, duration, samples), ``events``
    (state, reason, retry_in_s, arrived); ``arrived`` is time.monotonic().
    """

    def __init__(self, source) -> None:
        self.source = source
        self.frames: list[tuple[int, float, float]] = []
        self.images: list = []
        self.chunks: list[tuple[float, float, object]] = []
        self.events: list[tuple[str, str, float | None, float]] = []

    def read_until(self, done: Callable[[SourceLog], bool], timeout: float, what: str = "condition") -> float:
        """Read until ``done(self)``; returns the seconds it took. AssertionError with the events after ``timeout``."""
        start = time.monotonic()
        while not done(self):
            if time.monotonic() - start > timeout:
                events = "; ".join(f"{state}: {reason}" for state, reason, _, _ in self.events[-6:])
                raise AssertionError(f"{what} not seen within {timeout} s ({len(self.frames)} frames; events: {events})")
            self.read_once(0.1)
        return time.monotonic() - start

    def read_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.read_once(min(0.1, max(0.0, end - time.monotonic())))

    def read_once(self, timeout: float):
        item = self.source.get(timeout)
        now = time.monotonic()
        if item is None:
            return None
        name = type(item).__name__
        if name == "Frame":
            self.frames.append((item.index, item.pts, now))
            self.images.append(item.image)
            del self.images[:-2]  # keep memory flat
        elif name == "AudioChunk":
            self.chunks.append((item.start, item.duration, item.samples))
        else:
            self.events.append((item.state, item.reason, item.retry_in_s, now))
        return item

    def states(self) -> list[str]:
        return [state for state, _, _, _ in self.events]

    def count(self, state: str) -> int:
        return self.states().count(state)

    def saw(self, state: str, after: int = 0) -> bool:
        """Whether an event ``state`` came after the first ``after`` events."""
        return state in self.states()[after:]

    def assert_timeline(self) -> None:
        """Frame indices grow by one per sampled frame (a gap only where the source counted a drop) and pts grow."""
        indices = [index for index, _, _ in self.frames]
        assert indices[0] == 0 and all(b > a for a, b in zip(indices, indices[1:])), indices
        assert indices[-1] + 1 - len(indices) <= self.source.frames_dropped, (indices, self.source.frames_dropped)
        pts = [p for _, p, _ in self.frames]
        assert all(b > a for a, b in zip(pts, pts[1:])), pts
