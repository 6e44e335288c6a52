"""The platform's scripted tour without ROS: where the recorded gamepad takes the robot in a
scenario (ROS-free, deterministic, about two seconds of CPU for a 160 s tour).

Assignments where the platform drives (station_markers, sensor_readings) start input_player ->
joy_teleop -> safety_mux. The script is open loop, so in a hidden variant (a start turned by a
few degrees, stations moved) the tour ends somewhere else than in the visible one, and may never
bring a station into clear view. A check that judges what the tour shows asks this module, before
the variant is graded, whether the tour still shows it (curriculum_pkg.checks.markers).

`drive_tour` runs the same pure functions the three nodes run (teleop_pkg.input_script,
joystick, safety_mux, scan_envelope) on the simulator itself, at the nodes' rates in sim time,
one clock tick at a time in the lockstep order the grader uses (each node's timer, then the
sensor data). It is not the graded run, only a close forecast of it: a check allows a margin.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from common_pkg.worldspec import Pose2D

INPUT_PLAYER = ("teleop_pkg", "input_player")
JOY_RATE_HZ = 20.0  # input_player's rate_hz default (joy_node's autorepeat_rate)
TELEOP_RATE_HZ = 20.0  # joy_teleop's publish_rate_hz default
MUX_RATE_HZ = 20.0  # safety_mux's rate_hz default


@dataclass(frozen=True)
class TourFrame:
    """A camera frame of the tour: its sim time, the robot's true pose, and the simulator at that
    moment (a SimWorld: read it before the next frame, never change it)."""

    t: float
    pose: Pose2D
    world: object


class _Timer:
    """A sim-time timer as rcl runs one: due every period from its start, fired at the first
    tick at or past that, skipping the periods it missed."""

    def __init__(self, period_s: float, start_s: float):
        self.period_s = period_s
        self.due_s = start_s + period_s

    def fire(self, now_s: float) -> bool:
        if now_s + 1e-9 < self.due_s:
            return False
        while self.due_s <= now_s + 1e-9:
            self.due_s += self.period_s
        return True


def tour_script(assignment) -> str | None:
    """The script of the assignment's input_player node, or None if the platform drives nothing."""
    for node in assignment.nodes:
        if node.provided_by == INPUT_PLAYER:
            script = node.parameters.get("script")
            return str(script) if script else None
    return None


def drive_tour(scenario, profile, script: str) -> Iterator[TourFrame]:
    """Drive `scenario` (a Scenario, any variant) by `script` and yield every camera frame, until
    2 s after the script has ended. The nodes' rates and the mux's limits are their defaults (the
    shipped assignments set none of them)."""
    from sim_pkg.world import SimWorld
    from teleop_pkg import safety_mux as mux
    from teleop_pkg.input_script import joy_at, parse_script, script_duration_s
    from teleop_pkg.joystick import JoyConfig, joy_to_command
    from teleop_pkg.scan_envelope import clearance, scan_points

    segments = parse_script(script)
    end_s = script_duration_s(segments) + 2.0
    cfg = mux.MuxConfig(
        max_linear_mps=profile.max_linear_mps, max_angular_rps=profile.max_angular_rps
    )
    joy_cfg = JoyConfig()
    lidar_x, lidar_y, _ = profile.raw["lidar"]["mount_xyz_m"]
    angle_increment = 2.0 * math.pi / profile.lidar_samples
    world = SimWorld(scenario.world, profile)
    try:
        state, inputs, scan = mux.MuxState(), {}, None
        joy = None  # the latest /joy
        was_enabled = False  # joy_teleop sends one zero when the deadman is let go
        output = (0.0, 0.0)
        t0 = None
        # The nodes made their timers before the first /clock, at time 0.
        timers = {
            "joy": _Timer(1.0 / JOY_RATE_HZ, 0.0),
            "teleop": _Timer(1.0 / TELEOP_RATE_HZ, 0.0),
            "mux": _Timer(1.0 / MUX_RATE_HZ, 0.0),
        }
        next_scan = next_frame = 0.0
        while True:
            for _ in range(profile.steps_per_tick):
                world.command_base(*output)
                world.step()
            now = world.time_s
            if now > end_s:
                return
            if t0 is None:  # the script's time 0: the first sim time input_player sees
                t0 = now
            if timers["joy"].fire(now):
                joy = joy_at(segments, now - t0)
            if timers["teleop"].fire(now) and joy is not None:
                command = joy_to_command(*joy, joy_cfg)
                if command.enabled or was_enabled:
                    lin, ang = (command.linear_mps, command.angular_rps)
                    inputs["teleop"] = mux.Command(lin, ang, now)  # STOPPED is all zero
                    state, out, _ = mux.step(state, now, inputs, scan, cfg)  # publish_on_input
                    output = (out.linear_mps, out.angular_rps)
                was_enabled = command.enabled
            if timers["mux"].fire(now):
                state, out, _ = mux.step(state, now, inputs, scan, cfg)
                output = (out.linear_mps, out.angular_rps)
            if now + 1e-9 >= next_scan:  # the sensor data after the nodes' turn, as in lockstep
                next_scan += 1.0 / profile.lidar_rate_hz
                points = scan_points(
                    world.scan(),
                    0.0,
                    angle_increment,
                    profile.lidar_range_min_m,
                    profile.lidar_range_max_m,
                    (float(lidar_x), float(lidar_y)),
                )
                scan = clearance(points, now, cfg.envelope)
            if now + 1e-9 >= next_frame:
                next_frame += 1.0 / profile.camera_rate_hz
                yield TourFrame(now, world.true_pose(), world)
    finally:
        world.close()
