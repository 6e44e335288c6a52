"""The safety mux core (ROS-free): priorities, e-stop, watchdog, limits, scan envelope."""

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teleop_pkg.safety_mux import (
    ERROR,
    OK,
    WARN,
    Command,
    MuxConfig,
    MuxState,
    latch_estop,
    may_brake_hard,
    on_estop_topic,
    reset_estop,
    step,
    summarize,
)
from teleop_pkg.scan_envelope import EnvelopeConfig, clearance, scan_points

CFG = MuxConfig(
    envelope=EnvelopeConfig(require_scan=False)
)  # most tests are about something other than the scan
PERIOD_S = 0.05  # the node's 20 Hz
READY = MuxState(output=Command(0.0, 0.0, 0.0))  # has published a stop at t = 0


def run(cfg, state, inputs, t0_s, seconds, scan=None, live=()):
    """Step every PERIOD_S for `seconds`, the `live` sources repeating their command before each
    step; returns (state, outputs, events)."""
    outputs, events = [], []
    for i in range(1, round(seconds / PERIOD_S) + 1):
        t = t0_s + i * PERIOD_S
        inputs = {k: replace(c, stamp_s=t) if k in live else c for k, c in inputs.items()}
        state, out, ev = step(state, t, inputs, scan, cfg)
        outputs.append(out)
        events += ev
    return state, outputs, events


def wall(x_m: float, stamp_s: float, cfg=CFG):
    """A wall across the robot's path at x (base_footprint frame), as scan points."""
    ys = np.linspace(-1.0, 1.0, 41)
    return clearance(np.stack([np.full_like(ys, x_m), ys], axis=1), stamp_s, cfg.envelope)


def test_teleop_overrides_autonomy_while_fresh_then_autonomy_resumes():
    inputs = {"autonomy": Command(0.2, 0.0, 0.0), "teleop": Command(-0.1, 0.5, 0.0)}
    state, outs, _ = run(CFG, MuxState(), inputs, 0.0, 0.45)
    assert state.active_source == "teleop"
    assert (outs[-1].linear_mps, outs[-1].angular_rps) == (-0.1, 0.5)
    state, outs, _ = run(CFG, state, inputs, 0.45, 1.0, live=["autonomy"])  # teleop goes quiet
    assert state.active_source == "autonomy"
    assert outs[-1].linear_mps == pytest.approx(0.2)


def test_teleop_holding_zero_is_a_deadman_that_still_overrides_autonomy():
    inputs = {"autonomy": Command(0.2, 0.0, 0.0), "teleop": Command(0.0, 0.0, 0.0)}
    state, outs, _ = run(CFG, MuxState(), inputs, 0.0, 0.4)
    assert state.active_source == "teleop"
    assert all(o.linear_mps == 0.0 for o in outs)


def test_latched_estop_holds_against_a_flood_of_commands_until_reset():
    state = latch_estop(MuxState(), "service")
    t = 0.0
    for _ in range(500):  # teleop hammering full speed every millisecond
        t += 0.001
        state, out, _ = step(state, t, {"teleop": Command(0.26, 1.82, t)}, None, CFG)
        assert (out.linear_mps, out.angular_rps) == (0.0, 0.0)
    assert summarize(state)[0] == ERROR and state.counts == (("estop", 1),)
    state, ok, _ = reset_estop(state)
    assert ok and not state.estop_latched
    state, out, _ = step(state, t + 0.05, {"teleop": Command(0.26, 0.0, t + 0.05)}, None, CFG)
    assert 0.0 < out.linear_mps <= CFG.max_linear_accel_mps2 * 0.05 + 1e-12  # resumes on a ramp


def test_reset_is_refused_while_the_estop_topic_still_asserts():
    state = on_estop_topic(MuxState(), True)
    assert state.estop_latched
    state, ok, message = reset_estop(state)
    assert not ok and state.estop_latched and "true" in message
    state = on_estop_topic(state, False)
    assert state.estop_latched  # releasing the button does not clear it by itself
    state, ok, _ = reset_estop(state)
    assert ok and not state.estop_latched


def test_a_silent_source_is_dropped_within_its_timeout_and_the_robot_stops_at_once():
    inputs = {"autonomy": Command(0.2, 0.3, 1.0)}
    state, outs, events = run(CFG, MuxState(), inputs, 1.0, 0.5)  # last word at t = 1.0
    assert outs[-1].linear_mps == pytest.approx(0.2)  # still trusted at exactly the timeout
    state, outs, events = run(CFG, state, inputs, 1.5, 0.05)
    assert (outs[0].linear_mps, outs[0].angular_rps) == (0.0, 0.0)  # no ramp down: a hard stop
    assert events == ["timeout:autonomy"] and summarize(state)[0] == WARN


def test_a_source_that_stopped_before_falling_silent_is_no_intervention():
    state, _, _ = run(CFG, MuxState(), {"autonomy": Command(0.0, 0.0, 0.0)}, 0.0, 2.0)
    assert state.intervention_count == 0 and summarize(state)[0] == OK


def test_acceleration_is_limited_both_ways_but_never_past_the_target():
    inputs = {"teleop": Command(0.26, -1.82, 0.0)}
    state, outs, events = run(CFG, MuxState(), inputs, 0.0, 2.0, live=["teleop"])
    linear = [o.linear_mps for o in outs]
    assert linear[:4] == pytest.approx([0.0, 0.025, 0.05, 0.075])  # 0.5 m/s^2 x 50 ms each
    assert linear[-1] == 0.26 and outs[-1].angular_rps == -1.82
    assert [o.angular_rps for o in outs[:3]] == pytest.approx([0.0, -0.1, -0.2])
    inputs = {"teleop": Command(-0.26, 0.0, 2.0)}  # reverse: back through zero on the same ramp
    state, outs, events = run(CFG, state, inputs, 2.0, 1.5, live=["teleop"])
    steps = np.diff([0.26] + [o.linear_mps for o in outs])
    assert np.all(steps >= -0.025 - 1e-12) and outs[-1].linear_mps == -0.26
    assert events == ["limited_accel"]  # one episode, counted once


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_or_inf_from_the_winning_source_means_stop(bad):
    inputs = {"teleop": Command(0.1, 0.0, 0.0), "autonomy": Command(0.2, 0.0, 0.0)}
    state, _, _ = run(CFG, MuxState(), inputs, 0.0, 0.3)
    inputs["teleop"] = Command(bad, 0.0, 0.3)
    state, out, events = step(state, 0.35, inputs, None, CFG)
    assert (out.linear_mps, out.angular_rps) == (0.0, 0.0) and events == ("invalid:teleop",)


def test_a_huge_command_is_clamped_to_the_robot_profile():
    inputs = {"teleop": Command(1e300, -1e300, 0.0)}
    _, outs, events = run(CFG, MuxState(), inputs, 0.0, 2.0, live=["teleop"])
    assert (outs[-1].linear_mps, outs[-1].angular_rps) == (0.26, -1.82)
    assert "limited_speed" in events


@pytest.mark.parametrize("direction", [1.0, -1.0])
def test_the_scan_envelope_stops_before_a_wall_in_front_and_behind(direction):
    """Closed loop: a robot that follows the mux exactly, a wall 1.5 m away, scans at 5 Hz."""
    cfg = MuxConfig()
    env = cfg.envelope
    edge_m = env.footprint_front_m if direction > 0 else env.footprint_back_m
    wall_x_m, x_m, t, state, scan = direction * 1.5, 0.0, 0.0, MuxState(), None
    outs = []
    for i in range(400):  # 20 s
        t = i * PERIOD_S
        if i % 4 == 0:
            scan = wall(wall_x_m - x_m, t, cfg)
        state, out, _ = step(state, t, {"autonomy": Command(direction * 0.26, 0.0, t)}, scan, cfg)
        x_m += out.linear_mps * PERIOD_S
        outs.append(out.linear_mps)
    gap_m = abs(wall_x_m - x_m) - edge_m
    assert outs[-1] == 0.0 and max(map(abs, outs)) == 0.26
    assert env.stop_distance_m - 0.005 < gap_m < env.stop_distance_m + 0.02
    state, out, _ = step(state, t + 0.05, {"autonomy": Command(-direction * 0.1, 0, t)}, scan, cfg)
    assert out.linear_mps * direction < 0  # backing away is always allowed


def test_once_stopped_for_an_obstacle_it_stays_stopped_until_the_gap_opens_past_the_hysteresis():
    cfg = MuxConfig()
    env = cfg.envelope
    ahead = {"autonomy": Command(0.1, 0.0, 0.0)}
    bumper = env.footprint_front_m
    state, _, _ = step(READY, 0.05, ahead, wall(bumper + env.stop_distance_m - 0.01, 0.05), cfg)
    assert state.blocked == (True, False)
    for t, gap in ((0.1, 0.01), (0.15, env.stop_hysteresis_m - 0.005)):  # noise around the stop
        state, out, _ = step(state, t, ahead, wall(bumper + env.stop_distance_m + gap, t), cfg)
        assert out.linear_mps == 0.0
    gap = env.stop_distance_m + env.stop_hysteresis_m + 0.01  # the obstacle moved away
    state, out, _ = step(state, 0.2, ahead, wall(bumper + gap, 0.2), cfg)
    assert out.linear_mps > 0.0 and state.blocked == (False, False)


def test_a_condition_flickering_within_the_hold_time_is_one_intervention():
    cfg = MuxConfig()
    state, t = READY, 0.0
    for i in range(40):  # 2 s of lidar noise right at the stop distance
        t += PERIOD_S
        gap = cfg.envelope.stop_distance_m + (0.05 if i % 2 else -0.01)
        scan = wall(cfg.envelope.footprint_front_m + gap, t)
        state, _, _ = step(state, t, {"teleop": Command(0.1, 0.0, t)}, scan, cfg)
    assert dict(state.counts)["scan_stop"] == 1


def test_turning_in_place_is_allowed_unless_something_is_within_the_swing_radius():
    cfg = MuxConfig()
    r = cfg.envelope.swing_radius_m + cfg.envelope.side_margin_m
    turn = {"teleop": Command(0.0, 1.0, 0.1)}
    far = clearance(np.array([[0.0, r + 0.01], [r + 0.01, 0.0]]), 0.1, cfg.envelope)
    near = clearance(np.array([[-0.22, -0.18]]), 0.1, cfg.envelope)  # 0.28 m, by a back corner
    assert step(READY, 0.1, turn, far, cfg)[1].angular_rps > 0.0
    _, out, events = step(READY, 0.1, turn, near, cfg)
    assert out.angular_rps == 0.0 and events == ("scan_stop",)


def test_no_fresh_scan_means_no_motion_when_a_scan_is_required():
    cfg = MuxConfig()  # require_scan by default
    inputs = {"teleop": Command(0.2, 0.0, 2.0)}
    stale = wall(3.0, 0.5, cfg)  # 1.5 s old
    _, out, events = step(READY, 2.0, inputs, stale, cfg)
    assert out.linear_mps == 0.0 and events == ("scan_missing",)
    assert step(READY, 2.0, inputs, None, cfg)[1].linear_mps == 0.0


def test_scan_points_drop_the_lds01_no_return_zeros_and_out_of_range_values():
    ranges = [1.0, 0.0, math.inf, math.nan, 0.05, 4.0, 2.0]
    pts = scan_points(ranges, 0.0, math.pi / 2, 0.12, 3.5, (-0.024, 0.0))
    assert pts.shape == (2, 2)
    assert pts[0] == pytest.approx([0.976, 0.0]) and pts[1] == pytest.approx(
        [-2.024, 0.0], abs=1e-9
    )


def test_the_robots_own_parts_inside_the_footprint_are_ignored():
    c = clearance(np.array([[-0.1, 0.0], [0.05, 0.1]]), 0.0, EnvelopeConfig())
    assert (c.front_gap_m, c.back_gap_m, c.nearest_m) == (math.inf, math.inf, math.inf)


def test_a_continuous_intervention_counts_once():
    state, _, _ = run(CFG, MuxState(), {"teleop": Command(5.0, 0.0, 0.0)}, 0.0, 0.45)
    assert dict(state.counts)["limited_speed"] == 1


# ----------------------------------------------------------------- property: random streams
SOURCES = ("teleop", "autonomy", "stranger")  # "stranger" is not configured: ignored
WILD = st.one_of(
    st.floats(-0.5, 0.5),
    st.floats(-3.0, 3.0),
    st.sampled_from([0.0, math.nan, math.inf, -math.inf, 1e308, -1e308]),
    st.floats(allow_nan=True, allow_infinity=True),
)
POINT = st.tuples(st.floats(-1.5, 1.5), st.floats(-1.5, 1.5))
COMMAND = st.tuples(st.just("cmd"), st.sampled_from(SOURCES), WILD, WILD)
TICK = st.tuples(st.just("tick"))
SCAN = st.tuples(st.just("scan"), st.lists(POINT, max_size=12))
DRIVING = st.one_of(COMMAND, TICK, SCAN)
EVENT = st.one_of(  # now and then an e-stop (topic or service), a release or a reset
    DRIVING,
    st.tuples(st.sampled_from(["estop_topic", "estop_topic_off", "estop_service", "reset"])),
)
GAP_S = st.one_of(st.floats(0.0, 0.06), st.floats(0.0, 0.8))
STREAM = st.one_of(  # half the streams never see an e-stop, so that the robot gets to move
    st.lists(st.tuples(GAP_S, DRIVING), min_size=10, max_size=120),
    st.lists(st.tuples(GAP_S, EVENT), min_size=10, max_size=120),
)


def moves_into(points, out, cfg):
    """Oracle, written apart from the core: does `out` drive into a point inside the stop
    distance (ahead, behind) or turn with a point inside the swing radius?"""
    cfg = cfg.envelope
    hw, front, back = cfg.footprint_half_width_m, cfg.footprint_front_m, cfg.footprint_back_m
    for x, y in points:
        if -back <= x <= front and abs(y) <= hw:
            continue  # inside the footprint: the robot itself
        in_lane = abs(y) <= hw + cfg.side_margin_m
        if in_lane and x > front and x - front <= cfg.stop_distance_m and out.linear_mps > 0:
            return True
        if in_lane and x < -back and -back - x <= cfg.stop_distance_m and out.linear_mps < 0:
            return True
        if math.hypot(x, y) <= cfg.swing_radius_m + cfg.side_margin_m and out.angular_rps:
            return True
    return False


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=STREAM, require_scan=st.booleans())
def test_random_command_streams_never_break_the_safety_rules(stream, require_scan):
    cfg = MuxConfig(envelope=EnvelopeConfig(require_scan=require_scan))
    state, inputs, scan, points = MuxState(), {}, None, []
    latched = asserted = False  # the test's own model of the e-stop
    t, prev = 0.0, None
    for dt_s, event in stream:
        t += dt_s
        kind = event[0]
        if kind == "cmd":
            inputs[event[1]] = Command(event[2], event[3], t)
        elif kind == "scan":
            points = event[1]
            scan = clearance(np.array(points, dtype=float).reshape(-1, 2), t, cfg.envelope)
        elif kind.startswith("estop_topic"):
            asserted = kind == "estop_topic"
            state = on_estop_topic(state, asserted)
            latched = latched or asserted
        elif kind == "estop_service":
            state, latched = latch_estop(state, "service"), True
        elif kind == "reset":
            state, ok, _ = reset_estop(state)
            assert ok == (not asserted)
            latched = latched and asserted
        state, out, events = step(state, t, inputs, scan, cfg)

        assert math.isfinite(out.linear_mps) and math.isfinite(out.angular_rps)
        assert abs(out.linear_mps) <= cfg.max_linear_mps
        assert abs(out.angular_rps) <= cfg.max_angular_rps
        assert state.estop_latched == latched
        if latched:
            assert (out.linear_mps, out.angular_rps) == (0.0, 0.0)
        fresh = scan is not None and 0.0 <= t - scan.stamp_s <= cfg.envelope.scan_timeout_s
        if fresh:
            assert not moves_into(points, out, cfg), (points, out)
        elif require_scan:
            assert (out.linear_mps, out.angular_rps) == (0.0, 0.0)
        if prev is not None:
            dt_eff = min(t - prev.stamp_s, cfg.max_step_s)
            for new, old, limit in (
                (out.linear_mps, prev.linear_mps, cfg.max_linear_accel_mps2),
                (out.angular_rps, prev.angular_rps, cfg.max_angular_accel_rps2),
            ):
                if abs(new - old) > limit * dt_eff + 1e-9:  # only braking may beat the limit
                    assert may_brake_hard(state.conditions), (old, new, state.conditions)
                    assert abs(new) <= abs(old) and new * old >= 0.0, (old, new)
        assert state.intervention_count == sum(n for _, n in state.counts)
        assert set(events) <= state.conditions
        prev = out
