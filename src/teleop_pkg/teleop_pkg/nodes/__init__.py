"""ROS 2 nodes of teleop_pkg: thin wrappers around the ROS-free cores."""
