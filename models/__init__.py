"""Durable records: SQLAlchemy 2 models and the database session factory."""

from models.base import Base, Database, UTCDateTime
from models.console import AuditEntry, Note, Transfer, WrapUp
from models.entities import (
    Agent,
    AgentQueue,
    Assignment,
    Caller,
    Holiday,
    Interaction,
    Leg,
    OpeningHours,
    Queue,
)

__all__ = [
    "Agent",
    "AgentQueue",
    "Assignment",
    "AuditEntry",
    "Base",
    "Caller",
    "Database",
    "Holiday",
    "Interaction",
    "Leg",
    "Note",
    "OpeningHours",
    "Queue",
    "Transfer",
    "UTCDateTime",
    "WrapUp",
]
