"""Message helpers shared by the nodes of every package (they import ROS messages, never rclpy)."""
