"""safety_mux: the one node between every velocity source and the robot's /cmd_vel.

Subscribes /cmd_vel_teleop, /cmd_vel_autonomy (TwistStamped on Jazzy, Twist on Humble: $ROS_DISTRO),
           /safety/estop (std_msgs/Bool, true = stop), /scan (best effort)
Services   /safety/estop (std_srvs/Trigger: latch), /safety/reset (std_srvs/Trigger: clear, refused
           while the topic still asserts true)
Publishes  /cmd_vel at rate_hz (zero when no source is valid), and at once on a new input
           (publish_on_input); /diagnostics (diagnostic_msgs/DiagnosticArray) at 1 Hz;
           /safety/interventions (std_msgs/UInt32, latched: the running count of safety
           interventions, `MuxState.safety_interventions`; the per-kind totals of every event,
           ramping and slowing included, are in /diagnostics)

Every decision is `teleop_pkg.safety_mux.step()`; see its docstring for the rules, and
`nodes/safety_mux_params.py` for the parameters (sources, limits, footprint, distances). Times are
the node clock's (sim time under use_sim_time); commands and scans are stamped when they arrive.

A student node publishing /cmd_vel goes behind the mux with a remap: -r /cmd_vel:=/cmd_vel_autonomy.
E-stop from a terminal: `ros2 service call /safety/estop std_srvs/srv/Trigger`; a button that
published true must publish false before `ros2 service call /safety/reset std_srvs/srv/Trigger`.
"""

from __future__ import annotations

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import LaserScan
from std_msgs.msg import Bool, UInt32
from std_srvs.srv import Trigger

from common_pkg.ros.cmd_vel import cmd_vel_type, make_cmd_vel, read_cmd_vel
from teleop_pkg import safety_mux as mux
from teleop_pkg.nodes.safety_mux_params import declare_mux_parameters
from teleop_pkg.scan_envelope import Clearance, clearance, scan_points

LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
QUIET_EVENTS = ("limited_speed", "limited_accel")  # routine: logged at debug level only


class SafetyMux(Node):
    def __init__(self):
        super().__init__("safety_mux")
        self.settings = declare_mux_parameters(self)
        self.cfg = self.settings.cfg
        self.state = mux.MuxState()
        self.inputs: dict[str, mux.Command] = {}
        self.scan: Clearance | None = None
        self.msg_type = cmd_vel_type(self.settings.stamped)
        self.cmd_pub = self.create_publisher(self.msg_type, "/cmd_vel", 10)
        self.diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.count_pub = self.create_publisher(UInt32, "/safety/interventions", LATCHED)
        for name, topic in self.settings.topics.items():
            self.create_subscription(
                self.msg_type, topic, lambda msg, name=name: self.on_command(name, msg), 10
            )
        self.create_subscription(Bool, "/safety/estop", self.on_estop_topic, 10)
        self.create_subscription(LaserScan, "/scan", self.on_scan, qos_profile_sensor_data)
        self.create_service(Trigger, "/safety/estop", self.on_estop_service)
        self.create_service(Trigger, "/safety/reset", self.on_reset_service)
        self.create_timer(1.0 / self.settings.rate_hz, self.publish_step)
        self.create_timer(1.0 / self.settings.diagnostics_rate_hz, self.publish_diagnostics)
        self.count_pub.publish(UInt32(data=0))
        sources = ", ".join(f"{s.name}>{s.priority}" for s in self.cfg.sources)
        self.get_logger().info(
            f"안전 먹스 시작 / safety mux up: sources {sources}, "
            f"{self.cfg.max_linear_mps} m/s, {self.cfg.max_linear_accel_mps2} m/s^2, "
            f"stop at {self.cfg.envelope.stop_distance_m} m"
        )

    def now_s(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def on_command(self, name: str, msg) -> None:
        self.inputs[name] = mux.Command(*read_cmd_vel(msg), self.now_s())
        if self.settings.publish_on_input:
            self.publish_step()

    def on_scan(self, msg: LaserScan) -> None:
        points = scan_points(
            msg.ranges,
            msg.angle_min,
            msg.angle_increment,
            msg.range_min,
            msg.range_max,
            self.settings.lidar_xy_m,
        )
        # Stamped on arrival: the sensor's own clock may not be ours (a robot without NTP).
        self.scan = clearance(points, self.now_s(), self.cfg.envelope)

    def on_estop_topic(self, msg: Bool) -> None:
        was = self.state.estop_latched
        self.state = mux.on_estop_topic(self.state, msg.data)
        if self.state.estop_latched and not was:
            self.get_logger().error("비상 정지 걸림 / e-stop latched (topic /safety/estop)")
            self.publish_step()

    def on_estop_service(self, request, response):
        was = self.state.estop_latched
        self.state = mux.latch_estop(self.state, "service")
        if not was:
            self.get_logger().error("비상 정지 걸림 / e-stop latched (service /safety/estop)")
        self.publish_step()
        response.success, response.message = True, "비상 정지 걸림 / e-stop latched"
        return response

    def on_reset_service(self, request, response):
        self.state, response.success, response.message = mux.reset_estop(self.state)
        if response.success:  # rclpy ties one severity to each logging call site
            self.get_logger().info(response.message)
        else:
            self.get_logger().warning(response.message)
        self.publish_diagnostics()
        return response

    def publish_step(self) -> None:
        count = self.state.safety_interventions
        self.state, out, events = mux.step(
            self.state, self.now_s(), self.inputs, self.scan, self.cfg
        )
        self.publish_command(out.linear_mps, out.angular_rps)
        for event in events:
            text = f"개입 / intervention: {event} (total {self.state.intervention_count})"
            if event in QUIET_EVENTS:
                self.get_logger().debug(text)
            else:
                self.get_logger().warning(text)
        if self.state.safety_interventions != count:
            self.count_pub.publish(UInt32(data=self.state.safety_interventions % 2**32))

    def publish_command(self, linear_mps: float, angular_rps: float) -> None:
        stamp = self.get_clock().now().to_msg()
        self.cmd_pub.publish(
            make_cmd_vel(self.msg_type, linear_mps, angular_rps, stamp, self.settings.frame_id)
        )

    def publish_diagnostics(self) -> None:
        level, message, values = mux.summarize(self.state)
        status = DiagnosticStatus(
            level=bytes([level]),
            name="safety_mux: velocity safety mux",
            message=message,
            hardware_id=self.get_namespace().strip("/") or "robot",
            values=[KeyValue(key=k, value=v) for k, v in values.items()],
        )
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self.diag_pub.publish(array)
        self.count_pub.publish(UInt32(data=self.state.safety_interventions % 2**32))


def main(args=None):
    rclpy.init(args=args)
    node = SafetyMux()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if rclpy.ok():
            node.publish_command(0.0, 0.0)  # leave the robot stopped
        node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()


if __name__ == "__main__":
    main()
