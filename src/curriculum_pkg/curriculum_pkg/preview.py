"""A scenario's top-down preview: the picture an engineer checks before handing a scenario over.

Floor, walls and obstacles, stations (post, the way its marker faces, the stop point), zones by
kind, loose parts, the robot's start pose and footprint, the task order along the route and the
paths of moving actors, with a bilingual title and legend. Where no font with Hangul is installed
(`make setup` installs Debian's fonts-nanum), every label is English: never tofu boxes.

The map is drawn at a fixed scale into a fixed place of the picture (`preview_layout`), so that a
world point's pixel is known without looking at the picture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curriculum_pkg.fonts import boldest_weight, hangul_font
from curriculum_pkg.scenario import Scenario, load_scenario

DPI = 100
MAP_MARGIN_M = 0.5  # drawn around the floor: the walls, and room for arrows
MAX_MAP_PX = (900, 640)  # the map's largest width and height
LEFT_PX, BOTTOM_PX, TITLE_PX, SIDE_PX = 60, 45, 105, 330  # around the map: axes, title, legend
MIN_HEIGHT_PX = 560

WALL_RGB = (0.35, 0.35, 0.37)
FLOOR_RGB = (0.94, 0.94, 0.92)
STATION_RGB = (0.95, 0.8, 0.1)  # the posts' yellow, as in the simulator
STATION_POST_M = (0.06, 0.4)  # depth along the facing, width (sim_pkg.sdf.STATION_POST_SIZE_M)
ROBOT_RGB = (0.1, 0.35, 0.85)
ROUTE_RGB = (0.2, 0.2, 0.2)
ZONE_RGB = {"keep_out": (0.85, 0.1, 0.1), "slow": (0.95, 0.75, 0.1), "hot": (1.0, 0.4, 0.0)}
ACTOR_RGB = {"worker": (1.0, 0.5, 0.0), "forklift": (0.55, 0.35, 0.0)}
ACTOR_DASHES = (0, (5, 3))

# Labels as a Korean robotics teacher writes them, with the English beside.
LABELS = {
    "wall": ("벽", "Wall"),
    "obstacle": ("장애물", "Obstacle"),
    "station": ("스테이션 (ArUco 마커)", "Station (ArUco marker)"),
    "stop": ("정지 위치", "Stop point"),
    "keep_out": ("금지 구역", "Keep-out zone"),
    "slow": ("서행 구역", "Slow zone"),
    "hot": ("고온 구역", "Hot zone"),
    "part": ("부품", "Part"),
    "start": ("시작 위치", "Start pose"),
    "tasks": ("작업 순서", "Task order"),
    "worker": ("작업자 경로", "Worker path"),
    "forklift": ("지게차 경로", "Forklift path"),
    "navigate": ("이동", "navigate"),
    "pick": ("집기", "pick"),
    "place": ("놓기", "place"),
    "inspect": ("검사", "inspect"),
    "report": ("보고", "report"),
    "time_limit": ("제한 시간", "time limit"),
}
ACTOR_KO = {"worker": "작업자", "forklift": "지게차"}


@dataclass(frozen=True)
class PreviewLayout:
    """Where the map lies in the picture: world metres -> pixels (column, row from the top)."""

    x0_m: float  # world point at the map's lower-left corner
    y0_m: float
    px_per_m: float
    map_size_px: tuple[float, float]
    size_px: tuple[int, int]  # the whole picture: width, height

    def to_pixel(self, xy) -> tuple[float, float]:
        col = LEFT_PX + (xy[0] - self.x0_m) * self.px_per_m
        row = self.size_px[1] - (BOTTOM_PX + (xy[1] - self.y0_m) * self.px_per_m)
        return col, row


def preview_layout(scenario: Scenario) -> PreviewLayout:
    lx, ly = scenario.world.floor_size_xy
    span = (lx + 2 * MAP_MARGIN_M, ly + 2 * MAP_MARGIN_M)
    scale = min(MAX_MAP_PX[0] / span[0], MAX_MAP_PX[1] / span[1])
    map_px = (span[0] * scale, span[1] * scale)
    width = LEFT_PX + math.ceil(map_px[0]) + SIDE_PX
    height = max(MIN_HEIGHT_PX, BOTTOM_PX + math.ceil(map_px[1]) + TITLE_PX)
    return PreviewLayout(-MAP_MARGIN_M, -MAP_MARGIN_M, scale, map_px, (width, height))


@dataclass(frozen=True)
class _Pen:
    """What every drawing step needs: the map's axes, its layout, and the labels' language."""

    ax: object
    layout: PreviewLayout
    korean: bool
    family: list[str]  # font families, the Hangul one first when Korean

    def both(self, key: str) -> str:
        """A legend label: "한국어 / English", or English alone."""
        ko, en = LABELS[key]
        return f"{ko} / {en}" if self.korean else en

    def one(self, ko: str, en: str) -> str:
        return ko if self.korean else en

    def label(self, text: str, xy, offset_pt=(0, 0), ha="center", va="center", **style):
        """A small map label at a world point, outlined in white to read over anything."""
        from matplotlib import patheffects

        label = self.ax.annotate(
            text,
            xy,
            xytext=offset_pt,
            textcoords="offset points",
            ha=ha,
            va=va,
            fontsize=7.5,
            fontfamily=self.family,
            zorder=style.pop("zorder", 8),
            **style,
        )
        label.set_path_effects([patheffects.withStroke(linewidth=2.5, foreground="white")])
        return label


def _rect(center, size, yaw, **style):
    """A rectangle patch of `size` centred on `center`, turned by `yaw` (rad)."""
    from matplotlib.patches import Rectangle

    c, s = math.cos(yaw), math.sin(yaw)
    corner = (
        center[0] - (c * size[0] - s * size[1]) / 2,
        center[1] - (s * size[0] + c * size[1]) / 2,
    )
    return Rectangle(corner, size[0], size[1], angle=math.degrees(yaw), **style)


def _arrow(ax, start, end, rgb, width, zorder) -> None:
    style = {"arrowstyle": "-|>", "color": rgb, "linewidth": width, "shrinkA": 0, "shrinkB": 0}
    ax.annotate("", end, xytext=start, arrowprops=style, zorder=zorder)


def _half_height(block) -> float:
    """Half the height of a block's outline on the map (a turned box reaches further)."""
    c, s = abs(math.cos(block.yaw_rad)), abs(math.sin(block.yaw_rad))
    return (s * block.size_xy[0] + c * block.size_xy[1]) / 2


def _draw_floor_zones_and_blocks(pen: _Pen, world) -> None:
    ax = pen.ax
    lx, ly = world.floor_size_xy
    ax.add_patch(_rect((lx / 2, ly / 2), (lx, ly), 0.0, facecolor=FLOOR_RGB, zorder=0.2))
    for zone in world.zones:
        rgb = ZONE_RGB[zone.kind]
        hatch = "///" if zone.kind == "keep_out" else None
        style = {"facecolor": (*rgb, 0.3), "edgecolor": rgb, "hatch": hatch, "linewidth": 1.0}
        ax.add_patch(_rect(zone.center_xy, zone.size_xy, 0.0, zorder=1, **style))
        top = (zone.center_xy[0], zone.center_xy[1] + zone.size_xy[1] / 2)
        name = pen.one(zone.name_ko, zone.name_en)
        if zone.kind == "hot":  # what a second inside costs, as the briefing should say
            name += f" (-{zone.penalty_per_s:g}/{pen.one('초', 's')})"
        pen.label(name, top, (0, -3), va="top", color=[0.55 * c for c in rgb], zorder=6)
    for block in world.walls:
        ax.add_patch(_rect(block.center_xy, block.size_xy, block.yaw_rad, color=WALL_RGB, zorder=2))
    for block in world.obstacles:
        style = {"facecolor": block.rgba[:3], "edgecolor": "0.15", "linewidth": 0.8}
        ax.add_patch(_rect(block.center_xy, block.size_xy, block.yaw_rad, zorder=2, **style))
        # Inside the box when the name fits (about 5.5 px a character), else under it.
        if min(block.size_xy) * pen.layout.px_per_m > 5.5 * len(block.name) + 6:
            pen.label(block.name, block.center_xy, zorder=6)
        else:
            below = (block.center_xy[0], block.center_xy[1] - _half_height(block))
            pen.label(block.name, below, (0, -4), va="top", zorder=6)


def _draw_actors(pen: _Pen, actors) -> None:
    """Each actor's route, dashed, and its outline where it is at sim time 0."""
    for actor in actors:
        route = list(actor.path_xy) + ([actor.path_xy[0]] if actor.mode == "loop" else [])
        rgb = ACTOR_RGB[actor.kind]
        pen.ax.plot(*zip(*route, strict=True), linestyle=ACTOR_DASHES, color=rgb, lw=1.6, zorder=3)
        x, y, yaw = actor.pose_at(0.0)
        style = {"facecolor": (*rgb, 0.25), "edgecolor": rgb}
        pen.ax.add_patch(_rect((x, y), actor.size_lwh[:2], yaw, zorder=3, **style))
        name = f"{pen.one(ACTOR_KO[actor.kind], actor.kind)} {actor.id}"
        pen.label(name, (x, y), (0, -12), va="top", color=[0.7 * c for c in rgb], zorder=6)


def _draw_parts(pen: _Pen, scenario: Scenario) -> None:
    """Each loose part where it stands, and a dashed outline where it must be placed."""
    for part in scenario.world.parts:
        style = {"facecolor": part.rgba[:3], "edgecolor": "0.1", "linewidth": 0.8}
        pen.ax.add_patch(_rect(part.center_xy, part.size_xyz[:2], part.yaw_rad, zorder=5, **style))
    for task in (t for t in scenario.tasks if t.kind == "place"):
        part = scenario.part(task.part)
        style = {"fill": False, "edgecolor": "0.1", "linestyle": (0, (2, 1)), "linewidth": 0.8}
        pen.ax.add_patch(_rect(task.target_xy, part.size_xyz[:2], part.yaw_rad, zorder=5, **style))


def _draw_robot(pen: _Pen, start, profile) -> None:
    """The robot's chassis outline at its start pose, and an arrow along its heading."""
    base = profile.raw["base"]
    cx, cy = base["chassis_center_m"][:2]  # base_link sits ahead of the chassis' centre
    c, s = math.cos(start.yaw), math.sin(start.yaw)
    chassis = (start.x + c * cx - s * cy, start.y + s * cx + c * cy)
    style = {"facecolor": (*ROBOT_RGB, 0.3), "edgecolor": ROBOT_RGB, "linewidth": 1.2}
    pen.ax.add_patch(_rect(chassis, base["chassis_size_m"][:2], start.yaw, zorder=6, **style))
    ahead = (start.x + 0.4 * c, start.y + 0.4 * s)
    _arrow(pen.ax, (start.x, start.y), ahead, ROBOT_RGB, 2.2, zorder=6)


def _draw_stations(pen: _Pen, scenario: Scenario) -> None:
    """Each station: its stop point and radius, its post, and an arrow the way its marker faces."""
    from matplotlib.patches import Circle

    ax = pen.ax
    for st in scenario.world.stations:
        ax.plot(*st.stop_xy, marker="x", color="0.15", markersize=7, mew=1.5, zorder=5)
        radius = Circle(st.stop_xy, scenario.station_radius_m, fill=False, lw=0.8, ls=":")
        radius.set(edgecolor="0.3", zorder=4)
        ax.add_patch(radius)
        style = {"facecolor": STATION_RGB, "edgecolor": "0.15", "linewidth": 0.8}
        ax.add_patch(_rect(st.panel_xy, STATION_POST_M, st.facing_rad, zorder=7, **style))
        # The marker is on the post's face towards the stop point, and faces back along -facing.
        fc, fs = math.cos(st.facing_rad), math.sin(st.facing_rad)
        depth = STATION_POST_M[0] / 2
        face = (st.panel_xy[0] - fc * depth, st.panel_xy[1] - fs * depth)
        _arrow(ax, face, (face[0] - 0.3 * fc, face[1] - 0.3 * fs), "0.1", 1.2, zorder=7)
        # The label goes behind the stop point: away from the post, clear of a robot standing there.
        gap_pt = max(16.0, 0.3 * pen.layout.px_per_m * 72 / DPI)
        ha = "center" if abs(fc) < 0.5 else ("right" if fc > 0 else "left")
        va = "center" if abs(fs) < 0.5 else ("top" if fs > 0 else "bottom")
        text = f"{st.id} (ArUco {st.marker_id})\n{pen.one(st.name_ko, st.name_en)}"
        pen.label(text, st.stop_xy, (-gap_pt * fc, -gap_pt * fs), ha=ha, va=va)


def _draw_tasks(pen: _Pen, scenario: Scenario, weight) -> None:
    """The job as a dashed route from the start through every task point, numbered in order."""
    start = scenario.world.robot_start
    points = [(start.x, start.y)] + [scenario.task_point(t)[:2] for t in scenario.tasks]
    pen.ax.plot(*zip(*points, strict=True), color=ROUTE_RGB, lw=1.0, ls="--", alpha=0.7, zorder=4.5)
    placed: list[tuple[float, float]] = []
    for number, xy in enumerate(points[1:], 1):
        crowd = sum(math.dist(xy, p) < 0.3 for p in placed)  # tasks at one place: side by side
        placed.append(xy)
        pen.ax.annotate(
            str(number),
            xy,
            xytext=(12 + 18 * crowd, 12),
            textcoords="offset points",
            ha="center",
            va="center",
            fontsize=8,
            fontfamily=pen.family[:1],
            fontweight=weight,
            color="white",
            bbox={"boxstyle": "circle,pad=0.25", "facecolor": ROUTE_RGB, "edgecolor": "none"},
            arrowprops={"arrowstyle": "-", "color": ROUTE_RGB, "linewidth": 0.8},
            zorder=9,
        )


def _draw_title_legend_and_steps(fig, pen: _Pen, scenario: Scenario, weight) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    width, height = pen.layout.size_px
    world = scenario.world
    heavy = {"fontfamily": pen.family[:1], "fontweight": weight, "va": "top"}
    top = 1 - 14 / height
    if pen.korean:
        fig.text(0.012, top, scenario.title["ko"], fontsize=14, **heavy)
        fig.text(
            0.012, top - 26 / height, scenario.title["en"], fontsize=11, va="top", family=pen.family
        )
    else:
        fig.text(0.012, top, scenario.title["en"], fontsize=14, **heavy)
    lx, ly = world.floor_size_xy
    facts = (
        f"{scenario.id} · {scenario.industry} · {lx:g} × {ly:g} m · "
        f"{pen.both('time_limit')} {scenario.time_limit_s:g} s"
    )
    fig.text(0.012, top - 50 / height, facts, fontsize=9, color="0.35", va="top", family=pen.family)

    handles = [
        Patch(color=WALL_RGB, label=pen.both("wall")),
        Patch(facecolor="0.6", edgecolor="0.15", label=pen.both("obstacle")),
        Patch(facecolor=STATION_RGB, edgecolor="0.15", label=pen.both("station")),
        Line2D([], [], marker="x", color="0.15", linestyle="", label=pen.both("stop")),
    ]
    for kind, rgb in ZONE_RGB.items():
        if any(z.kind == kind for z in world.zones):
            hatch = "///" if kind == "keep_out" else None
            patch = Patch(facecolor=(*rgb, 0.3), edgecolor=rgb, hatch=hatch, label=pen.both(kind))
            handles.append(patch)
    if world.parts:
        handles.append(
            Patch(facecolor=world.parts[0].rgba[:3], edgecolor="0.1", label=pen.both("part"))
        )
    handles += [
        Patch(facecolor=(*ROBOT_RGB, 0.3), edgecolor=ROBOT_RGB, label=pen.both("start")),
        Line2D([], [], color=ROUTE_RGB, ls="--", marker="o", label=pen.both("tasks")),
    ]
    for kind, rgb in ACTOR_RGB.items():
        if any(a.kind == kind for a in getattr(world, "actors", ())):
            handles.append(Line2D([], [], color=rgb, linestyle=ACTOR_DASHES, label=pen.both(kind)))
    side_x = (LEFT_PX + pen.layout.map_size_px[0] + 18) / width
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(side_x, 1 - TITLE_PX / height),
        frameon=False,
        prop={"family": pen.family, "size": 8.5},
    )
    steps = [
        f"{n}. {pen.one(*LABELS[t.kind])} {t.station_id or t.part}"
        for n, t in enumerate(scenario.tasks, 1)
    ]
    fig.text(
        side_x + 6 / width,
        BOTTOM_PX / height,
        "\n".join([pen.both("tasks"), *steps]),
        fontsize=8.5,
        va="bottom",
        linespacing=1.5,
        family=pen.family,
    )


def draw_preview(scenario: Scenario, profile=None, korean: bool | None = None):
    """The preview as a matplotlib Figure (no display needed), laid out by `preview_layout`.

    `korean`: bilingual labels; by default when a Hangul font is installed. Without one, English."""
    from matplotlib.figure import Figure

    from common_pkg.profile import load_profile

    family = hangul_font()
    korean = family is not None and (korean is None or korean)
    layout = preview_layout(scenario)
    width, height = layout.size_px
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    map_box = (LEFT_PX / width, BOTTOM_PX / height, *np.divide(layout.map_size_px, layout.size_px))
    ax = fig.add_axes(map_box)
    ax.set_xlim(layout.x0_m, layout.x0_m + layout.map_size_px[0] / layout.px_per_m)
    ax.set_ylim(layout.y0_m, layout.y0_m + layout.map_size_px[1] / layout.px_per_m)
    lx, ly = scenario.world.floor_size_xy
    ax.set_xticks(np.arange(0, lx + 1e-9, 1.0))
    ax.set_yticks(np.arange(0, ly + 1e-9, 1.0))
    ax.tick_params(labelsize=8, colors="0.4")
    ax.grid(True, color="0.82", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel("x [m]", fontsize=8, color="0.4")
    ax.set_ylabel("y [m]", fontsize=8, color="0.4")

    # Bold text in the Hangul font alone: a fallback family without that weight would warn.
    weight = boldest_weight(family) if korean else "bold"
    pen = _Pen(ax, layout, korean, [family, "DejaVu Sans"] if korean else ["DejaVu Sans"])
    _draw_floor_zones_and_blocks(pen, scenario.world)
    _draw_actors(pen, tuple(getattr(scenario.world, "actors", ())))
    _draw_parts(pen, scenario)
    _draw_robot(pen, scenario.world.robot_start, profile or load_profile())
    _draw_stations(pen, scenario)
    _draw_tasks(pen, scenario, weight)
    _draw_title_legend_and_steps(fig, pen, scenario, weight)
    return fig


def render_preview(
    scenario: Scenario | str | Path, out_png: str | Path, korean: bool | None = None
) -> Path:
    """Draw a scenario (object or YAML path) and save the preview PNG; return its path.

    Raises ScenarioError (located, bilingual) for a malformed scenario file, writing nothing."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    fig = draw_preview(scenario, korean=korean)
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=DPI, facecolor="white")
    return out
