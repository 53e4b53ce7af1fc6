"""The box's keyframe store: named by sha256, written whole, bounded by files and bytes (oldest out first,
counted), a window's own files kept, a restart that finds what was there; and the daemon's commit order:
a window's keyframes are on disk before its documents are in the outbox."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import time

import pytest

from edge.config import Config
from edge.errors import LiveGuardError
from edge.service import keyframes as keyframes_module
from edge.service.daemon import commit_window
from edge.service.keyframes import KeyframeStore
from edge.service.recognizer import WindowDocuments
from edge.transport import Outbox, Topics


def jpeg(n: int, size: int = 100) -> bytes:
    """A stand-in for a JPEG: distinct bytes per ``n`` (the store never decodes them)."""
    return b"\xff\xd8" + n.to_bytes(4, "big") + bytes(size - 6)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def on_disk(folder) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_a_keyframe_is_stored_under_its_sha256_whole_and_read_back(tmp_path):
    store = KeyframeStore(tmp_path / "kf", 10, 10_000)
    (digest,) = store.put_many([jpeg(1)])
    assert digest == sha(jpeg(1))
    assert on_disk(tmp_path / "kf") == {f"{digest}.jpg"}  # no temporary file left behind
    assert store.get(digest) == jpeg(1) and digest in store
    assert store.get(sha(b"never stored")) is None
    assert store.get("../../etc/passwd") is None and store.get(digest.upper()) is None  # only a sha256 names a file
    stats = store.stats()
    assert (stats.files, stats.bytes, stats.written, stats.rotated) == (1, 100, 1, 0)


def test_past_max_files_the_oldest_go_first_and_each_is_counted(tmp_path):
    store = KeyframeStore(tmp_path / "kf", 3, 10_000)
    for n in range(5):
        store.put(jpeg(n))
    assert on_disk(tmp_path / "kf") == {f"{sha(jpeg(n))}.jpg" for n in (2, 3, 4)}
    assert [store.get(sha(jpeg(n))) is not None for n in range(5)] == [False, False, True, True, True]
    stats = store.stats()
    assert (stats.files, stats.bytes, stats.written, stats.rotated) == (3, 300, 5, 2)


def test_past_max_bytes_the_oldest_go_first(tmp_path):
    store = KeyframeStore(tmp_path / "kf", 100, 1000)
    for n in range(3):
        store.put(jpeg(n, size=300))
    assert store.stats().bytes == 900 and store.stats().rotated == 0
    store.put(jpeg(3, size=300))  # 1200 > 1000: the oldest goes
    assert store.stats().bytes == 900 and store.stats().rotated == 1
    assert store.get(sha(jpeg(0, size=300))) is None and store.get(sha(jpeg(3, size=300))) is not None
    store.put(jpeg(4, size=700))  # 1600: the two oldest go
    assert store.stats().bytes == 1000 and store.stats().rotated == 3


def test_a_windows_own_keyframes_are_never_removed_for_it(tmp_path):
    store = KeyframeStore(tmp_path / "kf", 1, 10_000)
    first = store.put_many([jpeg(1), jpeg(2), jpeg(3)])  # top-3 in a store of one file: all three stay for now
    assert all(store.get(d) for d in first) and store.stats().files == 3
    store.put(jpeg(4))  # the next window's file pushes them all out
    assert on_disk(tmp_path / "kf") == {f"{sha(jpeg(4))}.jpg"} and store.stats().rotated == 3


def test_the_same_picture_again_becomes_the_newest(tmp_path):
    store = KeyframeStore(tmp_path / "kf", 3, 10_000)
    for n in (1, 2, 3):
        store.put(jpeg(n))
    store.put(jpeg(1))  # a still scene: the same JPEG in a later window
    store.put(jpeg(4))
    assert store.get(sha(jpeg(1))) is not None and store.get(sha(jpeg(2))) is None
    assert store.stats().written == 4  # the repeat was only refreshed


def test_a_restart_finds_the_files_oldest_first_and_cleans_up_a_cut_write(tmp_path):
    folder = tmp_path / "kf"
    store = KeyframeStore(folder, 10, 10_000)
    for n in range(4):
        store.put(jpeg(n))
        past = time.time() - 100 + n  # distinct modification times, in write order
        os.utime(folder / f"{sha(jpeg(n))}.jpg", (past, past))
    cut = folder / f".{sha(jpeg(9))}.123.456.tmp"  # a write the crash cut short
    cut.write_bytes(b"\xff\xd8half")
    (folder / "notes.txt").write_text("not ours")
    again = KeyframeStore(folder, 10, 10_000)
    assert again.stats().files == 4 and again.stats().bytes == 400 and again.stats().rotated == 0
    assert not cut.exists() and (folder / "notes.txt").exists()  # other files are left alone, and not counted
    assert all(again.get(sha(jpeg(n))) == jpeg(n) for n in range(4))
    smaller = KeyframeStore(folder, 2, 10_000)  # bounds lowered in the configuration: the two oldest go at start
    assert smaller.stats().rotated == 2
    assert [smaller.get(sha(jpeg(n))) is not None for n in range(4)] == [False, False, True, True]
    smaller.put(jpeg(5))
    assert smaller.get(sha(jpeg(2))) is None, "the oldest before the restart goes first after it"


def test_a_file_whose_content_no_longer_matches_its_name_is_not_served(tmp_path):
    store = KeyframeStore(tmp_path / "kf", 10, 10_000)
    digest = store.put(jpeg(1))
    store.path(digest).write_bytes(b"bit rot")
    assert store.get(digest) is None
    assert not store.path(digest).exists() and store.stats().corrupt == 1 and store.stats().files == 0


def test_a_folder_that_cannot_be_made_is_one_line_naming_it(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(LiveGuardError) as caught:
        KeyframeStore(blocker / "keyframes", 10, 10_000)
    assert str(caught.value).startswith(f"{blocker / 'keyframes'}: keyframe store cannot be opened")
    assert "\n" not in str(caught.value)


def test_the_config_puts_the_store_in_the_state_directory_unless_told(tmp_path):
    service = Config().service
    assert service.keyframes.enabled and service.keyframes_path == service.state_dir / "keyframes"
    assert (service.keyframes.max_files, service.keyframes.max_mb) == (5000, 512.0)
    moved = Config.model_validate({"service": {"state_dir": str(tmp_path), "keyframes": {"path": str(tmp_path / "elsewhere")}}})
    assert moved.service.keyframes_path == tmp_path / "elsewhere"


# -- the daemon's commit ---------------------------------------------------------------------------------

TOPICS = Topics("liveguard", "lab", "box-1")


def documents(*jpegs: bytes) -> WindowDocuments:
    evidence = {"id": "e" * 32, "schema": "liveguard.evidence/1", "stream": {"id": "cam1"},
                "keyframes": [{"jpeg_sha256": sha(j)} for j in jpegs]}
    result = {"schema": "liveguard.result/1", "evidence_id": "e" * 32}
    return WindowDocuments(evidence, result, {}, tuple(jpegs))


class WatchingOutbox(Outbox):
    """An outbox that records, at each commit, whether the keyframes its evidence names are on disk."""

    def __init__(self, path, store: KeyframeStore) -> None:
        super().__init__(path)
        self.store = store
        self.seen: list[bool] = []

    def put(self, topic, payload, doc_id, schema):
        self.seen.append(all(self.store.path(d).is_file() for d in self.names))
        return super().put(topic, payload, doc_id, schema)


def test_a_windows_keyframes_are_on_disk_before_its_documents_are_committed(tmp_path):
    store = KeyframeStore(tmp_path / "kf", 10, 10_000)
    docs = documents(jpeg(1), jpeg(2))
    with WatchingOutbox(tmp_path / "outbox.sqlite", store) as outbox:
        outbox.names = [kf["jpeg_sha256"] for kf in docs.evidence["keyframes"]]
        commit_window(store, [outbox], TOPICS, "cam1", docs)
        assert outbox.seen == [True, True]  # the evidence, then the result
        assert outbox.stats().depth == 2


def test_a_store_that_cannot_write_costs_the_picture_not_the_documents(tmp_path, monkeypatch, caplog):
    store = KeyframeStore(tmp_path / "kf", 10, 10_000)

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(keyframes_module.os, "replace", full)
    with Outbox(tmp_path / "outbox.sqlite") as outbox, caplog.at_level(logging.ERROR, "liveguard.serve"):
        commit_window(store, [outbox], TOPICS, "cam1", documents(jpeg(1)))
        assert outbox.stats().depth == 2
    assert store.stats().failed == 1 and store.stats().files == 0
    assert on_disk(tmp_path / "kf") == set(), "the temporary file is removed"
    (line,) = [r.getMessage() for r in caplog.records if r.name == "liveguard.serve"]  # other tests' threads may log too
    assert line == f"stream cam1: window {'e' * 32}: keyframes not stored in {tmp_path / 'kf'}: No space left on device"
