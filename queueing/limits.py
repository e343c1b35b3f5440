"""Every timeout and limit of the live layer and the jobs, named in one place."""

# Redis key prefix for everything Holdless keeps live.
KEY_PREFIX = "hl:"
# How many recent handle times / waits / outcomes per queue feed the estimate.
STATS_WINDOW = 50
# How many recent callers' outcomes (answered or gave up) give the abandonment share.
OUTCOMES_WINDOW = 200
# Most pairs one routing pass hands out (bounds the Lua script's run time).
MAX_PAIRS_PER_ROUTE = 50

# RQ
RQ_QUEUE_NAME = "holdless"
JOB_TIMEOUT_SECONDS = 30
# A job failing (e.g. the database unreachable) is retried after these pauses: ~2 minutes.
JOB_RETRY_INTERVALS = (1, 2, 5, 10, 30, 60)
# How often a worker looks for jobs abandoned by a dead worker (RQ's default is 10 minutes)
# and re-queues them; a job counts as abandoned once its heartbeat (timeout + 60 s) lapses.
WORKER_MAINTENANCE_SECONDS = 15
# A worker's registration lapses after this long without a heartbeat; RQ waits on the
# queue for this minus 15 s at a time (RQ's default: 420 s, so maintenance every ~7 min).
WORKER_TTL_SECONDS = 30
JOB_RESULT_TTL_SECONDS = 600
JOB_FAILURE_TTL_SECONDS = 7 * 24 * 3600

# Twilio
AGENT_RING_TIMEOUT_SECONDS = 20
TWILIO_HTTP_TIMEOUT_SECONDS = 10

# When the database or Redis is unreachable during a voice webhook: how many times the
# caller hears an apology and is brought back to try again, and the pause between tries.
STORE_OUTAGE_RETRIES = 2
STORE_OUTAGE_PAUSE_SECONDS = 3
