"""Every Twilio webhook (voice and messaging) answers within its budget, whatever the
stores do.

Twilio waits 15 s for a webhook's answer, then requests the number's Fallback URL (error
11205) or plays its own "application error" (twilio.com/docs/api/errors/11205). Each wait on
Redis or the database is bounded (holdless/timeouts.py), but a PostgreSQL connection that
stalls mid-statement has no client-side limit in psycopg. So each webhook runs on a pool
thread and the request waits at most WEBHOOK_DEADLINE_SECONDS for it: past that the caller
hears the outage apology, a customer's text is asked for again
(entrypoints.web.store_unreachable), and the stuck thread is left to finish or fail when
the store answers.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from flask import Flask, request

from holdless.timeouts import WEBHOOK_DEADLINE_SECONDS, WEBHOOK_THREADS

_threads = ThreadPoolExecutor(max_workers=WEBHOOK_THREADS, thread_name_prefix="webhook")


class OverBudget(Exception):  # noqa: N818 - named for what happened, as the store errors are
    """A webhook's stores did not answer within its deadline."""


def within_budget(view: Callable[..., Any]) -> Callable[..., Any]:
    """`view`, answered within WEBHOOK_DEADLINE_SECONDS or failed with OverBudget."""

    @functools.wraps(view)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _ = request.form  # read the body here: its stream belongs to the server's thread
        context = contextvars.copy_context()  # the request, the app, everything the view reads
        future = _threads.submit(context.run, view, *args, **kwargs)
        try:
            return future.result(timeout=WEBHOOK_DEADLINE_SECONDS)
        except FutureTimeout:
            raise OverBudget(request.path) from None

    return bounded


def bound_voice_webhooks(app: Flask, blueprint: str = "voice") -> None:
    """Put every view of `blueprint` under the webhook deadline."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith(f"{blueprint}."):
            app.view_functions[endpoint] = within_budget(view)
