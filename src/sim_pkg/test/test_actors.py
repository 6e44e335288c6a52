"""Moving workers and forklifts: their scenario format, their motion, and what the robot meets."""

import math
import textwrap

import numpy as np
import pytest

from common_pkg.actors import Actor
from common_pkg.errors import WorldError
from common_pkg.worldspec import Pose2D, WorldSpec, _perimeter, load_world
from sim_pkg.world import SimWorld

WORLD = """\
world:
  floor: {size_m: [6.0, 4.0]}
  stations:
    - {id: dock, name: {ko: 도크, en: Dock}, marker_id: 3, stop_m: [5.0, 3.0], facing_deg: 0}
  actors:
    - id: w1
      kind: worker
      path: [[3.0, 0.5], [3.0, 3.5]]
      speed_mps: 1.0
robot_start: {position_m: [1.0, 2.0], yaw_deg: 0}
"""


def write_world(tmp_path, text: str):
    path = tmp_path / "actors.yaml"
    path.write_text(textwrap.dedent(text))
    return path


ROBOT_START = Pose2D(1.0, 2.0, 0.0)  # facing east, along the room's middle


def room(*actors: Actor, size=(6.0, 4.0), start=ROBOT_START) -> WorldSpec:
    return WorldSpec(size, _perimeter(size, 1.0, 0.1), (), (), (), start, (), actors)


def drive(world, linear, seconds):
    for _ in range(round(seconds / world.profile.control_period_s)):
        world.command_base(linear, 0.0)
        world.step()


def test_actors_are_parsed_with_defaults_per_kind(tmp_path):
    spec = load_world(write_world(tmp_path, WORLD))
    (worker,) = spec.actors
    assert worker.size_lwh == (0.5, 0.5, 1.7)
    assert (worker.mode, worker.pause_s, worker.start_offset_m) == ("back_and_forth", 0.0, 0.0)
    assert worker.path_xy == ((3.0, 0.5), (3.0, 3.5))
    forklift = load_world(write_world(tmp_path, WORLD.replace("kind: worker", "kind: forklift")))
    assert forklift.actors[0].size_lwh == (2.0, 1.1, 2.0)


@pytest.mark.parametrize(
    ("old", "new", "where", "says"),
    [
        ("kind: worker", "kind: robot", "world.actors[0].kind", "'robot'"),
        ("speed_mps: 1.0", "speed_mps: 0", "world.actors[0].speed_mps", "0"),
        ("speed_mps: 1.0", "speed_mps: 3.0", "world.actors[0].speed_mps", "3.0"),
        ("[[3.0, 0.5], [3.0, 3.5]]", "[[3.0, 0.5]]", "world.actors[0].path", "too short"),
        ("[3.0, 3.5]]", "[3.0, 4.5]]", "world.actors[0].path[1]", "outside"),
        ("[3.0, 3.5]]", "[3.0, 0.5]]", "world.actors[0].path[1]", "repeats"),
        ("id: w1", "id: dock", "world.actors[0].id", "used twice"),
        ("[[3.0, 0.5], [3.0, 3.5]]", "[[1.0, 0.5], [1.0, 3.5]]", "robot_start", "path of worker"),
        ("speed_mps: 1.0", "speed_mps: 1.0\n      mode: circle", "world.actors[0].mode", "circle"),
    ],
)
def test_actor_errors_are_located_and_bilingual(tmp_path, old, new, where, says):
    assert old in WORLD
    with pytest.raises(WorldError) as err:
        load_world(write_world(tmp_path, WORLD.replace(old, new)))
    assert err.value.location.startswith("actors.yaml:")
    assert where in err.value.location
    assert says in err.value.en
    assert err.value.ko and err.value.ko != err.value.en


def test_a_loop_must_not_repeat_its_first_point(tmp_path):
    text = WORLD.replace("[[3.0, 0.5], [3.0, 3.5]]", "[[3, 1], [4, 1], [4, 3], [3, 1]]")
    with pytest.raises(WorldError) as err:
        load_world(
            write_world(tmp_path, text.replace("speed_mps: 1.0", "speed_mps: 1\n      mode: loop"))
        )
    assert "world.actors[0].path[3]" in err.value.location and "loop" in err.value.en


def test_back_and_forth_drives_at_its_speed_waits_at_the_ends_and_turns_round():
    actor = Actor("f1", "forklift", (2.0, 1.1, 2.0), ((1.0, 1.0), (3.0, 1.0), (3.0, 2.0)), 0.5,
                  pause_s=1.0)  # fmt: skip
    east, north = 0.0, math.pi / 2
    assert actor.pose_at(0.0) == pytest.approx((1.0, 1.0, east))
    assert actor.pose_at(2.0) == pytest.approx((2.0, 1.0, east))  # 1 m in 2 s: 0.5 m/s
    assert actor.pose_at(5.0) == pytest.approx((3.0, 1.5, north))  # turned at the corner
    assert actor.pose_at(6.5) == pytest.approx((3.0, 2.0, north))  # waiting at the far end
    assert actor.pose_at(7.5) == pytest.approx((3.0, 1.75, -north))  # on its way back
    assert actor.pose_at(10.0) == pytest.approx((2.5, 1.0, math.pi))
    assert actor.period_s == pytest.approx(2 * 6.0 + 2 * 1.0)
    assert actor.pose_at(3.0 + actor.period_s) == pytest.approx(actor.pose_at(3.0))
    # The speed along the path, measured between two close instants, is its speed_mps.
    (x0, y0, _), (x1, y1, _) = actor.pose_at(0.4), actor.pose_at(0.5)
    assert math.hypot(x1 - x0, y1 - y0) / 0.1 == pytest.approx(0.5)


def test_loop_goes_on_from_its_last_point_to_its_first_and_waits_there():
    square = ((1.0, 1.0), (2.0, 1.0), (2.0, 2.0), (1.0, 2.0))
    actor = Actor("w1", "worker", (0.5, 0.5, 1.7), square, 1.0, mode="loop", pause_s=0.5)
    assert actor.route_length_m == pytest.approx(4.0)
    assert actor.pose_at(3.5) == pytest.approx((1.0, 1.5, -math.pi / 2))  # the closing side
    assert actor.pose_at(4.25) == pytest.approx((1.0, 1.0, -math.pi / 2))  # pausing at the start
    assert actor.pose_at(4.75) == pytest.approx((1.25, 1.0, 0.0))  # round again


def test_start_offset_puts_the_actor_further_along_its_route():
    actor = Actor("w1", "worker", (0.5, 0.5, 1.7), ((0.0, 0.0), (4.0, 0.0)), 1.0)
    ahead = Actor("w1", "worker", (0.5, 0.5, 1.7), ((0.0, 0.0), (4.0, 0.0)), 1.0,
                  start_offset_m=5.0)  # fmt: skip
    assert ahead.pose_at(0.0) == pytest.approx((3.0, 0.0, math.pi))  # 4 m out, 1 m back
    assert ahead.pose_at(2.0) == pytest.approx(actor.pose_at(7.0))


def test_simulated_actors_follow_their_spec_in_sim_time_deterministically(profile):
    worker = Actor("w1", "worker", (0.5, 0.5, 1.7), ((4.0, 1.0), (4.0, 3.0)), 0.8)
    forklift = Actor("f1", "forklift", (2.0, 1.1, 2.0), ((2.0, 0.7), (5.0, 0.7)), 1.5,
                     mode="loop", start_offset_m=1.0)  # fmt: skip

    def run():
        world = SimWorld(room(worker, forklift), profile)
        drive(world, 0.0, 1.7)
        return world, world.actor_poses()

    (world, poses), (_, again) = run(), run()
    assert poses == again
    for actor in (worker, forklift):
        x, y, yaw = actor.pose_at(world.time_s)
        assert (poses[actor.id].x, poses[actor.id].y, poses[actor.id].yaw) == pytest.approx(
            (x, y, yaw)
        )
        body = world.model.body(f"actor_{actor.id}").id  # where the physics has its geoms
        assert world.data.xpos[body][:2] == pytest.approx((x, y))
        w, _, _, z = world.data.xquat[body]
        assert 2 * math.atan2(z, w) == pytest.approx(yaw)
    assert poses["w1"].y == pytest.approx(1.0 + 0.8 * world.time_s)


def test_lidar_sees_a_worker_at_the_right_range_as_they_pass_in_front(profile):
    worker = Actor("w1", "worker", (0.5, 0.5, 1.7), ((3.0, 0.5), (3.0, 3.5)), 1.0)
    world = SimWorld(room(worker), profile, seed=5)
    lidar_x = 1.0 + profile.raw["lidar"]["mount_xyz_m"][0]

    def straight_ahead_after(seconds: float) -> float:
        drive(world, 0.0, seconds)
        return float(np.mean([world.scan()[0] for _ in range(20)]))

    nothing = profile.lidar_invalid_value  # the east wall, 5 m ahead, is out of range
    assert straight_ahead_after(0.5) == nothing  # the worker is at y = 1.0, to the right
    assert straight_ahead_after(1.0) == pytest.approx(3.0 - 0.25 - lidar_x, abs=0.02)  # y = 2.0
    assert straight_ahead_after(0.8) == nothing  # y = 2.8: passed by


def test_robot_driven_into_a_worker_touches_actor_by_id(profile):
    worker = Actor("w1", "worker", (0.5, 0.5, 1.7), ((2.0, 1.95), (2.0, 2.05)), 0.05)
    world = SimWorld(room(worker), profile)
    touched = set()
    for _ in range(500):  # 5 s at 0.2 m/s towards a worker ~0.6 m ahead of the bumper
        world.command_base(0.2, 0.0)
        world.step()
        touched |= world.robot_contacts()
    assert touched == {"actor:w1"}


def test_actors_never_touch_the_walls_or_each_other(profile):
    through_wall = Actor("f1", "forklift", (2.0, 1.1, 2.0), ((0.5, 3.0), (5.5, 3.0)), 2.5)
    crossing = Actor("w1", "worker", (0.5, 0.5, 1.7), ((3.0, 2.2), (3.0, 3.9)), 1.0)
    world = SimWorld(room(through_wall, crossing, start=Pose2D(1.0, 1.0, 0.0)), profile)
    m = world.model
    actor_geoms = set(world._actor_geoms)
    for _ in range(300):
        world.step()
        for c in world.data.contact[: world.data.ncon]:
            assert not ({int(c.geom1), int(c.geom2)} & actor_geoms), (
                m.geom(int(c.geom1)).name,
                m.geom(int(c.geom2)).name,
            )


def test_camera_sees_the_forklift_where_it_is(profile):
    def front_frame(offset_m: float) -> np.ndarray:
        # Its path runs from behind the south wall to straight ahead of the robot (y = 2).
        forklift = Actor("f1", "forklift", (2.0, 1.1, 2.0), ((3.5, -2.0), (3.5, 2.0)), 1.0,
                         pause_s=30.0, start_offset_m=offset_m)  # fmt: skip
        world = SimWorld(room(forklift), profile)
        world.step()
        frame = world.render_camera().astype(np.int16)
        world.close()
        return frame

    across, aside = front_frame(4.0), front_frame(0.0)
    h, w = across.shape[:2]
    centre = across[h // 2 - 20 : h // 2 + 20, w // 2 - 20 : w // 2 + 20].reshape(-1, 3).mean(0)
    assert centre[0] > 150 and centre[1] > 120 and centre[2] < 80  # forklift yellow, ahead
    assert np.abs(across - aside).mean() > 20
