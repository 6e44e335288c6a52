"""teleop_keyboard: drive the robot from a terminal with ROBOTIS' turtlebot3_teleop keys.

Run it in a terminal of its own; it reads single key presses (w/x, a/d, space or s, CTRL-C):

    ros2 run teleop_pkg teleop_keyboard                  # through the safety mux: /cmd_vel_teleop
    ros2 run teleop_pkg teleop_keyboard --ros-args -r /cmd_vel_teleop:=/cmd_vel   # straight to the base

/cmd_vel is TwistStamped on Jazzy and Twist on Humble, following $ROS_DISTRO (common_pkg.distro);
`-p use_stamped_cmd_vel:=false|true` overrides it.

While a speed is set it publishes at `publish_rate_hz` (10 Hz, ROBOTIS' loop rate), so the mux's
watchdog sees a live source. Once stopped it sends one zero and goes quiet, which lets the other
sources through the mux. The terminal's settings are saved first and restored last, whatever ends
the program: CTRL-C, SIGTERM or an exception.
"""

from __future__ import annotations

import codecs
import os
import select
import signal
import sys
import termios
import time
import tty

import rclpy
from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
from rclpy.duration import Duration
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from common_pkg.profile import DEFAULT_PROFILE, load_profile
from common_pkg.ros.cmd_vel import declare_cmd_vel_type, make_cmd_vel
from teleop_pkg.keyboard import (
    ANGULAR_STEP_RPS,
    LINEAR_STEP_MPS,
    KeyAction,
    KeyboardConfig,
    TeleopState,
    action_for_key,
    apply_action,
    help_text,
    ramp,
    status_line,
)

HELP_EVERY_N_KEYS = 20  # ROBOTIS prints the help again every 20 keys, so it stays on screen


class KeyboardTeleop(Node):
    def __init__(self):
        super().__init__("teleop_keyboard")
        profile = load_profile(self.declare_parameter("robot_profile", DEFAULT_PROFILE).value)
        # Parameters may lower the limits, never raise them past the robot's.
        self.cfg = KeyboardConfig(
            max_linear_mps=min(
                self._float("max_linear_mps", profile.max_linear_mps, "speed limit, m/s"),
                profile.max_linear_mps,
            ),
            max_angular_rps=min(
                self._float("max_angular_rps", profile.max_angular_rps, "turn limit, rad/s"),
                profile.max_angular_rps,
            ),
            linear_step_mps=self._float("linear_step_mps", LINEAR_STEP_MPS, "m/s per w/x key"),
            angular_step_rps=self._float("angular_step_rps", ANGULAR_STEP_RPS, "rad/s per a/d"),
            linear_ramp_mps2=self._float("linear_ramp_mps2", 0.05, "ramp, m/s^2 (0: none)"),
            angular_ramp_rps2=self._float("angular_ramp_rps2", 0.5, "ramp, rad/s^2 (0: none)"),
        )
        self.period_s = 1.0 / self._float("publish_rate_hz", 10.0, "rate while moving, Hz", 1.0)
        topic = self.declare_parameter("cmd_vel_topic", "/cmd_vel_teleop").value
        self.msg_type = declare_cmd_vel_type(self, profile)  # Twist on Humble
        self.frame_id = profile.base_frame_id
        self.cmd_pub = self.create_publisher(self.msg_type, topic, 10)
        self.topic = self.cmd_pub.topic_name  # after remapping, as the operator should see it
        self.state = TeleopState()
        self.moving_sent = False  # a non-zero command went out and no zero since
        self.keys_shown = 0

    def _float(self, name: str, default: float, text: str, min_value: float = 0.0) -> float:
        rng = FloatingPointRange(from_value=min_value, to_value=100.0)
        desc = ParameterDescriptor(description=text, floating_point_range=[rng])
        return float(self.declare_parameter(name, float(default), desc).value)

    def on_action(self, action: KeyAction) -> None:
        """One bound key: new target, shown on screen; a stop goes out at once."""
        self.state = apply_action(self.state, action, self.cfg)
        if action is KeyAction.STOP:
            self.publish(0.0, 0.0)
        self.keys_shown += 1
        if self.keys_shown % HELP_EVERY_N_KEYS == 0:
            print(help_text(self.cfg, self.topic), flush=True)
        print(status_line(self.state, self.cfg), flush=True)

    def tick(self, dt_s: float) -> None:
        """Every period: ramp the command; send it while moving, then one zero."""
        self.state = ramp(self.state, dt_s, self.cfg)
        if not self.state.is_stopped:
            self.publish(self.state.linear_mps, self.state.angular_rps)
        elif self.moving_sent:
            self.publish(0.0, 0.0)

    def stop(self) -> None:
        """On exit: a last zero if the robot may still be moving (ROBOTIS does the same)."""
        if self.moving_sent:
            self.publish(0.0, 0.0)
            self.cmd_pub.wait_for_all_acked(Duration(seconds=0.5))

    def publish(self, linear_mps: float, angular_rps: float) -> None:
        stamp = self.get_clock().now().to_msg()
        self.cmd_pub.publish(
            make_cmd_vel(self.msg_type, linear_mps, angular_rps, stamp, self.frame_id)
        )
        self.moving_sent = bool(linear_mps or angular_rps)


class StopRequest:
    """The SIGINT (CTRL-C) and SIGTERM handler: it sets a flag that the key loop checks every
    tick. An exception raised from a handler can be swallowed (inside a finalizer, for one) and
    leave the robot driving; a flag cannot. A second signal raises, for a loop that is stuck."""

    def __init__(self):
        self.signal_name: str | None = None

    def __call__(self, signum, frame) -> None:
        if self.signal_name is not None:
            raise KeyboardInterrupt
        self.signal_name = signal.Signals(signum).name


def read_key(fd: int, decoder: codecs.IncrementalDecoder, timeout_s: float) -> str:
    """One typed character, or "" if none came within `timeout_s` (or it is still incomplete:
    a Hangul jamo is three UTF-8 bytes). Reads the file descriptor byte by byte, so nothing
    waits in Python's buffer where select() cannot see it."""
    ready, _, _ = select.select([fd], [], [], max(timeout_s, 0.0))
    if not ready:
        return ""
    data = os.read(fd, 1)
    if not data:
        raise EOFError("the terminal was closed / 터미널이 닫혔습니다")
    return decoder.decode(data)


def run(node: KeyboardTeleop, fd: int, stop: StopRequest) -> None:
    """Read keys and publish until CTRL-C (SIGINT, or the key itself in a raw terminal) or
    SIGTERM."""
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")
    print(help_text(node.cfg, node.topic), flush=True)
    print(status_line(node.state, node.cfg), flush=True)
    last_tick = time.monotonic()
    while rclpy.ok() and stop.signal_name is None:
        key = read_key(fd, decoder, last_tick + node.period_s - time.monotonic())
        action = action_for_key(key) if key else None
        if action is KeyAction.QUIT:
            return
        if action is not None:
            node.on_action(action)
        now = time.monotonic()
        if now - last_tick >= node.period_s:
            node.tick(now - last_tick)
            last_tick = now
            executor.spin_once(timeout_sec=0.0)  # parameter services and the like


def main(args=None):
    if not sys.stdin.isatty():
        print(
            "teleop_keyboard는 터미널에서 직접 실행해야 합니다 (키 입력을 읽습니다).\n"
            "teleop_keyboard must run in a terminal: it reads key presses.",
            file=sys.stderr,
        )
        sys.exit(2)
    fd = sys.stdin.fileno()
    saved_terminal = termios.tcgetattr(fd)
    stop = StopRequest()  # rclpy's own handlers are off: ours only set a flag
    previous_handlers = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    node = None
    try:
        rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
        tty.setcbreak(fd)  # one key at a time, no echo; CTRL-C still sends SIGINT
        node = KeyboardTeleop()
        run(node, fd, stop)
    except (KeyboardInterrupt, EOFError):
        pass
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved_terminal)  # first, whatever happens next
        if node is not None:
            node.stop()
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)
        print("\n끝 / bye", flush=True)


if __name__ == "__main__":
    main()
