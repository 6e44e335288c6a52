"""input_player: replays a scripted gamepad on /joy (sensor_msgs/Joy), as `joy_node` would publish it.

    ros2 run teleop_pkg input_player --ros-args -p use_sim_time:=true \
        -p script:="1.0 0 0; 3.0 1.0 0 deadman; 1.0 0 0"

The script format is in `teleop_pkg/input_script.py`. Time 0 is the first tick at which the node's
clock reads a time (under use_sim_time: once /clock has arrived); the timer runs on the node's
clock, so under use_sim_time it follows simulated time. After the script it keeps publishing
centred sticks and no buttons, like a pad left on the desk.
"""

from __future__ import annotations

import sys

import rclpy
from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from sensor_msgs.msg import Joy

from teleop_pkg.input_script import joy_at, parse_script, script_duration_s


def declare_player_parameters(node) -> tuple[str, float]:
    """(script, rate_hz), declared on `node` (or on common_pkg's GivenParameters: the ROS-free
    tour forecast then refuses what this node would)."""
    script = node.declare_parameter(
        "script",
        "",
        ParameterDescriptor(description="SECONDS LINEAR ANGULAR [deadman] [turbo]; ..."),
    ).value
    rate_hz = node.declare_parameter(
        "rate_hz",
        20.0,  # joy_node's default autorepeat_rate
        ParameterDescriptor(
            description="Joy messages per second (of the node's clock)",
            floating_point_range=[FloatingPointRange(from_value=1.0, to_value=100.0)],
        ),
    ).value
    return str(script), float(rate_hz)


class InputPlayer(Node):
    def __init__(self):
        super().__init__("input_player")
        script, rate_hz = declare_player_parameters(self)
        self.segments = parse_script(script)  # ValueError: located and bilingual
        self.start_ns: int | None = None
        self.finished = False
        # Reliable, like joy_node: a released deadman must not be dropped.
        self.joy_pub = self.create_publisher(Joy, "/joy", 10)
        self.create_timer(1.0 / rate_hz, self.on_timer)
        self.get_logger().info(
            f"{len(self.segments)} segments, {script_duration_s(self.segments):.1f} s "
            "/ 게임패드 입력을 재생합니다"
        )

    def on_timer(self) -> None:
        now = self.get_clock().now()
        if now.nanoseconds == 0:
            return  # use_sim_time and no /clock yet
        if self.start_ns is None:
            self.start_ns = now.nanoseconds
        t = (now.nanoseconds - self.start_ns) * 1e-9
        axes, buttons = joy_at(self.segments, t)
        msg = Joy(axes=axes, buttons=buttons)
        msg.header.stamp = now.to_msg()
        msg.header.frame_id = "joy"
        self.joy_pub.publish(msg)
        if not self.finished and t >= script_duration_s(self.segments):
            self.finished = True
            self.get_logger().info("script finished / 입력 스크립트가 끝났습니다")


def main(args=None):
    rclpy.init(args=args)
    try:
        node = InputPlayer()
    except ValueError as error:  # a bad script: one clear line, not a traceback
        print(error, file=sys.stderr)
        rclpy.shutdown()
        sys.exit(2)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()


if __name__ == "__main__":
    main()
