"""The web process's access log leaves out the pages' own update requests unless
HOLDLESS_LOG_UPDATE_REQUESTS asks for them, and keeps every other request."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from entrypoints.access_log import QuietUpdates
from entrypoints.supervisor import procfile


def _logged(monkeypatch, setting: str, method: str, path: str) -> list[str]:
    monkeypatch.setenv("HOLDLESS_LOG_UPDATE_REQUESTS", setting)
    config = Config()
    config.set("accesslog", "-")
    logger = QuietUpdates(config)
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logger.access_log.addHandler(handler)
    response = SimpleNamespace(status="200 OK", response_length=2, headers=[], sent=2)
    request = SimpleNamespace(headers=[], method=method, path=path, query="", version=(1, 1),
                              uri=path)
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "REMOTE_ADDR": "127.0.0.1",
               "SERVER_PROTOCOL": "HTTP/1.1", "QUERY_STRING": "", "RAW_URI": path}
    from datetime import timedelta
    logger.access(response, request, environ, timedelta(seconds=0.01))
    return lines


@pytest.mark.parametrize("path", ["/api/me/current", "/api/me/events", "/api/board"])
def test_update_requests_are_left_out_of_the_access_log_by_default(monkeypatch, path):
    assert _logged(monkeypatch, "", "GET", path) == []
    assert len(_logged(monkeypatch, "1", "GET", path)) == 1  # the setting lists them again


def test_what_people_do_is_still_logged(monkeypatch):
    assert len(_logged(monkeypatch, "", "POST", "/api/me/state")) == 1
    assert len(_logged(monkeypatch, "", "GET", "/admin/queues")) == 1


def test_the_web_process_uses_this_logger():
    assert "--logger-class entrypoints.access_log.QuietUpdates" in procfile()["web"]
