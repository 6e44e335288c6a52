"""The platform's scripted tour without ROS: where the recorded gamepad takes the robot in a
scenario (ROS-free, deterministic, about two seconds of CPU for a 160 s tour).

Assignments where the platform drives (station_markers, sensor_readings) start input_player ->
joy_teleop -> safety_mux. The script is open loop, so in a hidden variant (a start turned by a
few degrees, stations moved) the tour ends somewhere else than in the visible one, and may never
bring a station into clear view. A check that judges what the tour shows asks this module, before
the variant is graded, whether the tour still shows it (curriculum_pkg.checks.markers).

`drive_tour` runs the same pure functions the three nodes run (teleop_pkg.input_script,
joystick, safety_mux, scan_envelope) on the simulator itself, with the parameters the assignment
gives the nodes (their rates in sim time, the gamepad mapping, the mux's limits and envelope),
one clock tick at a time in the lockstep order the grader uses (each node's timer, then the
sensor data). It is not the graded run, only a close forecast of it: a check allows a margin.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from common_pkg.worldspec import Pose2D

INPUT_PLAYER = ("teleop_pkg", "input_player")
JOY_TELEOP = ("teleop_pkg", "teleop_joy")
SAFETY_MUX = ("teleop_pkg", "safety_mux")
TELEOP_RATE_HZ = 20.0  # joy_teleop's publish_rate_hz default


class TourError(ValueError):
    """The tour cannot be driven as the assignment sets it up (the nodes would not start)."""

    def __init__(self, en: str, ko: str):
        super().__init__(f"{en} / {ko}")
        self.en, self.ko = en, ko


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
    script = tour_parameters(assignment).get(INPUT_PLAYER, {}).get("script")
    return str(script) if script else None


def tour_parameters(assignment) -> dict[tuple[str, str], Mapping]:
    """The parameters the assignment gives the tour's nodes, by (package, executable): what
    `drive_tour` must run them with (the grader sets these whatever the launch file says)."""
    return {
        node.provided_by: dict(node.parameters)
        for node in assignment.nodes
        if node.provided_by in (INPUT_PLAYER, JOY_TELEOP, SAFETY_MUX)
    }


def drive_tour(
    scenario, profile, script: str, parameters: Mapping[tuple[str, str], Mapping] | None = None
) -> Iterator[TourFrame]:
    """Drive `scenario` (a Scenario, any variant) by `script` and yield every camera frame, until
    2 s after the script has ended. `parameters`: the nodes' (`tour_parameters`); a node without
    any runs with its defaults, as it would."""
    from common_pkg.ros.params import GivenParameters
    from sim_pkg.world import SimWorld
    from teleop_pkg import safety_mux as mux
    from teleop_pkg.input_script import joy_at, parse_script, script_duration_s
    from teleop_pkg.joystick import JoyConfig, joy_to_command
    from teleop_pkg.nodes.input_player_node import declare_player_parameters
    from teleop_pkg.nodes.safety_mux_params import declare_mux_parameters
    from teleop_pkg.scan_envelope import clearance, scan_points

    parameters = parameters or {}
    player, teleop = parameters.get(INPUT_PLAYER, {}), parameters.get(JOY_TELEOP, {})
    segments = parse_script(script)
    end_s = script_duration_s(segments) + 2.0
    try:
        settings = declare_mux_parameters(
            GivenParameters({"robot_profile": profile.name, **parameters.get(SAFETY_MUX, {})})
        )
        joy_cfg = JoyConfig.from_params(teleop).limited(
            profile.max_linear_mps, profile.max_angular_rps
        )
        rates = {
            "joy": declare_player_parameters(GivenParameters(player))[1],
            "teleop": float(teleop.get("publish_rate_hz", TELEOP_RATE_HZ)),
            "mux": settings.rate_hz,
        }
        if min(rates.values()) <= 0:
            raise ValueError(f"rates must be above 0 Hz: {rates}")
    except (TypeError, ValueError) as exc:  # the node itself would refuse to start
        raise TourError(
            f"the platform's tour nodes cannot run with these parameters: {exc}",
            f"플랫폼이 모는 노드(input_player, joy_teleop, safety_mux)의 파라미터가 잘못되었습니다: {exc}",
        ) from exc
    cfg = settings.cfg
    angle_increment = 2.0 * math.pi / profile.lidar_samples
    world = SimWorld(scenario.world, profile)
    try:
        state, inputs, scan = mux.MuxState(), {}, None
        joy = None  # the latest /joy
        was_enabled = False  # joy_teleop sends one zero when the deadman is let go
        output = (0.0, 0.0)
        t0 = None
        # The nodes made their timers before the first /clock, at time 0.
        timers = {name: _Timer(1.0 / rate_hz, 0.0) for name, rate_hz in rates.items()}
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
                    if settings.publish_on_input:
                        state, out, _ = mux.step(state, now, inputs, scan, cfg)
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
                    settings.lidar_xy_m,
                )
                scan = clearance(points, now, cfg.envelope)
            if now + 1e-9 >= next_frame:
                next_frame += 1.0 / profile.camera_rate_hz
                yield TourFrame(now, world.true_pose(), world)
    finally:
        world.close()
