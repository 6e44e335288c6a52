"""The safety_mux node in its own process, driven from this one over DDS (real rclpy)."""

from pathlib import Path

import yaml
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
from rclpy.qos import DurabilityPolicy, QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import LaserScan
from std_msgs.msg import Bool, UInt32
from std_srvs.srv import Trigger

from teleop_pkg.scan_envelope import EnvelopeConfig, scan_points

MUX = "teleop_pkg.nodes.safety_mux_node"
SCENARIO = Path(__file__).resolve().parents[2] / "curriculum_pkg/scenarios/banwol_plating_01.yaml"
LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
NO_SCAN = {"require_scan": False}  # these tests are about sources, not obstacles


def twist(linear_mps: float, node) -> TwistStamped:
    msg = TwistStamped()
    msg.header.stamp = node.get_clock().now().to_msg()
    msg.twist.linear.x = linear_mps
    return msg


def call(node, client, timeout_s=10.0):
    assert client.wait_for_service(timeout_sec=30), f"{client.srv_name} never appeared"
    future = client.call_async(Trigger.Request())
    assert node.spin_until(future.done, timeout_s), f"{client.srv_name}: no answer"
    return future.result()


def stamp_s(msg) -> float:
    return msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9


def test_watchdog_stops_the_robot_within_its_timeout_after_the_source_falls_silent(
    ros_process, ros_node
):
    timeout_s, rate_hz = 0.5, 20.0
    ros_process(MUX, params={**NO_SCAN, "autonomy.timeout_s": timeout_s, "rate_hz": rate_hz})
    out: list[TwistStamped] = []
    ros_node.create_subscription(TwistStamped, "/cmd_vel", out.append, 10)
    pub = ros_node.create_publisher(TwistStamped, "/cmd_vel_autonomy", 10)
    assert ros_node.spin_until(lambda: pub.get_subscription_count() > 0 and out, 30)
    for _ in range(20):  # 1 s at 20 Hz: up the acceleration ramp to 0.2 m/s
        pub.publish(twist(0.2, ros_node))
        ros_node.spin_until(lambda: False, 0.05)
    last_input_s = ros_node.get_clock().now().nanoseconds * 1e-9
    assert out[-1].twist.linear.x > 0.1
    seen = len(out)
    ros_node.spin_until(lambda: False, 1.2)  # silence
    after = out[seen:]
    moving = [m for m in after if m.twist.linear.x != 0.0]
    first_stop = next(i for i, m in enumerate(after) if m.twist.linear.x == 0.0)
    assert all(m.twist.linear.x == 0.0 for m in after[first_stop:])  # and it stays stopped
    # The mux keeps publishing at 20 Hz: within the 0.5 s timeout at most 10 outputs still move,
    # one more for the output period and one already in flight when the input stopped.
    assert len(moving) <= timeout_s * rate_hz + 2
    # Both clocks are this machine's system time; a generous margin for a loaded CI box.
    assert stamp_s(after[first_stop]) - last_input_s < timeout_s + 1.0 / rate_hz + 0.5


def test_estop_latches_by_service_and_by_topic_holds_against_a_flood_and_reset_clears_it(
    ros_process, ros_node
):
    ros_process(MUX, params=NO_SCAN)
    out: list[TwistStamped] = []
    counts: list[int] = []
    levels: list[bytes] = []
    ros_node.create_subscription(TwistStamped, "/cmd_vel", out.append, 10)
    ros_node.create_subscription(
        UInt32, "/safety/interventions", lambda m: counts.append(m.data), LATCHED
    )
    ros_node.create_subscription(
        DiagnosticArray, "/diagnostics", lambda m: levels.extend(s.level for s in m.status), 10
    )
    teleop = ros_node.create_publisher(TwistStamped, "/cmd_vel_teleop", 10)
    estop_topic = ros_node.create_publisher(Bool, "/safety/estop", 10)
    estop = ros_node.create_client(Trigger, "/safety/estop")
    reset = ros_node.create_client(Trigger, "/safety/reset")
    ros_node.create_timer(0.005, lambda: teleop.publish(twist(0.2, ros_node)))  # 200 Hz flood

    def moving() -> bool:
        return ros_node.spin_until(lambda: out and out[-1].twist.linear.x > 0.1, 10)

    def holds_stopped(seconds=0.6) -> bool:
        ros_node.spin_until(lambda: False, 0.2)  # outputs already in flight
        seen = len(out)
        ros_node.spin_until(lambda: False, seconds)
        return len(out) > seen + 10 and all(m.twist.linear.x == 0.0 for m in out[seen:])

    assert ros_node.spin_until(lambda: estop_topic.get_subscription_count() > 0, 30)
    assert moving()
    answer = call(ros_node, estop)
    assert answer.success and "e-stop latched" in answer.message
    assert holds_stopped()
    assert ros_node.spin_until(lambda: DiagnosticStatus.ERROR in levels, 5)
    assert call(ros_node, reset).success
    assert moving()

    estop_topic.publish(Bool(data=True))  # a wireless e-stop button, held down
    assert holds_stopped()
    refused = call(ros_node, reset)
    assert not refused.success and "still asserts" in refused.message
    assert holds_stopped(0.3)
    estop_topic.publish(Bool(data=False))  # released: still latched until reset
    assert holds_stopped(0.3)
    assert call(ros_node, reset).success
    assert moving()
    assert ros_node.spin_until(lambda: counts and counts[-1] >= 2, 5)  # both e-stops counted


def test_scan_envelope_stops_the_simulated_robot_before_a_wall(ros_process, ros_node, tmp_path):
    cfg, bumper_to_wall_m = EnvelopeConfig(), 1.5
    scenario = yaml.safe_load(SCENARIO.read_text())
    # Facing the west wall (its face at x = 0), clear of every obstacle in between.
    start_x_m = bumper_to_wall_m + cfg.footprint_front_m
    scenario["robot_start"] = {"position_m": [start_x_m, 4.0], "yaw_deg": 180}
    world = tmp_path / "facing_wall.yaml"
    world.write_text(yaml.safe_dump(scenario, allow_unicode=True))
    ros_process("sim_pkg.nodes.bridge_node", params={"scenario": world, "real_time_factor": 2.0})
    ros_process(MUX, params={"use_sim_time": True})

    odom_x: list[float] = []  # odom starts at the start pose, +x ahead
    scan_gaps: list[float] = []  # bumper to the nearest return in the corridor ahead

    def on_scan(msg: LaserScan) -> None:
        p = scan_points(msg.ranges, msg.angle_min, msg.angle_increment, 0.12, 3.5)
        ahead = p[(p[:, 0] > cfg.footprint_front_m) & (abs(p[:, 1]) <= cfg.footprint_half_width_m)]
        if len(ahead):
            scan_gaps.append(float(ahead[:, 0].min()) - cfg.footprint_front_m)

    ros_node.create_subscription(
        Odometry, "/odom", lambda m: odom_x.append(m.pose.pose.position.x), 10
    )
    ros_node.create_subscription(LaserScan, "/scan", on_scan, qos_profile_sensor_data)
    pub = ros_node.create_publisher(TwistStamped, "/cmd_vel_autonomy", 10)
    assert ros_node.spin_until(lambda: pub.get_subscription_count() > 0 and odom_x, 30)
    ros_node.create_timer(0.05, lambda: pub.publish(twist(0.26, ros_node)))  # full ahead, always

    def stopped() -> bool:
        mark = len(odom_x)
        ros_node.spin_until(lambda: False, 0.5)  # 1 s of sim time
        return odom_x[-1] > 0.5 and abs(odom_x[-1] - odom_x[mark - 1]) < 0.002

    assert ros_node.spin_until(stopped, 60), f"never stopped; odom x {odom_x[-1]:.3f} m"
    gap_m = bumper_to_wall_m - odom_x[-1]
    assert cfg.stop_distance_m < gap_m < cfg.stop_distance_m + 0.1, gap_m
    assert min(scan_gaps) > cfg.stop_distance_m - 0.03  # never closer: no collision
