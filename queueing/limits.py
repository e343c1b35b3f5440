"""Every timeout and limit of the live layer and the jobs, named in one place."""

# How many recent handle times / waits / outcomes per queue feed the estimate.
STATS_WINDOW = 50
# How many recent callers' outcomes (answered or gave up) give the abandonment share.
OUTCOMES_WINDOW = 200
# Each process keeps the queues, their hours and holidays as last read, until the version
# token in Redis says an admin changed them, or at most this long (a change made behind the
# app's back, e.g. by hand in SQL, still shows within this time).
DIRECTORY_CACHE_MAX_AGE_SECONDS = 60.0
# Most pairs one routing pass hands out (bounds the Lua script's run time).
MAX_PAIRS_PER_ROUTE = 50
# Routing passes run again after the database refused a pairing (the refused agent, now the
# most recently idle, is tried last); bounded so a stuck agent cannot loop a webhook.
REROUTES_AFTER_REFUSAL = 2

# The sweeper: asks Twilio about calls we still think are live, for hang-ups whose status
# callbacks were lost (Twilio does not retry them). How often it runs (one job per slot);
# how old a call must be before it is asked about (younger ones still have their own
# callbacks, and deferred ones the job retries, to come); how long a call found still up is
# left before it is asked about again; and the most calls asked about in one job (the rest
# follow in a chained job, so one job stays well inside JOB_TIMEOUT_SECONDS).
SWEEP_INTERVAL_SECONDS = 60
SWEEP_MIN_AGE_SECONDS = 3 * 60
SWEEP_RECHECK_SECONDS = 3 * 60
SWEEP_MAX_CALLS_PER_JOB = 50

# Callbacks
# How long the customer's phone rings on a callback (seconds).
CUSTOMER_RING_TIMEOUT_SECONDS = 30
# How long a caller's half-finished callback request is remembered while they key it in.
CALLBACK_CAPTURE_TTL_SECONDS = 15 * 60
# Refused numbers a caller may key before being returned to the line.
CALLBACK_NUMBER_TRIES = 2
# The reconciler rebuilds the lines from the database this often (and at worker start).
RECONCILE_INTERVAL_SECONDS = 5 * 60
# Workers look for the reconciler's marker on every maintenance pass; when it is gone, Redis
# lost its data and they reconcile at once. One reconciles at a time, under a lock that
# lapses after this long if its holder dies.
RECONCILE_LOCK_SECONDS = 60
# A caller recorded as offered whose offer ended this long ago with no agent leg live is
# put back in line by the reconciler (the step that returns them was lost with Redis).
RECONCILE_OFFER_GRACE_SECONDS = 30
# Live callers older than this are not put back by the reconciler (their call is surely over).
RECONCILE_LIVE_MAX_AGE_SECONDS = 4 * 3600
# Callback slots offered when a callback cannot be made before closing (or after hours).
CALLBACK_SLOT_MINUTES = 60
CALLBACK_SLOTS_OFFERED = 2
# How far ahead slots are looked for, and the callbacks per slot of a queue with no plan.
CALLBACK_SLOT_LOOKAHEAD_DAYS = 14
CALLBACK_SLOT_UNPLANNED_CAPACITY = 10
# Placing slot callbacks this many seconds apart keeps the order they were booked in.
CALLBACK_SLOT_ORDER_STEP_SECONDS = 0.001
# Longest voicemail a caller may leave instead of holding (seconds).
VOICEMAIL_MAX_SECONDS = 120
# A callback attempt with no customer call sid this long after it began is stuck (its worker
# died before dialling): the reconciler's watchdog closes it as failed and the retry follows.
CALLBACK_STUCK_ATTEMPT_SECONDS = 10 * 60
# When the database or Redis is unreachable during a voice webhook: how many times the
# caller hears an apology and is brought back to try again, and the pause between tries.
STORE_OUTAGE_RETRIES = 2
STORE_OUTAGE_PAUSE_SECONDS = 3

# Priority (queueing.priority): the most a queue's age bonus may be, in seconds. A VIP caller
# or an overdue callback is served ahead of later arrivals by at most the queue's bonus, so
# nobody waits longer than this behind someone who came after them.
MAX_PRIORITY_BONUS_SECONDS = 1800
# Overflow (queueing.overflow): the longest an entry may be made to wait before the agents of
# its queue's overflow queue may also take it, in seconds.
MAX_OVERFLOW_AFTER_SECONDS = 3600

# How long Redis remembers the language of a live call (longer than any call lasts).
CALL_LANGUAGE_TTL_SECONDS = 12 * 3600
