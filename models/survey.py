"""Post-call survey answers: what a caller keyed after their agent left."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime
from models.entities import Agent

# The survey's questions (keys of SurveyAnswer.question), in the order they are asked.
SOLVED, RATING = "solved", "rating"
QUESTIONS = (SOLVED, RATING)


class SurveyAnswer(Base):
    """One keypad answer to one survey question, attached to the interaction and to the
    agent who last talked with the caller. One answer per question per interaction."""

    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("interaction_id", "question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    question: Mapped[str] = mapped_column(String(20))
    answer: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    agent: Mapped[Agent | None] = relationship()
