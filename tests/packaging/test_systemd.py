"""systemd/liveguard.service and the centre's templates liveguard-collect@.service and
liveguard-fuse@.service: systemd's own checker accepts them (and rejects a broken copy), their sandboxes
score a low exposure, and each agrees with the configuration it starts (field-facts §3: offline checks only)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from workspace import CONFIGS, REPO

from edge.config import load_config
from edge.config.models import ServiceConfig

UNIT = REPO / "systemd/liveguard.service"
ANALYZE = shutil.which("systemd-analyze")
needs_systemd_analyze = pytest.mark.skipif(ANALYZE is None, reason="needs systemd-analyze (apt-get install -y systemd)")

# Measured with systemd 252 (Debian 12): 1.7. Each sandbox setting dropped raises it by 0.1 to 0.5, so a
# setting lost by accident (a typo is ignored by systemd with a warning) shows here.
EXPOSURE_THRESHOLD = 2.0
EXEC_START = "/opt/liveguard/venv/bin/liveguard serve -c /etc/liveguard/site.yaml -c /etc/liveguard/device.yaml"


def settings(text: str) -> list[tuple[str, str, str]]:
    """(section, key, value) of each assignment; keys may repeat (SystemCallFilter=, LoadCredential=)."""
    found, section = [], ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        found.append((section, key.strip(), value.strip()))
    return found


def values(key: str, section: str = "Service", unit: Path = UNIT) -> list[str]:
    return [v for s, k, v in settings(unit.read_text(encoding="utf-8")) if (s, k) == (section, key)]


def value(key: str, section: str = "Service", unit: Path = UNIT) -> str:
    (found,) = values(key, section, unit)
    return found


def seconds(text: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(s|sec|min|m)?", text)
    assert match, text
    return float(match.group(1)) * (60 if match.group(2) in ("min", "m") else 1)


def local_copy(tmp_path: Path, text: str | None = None, unit: Path = UNIT, name: str | None = None) -> Path:
    """The unit with ExecStart pointing at an executable of this machine: verify checks that it exists.
    ``name``: the file's name (a template's instance, liveguard-collect@1.service)."""
    text = unit.read_text(encoding="utf-8") if text is None else text
    here = Path(sys.executable).with_name("liveguard")
    here = here if here.is_file() else Path(sys.executable)
    path = tmp_path / (name or unit.name)
    path.write_text(text.replace("ExecStart=/opt/liveguard/venv/bin/liveguard", f"ExecStart={here}"), encoding="utf-8")
    return path


def analyze(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ANALYZE, *args], capture_output=True, text=True, timeout=60)


def verify(unit: Path) -> tuple[int, list[str]]:
    """The exit status and what ``systemd-analyze verify`` says about ``unit``. A value or key it cannot
    parse is only a warning ("..., ignoring.", exit status 0 on systemd 252): the unit would start
    without that setting. So a unit passes only with status 0 and nothing said about it."""
    done = analyze("verify", str(unit))
    return done.returncode, [line for line in done.stderr.splitlines() if unit.name in line]


@needs_systemd_analyze
def test_systemd_accepts_the_unit(tmp_path):
    status, problems = verify(local_copy(tmp_path))
    assert status == 0 and problems == []


BROKEN = {
    "Type=notify": ("Type=notfy", "Failed to parse service type"),
    "WatchdogSec=30": ("WatchdogSec=abc", "Failed to parse sec value"),
    "ProtectSystem=strict": ("ProtectSytem=strict", "Unknown key"),
}


@needs_systemd_analyze
@pytest.mark.parametrize("good", list(BROKEN))
def test_systemd_rejects_a_broken_copy(tmp_path, good):
    """The check can fail: the same unit with one setting misspelt."""
    bad, message = BROKEN[good]
    text = UNIT.read_text(encoding="utf-8")
    assert f"\n{good}\n" in text
    _, problems = verify(local_copy(tmp_path, text.replace(f"\n{good}\n", f"\n{bad}\n")))
    assert any(message in line for line in problems), problems


@needs_systemd_analyze
def test_the_unit_as_shipped_names_the_installed_executable(tmp_path):
    """Unchanged, verify fails here only because /opt/liveguard is not installed on this machine."""
    if Path("/opt/liveguard/venv/bin/liveguard").exists():
        pytest.skip("LiveGuard is installed in /opt/liveguard here")
    shutil.copy(UNIT, tmp_path / "liveguard.service")
    done = analyze("verify", str(tmp_path / "liveguard.service"))
    assert done.returncode != 0 and "/opt/liveguard/venv/bin/liveguard is not executable" in done.stderr, done.stderr


@needs_systemd_analyze
def test_the_sandbox_exposure_is_low(tmp_path):
    unit = local_copy(tmp_path)
    done = analyze("security", "--offline=yes", str(unit))
    match = re.search(r"Overall exposure level for liveguard\.service: (\d+\.\d+)", done.stdout)
    assert match, done.stdout[-2000:] + done.stderr
    assert float(match.group(1)) <= EXPOSURE_THRESHOLD, done.stdout
    # the check can fail: without the sandbox the same unit scores far above the threshold
    loose = "\n".join(line for line in unit.read_text().splitlines()
                      if not line.startswith(("Protect", "Private", "Restrict", "SystemCall", "Capability", "NoNew", "Lock")))
    done = analyze("security", "--offline=yes", str(local_copy(tmp_path, loose)))
    loose_score = float(re.search(r"Overall exposure level for liveguard\.service: (\d+\.\d+)", done.stdout).group(1))
    assert loose_score > EXPOSURE_THRESHOLD + 2


def test_the_unit_fits_the_daemon_and_its_configuration():
    assert value("ExecStart") == EXEC_START
    assert value("ExecReload") == "/bin/kill -HUP $MAINPID"
    assert (value("Type"), value("NotifyAccess"), value("Restart")) == ("notify", "main", "on-failure")
    assert seconds(value("WatchdogSec")) == 30
    assert seconds(value("TimeoutStartSec")) >= 120  # model loading and TensorRT engines come before READY=1
    shutdown_s = ServiceConfig.model_fields["shutdown_s"].default
    assert seconds(value("TimeoutStopSec")) > shutdown_s + 10  # the daemon's bound, then the publishers close
    assert value("DynamicUser") == "yes" and value("SupplementaryGroups") == "video"
    assert (value("StateDirectory"), value("ConfigurationDirectory")) == ("liveguard", "liveguard")
    for key, expected in [("ProtectSystem", "strict"), ("ProtectHome", "yes"), ("PrivateTmp", "yes"), ("NoNewPrivileges", "yes"),
                          ("ProtectKernelTunables", "yes"), ("ProtectKernelModules", "yes"), ("ProtectControlGroups", "yes")]:
        assert value(key) == expected, key
    assert value("RestrictAddressFamilies").split() == ["AF_UNIX", "AF_INET", "AF_INET6"]
    # the state the configuration writes lies in StateDirectory=, and the credential where device.yaml looks
    defaults = load_config()
    assert defaults.transport.outbox.path.parent == defaults.service.state_dir == Path("/var/lib/liveguard")
    credentials = dict(v.split(":", 1) for v in values("LoadCredential"))
    device = load_config([CONFIGS / "site.example.yaml", CONFIGS / "device.example.yaml"], environ={})
    password_file = device.transport.mqtt.password_file
    assert password_file.parent == Path("/run/credentials") / UNIT.name and password_file.name in credentials
    assert credentials[password_file.name].startswith("/etc/liveguard/")


# ---------------------------------------------------------------------------------------------------
# The monitoring centre's templates: an instance per collector or fusion worker, started with
# configs/centre.example.yaml (installed as /etc/liveguard/centre.yaml).

CENTRE_EXAMPLE = CONFIGS / "centre.example.yaml"
ACL = CONFIGS / "mosquitto/liveguard.acl"
# template -> (liveguard subcommand, its broker user = the ACL's `user` and the client id's role)
CENTRE = {"liveguard-collect@.service": ("collect", "collector"), "liveguard-fuse@.service": ("fuse --serve", "fusion")}
# Measured with systemd 252 (Debian 12): 1.1 for both (no GPU: PrivateDevices, MemoryDenyWriteExecute,
# PrivateUsers and ~@resources on top of liveguard.service's sandbox).
CENTRE_EXPOSURE_THRESHOLD = 1.5
centre_units = pytest.mark.parametrize("template", list(CENTRE))


def instance(template: str, number: str = "1") -> str:
    return template.replace("@.", f"@{number}.")


def exposure(unit: Path) -> float:
    done = analyze("security", "--offline=yes", str(unit))
    match = re.search(rf"Overall exposure level for {re.escape(unit.name)}: (\d+\.\d+)", done.stdout)
    assert match, done.stdout[-2000:] + done.stderr
    return float(match.group(1))


@needs_systemd_analyze
@centre_units
def test_systemd_accepts_each_centre_instance(tmp_path, template):
    status, problems = verify(local_copy(tmp_path, unit=REPO / "systemd" / template, name=instance(template)))
    assert status == 0 and problems == []


CENTRE_BROKEN = {
    "Type=exec": ("Type=exex", "Failed to parse service type"),
    "Restart=always": ("Restart=allways", "Failed to parse service restart specifier"),
    "ProtectSystem=strict": ("ProtectSytem=strict", "Unknown key"),
    "-%H-%i\n": ("-%H-%Q\n", "Failed to resolve unit specifiers"),
}


@needs_systemd_analyze
@centre_units
@pytest.mark.parametrize("good", list(CENTRE_BROKEN))
def test_systemd_rejects_a_broken_centre_instance(tmp_path, template, good):
    bad, message = CENTRE_BROKEN[good]
    unit = REPO / "systemd" / template
    text = unit.read_text(encoding="utf-8")
    assert text.count(good) == 1, good
    _, problems = verify(local_copy(tmp_path, text.replace(good, bad), unit=unit, name=instance(template)))
    assert any(message in line for line in problems), problems


@needs_systemd_analyze
@centre_units
def test_the_centre_sandboxes_score_a_low_exposure(tmp_path, template):
    unit = REPO / "systemd" / template
    assert exposure(local_copy(tmp_path, unit=unit, name=instance(template))) <= CENTRE_EXPOSURE_THRESHOLD
    # the check can fail: without the sandbox the same unit scores far above the threshold
    loose = "\n".join(line for line in unit.read_text().splitlines()
                      if not line.startswith(("Protect", "Private", "Restrict", "SystemCall", "Capability", "NoNew", "Lock",
                                              "MemoryDeny", "Device")))
    assert exposure(local_copy(tmp_path, loose, unit=unit, name=instance(template))) > CENTRE_EXPOSURE_THRESHOLD + 2


@centre_units
def test_each_centre_unit_fits_its_program_and_centre_example(template):
    unit = REPO / "systemd" / template
    command, role = CENTRE[template]
    get = lambda key: value(key, unit=unit)  # noqa: E731
    # one persistent session per host and instance: the client id names both
    assert get("ExecStart") == (f"/opt/liveguard/venv/bin/liveguard {command} -c /etc/liveguard/centre.yaml "
                                f"--client-id liveguard-{role}-%H-%i")
    assert (get("Type"), get("Restart"), get("KillMode")) == ("exec", "always", "mixed")  # no sd_notify in these programs
    assert values("StartLimitBurst", "Unit", unit) and values("DefaultInstance", "Install", unit) == ["1"]
    # one dynamic user named for every instance (not derived per instance), no GPU group, no devices
    assert get("DynamicUser") == "yes" and get("User") == get("Group") and get("User").startswith("liveguard-")
    assert values("SupplementaryGroups", unit=unit) == [] and get("PrivateDevices") == "yes"
    for key, expected in [("ProtectSystem", "strict"), ("ProtectHome", "yes"), ("PrivateTmp", "yes"), ("NoNewPrivileges", "yes"),
                          ("ProtectKernelTunables", "yes"), ("ProtectKernelModules", "yes"), ("ProtectControlGroups", "yes"),
                          ("MemoryDenyWriteExecute", "yes"), ("CapabilityBoundingSet", "")]:
        assert get(key) == expected, key
    assert get("RestrictAddressFamilies").split() == ["AF_UNIX", "AF_INET", "AF_INET6"]  # the broker, the database, HTTPS
    # the broker user the unit sets is one the ACL knows; the configuration reads it, and the credentials
    # and state where systemd puts them for instance 1
    environment = dict(v.split("=", 1) for v in values("Environment", unit=unit))
    assert environment["LIVEGUARD_MQTT_USER"] == role and f"\nuser {role}\n" in ACL.read_text(encoding="utf-8")
    credentials = dict(v.split(":", 1) for v in values("LoadCredential", unit=unit))
    assert all(source.startswith("/etc/liveguard/credentials/") for source in credentials.values())
    state = Path("/var/lib") / get("StateDirectory").replace("%i", "1")
    run_dir = Path("/run/credentials") / instance(template)
    environ = {"CREDENTIALS_DIRECTORY": str(run_dir), "STATE_DIRECTORY": str(state), **environment}
    config = load_config([CENTRE_EXAMPLE], environ=environ)
    mqtt = config.centre.mqtt
    assert mqtt.username == role and mqtt.password_file == run_dir / "mqtt-password" and "mqtt-password" in credentials
    assert (config.centre.collector.group, config.centre.worker.group) == (None, "fusion")  # collectors: plain by default
    if role == "collector":
        store = Path(config.centre.store.url.removeprefix("sqlite:///"))
        assert store.parent == state == Path("/var/lib/liveguard-centre")  # shared by every instance
        assert "%i" not in get("StateDirectory")
    else:
        assert config.centre.worker.outbox.path.parent == state == Path("/var/lib/liveguard-fusion-1")  # its own
        assert config.fusion.mode == "direct" and config.fusion.cloud.api_key_file == run_dir / "dashscope-api-key"
        assert "dashscope-api-key" in credentials
        assert seconds(get("TimeoutStopSec")) > config.fusion.cloud.read_timeout_s  # one LLM call may finish
    # outside systemd (liveguard results, config check) the defaults are instance 1's paths
    plain = load_config([CENTRE_EXAMPLE], environ={})
    assert plain.centre.mqtt.username == "collector"
    assert plain.centre.mqtt.password_file == Path("/run/credentials/liveguard-collect@1.service/mqtt-password")
    assert plain.centre.worker.outbox.path == Path("/var/lib/liveguard-fusion-1/fusion-outbox.sqlite")


def test_the_centre_units_share_nothing_they_should_not():
    """Collectors share a user and a state folder (one SQLite file); fusion workers have a user of
    their own, and each instance its own outbox folder."""
    collect, fuse = (REPO / "systemd" / name for name in CENTRE)
    assert value("User", unit=collect) != value("User", unit=fuse)
    assert value("StateDirectory", unit=fuse).endswith("-%i")
    assert value("StateDirectory", unit=collect) != value("StateDirectory", unit=fuse).removesuffix("-%i")
