"""Cost-aware A* on an 8-connected grid, and path smoothing (ROS-free, JIT-compiled with numba).

The cost of a move is its length in cells (1 or sqrt 2) times the mean traversal cost of the two
cells it joins (cost >= 1, inf = lethal; see grid.inflate). The octile distance is an admissible
and consistent heuristic for that cost, so the path found is optimal on the grid.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

SQRT2 = math.sqrt(2.0)
_D_ROW = np.array([-1, -1, -1, 0, 0, 1, 1, 1], dtype=np.int64)
_D_COL = np.array([-1, 0, 1, -1, 1, -1, 0, 1], dtype=np.int64)
_D_LEN = np.array([SQRT2, 1.0, SQRT2, 1.0, 1.0, SQRT2, 1.0, SQRT2])


class NoPathError(ValueError):
    """Start or goal is blocked, or no collision-free path joins them."""


# An indexed binary heap: each open cell sits in the heap once, and a better path to it lowers
# its key in place (decrease-key) instead of pushing a duplicate. `where[cell]` is the cell's
# slot in the heap, -1 if it was never opened, -2 once it is closed.
@njit(cache=True)
def _sift_up(keys, items, where, i):
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= keys[i]:
            break
        keys[i], keys[parent] = keys[parent], keys[i]
        items[i], items[parent] = items[parent], items[i]
        where[items[i]] = i
        where[items[parent]] = parent
        i = parent


@njit(cache=True)
def _sift_down(keys, items, where, size):
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if keys[i] <= keys[child]:
            break
        keys[i], keys[child] = keys[child], keys[i]
        items[i], items[child] = items[child], items[i]
        where[items[i]] = i
        where[items[child]] = child
        i = child


@njit(cache=True)
def _astar(cost, start, goal, offsets, lengths):
    """A* over a cost grid padded with one ring of lethal cells (so no bounds checks), flat indices."""
    cols = cost.shape[1]
    flat_cost = cost.ravel()
    n = flat_cost.size
    g = np.full(n, np.inf)
    parent = np.full(n, -1, dtype=np.int64)
    where = np.full(n, -1, dtype=np.int64)
    keys = np.empty(n)
    items = np.empty(n, dtype=np.int64)
    goal_r, goal_c = goal // cols, goal % cols
    g[start] = 0.0
    keys[0], items[0], where[start], size = 0.0, start, 0, 1
    while size > 0:
        cur = items[0]
        where[cur] = -2  # closed
        size -= 1
        if size > 0:
            keys[0], items[0] = keys[size], items[size]
            where[items[0]] = 0
            _sift_down(keys, items, where, size)
        if cur == goal:
            break
        cost_cur = flat_cost[cur]
        g_cur = g[cur]
        for k in range(8):
            nxt = cur + offsets[k]
            cost_next = flat_cost[nxt]
            if cost_next == np.inf or where[nxt] == -2:
                continue
            new_g = g_cur + lengths[k] * 0.5 * (cost_cur + cost_next)
            if new_g < g[nxt]:
                g[nxt] = new_g
                parent[nxt] = cur
                dr = abs(goal_r - nxt // cols)
                dc = abs(goal_c - nxt % cols)
                h = (dr + dc) + (1.4142135623730951 - 2.0) * min(dr, dc)  # octile distance
                # Ties in f are broken towards the goal (smaller h): fewer expansions in open space.
                key = new_g + h * (1.0 + 1e-7)
                slot = where[nxt]
                if slot < 0:  # newly opened
                    slot = size
                    size += 1
                    items[slot] = nxt
                    where[nxt] = slot
                keys[slot] = key
                _sift_up(keys, items, where, slot)
    return parent, g[goal]


@njit(cache=True)
def _walk_back(parent, start, goal):
    count = 1
    cur = goal
    while cur != start:
        cur = parent[cur]
        count += 1
    out = np.empty(count, dtype=np.int64)
    cur = goal
    for i in range(count - 1, -1, -1):
        out[i] = cur
        cur = parent[cur]
    return out


def plan_path(
    cost: np.ndarray, start: tuple[int, int], goal: tuple[int, int]
) -> tuple[np.ndarray, float]:
    """Optimal 8-connected path from start to goal cells ((row, col) each).

    Returns ((K, 2) int array of [row, col] from start to goal, total cost).
    Raises NoPathError with a bilingual message if start or goal is blocked or unreachable.
    """
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    rows, cols = cost.shape
    for name_en, name_ko, cell in (("start", "출발점", start), ("goal", "목표점", goal)):
        if not (0 <= cell[0] < rows and 0 <= cell[1] < cols):
            raise NoPathError(
                f"{name_en} {tuple(cell)} is outside the map / {name_ko} {tuple(cell)}이(가) 지도 밖에 있습니다"
            )
        if not np.isfinite(cost[cell]):
            raise NoPathError(
                f"{name_en} {tuple(cell)} is inside an obstacle or its inflation / "
                f"{name_ko} {tuple(cell)}이(가) 장애물(또는 팽창 영역) 안에 있습니다"
            )
    padded = np.full((rows + 2, cols + 2), np.inf)
    padded[1:-1, 1:-1] = cost
    wide = cols + 2
    offsets = _D_ROW * wide + _D_COL
    s, g = (start[0] + 1) * wide + start[1] + 1, (goal[0] + 1) * wide + goal[1] + 1
    parent, total = _astar(padded, s, g, offsets, _D_LEN)
    if not np.isfinite(total):
        raise NoPathError(
            f"no path from {tuple(start)} to {tuple(goal)} / "
            f"{tuple(start)}에서 {tuple(goal)}까지 갈 수 있는 경로가 없습니다"
        )
    flat = _walk_back(parent, s, g)
    return np.stack([flat // wide - 1, flat % wide - 1], axis=1), float(total)


@njit(cache=True)
def _segment_cost(cost, r0, c0, r1, c1):
    """Cost of the straight segment between two cell centres, sampled every tenth of a cell
    with the same mean-of-cells rule as the grid moves; inf if it touches a lethal cell."""
    dr, dc = r1 - r0, c1 - c0
    length = math.sqrt(dr * dr + dc * dc)
    steps = max(1, int(math.ceil(length * 10)))
    total = 0.0
    prev = cost[r0, c0]
    for i in range(1, steps + 1):
        t = i / steps
        cr = int(round(r0 + dr * t))
        cc = int(round(c0 + dc * t))
        here = cost[cr, cc]
        if not np.isfinite(here):
            return np.inf
        total += 0.5 * (prev + here) * length / steps
        prev = here
    return total


@njit(cache=True)
def _shortcut(cost, path, tolerance):
    n = path.shape[0]
    keep = [0]
    i = 0
    # prefix sums of the grid path's own cost, to compare a shortcut with what it replaces
    along = np.zeros(n)
    for k in range(1, n):
        dr = path[k, 0] - path[k - 1, 0]
        dc = path[k, 1] - path[k - 1, 1]
        step = math.sqrt(dr * dr + dc * dc)
        along[k] = along[k - 1] + step * 0.5 * (
            cost[path[k - 1, 0], path[k - 1, 1]] + cost[path[k, 0], path[k, 1]]
        )
    while i < n - 1:
        j = n - 1
        while j > i + 1:
            straight = _segment_cost(cost, path[i, 0], path[i, 1], path[j, 0], path[j, 1])
            if straight <= (along[j] - along[i]) * tolerance:
                break
            j -= 1
        keep.append(j)
        i = j
    return np.array(keep, dtype=np.int64)


def smooth_path(cost: np.ndarray, path: np.ndarray, tolerance: float = 1.0) -> np.ndarray:
    """Drop grid waypoints where a straight segment is no costlier (within `tolerance`) than the
    grid path it replaces and touches no lethal cell. Returns the kept [row, col] corners."""
    if len(path) <= 2:
        return np.asarray(path)
    keep = _shortcut(
        np.ascontiguousarray(cost, dtype=np.float64),
        np.ascontiguousarray(path, dtype=np.int64),
        float(tolerance),
    )
    return np.asarray(path)[keep]


def path_length_cells(path: np.ndarray) -> float:
    """Euclidean length of a polyline of cells, in cells."""
    if len(path) < 2:
        return 0.0
    return float(np.hypot(*np.diff(np.asarray(path, dtype=float), axis=0).T).sum())
