"""Names of the Redis keys that hold live state."""

# Redis key prefix for everything Holdless keeps live.
KEY_PREFIX = "hl:"


def line(queue: str) -> str:
    """Sorted set: entries waiting in `queue`, scored by the time they joined."""
    return f"{KEY_PREFIX}line:{queue}"


def overdue(queue: str) -> str:
    """Sorted set: callbacks waiting in `queue` that earn a priority bonus once the time they
    were promised (the score) has passed (queueing.priority)."""
    return f"{KEY_PREFIX}overdue:{queue}"


def overflow() -> str:
    """Hash: source queue slug → "target slug|seconds": after that many seconds waiting, an
    entry of the source line may also be taken by the target queue's agents."""
    return f"{KEY_PREFIX}overflow"


def idle(queue: str) -> str:
    """Sorted set: agents free for `queue`, scored by the time they became free."""
    return f"{KEY_PREFIX}idle:{queue}"


def staffed(queue: str) -> str:
    """Set: agents signed in for `queue` (available, busy or in wrap-up)."""
    return f"{KEY_PREFIX}staffed:{queue}"


def missed_offer_notice(agent_id: int | str) -> str:
    """String (JSON): the last missed offer an agent's console is told of, for a while
    (callbacks.agent_legs.missed_offer), so a page that resyncs learns it too."""
    return f"{KEY_PREFIX}agent:{agent_id}:missed-offer"


def entry(entry_id: str) -> str:
    """Hash: what an entry of a line is (kind, queue, call, interaction, joined)."""
    return f"{KEY_PREFIX}entry:{entry_id}"


def agent(agent_id: int | str) -> str:
    """Hash: an agent's live state, queues and current entry."""
    return f"{KEY_PREFIX}agent:{agent_id}"


def handle_times(queue: str) -> str:
    """List: recent handle times (seconds) in `queue`, newest first."""
    return f"{KEY_PREFIX}handle:{queue}"


def handle_average(queue: str) -> str:
    """Hash: the long-run average handle time of `queue` and how many calls it covers."""
    return f"{KEY_PREFIX}handleavg:{queue}"


def outcomes(queue: str) -> str:
    """List: recent outcomes of callers in `queue`: "w:<s>" answered, "a:<s>" gave up, after s."""
    return f"{KEY_PREFIX}outcomes:{queue}"


def busy_told(entry_id: str) -> str:
    """String: set once an entry's caller has been told the line is unusually busy."""
    return f"{KEY_PREFIX}busytold:{entry_id}"


def call_entry(call_sid: str) -> str:
    """String: the entry id of a live call (so the hold loop finds its caller)."""
    return f"{KEY_PREFIX}call:{call_sid}"


def left_alone(interaction_id: int) -> str:
    """String: the sweeper ended this caller's call, left alone in their conference when the
    job ending it was lost (kept a day, so the caller is never ended twice)."""
    return f"{KEY_PREFIX}leftalone:{interaction_id}"


def leg_call(leg_id: int) -> str:
    """String: the CallSid Twilio gave an agent leg's dial (kept a day, in case the database
    write after the dial fails and the job is retried)."""
    return f"{KEY_PREFIX}legcall:{leg_id}"


def queues() -> str:
    """Set: slugs of every queue that has had live state."""
    return f"{KEY_PREFIX}queues"


def capture(call_sid: str) -> str:
    """Hash: a caller's callback request while they confirm or key in the number."""
    return f"{KEY_PREFIX}capture:{call_sid}"


def stats_version(queue: str) -> str:
    """String: a token that changes whenever `queue`'s recorded figures change."""
    return f"{KEY_PREFIX}statsver:{queue}"


def reconciled() -> str:
    """Hash: the reconciler's marker (when it last rebuilt Redis, and what it put back);
    its absence means Redis lost its data since."""
    return f"{KEY_PREFIX}reconciled"


def reconcile_lock() -> str:
    """String: held by the one worker reconciling after a loss."""
    return f"{KEY_PREFIX}reconcile-lock"


def directory_version() -> str:
    """String: a token that changes whenever queues, opening hours or holidays change."""
    return f"{KEY_PREFIX}dirver"


def dial_pacer() -> str:
    """String: when the next outbound call may be created (holdless.pacer's schedule)."""
    return f"{KEY_PREFIX}dial-pacer"


def call_language(call_sid: str) -> str:
    """String: the language (BCP-47 tag) a live call is spoken to in."""
    return f"{KEY_PREFIX}lang:{call_sid}"


def push_channel(audience: str) -> str:
    """Pub/sub channel: live updates for one audience ("agent:7", "interaction:12",
    "presence", "board"), each a JSON message {"topic", "data"} (queueing.push)."""
    return f"{KEY_PREFIX}push:{audience}"


PUSH_PATTERN = f"{KEY_PREFIX}push:*"


def escalations() -> str:
    """Sorted set: escalations waiting for a free supervisor (ids, scored by when asked)."""
    return f"{KEY_PREFIX}escalations"
