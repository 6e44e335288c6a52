"""Scenarios: factory worlds plus the task, the criteria and the time limit, one YAML file each."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from common_pkg.package_data import package_data_dir
from common_pkg.worldspec import (
    START_SCHEMA,
    WORLD_SCHEMA,
    WorldSpec,
    check_display_image,
    parse_world,
)
from common_pkg.yamlio import IDENTIFIER, check_values, is_dir, is_file, load_yaml, validate
from curriculum_pkg.errors import LocatedError, ScenarioError
from curriculum_pkg.variants import (
    RANDOMIZATION_SCHEMA,
    Randomization,
    describe_bounds,
    draw_variant,
    parse_randomization,
)

# The scenario library: share/curriculum_pkg/scenarios when built with colcon, else the checkout's.
SCENARIO_DIR = package_data_dir(
    "curriculum_pkg", "scenarios", Path(__file__).resolve().parents[1] / "scenarios"
)
SCHEMA_VERSION = 1
# How hard a scenario is, in teaching order, with the Korean course-level labels.
DIFFICULTIES = {"beginner": "입문", "intermediate": "중급", "advanced": "고급"}
# Task steps done at a station's stop point: get there, (inspect) look, (report) tell the MES.
STATION_TASKS = ("navigate", "inspect", "report")
MAX_TASKS = 100

_TEXT = {
    "type": "object",
    "required": ["ko", "en"],
    "properties": {
        "ko": {"type": "string", "minLength": 1},
        "en": {"type": "string", "minLength": 1},
    },
}
_NONNEG = {"type": "number", "minimum": 0}
SCENARIO_SCHEMA = {
    "type": "object",
    "required": [
        "schema_version",
        "id",
        "industry",
        "difficulty",
        "title",
        "briefing",
        "source",
        "world",
        "robot_start",
        "tasks",
        "criteria",
        "penalties",
        "time_limit_s",
    ],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "id": IDENTIFIER,
        "industry": {
            "enum": [
                "plating",
                "welding",
                "heat_treatment",
                "machining",
                "pcb",
                "logistics",
                "auto_parts",
            ]
        },
        "difficulty": {"enum": list(DIFFICULTIES)},
        "title": _TEXT,
        "briefing": _TEXT,
        "source": {"type": "string"},
        "world": WORLD_SCHEMA,
        "robot_start": START_SCHEMA,
        "tasks": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_TASKS,
            "items": {
                "type": "object",
                "required": ["type"],
                "additionalProperties": False,
                "properties": {
                    "type": {"enum": ["navigate", "pick", "place", "inspect", "report"]},
                    "station": {
                        "type": "string"
                    },  # navigate: where to stop; inspect: what to look at; report: where
                    "label": {"type": "string"},  # inspect: the true label of the item on display
                    "part": {"type": "string"},  # pick / place: which loose part
                    "target_m": {
                        "type": "array",
                        "items": {"type": "number"},
                        "minItems": 2,
                        "maxItems": 2,
                    },
                },
                "allOf": [
                    {
                        "if": {"properties": {"type": {"const": "navigate"}}},
                        "then": {"required": ["station"]},
                    },
                    {
                        "if": {"properties": {"type": {"const": "pick"}}},
                        "then": {"required": ["part"]},
                    },
                    {
                        "if": {"properties": {"type": {"const": "place"}}},
                        "then": {"required": ["part", "target_m"]},
                    },
                    {
                        "if": {"properties": {"type": {"const": "inspect"}}},
                        "then": {"required": ["station", "label"]},
                    },
                    {
                        "if": {"properties": {"type": {"const": "report"}}},
                        "then": {"required": ["station"]},
                    },
                ],
            },
        },
        "criteria": {
            "type": "object",
            "required": ["station_radius_m", "dwell_s", "nominal_time_s"],
            "additionalProperties": False,
            "properties": {
                "station_radius_m": {"type": "number", "exclusiveMinimum": 0},
                "place_radius_m": {"type": "number", "exclusiveMinimum": 0},
                "lift_m": {"type": "number", "exclusiveMinimum": 0},
                "dwell_s": _NONNEG,
                "nominal_time_s": {"type": "number", "exclusiveMinimum": 0},
            },
        },
        "penalties": {
            "type": "object",
            "required": ["collision", "keep_out_per_s"],
            "additionalProperties": False,
            "properties": {
                "collision": _NONNEG,
                "keep_out_per_s": _NONNEG,
                "near_miss": _NONNEG,
            },
        },
        "time_limit_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 1800},
        "randomization": RANDOMIZATION_SCHEMA,
        "reference_solution": {"type": "string"},
    },
}


@dataclass(frozen=True)
class Task:
    """One step of the job, done in order: navigate to a station, pick a part, or place it."""

    kind: str  # navigate | pick | place | inspect | report (STATION_TASKS: at a station)
    station_id: str = ""
    part: str = ""
    target_xy: tuple[float, float] | None = None  # place: where the part must come to rest
    expected_label: str = ""  # inspect: the true label of the item on display (ground truth)

    @property
    def name(self) -> str:
        """What the robot is told, e.g. "navigate:rinse_check" (never the expected label)."""
        return f"{self.kind}:{self.station_id or self.part}"


@dataclass(frozen=True)
class Scenario:
    id: str
    path: Path
    industry: str
    difficulty: str  # beginner | intermediate | advanced (DIFFICULTIES)
    title: dict[str, str]
    briefing: dict[str, str]
    source: str
    world: WorldSpec
    tasks: tuple[Task, ...]
    station_radius_m: float
    place_radius_m: float
    lift_m: float
    dwell_s: float
    nominal_time_s: float
    collision_penalty: float
    keep_out_penalty_per_s: float
    time_limit_s: float
    start_jitter_m: float
    start_yaw_jitter_rad: float
    reference_solution: Path | None
    inspect_items: dict = field(default_factory=dict)  # station id -> ((image path, label), ...)
    near_miss_penalty: float = 0.1  # per near miss: driving within the safety distance of a worker
    randomization: Randomization = field(default_factory=Randomization)  # hidden variants' bounds

    def station(self, station_id: str):
        return next(s for s in self.world.stations if s.id == station_id)

    def part(self, name: str):
        return next(p for p in self.world.parts if p.name == name)

    def task_point(self, task: Task) -> tuple[float, float, float]:
        """Where a task happens, in the world frame: a station's stop point (on the floor), a
        part's centre where it starts, or the centre a placed part should come to rest at."""
        if task.kind in STATION_TASKS:  # inspect: where to stand to look at the item
            x, y = self.station(task.station_id).stop_xy
            return (x, y, 0.0)
        part = self.part(task.part)
        x, y = part.center_xy if task.kind == "pick" else task.target_xy
        return (x, y, part.base_z_m + part.size_xyz[2] / 2)

    def variant(self, index: int, seed: int) -> Scenario:
        """Variant 0 is the scenario as written. Any other is a pure function of (scenario,
        index, seed): within the bounds of `randomization` it moves the start, the stations (and
        so the waypoints), obstacles, parts and their place targets, draws the stations' marker
        ids, shows another item at inspect stations, and retimes the workers and forklifts. It is
        checked to be solvable (curriculum_pkg.solvability) and drawn again if not; a located
        ScenarioError if no draw within the bounds is."""
        return draw_variant(self, index, seed).scenario

    def variant_bounds(self) -> dict:
        """The declared bounds of hidden variants as plain data (see variants.bounds_lines for
        Korean and English sentences): what a report says was varied, and how far."""
        return describe_bounds(self)


def _parse_task(t: dict, i: int, world: WorldSpec, locate) -> Task:
    """Check that a task names a station or part that exists, and build it."""
    station_ids = {s.id for s in world.stations}
    part_names = {p.name for p in world.parts}
    if t["type"] in STATION_TASKS and t["station"] not in station_ids:
        raise ScenarioError(
            locate(("tasks", i, "station")),
            f"task names station '{t['station']}', which is not in world.stations {sorted(station_ids)}",
            f"작업에 지정한 스테이션 '{t['station']}'이(가) world.stations에 없습니다",
        )
    if t["type"] in ("pick", "place") and t["part"] not in part_names:
        raise ScenarioError(
            locate(("tasks", i, "part")),
            f"task names part '{t['part']}', which is not in world.objects {sorted(part_names)}",
            f"작업에 지정한 부품 '{t['part']}'이(가) world.objects에 없습니다",
        )
    if (
        t["type"] == "inspect"
        and next(s for s in world.stations if s.id == t["station"]).display_image is None
    ):
        raise ScenarioError(
            locate(("tasks", i, "station")),
            f"inspect task: station '{t['station']}' has no display (world.stations[].display)",
            f"검사 작업: 스테이션 '{t['station']}'에 검사할 물건(display)이 없습니다",
        )
    target = tuple(float(v) for v in t["target_m"]) if "target_m" in t else None
    return Task(t["type"], t.get("station", ""), t.get("part", ""), target, str(t.get("label", "")))


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or is_file(path) or is_dir(path):
        return path
    return SCENARIO_DIR / f"{name_or_path}.yaml"


def load_scenario(name_or_path: str | Path) -> Scenario:
    path = resolve_scenario_path(name_or_path)
    data, locate = load_yaml(path, ScenarioError)
    check_values(data, locate, ScenarioError)
    if isinstance(data, dict) and "difficulty" not in data:  # new in the format: say the values
        raise ScenarioError(
            locate(("difficulty",)),
            "missing required key 'difficulty': beginner, intermediate or advanced",
            "필수 항목 'difficulty'가 없습니다: beginner(입문), intermediate(중급), advanced(고급) 중 하나",
        )
    validate(data, SCENARIO_SCHEMA, locate, ScenarioError)
    try:
        world = parse_world(data["world"], data["robot_start"], locate, base_dir=path.parent)
    except LocatedError as exc:  # a WorldError: same place, reported in the scenario domain
        raise ScenarioError(exc.location, exc.en, exc.ko) from None
    tasks = [_parse_task(t, i, world, locate) for i, t in enumerate(data["tasks"])]
    if data["criteria"]["nominal_time_s"] > data["time_limit_s"]:
        raise ScenarioError(
            locate(("criteria", "nominal_time_s")),
            "nominal_time_s is longer than time_limit_s",
            "nominal_time_s가 time_limit_s보다 깁니다",
        )
    rand = data.get("randomization", {})
    ref = data.get("reference_solution")
    return Scenario(
        id=data["id"],
        path=path,
        industry=data["industry"],
        difficulty=data["difficulty"],
        title=data["title"],
        briefing=data["briefing"],
        source=data["source"],
        world=world,
        tasks=tuple(tasks),
        station_radius_m=float(data["criteria"]["station_radius_m"]),
        place_radius_m=float(data["criteria"].get("place_radius_m", 0.03)),
        lift_m=float(data["criteria"].get("lift_m", 0.03)),
        dwell_s=float(data["criteria"]["dwell_s"]),
        nominal_time_s=float(data["criteria"]["nominal_time_s"]),
        collision_penalty=float(data["penalties"]["collision"]),
        keep_out_penalty_per_s=float(data["penalties"]["keep_out_per_s"]),
        near_miss_penalty=float(data["penalties"].get("near_miss", 0.1)),
        time_limit_s=float(data["time_limit_s"]),
        start_jitter_m=float(rand.get("start_jitter_m", 0.0)),
        start_yaw_jitter_rad=math.radians(rand.get("start_yaw_jitter_deg", 0.0)),
        reference_solution=(path.parent / ref).resolve() if ref else None,
        inspect_items=_inspect_items(rand.get("inspect_items", {}), world, path.parent, locate),
        randomization=parse_randomization(rand, world, locate),
    )


def _inspect_items(items: dict, world: WorldSpec, base_dir: Path, locate) -> dict:
    station_ids = {s.id for s in world.stations}
    out = {}
    for station_id, options in items.items():
        where = ("randomization", "inspect_items", station_id)
        if station_id not in station_ids:
            raise ScenarioError(
                locate(where),
                f"no station '{station_id}' in world.stations",
                f"world.stations에 '{station_id}' 스테이션이 없습니다",
            )
        paths = []
        for j, option in enumerate(options):
            image = base_dir / option["image"]
            check_display_image(image, locate((*where, j, "image")), ScenarioError)
            paths.append((image, option["label"]))
        out[station_id] = tuple(paths)
    return out


def list_scenarios(folder: Path = SCENARIO_DIR) -> list[Path]:
    return sorted(folder.glob("*.yaml"))
