"""An agent's desk, without Flask: the interaction in front of them with its whole context,
who may see or act on what, notes (drafts autosaved as typed), difficult flags, wrap-up.

Callers' numbers leave here masked unless a reveal is asked for, and every reveal is
audited. Logs never hold note text or full numbers.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin import access
from callbacks import jobs
from console import callback_context
from holdless.speech import DEFAULT_LANGUAGE, LANGUAGES
from ivr import survey
from ivr.numbers import mask
from models.callbacks import Callback
from models.console import DISPOSITIONS, AuditEntry, Note, Transfer, WrapUp, draft_key
from models.entities import (
    OFFERED,
    WAITING,
    Agent,
    Assignment,
    Caller,
    Interaction,
    Leg,
    Queue,
)
from models.privacy import DELETED, ConversationRecording
from queueing import keys, transfers
from queueing.presence import WRAP_UP

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

# An agent may still open (and add notes to) an interaction they handled this long ago.
RECENT = timedelta(hours=24)
HISTORY_LIMIT = 10
MAX_NOTE_CHARS = 5000


class NotYours(PermissionError):
    """The interaction is not routed to this agent now, nor handled by them recently."""


class NotNow(Exception):
    """The action does not fit the interaction's state (e.g. wrap-up while still talking)."""


class NotFound(LookupError):
    """No such interaction."""


class RoleRefused(PermissionError):
    """The viewer's role may not do this with callers' data (admin.access)."""


def iso(moment: datetime | None) -> str | None:
    """An ISO 8601 UTC timestamp, or None."""
    return None if moment is None else moment.isoformat()


def current(rt: Runtime, agent_id: int) -> tuple[int, str] | None:
    """The interaction routed to the agent now and its phase (offered, ringing, connected,
    wrap-up), or None."""
    with rt.db.session() as s:
        leg = s.scalar(select(Leg).where(Leg.agent_id == agent_id).order_by(Leg.id.desc()))
        on_callback = _current_callback(rt, s, agent_id, leg)
        if on_callback is not None:
            return on_callback
        if leg is not None and leg.ended_at is None:
            return leg.interaction_id, "ringing" if leg.answered_at is None else "connected"
        if (leg is not None and leg.answered_at is not None and _in_wrap_up(rt, agent_id)
                and _wrap_up(s, leg.interaction_id, agent_id) is None):
            return leg.interaction_id, "wrap-up"
        offer = s.scalar(select(Assignment).where(Assignment.active_agent_id == agent_id))
        if offer is not None and offer.interaction_id:
            return offer.interaction_id, "offered"
    return None


def _current_callback(rt: Runtime, s: Session, agent_id: int,
                      leg: Leg | None) -> tuple[int, str] | None:
    """The interaction behind the callback attempt the agent is on (newer than any leg)."""
    attempt = callback_context.latest_attempt(s, agent_id)
    if attempt is None or (leg is not None and leg.started_at > attempt.started_at):
        return None
    interaction_id = attempt.callback.interaction_id
    phase = callback_context.phase(attempt, _in_wrap_up(rt, agent_id))
    if interaction_id is None or phase is None:
        return None
    if phase == "wrap-up" and _wrap_up(s, interaction_id, agent_id) is not None:
        return None
    return interaction_id, phase


def wrap_up_seconds_left(rt: Runtime, agent_id: int) -> float | None:
    """Seconds until the agent's wrap-up time runs out, or None when not in wrap-up."""
    live = rt.live.hgetall(keys.agent(agent_id))
    if live.get("state") != WRAP_UP or not live.get("since"):
        return None
    ends = float(live["since"]) + rt.settings.wrap_up_seconds
    return round(max(0.0, ends - rt.clock.time()), 1)


def _in_wrap_up(rt: Runtime, agent_id: int) -> bool:
    return rt.presence.state(agent_id) == WRAP_UP


def _wrap_up(s: Session, interaction_id: int, agent_id: int) -> WrapUp | None:
    return s.scalar(select(WrapUp).where(WrapUp.interaction_id == interaction_id,
                                         WrapUp.agent_id == agent_id))


def check_access(rt: Runtime, s: Session, interaction_id: int, agent_id: int) -> Interaction:
    """The interaction, if it is routed to the agent now or they handled it recently."""
    interaction = s.get(Interaction, interaction_id)
    if interaction is None:
        raise NotFound(str(interaction_id))
    since = rt.clock.now() - RECENT
    mine = s.scalar(select(Leg.id).where(
        Leg.interaction_id == interaction_id, Leg.agent_id == agent_id,
        or_(Leg.ended_at.is_(None), Leg.ended_at >= since)).limit(1))
    offered = s.scalar(select(Assignment.id).where(
        Assignment.active_agent_id == agent_id, Assignment.interaction_id == interaction_id))
    if (mine is None and offered is None
            and not callback_context.handled_by(s, interaction_id, agent_id, since)):
        raise NotYours(str(interaction_id))
    return interaction


def recording(rt: Runtime, callback_id: int, via: int, agent_id: int) -> str:
    """The RecordingUrl of a callback's message, for an agent who may see the interaction
    `via` (the callback's own, or another call of the same number, whose history shows it);
    every play is audited."""
    with rt.db.session() as s:
        interaction = check_access(rt, s, via, agent_id)
        callback = s.get(Callback, callback_id)
        if callback is None or not callback.recording_url:
            raise NotFound(str(callback_id))
        if callback.interaction_id != via and callback.number != interaction.caller_number:
            raise NotYours(str(callback_id))
        _require(s, agent_id, "hear_recordings")
        s.add(AuditEntry(agent_id=agent_id, action="play-recording", interaction_id=via,
                         created_at=rt.clock.now()))
        url = callback.recording_url
    log.info("agent %s played the message of callback %s", agent_id, callback_id)
    return url


def context(rt: Runtime, interaction_id: int, viewer_id: int, reveal: bool = False,
            phase: str | None = None) -> dict[str, Any]:
    """Everything the agent needs to never ask the caller to repeat themselves."""
    with rt.db.session() as s:
        interaction = check_access(rt, s, interaction_id, viewer_id)
        may_hear = _allowed(s, viewer_id, "hear_recordings")
        if reveal:
            _require(s, viewer_id, "see_numbers")
            s.add(AuditEntry(agent_id=viewer_id, action="reveal-number",
                             interaction_id=interaction_id, created_at=rt.clock.now()))
            log.info("agent %s revealed the number of interaction %s", viewer_id, interaction_id)
        body: dict[str, Any] = {
            "id": interaction.id, "phase": phase, "status": interaction.status,
            "kind": interaction.kind, "outcome": interaction.outcome,
            "queue": _queue(interaction),
            "time_zone": zone_of(rt, interaction.queue),
            "caller": _caller(interaction, reveal),
            "ivr_choices": interaction.ivr_choices or {},
            "waited_seconds": round(_waited(rt, interaction), 1),
            "announced_wait_seconds": interaction.announced_wait,
            "created_at": iso(interaction.created_at),
            "answered_at": iso(interaction.answered_at),
            "ended_at": iso(interaction.ended_at),
            "callback": callback_context.summary(s, interaction, viewer_id),
            "history": _history(s, interaction, rt.settings.time_zone),
            "callback_history": callback_context.history(s, interaction.caller_number,
                                                         interaction.id),
            "notes": _notes(s, interaction.id),
            "my_draft": _my_draft(s, interaction.id, viewer_id),
            "legs": _legs(interaction),
            "transfers": _transfers(s, interaction.id),
            "wrap_up": _wrap_up_json(_wrap_up(s, interaction.id, viewer_id)),
            "survey": survey.answers(s, interaction.id),
            "dispositions": list(DISPOSITIONS),
            "recording_policy": interaction.recording_policy,
            "recordings": _recordings(s, interaction.id) if may_hear else [],
            "may_hear_recordings": may_hear,
        }
    if not may_hear:  # no link to a voicemail the viewer's role may not hear
        for callback in [body["callback"], *body["callback_history"]]:
            if isinstance(callback, dict):
                callback["recording_url"] = None
    return body


def _allowed(s: Session, agent_id: int, right: str) -> bool:
    """Whether the agent's role has `right` (admin.access)."""
    agent = s.get(Agent, agent_id)
    return agent is not None and access.may(s, agent.role, right)


def _require(s: Session, agent_id: int, right: str) -> None:
    if not _allowed(s, agent_id, right):
        words = {"see_numbers": "see full numbers", "hear_recordings": "hear recordings"}
        raise RoleRefused(f"your role may not {words[right]}")


def _recordings(s: Session, interaction_id: int) -> list[dict[str, Any]]:
    """The interaction's conversation recordings; media only through the app."""
    rows = s.scalars(select(ConversationRecording).where(
        ConversationRecording.interaction_id == interaction_id,
        ConversationRecording.status != DELETED).order_by(ConversationRecording.id))
    return [{"id": r.id, "status": r.status, "duration_seconds": r.duration_seconds,
             "started_at": iso(r.started_at),
             "media": f"/api/recordings/{r.id}/media" if r.media_url else None} for r in rows]


def conversation_recording(rt: Runtime, recording_id: int, agent_id: int) -> str:
    """The media address of a conversation recording, for an agent who may open its
    interaction and whose role may hear recordings; every listen is audited."""
    with rt.db.session() as s:
        row = s.get(ConversationRecording, recording_id)
        if row is None or not row.media_url or row.status == DELETED:
            raise NotFound(str(recording_id))
        check_access(rt, s, row.interaction_id, agent_id)
        _require(s, agent_id, "hear_recordings")
        s.add(AuditEntry(agent_id=agent_id, action="listen-recording",
                         interaction_id=row.interaction_id, created_at=rt.clock.now()))
        url = row.media_url
    log.info("agent %s listened to recording %s", agent_id, recording_id)
    return url


def zone_of(rt: Runtime, queue: Queue | None) -> str:
    """The zone a call's times are shown in: its queue's, else the line's
    (HOLDLESS_TIME_ZONE) for a call that never reached a queue."""
    return queue.time_zone if queue is not None else rt.settings.time_zone


def _queue(interaction: Interaction) -> dict[str, str] | None:
    queue = interaction.queue
    return None if queue is None else {"slug": queue.slug, "name": queue.name,
                                       "time_zone": queue.time_zone}


def _on_record(interaction: Interaction) -> Caller | None:
    """The caller on record: the interaction's, else the one recorded for its number (a
    name an admin gave the number after the call came in shows from the first second)."""
    if interaction.caller is not None or not interaction.caller_number:
        return interaction.caller
    s = Session.object_session(interaction)
    if s is None:
        return None
    return s.scalar(select(Caller).where(Caller.number == interaction.caller_number))


def _caller(interaction: Interaction, reveal: bool) -> dict[str, Any]:
    caller = _on_record(interaction)
    number = interaction.caller_number
    return {
        "name": caller.name if caller else "",
        "number": (number if reveal else mask(number)) if number else None,
        "number_hidden": number is None,
        "revealed": bool(reveal and number),
        "account_ref": caller.account_ref if caller else "",
        "difficult": bool(caller and caller.difficult),
        "language": _language(interaction),
    }


def _language(interaction: Interaction) -> dict[str, str]:
    """The language the caller is spoken to in (theirs, else their queue's): tag and name."""
    tag = interaction.language or (interaction.queue.language if interaction.queue else None)
    spoken = LANGUAGES.get(tag or DEFAULT_LANGUAGE, LANGUAGES[DEFAULT_LANGUAGE])
    return {"tag": spoken.tag, "name": spoken.name}


def _waited(rt: Runtime, interaction: Interaction) -> float:
    if interaction.wait_seconds is not None:
        return interaction.wait_seconds
    if interaction.joined_at is not None and interaction.status in (WAITING, OFFERED):
        return max(0.0, rt.clock.time() - interaction.joined_at)  # still waiting while rung
    return 0.0


def _history(s: Session, interaction: Interaction, line_zone: str) -> list[dict[str, Any]]:
    """The caller's earlier calls, newest first, each with the zone its times are shown
    in (its queue's, else the line's)."""
    same = []
    if interaction.caller_id is not None:
        same.append(Interaction.caller_id == interaction.caller_id)
    if interaction.caller_number:
        same.append(Interaction.caller_number == interaction.caller_number)
    if not same:
        return []
    rows = s.scalars(select(Interaction).where(or_(*same), Interaction.id < interaction.id)
                     .order_by(Interaction.id.desc()).limit(HISTORY_LIMIT))
    return [{
        "id": row.id, "created_at": iso(row.created_at), "status": row.status,
        "outcome": row.outcome, "queue": row.queue.name if row.queue else None,
        "time_zone": row.queue.time_zone if row.queue else line_zone,
        "agent": row.agent.name if row.agent else None,
        "dispositions": [w.disposition for w in s.scalars(
            select(WrapUp).where(WrapUp.interaction_id == row.id).order_by(WrapUp.id))],
        "notes": [{"author": n["author"], "text": n["text"]} for n in _notes(s, row.id)
                  if not n["draft"]],
    } for row in rows]


def _notes(s: Session, interaction_id: int) -> list[dict[str, Any]]:
    rows = s.scalars(select(Note).where(Note.interaction_id == interaction_id)
                     .order_by(Note.created_at, Note.id))
    return [{"id": n.id, "author": n.agent.name, "author_id": n.agent_id, "text": n.text,
             "draft": n.draft, "created_at": iso(n.created_at), "updated_at": iso(n.updated_at)}
            for n in rows if n.text.strip()]


def _my_draft(s: Session, interaction_id: int, agent_id: int) -> str:
    draft = s.scalar(select(Note).where(Note.draft_key == draft_key(interaction_id, agent_id)))
    return draft.text if draft is not None else ""


# Each step of the transfer chain in plain words (the leg kinds are the system's).
STEP_WORDS = {"answer": "answered", "callback": "called back", "warm_transfer": "warm transfer",
              "cold_transfer": "cold transfer", "queue_transfer": "sent back to the queue",
              "escalation": "escalated to a supervisor"}


def _legs(interaction: Interaction) -> list[dict[str, Any]]:
    return [{"id": leg.id, "agent": leg.agent.name if leg.agent else None,
             "step": STEP_WORDS.get(leg.kind, leg.kind.replace("_", " ")),
             "agent_id": leg.agent_id, "kind": leg.kind, "reason": leg.reason,
             "status": leg.status, "started_at": iso(leg.started_at),
             "answered_at": iso(leg.answered_at), "ended_at": iso(leg.ended_at)}
            for leg in interaction.legs]


def _transfers(s: Session, interaction_id: int) -> list[dict[str, Any]]:
    rows = list(s.scalars(select(Transfer).where(Transfer.interaction_id == interaction_id)
                          .order_by(Transfer.id)))
    ids = {t.from_agent_id for t in rows} | {t.to_agent_id for t in rows if t.to_agent_id}
    names = {a.id: a.name for a in s.scalars(select(Agent).where(Agent.id.in_(ids)))}
    return [{"id": t.id, "from": names.get(t.from_agent_id), "to_agent": names.get(
        t.to_agent_id or 0), "to_queue": t.to_queue, "mode": t.mode, "reason": t.reason,
        "at": iso(t.created_at)} for t in rows]


def _wrap_up_json(wrap: WrapUp | None) -> dict[str, Any] | None:
    if wrap is None:
        return None
    return {"disposition": wrap.disposition, "at": iso(wrap.created_at)}


def save_draft(rt: Runtime, interaction_id: int, agent_id: int, text: str) -> dict[str, Any]:
    """Upsert the agent's one draft note on the interaction (autosave as they type)."""
    key = draft_key(interaction_id, agent_id)
    for _attempt in range(2):
        try:
            with rt.db.session() as s:
                check_access(rt, s, interaction_id, agent_id)
                now = rt.clock.now()
                draft = s.scalar(select(Note).where(Note.draft_key == key))
                if draft is None:
                    draft = Note(interaction_id=interaction_id, agent_id=agent_id, draft=True,
                                 draft_key=key, created_at=now, text="")
                    s.add(draft)
                draft.text, draft.updated_at = text, now
                s.flush()
                return {"id": draft.id, "draft": True, "updated_at": iso(now)}
        except IntegrityError:  # another autosave inserted the draft first: update it
            continue
    raise NotNow("draft changed concurrently; try again")


def add_note(rt: Runtime, interaction_id: int, agent_id: int, text: str) -> dict[str, Any]:
    """A final note (the agent's draft, if any, becomes it)."""
    with rt.db.session() as s:
        check_access(rt, s, interaction_id, agent_id)
        now = rt.clock.now()
        note = s.scalar(select(Note).where(Note.draft_key == draft_key(interaction_id, agent_id)))
        if note is None:
            note = Note(interaction_id=interaction_id, agent_id=agent_id, created_at=now)
            s.add(note)
        note.text, note.draft, note.draft_key, note.updated_at = text, False, None, now
        s.flush()
        log.info("agent %s added note %s to interaction %s", agent_id, note.id, interaction_id)
        return {"id": note.id, "draft": False, "created_at": iso(note.created_at)}


def flag_difficult(rt: Runtime, interaction_id: int, agent_id: int, difficult: bool) -> bool:
    """Mark (or unmark) the interaction's caller as difficult, for every later contact."""
    with rt.db.session() as s:
        interaction = check_access(rt, s, interaction_id, agent_id)
        caller = interaction.caller
        if caller is None:
            if not interaction.caller_number:
                raise NotNow("the caller's number is hidden: there is no one to flag")
            caller = s.scalar(select(Caller).where(Caller.number == interaction.caller_number))
            if caller is None:
                caller = Caller(number=interaction.caller_number, name="", account_ref="")
                s.add(caller)
            interaction.caller = caller
        caller.difficult = difficult
    log.info("agent %s set difficult=%s on interaction %s", agent_id, difficult, interaction_id)
    return difficult


def wrap_up(rt: Runtime, interaction_id: int, agent_id: int, disposition: str,
            note: str) -> str:
    """Close the agent's part: disposition and closing note; ends their wrap-up (→ available).
    Returns the agent's state afterwards."""
    with rt.db.session() as s:
        check_access(rt, s, interaction_id, agent_id)
        legs = list(s.scalars(select(Leg).where(Leg.interaction_id == interaction_id,
                                                Leg.agent_id == agent_id)))
        if any(leg.ended_at is None for leg in legs):
            raise NotNow("you are still on this call")
        if _wrap_up(s, interaction_id, agent_id) is not None:
            raise NotNow("already wrapped up")
        now = rt.clock.now()
        s.add(WrapUp(interaction_id=interaction_id, agent_id=agent_id, disposition=disposition,
                     created_at=now))
        transfers.finalize_draft(s, interaction_id, agent_id, now)
        if note.strip():
            s.add(Note(interaction_id=interaction_id, agent_id=agent_id, text=note,
                       draft=False, created_at=now, updated_at=now))
    return _end_wrap_up(rt, agent_id)


def _end_wrap_up(rt: Runtime, agent_id: int) -> str:
    since = rt.live.hget(keys.agent(agent_id), "since")
    if rt.presence.state(agent_id) != WRAP_UP or since is None:
        return rt.presence.state(agent_id)
    jobs.end_wrap_up(  # the same step the wrap-up timer takes, done now
        rt, agent_id, str(since))
    return rt.presence.state(agent_id)
