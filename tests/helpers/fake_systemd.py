"""A fake systemd notify socket: reads sd_notify datagrams with the sender's pid (SO_PASSCRED)."""

from __future__ import annotations

import socket
import struct
import time

UCRED = struct.Struct("3i")  # pid, uid, gid


class FakeSystemd:
    """Binds ``address`` (a path or ``@name``) like systemd's notify socket and reads datagrams with their sender's pid."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind("\0" + address[1:] if address.startswith("@") else address)
        self.sock.settimeout(2)

    def receive(self) -> tuple[list[str], int]:
        data, ancillary, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(UCRED.size))
        pids = [UCRED.unpack(cdata[: UCRED.size])[0] for level, kind, cdata in ancillary
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS]
        assert len(pids) == 1, "no SCM_CREDENTIALS on the datagram"
        return data.decode().split("\n"), pids[0]

    def close(self) -> None:
        self.sock.close()

    def collect(self, seconds: float) -> list[tuple[str, int]]:
        """Every field received within ``seconds`` (``READY=1``, ``WATCHDOG=1``, ...) with its sender's pid."""
        deadline = time.monotonic() + seconds
        got: list[tuple[str, int]] = []
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                fields, pid = self.receive()
            except TimeoutError:
                break
            got += [(field, pid) for field in fields if field]
        self.sock.settimeout(2)
        return got
