"""Running the page: the store, the operators, the keyframe fetcher and uvicorn, until SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import socket

from edge.centre.store import Store
from edge.centre.web.app import create_app
from edge.centre.web.auth import Sessions, load_users
from edge.centre.web.keyframes import KeyframeFetcher
from edge.config.models import Config

log = logging.getLogger("liveguard.web")


def serve_web(config: Config, store: Store, client_id: str | None = None) -> int:
    """Serve the page over ``store`` on ``centre.web.host:port``; keyframes come from the boxes over ``centre.mqtt``."""
    import uvicorn

    web = config.centre.web
    users = load_users(web)  # no operator: refuse to start (nobody could log in)
    sessions = Sessions(users, web.session_s)
    fetcher = KeyframeFetcher(config.centre.mqtt, web, client_id or f"liveguard-web-{socket.gethostname()}").start()
    try:
        app = create_app(store, web, sessions, fetcher)
        log.info("web: %d operator(s); listening on http://%s:%d", len(users), web.host, web.port)
        uvicorn.run(app, host=web.host, port=web.port, log_level="warning", access_log=False, server_header=False)
    finally:
        fetcher.close()
    return 0
