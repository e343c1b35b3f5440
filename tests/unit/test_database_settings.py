"""DATABASE_SYNCHRONOUS_COMMIT: PostgreSQL's levels that keep a spoken promise, read in any
case; "off" (a crash may lose commits) and anything else refused in plain words."""

from __future__ import annotations

import pytest

from holdless.settings import Settings, SettingsError
from holdless.timeouts import postgres_connect_args


def test_synchronous_commit_is_read_in_any_case_and_given_to_every_session(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_SYNCHRONOUS_COMMIT", "Remote_Apply")
    settings = Settings.from_env()
    settings.check()
    assert settings.database_synchronous_commit == "remote_apply"
    options = postgres_connect_args(synchronous_commit="remote_apply")["options"]
    assert "-c synchronous_commit=remote_apply" in options


@pytest.mark.parametrize("level", ["off", "sometimes"])
def test_synchronous_commit_off_or_unknown_is_refused_naming_the_levels(
        monkeypatch: pytest.MonkeyPatch, level: str) -> None:
    monkeypatch.setenv("DATABASE_SYNCHRONOUS_COMMIT", level)
    with pytest.raises(SettingsError, match=f"must be one of remote_apply, on, remote_write, "
                                            f"local .*not '{level}'"):
        Settings.from_env().check()
