"""The queues, hours and holidays the caller's path reads are kept per process and
re-read only when a change bumps the directory version in Redis: admin changes, in this
process or in another one, are heard on the very next call."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import event, update

from admin import config
from admin.audit import Actor
from models.entities import Queue
from tests.helpers import call_form, seed_queues, spoken, twiml


@pytest.fixture
def queue_reads(rt) -> Iterator[list[str]]:
    """Every statement sent to the database that reads the queues table."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        if "FROM queues" in statement:
            seen.append(statement)
    event.listen(rt.db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(rt.db.engine, "before_cursor_execute", note)


def test_new_calls_read_no_queue_rows_until_an_admin_change_which_the_next_call_hears(
        rt, twilio, queue_reads):
    seed_queues(rt, ("support", "Support", None))
    twiml(twilio.post("/voice/incoming", call_form(from_="+12125550101")))
    first_reads = len(queue_reads)
    for n in range(3):
        twiml(twilio.post("/voice/incoming", call_form(from_=f"+1212555020{n}")))
    assert first_reads >= 1 and len(queue_reads) == first_reads
    with rt.db.session() as s:
        config.update_queue(s, Actor.operator("test"), "support",
                            {"greeting": "Welcome to support."})
    said = spoken(twiml(twilio.post("/voice/incoming", call_form(from_="+12125550301"))))
    assert "Welcome to support." in said and len(queue_reads) > first_reads


def test_hours_closed_by_the_admin_command_in_another_process_make_the_next_call_hear_closed(
        rt, twilio):
    # The frozen clock: Monday 16 Nov 2026, 10:30 in New York.
    seed_queues(rt, ("support", "Support", None))
    assert "closed" not in spoken(twiml(twilio.post("/voice/incoming", call_form())))
    env = {**os.environ, "DATABASE_URL": rt.settings.database_url, "REDIS_URL": rt.redis_url}
    done = subprocess.run(
        [sys.executable, "-c", "from entrypoints.cli import cli; cli()", "admin", "hours",
         "support", "monday", "12:00-17:00"],
        env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    said = spoken(twiml(twilio.post("/voice/incoming", call_form(from_="+12125550104"))))
    assert "We are closed right now. We open again today at 12 PM." in said, said


def test_emptied_redis_makes_the_process_read_the_queues_again_once(rt, twilio, queue_reads):
    seed_queues(rt, ("support", "Support", None))
    twiml(twilio.post("/voice/incoming", call_form(from_="+12125550105")))
    before = len(queue_reads)
    rt.live.flushdb()
    twiml(twilio.post("/voice/incoming", call_form(from_="+12125550106")))
    reread = len(queue_reads)
    twiml(twilio.post("/voice/incoming", call_form(from_="+12125550107")))
    assert reread > before and len(queue_reads) == reread


def test_a_bulk_update_of_the_queues_is_heard_on_the_next_call(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    twiml(twilio.post("/voice/incoming", call_form(from_="+12125550108")))
    with rt.db.session() as s:
        s.execute(update(Queue).where(Queue.slug == "support").values(greeting="Bulk hello."))
    said = spoken(twiml(twilio.post("/voice/incoming", call_form(from_="+12125550109"))))
    assert "Bulk hello." in said
