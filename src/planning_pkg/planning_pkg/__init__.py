"""Occupancy grids, global planner, path follower, arm kinematics (filled by a later issue)."""
