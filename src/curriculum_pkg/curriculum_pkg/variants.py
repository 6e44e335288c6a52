"""Hidden variants of a scenario: the bounds a scenario declares, and the draw within them.

A scenario's `randomization` section says how far each thing may move in a hidden variant: the
robot's start, every station (and so the waypoints the robot is sent to), obstacles, loose parts
and their place targets, which marker ids the stations carry, which item hangs on display, and
when the workers and forklifts are where. `draw_variant(scenario, index, seed)` is a pure function
of its arguments: variant 0 is the scenario as written; any other draws everything within the
bounds, checks that the result can still be solved (`curriculum_pkg.solvability`), and draws again
if not, a bounded number of times.

Units: metres and radians inside, degrees in the YAML. A position bound is either a number (up to
this far in any direction: a disc) or [x, y] (up to x along the floor's x axis and y along its y
axis: a box).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from common_pkg.actors import MAX_SPEED_MPS
from common_pkg.worldspec import Pose2D, WorldSpec
from curriculum_pkg.errors import ScenarioError

if TYPE_CHECKING:
    from curriculum_pkg.scenario import Scenario

MAX_DRAWS = 60  # redraws of one hidden variant before its bounds are declared unsolvable
MARKER_IDS = range(250)  # OpenCV's DICT_4X4_250

_NONNEG = {"type": "number", "minimum": 0}
_RANGE = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
_OFFSET = {  # a disc radius, the half sides [x, y] of a box, or a box {x: [min, max], y: ...}
    "oneOf": [
        _NONNEG,
        {"type": "array", "items": _NONNEG, "minItems": 2, "maxItems": 2},
        {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {"x": _RANGE, "y": _RANGE},
        },
    ]
}
_JITTER_KEYS = {"jitter_m": _OFFSET, "yaw_jitter_deg": _NONNEG}
_PART_KEYS = {"jitter_m": _OFFSET, "yaw_jitter_deg": _NONNEG, "target_jitter_m": _OFFSET}
_ACTOR_KEYS = {
    "start_anywhere": {"type": "boolean"},
    "speed_scale": {
        "type": "array",
        "items": {"type": "number", "exclusiveMinimum": 0},
        "minItems": 2,
        "maxItems": 2,
    },
    "pause_jitter_s": _NONNEG,
}


def _group(keys: dict) -> dict:
    """A default for every item of a kind, and `by_id` overrides for named ones."""
    item = {"type": "object", "additionalProperties": False, "properties": keys}
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {**keys, "by_id": {"type": "object", "additionalProperties": item}},
    }


RANDOMIZATION_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "start_jitter_m": _NONNEG,
        "start_yaw_jitter_deg": _NONNEG,
        "stations": _group(_JITTER_KEYS),
        "obstacles": _group(_JITTER_KEYS),
        "parts": _group(_PART_KEYS),
        "actors": _group(_ACTOR_KEYS),
        "marker_ids": {
            "oneOf": [
                {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 0, "maximum": 249},
                    "minItems": 1,
                },
                {
                    "type": "object",
                    "required": ["from", "to"],
                    "additionalProperties": False,
                    "properties": {
                        "from": {"type": "integer", "minimum": 0, "maximum": 249},
                        "to": {"type": "integer", "minimum": 0, "maximum": 249},
                    },
                },
            ]
        },
        "max_draws": {"type": "integer", "minimum": 1, "maximum": 1000},
        # Hidden variants show another item at a station: {station id: [{image, label}]}
        "inspect_items": {
            "type": "object",
            "additionalProperties": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["image", "label"],
                    "additionalProperties": False,
                    "properties": {
                        "image": {"type": "string"},
                        "label": {"type": "string"},
                    },
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Jitter:
    """How far one thing may move: within a disc of `radius_m`, or, when `box_m` is given, by
    x_min..x_max along x and y_min..y_max along y; and turn up to `yaw_rad` either way."""

    radius_m: float = 0.0
    box_m: tuple[float, float, float, float] | None = None  # x_min, x_max, y_min, y_max
    yaw_rad: float = 0.0

    @property
    def moves(self) -> bool:
        return self.yaw_rad > 0.0 or self.radius_m > 0.0 or any(self.box_m or ())

    def draw(self, rng: np.random.Generator) -> tuple[float, float, float]:
        """(dx, dy, dyaw). Always three draws, so that widening one bound reshuffles no other."""
        u = rng.uniform(size=3)
        if self.box_m is not None:
            x_lo, x_hi, y_lo, y_hi = self.box_m
            dx, dy = x_lo + u[0] * (x_hi - x_lo), y_lo + u[1] * (y_hi - y_lo)
        else:  # uniform over the disc
            r, a = self.radius_m * math.sqrt(u[0]), 2 * math.pi * u[1]
            dx, dy = r * math.cos(a), r * math.sin(a)
        return float(dx), float(dy), float((2 * u[2] - 1) * self.yaw_rad)

    def describe(self) -> dict:
        if self.box_m is None:
            offset: float | dict = self.radius_m
        else:
            offset = {"x": list(self.box_m[:2]), "y": list(self.box_m[2:])}
        return {"jitter_m": offset, "yaw_jitter_deg": round(math.degrees(self.yaw_rad), 3)}


@dataclass(frozen=True)
class PartJitter:
    on_surface: Jitter = Jitter()  # the part, on what it stands on
    target: Jitter = Jitter()  # its place target(s)


@dataclass(frozen=True)
class ActorTiming:
    start_anywhere: bool = True  # start somewhere else along the route
    speed_scale: tuple[float, float] = (1.0, 1.0)  # drive speed times a factor in this range
    pause_jitter_s: float = 0.0  # pauses at the ends up to this much longer or shorter


@dataclass(frozen=True)
class Randomization:
    """The bounds of a scenario's hidden variants (its `randomization` section), by item."""

    location: str = ""  # file:line:col of the section, for errors about the bounds
    start: Jitter = Jitter(box_m=(0.0, 0.0, 0.0, 0.0))
    stations: dict[str, Jitter] = field(default_factory=dict)  # station id ->
    obstacles: dict[str, Jitter] = field(default_factory=dict)  # obstacle name ->
    parts: dict[str, PartJitter] = field(default_factory=dict)  # part name ->
    actors: dict[str, ActorTiming] = field(default_factory=dict)  # actor id ->
    marker_ids: tuple[int, ...] = ()  # the pool station markers are drawn from; () = as written
    max_draws: int = MAX_DRAWS


def _jitter(value, yaw_deg: float, where: tuple, locate) -> Jitter:
    """A Jitter from a schema-checked `jitter_m` (disc, [x, y] or {x: [min, max], y: ...})."""
    yaw = math.radians(float(yaw_deg))
    if isinstance(value, list):
        x, y = (float(v) for v in value)
        return Jitter(box_m=(-x, x, -y, y), yaw_rad=yaw)
    if isinstance(value, dict):
        box = []
        for axis in ("x", "y"):
            lo, hi = (float(v) for v in value.get(axis, (0.0, 0.0)))
            if lo > hi:
                raise ScenarioError(
                    locate((*where, axis)),
                    f"{axis}: [{lo}, {hi}]: the smallest offset comes first",
                    f"{axis}: [{lo}, {hi}]: 작은 값을 먼저 쓰세요",
                )
            box += [lo, hi]
        return Jitter(box_m=tuple(box), yaw_rad=yaw)
    return Jitter(radius_m=float(value), yaw_rad=yaw)


def parse_randomization(rand: dict, world: WorldSpec, locate) -> Randomization:
    """The bounds from an already schema-checked `randomization` section (inspect_items aside),
    checking what a schema cannot: named items exist, the marker pool suits the stations."""
    where = ("randomization",)

    def by_id(group: str, known: set[str], what_en: str, what_ko: str) -> tuple[dict, dict]:
        section = rand.get(group, {})
        overrides = section.get("by_id", {})
        for name in overrides:
            if name not in known:
                raise ScenarioError(
                    locate((*where, group, "by_id", name)),
                    f"no {what_en} '{name}' in the world ({sorted(known)})",
                    f"월드에 {what_ko} '{name}'이(가) 없습니다 ({sorted(known)})",
                )
        return section, overrides

    def jitter(group: str, section: dict, name: str, key: str = "jitter_m") -> Jitter:
        """The item's own bound where it has one, else its group's."""
        item = section.get("by_id", {}).get(name, {})
        declared_at = (*where, group, "by_id", name, key) if key in item else (*where, group, key)
        merged = {**section, **item}
        yaw = merged.get("yaw_jitter_deg", 0.0) if key == "jitter_m" else 0.0
        return _jitter(merged.get(key, 0.0), yaw, declared_at, locate)

    sec, _ = by_id("stations", {s.id for s in world.stations}, "station", "스테이션")
    stations = {s.id: jitter("stations", sec, s.id) for s in world.stations}
    sec, _ = by_id("obstacles", {o.name for o in world.obstacles}, "obstacle", "장애물")
    obstacles = {o.name: jitter("obstacles", sec, o.name) for o in world.obstacles}
    sec, _ = by_id("parts", {p.name for p in world.parts}, "part", "부품")
    parts = {
        p.name: PartJitter(
            jitter("parts", sec, p.name), jitter("parts", sec, p.name, "target_jitter_m")
        )
        for p in world.parts
    }
    sec, over = by_id("actors", {a.id for a in world.actors}, "actor", "작업자·지게차")
    actors = {}
    for i, a in enumerate(world.actors):
        merged = {**sec, **over.get(a.id, {})}
        lo, hi = (float(v) for v in merged.get("speed_scale", (1.0, 1.0)))
        key = ("by_id", a.id) if "speed_scale" in over.get(a.id, {}) else ()
        if lo > hi:
            raise ScenarioError(
                locate((*where, "actors", *key, "speed_scale")),
                f"speed_scale [{lo}, {hi}]: the first factor must not exceed the second",
                f"speed_scale [{lo}, {hi}]: 앞의 배율이 뒤의 배율보다 클 수 없습니다",
            )
        if a.speed_mps * hi > MAX_SPEED_MPS:
            raise ScenarioError(
                locate((*where, "actors", *key, "speed_scale")),
                f"actor '{a.id}' (world.actors[{i}]) would drive {a.speed_mps * hi:.2f} m/s, "
                f"more than {MAX_SPEED_MPS} m/s",
                f"'{a.id}'(world.actors[{i}])이(가) {a.speed_mps * hi:.2f} m/s로 움직이게 됩니다: "
                f"최대 {MAX_SPEED_MPS} m/s",
            )
        actors[a.id] = ActorTiming(
            bool(merged.get("start_anywhere", True)),
            (lo, hi),
            float(merged.get("pause_jitter_s", 0.0)),
        )
    return Randomization(
        location=locate(where),
        start=_jitter(
            [rand.get("start_jitter_m", 0.0)] * 2,
            rand.get("start_yaw_jitter_deg", 0.0),
            (*where, "start_jitter_m"),
            locate,
        ),
        stations=stations,
        obstacles=obstacles,
        parts=parts,
        actors=actors,
        marker_ids=_marker_pool(rand, world, locate),
        max_draws=int(rand.get("max_draws", MAX_DRAWS)),
    )


def _marker_pool(rand: dict, world: WorldSpec, locate) -> tuple[int, ...]:
    if "marker_ids" not in rand:
        return ()
    raw, where = rand["marker_ids"], locate(("randomization", "marker_ids"))
    if isinstance(raw, dict):
        if raw["from"] > raw["to"]:
            raise ScenarioError(
                where,
                f"marker_ids: from {raw['from']} is after to {raw['to']}",
                f"marker_ids: from {raw['from']}이(가) to {raw['to']}보다 큽니다",
            )
        # int(): JSON Schema's "integer" takes 10.0 too, and range() does not
        pool = tuple(range(int(raw["from"]), int(raw["to"]) + 1))
    else:
        pool = tuple(int(v) for v in raw)
        repeated = sorted(v for v, n in Counter(pool).items() if n > 1)
        if repeated:
            raise ScenarioError(
                where,
                f"marker_ids: {repeated} listed more than once",
                f"marker_ids: {repeated}이(가) 두 번 이상 있습니다",
            )
    if len(pool) < len(world.stations):
        raise ScenarioError(
            where,
            f"marker_ids: {len(pool)} ids for {len(world.stations)} stations; every station "
            "needs its own",
            f"marker_ids: 스테이션 {len(world.stations)}개에 마커 ID {len(pool)}개: 스테이션마다 "
            "서로 다른 ID가 필요합니다",
        )
    return pool


# --------------------------------------------------------------------------------------- draws
def _moved(xy, dx: float, dy: float) -> tuple[float, float]:
    return (float(xy[0] + dx), float(xy[1] + dy))


def _support(world: WorldSpec, xy, base_z_m: float):
    """The obstacle whose top a point at height base_z_m stands on (None: the floor)."""
    if base_z_m <= 1e-3:
        return None
    for block in world.obstacles:
        local = Pose2D(*block.center_xy, block.yaw_rad).inverse_transform_point(np.array(xy))
        on_top = abs(block.height_m - base_z_m) <= 2e-3
        if on_top and all(abs(local[k]) <= block.size_xy[k] / 2 + 1e-6 for k in (0, 1)):
            return block
    return None


def _carried(xy, before, after) -> tuple[float, float]:
    """Where a point on top of a block goes when the block moves from `before` to `after`."""
    if before is None:
        return (float(xy[0]), float(xy[1]))
    local = Pose2D(*before.center_xy, before.yaw_rad).inverse_transform_point(np.array(xy))
    moved = Pose2D(*after.center_xy, after.yaw_rad).transform_point(local)
    return (float(moved[0]), float(moved[1]))


def _draw_once(scenario: Scenario, rng: np.random.Generator) -> Scenario:
    """Every bound drawn once, in a fixed order; no check."""
    rand, world, tasks = scenario.randomization, scenario.world, scenario.tasks
    dx, dy, dyaw = rand.start.draw(rng)
    s = world.robot_start
    start = Pose2D(s.x + dx, s.y + dy, s.yaw + dyaw)

    obstacles = []
    for o in world.obstacles:
        dx, dy, dyaw = rand.obstacles.get(o.name, Jitter()).draw(rng)
        obstacles.append(
            replace(o, center_xy=_moved(o.center_xy, dx, dy), yaw_rad=o.yaw_rad + dyaw)
        )
    moved_block = {o.name: m for o, m in zip(world.obstacles, obstacles, strict=True)}

    stations = []
    for st in world.stations:
        dx, dy, dyaw = rand.stations.get(st.id, Jitter()).draw(rng)
        stations.append(
            replace(st, stop_xy=_moved(st.stop_xy, dx, dy), facing_rad=st.facing_rad + dyaw)
        )

    parts, targets = [], {}
    for p in world.parts:
        bounds = rand.parts.get(p.name, PartJitter())
        support = _support(world, p.center_xy, p.base_z_m)
        after = moved_block[support.name] if support is not None else None
        dx, dy, dyaw = bounds.on_surface.draw(rng)
        center = _moved(_carried(p.center_xy, support, after), dx, dy)
        parts.append(replace(p, center_xy=center, yaw_rad=p.yaw_rad + dyaw))
        for i, t in enumerate(tasks):
            if t.kind == "place" and t.part == p.name:
                below = _support(world, t.target_xy, p.base_z_m)
                above = moved_block[below.name] if below is not None else None
                dx, dy, _ = bounds.target.draw(rng)
                targets[i] = _moved(_carried(t.target_xy, below, above), dx, dy)
    tasks = tuple(
        replace(t, target_xy=targets[i]) if i in targets else t for i, t in enumerate(tasks)
    )

    if rand.marker_ids:
        ids = rng.choice(np.array(rand.marker_ids), size=len(stations), replace=False)
        stations = [replace(st, marker_id=int(m)) for st, m in zip(stations, ids, strict=True)]

    for station_id, options in sorted(scenario.inspect_items.items()):
        image, label = options[int(rng.integers(len(options)))]
        stations = [
            replace(st, display_image=image) if st.id == station_id else st for st in stations
        ]
        tasks = tuple(
            replace(t, expected_label=label)
            if t.kind == "inspect" and t.station_id == station_id
            else t
            for t in tasks
        )

    actors = []
    for a in world.actors:
        timing = rand.actors.get(a.id, ActorTiming())
        u = rng.uniform(size=3)  # always three: see Jitter.draw
        lo, hi = timing.speed_scale
        actors.append(
            replace(
                a,
                start_offset_m=float(u[0] * a.route_length_m)
                if timing.start_anywhere
                else a.start_offset_m,
                speed_mps=float(a.speed_mps * (lo + u[1] * (hi - lo))),
                pause_s=float(max(0.0, a.pause_s + (2 * u[2] - 1) * timing.pause_jitter_s)),
            )
        )
    world = replace(
        world,
        robot_start=start,
        obstacles=tuple(obstacles),
        stations=tuple(stations),
        parts=tuple(parts),
        actors=tuple(actors),
    )
    return replace(scenario, world=world, tasks=tasks)


@dataclass(frozen=True)
class Draw:
    """One hidden variant and how it was found: `rejected` names why earlier draws failed."""

    scenario: Scenario
    draws: int
    rejected: tuple[str, ...] = ()


def draw_variant(scenario: Scenario, index: int, seed: int) -> Draw:
    """Variant `index` for `seed`: the scenario as written for index 0, otherwise the first draw
    within the declared bounds that is solvable. Raises a located ScenarioError if none of
    `max_draws` draws is."""
    if index == 0:
        return Draw(scenario, 0)
    from curriculum_pkg.solvability import first_problem  # numba: only when variants are drawn

    seed = int(seed) if seed >= 0 else int(seed) % (1 << 64)  # SeedSequence takes no negatives
    rejected: list[str] = []
    reasons: list = []
    for attempt in range(scenario.randomization.max_draws):
        candidate = _draw_once(scenario, np.random.default_rng([seed, int(index), attempt]))
        problem = first_problem(candidate)
        if problem is None:
            return Draw(candidate, attempt + 1, tuple(rejected))
        rejected.append(problem.key)
        reasons.append(problem)
    common = Counter(p.key for p in reasons).most_common(1)[0][0]
    example = next(p for p in reasons if p.key == common)
    n = scenario.randomization.max_draws
    raise ScenarioError(
        scenario.randomization.location or f"{Path(scenario.path).name}: randomization",
        f"no solvable hidden variant (index {index}) in {n} draws within these bounds; most "
        f"often: {example.en}. Narrow the bounds of what is in the way",
        f"이 범위 안에서 {n}번 뽑는 동안 풀 수 있는 숨은 변형(번호 {index})이 나오지 않았습니다. "
        f"가장 흔한 원인: {example.ko}. 걸리는 항목의 범위를 줄이세요",
    )


# ---------------------------------------------------------------------------- what was declared
def describe_bounds(scenario: Scenario) -> dict:
    """The declared bounds, as plain data for reports (JSON-ready): only what moves is listed."""
    rand = scenario.randomization
    out: dict = {
        "start": rand.start.describe(),
        "stations": {k: j.describe() for k, j in rand.stations.items() if j.moves},
        "obstacles": {k: j.describe() for k, j in rand.obstacles.items() if j.moves},
        "parts": {
            k: {**p.on_surface.describe(), "target_jitter_m": p.target.describe()["jitter_m"]}
            for k, p in rand.parts.items()
            if p.on_surface.moves or p.target.moves
        },
        "marker_ids": list(rand.marker_ids),
        "inspect_items": {
            k: {"count": len(v), "labels": sorted({label for _, label in v})}
            for k, v in scenario.inspect_items.items()
        },
        "actors": {
            k: {
                "start_anywhere": t.start_anywhere,
                "speed_scale": list(t.speed_scale),
                "pause_jitter_s": t.pause_jitter_s,
            }
            for k, t in rand.actors.items()
        },
    }
    return out


def _moves(j: dict) -> tuple[str, str]:
    """(ko, en) of one position bound: "최대 0.30 m 이동" / "moves up to 0.30 m", or within a box
    "x ±0.30 m, y -0.20..+0.10 m", and the turn if there is one."""
    offset = j["jitter_m"]
    if isinstance(offset, dict):

        def span(lo: float, hi: float) -> str:
            return f"±{hi:.2f}" if lo == -hi else f"{lo:+.2f}..{hi:+.2f}"

        box = f"x {span(*offset['x'])} m, y {span(*offset['y'])} m"
        ko, en = f"{box} 안에서 이동", f"moves within {box}"
    else:
        ko, en = f"최대 {offset:.2f} m 이동", f"moves up to {offset:.2f} m"
    if j.get("yaw_jitter_deg"):
        ko += f", 방향 ±{j['yaw_jitter_deg']:g}°"
        en += f", turns up to ±{j['yaw_jitter_deg']:g}°"
    return ko, en


def bounds_lines(bounds: dict) -> list[tuple[str, str]]:
    """`describe_bounds` as (Korean, English) sentences for people, one per item that varies."""
    ko, en = _moves(bounds["start"])
    lines = [(f"로봇 시작 위치: {ko}", f"robot start: {en}")]
    for kind_ko, kind_en, group in (
        ("스테이션", "station", "stations"),
        ("장애물", "obstacle", "obstacles"),
    ):
        for name, j in bounds[group].items():
            ko, en = _moves(j)
            lines.append((f"{kind_ko} {name}: {ko}", f"{kind_en} {name}: {en}"))
    for name, p in bounds["parts"].items():
        ko, en = _moves(p)
        target_ko, target_en = _moves({"jitter_m": p["target_jitter_m"]})
        lines.append(
            (
                f"부품 {name}: 놓인 면 위에서 {ko}; 놓을 자리: {target_ko}",
                f"part {name}: on its surface, {en}; its place target {target_en}",
            )
        )
    if bounds["marker_ids"]:
        ids = bounds["marker_ids"]
        lines.append(
            (
                f"마커 ID: {len(ids)}개({min(ids)}–{max(ids)}) 중에서 스테이션마다 서로 다르게",
                f"marker ids: drawn from {len(ids)} ({min(ids)}–{max(ids)}), one per station",
            )
        )
    for station, items in bounds["inspect_items"].items():
        labels = ", ".join(items["labels"])
        lines.append(
            (
                f"스테이션 {station}의 검사 대상: {items['count']}개 중 하나 ({labels})",
                f"item on display at {station}: one of {items['count']} ({labels})",
            )
        )
    for actor, t in bounds["actors"].items():
        ko = ["경로 위 아무 곳에서 출발" if t["start_anywhere"] else "적힌 위치에서 출발"]
        en = ["starts anywhere on its route" if t["start_anywhere"] else "starts as written"]
        lo, hi = t["speed_scale"]
        if (lo, hi) != (1.0, 1.0):
            ko.append(f"속도 ×{lo:g}–{hi:g}")
            en.append(f"speed ×{lo:g}–{hi:g}")
        if t["pause_jitter_s"]:
            ko.append(f"멈추는 시간 ±{t['pause_jitter_s']:g} s")
            en.append(f"pauses ±{t['pause_jitter_s']:g} s")
        lines.append((f"{actor}: {', '.join(ko)}", f"{actor}: {', '.join(en)}"))
    return lines


# ---------------------------------------------------------------------------------- validation
@dataclass(frozen=True)
class VariantCheck:
    """What `check_variants` found: problems (each a (ko, en) message), and how hard it was."""

    checked: int
    draws: int
    problems: tuple[tuple[str, str], ...]
    rejected_by_reason: dict[str, int]


def check_variants(scenario: Scenario, seeds, variants: int) -> VariantCheck:
    """Draw variants 1..variants-1 for every seed, and check the scenario as written and each
    drawn variant again, independently of the draw."""
    from curriculum_pkg.solvability import find_problems

    problems = [
        (f"시나리오 원본: {p.ko}", f"the scenario as written: {p.en}")
        for p in find_problems(scenario)
    ]
    checked = draws = 0
    reasons: Counter = Counter()
    for seed in seeds:
        for index in range(1, variants):
            try:
                found = draw_variant(scenario, index, seed)
            except ScenarioError as err:
                problems.append((f"시드 {seed}: {err.ko}", f"seed {seed}: {err.en}"))
                continue
            checked += 1
            draws += found.draws
            reasons.update(found.rejected)
            for p in find_problems(found.scenario):
                problems.append(
                    (f"시드 {seed}, 변형 {index}: {p.ko}", f"seed {seed}, variant {index}: {p.en}")
                )
    return VariantCheck(checked, draws, tuple(problems), dict(reasons))
