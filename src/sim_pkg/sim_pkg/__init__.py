"""Embedded MuJoCo simulator of the lab robot and its ROS 2 bridge node."""
