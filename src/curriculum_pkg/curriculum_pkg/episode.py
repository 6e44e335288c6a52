"""Judge one episode from ground truth (ROS-free): stations reached, collisions, keep-out time."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from curriculum_pkg.scenario import Scenario
from sim_pkg.worldspec import Pose2D, WorldSpec

COLLISION_DEBOUNCE_S = 0.5  # touching the same thing again within this time is the same collision


@dataclass
class EpisodeMetrics:
    stations_total: int
    stations_reached: list[str] = field(default_factory=list)
    station_times_s: list[float] = field(default_factory=list)
    completion_time_s: float | None = None
    collisions: list[tuple[float, str]] = field(default_factory=list)  # (sim time, what was hit)
    keep_out_s: float = 0.0
    sim_time_s: float = 0.0
    trajectory: list[tuple[float, float, float]] = field(
        default_factory=list
    )  # (t, x, y) world frame

    @property
    def completed(self) -> bool:
        return self.completion_time_s is not None

    @property
    def progress(self) -> float:
        return len(self.stations_reached) / self.stations_total if self.stations_total else 0.0


class EpisodeJudge:
    """Fed the true pose and contacts every control period by the grader."""

    def __init__(self, scenario: Scenario, world: WorldSpec, trajectory_period_s: float = 0.2):
        self.scenario = scenario
        self.world = world
        self.metrics = EpisodeMetrics(stations_total=len(scenario.tasks))
        self._inside_since: float | None = None
        self._last_touch: dict[str, float] = {}
        self._last_sample = -math.inf
        self._period = trajectory_period_s
        self._last_t: float | None = None

    @property
    def done(self) -> bool:
        return self.metrics.completed

    def update(self, t: float, pose: Pose2D, contacts: set[str]) -> None:
        m = self.metrics
        dt = 0.0 if self._last_t is None else t - self._last_t
        self._last_t = t
        m.sim_time_s = t
        xy = np.array([pose.x, pose.y])
        if t - self._last_sample >= self._period:
            m.trajectory.append((round(t, 3), round(pose.x, 4), round(pose.y, 4)))
            self._last_sample = t
        if any(z.kind == "keep_out" and z.contains(xy) for z in self.world.zones):
            m.keep_out_s += dt
        for thing in contacts:
            if t - self._last_touch.get(thing, -math.inf) > COLLISION_DEBOUNCE_S:
                m.collisions.append((round(t, 3), thing))
            self._last_touch[thing] = t
        if m.completed:
            return
        task = self.scenario.tasks[len(m.stations_reached)]
        station = self.scenario.station(task.station_id)
        near = (
            math.hypot(pose.x - station.stop_xy[0], pose.y - station.stop_xy[1])
            <= self.scenario.station_radius_m
        )
        if not near:
            self._inside_since = None
            return
        if self._inside_since is None:
            self._inside_since = t
        if t - self._inside_since >= self.scenario.dwell_s:
            m.stations_reached.append(station.id)
            m.station_times_s.append(round(t, 3))
            self._inside_since = None
            if len(m.stations_reached) == len(self.scenario.tasks):
                m.completion_time_s = round(t, 3)
