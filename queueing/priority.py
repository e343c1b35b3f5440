"""Priority where the admin wants it: an age bonus, bounded.

A queue may give VIP callers (flagged in the caller directory) and callbacks past the time
they were promised a bonus of `priority_bonus_seconds`: such an entry is placed in line as
if it had arrived that much earlier. It therefore goes ahead of later arrivals by at most
the bonus, and nobody waits more than the bonus behind anyone who came after them (no one
starves). 0, the default, keeps the line first come, first served.
"""

from __future__ import annotations

from models.entities import Interaction
from queueing.limits import MAX_PRIORITY_BONUS_SECONDS

NO_BONUS = 0.0


def bonus(queue_bonus: int | None, vip: bool) -> float:
    """The head start (seconds) of a caller in a queue giving `queue_bonus`: the bonus for a
    VIP, none for anyone else; never more than MAX_PRIORITY_BONUS_SECONDS."""
    if not vip or not queue_bonus:
        return NO_BONUS
    return float(min(max(queue_bonus, 0), MAX_PRIORITY_BONUS_SECONDS))




def caller_bonus(interaction: Interaction) -> float:
    """The head start of a live caller in the queue of their interaction (as `bonus`)."""
    queue, caller = interaction.queue, interaction.caller
    return bonus(queue.priority_bonus_seconds if queue is not None else 0,
                 caller is not None and caller.vip)
