"""`python -m simulator SCENARIO`: a day of calls through the real stack on a compressed clock."""

from __future__ import annotations

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
@click.option("--speed", default=240.0, show_default=True, type=click.FloatRange(min=1),
              help="How many times faster than real time the day runs.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1),
              help="Job worker processes.")
@click.option("--grace", default=day.STARTUP_GRACE, show_default=True,
              type=click.FloatRange(min=1),
              help="Real seconds between starting the stack and the first second of the day "
                   "(more on a loaded machine, so that the first calls do not ring late).")
@click.option("--faults-off", is_flag=True,
              help="Run the same callers with none of Twilio's faults of the scenario "
                   "(refusals, machines, voicemails, opt-outs; calls per second unlimited).")
def simulate(scenario: Path, out: Path | None, speed: float, workers: int, grace: float,
             faults_off: bool) -> None:
    """Run SCENARIO (a TOML file) and report calls, service level, ASA, utilisation and
    announced vs actual waits."""
    try:
        plan = load(scenario)
    except ScenarioError as exc:
        raise click.UsageError(str(exc)) from exc
    if faults_off:
        plan = plan.without_faults()
    folder = out or Path("sim-out") / scenario.stem
    result = day.simulate(plan, folder, speed=speed, echo=click.echo, job_workers=workers,
                          grace=grace)
    click.echo(render_text(result))
