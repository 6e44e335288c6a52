"""A fixed-factor pacer that the live view's page can pause and speed up (ROS-free).

It has the interface `sim_pkg.nodes.bridge_node.run_paced` needs (`wait_until`, and
`achieved_factor` / `report()` like `sim_pkg.pacing.Pacer`). While paused it holds the
simulation loop, so /clock stops and nodes on sim time wait with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sim_pkg.liveview.server import LiveCommands
from sim_pkg.lockstep import PacingReport
from sim_pkg.pacing import Pacer

PAUSE_POLL_S = 0.1


class SteerablePacer:
    mode = "fixed"

    def __init__(
        self,
        commands: Callable[[], LiveCommands],
        sim_start_s: float = 0.0,
        while_paused: Callable[[], None] = lambda: None,
        should_stop: Callable[[], bool] = lambda: False,
    ):
        """`commands`: the page's newest wishes (LiveView.commands); `while_paused`: called
        every PAUSE_POLL_S while paused (the view refreshes itself); `should_stop`: ends a pause
        (Ctrl-C ends it anyway)."""
        self._commands = commands
        self._while_paused = while_paused
        self._should_stop = should_stop
        self._speed = commands().speed
        self._pacer = Pacer(self._speed, sim_start_s)  # restarted at every change of speed
        self._wall0 = time.monotonic()
        self._sim0 = sim_start_s
        self._sim_now = sim_start_s
        self._paused_s = 0.0
        self.ticks = 0

    @property
    def target(self) -> float:
        return self._speed

    def wait_until(self, sim_time_s: float, settled: bool = False) -> None:
        self._sim_now = sim_time_s
        self.ticks += 1
        wish = self._commands()
        if wish.paused:
            began = time.monotonic()
            while self._commands().paused and not self._should_stop():
                self._while_paused()
                time.sleep(PAUSE_POLL_S)
            self._paused_s += time.monotonic() - began
            wish = self._commands()
            self._restart(wish.speed, sim_time_s)  # no rush to catch up after a pause
        elif wish.speed != self._speed:
            self._restart(wish.speed, sim_time_s)
        self._pacer.wait_until(sim_time_s)

    def _restart(self, speed: float, sim_time_s: float) -> None:
        self._speed = speed
        self._pacer = Pacer(speed, sim_time_s)

    @property
    def achieved_factor(self) -> float:
        """Sim time over wall time, the pauses left out."""
        wall = time.monotonic() - self._wall0 - self._paused_s
        return (self._sim_now - self._sim0) / wall if wall > 0 else 0.0

    def report(self) -> PacingReport:
        return PacingReport(
            mode=self.mode,
            real_time_factor=self.achieved_factor,
            max_real_time_factor=self._speed,
            wall_s=time.monotonic() - self._wall0,
            ticks=self.ticks,
        )
