"""Turning figures into words a caller hears: places in line, waits, opening times."""

from __future__ import annotations

import math
from datetime import datetime

from queueing.estimate import WaitEstimate

_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
             "ninth", "tenth"]


def ordinal(n: int) -> str:
    """1 → "first", 12 → "12th"."""
    if 1 <= n <= len(_ORDINALS):
        return _ORDINALS[n - 1]
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def place_in_line(position: int) -> str:
    """"You are third in line." """
    if position <= 1:
        return "You are next in line."
    return f"You are {ordinal(position)} in line."


def minutes(seconds: float) -> int:
    """Whole minutes a caller is told, never rounding a wait down to nothing."""
    return max(1, math.ceil(seconds / 60 - 0.25))


def _minutes_phrase(n: int) -> str:
    return "1 minute" if n == 1 else f"{n} minutes"


def wait_phrase(estimate: WaitEstimate) -> str:
    """What a caller is told about a wait (see docs/wait-estimates.md): "about 4 minutes"
    when the whole range fits the minute `minutes()` rounds to, else "less than a minute",
    "less than 3 minutes" or "about 5 to 8 minutes" (range ends rounded to the nearest
    minute, widened to keep the estimate inside), so the words cover what the range covers."""
    low = min(estimate.low, estimate.seconds)
    high = max(estimate.high, estimate.seconds)
    if estimate.seconds >= 45:
        single = f"about {_minutes_phrase(minutes(estimate.seconds))}"
        said_low, said_high = said_bounds(single)
        if said_low <= low and high <= said_high:
            return single
    if high <= 60:
        return "less than a minute"
    first = min(math.floor(low / 60 + 0.5), math.floor(estimate.seconds / 60))
    last = max(first + 1, math.floor(high / 60 + 0.5), math.ceil(estimate.seconds / 60))
    if first == 0:
        return f"less than {max(last, 2)} minutes"
    return f"about {first} to {_minutes_phrase(last)}"


def said_bounds(phrase: str) -> tuple[float, float]:
    """The waits (seconds, [low, high]) a phrase of `wait_phrase` stands for.

    "less than a minute" is [0, 60]; "less than 3 minutes" is [0, 180]; "about 5 to 8
    minutes" is [300, 480]; "about 4 minutes" is the interval `minutes()` rounds to 4
    from, [3.25, 4.25] minutes ([45, 75] seconds for "about 1 minute").
    """
    words = phrase.removeprefix("in ").replace(" minutes", "").replace(" minute", "")
    if words == "less than a":
        return 0.0, 60.0
    if words.startswith("less than "):
        return 0.0, 60.0 * int(words.removeprefix("less than "))
    figures = [int(x) for x in words.removeprefix("about ").split(" to ")]
    if len(figures) == 2:
        return 60.0 * figures[0], 60.0 * figures[1]
    n = figures[0]
    return (45.0, 75.0) if n == 1 else (60.0 * n - 45.0, 60.0 * n + 15.0)


# Said instead of a wait when the queue has nothing to estimate from yet (no handle time
# today nor in its recent days): a range from a guess would say nothing.
NO_ESTIMATE = ("We cannot estimate your wait yet, as we have no recent calls to go on; "
               "we will tell you as soon as we can.")


def wait_sentence(estimate: WaitEstimate) -> str:
    """The spoken wait: "Your expected wait is about 5 to 8 minutes." (`NO_ESTIMATE`
    when the estimate has nothing to go on)."""
    if not estimate.known:
        return NO_ESTIMATE
    phrase = wait_phrase(estimate)
    if phrase == "less than a minute":
        return "An agent will be with you in less than a minute."
    return f"Your expected wait is {phrase}."


def clock_time(moment: datetime) -> str:
    """"9 AM", "1:30 PM"."""
    hour = moment.hour % 12 or 12
    suffix = "AM" if moment.hour < 12 else "PM"
    return f"{hour} {suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d} {suffix}"


def opening_phrase(opening: datetime, now: datetime) -> str:
    """"today at 1 PM", "tomorrow at 9 AM", "on Monday at 9 AM" or "on March 3 at 9 AM"."""
    days = (opening.date() - now.date()).days
    when = clock_time(opening)
    if days == 0:
        return f"today at {when}"
    if days == 1:
        return f"tomorrow at {when}"
    if days < 7:
        return f"on {opening.strftime('%A')} at {when}"
    return f"on {opening.strftime('%B')} {opening.day} at {when}"


def day_phrase(moment: datetime, now: datetime) -> str:
    """"today", "tomorrow", "on Monday" or "on March 3" (both in the same zone)."""
    days = (moment.date() - now.date()).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days < 7:
        return f"on {moment.strftime('%A')}"
    return f"on {moment.strftime('%B')} {moment.day}"


def slot_phrase(starts: datetime, ends: datetime, now: datetime) -> str:
    """"tomorrow between 9 AM and 10 AM" (local times of the slot; `now` in the same zone)."""
    return (f"{day_phrase(starts, now)} between {clock_time(starts)} "
            f"and {clock_time(ends)}")


CALLBACK_OFFER = ("Press 1 to be called back when it is your turn, "
                  "keeping your place in line.")


def spell(code: str) -> str:
    """A reference read out one character at a time: "A, 3, 7"."""
    return ", ".join(code)


def callback_wait_phrase(estimate: WaitEstimate) -> str:
    """When a callback should come: "in about 12 minutes" or "in less than a minute"."""
    return f"in {wait_phrase(estimate)}"
