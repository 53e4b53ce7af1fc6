"""FolderWatcher: new files once, oldest first, only once settled; what is done survives a restart and a
SIGKILL; a replaced file is new again."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from edge.errors import SourceError
from edge.sources.folder import FolderWatcher


def put(path: Path, data: bytes, mtime: float | None = None) -> Path:
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "in").mkdir()
    return tmp_path / "in"


def test_new_files_once_oldest_first(folder: Path, tmp_path: Path) -> None:
    now = time.time()
    a = put(folder / "a.mp4", b"a" * 10, now - 10)
    b = put(folder / "B.MKV", b"b" * 10, now - 20)
    put(folder / "notes.txt", b"x")
    put(folder / ".partial.mp4", b"x")
    (folder / "sub.mp4").mkdir()
    with FolderWatcher(folder, tmp_path / "state" / "folder.sqlite", poll_s=1, settle_s=0) as watcher:
        assert watcher.poll() == [b, a]
        assert watcher.poll() == []
        c = put(folder / "c.ts", b"c")
        assert watcher.poll() == [c]
        assert watcher.poll() == []


def test_done_is_remembered_by_a_new_watcher_and_the_rest_is_offered_again(folder: Path, tmp_path: Path) -> None:
    state = tmp_path / "folder.sqlite"
    a = put(folder / "a.mp4", b"a", time.time() - 5)
    b = put(folder / "b.mp4", b"b")
    with FolderWatcher(folder, state, settle_s=0) as watcher:
        assert watcher.poll() == [a, b]
        watcher.mark_done(a)  # b's results were never committed (a crash mid-file)
    with FolderWatcher(folder, state, settle_s=0) as watcher:
        assert watcher.poll() == [b]
        assert watcher.is_done(a) and not watcher.is_done(b)


def test_done_survives_a_sigkill_right_after_mark_done(folder: Path, tmp_path: Path) -> None:
    state = tmp_path / "folder.sqlite"
    a = put(folder / "a.mp4", b"a")
    script = (
        "import os, signal, sys\n"
        "from edge.sources.folder import FolderWatcher\n"
        "w = FolderWatcher(sys.argv[1], sys.argv[2], settle_s=0)\n"
        "assert w.poll()\n"
        "w.mark_done(sys.argv[3])\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(folder), str(state), str(a)], cwd=Path(__file__).parents[2], timeout=60)
    assert done.returncode == -9
    with FolderWatcher(folder, state, settle_s=0) as watcher:
        assert watcher.poll() == []


def test_a_growing_file_waits_until_it_settles(folder: Path, tmp_path: Path) -> None:
    with FolderWatcher(folder, tmp_path / "s.sqlite", settle_s=1.0) as watcher:
        growing = put(folder / "g.mp4", b"x" * 100)
        assert watcher.poll() == []
        time.sleep(0.6)
        with open(growing, "ab") as out:
            out.write(b"y" * 100)
        assert watcher.poll() == []  # it changed: the clock starts again
        time.sleep(0.6)
        assert watcher.poll() == []  # 1.2 s since it appeared, 0.6 s since it last changed
        time.sleep(0.6)
        assert watcher.poll() == [growing]


def test_a_replaced_file_is_new(folder: Path, tmp_path: Path) -> None:
    state = tmp_path / "s.sqlite"
    a = put(folder / "a.mp4", b"first", time.time() - 100)
    with FolderWatcher(folder, state, settle_s=0) as watcher:
        assert watcher.poll() == [a]
        watcher.mark_done(a)
        put(folder / "tmp.part", b"second version")
        os.replace(folder / "tmp.part", a)
        assert watcher.poll() == [a]
    with FolderWatcher(folder, state, settle_s=0) as watcher:
        assert watcher.poll() == [a]  # the new version was never marked
        watcher.mark_done(a)
        os.utime(a, (time.time() + 5, time.time() + 5))  # same size, new mtime (rewritten in place)
        assert watcher.poll() == [a]


def test_mark_done_records_the_version_handed_out(folder: Path, tmp_path: Path) -> None:
    with FolderWatcher(folder, tmp_path / "s.sqlite", settle_s=0) as watcher:
        a = put(folder / "a.mp4", b"one")
        assert watcher.poll() == [a]
        put(a, b"two, longer")  # replaced while it was being processed
        watcher.mark_done(a)
        assert watcher.poll() == [a]


def test_watch_yields_and_stops(folder: Path, tmp_path: Path) -> None:
    stop = threading.Event()
    got: list[Path] = []
    with FolderWatcher(folder, tmp_path / "s.sqlite", poll_s=0.05, settle_s=0) as watcher:
        thread = threading.Thread(target=lambda: got.extend(watcher.watch(stop)))
        thread.start()
        a = put(folder / "a.webm", b"a")
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.02)
        stop.set()
        thread.join(timeout=2)
    assert got == [a] and not thread.is_alive()


def test_a_missing_folder_is_one_line_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(SourceError) as caught:
        FolderWatcher(missing, tmp_path / "s.sqlite")
    assert str(caught.value) == f"{missing}: watched folder does not exist"
    folder = tmp_path / "gone"
    folder.mkdir()
    with FolderWatcher(folder, tmp_path / "s.sqlite") as watcher:
        folder.rmdir()
        with pytest.raises(SourceError, match="gone: watched folder does not exist"):
            watcher.poll()
    (tmp_path / "file.mp4").write_bytes(b"x")
    with pytest.raises(SourceError, match="is not a folder"):
        FolderWatcher(tmp_path / "file.mp4", tmp_path / "s.sqlite")
