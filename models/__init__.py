"""Durable records: SQLAlchemy 2 models and the database session factory."""

from models.admin import CallbackPolicy, ConfigAuditEntry, StaffingPlan
from models.base import Base, Database, UTCDateTime
from models.callbacks import Callback, CallbackAttempt
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
from models.presence import NotReadyReason, PresenceSpell
from models.privacy import ConversationRecording, PrivacyRequest, RoleAccess
from models.supervision import EscalationWait, MonitoringSession
from models.survey import SurveyAnswer
from models.texts import TextMessage, TextOptOut

__all__ = [
    "Agent",
    "AgentQueue",
    "Assignment",
    "AuditEntry",
    "Base",
    "Callback",
    "CallbackAttempt",
    "CallbackPolicy",
    "Caller",
    "ConversationRecording",
    "ConfigAuditEntry",
    "Database",
    "EscalationWait",
    "Holiday",
    "Interaction",
    "Leg",
    "MonitoringSession",
    "Note",
    "NotReadyReason",
    "OpeningHours",
    "PrivacyRequest",
    "PresenceSpell",
    "Queue",
    "RoleAccess",
    "StaffingPlan",
    "SurveyAnswer",
    "TextMessage",
    "TextOptOut",
    "Transfer",
    "UTCDateTime",
    "WrapUp",
]
