"""Global planning benchmark: plan time and path quality of our A* against two references.

Measured on a 20 m x 20 m factory floor at 5 cm (400 x 400 cells), generated from `--seed`: outer
walls, rows of racks and machining centres with 1.2-2 m aisles, building pillars, pallets and two
plating baths, inflated with `planning_pkg.grid.inflate` (robot radius 0.2 m, inflation radius
0.55 m). `--pairs` start/goal pairs >= 12 m apart in open floor, same map and endpoints for every
method:
  ours             planning_pkg.astar.plan_path (numba A*), alone and followed by smooth_path
  pyastar2d        pyastar2d.astar_path(allow_diagonal=True), the named C++ A* reference
  skimage          skimage.graph.route_through_array(fully_connected, geometric) (Cython MCP)
  scipy dijkstra   scipy.sparse.csgraph.dijkstra, full single-source run on the 8-connected grid
                   graph with our edge weights: the exact optimum (ground truth)
Wall time (time.perf_counter) per plan: the median over `--repeats` runs of each pair, then the
median and p90 over pairs. Path quality: the cost of each returned path re-computed under OUR
cost model (step length x mean of the two cells' costs) and its geometric length, as ratios to
the ground-truth optimal path. Goals (from the issue): ours within 1.5x pyastar2d's median time,
our path no longer (and no costlier) than 1.01x the optimum. A miss is printed; exit code stays 0.

Usage: .venv/bin/python benchmarks/bench_planning.py [--pairs 20] [--json out.json] [--plot m.png]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np
import pyastar2d
import scipy
import skimage
from scipy import ndimage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from skimage.graph import route_through_array
from tables import format_table  # benchmarks/tables.py, next to this script

from planning_pkg.astar import path_length_cells, plan_path, smooth_path
from planning_pkg.grid import FREE, OCCUPIED, GridMap, inflate

RESOLUTION_M = 0.05
MAP_SIZE_M = 20.0
WALL_M = 0.15
ROBOT_RADIUS_M = 0.2  # TurtleBot3 Waffle Pi half-width ~0.15 m + margin
INFLATION_RADIUS_M = 0.55
MIN_PAIR_DISTANCE_M = 12.0
GOAL_TIME_X_PYASTAR = 1.5
GOAL_PATH_X_OPTIMUM = 1.01
EXACT_REL_TOL = 1e-6
SQRT2 = math.sqrt(2.0)


# --------------------------------------------------------------------------- the factory floor
class Floor:
    """Occupancy raster plus the list of placed boxes (kind, x0, y0, x1, y1 in metres)."""

    def __init__(self, size_m: float, resolution_m: float):
        self.resolution_m = resolution_m
        n = round(size_m / resolution_m)
        self.occupied = np.zeros((n, n), dtype=bool)
        self.boxes: list[tuple[str, float, float, float, float]] = []

    def _cells(self, x0: float, y0: float, x1: float, y1: float) -> tuple[slice, slice]:
        n = self.occupied.shape[0]
        c0, c1 = (max(0, min(n, round(v / self.resolution_m))) for v in (x0, x1))
        r0, r1 = (max(0, min(n, round(v / self.resolution_m))) for v in (y0, y1))
        return slice(r0, r1), slice(c0, c1)

    def add(self, kind: str, x0: float, y0: float, x1: float, y1: float) -> None:
        self.boxes.append((kind, x0, y0, x1, y1))
        self.occupied[self._cells(x0, y0, x1, y1)] = True

    def is_clear(self, x0: float, y0: float, x1: float, y1: float) -> bool:
        return not self.occupied[self._cells(x0, y0, x1, y1)].any()


def factory_floor(seed: int) -> Floor:
    """A plating/machining shop: pallet racks west of a 2 m main aisle, machining centres and
    plating baths east of it, a 2.2 m cross aisle, pillars on a building grid, pallets left on
    open floor.
    """
    rng = np.random.default_rng(seed)
    floor = Floor(MAP_SIZE_M, RESOLUTION_M)
    far = MAP_SIZE_M - WALL_M
    for box in ((0, 0, MAP_SIZE_M, WALL_M), (0, far, MAP_SIZE_M, MAP_SIZE_M)):
        floor.add("wall", *box)
    for box in ((0, 0, WALL_M, MAP_SIZE_M), (far, 0, MAP_SIZE_M, MAP_SIZE_M)):
        floor.add("wall", *box)
    main_aisle_x = (11.0, 13.0)  # north-south, kept clear
    cross_aisle_y = (9.0, 11.2)  # east-west, kept clear
    halves = ((WALL_M, cross_aisle_y[0]), (cross_aisle_y[1], far))

    # West: pallet racks in rows along y, 1.2-2 m aisles between rows, some rows broken by a
    # 1.4-1.8 m passage; the racks run up to the cross aisle and stop 1.2-1.6 m short of the wall.
    x = WALL_M + rng.uniform(1.2, 1.6)
    while True:
        depth = rng.uniform(0.9, 1.2)
        if x + depth > main_aisle_x[0]:
            break
        for y0, y1 in (
            (halves[0][0] + rng.uniform(1.2, 1.6), halves[0][1]),
            (halves[1][0], halves[1][1] - rng.uniform(1.2, 1.6)),
        ):
            if rng.random() < 0.5:
                gap_y = rng.uniform(y0 + 2.0, y1 - 3.8)
                gap_w = rng.uniform(1.4, 1.8)
                floor.add("rack", x, y0, x + depth, gap_y)
                floor.add("rack", x, gap_y + gap_w, x + depth, y1)
            else:
                floor.add("rack", x, y0, x + depth, y1)
        x += depth + rng.uniform(1.2, 2.0)

    # East, north half: machining centres in two columns, the outer one backed against the wall.
    col_a_x0 = main_aisle_x[1] + rng.uniform(0.6, 0.9)
    col_a_x1 = col_a_x0 + rng.uniform(2.0, 2.6)
    col_b_x1 = far - 0.3
    col_b_x0 = col_b_x1 - rng.uniform(2.0, 2.6)
    for x0, x1 in ((col_a_x0, col_a_x1), (col_b_x0, col_b_x1)):
        y = halves[1][0] + rng.uniform(1.2, 1.8)
        while True:
            depth = rng.uniform(1.6, 2.0)
            if y + depth + 1.2 > halves[1][1]:
                break
            floor.add("machining centre", x0, y, x1, y + depth)
            y += depth + rng.uniform(1.2, 2.0)

    # East, south half: two plating baths (long tanks) with a control cabinet each.
    y = halves[0][0] + rng.uniform(1.4, 1.9)
    for _ in range(2):
        x0 = main_aisle_x[1] + rng.uniform(0.6, 1.0)
        length, depth = rng.uniform(3.6, 4.4), rng.uniform(1.2, 1.5)
        floor.add("plating bath", x0, y, x0 + length, y + depth)
        floor.add("cabinet", x0 + length + 0.3, y, x0 + length + 0.9, y + 0.6)
        y += depth + rng.uniform(1.8, 2.4)

    # Building pillars (0.4 m) on a regular grid; some end up inside racks, as they do.
    for px in (5.5, 12.0, 17.0):
        for py in (4.5, 10.1, 15.5):
            floor.add("pillar", px - 0.2, py - 0.2, px + 0.2, py + 0.2)

    # EUR pallets (1.2 x 0.8 m) left on open floor, >= 0.45 m from anything so nothing is cut off.
    placed, tries = 0, 0
    while placed < 6 and tries < 500:
        tries += 1
        w, h = (1.2, 0.8) if rng.random() < 0.5 else (0.8, 1.2)
        x0, y0 = rng.uniform(WALL_M, far - w), rng.uniform(WALL_M, far - h)
        if floor.is_clear(x0 - 0.45, y0 - 0.45, x0 + w + 0.45, y0 + h + 0.45):
            floor.add("pallet", x0, y0, x0 + w, y0 + h)
            placed += 1
    return floor


def pick_pairs(cost: np.ndarray, count: int, seed: int) -> list[tuple[tuple[int, int], ...]]:
    """Start/goal cells in open floor (cost 1, i.e. beyond the inflation radius) of the largest
    connected free region, at least MIN_PAIR_DISTANCE_M apart."""
    labels, _ = ndimage.label(np.isfinite(cost), structure=np.ones((3, 3)))
    largest = np.bincount(labels.ravel()[labels.ravel() > 0]).argmax()
    candidates = np.argwhere((labels == largest) & (cost <= 1.0))
    rng = np.random.default_rng(seed + 1)
    min_cells = MIN_PAIR_DISTANCE_M / RESOLUTION_M
    pairs: list[tuple[tuple[int, int], ...]] = []
    while len(pairs) < count:
        start = candidates[rng.integers(len(candidates))]
        far = candidates[np.hypot(*(candidates - start).T) >= min_cells]
        if len(far):
            goal = far[rng.integers(len(far))]
            pairs.append((tuple(int(v) for v in start), tuple(int(v) for v in goal)))
    return pairs


# --------------------------------------------------------------------------- ground truth
def grid_graph(cost: np.ndarray) -> csr_matrix:
    """8-connected graph with our move cost: step length x mean of the two cells' costs."""
    rows, cols = cost.shape
    index = np.arange(rows * cols).reshape(rows, cols)
    src, dst, weight = [], [], []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = (slice(0, rows - dr), slice(max(0, -dc), cols - max(0, dc)))
        b = (slice(dr, rows), slice(max(0, dc), cols + min(0, dc)))
        ca, cb = cost[a], cost[b]
        ok = np.isfinite(ca) & np.isfinite(cb)
        src.append(index[a][ok])
        dst.append(index[b][ok])
        weight.append(math.hypot(dr, dc) * 0.5 * (ca[ok] + cb[ok]))
    n = rows * cols
    return csr_matrix(
        (np.concatenate(weight), (np.concatenate(src), np.concatenate(dst))), shape=(n, n)
    )


def optimal_path(graph: csr_matrix, shape, start, goal) -> tuple[float, np.ndarray]:
    s, g = np.ravel_multi_index(start, shape), np.ravel_multi_index(goal, shape)
    dist, pred = dijkstra(graph, directed=False, indices=s, return_predecessors=True)
    flat = [g]
    while flat[-1] != s:
        flat.append(pred[flat[-1]])
    return float(dist[g]), np.stack(np.unravel_index(np.array(flat[::-1]), shape), axis=1)


def path_cost(cost: np.ndarray, path: np.ndarray) -> tuple[float, int, int]:
    """Cost of an 8-connected cell path under our model, how many of its cells are lethal, and
    how many of its steps do not join neighbouring cells."""
    path = np.asarray(path, dtype=np.int64)
    c = cost[path[:, 0], path[:, 1]].astype(np.float64)
    step = np.diff(path, axis=0)
    bad_steps = int(np.count_nonzero(np.abs(step).max(axis=1) != 1))
    length = np.hypot(step[:, 0], step[:, 1])
    lethal = int(np.count_nonzero(~np.isfinite(c)))
    return float(np.sum(length * 0.5 * (c[:-1] + c[1:]))), lethal, bad_steps


# --------------------------------------------------------------------------- methods
def run_ours(cost, start, goal):
    t0 = time.perf_counter()
    path, total = plan_path(cost, start, goal)
    t1 = time.perf_counter()
    smooth = smooth_path(cost, path)
    t2 = time.perf_counter()
    return {"plan": (t1 - t0, path, total), "smooth": (t2 - t0, smooth, None)}


def run_pyastar(cost, start, goal):
    t0 = time.perf_counter()
    path = pyastar2d.astar_path(cost, start, goal, allow_diagonal=True)
    t1 = time.perf_counter()
    return {"pyastar2d": (t1 - t0, path, None)}


def run_skimage(cost, start, goal):
    t0 = time.perf_counter()
    path, total = route_through_array(cost, start, goal, fully_connected=True, geometric=True)
    t1 = time.perf_counter()
    return {"skimage": (t1 - t0, np.array(path), total)}


def run_dijkstra(graph, start, goal, shape):
    t0 = time.perf_counter()
    dijkstra(graph, directed=False, indices=np.ravel_multi_index(start, shape))
    t1 = time.perf_counter()
    return {"dijkstra": (t1 - t0, None, None)}


METHODS = [  # key, label
    ("plan", "ours plan_path (numba A*)"),
    ("smooth", "ours plan_path + smooth_path"),
    ("pyastar2d", "pyastar2d.astar_path (C++ A*)"),
    ("skimage", "skimage route_through_array (MCP)"),
    ("dijkstra", "scipy dijkstra, full (ground truth)"),
]


def plot_map(path_png: Path, floor: Floor, cost: np.ndarray, pair, paths: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = np.where(np.isfinite(cost), cost, np.nan)
    fig, ax = plt.subplots(figsize=(9, 9))
    extent = (0, MAP_SIZE_M, 0, MAP_SIZE_M)
    ax.imshow(np.log(shown), origin="lower", extent=extent, cmap="Blues", vmin=0, vmax=4)
    lethal = np.ma.masked_where(np.isfinite(cost), np.ones_like(cost))
    ax.imshow(lethal, origin="lower", extent=extent, cmap="Greys", vmin=0, vmax=1.6, alpha=0.6)
    colours = {"wall": "k", "rack": "tab:brown", "machining centre": "tab:gray"}
    colours |= {"plating bath": "tab:cyan", "cabinet": "tab:olive", "pillar": "k"}
    colours |= {"pallet": "tab:orange"}
    seen = set()
    for kind, x0, y0, x1, y1 in floor.boxes:
        label = None if kind in seen or kind == "wall" else kind
        seen.add(kind)
        ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, color=colours[kind], label=label))
    styles = {
        "opt": ("scipy dijkstra (optimum)", "k", 5.0, "-"),
        "plan": ("ours plan_path", "tab:green", 2.5, "-"),
        "smooth": ("ours smoothed", "tab:red", 1.5, "-"),
        "pyastar2d": ("pyastar2d", "tab:purple", 1.5, "--"),
        "skimage": ("skimage", "gold", 1.2, ":"),
    }
    for key, (label, colour, width, style) in styles.items():
        xy = (np.asarray(paths[key], dtype=float) + 0.5) * RESOLUTION_M
        ax.plot(xy[:, 1], xy[:, 0], style, color=colour, lw=width, label=label, alpha=0.85)
    (sr, sc), (gr, gc) = pair
    ax.plot([(sc + 0.5) * RESOLUTION_M], [(sr + 0.5) * RESOLUTION_M], "go", ms=10)
    ax.plot([(gc + 0.5) * RESOLUTION_M], [(gr + 0.5) * RESOLUTION_M], "r*", ms=14)
    ax.set_xlim(0, MAP_SIZE_M)
    ax.set_ylim(0, MAP_SIZE_M)
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    ax.set_title("factory floor (dark = lethal, blue = inflation cost) and one plan per method")
    ax.legend(loc="upper left", fontsize=7, framealpha=0.9)
    fig.tight_layout()
    fig.savefig(path_png, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="map layout and endpoints seed")
    parser.add_argument("--pairs", type=int, default=20, help="start/goal pairs")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per pair and method")
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    parser.add_argument("--plot", type=Path, help="save a PNG of the map with one plan overlaid")
    args = parser.parse_args(argv)
    if args.pairs < 1 or args.repeats < 1:
        parser.error("--pairs and --repeats must be >= 1")

    bench_start_s = time.perf_counter()
    floor = factory_floor(args.seed)
    data = np.where(floor.occupied, OCCUPIED, FREE).astype(np.int8)
    grid = GridMap(data, RESOLUTION_M, (0.0, 0.0))
    cost = inflate(grid, ROBOT_RADIUS_M, INFLATION_RADIUS_M)  # float32, inf = lethal
    cost64 = cost.astype(np.float64)
    pairs = pick_pairs(cost, args.pairs, args.seed)
    graph = grid_graph(cost64)

    kinds: dict[str, int] = {}
    for kind, *_ in floor.boxes:
        kinds[kind] = kinds.get(kind, 0) + 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    distances = [RESOLUTION_M * math.dist(s, g) for s, g in pairs]
    print(
        f"factory floor {MAP_SIZE_M:g} x {MAP_SIZE_M:g} m at {RESOLUTION_M * 100:g} cm "
        f"({cost.shape[0]} x {cost.shape[1]} cells), seed {args.seed}: "
        + ", ".join(f"{n} {kind}" for kind, n in kinds.items())
        + f"\ninflated: robot radius {ROBOT_RADIUS_M} m, inflation radius {INFLATION_RADIUS_M} m; "
        f"{100 * np.isinf(cost).mean():.0f}% lethal, "
        f"{100 * (cost <= 1).mean():.0f}% open (cost 1)\n"
        f"{len(pairs)} start/goal pairs {min(distances):.1f}-{max(distances):.1f} m apart "
        f"(straight line), {args.repeats} timed runs each; per-pair median, then median/p90 "
        f"over pairs\n"
        f"numpy {np.__version__}, scipy {scipy.__version__}, skimage {skimage.__version__}, "
        f"python {platform.python_version()}, {cores} cores usable\n"
    )

    # Ground truth, and warm-up of every method (numba JIT, first-call imports) outside timing.
    truth = [optimal_path(graph, cost.shape, s, g) for s, g in pairs]
    s0, g0 = pairs[0]
    run_ours(cost, s0, g0)
    run_pyastar(cost, s0, g0)
    run_skimage(cost, s0, g0)

    runners = [
        lambda s, g: run_ours(cost, s, g),
        lambda s, g: run_pyastar(cost, s, g),
        lambda s, g: run_skimage(cost, s, g),
        lambda s, g: run_dijkstra(graph, s, g, cost.shape),
    ]
    times: dict[str, list[list[float]]] = {key: [[] for _ in pairs] for key, _ in METHODS}
    paths: dict[str, list] = {key: [None] * len(pairs) for key, _ in METHODS}
    reported: dict[str, list] = {key: [None] * len(pairs) for key, _ in METHODS}
    for rep in range(args.repeats):
        for i, (s, g) in enumerate(pairs):
            shift = (rep + i) % len(runners)  # rotate the order: no method always runs first
            for runner in runners[shift:] + runners[:shift]:
                for key, (wall_s, path, total) in runner(s, g).items():
                    times[key][i].append(wall_s)
                    if rep == 0:
                        paths[key][i], reported[key][i] = path, total

    # Path quality against the ground truth, under our cost model.
    quality: dict[str, dict[str, list[float]]] = {}
    mismatches = []
    for key, _ in METHODS:
        if key == "dijkstra":
            continue
        q = {"cost_ratio": [], "length_ratio": [], "lethal_cells": [], "bad_steps": []}
        for i, (opt_cost, opt_path) in enumerate(truth):
            path = np.asarray(paths[key][i])
            opt_len = path_length_cells(opt_path)
            q["length_ratio"].append(path_length_cells(path) / opt_len)
            if key == "smooth":  # corners, not a cell path: its length is what matters
                continue
            c, lethal, bad = path_cost(cost64, path)
            q["cost_ratio"].append(c / opt_cost)
            q["lethal_cells"].append(lethal)
            q["bad_steps"].append(bad)
            if key == "plan" and abs(reported[key][i] - opt_cost) > EXACT_REL_TOL * opt_cost:
                mismatches.append((i, reported[key][i], opt_cost))
        quality[key] = q

    med_ms = {key: 1000 * np.median([np.median(t) for t in times[key]]) for key, _ in METHODS}
    p90_ms = {
        key: 1000 * np.percentile([np.median(t) for t in times[key]], 90) for key, _ in METHODS
    }
    time_x = med_ms["plan"] / med_ms["pyastar2d"]
    time_ok = time_x <= GOAL_TIME_X_PYASTAR
    worst_len = max(quality["plan"]["length_ratio"])
    worst_cost = max(quality["plan"]["cost_ratio"])
    path_ok = worst_len <= GOAL_PATH_X_OPTIMUM and worst_cost <= GOAL_PATH_X_OPTIMUM

    def ratio(values: list[float]) -> str:
        return f"{np.mean(values):.3f} / {max(values):.3f}" if values else "-"

    table_rows = []
    for key, label in METHODS:
        q = quality.get(key, {})
        goal = ""
        if key == "plan":
            goal = (
                f"time {'PASS' if time_ok else 'MISS'} ({time_x:.2f}x <= "
                f"{GOAL_TIME_X_PYASTAR:g}x pyastar2d); path {'PASS' if path_ok else 'MISS'} "
                f"({max(worst_len, worst_cost):.3f}x <= {GOAL_PATH_X_OPTIMUM:g}x opt)"
            )
        table_rows.append(
            [
                label,
                f"{med_ms[key]:.2f}",
                f"{p90_ms[key]:.2f}",
                f"{med_ms[key] / med_ms['pyastar2d']:.2f}",
                ratio(q.get("cost_ratio", [])) if key != "dijkstra" else "1 (def.)",
                ratio(q.get("length_ratio", [])) if key != "dijkstra" else "1 (def.)",
                str(sum(q.get("lethal_cells", []))) if "lethal_cells" in q else "-",
                goal,
            ]
        )
    print(
        format_table(
            [
                "method",
                "median ms",
                "p90 ms",
                "x pyastar2d",
                "cost/opt mean/max",
                "length/opt mean/max",
                "lethal",
                "goal",
            ],
            table_rows,
            right_align={1, 2, 3, 4, 5, 6},
        )
    )
    opt_len_m = [RESOLUTION_M * path_length_cells(p) for _, p in truth]
    print(
        f"\ncost/opt: the path's cost under our model (step length x mean cell cost) over the "
        f"exact optimum;\nlength/opt: geometric length over that of the optimal grid path "
        f"({min(opt_len_m):.1f}-{max(opt_len_m):.1f} m; smoothed row: its corners' polyline);\n"
        f"lethal: path cells inside obstacles or their robot-radius inflation, over all pairs.\n"
        f"pyastar2d optimises its own model (each move costs the entered cell's weight, diagonal "
        f"= axial, L-inf heuristic), not ours.\nbenchmark wall time "
        f"{time.perf_counter() - bench_start_s:.1f} s"
    )
    if mismatches:
        print(
            f"\n!!! WARNING: plan_path cost differs from the scipy dijkstra optimum by more than "
            f"{EXACT_REL_TOL:g} relative on {len(mismatches)} pair(s): {mismatches[:5]} !!!"
        )
    else:
        print(
            f"plan_path cost equals the scipy dijkstra optimum (rel. tol {EXACT_REL_TOL:g}) "
            f"on all {len(pairs)} pairs"
        )
    bad_steps = {k: sum(q["bad_steps"]) for k, q in quality.items() if q["bad_steps"]}
    if any(bad_steps.values()):
        print(f"WARNING: non-neighbour steps in grid paths: {bad_steps}")
    missed = [name for name, ok in (("time", time_ok), ("path", path_ok)) if not ok]
    print(
        f"GOAL MISSED: {', '.join(missed)} (on {cores} cores)"
        if missed
        else f"all goals met (on {cores} cores)"
    )

    if args.plot:
        pick = int(np.argmax(quality["pyastar2d"]["cost_ratio"]))  # where the methods differ most
        shown = {key: paths[key][pick] for key in ("plan", "smooth", "pyastar2d", "skimage")}
        shown["opt"] = truth[pick][1]
        plot_map(args.plot, floor, cost, pairs[pick], shown)
        print(f"map with pair {pick} written to {args.plot}")

    if args.json:
        report = {
            "seed": args.seed,
            "map": {
                "size_m": MAP_SIZE_M,
                "resolution_m": RESOLUTION_M,
                "shape": list(cost.shape),
                "boxes": [list(box) for box in floor.boxes],
                "robot_radius_m": ROBOT_RADIUS_M,
                "inflation_radius_m": INFLATION_RADIUS_M,
            },
            "repeats": args.repeats,
            "pairs": [
                {"start": list(s), "goal": list(g), "optimal_cost": c, "optimal_length_m": m}
                for (s, g), (c, _), m in zip(pairs, truth, opt_len_m, strict=True)
            ],
            "methods": {
                key: {
                    "label": label,
                    "median_ms": med_ms[key],
                    "p90_ms": p90_ms[key],
                    "x_pyastar2d": med_ms[key] / med_ms["pyastar2d"],
                    "per_pair_runs_ms": [[1000 * t for t in ts] for ts in times[key]],
                    **quality.get(key, {}),
                }
                for key, label in METHODS
            },
            "goals": {
                "time_x_pyastar2d": {
                    "value": time_x,
                    "max": GOAL_TIME_X_PYASTAR,
                    "met": bool(time_ok),
                },
                "path_x_optimum": {
                    "length": worst_len,
                    "cost": worst_cost,
                    "max": GOAL_PATH_X_OPTIMUM,
                    "met": bool(path_ok),
                },
            },
            "plan_path_cost_mismatches": mismatches,
            "cores": cores,
            "python": platform.python_version(),
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"numbers written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
