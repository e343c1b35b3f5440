"""A small simulated day through the whole stack in which some customers had texted STOP to
our number before the day (scenario knob `opt_out_share`): Twilio (the stand-in) blocks them
and forwards the keyword to the app; every one of them who books a callback is told by
phone that no text can come, and no text is ever tried to them (0 creates, so 0 of
Twilio's 21610 refusals), while the others get theirs and its delivery is recorded."""

from __future__ import annotations

import tomllib

import pytest
from sqlalchemy import select

from models.base import Database
from models.callbacks import Callback
from models.texts import SKIPPED, TextMessage, TextOptOut
from simulator import day, scenario

OPTED_OUT_DAY = """
name = "Some customers opted out of texts"
start = 2026-11-16T11:00:00
interval_minutes = 3
arrivals = [8, 8]
wrap_up_seconds = 10
seed = 5
callback_share = 1.0
opt_out_share = 0.5
patience = { kind = "fixed", mean = 900 }
handle_time = { kind = "fixed", mean = 90 }
[[queues]]
slug = "support"
name = "Support"
[[agents]]
username = "solo"
queues = ["support"]
"""


@pytest.mark.slow
def test_no_text_goes_to_a_customer_who_opted_out_at_twilio(tmp_path):
    plan = scenario.parse(tomllib.loads(OPTED_OUT_DAY), "opted-out.toml")
    opted_out = {c.number for c in plan.plan() if c.opted_out}
    assert opted_out and len(opted_out) < len(plan.plan())
    report = day.simulate(plan, tmp_path, speed=60, echo=lambda _line: None, job_workers=1,
                          web_workers=2, grace=6.0)
    assert report.texts.opted_out == len(opted_out)
    assert report.texts.to_opted_out == 0
    db = Database(f"sqlite:///{tmp_path / 'sim-instance' / 'holdless.db'}")
    try:
        with db.session() as s:
            recorded = {r.number for r in s.scalars(select(TextOptOut)) if r.opted_out}
            booked = {c.number for c in s.scalars(select(Callback))}
            texts = list(s.scalars(select(TextMessage)))
    finally:
        db.dispose()
    assert recorded == opted_out
    assert booked & opted_out and booked - opted_out  # both kinds booked callbacks
    assert {t.number for t in texts if t.status == SKIPPED} == booked & opted_out
    assert report.texts.sent == sum(1 for t in texts if t.number not in opted_out) > 0
    # The stand-in's status callbacks (sent, then delivered) reached /sms/status over HTTP.
    assert {t.status for t in texts if t.number not in opted_out} == {"delivered"}
