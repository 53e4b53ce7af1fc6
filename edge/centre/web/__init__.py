"""`liveguard web`: the operators' page at the monitoring centre (results, evidence, keyframes, devices)."""

from edge.centre.web.app import create_app
from edge.centre.web.serve import serve_web

__all__ = ["create_app", "serve_web"]
