"""Occupancy grids (ROS-free): from a scenario's world, from lidar scans, and inflated to costs.

Conventions follow nav_msgs/OccupancyGrid: `data[row, col]` with row = y index and col = x index,
`origin_xy` is the world position of the corner of cell (0, 0), values are -1 (unknown),
0 (free) .. 100 (occupied).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from common_pkg.worldspec import Block, WorldSpec

UNKNOWN, FREE, OCCUPIED = -1, 0, 100
LETHAL_COST = np.inf


@dataclass(frozen=True)
class GridMap:
    data: np.ndarray  # int8 (rows, cols)
    resolution_m: float
    origin_xy: tuple[float, float]

    @property
    def shape(self) -> tuple[int, int]:
        return self.data.shape

    def world_to_cell(self, xy) -> tuple[int, int]:
        col = int(math.floor((xy[0] - self.origin_xy[0]) / self.resolution_m))
        row = int(math.floor((xy[1] - self.origin_xy[1]) / self.resolution_m))
        return row, col

    def cell_to_world(self, cells: np.ndarray) -> np.ndarray:
        """(N, 2) [row, col] -> (N, 2) world [x, y] of the cell centres."""
        cells = np.asarray(cells, dtype=float)
        x = self.origin_xy[0] + (cells[..., 1] + 0.5) * self.resolution_m
        y = self.origin_xy[1] + (cells[..., 0] + 0.5) * self.resolution_m
        return np.stack([x, y], axis=-1)

    def contains(self, cell: tuple[int, int]) -> bool:
        return 0 <= cell[0] < self.shape[0] and 0 <= cell[1] < self.shape[1]


def _block_corners(block: Block) -> np.ndarray:
    hx, hy = block.size_xy[0] / 2, block.size_xy[1] / 2
    c, s = math.cos(block.yaw_rad), math.sin(block.yaw_rad)
    local = np.array([[-hx, -hy], [hx, -hy], [hx, hy], [-hx, hy]])
    return local @ np.array([[c, s], [-s, c]]) + np.array(block.center_xy)


def _fill_polygon(
    mask: np.ndarray, corners: np.ndarray, resolution: float, origin: tuple[float, float]
) -> None:
    """Mark every cell whose centre lies inside a convex polygon (corners counter-clockwise)."""
    lo = np.floor((corners.min(axis=0) - origin) / resolution).astype(int)
    hi = np.ceil((corners.max(axis=0) - origin) / resolution).astype(int)
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, [mask.shape[1], mask.shape[0]])
    if np.any(hi <= lo):
        return
    cols, rows = np.meshgrid(np.arange(lo[0], hi[0]), np.arange(lo[1], hi[1]))
    px = origin[0] + (cols + 0.5) * resolution
    py = origin[1] + (rows + 0.5) * resolution
    inside = np.ones(px.shape, dtype=bool)
    for i in range(len(corners)):
        ax, ay = corners[i]
        bx, by = corners[(i + 1) % len(corners)]
        inside &= (bx - ax) * (py - ay) - (by - ay) * (px - ax) >= -1e-9
    mask[rows[inside], cols[inside]] = True


def grid_from_world(
    world: WorldSpec,
    resolution_m: float = 0.05,
    keep_out_is_occupied: bool = True,
    station_post_size_m: tuple[float, float] = (0.06, 0.4),
) -> GridMap:
    """Rasterize walls, obstacles and station posts (and, by default, keep-out zones) of a world.

    Keep-out zones are not physical, but a planner must treat them as walls, so they are marked
    occupied unless `keep_out_is_occupied` is False.
    """
    margin = 0.2
    origin = (-margin, -margin)
    cols = math.ceil((world.floor_size_xy[0] + 2 * margin) / resolution_m)
    rows = math.ceil((world.floor_size_xy[1] + 2 * margin) / resolution_m)
    occupied = np.zeros((rows, cols), dtype=bool)
    blocks = list(world.walls) + list(world.obstacles)
    blocks += [
        Block(f"station_{s.id}", s.panel_xy, station_post_size_m, 0.6, s.facing_rad)
        for s in world.stations
    ]
    if keep_out_is_occupied:
        blocks += [
            Block("zone", z.center_xy, z.size_xy, 0.0) for z in world.zones if z.kind == "keep_out"
        ]
    for block in blocks:
        _fill_polygon(occupied, _block_corners(block), resolution_m, origin)
    data = np.where(occupied, OCCUPIED, FREE).astype(np.int8)
    return GridMap(data, resolution_m, origin)


def inflate(
    grid: GridMap,
    robot_radius_m: float,
    inflation_radius_m: float,
    cost_scaling: float = 5.0,
    max_extra_cost: float = 50.0,
    unknown_is_occupied: bool = False,
) -> np.ndarray:
    """Traversal cost per cell, as a float32 array: inf where the robot would touch an obstacle,
    1 + max_extra_cost * exp(-cost_scaling * (d - robot_radius)) within the inflation radius (the
    exponential decay of Nav2's inflation layer), 1 in open space.
    """
    blocked = grid.data >= 50
    if unknown_is_occupied:
        blocked |= grid.data < 0
    distance_m = ndimage.distance_transform_edt(~blocked) * grid.resolution_m
    cost = np.ones(grid.shape, dtype=np.float32)
    near = distance_m < inflation_radius_m
    cost[near] += (
        max_extra_cost * np.exp(-cost_scaling * (distance_m[near] - robot_radius_m))
    ).astype(np.float32)
    cost[distance_m <= robot_radius_m] = LETHAL_COST
    return cost


# --------------------------------------------------------------------------- online mapping
@dataclass(frozen=True)
class LogOddsModel:
    hit: float = 0.85  # log-odds added to the cell a beam ends in
    miss: float = -0.4  # log-odds added to cells a beam passes through
    clamp: float = 6.0


def empty_log_odds(shape: tuple[int, int]) -> np.ndarray:
    return np.zeros(shape, dtype=np.float32)


def integrate_scan(
    log_odds: np.ndarray,
    grid: GridMap,
    pose_xyyaw: tuple[float, float, float],
    ranges: np.ndarray,
    angle_min: float,
    angle_increment: float,
    range_min: float,
    range_max: float,
    sensor_x_m: float = 0.0,
    model: LogOddsModel = LogOddsModel(),
) -> np.ndarray:
    """Return a new log-odds array with one scan folded in (beams outside the valid range skipped).

    Each beam marks the cells it passes through as free and its end cell as occupied; cells are
    sampled along the beam every half cell, and a cell counts once per scan.
    """
    x, y, yaw = pose_xyyaw
    ranges = np.asarray(ranges, dtype=float)
    angles = angle_min + angle_increment * np.arange(ranges.size)
    valid = np.isfinite(ranges) & (ranges >= range_min) & (ranges <= range_max)
    if not np.any(valid):
        return log_odds.copy()
    ox, oy = x + sensor_x_m * math.cos(yaw), y + sensor_x_m * math.sin(yaw)
    r, a = ranges[valid], yaw + angles[valid]
    step = grid.resolution_m / 2
    n_samples = int(math.ceil(range_max / step))
    t = np.arange(n_samples) * step  # distances along every beam
    along = t[None, :] < r[:, None] - grid.resolution_m  # free part, short of the end cell
    px = ox + np.cos(a)[:, None] * t[None, :]
    py = oy + np.sin(a)[:, None] * t[None, :]
    out = log_odds.copy()
    rows, cols = grid.shape

    def cells(xs, ys):
        c = np.floor((xs - grid.origin_xy[0]) / grid.resolution_m).astype(int)
        rr = np.floor((ys - grid.origin_xy[1]) / grid.resolution_m).astype(int)
        ok = (c >= 0) & (c < cols) & (rr >= 0) & (rr < rows)
        return np.unique(rr[ok] * cols + c[ok])

    free = cells(px[along], py[along])
    hits = cells(ox + r * np.cos(a), oy + r * np.sin(a))
    free = np.setdiff1d(free, hits)
    flat = out.reshape(-1)
    flat[free] += model.miss
    flat[hits] += model.hit
    np.clip(out, -model.clamp, model.clamp, out=out)
    return out


def log_odds_to_grid(
    log_odds: np.ndarray, grid: GridMap, occupied_above: float = 0.85, free_below: float = -0.4
) -> GridMap:
    data = np.full(log_odds.shape, UNKNOWN, dtype=np.int8)
    data[log_odds <= free_below] = FREE
    data[log_odds >= occupied_above] = OCCUPIED
    return GridMap(data, grid.resolution_m, grid.origin_xy)
