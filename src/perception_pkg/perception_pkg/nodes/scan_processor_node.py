"""scan_processor: filtered scan, obstacle clusters, the nearest obstacle and moving obstacles.

Subscribes /scan (sensor_msgs/LaserScan, sensor-data QoS) and /odom (nav_msgs/Odometry).
Publishes
  /scan_filtered          sensor_msgs/LaserScan, same header; REP 117 values where the LDS-01
                          driver says 0.0: +inf = no return, -inf = too close, NaN = dropped
  /obstacles              geometry_msgs/PoseArray, cluster centroids in base_scan
  /obstacles/markers      visualization_msgs/MarkerArray in base_scan, for RViz: a CYLINDER per
                          compact cluster (ns "clusters"), a LINE_STRIP per long one (walls);
                          moving ones red, with an ARROW for their velocity (ns "velocity")
  /nearest_obstacle       geometry_msgs/PointStamped in base_scan (range = norm of the point)
  /moving_obstacles       geometry_msgs/PoseArray in odom: centroid, orientation = direction of
                          motion
  /moving_obstacles/markers  visualization_msgs/MarkerArray in odom: per moving obstacle, an
                          ARROW (ns "velocity", id = its index in /moving_obstacles, scale.x =
                          speed in m/s: the distance covered in 1 s) and a TEXT label (ns "speed");
                          each array starts with a DELETEALL marker

Motion is measured between this scan and the one `motion_window_s` earlier, both placed in odom
with the odometry pose nearest to each scan's stamp, against the lidar's range noise (the robot
profile's); an obstacle is published moving once it moved in two such comparisons in a row (this
scan's and the previous scan's): see perception_pkg.lidar.detect_moving and confirm_moving.
"""

import math
from collections import deque

import rclpy
from geometry_msgs.msg import Point, PointStamped, Pose, PoseArray
from nav_msgs.msg import Odometry
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import LaserScan
from std_msgs.msg import Header
from visualization_msgs.msg import Marker, MarkerArray

from common_pkg.profile import DEFAULT_PROFILE, load_profile
from perception_pkg.lidar import (
    MovingObstacle,
    cluster_points,
    clusters_to_frame,
    confirm_moving,
    detect_moving,
    filter_scan,
    nearest_obstacle,
    scan_to_points,
    sensor_pose,
    to_rep117,
)

RANGE_MARGIN_M = 0.3  # clusters reaching range_max minus this may be cut off by the range limit
MAX_ODOM_SKEW_S = 0.1  # use an odometry pose only this close in time to the scan


def _stamp_s(stamp) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def _pose(x: float, y: float, yaw: float = 0.0) -> Pose:
    pose = Pose()
    pose.position.x, pose.position.y = float(x), float(y)
    pose.orientation.z, pose.orientation.w = math.sin(yaw / 2.0), math.cos(yaw / 2.0)
    return pose


def _marker(header, ns: str, mid: int, kind: int, rgba: tuple) -> Marker:
    m = Marker(header=header, ns=ns, id=mid, type=kind, action=Marker.ADD)
    m.pose.orientation.w = 1.0
    m.color.r, m.color.g, m.color.b, m.color.a = rgba
    return m


def _arrow(header, mid: int, xy, heading_rad: float, speed_mps: float) -> Marker:
    m = _marker(header, "velocity", mid, Marker.ARROW, (1.0, 0.1, 0.1, 1.0))
    m.pose = _pose(xy[0], xy[1], heading_rad)
    m.scale.x, m.scale.y, m.scale.z = max(float(speed_mps), 1e-3), 0.05, 0.05
    return m


class ScanProcessor(Node):
    def __init__(self):
        super().__init__("scan_processor")
        profile = load_profile(self.declare_parameter("robot_profile", DEFAULT_PROFILE).value)
        self.sensor_x_m = float(profile.raw["lidar"]["mount_xyz_m"][0])
        self.invalid_value = profile.lidar_invalid_value
        self.range_noise = (profile.lidar_noise_std_m, profile.lidar_noise_std_fraction)
        self.median_window = self._int(
            "median_window", 3, 1, 15, 2, "readings in the median filter (odd; 1 = off)"
        )
        self.outlier_jump_m = self._float(
            "outlier_jump_m", 0.3, 0.02, 5.0, "a reading this far from both neighbours is dropped"
        )
        self.cluster_gap_m = self._float(
            "cluster_gap_m", 0.15, 0.01, 2.0, "neighbouring points farther apart split clusters"
        )
        self.min_points = self._int(
            "min_cluster_points", 3, 1, 100, 1, "smaller clusters are dropped as noise"
        )
        self.min_speed_mps = self._float(
            "min_speed_mps", 0.1, 0.0, 5.0, "clusters slower than this count as standing"
        )
        self.window_s = self._float(
            "motion_window_s", 0.6, 0.1, 5.0, "motion is measured against the scan this long ago"
        )
        self.max_speed_mps = self._float(
            "max_obstacle_speed_mps", 1.5, 0.1, 10.0, "the fastest obstacle that can be matched"
        )
        self.max_extent_m = self._float(
            "max_obstacle_extent_m",
            2.5,
            0.2,
            10.0,
            "longer clusters are walls, not movers (a 2.0 x 1.1 m forklift spans up to 2.3 m)",
        )

        self.scan_pub = self.create_publisher(LaserScan, "/scan_filtered", qos_profile_sensor_data)
        reliable = QoSProfile(depth=10)  # reliable: serves reliable and best-effort subscribers
        self.obstacles_pub = self.create_publisher(PoseArray, "/obstacles", reliable)
        self.markers_pub = self.create_publisher(MarkerArray, "/obstacles/markers", reliable)
        self.nearest_pub = self.create_publisher(PointStamped, "/nearest_obstacle", reliable)
        self.moving_pub = self.create_publisher(PoseArray, "/moving_obstacles", reliable)
        self.moving_markers_pub = self.create_publisher(
            MarkerArray, "/moving_obstacles/markers", reliable
        )
        self.create_subscription(LaserScan, "/scan", self.on_scan, qos_profile_sensor_data)
        # Best effort accepts both the robot's reliable /odom and a best-effort one.
        self.create_subscription(Odometry, "/odom", self.on_odom, qos_profile_sensor_data)
        self.odom: deque = deque(maxlen=60)  # (stamp_s, (x, y, yaw)): 2 s at 30 Hz
        self.odom_frame = "odom"
        self.scans_without_odom = 0
        self.history: deque = deque()  # (stamp_s, clusters in odom)
        self.last_found: tuple[float, list[MovingObstacle]] = (-math.inf, [])  # unconfirmed

    def _float(self, name: str, default: float, lo: float, hi: float, text: str) -> float:
        rng = FloatingPointRange(from_value=lo, to_value=hi)
        desc = ParameterDescriptor(description=text, floating_point_range=[rng])
        return float(self.declare_parameter(name, default, desc).value)

    def _int(self, name: str, default: int, lo: int, hi: int, step: int, text: str) -> int:
        desc = ParameterDescriptor(
            description=text, integer_range=[IntegerRange(from_value=lo, to_value=hi, step=step)]
        )
        return int(self.declare_parameter(name, default, desc).value)

    def on_odom(self, msg: Odometry) -> None:
        q = msg.pose.pose.orientation
        yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
        p = msg.pose.pose.position
        self.odom_frame = msg.header.frame_id or "odom"
        self.odom.append((_stamp_s(msg.header.stamp), (p.x, p.y, yaw)))

    def on_scan(self, msg: LaserScan) -> None:
        full_turn = abs(msg.angle_increment) * len(msg.ranges) >= 2.0 * math.pi - 1e-3
        ranges = filter_scan(
            msg.ranges,
            msg.range_min,
            msg.range_max,
            self.invalid_value,
            self.median_window,
            self.outlier_jump_m,
            circular=full_turn,
        )
        out = LaserScan(
            header=msg.header,
            angle_min=msg.angle_min,
            angle_max=msg.angle_max,
            angle_increment=msg.angle_increment,
            time_increment=msg.time_increment,
            scan_time=msg.scan_time,
            range_min=msg.range_min,
            range_max=msg.range_max,
            intensities=msg.intensities,
        )
        rep117 = to_rep117(msg.ranges, ranges, msg.range_min, msg.range_max, self.invalid_value)
        out.ranges = rep117.tolist()
        self.scan_pub.publish(out)

        points, _ = scan_to_points(ranges, msg.angle_min, msg.angle_increment)  # in base_scan
        if len(points) == 0:
            self.get_logger().warning(
                "no valid lidar reading: is the lidar covered or stopped? / "
                "유효한 라이다 측정값이 없습니다: 라이다가 가려졌거나 멈췄나요?",
                throttle_duration_sec=5.0,
            )
        clusters = cluster_points(
            points,
            self.cluster_gap_m,
            self.min_points,
            range_limit_m=msg.range_max - RANGE_MARGIN_M,
            range_noise=self.range_noise,
        )
        obstacles = PoseArray(header=msg.header)
        obstacles.poses = [_pose(*c.centroid_xy) for c in clusters]
        self.obstacles_pub.publish(obstacles)
        nearest = nearest_obstacle(points)
        if nearest is not None:
            range_m, bearing = nearest
            point = Point(x=range_m * math.cos(bearing), y=range_m * math.sin(bearing))
            self.nearest_pub.publish(PointStamped(header=msg.header, point=point))

        moving, sensor_yaw = self.track(_stamp_s(msg.header.stamp), clusters, msg.header)
        self.publish_markers(msg.header, clusters, moving, sensor_yaw)

    def track(self, now_s: float, clusters, header) -> tuple[dict, float]:
        """Place the clusters in odom, compare with the scan a motion window ago, publish the
        moving ones. Returns {cluster index: MovingObstacle} and the lidar's yaw in odom."""
        odom_s, base = min(self.odom, key=lambda item: abs(item[0] - now_s), default=(0.0, None))
        if base is None or abs(odom_s - now_s) > MAX_ODOM_SKEW_S:  # skip motion for this scan
            self.scans_without_odom += 1
            if self.scans_without_odom == 10:  # 2 s at 5 Hz: more than a slow start
                self.get_logger().warning(
                    "no /odom near the scans' stamps: moving obstacles are paused. Is /odom "
                    "published, and use_sim_time the same for every node? / 스캔 시각 근처의 "
                    "/odom이 없어 이동 장애물 감지를 멈췄습니다. /odom이 발행되는지, 모든 노드의 "
                    "use_sim_time이 같은지 확인하세요"
                )
            return {}, 0.0
        self.scans_without_odom = 0
        pose = sensor_pose(base, self.sensor_x_m)
        world = clusters_to_frame(clusters, pose)
        if self.history and self.history[-1][0] > now_s:  # time went back: a restarted sim
            self.history.clear()
        older = [item for item in self.history if now_s - item[0] >= self.window_s - 1e-6]
        found: list[MovingObstacle] = []
        if older:
            then_s, before = older[-1]
            dt_s = now_s - then_s
            found = detect_moving(
                before,
                world,
                dt_s,
                self.min_speed_mps,
                self.max_speed_mps * dt_s,
                self.max_extent_m,
            )
        # Confirmed against the last scan's detections if it came within a motion window (a scan
        # lost in between does not break a track; after time went back, dt <= 0 confirms none).
        before_s, before_found = self.last_found
        self.last_found = (now_s, found)
        found = (
            confirm_moving(before_found, found, now_s - before_s)
            if now_s - before_s <= self.window_s
            else []
        )
        self.history.append((now_s, world))
        while now_s - self.history[0][0] > 2.0 * self.window_s:
            self.history.popleft()

        odom_header = Header(stamp=header.stamp, frame_id=self.odom_frame)
        moving_msg = PoseArray(header=odom_header)
        markers = MarkerArray(markers=[Marker(header=odom_header, action=Marker.DELETEALL)])
        for i, m in enumerate(found):
            moving_msg.poses.append(_pose(*m.cluster.centroid_xy, m.heading_rad))
            markers.markers.append(
                _arrow(odom_header, i, m.cluster.centroid_xy, m.heading_rad, m.speed_mps)
            )
            text = _marker(odom_header, "speed", i, Marker.TEXT_VIEW_FACING, (1.0, 1.0, 1.0, 1.0))
            text.pose = _pose(m.cluster.centroid_xy[0], m.cluster.centroid_xy[1])
            text.pose.position.z = 0.6
            text.scale.z, text.text = 0.15, f"{m.speed_mps:.2f} m/s"
            markers.markers.append(text)
        self.moving_pub.publish(moving_msg)
        self.moving_markers_pub.publish(markers)
        index = {id(c): i for i, c in enumerate(world)}
        return {index[id(m.cluster)]: m for m in found}, pose[2]

    def publish_markers(self, header, clusters, moving: dict, sensor_yaw: float) -> None:
        markers = MarkerArray(markers=[Marker(header=header, action=Marker.DELETEALL)])
        for i, c in enumerate(clusters):
            rgba = (0.9, 0.1, 0.1, 0.9) if i in moving else (0.2, 0.6, 1.0, 0.8)
            if c.extent_m <= self.max_extent_m:
                m = _marker(header, "clusters", i, Marker.CYLINDER, rgba)
                m.pose.position.x, m.pose.position.y = c.centroid_xy
                m.scale.x = m.scale.y = max(c.extent_m, 0.05)
                m.scale.z = 0.3
            else:
                m = _marker(header, "clusters", i, Marker.LINE_STRIP, rgba)
                m.points = [Point(x=float(x), y=float(y)) for x, y in c.points_xy]
                m.scale.x = 0.03  # line width
            markers.markers.append(m)
            if i in moving:  # velocity in odom, drawn in base_scan: rotate by the lidar's yaw
                ob = moving[i]
                markers.markers.append(
                    _arrow(header, i, c.centroid_xy, ob.heading_rad - sensor_yaw, ob.speed_mps)
                )
        self.markers_pub.publish(markers)


def main(args=None):
    rclpy.init(args=args)
    node = ScanProcessor()
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
