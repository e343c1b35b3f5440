"""Turning figures into words a caller hears: places in line, waits, opening times."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from holdless.speech import ENGLISH, N_, Speech
from queueing.estimate import WaitEstimate

# Places 2 to 10 said as words; past them the figure with CLDR's ordinal category.
_PLACES = {
    2: N_("You are second in line."), 3: N_("You are third in line."),
    4: N_("You are fourth in line."), 5: N_("You are fifth in line."),
    6: N_("You are sixth in line."), 7: N_("You are seventh in line."),
    8: N_("You are eighth in line."), 9: N_("You are ninth in line."),
    10: N_("You are tenth in line."),
}


def place_in_line(position: int, sp: Speech = ENGLISH) -> str:
    """"You are third in line." (past tenth: "You are 22nd in line.", the suffix chosen by
    the language's CLDR ordinal category, its words from the catalog)."""
    if position <= 1:
        return sp.gettext("You are next in line.")
    if position in _PLACES:
        return sp.gettext(_PLACES[position])
    category = sp.ordinal_category(position)
    if category == "one":
        return sp.pgettext("ordinal one", "You are {n}th in line.", n=position)
    if category == "two":
        return sp.pgettext("ordinal two", "You are {n}th in line.", n=position)
    if category == "few":
        return sp.pgettext("ordinal few", "You are {n}th in line.", n=position)
    return sp.pgettext("ordinal other", "You are {n}th in line.", n=position)


def minutes(seconds: float) -> int:
    """Whole minutes a caller is told, never rounding a wait down to nothing."""
    return max(1, math.ceil(seconds / 60 - 0.25))


@dataclass(frozen=True)
class SaidWait:
    """What a wait is said as, before words: "about" `last` minutes, "range" `first` to
    `last`, "under" `last` minutes, or "minute" (less than a minute)."""

    kind: str
    first: int = 0
    last: int = 0

    def bounds(self) -> tuple[float, float]:
        """The waits (seconds, [low, high]) these words stand for (see `said_bounds`)."""
        if self.kind == "minute":
            return 0.0, 60.0
        if self.kind == "under":
            return 0.0, 60.0 * self.last
        if self.kind == "range":
            return 60.0 * self.first, 60.0 * self.last
        n = self.last
        return (45.0, 75.0) if n == 1 else (60.0 * n - 45.0, 60.0 * n + 15.0)


def said_wait(estimate: WaitEstimate) -> SaidWait:
    """How a wait is said (see docs/wait-estimates.md): "about 4 minutes" when the whole
    range fits the minute `minutes()` rounds to, else "less than a minute", "less than 3
    minutes" or "about 5 to 8 minutes" (range ends rounded to the nearest minute, widened
    to keep the estimate inside), so the words cover what the range covers."""
    low = min(estimate.low, estimate.seconds)
    high = max(estimate.high, estimate.seconds)
    if estimate.seconds >= 45:
        single = SaidWait("about", last=minutes(estimate.seconds))
        said_low, said_high = single.bounds()
        if said_low <= low and high <= said_high:
            return single
    if high <= 60:
        return SaidWait("minute")
    first = min(math.floor(low / 60 + 0.5), math.floor(estimate.seconds / 60))
    last = max(first + 1, math.floor(high / 60 + 0.5), math.ceil(estimate.seconds / 60))
    if first == 0:
        return SaidWait("under", last=max(last, 2))
    return SaidWait("range", first, last)


def wait_phrase(estimate: WaitEstimate, sp: Speech = ENGLISH) -> str:
    """What a caller is told about a wait: "about 4 minutes", "less than a minute", "less
    than 3 minutes" or "about 5 to 8 minutes" (see `said_wait`)."""
    said = said_wait(estimate)
    if said.kind == "minute":
        return sp.gettext("less than a minute")
    if said.kind == "under":
        return sp.ngettext("less than {count} minute", "less than {count} minutes", said.last)
    if said.kind == "range":
        return sp.ngettext("about {first} to {count} minute", "about {first} to {count} minutes",
                           said.last, first=said.first)
    return sp.ngettext("about {count} minute", "about {count} minutes", said.last)


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
NO_ESTIMATE = N_("We cannot estimate your wait yet, as we have no recent calls to go on; "
                 "we will tell you as soon as we can.")


def wait_sentence(estimate: WaitEstimate, sp: Speech = ENGLISH) -> str:
    """The spoken wait: "Your expected wait is about 5 to 8 minutes." (`NO_ESTIMATE`
    when the estimate has nothing to go on)."""
    if not estimate.known:
        return sp.gettext(NO_ESTIMATE)
    if said_wait(estimate).kind == "minute":
        return sp.gettext("An agent will be with you in less than a minute.")
    return sp.gettext("Your expected wait is {wait}.", wait=wait_phrase(estimate, sp))


def clock_time(moment: datetime, sp: Speech = ENGLISH) -> str:
    """"9 AM", "1:30 PM" (in German "9:00", in Danish "9.00": the locale's clock)."""
    return sp.clock(moment)


def opening_phrase(opening: datetime, now: datetime, sp: Speech = ENGLISH) -> str:
    """"today at 1 PM", "tomorrow at 9 AM", "on Monday at 9 AM" or "on March 3 at 9 AM"."""
    return sp.gettext("{day} at {time}", day=day_phrase(opening, now, sp),
                      time=sp.clock(opening))


# "On Monday" is a whole catalog entry per day: languages inflect it (Estonian
# "esmaspäeval"), and CLDR gives day names only as they stand alone.
_ON_WEEKDAY = (N_("on Monday"), N_("on Tuesday"), N_("on Wednesday"), N_("on Thursday"),
               N_("on Friday"), N_("on Saturday"), N_("on Sunday"))


def day_phrase(moment: datetime, now: datetime, sp: Speech = ENGLISH) -> str:
    """"today", "tomorrow", "on Monday" or "on March 3" (both in the same zone; the month
    from CLDR)."""
    days = (moment.date() - now.date()).days
    if days == 0:
        return sp.gettext("today")
    if days == 1:
        return sp.gettext("tomorrow")
    if days < 7:
        return sp.gettext(_ON_WEEKDAY[moment.weekday()])
    return sp.gettext("on {date}", date=sp.day_and_month(moment))


def slot_phrase(starts: datetime, ends: datetime, now: datetime, sp: Speech = ENGLISH) -> str:
    """"tomorrow between 9 AM and 10 AM" (local times of the slot; `now` in the same zone)."""
    return sp.gettext("{day} between {start} and {end}", day=day_phrase(starts, now, sp),
                      start=sp.clock(starts), end=sp.clock(ends))


CALLBACK_OFFER = N_("Press 1 to be called back when it is your turn, "
                    "keeping your place in line.")


def spell(code: str) -> str:
    """A reference read out one character at a time: "A, 3, 7"."""
    return ", ".join(code)


def callback_wait_phrase(estimate: WaitEstimate, sp: Speech = ENGLISH) -> str:
    """When a callback should come: "in about 12 minutes" or "in less than a minute"."""
    said = said_wait(estimate)
    if said.kind == "minute":
        return sp.gettext("in less than a minute")
    if said.kind == "under":
        return sp.ngettext("in less than {count} minute", "in less than {count} minutes",
                           said.last)
    if said.kind == "range":
        return sp.ngettext("in about {first} to {count} minute",
                           "in about {first} to {count} minutes", said.last, first=said.first)
    return sp.ngettext("in about {count} minute", "in about {count} minutes", said.last)
