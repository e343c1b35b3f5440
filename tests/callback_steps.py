"""Steps of the callback journey shared by the callback tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from models.callbacks import Callback
from tests.helpers import call_form, twiml

BASE = "https://holdless.test"


def local(url: str) -> str:
    """A webhook URL as the test client posts it."""
    return url.removeprefix(BASE)


def call_in(twilio: Any, from_: str = "+12125550123") -> dict[str, str]:
    """A caller phones in and joins the only queue; returns their call form."""
    form = call_form(from_=from_)
    twiml(twilio.post("/voice/incoming", form))
    return form


def ask_for_callback(twilio: Any, form: dict[str, str]) -> Any:
    """Press 1 while holding, leave Twilio's queue; returns the capture TwiML."""
    left = twiml(twilio.post("/voice/hold/key", {**form, "Digits": "1"}))
    assert [child.tag for child in left] == ["Leave"]
    return twiml(twilio.post("/voice/queue-exit", {**form, "QueueResult": "leave"}))


def book_callback(twilio: Any, from_: str = "+12125550123") -> tuple[dict[str, str], Any]:
    """Phone in, ask for a callback on the caller ID and confirm it; returns form and TwiML."""
    form = call_in(twilio, from_)
    prompt = ask_for_callback(twilio, form)
    action = local(prompt.find("Gather").get("action"))
    return form, twiml(twilio.post(action, {**form, "Digits": "1"}))


def only_callback(rt: Any) -> Callback:
    """The one callback in the database."""
    with rt.db.session() as s:
        found = s.scalars(select(Callback)).all()
        assert len(found) == 1
        return found[0]
