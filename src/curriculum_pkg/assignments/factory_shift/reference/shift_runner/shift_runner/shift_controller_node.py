"""shift_controller: works through the shift's jobs (shift.py) on /scan, /odom and the mission.

Driving is gap steering on the lidar (steering.py) towards the next point of a way round the
keep-out zones (site_map.py), slowed or held by the worker-crossing rules (movers.py). The arm
work goes to the platform's arm_commander on /pick_place/request, in base_link; the inspection
verdict is the inspection_reporter's job: this node only faces the display and waits until a
report goes out on /inspection/report.
"""

import math
import os
from collections import deque

import numpy as np
import rclpy
from diagnostic_msgs.msg import KeyValue
from geometry_msgs.msg import Pose, PoseArray, Twist, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import LaserScan
from std_msgs.msg import String

from shift_runner import shift
from shift_runner.movers import (
    CrossingConfig,
    Mover,
    decide,
    lane_from_map,
    measure_speeds,
    update_lanes,
)
from shift_runner.site_map import fit_rigid_2d, grown_rectangle, route_around, to_odom, worst_fit_m
from shift_runner.steering import SteeringConfig, scan_points, steer

SPEED_WINDOW_S = 0.6  # measure movers' speeds against the sighting this long ago


def yaw_of(q) -> float:
    return math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))


def stamp_s(stamp) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


class ShiftController(Node):
    def __init__(self):
        super().__init__("shift_controller")
        param = self.declare_parameter
        self.cfg = SteeringConfig(
            half_width_m=float(param("robot_half_width_m", 0.3).value),
            max_linear_mps=float(param("max_linear_mps", 0.22).value),
        )
        self.crossing_cfg = CrossingConfig(
            stop_distance_m=float(param("lane_stop_distance_m", 1.0).value),
            in_lane_m=float(param("lane_in_m", 0.6).value),
            near_m=float(param("mover_near_m", 1.1).value),
        )
        self.arrive_m = float(param("arrive_radius_m", 0.10).value)
        self.approach_m = float(param("approach_distance_m", 0.4).value)
        self.zone_margin_m = float(param("zone_margin_m", 0.45).value)
        self.base_link_height_m = float(param("base_link_height_m", 0.010).value)
        self.sensor_x_m = float(param("lidar_x_offset_m", -0.024).value)
        # The site map, in the scenario's frame (its briefing and preview): the task points in
        # mission order, the facing (degrees) at each, the keep-out zones (cx, cy, sx, sy per
        # zone) and the walkways people cross (x1, y1, x2, y2 per walkway).
        self.map_points = param("map_points_xy", Parameter.Type.DOUBLE_ARRAY).value or []
        self.map_facings = param("map_facings_deg", Parameter.Type.DOUBLE_ARRAY).value or []
        self.map_zones = param("map_keep_out_xy", Parameter.Type.DOUBLE_ARRAY).value or []
        self.map_lanes = param("map_walkways_xy", Parameter.Type.DOUBLE_ARRAY).value or []
        self.map_match_m = float(param("map_match_m", 0.75).value)
        stamped = param("use_stamped_cmd_vel", os.environ.get("ROS_DISTRO") != "humble").value
        self.msg_type = TwistStamped if stamped else Twist
        self.cmd_pub = self.create_publisher(self.msg_type, "/cmd_vel", 10)
        self.request_pub = self.create_publisher(PoseArray, "/pick_place/request", 10)
        self.shift_pub = self.create_publisher(String, "/shift/report", 10)
        self.create_subscription(LaserScan, "/scan", self.on_scan, qos_profile_sensor_data)
        self.create_subscription(Odometry, "/odom", self.on_odom, 10)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.create_subscription(PoseArray, "/mission/waypoints", self.on_points, latched)
        self.create_subscription(String, "/mission/steps", self.on_steps, latched)
        self.create_subscription(PoseArray, "/moving_obstacles", self.on_movers, 10)
        self.create_subscription(String, "/arm/status", self.on_arm_status, 10)
        self.create_subscription(KeyValue, "/inspection/report", self.on_report, 10)
        self.points, self.steps_text = None, None
        self.pose = None
        self.scan = None
        self.jobs: list = []
        self.zones: list = []  # grown keep-out zones in odom
        self.lanes = ()
        self.sightings: deque = deque(maxlen=15)
        self.movers: list[Mover] = []
        self.reported: set[str] = set()
        self.arm_status = ""
        self.job_state: dict = {}  # what the current job remembers between control cycles
        self.reason = ""
        self.create_timer(0.1, self.control)

    # ------------------------------------------------------------------ inputs
    def on_scan(self, msg: LaserScan) -> None:
        self.scan = scan_points(
            np.asarray(msg.ranges), msg.angle_min, msg.angle_increment,
            msg.range_min, msg.range_max, self.sensor_x_m,
        )  # fmt: skip

    def on_odom(self, msg: Odometry) -> None:
        p = msg.pose.pose
        self.pose = (p.position.x, p.position.y, yaw_of(p.orientation))

    def on_points(self, msg: PoseArray) -> None:
        self.points = [(p.position.x, p.position.y, p.position.z) for p in msg.poses]
        self.make_plan()

    def on_steps(self, msg: String) -> None:
        self.steps_text = msg.data
        self.make_plan()

    def on_movers(self, msg: PoseArray) -> None:
        now = stamp_s(msg.header.stamp)
        seen = [((p.position.x, p.position.y), yaw_of(p.orientation)) for p in msg.poses]
        earlier = [s for s in self.sightings if now - s[0] >= SPEED_WINDOW_S - 0.05]
        speeds = [0.0] * len(seen)
        if earlier:
            then, before = earlier[-1]
            speeds = measure_speeds(seen, before, now - then)
        self.sightings.append((now, seen))
        self.movers = [
            Mover(now, xy, heading, speed)
            for (xy, heading), speed in zip(seen, speeds, strict=True)
        ]
        self.lanes = update_lanes(self.lanes, self.movers, self.crossing_cfg)

    def on_arm_status(self, msg: String) -> None:
        if msg.data != self.arm_status:
            self.get_logger().info(f"arm: {msg.data}")
        self.arm_status = msg.data

    def on_report(self, msg: KeyValue) -> None:
        self.reported.add(msg.key)

    # ------------------------------------------------------------------ the plan
    def make_plan(self) -> None:
        if self.points is None or self.steps_text is None:
            return
        steps = shift.parse_mission(self.steps_text, self.points)
        if not steps:
            return
        facing, self.zones, lanes = {}, [], ()
        fit = self.fit_map([s.xyz[:2] for s in steps])
        if fit is not None:
            rotation, translation = fit
            turn = math.atan2(rotation[1, 0], rotation[0, 0])
            for step, deg in zip(steps, self.map_facings, strict=False):
                facing[step.name] = shift.wrap(math.radians(deg) + turn)
            zones = np.reshape(self.map_zones, (-1, 4))
            self.zones = [
                to_odom(grown_rectangle(z[:2], z[2:], self.zone_margin_m), rotation, translation)
                for z in zones
            ]
            ends = to_odom(np.reshape(self.map_lanes, (-1, 2)), rotation, translation)
            n = self.crossing_cfg.lane_min_sightings
            lanes = tuple(
                lane_from_map(tuple(a), tuple(b), n)
                for a, b in zip(ends[::2], ends[1::2], strict=True)
            )
        self.lanes = lanes + tuple(lane for lane in self.lanes if not lane.from_map)
        self.jobs = shift.plan_shift(steps, facing)
        self.job_state = {}
        self.get_logger().info(
            f"shift: {len(steps)} steps, {len(self.jobs)} jobs, {len(self.zones)} keep-out "
            f"zone(s), {len(lanes)} walkway(s) / 작업 {len(steps)}개"
        )

    def fit_map(self, mission_xy):
        """(R, t) from the site map to odom, or None when there is no map or it does not fit."""
        if len(self.map_points) != 2 * len(mission_xy) or len(mission_xy) < 2:
            return None
        map_xy = np.reshape(self.map_points, (-1, 2))
        rotation, translation = fit_rigid_2d(map_xy, np.array(mission_xy))
        worst_m = worst_fit_m(map_xy, mission_xy, rotation, translation)
        if worst_m > self.map_match_m:
            self.get_logger().warning(
                f"the mission does not fit the site map (off by {worst_m:.2f} m): no map "
                f"/ 임무가 지도와 맞지 않습니다 ({worst_m:.2f} m): 지도 없이 갑니다"
            )
            return None
        return rotation, translation

    # ------------------------------------------------------------------ control
    def control(self) -> None:
        linear, angular = 0.0, 0.0
        if self.jobs and self.pose is not None and self.scan is not None:
            now = self.get_clock().now().nanoseconds * 1e-9
            job = self.jobs[0]
            handler = getattr(self, f"do_{type(job).__name__.lower()}")
            command = handler(job, now, self.job_state)
            if command is None:  # the job is done
                self.get_logger().info(f"done: {job}")
                self.jobs.pop(0)
                self.job_state = {}
            else:
                linear, angular = command
        self.publish(linear, angular)

    def do_drive(self, job, now, state):
        if "route" not in state:
            state["route"] = route_around(self.pose[:2], job.goal_xy, self.zones)
            self.get_logger().info(f"to {job.label} via {state['route'][:-1]}")
        route = state["route"]
        x, y, yaw = self.pose
        while len(route) > 1 and math.dist((x, y), route[0]) < 2.5 * self.arrive_m:
            route.pop(0)  # a via point: near is enough
        gx, gy = route[0]
        if len(route) == 1 and math.hypot(gx - x, gy - y) < self.arrive_m:
            return None
        goal_robot = np.array(
            [math.cos(yaw) * (gx - x) + math.sin(yaw) * (gy - y),
             -math.sin(yaw) * (gx - x) + math.cos(yaw) * (gy - y)]
        )  # fmt: skip
        linear, angular, state["heading"] = steer(
            self.scan, goal_robot, self.cfg, state.get("heading")
        )
        decision = decide(
            self.lanes, self.movers, (x, y), (gx, gy), self.cfg.max_linear_mps, now,
            state.get("lane"), self.crossing_cfg,
        )  # fmt: skip
        state["lane"] = decision.committed_lane
        if decision.reason != self.reason:
            self.get_logger().info(f"{decision.reason or 'driving'} at ({x:.2f}, {y:.2f})")
            self.reason = decision.reason
        if decision.speed_mps == 0.0:
            return 0.0, 0.0  # stand still: a stop is no command the mux could time out
        return min(linear, decision.speed_mps), angular

    def do_approach(self, job, now, state):
        c, s = math.cos(job.heading_rad), math.sin(job.heading_rad)
        if "phase" not in state:
            behind = (job.stop_xy[0] - self.approach_m * c, job.stop_xy[1] - self.approach_m * s)
            state["phase"], state["drive"] = "drive", shift.Drive(behind, f"{job.label} (behind)")
        if state["phase"] == "drive":
            command = self.do_drive(state["drive"], now, state.setdefault("drive_state", {}))
            if command is not None:
                return command
            state["phase"] = "turn"
        if state["phase"] == "turn":
            rate = shift.turn_command(self.pose[2], job.heading_rad, math.radians(1.5), 0.8)
            if rate is not None:
                return 0.0, rate
            state["phase"] = "creep"
        return shift.line_command(self.pose, job.stop_xy, job.heading_rad, 0.1)

    def do_hold(self, job, now, state):
        state.setdefault("until", now + job.seconds)
        return None if now >= state["until"] else (0.0, 0.0)

    def do_turn(self, job, now, state):
        rate = shift.turn_command(self.pose[2], job.heading_rad, math.radians(2.0), 0.8)
        return None if rate is None else (0.0, rate)

    def do_arm(self, job, now, state):
        if self.arm_status.startswith("error") and state.get("sent"):
            # Not ready yet (no /joint_states) passes; out of reach does not: give up after 3.
            state["refusals"] = state.get("refusals", 0) + 1
            self.get_logger().error(f"the arm refused: {self.arm_status} / 팔이 거절했습니다")
            self.arm_status, state["sent"] = "", False
            if state["refusals"] >= 3:
                return None
        if self.arm_status == "done" and state.get("busy"):
            return None
        if self.arm_status.startswith("busy"):
            state["busy"] = True
        elif not state.get("busy") and now >= state.get("next_send", 0.0):
            self.send_request(job)  # resend until the arm takes it (it may start after us)
            state["sent"], state["next_send"] = True, now + 1.0
        return 0.0, 0.0

    def do_reverse(self, job, now, state):
        x, y, yaw = self.pose
        state.setdefault("heading", yaw)
        state.setdefault(
            "target", (x - job.distance_m * math.cos(yaw), y - job.distance_m * math.sin(yaw))
        )
        return shift.line_command(self.pose, state["target"], state["heading"], 0.12, 0.01)

    def do_shiftreport(self, job, now, state):
        if "sent" not in state:  # standing at the terminal: report once, then stand a moment
            self.shift_pub.publish(String(data=job.text))
            self.get_logger().info(f"shift report / 교대 근무 보고: {job.text}")
            state["sent"] = now
        return None if now >= state["sent"] + 1.0 else (0.0, 0.0)

    def do_awaitreport(self, job, now, state):
        state.setdefault("until", now + job.timeout_s)
        done = job.station in self.reported or now >= state["until"]
        return None if done else (0.0, 0.0)

    # ------------------------------------------------------------------ outputs
    def send_request(self, job) -> None:
        request = PoseArray()
        request.header.frame_id = "base_link"
        request.header.stamp = self.get_clock().now().to_msg()
        for point in (job.pick_xyz, job.place_xyz):
            pose = Pose()
            x, y, z = shift.to_base_link(point, self.pose, self.base_link_height_m)
            pose.position.x, pose.position.y, pose.position.z = x, y, z
            pose.orientation.w = 1.0
            request.poses.append(pose)
        self.request_pub.publish(request)

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
    node = ShiftController()
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
