"""`holdless staffing`: agents needed for one interval, from the Erlang C / Erlang A maths.

Register with the `holdless` group as ``cli.add_command(staffing)``.
"""

from __future__ import annotations

import dataclasses
import json

import click

from queueing.erlang import StaffingInputError, StaffingResult, evaluate, recommend

# Option name on the command line for each field the staffing maths may reject.
_OPTION_FOR_FIELD = {
    "calls": "--calls",
    "interval_seconds": "--interval",
    "aht_seconds": "--aht",
    "target": "--target",
    "within_seconds": "--within",
    "patience_seconds": "--patience",
    "max_occupancy": "--max-occupancy",
    "shrinkage": "--shrinkage",
    "agents": "--agents",
}


def _report_lines(result: StaffingResult, within: float) -> list[str]:
    """Human-readable lines for a staffing result."""
    lines = [
        f"Offered load:            {result.offered_load_erlangs:.2f} Erlangs",
        f"Agents needed:           {result.agents}",
        f"Agents with shrinkage:   {result.agents_with_shrinkage}",
        f"Probability of waiting:  {result.probability_of_waiting:.1%}",
        f"Service level:           {result.service_level:.1%} answered within {within:g} s",
        f"Average speed of answer: {result.average_speed_of_answer:.1f} s",
        f"Occupancy:               {result.occupancy:.1%}",
    ]
    if result.abandonment is not None:
        lines.append(f"Abandonment:             {result.abandonment:.1%}")
    return lines


def _compute(options: dict[str, float | int | None]) -> StaffingResult:
    """Evaluate the given agents, or search for the fewest meeting the target."""
    common = (options["calls"], options["interval"], options["aht"])
    if options["agents"] is not None:
        return evaluate(
            *common, options["agents"], options["within"],  # type: ignore[arg-type]
            options["patience"], options["shrinkage"] or 0.0,
        )
    if options["target"] is None:
        raise click.UsageError("give --target to search, or --agents to evaluate a staffing")
    return recommend(
        *common, options["target"], options["within"],  # type: ignore[arg-type]
        options["patience"], options["max_occupancy"], options["shrinkage"] or 0.0,
    )


@click.command("staffing")
@click.option("--calls", type=float, required=True, help="Calls offered in the interval.")
@click.option("--interval", type=float, default=1800.0, show_default=True,
              help="Interval length in seconds.")
@click.option("--aht", type=float, required=True, help="Average handle time in seconds.")
@click.option("--target", type=float, help="Service-level target, e.g. 0.8.")
@click.option("--within", type=float, required=True, help="Answer-time target in seconds.")
@click.option("--patience", type=float, help="Mean caller patience in seconds (Erlang A).")
@click.option("--max-occupancy", type=float, help="Occupancy cap, e.g. 0.85.")
@click.option("--shrinkage", type=float, default=0.0, show_default=True,
              help="Share of paid time agents are unavailable, e.g. 0.3.")
@click.option("--agents", type=int, help="Evaluate this many agents instead of searching.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def staffing(as_json: bool, **options: float | int | None) -> None:
    """Agents needed for one interval to meet a service-level target (Erlang C or A).

    Service level counts callers answered within --within seconds out of all offered;
    with --patience, callers who hang up count as not met.
    """
    try:
        result = _compute(options)
    except StaffingInputError as error:
        name = _OPTION_FOR_FIELD.get(error.field, error.field)
        raise click.BadParameter(str(error).split(": ", 1)[-1], param_hint=name) from None
    except ArithmeticError as error:
        raise click.UsageError(f"could not compute staffing: {error}") from None
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(result), indent=2))
    else:
        click.echo("\n".join(_report_lines(result, float(options["within"] or 0))))
