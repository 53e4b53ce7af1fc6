"""The box probe: real psutil readings, temperatures from a fake Jetson-like sysfs tree and a fake psutil."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import namedtuple
from pathlib import Path

import psutil
import pytest

from edge.service.system import SystemProbe

Shwtemp = namedtuple("Shwtemp", "label current high critical")  # psutil's sensor entry


def thermal_tree(root: Path, zones: dict[str, tuple[str, str | None]]) -> Path:
    """``thermal_zoneN`` folders with ``type`` and ``temp`` (None: no readable temp, like an offline zone)."""
    for name, (kind, millidegrees) in zones.items():
        zone = root / name
        zone.mkdir(parents=True)
        (zone / "type").write_text(kind + "\n")
        if millidegrees is not None:
            (zone / "temp").write_text(millidegrees + "\n")
    return root


def test_a_snapshot_reads_this_process_and_the_box(tmp_path):
    probe = SystemProbe(tmp_path / "not" / "made" / "yet", thermal_root=tmp_path / "no-thermal", sensors=lambda: {})
    snap = probe.snapshot()
    assert 0.0 <= snap.cpu_percent <= 100.0
    assert 10 * 2**20 < snap.memory_rss_bytes == pytest.approx(psutil.Process(os.getpid()).memory_info().rss, rel=0.2)
    assert 0 < snap.memory_available_bytes <= psutil.virtual_memory().total
    assert abs(snap.disk_free_bytes - psutil.disk_usage(str(tmp_path)).free) < 256 * 2**20  # the nearest existing parent's disk
    assert snap.temperatures_c == {}


def test_cpu_is_measured_since_the_previous_snapshot_whichever_thread_asks(tmp_path):
    probe = SystemProbe(tmp_path, thermal_root=tmp_path / "no-thermal", sensors=lambda: {})
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:  # one core busy for 0.3 s (this box has several)
        pass
    readings = []
    reader = threading.Thread(target=lambda: readings.append(probe.snapshot().cpu_percent))  # like a health request
    reader.start()
    reader.join()
    assert 100 / psutil.cpu_count() * 0.5 <= readings[0] <= 100  # about one core's worth, not the average since import


def test_jetson_thermal_zones_are_read_by_type_and_broken_ones_left_out(tmp_path):
    root = thermal_tree(tmp_path / "thermal", {
        "thermal_zone0": ("cpu-thermal", "51500"),
        "thermal_zone1": ("gpu-thermal", "48250"),
        "thermal_zone2": ("soc0-thermal", None),  # offline: reading fails
        "thermal_zone3": ("tj-thermal", "-256000"),  # Jetson's "no reading" code
        "thermal_zone4": ("cpu-thermal", "52000"),  # a repeated type
        "thermal_zone10": ("cv0-thermal", "not a number"),
    })
    (root / "cooling_device0").mkdir()
    probe = SystemProbe(tmp_path, thermal_root=root, sensors=lambda: {})
    assert probe.snapshot().temperatures_c == {"cpu-thermal": 51.5, "gpu-thermal": 48.25, "cpu-thermal#2": 52.0}


def test_psutil_sensors_come_first_and_a_zone_psutil_already_read_is_not_counted_twice(tmp_path):
    root = thermal_tree(tmp_path / "thermal", {"thermal_zone0": ("acpitz", "40000"), "thermal_zone1": ("x86_pkg_temp", "45000")})
    sensors = {
        "coretemp": [Shwtemp("Package id 0", 45.0, 80.0, 100.0), Shwtemp("Core 0", 44.0, 80.0, 100.0)],
        "acpitz": [Shwtemp("", 40.0, None, None)],  # psutil read the zone itself (no hwmon on this box)
        "nvme": [Shwtemp("Composite", 38.85, None, None)],
    }
    probe = SystemProbe(tmp_path, thermal_root=root, sensors=lambda: sensors)
    assert probe.temperatures() == {"coretemp/Package id 0": 45.0, "coretemp/Core 0": 44.0, "acpitz": 40.0,
                                    "nvme/Composite": 38.85, "x86_pkg_temp": 45.0}


def test_a_failing_sensor_library_never_raises_and_warns_once(tmp_path, caplog):
    def broken():
        raise OSError(5, "Input/output error")

    probe = SystemProbe(tmp_path, thermal_root=thermal_tree(tmp_path / "t", {"thermal_zone0": ("cpu-thermal", "50000")}), sensors=broken)
    with caplog.at_level(logging.WARNING, logger="liveguard.system"):
        assert probe.snapshot().temperatures_c == {"cpu-thermal": 50.0}
        assert probe.snapshot().temperatures_c == {"cpu-thermal": 50.0}
    assert len(caplog.records) == 1 and "sensors_temperatures failed" in caplog.records[0].getMessage()


def test_the_real_sensors_of_this_box_do_not_raise(tmp_path):
    temperatures = SystemProbe(tmp_path).snapshot().temperatures_c  # psutil and /sys/class/thermal as they are here
    assert all(isinstance(label, str) and -60 <= c <= 200 for label, c in temperatures.items())
