"""Grid maps, inflation, A* and smoothing: checked against brute force and against geometry."""

import itertools
import math

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from common_pkg.worldspec import Block, Pose2D, WorldSpec, Zone, _perimeter
from planning_pkg.astar import NoPathError, path_length_cells, plan_path, smooth_path
from planning_pkg.grid import (
    FREE,
    OCCUPIED,
    GridMap,
    empty_log_odds,
    grid_from_world,
    inflate,
    integrate_scan,
    log_odds_to_grid,
)


def brute_force_cost(cost, start, goal):
    """Exact shortest path cost under the same move-cost rule, by Dijkstra over every edge."""
    rows, cols = cost.shape
    src, dst, weight = [], [], []
    for r in range(rows):
        for c in range(cols):
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    nr, nc = r + dr, c + dc
                    inside = (dr or dc) and 0 <= nr < rows and 0 <= nc < cols
                    if inside and np.isfinite(cost[r, c]) and np.isfinite(cost[nr, nc]):
                        src.append(r * cols + c)
                        dst.append(nr * cols + nc)
                        weight.append(math.hypot(dr, dc) * 0.5 * (cost[r, c] + cost[nr, nc]))
    graph = coo_matrix((weight, (src, dst)), shape=(rows * cols, rows * cols)).tocsr()
    return dijkstra(graph, indices=start[0] * cols + start[1])[goal[0] * cols + goal[1]]


@pytest.mark.parametrize("seed", range(25))
def test_astar_is_optimal_against_brute_force_on_random_grids(seed):
    rng = np.random.default_rng(seed)
    cost = rng.uniform(1.0, 6.0, size=(14, 17))
    cost[rng.random(cost.shape) < 0.25] = np.inf
    start, goal = (0, 0), (13, 16)
    cost[start] = cost[goal] = 1.0
    expected = brute_force_cost(cost, start, goal)
    if not np.isfinite(expected):
        with pytest.raises(NoPathError):
            plan_path(cost, start, goal)
        return
    path, total = plan_path(cost, start, goal)
    assert total == pytest.approx(expected, rel=1e-6)
    assert tuple(path[0]) == start and tuple(path[-1]) == goal
    steps = np.abs(np.diff(path, axis=0))
    assert steps.max() == 1 and (steps.sum(axis=1) > 0).all()  # 8-connected moves
    assert np.isfinite(cost[path[:, 0], path[:, 1]]).all()


def room(obstacles=(), zones=()):
    return WorldSpec(
        (4.0, 3.0),
        _perimeter((4.0, 3.0), 1.0, 0.1),
        tuple(obstacles),
        (),
        tuple(zones),
        Pose2D(0.5, 1.5, 0.0),
    )


def test_world_is_rasterized_with_walls_obstacles_and_keep_out():
    grid = grid_from_world(
        room(
            [Block("box", (2.0, 1.5), (0.4, 0.4), 1.0)],
            [Zone("금지", "no", "keep_out", (3.5, 0.5), (0.4, 0.4))],
        ),
        0.05,
    )
    assert grid.data[grid.world_to_cell((2.0, 1.5))] == OCCUPIED
    assert grid.data[grid.world_to_cell((1.0, 1.0))] == FREE
    assert grid.data[grid.world_to_cell((-0.05, 1.5))] == OCCUPIED  # west wall
    assert grid.data[grid.world_to_cell((3.5, 0.5))] == OCCUPIED  # keep-out zone, treated as a wall
    assert (
        grid_from_world(
            room(zones=[Zone("금지", "no", "keep_out", (3.5, 0.5), (0.4, 0.4))]),
            0.05,
            keep_out_is_occupied=False,
        ).data[grid.world_to_cell((3.5, 0.5))]
        == FREE
    )


def wall_with_gap(gap_m):
    """A wall across the room at x = 2 m with one gap of the given width centred at y = 1.5 m."""
    half = gap_m / 2
    return room(
        [
            Block("lower", (2.0, (1.5 - half) / 2), (0.1, 1.5 - half), 1.0),
            Block("upper", (2.0, 3.0 - (1.5 - half) / 2), (0.1, 1.5 - half), 1.0),
        ]
    )


def test_no_path_through_a_gap_narrower_than_the_inflated_robot():
    grid = grid_from_world(wall_with_gap(0.3), 0.05)
    cost = inflate(grid, robot_radius_m=0.2, inflation_radius_m=0.5)
    with pytest.raises(NoPathError) as err:
        plan_path(cost, grid.world_to_cell((0.5, 1.5)), grid.world_to_cell((3.5, 1.5)))
    assert "no path" in str(err.value) and "경로가 없습니다" in str(err.value)


def test_path_through_a_wide_gap_keeps_clear_of_obstacles():
    grid = grid_from_world(wall_with_gap(0.9), 0.05)
    cost = inflate(grid, robot_radius_m=0.2, inflation_radius_m=0.5)
    path, _ = plan_path(cost, grid.world_to_cell((0.5, 1.5)), grid.world_to_cell((3.5, 1.5)))
    xy = grid.cell_to_world(path)
    at_wall = xy[np.argmin(np.abs(xy[:, 0] - 2.0))]
    assert abs(at_wall[1] - 1.5) < 0.15  # threads the middle of the gap, where the cost is lowest


def test_blocked_goal_is_reported_not_searched():
    grid = grid_from_world(room([Block("box", (2.0, 1.5), (0.4, 0.4), 1.0)]), 0.05)
    cost = inflate(grid, 0.2, 0.5)
    with pytest.raises(NoPathError, match="goal"):
        plan_path(cost, grid.world_to_cell((0.5, 1.5)), grid.world_to_cell((2.0, 1.5)))


def test_smoothing_shortens_without_touching_lethal_cells_or_adding_cost():
    grid = grid_from_world(wall_with_gap(0.9), 0.05)
    cost = inflate(grid, 0.2, 0.5)
    path, _ = plan_path(cost, grid.world_to_cell((0.5, 0.5)), grid.world_to_cell((3.5, 2.5)))
    smooth = smooth_path(cost, path)
    assert len(smooth) < len(path)
    assert path_length_cells(smooth) <= path_length_cells(path)
    for a, b in itertools.pairwise(smooth):
        t = np.linspace(0.0, 1.0, 200)[:, None]
        cells = np.rint(a + (b - a) * t).astype(int)
        assert np.isfinite(cost[cells[:, 0], cells[:, 1]]).all()


def test_log_odds_mapping_from_simulated_scans_finds_the_walls(profile):
    from sim_pkg.world import SimWorld

    world_spec = room()
    world = SimWorld(world_spec, profile, seed=2)
    world.step()
    template = grid_from_world(world_spec, 0.05)
    log_odds = empty_log_odds(template.shape)
    pose = world.true_pose()
    for _ in range(5):
        log_odds = integrate_scan(
            log_odds,
            template,
            (pose.x, pose.y, pose.yaw),
            world.scan(),
            0.0,
            2 * math.pi / profile.lidar_samples,
            profile.lidar_range_min_m,
            profile.lidar_range_max_m,
            sensor_x_m=profile.raw["lidar"]["mount_xyz_m"][0],
        )
    mapped = log_odds_to_grid(log_odds, template)
    assert mapped.data[mapped.world_to_cell((1.5, 1.5))] == FREE  # open floor in front of the robot

    def wall_seen(x, y):  # the wall face, give or take a cell of lidar noise
        r, c = mapped.world_to_cell((x, y))
        return (mapped.data[r - 1 : r + 2, c] == OCCUPIED).any()

    assert wall_seen(0.5, 0.0) and wall_seen(0.5, 3.0) and wall_seen(2.5, 0.0)
    assert (
        mapped.data[mapped.world_to_cell((3.9, 1.5))] == -1
    )  # the east wall is beyond 3.5 m: unseen
    assert (mapped.data == -1).any()  # behind the walls stays unknown


def test_grid_map_cell_conversions_round_trip():
    grid = GridMap(np.zeros((10, 20), dtype=np.int8), 0.1, (-1.0, 2.0))
    cell = grid.world_to_cell((0.55, 2.35))
    assert cell == (3, 15)
    assert grid.cell_to_world(np.array([cell]))[0] == pytest.approx([0.55, 2.35])
