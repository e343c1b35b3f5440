"""`holdless privacy`: export or erase everything held about one phone number, as the
operator at the shell (audited as "cli:<user>", the number masked).

    holdless privacy export +12125550123 [--out caller.json]
    holdless privacy erase +12125550123

Erasure is refused (exit 2, with the reason) while the person is on a call; running it
again changes nothing more.
"""

from __future__ import annotations

import json
import os

import click

from admin import privacy
from admin.audit import Actor
from entrypoints.runtime import Runtime
from holdless.settings import Settings
from ivr.numbers import mask


def _operator() -> Actor:
    return Actor.operator(f"cli:{os.environ.get('USER', 'operator')}")


def _number(rt: Runtime, raw: str) -> str:
    try:
        return privacy.e164(raw, rt.settings.default_region)
    except privacy.BadNumber as exc:
        raise click.UsageError(f"number: {exc}") from None


def _runtime() -> Runtime:
    rt = Runtime(Settings.from_env())
    click.get_current_context().call_on_close(rt.close)
    return rt


@click.group()
def privacy_group() -> None:
    """Callers' data: export or erase what is held about a number."""


@privacy_group.command("export")
@click.argument("number")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the JSON to this file (default: print it).")
def export_command(number: str, out: str | None) -> None:
    """Everything held about NUMBER, as JSON."""
    rt = _runtime()
    data = json.dumps(privacy.export(rt, _operator(), _number(rt, number)), indent=2)
    if out is None:
        click.echo(data)
        return
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(data + "\n")
    click.echo(f"wrote {out}")


@privacy_group.command("erase")
@click.argument("number")
def erase_command(number: str) -> None:
    """Erase everything held about NUMBER (refused while they are on a call)."""
    rt = _runtime()
    try:
        changed = privacy.erase(rt, _operator(), _number(rt, number))
    except privacy.OnACall as exc:
        raise click.UsageError(str(exc)) from None
    counts = ", ".join(f"{kind} {len(ids)}" for kind, ids in changed.items())
    click.echo(f"erased {mask(number)}: {counts}")
