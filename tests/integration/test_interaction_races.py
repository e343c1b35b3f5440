"""Two processes acting on one call at once: neither may overwrite what the other did."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from models.entities import ABANDONED, CONNECTED, IVR, WAITING, Interaction
from queueing.routing import Router
from tests.helpers import call_form, seed_queues


def test_an_interaction_changed_meanwhile_refuses_a_stale_update(rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    form = call_form()
    twilio.post("/voice/incoming", form)
    with rt.db.sessions() as answering, rt.db.sessions() as hanging_up:
        first = answering.scalar(select(Interaction))
        second = hanging_up.scalar(select(Interaction))
        second.status, second.outcome = ABANDONED, "abandoned"
        hanging_up.commit()
        first.status = CONNECTED
        with pytest.raises(StaleDataError):
            answering.commit()
    with rt.db.session() as s:
        assert s.scalar(select(Interaction)).status == ABANDONED


def test_caller_is_recorded_waiting_before_any_process_can_see_them_in_line(
    rt, twilio, monkeypatch
):
    seed_queues(rt, ("support", "Support", None))
    seen: list[tuple[str, float | None]] = []
    real_join = Router.join_and_route

    def join_and_look(router, entry, now):
        with rt.db.session() as s:  # what another process reads at this moment
            row = s.get(Interaction, entry.interaction_id)
            seen.append((row.status, row.joined_at))
        return real_join(router, entry, now)

    monkeypatch.setattr(Router, "join_and_route", join_and_look)
    twilio.post("/voice/incoming", call_form())
    assert seen and seen[0][0] == WAITING and seen[0][1] is not None
    with rt.db.session() as s:
        row = s.scalar(select(Interaction))
        assert row.status != IVR and row.announced_wait is not None
