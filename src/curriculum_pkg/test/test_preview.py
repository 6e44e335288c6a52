"""The scenario preview: every library scenario draws, and what it draws is where the world has it."""

from __future__ import annotations

import dataclasses
import math
import re

import cv2
import numpy as np
import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from curriculum_pkg import preview
from curriculum_pkg.errors import ScenarioError
from curriculum_pkg.preview import (
    ROBOT_RGB,
    STATION_RGB,
    draw_preview,
    hangul_font,
    preview_layout,
    render_preview,
)
from curriculum_pkg.scenario import SCENARIO_DIR, list_scenarios, load_scenario

SCENARIOS = list_scenarios()
HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")


@pytest.fixture(scope="module", params=SCENARIOS, ids=[p.stem for p in SCENARIOS])
def rendered(request, tmp_path_factory):
    """A library scenario, its preview PNG and the picture as RGB in [0, 1]."""
    scenario = load_scenario(request.param)
    png = render_preview(scenario, tmp_path_factory.mktemp("preview") / f"{scenario.id}.png")
    image = cv2.cvtColor(cv2.imread(str(png), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) / 255.0
    return scenario, png, image


def drawn_near(image, layout, xy, rgb, tolerance=0.1, window_px=2) -> bool:
    """Whether a pixel within `window_px` of the world point `xy` has the colour `rgb`."""
    col, row = (round(v) for v in layout.to_pixel(xy))
    patch = image[row - window_px : row + window_px + 1, col - window_px : col + window_px + 1]
    return bool((np.abs(patch - np.asarray(rgb)).max(axis=2) < tolerance).any())


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def test_library_scenario_renders_a_png_of_sane_size(rendered):
    scenario, png, image = rendered
    height, width = image.shape[:2]
    assert (width, height) == preview_layout(scenario).size_px
    assert 800 <= width <= 1400 and 500 <= height <= 900
    assert png.stat().st_size > 20_000  # a real picture, not a blank page
    assert image.std() > 0.1


def test_layout_maps_the_floor_at_one_scale_inside_the_picture(rendered):
    scenario, _, image = rendered
    layout = preview_layout(scenario)
    lx, ly = scenario.world.floor_size_xy
    (left, bottom), (right, top) = layout.to_pixel((0, 0)), layout.to_pixel((lx, ly))
    assert 0 < left < right < image.shape[1] and 0 < top < bottom < image.shape[0]
    assert (right - left) / lx == pytest.approx((bottom - top) / ly)  # metres are square
    # the walls stand just outside the floor, in wall grey
    if scenario.world.walls:
        assert drawn_near(image, layout, (lx / 2, -0.05), preview.WALL_RGB)


def test_station_posts_are_drawn_where_the_stations_are(rendered):
    scenario, _, image = rendered
    layout = preview_layout(scenario)
    for station in scenario.world.stations:
        assert drawn_near(image, layout, station.panel_xy, STATION_RGB), station.id
        # and not a metre off
        far = (station.panel_xy[0] + 1.0, station.panel_xy[1] + 1.0)
        assert not drawn_near(image, layout, far, STATION_RGB), station.id


def test_robot_start_pose_is_drawn_pointing_its_way(rendered):
    scenario, _, image = rendered
    layout = preview_layout(scenario)
    start = scenario.world.robot_start
    ahead = (start.x + 0.15 * math.cos(start.yaw), start.y + 0.15 * math.sin(start.yaw))
    behind = (start.x - 0.6 * math.cos(start.yaw), start.y - 0.6 * math.sin(start.yaw))
    assert drawn_near(image, layout, ahead, ROBOT_RGB)  # the heading arrow
    assert not drawn_near(image, layout, behind, ROBOT_RGB)


def test_obstacles_are_drawn_in_their_own_colours(rendered):
    scenario, _, image = rendered
    layout = preview_layout(scenario)
    for block in scenario.world.obstacles:
        inside = (
            block.center_xy[0] + block.size_xy[0] / 4,
            block.center_xy[1] - block.size_xy[1] / 4,
        )
        assert drawn_near(image, layout, inside, block.rgba[:3], window_px=3), block.name


def test_zones_are_coloured_by_kind():
    scenario = load_scenario(SCENARIO_DIR / "banwol_plating_01.yaml")
    fig = draw_preview(scenario)
    (zone,) = scenario.world.zones
    corner = np.subtract(zone.center_xy, np.divide(zone.size_xy, 2))
    (face,) = [
        p.get_facecolor()
        for p in fig.axes[0].patches
        if isinstance(p, Rectangle)
        and np.allclose(p.get_xy(), corner)
        and np.allclose((p.get_width(), p.get_height()), zone.size_xy)
    ]
    assert face[:3] == pytest.approx(preview.ZONE_RGB["keep_out"])
    assert 0 < face[3] < 1  # translucent: what lies under it shows


def test_task_numbers_follow_the_task_order_at_the_task_points():
    scenario = load_scenario(SCENARIO_DIR / "sihwa_machining_01.yaml")  # pick, then place
    fig = draw_preview(scenario)
    numbers = {t.get_text(): t.xy for t in fig.axes[0].texts if t.get_text().isdigit()}
    assert list(numbers) == [str(n) for n in range(1, len(scenario.tasks) + 1)]
    for n, task in enumerate(scenario.tasks, 1):
        assert numbers[str(n)] == pytest.approx(scenario.task_point(task)[:2])


@pytest.fixture
def plating_with_actors():
    """The plating scenario with a forklift and a worker added (common_pkg.actors)."""
    actors = pytest.importorskip("common_pkg.actors", reason="no common_pkg.actors in this tree")
    scenario = load_scenario(SCENARIO_DIR / "banwol_plating_01.yaml")
    moving = (
        actors.Actor("forklift_1", "forklift", (2.0, 1.1, 2.0), ((2.0, 4.3), (6.0, 4.3)), 1.0),
        actors.Actor(
            "picker_1", "worker", (0.5, 0.5, 1.7), ((1.5, 1.8), (2.2, 1.8), (2.2, 3.4)), 0.8, "loop"
        ),
    )
    world = dataclasses.replace(scenario.world, actors=moving)
    return dataclasses.replace(scenario, world=world)


def test_actor_paths_are_drawn_dashed_along_their_route(plating_with_actors):
    scenario = plating_with_actors
    fig = draw_preview(scenario)
    dashed = [line for line in fig.axes[0].lines if line.get_linestyle() == "--"]
    for actor in scenario.world.actors:
        route = list(actor.path_xy) + ([actor.path_xy[0]] if actor.mode == "loop" else [])
        assert any(
            np.shape(np.column_stack(line.get_data())) == np.shape(route)
            and np.allclose(np.column_stack(line.get_data()), route)
            and line.get_color()[:3] == pytest.approx(preview.ACTOR_RGB[actor.kind])
            for line in dashed
        ), actor.id


def test_english_only_preview_has_no_hangul():
    scenario = load_scenario(SCENARIO_DIR / "banwol_plating_01.yaml")
    labels = texts(draw_preview(scenario, korean=False))
    assert scenario.title["en"] in labels
    assert not [t for t in labels if HANGUL.search(t)]


def test_preview_falls_back_to_english_without_a_hangul_font(monkeypatch):
    monkeypatch.setattr(preview, "hangul_font", lambda: None)
    scenario = load_scenario(SCENARIO_DIR / "banwol_plating_01.yaml")
    assert not [t for t in texts(draw_preview(scenario)) if HANGUL.search(t)]
    assert not [t for t in texts(draw_preview(scenario, korean=True)) if HANGUL.search(t)]


@pytest.mark.skipif(hangul_font() is None, reason="no Hangul font installed (make setup)")
def test_korean_labels_are_set_in_a_font_that_has_every_glyph():
    scenario = load_scenario(SCENARIO_DIR / "banwol_plating_01.yaml")
    fig = draw_preview(scenario)
    korean = [t for t in fig.findobj(Text) if HANGUL.search(t.get_text())]
    labels = " ".join(t.get_text() for t in korean)
    for expected in ("스테이션", "금지 구역", "시작 위치", "작업 순서", scenario.title["ko"]):
        assert expected in labels
    for text in korean:
        font = FT2Font(font_manager.findfont(text.get_fontproperties(), fallback_to_default=False))
        missing = {c for c in text.get_text() if c.strip() and font.get_char_index(ord(c)) == 0}
        assert not missing, (text.get_text(), font.family_name)


def test_render_preview_reports_a_malformed_scenario_with_its_location(tmp_path):
    scenario = tmp_path / "broken.yaml"
    text = (SCENARIO_DIR / "banwol_plating_01.yaml").read_text()
    scenario.write_text(text.replace("station: outgoing_rack", "station: no_such_station"))
    with pytest.raises(ScenarioError) as raised:
        render_preview(scenario, tmp_path / "out.png")
    assert "broken.yaml" in raised.value.location and "tasks" in raised.value.location
    assert not (tmp_path / "out.png").exists()
