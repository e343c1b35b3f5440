"""The settings module the Procfile's `rq worker -c entrypoints.rq_config` reads (RQ's
documented config file: UPPERCASE names): REDIS_URL, or RQ's SENTINEL dictionary when
REDIS_SENTINELS is set, so the rq command line reaches the same primary as the app."""

from __future__ import annotations

from holdless.redis_clients import rq_config
from holdless.settings import Settings, SettingsError

_settings = Settings.from_env()
_settings.check_redis()
if not _settings.redis_url and not _settings.redis_sentinels:
    raise SettingsError("the worker needs REDIS_URL or REDIS_SENTINELS (with REDIS_MASTER_NAME)")
globals().update(rq_config(_settings))
