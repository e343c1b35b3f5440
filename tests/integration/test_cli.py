"""The operator's CLI: create queues and agents, set states, list who waits."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from entrypoints.cli import cli
from holdless import tasks
from tests.helpers import call_form, seed_queues


@pytest.fixture
def run_cli(rt, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("REDIS_URL", rt.redis_url)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)
    return invoke


def test_agent_created_and_made_available_is_free_in_its_queue(run_cli, rt):
    assert run_cli("queue", "create", "support", "--name", "Support", "--digit", "2").exit_code == 0
    result = run_cli("agent", "create", "alice", "--name", "Alice", "--contact", "client:alice",
                     "--queues", "support", "--password", "pw")
    assert result.exit_code == 0, result.output
    assert run_cli("agent", "state", "alice", "available").exit_code == 0
    assert rt.presence.available("support") == 1


def test_unknown_queue_and_bad_contact_are_refused_with_a_message(run_cli, rt):
    seed_queues(rt, ("support", "Support", None))
    bad_queue = run_cli("agent", "create", "bob", "--name", "Bob", "--contact", "client:bob",
                        "--queues", "nosuch")
    assert bad_queue.exit_code == 2 and "unknown queue(s): nosuch" in bad_queue.output
    bad_contact = run_cli("agent", "create", "bob", "--name", "Bob", "--contact", "12345",
                          "--queues", "support")
    assert bad_contact.exit_code == 2 and "contact must be" in bad_contact.output


def test_bad_time_zone_and_state_are_refused(run_cli):
    tz = run_cli("queue", "create", "x", "--name", "X", "--time-zone", "Mars/Olympus")
    assert tz.exit_code == 2 and "unknown time zone" in tz.output
    assert run_cli("agent", "state", "nobody", "dancing").exit_code == 2
    assert "no agent 'nobody'" in run_cli("agent", "state", "nobody", "available").output


def test_busy_agent_cannot_be_set_offline_from_the_cli(run_cli, rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    run_cli("agent", "create", "alice", "--name", "Alice", "--contact", "client:alice",
            "--queues", "support")
    run_cli("agent", "state", "alice", "available")
    twilio.post("/voice/incoming", call_form())
    result = run_cli("agent", "state", "alice", "offline")
    assert result.exit_code == 2 and "alice is busy" in result.output


def test_queues_lists_waiting_callers_with_masked_numbers(run_cli, rt, twilio):
    seed_queues(rt, ("support", "Support", None))
    twilio.post("/voice/incoming", call_form(from_="+12125550123"))
    result = run_cli("queues")
    assert "support (Support, key -): 1 waiting" in result.output
    assert "…0123" in result.output and "2125550123" not in result.output


def test_a_queue_created_from_the_cli_hands_the_worker_its_twilio_queue_sizing(run_cli, rt):
    # as the admin API does: workers size every line's Twilio queue only when they start
    assert run_cli("queue", "create", "billing", "--name", "Billing").exit_code == 0
    assert tasks.SIZE_TWILIO_QUEUES_JOB_ID in rt.jobs.job_ids


def test_agent_password_gives_a_new_password_that_signs_in_and_is_audited(run_cli, app, rt):
    import re

    from tests.console_helpers import seed_people
    seed_people(rt)
    said = run_cli("agent", "password", "alice")
    found = re.search(r"sign in as alice / (\S+)", said.output)
    assert said.exit_code == 0 and found, said.output
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/sign-in").get_data(as_text=True)).group(1)
    signed = client.post("/sign-in", data={"username": "alice", "password": found.group(1),
                                           "csrf_token": token})
    assert signed.status_code == 302
    assert run_cli("agent", "password", "alice", "--password", "short").exit_code == 2
    assert "no agent 'nobody'" in run_cli("agent", "password", "nobody").output


def test_demo_sign_ins_are_printed_again_with_new_passwords(run_cli, rt, monkeypatch):
    from entrypoints import demo
    with rt.db.session() as s:
        first = demo.seed(s, rt.queue_defaults)
    monkeypatch.setenv("HOLDLESS_ENV", "development")
    again = run_cli("demo", "sign-ins")
    assert again.exit_code == 0, again.output
    for username in ("alice", "bob", "sam", "admin"):
        assert f"sign in as {username} / " in again.output
        assert f"sign in as {username} / {first[username]}" not in again.output
    monkeypatch.setenv("HOLDLESS_ENV", "production")
    assert run_cli("demo", "sign-ins").exit_code == 2
