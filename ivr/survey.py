"""The post-call survey, opt-in per queue: when the last agent leaves, at most two keypad
questions, each with one spoken retry on a bad (or no) key; answers are attached to the
interaction and to the agent who last talked with the caller."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from holdless import paths
from holdless.speech import ENGLISH, N_, Speech
from ivr import language, twiml
from models.entities import Interaction
from models.survey import QUESTIONS, RATING, SOLVED, SurveyAnswer

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

log = logging.getLogger(__name__)

ATTEMPTS = 2
INTRO = N_("Before you go, please answer a short survey about this call.")
THANKS = N_("Thank you for your answers, and thank you for calling. Goodbye.")
NOT_CAUGHT = N_("Sorry, I didn't catch that.")
NOT_AN_OPTION = N_("Sorry, that is not an option.")


@dataclass(frozen=True)
class Question:
    """One keypad question and the keys that answer it."""

    text: str
    """The question as a catalog sentence (English msgid)."""
    keys: str


ASKED = {
    SOLVED: Question(N_("Was your issue solved? Press 1 for yes, 2 for no."), "12"),
    RATING: Question(N_("How would you rate the agent, 1 to 5? Press a key from 1 to 5."),
                     "12345"),
}


def wanted(interaction: Interaction) -> bool:
    """Whether the caller of this interaction is to be surveyed (their queue opted in)."""
    return interaction.queue is not None and bool(interaction.queue.survey_enabled)


def start(rt: Runtime, sp: Speech = ENGLISH) -> VoiceResponse:
    """The first TwiML of the survey: a short introduction, then the first question."""
    return _ask(rt, QUESTIONS[0], 1, INTRO, sp)


def answer(rt: Runtime, call_sid: str, question: str, digits: str,
           attempt: int) -> VoiceResponse:
    """Record a valid key and ask the next question (or thank and hang up); a bad or missing
    key is met with a spoken retry, and after the last try the question is skipped."""
    asked, sp = ASKED.get(question), language.for_call(rt, call_sid)
    if asked is None:
        return twiml.goodbye(sp=sp)
    valid = len(digits) == 1 and digits in asked.keys
    if valid:
        _record(rt, call_sid, question, int(digits))
    elif attempt < ATTEMPTS:
        note = NOT_CAUGHT if not digits else NOT_AN_OPTION
        return _ask(rt, question, attempt + 1, note, sp)
    following = _next(question)
    if following is None:
        return twiml.goodbye(sp.gettext(THANKS), sp=sp)
    return _ask(rt, following, 1, "", sp)


def _next(question: str) -> str | None:
    index = QUESTIONS.index(question) + 1
    return QUESTIONS[index] if index < len(QUESTIONS) else None


def _ask(rt: Runtime, question: str, attempt: int, preface: str,
         sp: Speech = ENGLISH) -> VoiceResponse:
    said = sp.gettext(preface) if preface else ""
    text = f"{said} {sp.gettext(ASKED[question].text)}".strip()
    return twiml.ask_digit(text, rt.url(paths.SURVEY_ANSWER, q=question, attempt=attempt),
                           sp=sp)


def _record(rt: Runtime, call_sid: str, question: str, value: int) -> None:
    try:
        with rt.db.session() as s:
            interaction = s.scalar(select(Interaction).where(Interaction.call_sid == call_sid))
            if interaction is None:
                return
            interaction_id = interaction.id
            s.add(SurveyAnswer(interaction_id=interaction.id, agent_id=interaction.agent_id,
                               question=question, answer=value, created_at=rt.clock.now()))
    except IntegrityError:  # Twilio retried the webhook: the first answer stands
        log.info("survey answer to %s already recorded", question)
        return
    log.info("interaction %s: survey %s answered", interaction_id, question)


def answers(s: Session, interaction_id: int) -> list[dict[str, Any]]:
    """An interaction's survey answers, in the order asked, with the agent they concern."""
    rows = s.scalars(select(SurveyAnswer).where(SurveyAnswer.interaction_id == interaction_id)
                     .order_by(SurveyAnswer.id))
    return [{"question": a.question, "answer": a.answer,
             "agent": a.agent.name if a.agent else None, "agent_id": a.agent_id,
             "at": a.created_at.isoformat()} for a in rows]
