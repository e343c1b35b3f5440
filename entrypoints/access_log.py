"""gunicorn's access log without the pages' update requests: every open console and board
asks for updates (or holds an event stream) all day, and one line per refresh buried what
people did. HOLDLESS_LOG_UPDATE_REQUESTS=1 lists them again. The Procfile's web process
names this logger class (--logger-class entrypoints.access_log.QuietUpdates)."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from holdless.settings import Settings

# GET requests a page makes by itself to stay current (the console, the board).
UPDATE_PATHS = frozenset({"/api/me", "/api/me/current", "/api/me/events", "/api/board",
                          "/api/board/events", "/api/admin/board"})


def is_update_request(method: str, path: str) -> bool:
    """Whether a request is a page refreshing itself rather than a person acting."""
    return method == "GET" and path.rstrip("/") in UPDATE_PATHS


class QuietUpdates(Logger):
    """gunicorn's logger, leaving the update requests out of the access log unless
    HOLDLESS_LOG_UPDATE_REQUESTS is set."""

    def __init__(self, cfg: Any) -> None:
        super().__init__(cfg)
        self.log_updates = Settings.from_env().log_update_requests

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """Log the request unless it is an update request and those are left out."""
        if not self.log_updates and is_update_request(environ.get("REQUEST_METHOD", ""),
                                                      environ.get("PATH_INFO", "")):
            return
        super().access(resp, req, environ, request_time)
