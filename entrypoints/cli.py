"""The `holdless` command: run the stack, migrate, and what an operator needs day to day."""

from __future__ import annotations

from pathlib import Path

import click

from admin import directory
from entrypoints.runtime import Runtime
from holdless import tasks
from holdless.settings import Settings


def _runtime() -> Runtime:
    rt = Runtime(Settings.from_env())
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(rt.close)
    return rt


@click.group()
def cli() -> None:
    """Holdless: a contact-center backend on Twilio."""


@cli.command()
@click.option("--port", default=5000, show_default=True, envvar="PORT",
              help="Port of the web process (or the PORT environment variable).")
def run(port: int) -> None:
    """Start web and worker on the embedded defaults (SQLite, embedded Redis)."""
    from entrypoints.supervisor import run_stack
    run_stack(port)


@cli.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the schema up to date."""
    from holdless.migrate import upgrade
    rt = _runtime()
    upgrade(rt.db.url)
    click.echo("schema up to date")


@cli.group()
def queue() -> None:
    """Queues callers wait in."""


@queue.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--digit", default=None, help="Menu key for this queue.")
@click.option("--time-zone", default=None, help="Default: HOLDLESS_TIME_ZONE.")
def queue_create(slug: str, name: str, digit: str | None, time_zone: str | None) -> None:
    """Create a queue (zone and thresholds from the settings unless given)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    rt = _runtime()
    try:
        ZoneInfo(time_zone or rt.queue_defaults.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise click.BadParameter(f"unknown time zone {time_zone!r}",
                                 param_hint="--time-zone") from exc
    with rt.db.session() as s:
        try:
            directory.create_queue(s, slug, name, digit, time_zone, rt.queue_defaults)
        except directory.DirectoryError as exc:
            raise click.UsageError(str(exc)) from exc
    # its Twilio queue made with the size the line needs, as for a queue the admin API adds
    rt.enqueue(tasks.SIZE_TWILIO_QUEUES, job_id=tasks.SIZE_TWILIO_QUEUES_JOB_ID)
    click.echo(f"queue {slug} created")


@cli.command("queues")
def queues_list() -> None:
    """List queues with who waits in each, front first."""
    from ivr.numbers import mask
    from models.entities import Interaction
    from queueing import lines
    from queueing.directory import active_queues
    rt = _runtime()
    with rt.db.session() as s:
        for q in active_queues(s):
            waiting = lines.waiting(rt.live, q.slug)
            click.echo(f"{q.slug} ({q.name}, key {q.digit or '-'}): {len(waiting)} waiting, "
                       f"{rt.presence.available(q.slug)} agent(s) free")
            for place, entry in enumerate(waiting, 1):
                row = s.get(Interaction, entry.interaction_id) if entry.interaction_id else None
                who = mask(row.caller_number) if row else entry.id
                click.echo(f"  {place}. {entry.kind} {who}, waiting "
                           f"{int(rt.clock.time() - entry.joined)} s")


@cli.group()
def agent() -> None:
    """Agents and their states."""


@agent.command("create")
@click.argument("username")
@click.option("--name", required=True)
@click.option("--contact", required=True, help="client:<identity> or +E.164 number.")
@click.option("--queues", required=True, help="Comma-separated queue slugs.")
@click.option("--role", default="agent", show_default=True)
@click.option("--password", default="", help="Console password (prompted if empty).")
def agent_create(username: str, name: str, contact: str, queues: str, role: str,
                 password: str) -> None:
    """Create an agent."""
    with _runtime().db.session() as s:
        try:
            directory.create_agent(s, name, username, contact,
                                   [q.strip() for q in queues.split(",") if q.strip()],
                                   role, password)
        except directory.DirectoryError as exc:
            raise click.UsageError(str(exc)) from exc
    click.echo(f"agent {username} created")


@agent.command("state")
@click.argument("username")
@click.argument("state", type=click.Choice(["available", "offline"]))
def agent_state(username: str, state: str) -> None:
    """Set an agent available or offline (routing follows)."""
    from queueing import agents, dispatch
    rt = _runtime()
    try:
        with rt.db.session() as s:
            agent_id = agents.load_agent(s, username).id
        dispatch.set_state(rt, agent_id, state)
    except agents.UnknownAgent as exc:
        raise click.UsageError(f"no agent {username!r}") from exc
    except agents.StateRefused as exc:
        raise click.UsageError(f"agent {username} is {exc.current}; cannot become {state}") from exc
    click.echo(f"{username} is {state}")


@cli.group()
def prompts() -> None:
    """Recorded prompts for languages Twilio has no voice for (docs/languages.md)."""


def _prompt_folder() -> Path:
    return Path(Settings.from_env().instance_path) / "prompts"


@prompts.command("build")
@click.option("--language", "tag", default="et-EE", show_default=True)
def prompts_build(tag: str) -> None:
    """Generate (espeak-ng) every fixed sentence of the language's catalog not yet recorded."""
    from holdless import catalogs
    from holdless import prompts as recorded
    from holdless.speech import speech
    sp, made = speech(tag), 0
    for message in catalogs.extract(catalogs.CALLER_DOMAIN):
        if not message.id or message.pluralizable or catalogs.FIELD.search(str(message.id)):
            continue  # sentences with figures are made when first said
        said = sp.pgettext(message.context, str(message.id)) if message.context else \
            sp.gettext(str(message.id))
        for sentence in recorded.sentences(said):
            if not recorded.path_of(_prompt_folder(), tag, sentence).exists():
                recorded.generate(_prompt_folder(), tag, sentence)
                made += 1
    click.echo(f"{made} {tag} prompts generated in {_prompt_folder() / tag}")


@prompts.command("add")
@click.argument("tag")
@click.argument("sentence")
@click.argument("recording", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def prompts_add(tag: str, sentence: str, recording: Path) -> None:
    """Play RECORDING (a WAV file) for SENTENCE, exactly as the catalog says it."""
    from holdless import prompts as recorded
    from holdless.speech import language
    language(tag)
    click.echo(f"kept as {recorded.add(_prompt_folder(), tag, sentence, recording)}")


@agent.command("password")
@click.argument("username")
@click.option("--password", default="", help="The new password (a random one if empty).")
def agent_password(username: str, password: str) -> None:
    """Give an agent a new password and print it (audited as cli:$USER)."""
    import os
    import secrets

    from sqlalchemy import select

    from admin import config
    from admin.audit import Actor
    from models.entities import Agent
    new = password or secrets.token_urlsafe(9)
    with _runtime().db.session() as s:
        if s.scalar(select(Agent.id).where(Agent.username == username)) is None:
            raise click.UsageError(f"no agent {username!r}")
        try:
            config.save_agent(s, Actor.operator(f"cli:{os.environ.get('USER', 'operator')}"),
                              username, {"password": new})
        except config.ConfigError as exc:
            raise click.UsageError(f"{exc.field}: {exc.message}") from exc
    click.echo(f"sign in as {username} / {new}")


@cli.group()
def demo() -> None:
    """The demo line of a development machine."""


@demo.command("sign-ins")
def demo_sign_ins() -> None:
    """Give the demo people new passwords and print their sign-ins again (development
    only: the passwords printed at the first start are kept only as hashes)."""
    import os

    from entrypoints import demo as demo_data
    rt = _runtime()
    if rt.settings.env != "development":
        raise click.UsageError("demo sign-ins are reset only in development (HOLDLESS_ENV)")
    with rt.db.session() as s:
        found = demo_data.reset_passwords(s, f"cli:{os.environ.get('USER', 'operator')}")
    if not found:
        raise click.UsageError("no demo people here (they are created on an empty database)")
    for username, password in found.items():
        click.echo(f"  sign in as {username} / {password}")


def _register_commands() -> None:
    from entrypoints.admin_cli import admin
    from entrypoints.privacy_cli import privacy_group
    from entrypoints.staffing_cli import staffing
    cli.add_command(staffing)
    cli.add_command(admin)
    cli.add_command(privacy_group, "privacy")


_register_commands()
