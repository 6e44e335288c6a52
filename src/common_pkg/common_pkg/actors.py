"""Moving actors (workers, forklifts): their scenario format and where they are at a given time.

ROS-free. An actor drives its path at a constant speed, forever: `back_and_forth` goes from the
first point to the last and back, `loop` goes on from the last point to the first. It waits
`pause_s` at each end (a loop: at its first point) and faces the direction it drives, so it turns
on the spot at the ends and at the corners of its path. Its pose is a pure function of the sim
time and its spec: the simulator, the grader and a hidden variant all agree on where it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

from common_pkg.errors import WorldError
from common_pkg.yamlio import IDENTIFIER, Locator

# Outline [length, width, height] in metres when the scenario gives none: a person with a little
# room for the arms, and a small (1.5 t class) counterbalance forklift, about 2.0 m long without
# its forks, 1.1 m wide and 2.0 m to the top of its overhead guard.
DEFAULT_SIZE_M = {"worker": (0.5, 0.5, 1.7), "forklift": (2.0, 1.1, 2.0)}
KIND_KO = {"worker": "작업자", "forklift": "지게차"}
MAX_SPEED_MPS = 2.5  # 9 km/h; a person walks at about 1.2 m/s
# Slower than this is standing still (say so with pause_s): a slower actor's period grows past
# what the Gazebo keyframes of sim_pkg.keyframes can sample.
MIN_SPEED_MPS = 0.05
MIN_STEP_M = 0.01  # each leg of a path moves at least this far
MAX_PAUSE_S = 1800.0  # the longest episode (a scenario's time_limit_s)
MAX_ACTORS = 20
MAX_PATH_POINTS = 50
MAX_ACTOR_SIZE_M = 10.0  # a large forklift is 5 m long

ACTORS_SCHEMA = {
    "type": "array",
    "maxItems": MAX_ACTORS,
    "items": {
        "type": "object",
        "required": ["id", "kind", "path", "speed_mps"],
        "additionalProperties": False,
        "properties": {
            "id": IDENTIFIER,
            "kind": {"enum": list(DEFAULT_SIZE_M)},
            "size_m": {
                "type": "array",
                "items": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_ACTOR_SIZE_M},
                "minItems": 3,
                "maxItems": 3,
            },
            "path": {
                "type": "array",
                "minItems": 2,
                "maxItems": MAX_PATH_POINTS,
                "items": {
                    "type": "array",
                    "items": {"type": "number"},
                    "minItems": 2,
                    "maxItems": 2,
                },
            },
            "speed_mps": {"type": "number", "minimum": MIN_SPEED_MPS, "maximum": MAX_SPEED_MPS},
            "mode": {"enum": ["back_and_forth", "loop"]},
            "pause_s": {"type": "number", "minimum": 0, "maximum": MAX_PAUSE_S},
            "start_offset_m": {"type": "number", "minimum": 0},
        },
    },
}


@dataclass(frozen=True)
class Actor:
    id: str
    kind: str  # worker | forklift
    size_lwh: tuple[float, float, float]  # length along its heading, width, height
    path_xy: tuple[tuple[float, float], ...]  # >= 2 points, no two consecutive ones equal
    speed_mps: float
    mode: str = "back_and_forth"  # or "loop"
    pause_s: float = 0.0  # wait at each end of the path (a loop: at its first point)
    start_offset_m: float = 0.0  # how far along its route it is at time 0

    @property
    def kind_ko(self) -> str:
        return KIND_KO[self.kind]

    @property
    def contact_name(self) -> str:
        """How `SimWorld.robot_contacts()` and the grader's feedback name it."""
        return f"actor:{self.id}"

    @property
    def radius_m(self) -> float:
        """A worker is simulated as an upright cylinder of this radius: its edge."""
        return max(self.size_lwh[0], self.size_lwh[1]) / 2

    @property
    def sweep_radius_m(self) -> float:
        """Half the outline's diagonal: what it sweeps around its path when it turns on the spot."""
        return math.hypot(self.size_lwh[0], self.size_lwh[1]) / 2

    def _legs(self) -> list[tuple[tuple[float, float], ...]]:
        """The polylines it drives, in order, with a pause after each."""
        pts = self.path_xy
        if self.mode == "loop":
            return [(*pts, pts[0])]
        return [pts, pts[::-1]]

    @property
    def route_length_m(self) -> float:
        """Distance driven in one full cycle (there and back, or once round the loop)."""
        return sum(_length(leg) for leg in self._legs())

    @property
    def period_s(self) -> float:
        legs = self._legs()
        return self.route_length_m / self.speed_mps + len(legs) * self.pause_s

    def pose_at(self, t_s: float) -> tuple[float, float, float]:
        """(x, y, yaw_rad) at sim time `t_s`, in the world frame."""
        legs = self._legs()
        # Where in the cycle it is at t = 0: start_offset_m of driving (plus the pauses passed).
        offset_m = self.start_offset_m % self.route_length_m
        tau = 0.0
        for leg in legs:
            length = _length(leg)
            if offset_m < length:
                tau += offset_m / self.speed_mps
                break
            offset_m -= length
            tau += length / self.speed_mps + self.pause_s
        tau = (t_s + tau) % self.period_s
        for leg in legs:
            drive_s = _length(leg) / self.speed_mps
            if tau < drive_s:
                return _along(leg, tau * self.speed_mps)
            if tau < drive_s + self.pause_s:
                return _along(leg, math.inf)  # waiting at the leg's end, as it arrived
            tau -= drive_s + self.pause_s
        return _along(legs[-1], math.inf)  # only reached through rounding at the period's end

    def path_distance_m(self, xy: tuple[float, float]) -> float:
        """Shortest distance from a point to the path (to its closing side too, for a loop)."""
        route = self._legs()[0]
        return min(_segment_distance(xy, a, b) for a, b in pairwise(route))


def _length(polyline) -> float:
    return sum(math.dist(a, b) for a, b in pairwise(polyline))


def _along(polyline, distance_m: float) -> tuple[float, float, float]:
    """The point `distance_m` along a polyline, and the direction of the segment it is on (the
    end of the last segment for any distance beyond the end)."""
    for a, b in pairwise(polyline):
        seg = math.dist(a, b)
        yaw = math.atan2(b[1] - a[1], b[0] - a[0])
        if distance_m < seg:
            f = distance_m / seg
            return (a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), yaw)
        distance_m -= seg
    return (b[0], b[1], yaw)


def _segment_distance(p, a, b) -> float:
    ax, ay = b[0] - a[0], b[1] - a[1]
    f = ((p[0] - a[0]) * ax + (p[1] - a[1]) * ay) / (ax * ax + ay * ay)
    f = min(1.0, max(0.0, f))
    return math.hypot(p[0] - a[0] - f * ax, p[1] - a[1] - f * ay)


def make_actor(raw: dict, locate: Locator, where: tuple) -> Actor:
    """An Actor from one schema-checked `world.actors[]` entry, checking what a schema cannot.
    (The caller checks that its id is unique and its path points lie on the floor.)"""
    path = tuple((float(x), float(y)) for x, y in raw["path"])
    mode = raw.get("mode", "back_and_forth")
    for j in range(1, len(path)):
        if path[j] == path[j - 1]:
            raise WorldError(
                locate((*where, "path", j)),
                f"path point {j} repeats the point before it: every step of a path must move",
                f"이동 경로의 {j}번 점이 바로 앞 점과 같습니다: 경로의 각 구간은 움직여야 합니다",
            )
        if math.dist(path[j], path[j - 1]) < MIN_STEP_M:
            raise WorldError(
                locate((*where, "path", j)),
                f"path point {j} is less than {MIN_STEP_M} m from the point before it: every "
                f"step of a path must move at least {MIN_STEP_M} m",
                f"이동 경로의 {j}번 점이 바로 앞 점에서 {MIN_STEP_M} m도 떨어져 있지 않습니다: "
                f"경로의 각 구간은 {MIN_STEP_M} m 이상 움직여야 합니다",
            )
    if mode == "loop" and path[-1] == path[0]:
        raise WorldError(
            locate((*where, "path", len(path) - 1)),
            "a loop closes by itself: do not repeat the first point at the end",
            "loop 경로는 자동으로 처음 점으로 돌아갑니다: 마지막에 처음 점을 다시 쓰지 마세요",
        )
    if mode == "loop" and math.dist(path[-1], path[0]) < MIN_STEP_M:
        raise WorldError(
            locate((*where, "path", len(path) - 1)),
            f"a loop goes back from its last point to its first: they must be at least "
            f"{MIN_STEP_M} m apart",
            f"loop 경로는 마지막 점에서 처음 점으로 돌아갑니다: 두 점은 {MIN_STEP_M} m 이상 "
            "떨어져 있어야 합니다",
        )
    return Actor(
        id=raw["id"],
        kind=raw["kind"],
        size_lwh=tuple(float(v) for v in raw.get("size_m", DEFAULT_SIZE_M[raw["kind"]])),
        path_xy=path,
        speed_mps=float(raw["speed_mps"]),
        mode=mode,
        pause_s=float(raw.get("pause_s", 0.0)),
        start_offset_m=float(raw.get("start_offset_m", 0.0)),
    )
