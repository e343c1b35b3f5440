"""Administrators' configuration changes: validation per field, audit trail, hours in local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from admin import config
from admin.audit import Actor, NotAllowed, history
from admin.public_holidays import import_public_holidays
from admin.validate import ConfigError
from ivr import policy as policy_rules
from models.admin import ConfigAuditEntry
from models.entities import Agent, Holiday, Queue
from queueing import directory, hours
from tests.helpers import seed_agent, seed_queues

OPERATOR = Actor.operator("test")


@pytest.fixture
def queues(rt):
    """Two queues, support (key 1) and sales (key 2), in New York."""
    seed_queues(rt, ("support", "Support", "1"), ("sales", "Sales", "2"))
    return rt


def _error(call, *args, **kwargs) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        call(*args, **kwargs)
    return caught.value


# --- opening hours -------------------------------------------------------------------------

def test_set_hours_replaces_one_weekday_with_several_ranges(queues):
    with queues.db.session() as s:
        config.set_hours(s, OPERATOR, "support", 0, "09:00-12:00,13:00-17:00")
        config.set_hours(s, OPERATOR, "support", 1, [("08:00", "16:00")])
        assert config.set_hours(s, OPERATOR, "support", 0, "13:00-17:00, 08:00-12:00") == [
            "08:00-12:00", "13:00-17:00"]
    with queues.db.session() as s:
        queue = config.find_queue(s, "support")
        assert config.hours_text(queue, 0) == ["08:00-12:00", "13:00-17:00"]
        assert config.hours_text(queue, 1) == ["08:00-16:00"]


@pytest.mark.parametrize("ranges, words", [
    ("17:00-09:00", "must end after it starts"),
    ("09:00-09:00", "must end after it starts"),
    ("09:00-12:00,11:00-14:00", "overlaps"),
    ("9am-5pm", "not a time"),
    ("09:00", "not a range"),
    ("25:00-26:00", "not a time"),
])
def test_bad_hours_are_refused_naming_the_hours_field_and_change_nothing(queues, ranges, words):
    with queues.db.session() as s:
        config.set_hours(s, OPERATOR, "support", 2, "09:00-17:00")
    with queues.db.session() as s:
        error = _error(config.set_hours, s, OPERATOR, "support", 2, ranges)
        assert error.field == "hours" and words in error.message
    with queues.db.session() as s:
        assert config.hours_text(config.find_queue(s, "support"), 2) == ["09:00-17:00"]
        assert len(history(s, "opening_hours")) == 1


def test_malformed_range_pairs_are_refused_naming_the_hours_field(queues):
    with queues.db.session() as s:
        assert _error(config.set_hours, s, OPERATOR, "support", 0, [("09:00",)]).field == "hours"
        assert _error(config.set_hours, s, OPERATOR, "support", 0, ["09:00-17:00"]).field == \
            "hours"


@pytest.mark.parametrize("weekday", [-1, 7, "monday", True])
def test_weekday_outside_0_to_6_is_refused(queues, weekday):
    with queues.db.session() as s:
        assert _error(config.set_hours, s, OPERATOR, "support", weekday,
                      "09:00-17:00").field == "weekday"


def test_unknown_queue_is_refused_naming_the_queue_field(queues):
    with queues.db.session() as s:
        assert _error(config.set_hours, s, OPERATOR, "nope", 0, "09:00-17:00").field == "queue"


def test_range_to_midnight_keeps_the_queue_open_until_midnight_and_not_after(queues):
    with queues.db.session() as s:
        config.set_hours(s, OPERATOR, "support", 0, "18:00-24:00")
        config.set_hours(s, OPERATOR, "support", 1, "00:00-02:00")
        assert config.hours_text(config.find_queue(s, "support"), 0) == ["18:00-24:00"]
    with queues.db.session() as s:
        sched = directory.schedule(s, config.find_queue(s, "support"))
    # Monday 2026-11-16 in New York (UTC-5): 23:59 local is 04:59 UTC on Tuesday.
    assert hours.is_open(sched, datetime(2026, 11, 17, 4, 59, tzinfo=UTC))
    assert hours.is_open(sched, datetime(2026, 11, 17, 5, 0, tzinfo=UTC))  # Tue 00:00
    assert hours.is_open(sched, datetime(2026, 11, 17, 6, 59, tzinfo=UTC))  # Tue 01:59
    assert not hours.is_open(sched, datetime(2026, 11, 17, 7, 0, tzinfo=UTC))  # Tue 02:00
    assert not hours.is_open(sched, datetime(2026, 11, 16, 22, 59, tzinfo=UTC))  # Mon 17:59


def test_hours_set_by_an_admin_follow_local_time_across_the_dst_change(queues):
    with queues.db.session() as s:
        for day in range(5):
            config.set_hours(s, OPERATOR, "support", day, "09:00-17:00")
    with queues.db.session() as s:
        sched = directory.schedule(s, config.find_queue(s, "support"))
    # New York leaves daylight time on Sunday 2026-11-01: 09:00 is 13:00 UTC before, 14:00 after.
    assert hours.is_open(sched, datetime(2026, 10, 30, 13, 30, tzinfo=UTC))
    assert not hours.is_open(sched, datetime(2026, 11, 2, 13, 30, tzinfo=UTC))
    assert hours.is_open(sched, datetime(2026, 11, 2, 14, 30, tzinfo=UTC))
    assert not hours.is_open(sched, datetime(2026, 11, 2, 22, 0, tzinfo=UTC))


def test_time_zone_change_moves_the_hours_and_unknown_zones_are_refused(queues):
    with queues.db.session() as s:
        config.set_hours(s, OPERATOR, "support", 0, "09:00-17:00")
        config.set_time_zone(s, OPERATOR, "support", "Europe/Berlin")
        assert _error(config.set_time_zone, s, OPERATOR, "support", "Mars/Olympus").field == \
            "time_zone"
        assert _error(config.set_time_zone, s, OPERATOR, "support", "").field == "time_zone"
    with queues.db.session() as s:
        sched = directory.schedule(s, config.find_queue(s, "support"))
    assert hours.is_open(sched, datetime(2026, 11, 16, 8, 30, tzinfo=UTC))  # 09:30 Berlin


# --- queue settings ------------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [
    ("name", "   "),
    ("digit", "2"),
    ("digit", "12"),
    ("digit", "a"),
    ("greeting", "x" * 1001),
    ("callback_threshold_seconds", -1),
    ("callback_threshold_seconds", "soon"),
    ("busy_threshold_seconds", -5),
    ("max_waiting", -1),
    ("sl_target_seconds", 0),
    ("sl_target_percent", 0),
    ("sl_target_percent", 101),
    ("dial_mode", "whenever"),
    ("survey_enabled", "maybe"),
    ("colour", "blue"),
])
def test_each_bad_queue_setting_is_refused_naming_its_field(queues, field, value):
    with queues.db.session() as s:
        error = _error(config.update_queue, s, OPERATOR, "support",
                       {"greeting": "Hello", field: value})
        assert error.field == field
    with queues.db.session() as s:
        assert config.find_queue(s, "support").greeting == ""
        assert history(s) == []


def test_good_queue_settings_are_stored_typed_from_form_text(queues):
    with queues.db.session() as s:
        config.update_queue(s, OPERATOR, "support", {
            "name": " Customer support ", "digit": "5", "greeting": "Hi",
            "callback_threshold_seconds": "0", "busy_threshold_seconds": 900,
            "max_waiting": "", "sl_target_seconds": "30", "sl_target_percent": 90,
            "dial_mode": "customer-first", "survey_enabled": "on"})
    with queues.db.session() as s:
        q = config.find_queue(s, "support")
        assert (q.name, q.digit, q.callback_threshold_seconds, q.max_waiting,
                q.sl_target_seconds, q.sl_target_percent, q.dial_mode, q.survey_enabled) == (
            "Customer support", "5", 0, None, 30, 90, "customer-first", True)


def test_every_change_writes_one_audit_entry_with_who_when_before_and_after(queues, frozen_clock):
    admin_id = seed_agent(queues, "boss", ["support"])
    with queues.db.session() as s:
        boss = s.get(Agent, admin_id)
        boss.role = "admin"
        actor = Actor.admin(boss)
        config.update_queue(s, actor, "support", {"sl_target_seconds": 30})
        config.set_hours(s, actor, "support", 4, "10:00-14:00")
    with queues.db.session() as s:
        entries = list(s.scalars(select(ConfigAuditEntry).order_by(ConfigAuditEntry.id)))
    assert [(e.entity, e.action, e.actor_id, e.actor, e.at) for e in entries] == [
        ("queue", "update", admin_id, "boss", frozen_clock.now()),
        ("opening_hours", "update", admin_id, "boss", frozen_clock.now())]
    assert (entries[0].before["sl_target_seconds"], entries[0].after["sl_target_seconds"]) == (
        20, 30)
    assert entries[0].before["slug"] == "support"
    assert (entries[1].before["ranges"], entries[1].after["ranges"]) == ([], ["10:00-14:00"])


def test_audit_entry_rolls_back_with_a_change_that_fails_to_commit(queues):
    with pytest.raises(RuntimeError), queues.db.session() as s:
        config.update_queue(s, OPERATOR, "support", {"greeting": "Hello"})
        raise RuntimeError("the request failed after the change")
    with queues.db.session() as s:
        assert history(s) == [] and config.find_queue(s, "support").greeting == ""


def test_only_admins_may_act(queues):
    agent_id = seed_agent(queues, "ann", ["support"])
    with queues.db.session() as s, pytest.raises(NotAllowed):
        Actor.admin(s.get(Agent, agent_id))


# --- holidays ------------------------------------------------------------------------------

def test_holiday_range_with_special_hours_for_one_queue_is_audited(queues):
    with queues.db.session() as s:
        row = config.add_holiday(s, OPERATOR, "Christmas Eve", "2026-12-24", "2026-12-24",
                                 queue="support", opens="09:00", closes="12:00",
                                 message="We close at noon today.")
        config.add_holiday(s, OPERATOR, "Winter break", date(2026, 12, 25), date(2026, 12, 31))
        entry = history(s, "holiday")[-1]
        assert entry.action == "create" and entry.after["opens"] == "09:00"
        assert entry.after["message"] == "We close at noon today."
        assert row.queue_id == config.find_queue(s, "support").id
    with queues.db.session() as s:
        sched = directory.schedule(s, config.find_queue(s, "support"))
        other = directory.schedule(s, config.find_queue(s, "sales"))
    assert hours.closure_on(sched, date(2026, 12, 24)).message == "We close at noon today."
    assert hours.closure_on(other, date(2026, 12, 24)) is None
    assert hours.closure_on(other, date(2026, 12, 28)).name == "Winter break"


@pytest.mark.parametrize("kwargs, field", [
    ({"name": "", "starts": "2026-12-24"}, "name"),
    ({"name": "X", "starts": "24/12/2026"}, "starts"),
    ({"name": "X", "starts": "2026-12-24", "ends": "2026-12-23"}, "ends"),
    ({"name": "X", "starts": "2026-01-01", "ends": "2027-06-01"}, "ends"),
    ({"name": "X", "starts": "2026-12-24", "opens": "09:00"}, "closes"),
    ({"name": "X", "starts": "2026-12-24", "closes": "12:00"}, "opens"),
    ({"name": "X", "starts": "2026-12-24", "opens": "12:00", "closes": "09:00"}, "closes"),
    ({"name": "X", "starts": "2026-12-24", "queue": "nope"}, "queue"),
])
def test_bad_holidays_are_refused_naming_the_field(queues, kwargs, field):
    with queues.db.session() as s:
        assert _error(config.add_holiday, s, OPERATOR, **kwargs).field == field
        assert s.scalars(select(Holiday)).all() == []


def test_removing_a_holiday_keeps_its_record_in_the_audit(queues):
    with queues.db.session() as s:
        holiday_id = config.add_holiday(s, OPERATOR, "Closed", "2026-12-24").id
        config.remove_holiday(s, OPERATOR, holiday_id)
        assert _error(config.remove_holiday, s, OPERATOR, holiday_id).field == "holiday"
        entry = history(s, "holiday")[0]
    assert (entry.action, entry.before["name"], entry.after) == ("delete", "Closed", None)


def test_public_holidays_import_for_us_2026_adds_each_once(queues):
    with queues.db.session() as s:
        added = import_public_holidays(s, "US", 2026, actor=OPERATOR)
    assert len(added) == 12
    with queues.db.session() as s:
        assert import_public_holidays(s, "us", 2026, actor=OPERATOR) == []
        rows = s.scalars(select(Holiday).order_by(Holiday.starts)).all()
        entries = history(s, "holiday")
    assert len(rows) == 12 and all(h.queue_id is None and h.opens is None for h in rows)
    assert (rows[0].starts, rows[0].name) == (date(2026, 1, 1), "New Year's Day")
    assert (date(2026, 11, 26), "Thanksgiving Day") in {(h.starts, h.name) for h in rows}
    assert len(entries) == 1 and len(entries[0].after["added"]) == 12


def test_public_holidays_import_for_a_subdivision_and_one_queue(queues):
    with queues.db.session() as s:
        added = import_public_holidays(s, "DE", 2026, "BY", queue="support", actor=OPERATOR)
        support_id = config.find_queue(s, "support").id
    names = {h.name for h in added}
    assert "Epiphany" in names  # Bavaria only
    assert all(h.queue_id == support_id for h in added)


@pytest.mark.parametrize("args, field", [
    (("XX", 2026), "country"), (("US", 1066), "year"), (("US", 2026, "ZZ"), "subdivision")])
def test_public_holidays_import_refuses_unknown_country_year_or_subdivision(queues, args, field):
    with queues.db.session() as s:
        assert _error(import_public_holidays, s, *args, actor=OPERATOR).field == field


# --- callback policy -----------------------------------------------------------------------

def test_callback_policy_defaults_until_set_then_stored_per_queue(queues):
    with queues.db.session() as s:
        policy = config.callback_policy(s, "support", queues.settings)
        assert (policy.id, policy.attempts, policy.spacing_minutes,
                policy.allowed_countries) == (None, 3, 5, ["US"])
        config.set_callback_policy(s, OPERATOR, "support", {
            "attempts": "5", "spacing_minutes": 15, "allowed_countries": "de, us",
            "allowed_number_types": ["mobile"], "sms_booked": "We will call you."},
            queues.settings)
        config.set_callback_policy(s, OPERATOR, "support", {"attempts": 4}, queues.settings)
    with queues.db.session() as s:
        policy = config.callback_policy(s, "support", queues.settings)
        assert (policy.attempts, policy.spacing_minutes, policy.allowed_countries,
                policy.allowed_number_types) == (4, 15, ["DE", "US"], ["MOBILE"])
        assert config.callback_policy(s, "sales", queues.settings).id is None
        first, second = reversed(history(s, "callback_policy"))
    assert (first.action, first.before, first.after["attempts"]) == ("create", None, 5)
    assert (second.before["attempts"], second.after["attempts"]) == (5, 4)


@pytest.mark.parametrize("field, value", [
    ("attempts", 0), ("attempts", 11), ("spacing_minutes", 0),
    ("allowed_countries", "US, Narnia"), ("allowed_countries", ""),
    ("allowed_countries", ["ZZ"]), ("allowed_number_types", "satellite"),
    ("allowed_number_types", []), ("sms_booked", ""), ("sms_unreachable", "x" * 481),
    ("retries", 3),
])
def test_each_bad_callback_setting_is_refused_naming_its_field(queues, field, value):
    with queues.db.session() as s:
        assert _error(config.set_callback_policy, s, OPERATOR, "support",
                      {field: value}, queues.settings).field == field
        assert config.callback_policy(s, "support", queues.settings).id is None


def test_callback_numbers_are_allowed_by_country_and_type(queues):
    with queues.db.session() as s:
        policy = config.set_callback_policy(s, OPERATOR, "support", {
            "allowed_countries": ["US"], "allowed_number_types": ["FIXED_LINE_OR_MOBILE"]},
            queues.settings)
    assert policy_rules.number_allowed(policy, "+12015550123")
    assert not policy_rules.number_allowed(policy, "+18002752273")  # toll-free is not allowed
    assert not policy_rules.number_allowed(policy, "+4930901820")  # Germany not allowed
    assert not policy_rules.number_allowed(policy, "not a number")


# --- staffing plan and agents --------------------------------------------------------------

def test_staffing_plan_is_set_per_half_hour_and_refuses_bad_input(queues):
    with queues.db.session() as s:
        config.set_staffing(s, OPERATOR, "support", 1, "10:00", 6)
        config.set_staffing(s, OPERATOR, "support", 1, time(10, 30), "7")
        config.set_staffing(s, OPERATOR, "support", 1, "10:00", 5)
        assert _error(config.set_staffing, s, OPERATOR, "support", 1, "10:15", 2).field == \
            "interval_start"
        assert _error(config.set_staffing, s, OPERATOR, "support", 1, "10:00", -1).field == \
            "agents"
        assert _error(config.set_staffing, s, OPERATOR, "support", 9, "10:00", 1).field == \
            "weekday"
    with queues.db.session() as s:
        assert config.staffing_plan(s, "support") == {(1, time(10)): 5, (1, time(10, 30)): 7}
        assert [e.action for e in reversed(history(s, "staffing_plan"))] == [
            "create", "create", "update"]


def test_agents_are_created_and_changed_with_queues_and_roles_audited(queues):
    with queues.db.session() as s:
        config.save_agent(s, OPERATOR, "ann", {"name": "Ann", "contact": "client:ann",
                                                "queues": "support", "password": "s3cret-pw"})
        config.save_agent(s, OPERATOR, "ann", {"queues": ["support", "sales"],
                                                "role": "supervisor",
                                                "contact": "+1 201 555 0123"})
    with queues.db.session() as s:
        ann = s.scalar(select(Agent).where(Agent.username == "ann"))
        assert (ann.queue_slugs, ann.role, ann.contact) == (
            ["sales", "support"], "supervisor", "+12015550123")
        created, changed = reversed(history(s, "agent"))
    assert created.after["password"] == "changed" and "password_hash" not in created.after
    assert (changed.before["queues"], changed.after["queues"]) == (["support"],
                                                                    ["sales", "support"])


@pytest.mark.parametrize("changes, field", [
    ({"name": "Bo", "contact": "client:bo", "role": "boss"}, "role"),
    ({"name": "Bo", "contact": "12345"}, "contact"),
    ({"name": "Bo", "contact": "client:b o"}, "contact"),
    ({"name": "Bo", "contact": "client:bo", "queues": "support,nope"}, "queues"),
    ({"name": "Bo", "contact": "client:bo", "password": "short"}, "password"),
    ({"contact": "client:bo"}, "name"),
    ({"name": "Bo", "contact": "client:bo", "shoe_size": 9}, "shoe_size"),
])
def test_each_bad_agent_field_is_refused_naming_it(queues, changes, field):
    with queues.db.session() as s:
        assert _error(config.save_agent, s, OPERATOR, "bo", changes).field == field
        assert s.scalar(select(Agent).where(Agent.username == "bo")) is None


def test_the_last_admin_cannot_drop_the_admin_role(queues):
    with queues.db.session() as s:
        config.save_agent(s, OPERATOR, "root", {"name": "Root", "contact": "client:root",
                                                 "role": "admin"})
        assert _error(config.save_agent, s, OPERATOR, "root", {"role": "agent"}).field == "role"


def test_new_queue_is_validated_and_audited(queues):
    with queues.db.session() as s:
        assert _error(config.create_queue, s, OPERATOR, "billing", "Billing", "1").field == \
            "digit"
        assert _error(config.create_queue, s, OPERATOR, "Bad Slug", "Billing").field == "slug"
        assert _error(config.create_queue, s, OPERATOR, "billing", "Billing", None,
                      "Nowhere/City").field == "time_zone"
    with queues.db.session() as s:
        config.create_queue(s, OPERATOR, "billing", "Billing", "3", "Europe/Berlin")
    with queues.db.session() as s:
        assert s.scalar(select(Queue).where(Queue.slug == "billing")).digit == "3"
        assert history(s, "queue")[0].after["time_zone"] == "Europe/Berlin"


def test_unsaved_callback_policy_shows_the_countries_of_the_runtime_settings(
        queues, monkeypatch):
    monkeypatch.setenv("HOLDLESS_CALLBACK_REGIONS", "FR")  # the environment is not read again
    nordic = queues.settings.with_overrides({"callback_regions": "DK,EE"})
    with queues.db.session() as s:
        assert config.callback_policy(s, "support", nordic).allowed_countries == ["DK", "EE"]
