"""Every job the worker runs, by name: one constant per job with its function's dotted path,
its timeout and its retries. Code that hands work to the worker imports this table, never
the job's module (RQ imports the function by its path when the job runs).

Each job function takes the worker's runtime as its first argument, then the arguments it
was enqueued with; the worker hands the runtime in (see entrypoints.worker.RuntimeJob).
"""

from __future__ import annotations

from dataclasses import dataclass

# How long one job may run before RQ stops it.
JOB_TIMEOUT_SECONDS = 30
# A job failing (e.g. the database unreachable) is retried after these pauses: ~2 minutes.
JOB_RETRY_INTERVALS = (1, 2, 5, 10, 30, 60)
# How long RQ keeps a finished job's result, and a failed job's record.
JOB_RESULT_TTL_SECONDS = 600
JOB_FAILURE_TTL_SECONDS = 7 * 24 * 3600
# The RQ queue every job goes to (the Procfile's worker listens on it).
RQ_QUEUE_NAME = "holdless"
# How often a worker looks for jobs abandoned by a dead worker (RQ's default is 10 minutes)
# and re-queues them; a job counts as abandoned once its heartbeat (timeout + 60 s) lapses.
WORKER_MAINTENANCE_SECONDS = 15
# A worker's registration lapses after this long without a heartbeat; RQ waits on the
# queue for this minus 15 s at a time (RQ's default: 420 s, so maintenance every ~7 min).
WORKER_TTL_SECONDS = 30
# A worker that lost its Redis connection tries again after 1, 2, 4 … seconds, at most this
# long (RQ's default: 60 s), so a Redis that is back is used (and a loss noticed) soon.
WORKER_REDIS_RETRY_MAX_SECONDS = 5.0
# How often the listener of a worker's command channel (RQ's pub/sub) looks up from its wait
# (RQ's: 60 s). RQ unsubscribes before it stops that listener and redis-py waits for it to
# exit, so a stopping worker (a burst finished, a SIGTERM) waited for up to one such wait.
WORKER_COMMAND_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Task:
    """One kind of job: the dotted path of its function, and its limits."""

    path: str
    timeout_seconds: int = JOB_TIMEOUT_SECONDS
    retry_intervals: tuple[int, ...] = JOB_RETRY_INTERVALS
    # Goes to the front of the worker's queue: a dial for someone already waiting on the
    # line goes before a slot's batch of callbacks (calls are paced: holdless.pacer).
    urgent: bool = False


# A caller and an agent were paired: ring the agent (or start the callback's attempt).
RING_AGENT = Task("callbacks.jobs.ring_agent")
# Send a live caller's call to new TwiML.
REDIRECT_CALLER = Task("callbacks.jobs.redirect_caller")
# The caller hung up: stop every agent leg still ringing or alone in the conference.
STOP_AGENT_LEGS = Task("callbacks.jobs.stop_agent_legs")
# The last agent left: survey the caller or end their call.
FINISH_CALL = Task("callbacks.jobs.finish_call")
# An agent's wrap-up is over: available again.
END_WRAP_UP = Task("callbacks.jobs.end_wrap_up")
# A call's end reported while the database was unreachable: settle it now (retried).
SETTLE_CALL_END = Task("callbacks.jobs.settle_call_end")
# A call found already placed (by a worker lost mid-job) and already over: settle it.
SETTLE_ADOPTED_CALL = Task("callbacks.jobs.settle_adopted_call")
# A callback's agent answered: dial the customer.
DIAL_CUSTOMER = Task("callbacks.placing.dial_customer")
# Who answered a callback's customer (AsyncAmd), reported while the database was
# unreachable: record it now, ending the call of a machine (retried).
APPLY_DETECTION = Task("callbacks.detection.detected_job", urgent=True)
# A caller's recorded message reported while the database was unreachable: keep it now.
KEEP_MESSAGE = Task("ivr.callback_voicemail.recording_ready", urgent=True)
# Hang up one call of a callback (the agent's or the customer's).
END_CALLBACK_CALL = Task("callbacks.placing.end_call")
# A booked callback's time has come: put it in line.
CALLBACK_DUE = Task("callbacks.placing.due")
# Text a customer about their callback.
SEND_SMS = Task("callbacks.notify.send_sms")
# A text's delivery status reported while the database was unreachable: record it now.
RECORD_TEXT_STATUS = Task("ivr.texting.record_status_job")
# An opt-out or opt-in keyword texted while the database was unreachable: record it now.
RECORD_TEXT_OPT = Task("ivr.texting.record_opt_job")
# Ask Twilio about calls whose status callbacks may have been lost.
SWEEP = Task("callbacks.sweeper.sweep_job")
# Rebuild the live lines from the database.
RECONCILE = Task("callbacks.reconcile.reconcile_job")
# Transfers: ring the colleague, drop the transferring agent, return the caller to a line,
# hold or resume the caller in the conference.
DIAL_TRANSFER = Task("queueing.transfers.dial_transfer", urgent=True)
DROP_AGENT = Task("queueing.transfers.drop_agent")
TRANSFER_TO_LINE = Task("queueing.transfers.redirect_to_line")
HOLD_CALLER = Task("queueing.transfers.hold_caller")
# A warm transfer's sender cancelled, completed it or made it three-way: who leaves leaves,
# then the caller is taken off hold.
END_WARM = Task("queueing.transfers.end_warm_job")
# Escalations waiting for a supervisor: one became available; the wait's deadline came.
OFFER_ESCALATION = Task("queueing.escalations.offer_job", urgent=True)
ESCALATION_TIMEOUT = Task("queueing.escalations.timeout_job", urgent=True)
# Supervisors on live calls: ring their phone in as a participant, change its mode, remove it.
MONITOR_JOIN = Task("queueing.monitoring.join_job", urgent=True)
MONITOR_MODE = Task("queueing.monitoring.mode_job", urgent=True)
MONITOR_LEAVE = Task("queueing.monitoring.leave_job", urgent=True)
# Create or resize every line's Twilio queue to the MaxSize Holdless needs.
SIZE_TWILIO_QUEUES = Task("callbacks.twilio_queues.size_queues_job")
SIZE_TWILIO_QUEUES_JOB_ID = "size-twilio-queues"  # one such job waiting at a time

# Conversation recordings: start one at Twilio, pause or resume it.
START_RECORDING = Task("callbacks.recording.start", urgent=True)
SET_RECORDING = Task("callbacks.recording.set_at_twilio", urgent=True)
# Apply every queue's retention (recordings, voicemails, notes, caller identity).
ENFORCE_RETENTION = Task("admin.retention.enforce_job", timeout_seconds=600)

ALL: tuple[Task, ...] = (
    RING_AGENT, REDIRECT_CALLER, STOP_AGENT_LEGS, FINISH_CALL, END_WRAP_UP, SETTLE_CALL_END,
    SETTLE_ADOPTED_CALL, DIAL_CUSTOMER, APPLY_DETECTION, KEEP_MESSAGE, END_CALLBACK_CALL,
    CALLBACK_DUE,
    SEND_SMS, RECORD_TEXT_STATUS, RECORD_TEXT_OPT, SWEEP,
    RECONCILE, DIAL_TRANSFER, DROP_AGENT, TRANSFER_TO_LINE, HOLD_CALLER, END_WARM,
    SIZE_TWILIO_QUEUES,
    MONITOR_JOIN, MONITOR_MODE, MONITOR_LEAVE, OFFER_ESCALATION, ESCALATION_TIMEOUT,
    START_RECORDING, SET_RECORDING, ENFORCE_RETENTION,
)
