"""One round trip gives the hold loop the call's place and the queue's live figures."""

from __future__ import annotations

from queueing import lines, stats
from queueing.presence import Presence


def _caller(n: int, queue: str = "support") -> lines.Entry:
    return lines.Entry(f"i:{n}", queue, lines.CALLER, 100.0 + n, f"CA{n:032x}", n)


def test_hold_view_gives_place_figures_version_and_agent_counts(r):
    for n in range(3):
        lines.join(r, _caller(n))
    Presence(r).set_state(7, "available", 1.0, ["support"])
    stats.record_outcome(r, "support", 30.0)
    view = lines.hold_view(r, _caller(2).call_sid)
    assert view is not None
    assert (view.entry_id, view.queue, view.position) == ("i:2", "support", 3)
    assert (view.staffed, view.idle) == (1, 1)
    assert view.stats_version == r.get("hl:statsver:support")


def test_hold_view_of_unknown_call_is_none_and_of_a_paired_caller_has_no_place(r):
    lines.join(r, _caller(1))
    assert lines.hold_view(r, "CA" + "f" * 32) is None
    lines.leave(r, "support", "i:1")
    view = lines.hold_view(r, _caller(1).call_sid)
    assert view is not None and view.position is None


def test_stats_at_matches_queue_stats_before_and_after_new_figures(r):
    presence = Presence(r)
    stats.record_handle_time(r, "support", 200.0)
    first = stats.queue_stats(r, presence, "support")
    assert stats.stats_at(r, "support", r.get("hl:statsver:support"), 0, 0) == first
    stats.record_outcome(r, "support", 10.0, abandoned=True)
    again = stats.stats_at(r, "support", r.get("hl:statsver:support"), 0, 0)
    assert again.abandon_rate == 1.0 and again == stats.queue_stats(r, presence, "support")
