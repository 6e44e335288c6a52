"""The Gazebo world of every library scenario: valid SDFormat 1.9, and the same world as the MJCF.

Gazebo is not installed here, so the world is checked statically: against SDFormat's XML schema
(Debian's `sdformat-sdf` package; `make setup` installs it), by its structure, and pose by pose
against the MuJoCo model that sim_pkg.mjcf builds from the same scenario.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import cv2
import mujoco
import numpy as np
import pytest

from common_pkg.errors import WorldError
from common_pkg.worldspec import MARKER_DICTIONARY, load_world
from sim_pkg.keyframes import KEYFRAME_SPACING_M, actor_keyframes
from sim_pkg.mjcf import build_mjcf
from sim_pkg.sdf import world_name_for, world_to_sdf, write_sdf_world

REPO = Path(__file__).resolve().parents[3]
SCENARIOS = sorted((REPO / "src/curriculum_pkg/scenarios").glob("*.yaml"))
SCHEMA_FILES = sorted(Path("/usr/share").glob("sdformat*/1.9/root.xsd"))
OUR_TYPES_XSD = Path(__file__).parent / "sdformat" / "types.xsd"


# --- SDFormat's XML schema ------------------------------------------------------------------------


def _repaired_schema(installed: Path, folder: Path) -> Path:
    """Copy the schema files Debian ships (sdformat 12.3) into `folder`, repairing the defects
    of that generated set where they are present; return root.xsd's path there.

    - every file includes its siblings by URL (http://sdformat.org/schemas/...): read locally;
    - types.xsd (vector3, pose, ...) is not installed: ours stands in for it;
    - navsat.xsd is not installed: the sensor type `navsat` (not in our worlds) is left out;
    - state.xsd's `model` (a model's state) is a second global element `model`, which clashes
      with model.xsd's: the world's `state` element (a log snapshot, not in our worlds) is left out;
    - the element `pose` has attributes but no text, so no pose would ever be valid: it is given
      the `pose` value type as its content.
    """
    files = {
        x.name: x.read_text().replace("http://sdformat.org/schemas/", "")
        for x in installed.glob("*.xsd")
    }
    files.setdefault("types.xsd", OUR_TYPES_XSD.read_text())
    if "navsat.xsd" not in files:
        files["sensor.xsd"] = re.sub(
            r"\s*<xsd:(include schemaLocation|element ref)='navsat(\.xsd)?'/>",
            "",
            files["sensor.xsd"],
        )
    if re.search(r"^  <xsd:element name='model'>", files.get("model_state.xsd", ""), re.MULTILINE):
        files["world.xsd"] = re.sub(
            r"\s*<xsd:(include schemaLocation|element ref)='state(\.xsd)?'/>",
            "",
            files["world.xsd"],
        )
    if "simpleContent" not in files["pose.xsd"]:
        head = "<xsd:element name='pose'>\n    <xsd:complexType>"
        tail = "    </xsd:complexType>\n  </xsd:element>"
        assert files["pose.xsd"].count(head) == files["pose.xsd"].count(tail) == 1, "pose.xsd?"
        files["pose.xsd"] = (
            files["pose.xsd"]
            .replace(head, head + "<xsd:simpleContent><xsd:extension base='pose'>")
            .replace(tail, "</xsd:extension></xsd:simpleContent>" + tail)
        )
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder / "root.xsd"


@pytest.fixture(scope="module")
def sdformat_schema(tmp_path_factory):
    xmlschema = pytest.importorskip("xmlschema")
    if not SCHEMA_FILES:
        pytest.skip(
            "SDFormat's schema is not installed: `make setup` (Debian package sdformat-sdf)"
        )
    root = _repaired_schema(SCHEMA_FILES[-1].parent, tmp_path_factory.mktemp("sdformat_1.9"))
    return xmlschema.XMLSchema(str(root))


# --- helpers: the written world, and poses in it --------------------------------------------------


@pytest.fixture(scope="module", params=SCENARIOS, ids=[p.stem for p in SCENARIOS])
def world(request, tmp_path_factory, profile):
    """One scenario's world written to a folder: its spec, world.sdf's path and XML root."""
    path = write_sdf_world(request.param, tmp_path_factory.mktemp(request.param.stem), profile)
    return SimpleNamespace(
        spec=load_world(request.param), path=path, root=ET.parse(path).getroot(), profile=profile
    )


def _numbers(element: ET.Element | None, tag: str, default: str) -> np.ndarray:
    text = element.findtext(tag) if element is not None else None
    return np.array([float(v) for v in (text or default).split()])


def _transform(element: ET.Element) -> np.ndarray:
    """The 4x4 transform of an element's <pose> (x y z roll pitch yaw) in its parent's frame."""
    x, y, z, roll, pitch, yaw = _numbers(element, "pose", "0 0 0 0 0 0")
    cr, sr, cp, sp, cy, sy = (f(a) for a in (roll, pitch, yaw) for f in (math.cos, math.sin))
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    out = np.eye(4)
    out[:3, :3] = rz @ ry @ rx
    out[:3, 3] = (x, y, z)
    return out


def shapes_in_world(root: ET.Element) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{collision or visual name: (4x4 world transform, full box or plane size)} of every model."""
    shapes = {}
    for model in root.iter("model"):
        for link in model.findall("link"):
            parent = _transform(model) @ _transform(link)
            for element in [*link.findall("collision"), *link.findall("visual")]:
                geometry = element.find("geometry")
                size = _numbers(geometry.find("box") or geometry.find("plane"), "size", "")
                shapes[element.get("name")] = (parent @ _transform(element), size)
    return shapes


def mujoco_geoms(spec, profile) -> tuple[mujoco.MjModel, mujoco.MjData]:
    xml, assets = build_mjcf(spec, profile)
    model = mujoco.MjModel.from_xml_string(xml, assets)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    return model, data


# --- the schema -----------------------------------------------------------------------------------


def test_world_file_is_valid_sdformat_1_9_by_its_schema(world, sdformat_schema):
    assert world.root.get("version") == "1.9"
    errors = [f"{e.path}: {e.reason}" for e in sdformat_schema.iter_errors(str(world.path))]
    assert errors == []


@pytest.mark.parametrize(
    ("broken", "fixed"),
    [
        ("<size>3.2 0.1 1</size>", "<size>3.2 0.1</size>"),  # a box needs three sides
        ("<static>true</static>", "<static>true</static><colour>red</colour>"),  # no such element
        ('<model name="wall_south">', "<model>"),  # a model needs a name
        ("<cast_shadows>false</cast_shadows>", "<cast_shadows>maybe</cast_shadows>"),
        ("<pose>1.5 -0.05 0.5 0 0 0</pose>", "<pose>1.5 -0.05 0.5</pose>"),  # six numbers
    ],
)
def test_schema_rejects_a_broken_world(sdformat_schema, profile, broken, fixed):
    spec = load_world(REPO / "src/curriculum_pkg/scenarios/ansan_pcb_inspection_01.yaml")
    text = world_to_sdf(spec, profile)
    assert broken in text
    assert list(sdformat_schema.iter_errors(text)) == []
    assert list(sdformat_schema.iter_errors(text.replace(broken, fixed, 1))) != []


# --- structure ------------------------------------------------------------------------------------


def test_world_file_holds_one_world_with_unique_model_names(world):
    (world_element,) = world.root.findall("world")
    names = [m.get("name") for m in world_element.findall("model")]
    assert len(names) == len(set(names))
    assert {"ground_plane", *(f"station_{s.id}" for s in world.spec.stations)} <= set(names)
    assert not world_element.findall(".//model[@name='turtlebot3_waffle_pi']")  # spawned later


def test_world_states_the_robot_start_pose_as_a_frame(world):
    (frame,) = world.root.findall("world/frame[@name='robot_start']")
    x, y, z, _, _, yaw = _numbers(frame, "pose", "")
    start = world.spec.robot_start
    assert (x, y, z, yaw) == pytest.approx((start.x, start.y, 0.0, start.yaw), abs=1e-5)


def test_every_station_marker_texture_decodes_to_its_marker_id(world):
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, MARKER_DICTIONARY))
    detector = cv2.aruco.ArucoDetector(dictionary)
    for station in world.spec.stations:
        model = world.root.find(f"world/model[@name='station_{station.id}']")
        visual = model.find(f"link/visual[@name='marker_{station.id}']")
        texture = world.path.parent / visual.findtext("material/pbr/metal/albedo_map")
        assert texture.is_file(), texture
        _, ids, _ = detector.detectMarkers(cv2.imread(str(texture), cv2.IMREAD_GRAYSCALE))
        assert ids is not None and ids.ravel().tolist() == [station.marker_id]


def test_inspect_station_display_texture_is_the_scenario_item(world):
    for station in (s for s in world.spec.stations if s.display_image is not None):
        model = world.root.find(f"world/model[@name='station_{station.id}']")
        visual = model.find(f"link/visual[@name='display_{station.id}']")
        texture = world.path.parent / visual.findtext("material/pbr/metal/albedo_map")
        expected = cv2.imread(str(station.display_image), cv2.IMREAD_COLOR)
        assert np.array_equal(cv2.imread(str(texture), cv2.IMREAD_COLOR), expected)
        _, width, height = _numbers(visual.find("geometry/box"), "size", "")
        assert width / height == pytest.approx(expected.shape[1] / expected.shape[0], rel=1e-3)


def test_walls_and_obstacles_are_static_models_with_box_collisions(world):
    for block in world.spec.walls + world.spec.obstacles:
        model = world.root.find(f"world/model[@name='{block.name}']")
        assert model.findtext("static") == "true"
        collision = model.find(f"link/collision[@name='{block.name}_collision']")
        assert collision.find("geometry/box/size") is not None
        assert model.find(f"link/visual[@name='{block.name}']/material/diffuse") is not None


def test_parts_are_dynamic_with_positive_mass_and_valid_inertia(world):
    for part in world.spec.parts:
        model = world.root.find(f"world/model[@name='part_{part.name}']")
        assert model.findtext("static") in (None, "false")
        inertial = model.find("link/inertial")
        assert float(inertial.findtext("mass")) == pytest.approx(part.mass_kg)
        i = {k: float(inertial.findtext(f"inertia/{k}")) for k in ("ixx", "iyy", "izz")}
        assert min(i.values()) > 0
        # a physical inertia: each principal moment is at most the sum of the other two
        assert i["ixx"] <= i["iyy"] + i["izz"] and i["iyy"] <= i["ixx"] + i["izz"]
        assert i["izz"] <= i["ixx"] + i["iyy"]
        assert model.find(f"link/collision[@name='part_{part.name}_collision']") is not None


def test_zones_are_translucent_visuals_without_collision(world):
    for index, zone in enumerate(world.spec.zones):
        model = world.root.find(f"world/model[@name='zone_{index}_{zone.kind}']")
        assert model.find("link/collision") is None
        assert 0 < float(model.findtext("link/visual/transparency")) < 1


# --- the same world as the MJCF -------------------------------------------------------------------


def test_poses_and_sizes_match_the_mujoco_model_within_a_millimetre(world):
    model, data = mujoco_geoms(world.spec, world.profile)
    shapes = shapes_in_world(world.root)
    compared = set()
    for name, (transform, size) in shapes.items():
        geom = name.removesuffix("_collision")
        gid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, geom)
        assert gid >= 0, f"{name}: no geom {geom} in the MJCF"
        position, rotation = data.geom_xpos[gid], data.geom_xmat[gid].reshape(3, 3)
        assert transform[:3, 3] == pytest.approx(position, abs=1e-3), name
        assert transform[:3, :3] == pytest.approx(rotation, abs=1e-4), name
        full_size = 2 * model.geom_size[gid][: len(size)]
        if geom.startswith("display_"):
            # MuJoCo pads the picture to a square; Gazebo prints the picture alone, centred.
            assert max(size[1:]) == pytest.approx(full_size[1], abs=1e-3), name
            assert all(size[1:] <= full_size[1:] + 1e-6), name
        else:
            assert size == pytest.approx(full_size, abs=1e-3), name
        compared.add(geom)
    spec = world.spec
    expected = {
        "floor",
        *(b.name for b in spec.walls + spec.obstacles),
        *(f"{kind}_{s.id}" for s in spec.stations for kind in ("station", "marker")),
        *(f"display_{s.id}" for s in spec.stations if s.display_image is not None),
        *(f"part_{p.name}" for p in spec.parts),
        *(f"zone_{i}_{z.kind}" for i, z in enumerate(spec.zones)),
    }
    assert compared == expected


# --- moving actors (common_pkg.actors) ----------------------------------------------------------

try:
    from common_pkg.actors import Actor
except ImportError:  # a tree from before common_pkg.actors: these tests have nothing to test
    Actor = None

ACTORS = (
    [
        Actor("forklift", "forklift", (2.0, 1.1, 2.0), ((1, 4.2), (6, 4.2)), 1.0, pause_s=2.0),
        Actor("picker", "worker", (0.5, 0.5, 1.7), ((1, 1), (3, 1), (3, 2)), 0.8, "loop", 1.5, 2.5),
        Actor("walker", "worker", (0.5, 0.5, 1.7), ((5, 1), (6, 2), (5, 3)), 1.2, start_offset_m=4),
    ]
    if Actor
    else []
)


def _catmull_rom(times, points, t):
    """Where Gazebo puts an actor at time t: gz-common's PoseAnimation runs gz::math::Spline
    through the keyframes, a Hermite curve per keyframe interval with Catmull-Rom tangents
    (half the difference of the two neighbours; a closed curve wraps them at its ends)."""
    p = np.asarray(points)
    n = len(p)
    closed = np.allclose(p[0], p[-1])

    def tangent(j):
        if closed and j in (0, n - 1):
            return 0.5 * (p[1] - p[n - 2])
        return 0.5 * (p[min(j + 1, n - 1)] - p[max(j - 1, 0)])

    i = min(int(np.searchsorted(times, t, side="right")) - 1, n - 2)
    s = (t - times[i]) / (times[i + 1] - times[i])
    h = (2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2)
    return h[0] * p[i] + h[1] * tangent(i) + h[2] * p[i + 1] + h[3] * tangent(i + 1)


@pytest.mark.parametrize("actor", ACTORS, ids=[a.id for a in ACTORS])
def test_actor_keyframes_are_the_simulators_actor_poses_over_one_period(actor):
    keyframes = actor_keyframes(actor)
    times = [k[0] for k in keyframes]
    assert times[0] == 0 and times[-1] == pytest.approx(actor.period_s)
    assert all(b > a for a, b in itertools.pairwise(times))
    for t, x, y, yaw in keyframes:
        ex, ey, eyaw = actor.pose_at(t)
        assert (x, y) == pytest.approx((ex, ey), abs=1e-9)
        assert math.cos(yaw - eyaw) == pytest.approx(1.0)
    steps = [math.dist(a[1:3], b[1:3]) for a, b in itertools.pairwise(keyframes)]
    assert max(steps) <= KEYFRAME_SPACING_M + 1e-9


@pytest.mark.parametrize("actor", ACTORS, ids=[a.id for a in ACTORS])
def test_gazebo_actor_stays_within_a_centimetre_of_the_simulators(actor):
    keyframes = actor_keyframes(actor)
    times = np.array([k[0] for k in keyframes])
    points = [k[1:3] for k in keyframes]
    worst = 0.0
    for t in np.linspace(0, actor.period_s, 2000, endpoint=False):
        worst = max(worst, math.dist(_catmull_rom(times, points, t), actor.pose_at(t)[:2]))
    assert worst < 0.01


@pytest.mark.skipif(Actor is None, reason="no common_pkg.actors in this tree")
def test_world_with_actors_scripts_each_actor_from_its_start_pose(profile, sdformat_schema):
    plating = load_world(REPO / "src/curriculum_pkg/scenarios/banwol_plating_01.yaml")
    spec = dataclasses.replace(plating, actors=tuple(ACTORS))
    text = world_to_sdf(spec, profile)
    assert list(sdformat_schema.iter_errors(text)) == []
    root = ET.fromstring(text)
    model, data = mujoco_geoms(spec, profile)
    assert {a.get("name") for a in root.findall("world/actor")} == {
        f"actor_{a.id}" for a in spec.actors
    }
    for actor in spec.actors:
        element = root.find(f"world/actor[@name='actor_{actor.id}']")
        assert element.findtext("script/loop") == "true"
        first = element.find("script/trajectory/waypoint")
        assert float(first.findtext("time")) == 0
        body = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, f"actor_{actor.id}")
        x, y, _, _, _, yaw = _numbers(first, "pose", "")
        assert (x, y) == pytest.approx(data.xpos[body][:2], abs=1e-6)
        assert (math.cos(yaw), math.sin(yaw)) == pytest.approx(data.xmat[body][[0, 3]], abs=1e-6)
        height = actor.size_lwh[2]
        assert float(element.findtext("link/visual/pose").split()[2]) == pytest.approx(height / 2)


def test_world_without_actors_attribute_has_no_actors(profile):
    """A WorldSpec from before common_pkg.actors (no `actors` field) still makes a world."""
    spec = load_world(REPO / "src/curriculum_pkg/scenarios/banwol_plating_01.yaml")
    older = SimpleNamespace(**{k: v for k, v in vars(spec).items() if k != "actors"})
    root = ET.fromstring(world_to_sdf(older, profile))
    assert root.findall("world/actor") == []
    assert root.find("world/model[@name='station_rinse_check']") is not None


# --- the writer -----------------------------------------------------------------------------------


def test_write_sdf_world_reports_a_malformed_scenario_with_its_location(tmp_path):
    scenario = tmp_path / "broken.yaml"
    text = (REPO / "src/curriculum_pkg/scenarios/banwol_plating_01.yaml").read_text()
    scenario.write_text(text.replace("marker_id: 12", "marker_id: 11"))
    with pytest.raises(WorldError) as raised:
        write_sdf_world(scenario, tmp_path / "out")
    assert "broken.yaml" in raised.value.location and "marker_id" in raised.value.location
    assert not (tmp_path / "out" / "world.sdf").exists()


def test_world_is_named_after_the_scenario_file_in_topic_safe_characters():
    assert world_name_for(REPO / "src/curriculum_pkg/scenarios/banwol_plating_01.yaml") == (
        "banwol_plating_01"
    )
    assert world_name_for("/tmp/my plating-v2.yaml") == "my_plating_v2"
