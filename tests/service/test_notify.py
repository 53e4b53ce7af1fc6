"""sd_notify against a fake NOTIFY_SOCKET listener (AF_UNIX datagrams, the sender's pid from SO_PASSCRED)."""

from __future__ import annotations

import logging
import os
import uuid

import pytest

from edge.service.notify import Notifier
from tests.helpers.fake_systemd import FakeSystemd


@pytest.fixture(params=["path", "abstract"])
def systemd(request, tmp_path):
    address = str(tmp_path / "notify.sock") if request.param == "path" else f"@liveguard-test-{uuid.uuid4().hex}"
    listener = FakeSystemd(address)
    yield listener
    listener.close()


def test_ready_status_watchdog_stopping_reach_systemd_with_our_pid(systemd):
    notifier = Notifier.from_env({"NOTIFY_SOCKET": systemd.address})
    assert notifier.enabled
    assert notifier.ready("2 streams up")
    assert systemd.receive() == (["READY=1", "STATUS=2 streams up"], os.getpid())
    assert notifier.status("cam-north reconnecting\n(end of stream)")
    assert systemd.receive() == (["STATUS=cam-north reconnecting (end of stream)"], os.getpid())  # one line
    assert notifier.watchdog()
    assert systemd.receive() == (["WATCHDOG=1"], os.getpid())
    assert notifier.reloading("reloading") and systemd.receive()[0] == ["RELOADING=1", "STATUS=reloading"]
    assert notifier.stopping()
    assert systemd.receive() == (["STOPPING=1"], os.getpid())


def test_without_notify_socket_every_call_is_a_no_op():
    notifier = Notifier.from_env({})
    assert not notifier.enabled
    assert notifier.ready("x") is False and notifier.watchdog() is False and notifier.stopping() is False
    assert notifier.watchdog_interval_s() is None


def test_a_vanished_socket_never_raises_and_is_logged_once(tmp_path, caplog):
    listener = FakeSystemd(str(tmp_path / "gone.sock"))
    notifier = Notifier.from_env({"NOTIFY_SOCKET": listener.address})
    listener.close()
    os.unlink(listener.address)
    with caplog.at_level(logging.INFO, logger="liveguard.notify"):
        for _ in range(5):
            assert notifier.watchdog() is False
        assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
        back = FakeSystemd(listener.address)  # systemd re-created it
        assert notifier.watchdog() and back.receive()[0] == ["WATCHDOG=1"]
        assert any("reachable again" in r.getMessage() for r in caplog.records)
        back.close()


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({"WATCHDOG_USEC": "30000000"}, 30.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 30.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),  # another process's watchdog
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval_comes_from_watchdog_usec_for_our_pid_only(environ, expected):
    assert Notifier.from_env({"NOTIFY_SOCKET": "@x", **environ}).watchdog_interval_s() == expected
