"""teleop (시작 코드 / starter): 토픽 연결은 끝나 있습니다. joy_callback()과 on_timer()를 채워 보세요.

The wiring is done: this node subscribes to /joy and publishes /cmd_vel_teleop ten times a second.
Right now it always publishes "stop". Fill in joy_callback() and on_timer().

게임패드(Xbox) / the pad (Xbox):
  axes[1]    왼쪽 스틱 위/아래, 위가 +1 (전진) / left stick up/down, up is +1 (forward)
  axes[0]    왼쪽 스틱 좌/우, 왼쪽이 +1 (왼쪽 회전) / left stick left/right, left is +1 (turn left)
  buttons[4] LB: 데드맨 버튼, 누르고 있는 동안만 움직입니다 / deadman: move only while it is held
  buttons[5] RB: 터보 버튼 / turbo
"""

import os

import rclpy
from geometry_msgs.msg import Twist, TwistStamped
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from sensor_msgs.msg import Joy

SCALE_LINEAR_MPS = 0.13  # 스틱을 끝까지 밀었을 때 / at full stick
SCALE_ANGULAR_RPS = 0.9
SCALE_LINEAR_TURBO_MPS = 0.26  # 터보 / with turbo
SCALE_ANGULAR_TURBO_RPS = 1.82


class Teleop(Node):
    def __init__(self):
        super().__init__("teleop")
        # Jazzy는 TwistStamped, Humble은 Twist: 로봇의 setup.bash(와 채점기)가 ROS_DISTRO를 정합니다.
        # Jazzy takes TwistStamped, Humble Twist: ROS_DISTRO comes from setup.bash (and the grader).
        stamped = self.declare_parameter(
            "use_stamped_cmd_vel", os.environ.get("ROS_DISTRO") != "humble"
        ).value
        self.msg_type = TwistStamped if stamped else Twist
        self.cmd_pub = self.create_publisher(self.msg_type, "/cmd_vel_teleop", 10)
        self.create_subscription(Joy, "/joy", self.joy_callback, 10)
        self.joy = None  # the latest sensor_msgs/Joy
        self.create_timer(0.1, self.on_timer)

    def joy_callback(self, msg: Joy) -> None:
        self.joy = msg
        # TODO: 데드맨 버튼(buttons[4])을 누르고 있는지 확인하세요. 움직이다가 손을 떼면 바로 0을 보내세요.
        # TODO: is the deadman (buttons[4]) held? When it is released while driving, send a zero now.

    def on_timer(self) -> None:
        linear, angular = 0.0, 0.0
        # TODO: 데드맨 버튼을 누르고 있을 때만 스틱 × 배율로 움직이세요 (터보면 터보 배율).
        #       데드맨을 놓고 0을 한 번 보낸 뒤에는 아무것도 보내지 않아도 됩니다.
        # TODO: only while the deadman is held, drive at stick × scale (the turbo scales with turbo).
        #       Once the deadman is released and a zero has gone out, you may send nothing.
        self.publish(linear, angular)

    def publish(self, linear: float, angular: float) -> None:
        msg = self.msg_type()
        twist = msg.twist if isinstance(msg, TwistStamped) else msg
        if isinstance(msg, TwistStamped):
            msg.header.stamp = self.get_clock().now().to_msg()
            msg.header.frame_id = "base_footprint"
        twist.linear.x = float(linear)
        twist.angular.z = float(angular)
        self.cmd_pub.publish(msg)


def main(args=None):
    rclpy.init(args=args)
    node = Teleop()
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
