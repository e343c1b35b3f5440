"""Who may hear recordings and see callers' full numbers: a setting per role, changed by
admins (validated, audited), read wherever a recording is played or a number revealed."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from admin import validate as v
from admin.audit import Actor, record
from admin.validate import ConfigError
from models.entities import ROLE_ADMIN, ROLE_AGENT, ROLE_SUPERVISOR
from models.privacy import ROLE_ACCESS_DEFAULTS, RoleAccess

ROLES = (ROLE_AGENT, ROLE_SUPERVISOR, ROLE_ADMIN)
RIGHTS = ("hear_recordings", "see_numbers")


def rights(s: Session, role: str) -> dict[str, bool]:
    """What people of `role` may do with callers' data (the defaults until set)."""
    row = s.get(RoleAccess, role)
    if row is None:
        return dict(ROLE_ACCESS_DEFAULTS)
    return {"hear_recordings": row.hear_recordings, "see_numbers": row.see_numbers}


def may(s: Session, role: str, right: str) -> bool:
    """Whether people of `role` have `right` (one of RIGHTS)."""
    return rights(s, role)[right]


def every_role(s: Session) -> dict[str, dict[str, bool]]:
    """Each role's rights."""
    return {role: rights(s, role) for role in ROLES}


def set_rights(s: Session, actor: Actor, role: Any, changes: dict[str, Any]) -> dict[str, bool]:
    """Change what a role may do (any of RIGHTS, each true or false); all checked first."""
    if role not in ROLES:
        raise ConfigError("role", f"must be one of {', '.join(ROLES)}")
    unknown = sorted(set(changes) - set(RIGHTS))
    if unknown:
        raise ConfigError(unknown[0], "is not a right a role has")
    clean = {name: v.flag(name, value) for name, value in changes.items()}
    before = rights(s, role)
    after = {**before, **clean}
    row = s.get(RoleAccess, role) or RoleAccess(role=role)
    row.hear_recordings, row.see_numbers = after["hear_recordings"], after["see_numbers"]
    s.add(row)
    s.flush()
    record(s, actor, "update", "role-access", role, before, after)
    return after
