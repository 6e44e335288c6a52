"""joy_teleop: drive the robot with a gamepad, from the sensor_msgs/Joy of the standard `joy` node.

    ros2 run joy joy_node
    ros2 run teleop_pkg teleop_joy --ros-args --params-file config/teleop/gamepads.yaml
    (add -r /cmd_vel_teleop:=/cmd_vel to drive the base directly, without the safety mux)

The mapping (axes, deadman and turbo buttons, scales, deadzone) comes from parameters; the
params file has sections for common pads. While the deadman is held it publishes the command at
`publish_rate_hz` (20 Hz), from the latest /joy. When the deadman is released it publishes one
zero, then stays quiet, as teleop_twist_joy does: the safety mux then hands the robot back to the
other sources, and its watchdog stops the base if nothing else drives it. If /joy goes silent
for `joy_timeout_s` while the deadman is held (joy_node died, the pad's radio dropped out) it also
sends one zero and goes quiet. joy_node republishes at its `autorepeat_rate` (20 Hz by default)
while a button is held: keep it above 1 / joy_timeout_s.
"""

from __future__ import annotations

import time

import rclpy
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from sensor_msgs.msg import Joy

from common_pkg.profile import DEFAULT_PROFILE, load_profile
from common_pkg.ros.cmd_vel import declare_cmd_vel_type, make_cmd_vel
from teleop_pkg.joystick import STOPPED, JoyCommand, JoyConfig, joy_to_command, missing_inputs

_DESCRIPTIONS = {
    "axis_linear": "Joy axis for forward/backward (0-based)",
    "axis_angular": "Joy axis for turning, left positive (0-based)",
    "enable_button": "deadman button: the robot moves only while it is held",
    "turbo_button": "turbo button, -1 for none",
    "scale_linear_mps": "linear velocity at full stick, m/s",
    "scale_angular_rps": "angular velocity at full stick, rad/s",
    "scale_linear_turbo_mps": "linear velocity at full stick with turbo, m/s",
    "scale_angular_turbo_rps": "angular velocity at full stick with turbo, rad/s",
    "deadzone": "fraction of the stick travel ignored around the centre, [0, 1)",
}


class JoyTeleop(Node):
    def __init__(self):
        super().__init__("joy_teleop")
        profile = load_profile(self.declare_parameter("robot_profile", DEFAULT_PROFILE).value)
        defaults = JoyConfig()
        params = {
            name: self.declare_parameter(
                name, getattr(defaults, name), ParameterDescriptor(description=text)
            ).value
            for name, text in _DESCRIPTIONS.items()
        }
        # Scales may be lowered by parameters, never raised past the robot's limits.
        self.cfg = JoyConfig.from_params(params).limited(
            profile.max_linear_mps, profile.max_angular_rps
        )
        self.joy_timeout_s = float(self.declare_parameter("joy_timeout_s", 0.5).value)
        topic = self.declare_parameter("cmd_vel_topic", "/cmd_vel_teleop").value
        self.msg_type = declare_cmd_vel_type(self, profile)  # Twist on Humble
        self.frame_id = profile.base_frame_id
        self.cmd_pub = self.create_publisher(self.msg_type, topic, 10)
        # Reliable, like joy_node's publisher: a deadman release must not be dropped.
        self.create_subscription(Joy, "/joy", self.on_joy, 10)
        self.command: JoyCommand = STOPPED
        self.last_joy_s = -float("inf")
        self.warned_missing = False
        rate_hz = float(self.declare_parameter("publish_rate_hz", 20.0).value)
        self.create_timer(1.0 / rate_hz, self.on_timer)
        self.get_logger().info(
            f"deadman button {self.cfg.enable_button}, turbo {self.cfg.turbo_button}, "
            f"axes {self.cfg.axis_linear}/{self.cfg.axis_angular} -> {self.cmd_pub.topic_name} "
            "/ 데드맨 버튼을 누르고 있어야 움직입니다"
        )

    def on_joy(self, msg: Joy) -> None:
        missing = missing_inputs(len(msg.axes), len(msg.buttons), self.cfg)
        if missing and not self.warned_missing:
            self.warned_missing = True
            self.get_logger().warn(
                f"this pad has no {', '.join(missing)} (axes {len(msg.axes)}, buttons "
                f"{len(msg.buttons)}): check the params file / 패드 설정을 확인하세요"
            )
        command = joy_to_command(msg.axes, msg.buttons, self.cfg)
        if self.command.enabled and not command.enabled:
            self.publish(0.0, 0.0)  # deadman released: stop at once, then stay quiet
        self.command = command
        self.last_joy_s = time.monotonic()

    def on_timer(self) -> None:
        if not self.command.enabled:
            return
        if time.monotonic() - self.last_joy_s > self.joy_timeout_s:
            self.get_logger().warn("/joy went silent: stopping / 조이스틱 신호가 끊겨 정지합니다")
            self.command = STOPPED
            self.publish(0.0, 0.0)
            return
        self.publish(self.command.linear_mps, self.command.angular_rps)

    def publish(self, linear_mps: float, angular_rps: float) -> None:
        stamp = self.get_clock().now().to_msg()
        self.cmd_pub.publish(
            make_cmd_vel(self.msg_type, linear_mps, angular_rps, stamp, self.frame_id)
        )


def main(args=None):
    rclpy.init(args=args)
    node = JoyTeleop()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node.command.enabled and rclpy.ok():  # after SIGINT/SIGTERM the context is gone
            node.publish(0.0, 0.0)
        node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()


if __name__ == "__main__":
    main()
