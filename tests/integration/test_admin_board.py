"""The live board: line length, oldest wait, a new caller's estimate, agents by state."""

from __future__ import annotations

from datetime import timedelta

from admin.board import board
from models.entities import Agent
from queueing import lines, stats
from queueing.estimate import estimate_wait
from tests.helpers import make_available, seed_agent, seed_queues


def test_board_shows_waiting_callers_oldest_wait_estimate_and_agents_by_state(rt, frozen_clock):
    seed_queues(rt, ("support", "Support", "1"), ("sales", "Sales", "2"))
    ann = seed_agent(rt, "ann", ["support"])
    carl = seed_agent(rt, "carl", ["support", "sales"])
    seed_agent(rt, "bob", ["support"])
    make_available(rt, ann)
    with rt.db.session() as s:  # known only to the database (Redis lost it)
        row = s.get(Agent, carl)
        row.state, row.state_since = "busy", frozen_clock.now() - timedelta(seconds=90)
    now = frozen_clock.time()
    for n, joined in enumerate((now - 75, now - 30), 1):
        lines.join(rt.live, lines.Entry(f"i:{n}", "support", lines.CALLER, joined,
                                        interaction_id=n))
    frozen_clock.advance(5)

    support, sales = board(rt)

    assert (support.slug, support.waiting, support.oldest_wait_seconds) == ("support", 2, 80.0)
    # Third in line, one agent free and one signed in, no history: 2 ahead x 240 s / 1 agent.
    assert support.new_caller_estimate.seconds == 480.0
    assert support.new_caller_estimate == estimate_wait(
        3, stats.queue_stats(rt.live, rt.presence, "support"))
    assert support.agents_by_state == {"offline": 1, "available": 1, "busy": 1, "wrap-up": 0,
                                       "not-ready": 0}
    assert [(a.name, a.state, a.seconds_in_state) for a in support.agents] == [
        ("Ann", "available", 5.0), ("Bob", "offline", None), ("Carl", "busy", 95.0)]
    assert (sales.waiting, sales.oldest_wait_seconds) == (0, None)
    assert sales.new_caller_estimate.seconds == 240.0  # nobody free: one fallback handle time
    assert sales.agents_by_state["busy"] == 1


def test_board_oldest_wait_is_the_longest_waiting_caller_even_behind_a_vip(rt, frozen_clock):
    """A VIP placed at the front by a priority bonus is not the caller waiting longest."""
    seed_queues(rt, ("support", "Support", "1"))
    now = frozen_clock.time()
    lines.join(rt.live, lines.Entry("i:1", "support", lines.CALLER, now - 60, interaction_id=1))
    lines.join(rt.live, lines.Entry("i:2", "support", lines.CALLER, now - 10, interaction_id=2,
                                    bonus=300.0))
    [support] = board(rt)
    assert lines.position(rt.live, "support", "i:2") == 1
    assert support.oldest_wait_seconds == 60.0


def _answered_and_abandoned_today(rt, frozen_clock) -> None:
    """Support today: 3 answered within 20 s, 1 answered after 60 s, 1 abandoned."""
    from datetime import timedelta as td

    from models.entities import Interaction, Leg
    from queueing.directory import queue_by_slug
    now = frozen_clock.now()
    with rt.db.session() as s:
        queue_id = queue_by_slug(s, "support").id
        for n, (wait, answered) in enumerate([(5, True), (10, True), (15, True), (60, True),
                                              (30, False)]):
            created = now - td(hours=1, minutes=n)
            call = Interaction(call_sid=f"CA{n:032d}", caller_number="+12015550101",
                               queue_id=queue_id, created_at=created,
                               joined_at=created.timestamp(), status="completed",
                               wait_seconds=float(wait))
            if answered:
                call.answered_at = created + td(seconds=wait)
                call.legs.append(Leg(status="completed", started_at=created,
                                     answered_at=call.answered_at,
                                     ended_at=call.answered_at + td(seconds=120)))
            else:
                call.status, call.outcome = "abandoned", "abandoned"
                call.ended_at = created + td(seconds=wait)
            s.add(call)


def test_board_says_no_agent_signed_in_instead_of_an_estimate_and_shows_a_closed_queue_closed(
        rt, frozen_clock):
    from admin import directory
    from admin.audit import Actor
    from admin.config import set_hours
    seed_queues(rt, ("support", "Support", "1"), ("sales", "Sales", "2"))
    seed_agent(rt, "ann", ["support"])  # signed out: nobody serves support
    with rt.db.session() as s:  # sales closes at 09:00-10:00 on Mondays (it is 10:30 there)
        set_hours(s, Actor(None, "test"), "sales", 0, "09:00-10:00")
        set_hours(s, Actor(None, "test"), "sales", 1, "09:00-17:00")
        assert directory is not None
    now = frozen_clock.time()
    lines.join(rt.live, lines.Entry("i:1", "support", lines.CALLER, now - 30, interaction_id=1))
    lines.join(rt.live, lines.Entry("cb:1", "sales", lines.CALLBACK, now - 800, callback_id=1))

    support, sales = board(rt)

    assert support.estimate_text == "no agent signed in" and support.waiting == 1
    assert (sales.open, sales.status, sales.estimate_text) == (
        False, "closed until Tue 17 Nov 09:00 EST", "closed")  # in the queue's zone, saying so
    # The callback kept overnight is a callback due, not a caller waiting 13 minutes.
    assert (sales.waiting, sales.oldest_wait_seconds, sales.callbacks_waiting) == (0, None, 1)


def test_board_service_level_and_abandon_rate_so_far_today_and_its_alarms(rt, frozen_clock):
    from admin.audit import Actor
    from admin.config import update_queue
    seed_queues(rt, ("support", "Support", "1"))
    make_available(rt, seed_agent(rt, "ann", ["support"]))
    _answered_and_abandoned_today(rt, frozen_clock)
    now = frozen_clock.time()
    lines.join(rt.live, lines.Entry("i:9", "support", lines.CALLER, now - 150, interaction_id=9))
    [quiet] = board(rt)
    assert (quiet.service_level_percent, quiet.abandon_percent) == (60.0, 20.0)
    assert quiet.alerts == () and quiet.offered_today == 5
    with rt.db.session() as s:
        update_queue(s, Actor(None, "test"), "support", {
            "alert_oldest_wait_seconds": 120, "alert_service_level_percent": 80})
    [loud] = board(rt)
    assert loud.alerts == ("Support: a caller has waited over 2 min 0 s",
                           "Support: service level today under 80%")


def test_board_rows_say_why_an_agent_is_not_ready_or_offline(rt, frozen_clock):
    from admin.board import live_board
    from queueing import agents
    from queueing.not_ready import go_not_ready  # noqa: I001
    seed_queues(rt, ("support", "Support", "1"))
    ann, bob = seed_agent(rt, "ann", ["support"]), seed_agent(rt, "bob", ["support"])
    make_available(rt, ann)
    from queueing.not_ready import save_reasons
    with rt.db.session() as s:
        [reason] = save_reasons(s, ["Lunch"])
    go_not_ready(rt, ann, reason)
    agents.take_offline(rt, bob, "missed two calls")
    frozen_clock.advance(7)
    rows = {a["name"]: a for a in live_board(rt)["agents"]}
    assert (rows["Ann"]["state"], rows["Ann"]["reason"], rows["Ann"]["seconds_in_state"]) == (
        "not-ready", reason, 7.0)
    assert (rows["Bob"]["state"], rows["Bob"]["reason"]) == ("offline", "missed two calls")


def test_an_admin_sets_and_clears_a_queues_board_alarms_through_the_api(rt, app):
    from tests.console_helpers import Desk, seed_people_and_admin
    seed_people_and_admin(rt)
    ada = Desk(app, "ada")
    path = "/api/admin/queues/support"
    bad = ada.send("PATCH", path, {"alert_service_level_percent": 101})
    assert bad.status_code == 400 and bad.json["field"] == "alert_service_level_percent"
    saved = ada.send("PATCH", path, {"alert_oldest_wait_seconds": "90",
                                     "alert_service_level_percent": 75})
    assert saved.status_code == 200, saved.json
    [support] = [q for q in board(rt) if q.slug == "support"]
    assert support.alerts == ()  # nobody waits: nothing to say yet
    with rt.db.session() as s:
        from queueing.directory import queue_by_slug
        row = queue_by_slug(s, "support")
        assert (row.alert_oldest_wait_seconds, row.alert_service_level_percent) == (90, 75)
    assert ada.send("PATCH", path, {"alert_oldest_wait_seconds": ""}).status_code == 200
    with rt.db.session() as s:
        assert queue_by_slug(s, "support").alert_oldest_wait_seconds is None
