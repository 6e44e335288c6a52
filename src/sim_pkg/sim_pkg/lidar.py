"""Planar lidar sensor model (ROS-free): ray directions and the LDS-01's range behaviour."""

from __future__ import annotations

import numpy as np


def ray_directions(samples: int, yaw_rad: float) -> np.ndarray:
    """Unit vectors in the world frame for one turn, counter-clockwise from the sensor's +x.

    Index 0 looks straight ahead, as in the TurtleBot3 LaserScan (angle_min = 0).
    """
    angles = yaw_rad + np.arange(samples) * (2.0 * np.pi / samples)
    return np.stack([np.cos(angles), np.sin(angles), np.zeros(samples)], axis=1)


def apply_range_model(
    true_m: np.ndarray,
    range_min_m: float,
    range_max_m: float,
    noise_std_m: float,
    noise_std_fraction: float,
    rng: np.random.Generator,
    invalid_value: float,
) -> np.ndarray:
    """True hit distances (negative = no hit) -> what the sensor reports, as float32.

    Gaussian noise with sigma = max(noise_std_m, noise_std_fraction * range). Readings outside
    [range_min, range_max] after noise are reported as `invalid_value` (0.0 on the LDS-01).
    """
    true_m = np.asarray(true_m, dtype=np.float64)
    sigma = np.maximum(noise_std_m, noise_std_fraction * np.abs(true_m))
    measured = true_m + rng.standard_normal(true_m.shape) * sigma
    valid = (true_m >= 0) & (measured >= range_min_m) & (measured <= range_max_m)
    return np.where(valid, measured, invalid_value).astype(np.float32)
