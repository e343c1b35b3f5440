"""Alembic environment: the URL comes from Holdless's settings (or the caller's config)."""

from alembic import context

from holdless.settings import Settings, default_database_url
from models import Base
from models.base import make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")
if not url:
    settings = Settings.from_env()
    url = settings.database_url or default_database_url(settings.instance_path)

engine = make_engine(url, statement_timeout=None)  # a migration may rewrite a big table
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
