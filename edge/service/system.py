"""The box's load and resources for the daemon's snapshot: CPU, memory, free disk, temperatures.

psutil gives CPU, memory and disk everywhere. Temperatures come from two places: psutil's
``sensors_temperatures()`` (hwmon on PCs; it reads ``/sys/class/thermal`` only when hwmon has no
sensor at all) and the thermal zones under ``/sys/class/thermal`` themselves, which is where Jetson
boards put the CPU, GPU and SoC temperatures (``type`` names the zone: ``cpu-thermal``, ``gpu-thermal``).
A sensor that is missing, offline or unreadable is left out; :meth:`SystemProbe.snapshot` never raises for one.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import psutil

from edge.service.snapshot import SystemSnapshot

log = logging.getLogger("liveguard.system")

THERMAL_ROOT = Path("/sys/class/thermal")
# Readings outside this range are a sensor's "not available" code (Jetson reports -256 °C for an
# offline zone), not a temperature.
PLAUSIBLE_C = (-60.0, 200.0)


class SystemProbe:
    """Reads the box's state for :class:`~edge.service.snapshot.SystemSnapshot`; cheap enough for every scrape.

    ``state_dir``'s file system is the one whose free space is reported (its nearest existing parent
    while it does not exist yet). ``thermal_root`` and ``sensors`` are for tests (a fake sysfs tree,
    a fake ``psutil.sensors_temperatures``).
    """

    def __init__(
        self,
        state_dir: str | Path,
        *,
        thermal_root: Path = THERMAL_ROOT,
        sensors: Callable[[], Mapping[str, Sequence[Any]]] | None = None,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.thermal_root = Path(thermal_root)
        self._sensors = sensors if sensors is not None else getattr(psutil, "sensors_temperatures", None)
        self._process = psutil.Process(os.getpid())
        self._warned: set[str] = set()
        self._cpu_lock = threading.Lock()
        # psutil.cpu_percent(None) keeps its last reading per thread, and every health request runs in a new
        # thread: keep our own. Primed here, so the first snapshot reports the load since construction.
        self._cpu_last = _busy_and_total(psutil.cpu_times())

    def snapshot(self) -> SystemSnapshot:
        return SystemSnapshot(
            cpu_percent=self._cpu_percent(),
            memory_rss_bytes=self._rss(),
            memory_available_bytes=int(psutil.virtual_memory().available),
            disk_free_bytes=self._disk_free(),
            temperatures_c=self.temperatures(),
        )

    def temperatures(self) -> dict[str, float]:
        """Sensor label -> °C: psutil's sensors (``chip/label``), then the thermal zones (their ``type``)."""
        found: dict[str, float] = {}
        for label, value in self._psutil_temperatures():
            _put(found, label, value)
        from_psutil = set(found)
        for label, value in self._zone_temperatures():
            if label not in from_psutil:  # else psutil already read the zones (a box without hwmon sensors)
                _put(found, label, value)
        return found

    def _cpu_percent(self) -> float:
        """System-wide CPU use (0-100, all cores) since the previous snapshot, never blocking."""
        now = _busy_and_total(psutil.cpu_times())
        with self._cpu_lock:
            (busy0, total0), self._cpu_last = self._cpu_last, now
        elapsed = now[1] - total0
        return 0.0 if elapsed <= 0 else round(min(100.0, max(0.0, 100.0 * (now[0] - busy0) / elapsed)), 1)

    def _rss(self) -> int:
        try:
            return int(self._process.memory_info().rss)
        except psutil.Error as exc:  # cannot happen for our own process, but never fail a scrape for it
            self._warn_once("rss", f"cannot read this process's memory: {exc}")
            return 0

    def _disk_free(self) -> int:
        path = self.state_dir
        while not path.exists() and path != path.parent:
            path = path.parent
        try:
            return int(psutil.disk_usage(str(path)).free)
        except OSError as exc:
            self._warn_once("disk", f"cannot read free space of {path}: {exc}")
            return 0

    def _psutil_temperatures(self) -> list[tuple[str, float]]:
        if self._sensors is None:  # psutil has no sensors on this platform
            return []
        try:
            chips = self._sensors() or {}
        except Exception as exc:  # noqa: BLE001 - psutil's sysfs parsing can fail in many ways; a sensor is optional
            self._warn_once("sensors", f"psutil.sensors_temperatures failed: {type(exc).__name__}: {exc}")
            return []
        readings = []
        for chip, entries in chips.items():
            for entry in entries:
                label = getattr(entry, "label", "") or ""
                readings.append((f"{chip}/{label}" if label else chip, getattr(entry, "current", None)))
        return readings

    def _zone_temperatures(self) -> list[tuple[str, float]]:
        readings = []
        try:
            zones = sorted(self.thermal_root.glob("thermal_zone*"), key=lambda p: _zone_number(p.name))
        except OSError:
            return []
        for zone in zones:
            try:
                millidegrees = float((zone / "temp").read_text(encoding="ascii").strip())
                kind = (zone / "type").read_text(encoding="utf-8", errors="replace").strip() or zone.name
            except (OSError, ValueError):  # an offline zone answers EINVAL/ENODATA on read
                continue
            readings.append((kind, millidegrees / 1000.0))
        return readings

    def _warn_once(self, what: str, message: str) -> None:
        if what not in self._warned:
            self._warned.add(what)
            log.warning("system: %s", message)


def _put(found: dict[str, float], label: str, value: object) -> None:
    """Keep a plausible reading under ``label`` (``label#2``, ``#3``... when a label repeats)."""
    try:
        celsius = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return
    if not math.isfinite(celsius) or not PLAUSIBLE_C[0] <= celsius <= PLAUSIBLE_C[1]:
        return
    name, n = label, 1
    while name in found:
        n += 1
        name = f"{label}#{n}"
    found[name] = round(celsius, 2)


def _busy_and_total(times: Any) -> tuple[float, float]:
    """(busy, total) CPU seconds as psutil counts them: guest time is inside user time; iowait is idle."""
    total = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
    return total - times.idle - getattr(times, "iowait", 0.0), total


def _zone_number(name: str) -> int:
    digits = name.removeprefix("thermal_zone")
    return int(digits) if digits.isdigit() else 1 << 30
