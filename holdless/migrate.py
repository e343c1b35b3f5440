"""Schema migrations (Alembic), run from code so `make run` and the tests use the same path."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

import migrations

INI = Path(migrations.__file__).with_name("alembic.ini")


def alembic_config(database_url: str) -> Config:
    """Alembic's configuration for `database_url`."""
    config = Config(str(INI))
    config.set_main_option("script_location", str(INI.parent))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    """Bring the schema at `database_url` up to the newest revision."""
    command.upgrade(alembic_config(database_url), "head")


def downgrade_to_base(database_url: str) -> None:
    """Remove every table the migrations created."""
    command.downgrade(alembic_config(database_url), "base")
