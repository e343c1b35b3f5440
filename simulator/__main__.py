"""`python -m simulator SCENARIO`: a simulated day (see simulator/cli.py)."""

from simulator.cli import simulate

simulate(prog_name="python -m simulator")
