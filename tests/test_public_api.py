"""The public surface of ``edge`` is ``__all__``, pinned here (httpx's test_exported_members)."""

from __future__ import annotations

import subprocess
import sys

import edge

PUBLIC = {
    "EVIDENCE_SCHEMA", "RESULT_SCHEMA", "Config", "ConfigError", "FusionError", "LiveGuardError", "ModelError",
    "Pipeline", "SourceError", "TransportError", "WindowOutcome", "__version__", "load_config",
}


def test_exported_names_are_the_public_api():
    assert set(edge.__all__) == PUBLIC
    for name in edge.__all__:
        assert getattr(edge, name) is not None, name


def test_exports_are_the_real_objects():
    from edge.errors import LiveGuardError
    from edge.evidence import EVIDENCE_SCHEMA
    from edge.pipeline import Pipeline

    assert edge.Pipeline is Pipeline and edge.LiveGuardError is LiveGuardError and edge.EVIDENCE_SCHEMA == EVIDENCE_SCHEMA
    assert issubclass(edge.ConfigError, edge.LiveGuardError) and edge.load_config().sampling.fps == 2.0


def test_import_edge_stays_light():
    """``import edge`` (what ``liveguard --version`` and ``config check`` pay) loads no video or model runtime."""
    code = "import sys, edge; print(' '.join(m for m in ('cv2', 'av', 'onnxruntime', 'torch') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def test_an_unknown_name_is_an_attribute_error():
    try:
        edge.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("edge.NoSuchThing resolved")
