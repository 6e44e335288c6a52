"""The ROS 2 side of sim_pkg that is not a node: test fixtures for multi-process tests."""
