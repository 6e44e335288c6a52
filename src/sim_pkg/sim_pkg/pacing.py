"""Keep simulated time at a chosen multiple of wall time, and measure the factor achieved.

The fixed-factor pacing of `rootroute sim` (and of grading with `pacing: fixed`); graded
episodes normally run in lockstep with the graph (sim_pkg.lockstep).
"""

from __future__ import annotations

import time

from sim_pkg.lockstep import PacingReport


class Pacer:
    """Sleeps just enough that sim time runs `real_time_factor` times faster than the wall clock.

    A factor of 0 (or less) means "as fast as possible". If the machine cannot keep up, the pacer
    never sleeps and `achieved_factor` reports what it really managed.
    """

    mode = "fixed"

    def __init__(self, real_time_factor: float, sim_start_s: float = 0.0):
        self.target = real_time_factor
        self._wall0 = time.monotonic()
        self._sim0 = sim_start_s
        self._sim_now = sim_start_s
        self.ticks = 0

    def wait_until(self, sim_time_s: float, settled: bool = False) -> None:
        """Sleep until `sim_time_s` is due in wall time (`settled`: lockstep's, unused here)."""
        self._sim_now = sim_time_s
        self.ticks += 1
        if self.target <= 0:
            return
        due = self._wall0 + (sim_time_s - self._sim0) / self.target
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    @property
    def wall_elapsed_s(self) -> float:
        return time.monotonic() - self._wall0

    @property
    def achieved_factor(self) -> float:
        wall = self.wall_elapsed_s
        return (self._sim_now - self._sim0) / wall if wall > 0 else 0.0

    def report(self) -> PacingReport:
        return PacingReport(
            mode=self.mode,
            real_time_factor=self.achieved_factor,
            max_real_time_factor=self.target,
            wall_s=self.wall_elapsed_s,
            ticks=self.ticks,
        )
