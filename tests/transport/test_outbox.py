"""The durable outbox on a real SQLite file: order, acknowledgement, parking, bounds, restarts."""

from __future__ import annotations

import sqlite3

import pytest

from edge.errors import TransportError
from edge.transport import Outbox


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fill(outbox: Outbox, count: int, size: int = 10) -> list[int]:
    return [outbox.put(f"t/{i}", bytes([65 + i % 26]) * size, f"id{i}", "liveguard.result/1") for i in range(count)]


def test_messages_leave_in_order_and_only_when_acknowledged(tmp_path):
    with Outbox(tmp_path / "o.sqlite") as outbox:
        seqs = fill(outbox, 5)
        assert [m.seq for m in outbox.pending(10)] == seqs
        assert [m.doc_id for m in outbox.pending(2, after=seqs[1])] == ["id2", "id3"]
        outbox.ack(seqs[0])
        outbox.ack(seqs[0])  # a second PUBACK for the same row counts once
        assert [m.seq for m in outbox.pending(10)] == seqs[1:]
        stats = outbox.stats()
        assert (stats.depth, stats.sent, stats.parked, stats.dropped) == (4, 1, 0, {})


def test_what_was_committed_survives_a_restart(tmp_path):
    path = tmp_path / "o.sqlite"
    with Outbox(path) as outbox:
        seqs = fill(outbox, 3)
        outbox.ack(seqs[1])
    with Outbox(path) as again:
        assert [(m.seq, m.doc_id, m.payload) for m in again.pending(10)] == [(seqs[0], "id0", b"A" * 10), (seqs[2], "id2", b"C" * 10)]
        assert again.stats().sent == 1
        assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_refused_message_is_parked_with_its_reason_and_never_offered_again(tmp_path):
    with Outbox(tmp_path / "o.sqlite") as outbox:
        seqs = fill(outbox, 3)
        outbox.park(seqs[1], "PUBACK 0x87 not authorized")
        assert [m.seq for m in outbox.pending(10)] == [seqs[0], seqs[2]]
        ((message, reason),) = outbox.parked()
        assert message.doc_id == "id1" and reason == "PUBACK 0x87 not authorized"
        assert outbox.stats().parked == 1


def test_bounds_drop_the_oldest_and_count_every_drop(tmp_path):
    clock = Clock()
    with Outbox(tmp_path / "o.sqlite", max_rows=3, max_bytes=35, max_age_s=60, clock=clock) as outbox:
        fill(outbox, 5)  # rows bound: 2 dropped
        assert [m.doc_id for m in outbox.pending(10)] == ["id2", "id3", "id4"]
        outbox.put("t/x", b"x" * 20, "big", "s")  # 50 bytes > 35: the oldest go until it fits
        assert [m.doc_id for m in outbox.pending(10)] == ["id4", "big"]
        clock.now += 61
        assert outbox.pending(10) == []
        stats = outbox.stats()
        assert stats.dropped == {"max_rows": 3, "max_bytes": 1, "max_age": 2} and stats.depth == 0


def test_oldest_age_and_bytes_are_reported(tmp_path):
    clock = Clock()
    with Outbox(tmp_path / "o.sqlite", clock=clock) as outbox:
        assert outbox.stats().oldest_age_s is None
        fill(outbox, 2, size=7)
        clock.now += 12.5
        stats = outbox.stats()
        assert stats.oldest_age_s == pytest.approx(12.5) and stats.bytes == 14


def test_an_unusable_path_is_one_line_naming_it(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(TransportError, match="cannot open the outbox") as error:
        Outbox(tmp_path / "file" / "o.sqlite")
    assert str(tmp_path / "file" / "o.sqlite") in str(error.value) and "\n" not in str(error.value)
