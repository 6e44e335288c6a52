"""sensor_reporter: the nearest obstacle from /scan and the distance travelled from /odom.

/sensors/nearest_obstacle (geometry_msgs/PointStamped): the nearest valid lidar return, as a
point in the lidar's own frame (base_scan), stamped with the scan's stamp.
/sensors/distance_travelled (std_msgs/Float64): metres driven since the start, summed from the
steps between consecutive /odom positions.
"""

import math

import rclpy
from geometry_msgs.msg import PointStamped
from nav_msgs.msg import Odometry
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import LaserScan
from std_msgs.msg import Float64


def nearest_return(scan: LaserScan):
    """(range, bearing) of the nearest valid reading, or None when nothing is in range.
    The LDS-01 reports 0.0 for "no return": anything outside range_min..range_max is skipped."""
    best = None
    for i, r in enumerate(scan.ranges):
        if scan.range_min <= r <= scan.range_max and (best is None or r < best[0]):
            best = (r, scan.angle_min + i * scan.angle_increment)
    return best


class SensorReporter(Node):
    def __init__(self):
        super().__init__("sensor_reporter")
        self.nearest_pub = self.create_publisher(PointStamped, "/sensors/nearest_obstacle", 10)
        self.distance_pub = self.create_publisher(Float64, "/sensors/distance_travelled", 10)
        self.create_subscription(LaserScan, "/scan", self.on_scan, qos_profile_sensor_data)
        self.create_subscription(Odometry, "/odom", self.on_odom, 10)
        self.last_xy = None
        self.travelled_m = 0.0

    def on_scan(self, scan: LaserScan) -> None:
        found = nearest_return(scan)
        if found is None:
            return  # nothing within reach: there is no nearest obstacle to report
        r, bearing = found
        msg = PointStamped()
        msg.header = scan.header  # same stamp, same frame (base_scan)
        msg.point.x = r * math.cos(bearing)
        msg.point.y = r * math.sin(bearing)
        self.nearest_pub.publish(msg)

    def on_odom(self, odom: Odometry) -> None:
        p = odom.pose.pose.position
        if self.last_xy is not None:
            self.travelled_m += math.hypot(p.x - self.last_xy[0], p.y - self.last_xy[1])
        self.last_xy = (p.x, p.y)
        self.distance_pub.publish(Float64(data=self.travelled_m))


def main(args=None):
    rclpy.init(args=args)
    node = SensorReporter()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
