"""`python -m simulator SCENARIO`: a day of calls through the real stack on a compressed clock."""

from __future__ import annotations

import os
from pathlib import Path

import click

from simulator import day
from simulator.report import render_text
from simulator.scenario import ScenarioError, load


@click.command("simulate")
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for report.txt, report.png and the run's logs "
                   "[default: sim-out/<scenario file name>].")
@click.option("--speed", default="auto", show_default=True,
              help="How many times faster than real time the day runs, or auto: a speed "
                   "this machine can keep (x30 per core left free by its current load, "
                   "between x15 and x240).")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1),
              help="Job worker processes.")
@click.option("--grace", default=day.STARTUP_GRACE, show_default=True,
              type=click.FloatRange(min=1),
              help="Real seconds between starting the stack and the first second of the day "
                   "(more on a loaded machine, so that the first calls do not ring late).")
@click.option("--faults-off", is_flag=True,
              help="Run the same callers with none of Twilio's faults of the scenario "
                   "(refusals, machines, voicemails, opt-outs; calls per second unlimited).")
def simulate(scenario: Path, out: Path | None, speed: str, workers: int, grace: float,
             faults_off: bool) -> None:
    """Run SCENARIO (a TOML file) and report calls, service level, ASA, utilisation and
    announced vs actual waits."""
    try:
        plan = load(scenario)
    except ScenarioError as exc:
        raise click.UsageError(str(exc)) from exc
    if faults_off:
        plan = plan.without_faults()
    factor, why = chosen_speed(speed)
    click.echo(f"speed x{factor:g}: {why}")
    folder = out or Path("sim-out") / scenario.stem
    result = day.simulate(plan, folder, speed=factor, echo=click.echo, job_workers=workers,
                          grace=grace)
    click.echo(render_text(result, why))


# What one free core keeps up with: the web process, the workers and Twilio's stand-in
# share the machine, and each hand-off's own latency is multiplied by the speed.
SPEED_PER_FREE_CORE, SLOWEST_AUTO, FASTEST_AUTO = 30.0, 15.0, 240.0


def auto_speed(cores: int, load: float) -> float:
    """A speed a machine with `cores` cores and this one-minute load average can keep: x30
    per core its load leaves free (at least half a core), in steps of 15, x15 to x240."""
    free = max(cores - load, 0.5)
    steps = round(SPEED_PER_FREE_CORE * free / SLOWEST_AUTO)
    return min(max(steps * SLOWEST_AUTO, SLOWEST_AUTO), FASTEST_AUTO)


def chosen_speed(value: str) -> tuple[float, str]:
    """The speed asked for, or the one `auto_speed` picks for this machine, and why."""
    if value.strip().lower() != "auto":
        try:
            factor = float(value)
        except ValueError:
            raise click.BadParameter("give a number of times real time, or auto",
                                     param_hint="--speed") from None
        if factor < 1:
            raise click.BadParameter("must be at least 1", param_hint="--speed")
        return factor, "as asked (--speed)"
    cores, load = os.cpu_count() or 1, os.getloadavg()[0]
    factor = auto_speed(cores, load)
    return factor, (f"chosen for this machine ({cores} cores, load {load:.1f}); "
                    "--speed N to choose")
