"""The grader's ROS 2 side: contexts, the simulator and monitor nodes in-process, the doctor.

Everything else in curriculum_pkg is ROS-free and calls in here.
"""
