"""What a camera frame shows of the stations' ArUco markers, from ground truth (read-only): the
geometry behind the marker_report check (curriculum_pkg.checks.markers). A marker is IN VIEW
when it faces the camera (within 85 degrees) and its centre or a corner projects inside the
image (give or take 20 px) with nothing solid in the way; CLEARLY VISIBLE when all four corners
are inside the image with a margin, it is near enough, faces the camera closely enough, and no
ray from the camera to its centre or a corner hits a solid geom (MuJoCo's mj_ray)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import numpy as np

from common_pkg.worldspec import Pose2D

IN_VIEW_MAX_ANGLE_DEG = 85.0  # beyond this the marker is edge-on: nobody can read it
IN_VIEW_SLACK_PX = 20.0  # "in view" reaches this far past the image (a braking robot pitches)
WORLD_GROUP_ONLY = np.array([1, 0, 0, 0, 0, 0], dtype=np.uint8)  # sim_pkg.mjcf.WORLD_GROUP = 0
OCCLUSION_SLACK_M = 0.02  # a hit this close to the target is the marker's own post


def wrap_angle(angle: float) -> float:
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


@dataclass(frozen=True)
class MarkerTruth:
    station_id: str
    marker_id: int
    position_m: tuple[float, float, float]  # marker centre in base_link
    normal_yaw_rad: float  # yaw of the marker's normal (out of its face) in base_link
    clear: bool  # clearly visible; otherwise only in view


@dataclass(frozen=True)
class CameraGeometry:
    """The pinhole camera of the robot profile (as the bridge's /camera/camera_info has it)."""

    mount_m: np.ndarray  # camera in base_link (x forward, y left, z up)
    base_link_height_m: float
    width_px: int
    height_px: int
    focal_px: float

    @classmethod
    def from_profile(cls, profile) -> CameraGeometry:
        f = (profile.camera_height_px / 2.0) / math.tan(profile.camera_vfov_rad / 2.0)
        return cls(
            np.asarray(profile.camera_mount_xyz_m, dtype=float),
            float(profile.base_link_height_m),
            int(profile.camera_width_px),
            int(profile.camera_height_px),
            f,
        )

    def project(self, points_base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points in base_link (N, 3) -> (pixels (N, 2), depth (N,)). Optical frame: z forward
        (base x), x right (base -y), y down (base -z), REP-103."""
        rel = points_base - self.mount_m
        depth = rel[:, 0]
        safe = np.where(depth > 1e-6, depth, np.nan)
        u = self.width_px / 2.0 + self.focal_px * (-rel[:, 1]) / safe
        v = self.height_px / 2.0 + self.focal_px * (-rel[:, 2]) / safe
        return np.stack([u, v], axis=1), depth


@dataclass(frozen=True)
class WorldMarker:
    """A station's marker in the world frame: centre, corners and normal (from the world spec)."""

    station_id: str
    name_en: str
    name_ko: str
    marker_id: int
    points_world: np.ndarray  # (5, 3): centre, then the four corners of the black square
    normal_yaw_rad: float  # the normal (out of the printed face) in the world


def world_markers(spec) -> list[WorldMarker]:
    """Every station's marker as the simulator draws it (sim_pkg.mjcf: a plate on the post's
    face towards the stop point, the printed square `marker_size_m` wide, upright)."""
    from sim_pkg.mjcf import STATION_POST_HALF_DEPTH_M  # the drawing's own number

    markers = []
    for st in spec.stations:
        centre = np.asarray(st.marker_center_xyz(STATION_POST_HALF_DEPTH_M), dtype=float)
        normal_yaw = st.facing_rad + math.pi  # back towards the stop point
        right = np.array([math.sin(st.facing_rad), -math.cos(st.facing_rad), 0.0])  # as seen
        up = np.array([0.0, 0.0, 1.0])
        h = st.marker_size_m / 2.0
        corners = [
            centre + sx * h * right + sy * h * up for sx, sy in ((-1, 1), (1, 1), (1, -1), (-1, -1))
        ]
        markers.append(
            WorldMarker(
                st.id,
                st.name_en,
                st.name_ko,
                st.marker_id,
                np.vstack([centre, *corners]),
                wrap_angle(normal_yaw),
            )
        )
    return markers


def to_base_link(pose: Pose2D, points_world: np.ndarray, base_link_height_m: float) -> np.ndarray:
    """World points (N, 3) -> base_link, for the robot's base_footprint at `pose` (upright)."""
    c, s = math.cos(pose.yaw), math.sin(pose.yaw)
    dx = points_world[:, 0] - pose.x
    dy = points_world[:, 1] - pose.y
    return np.stack(
        [c * dx + s * dy, -s * dx + c * dy, points_world[:, 2] - base_link_height_m], axis=1
    )


class MarkerVisibility:
    """Which markers a camera frame showed, from the true pose (and rays in the world)."""

    def __init__(
        self,
        camera: CameraGeometry,
        max_range_m: float,
        max_view_angle_deg: float,
        edge_margin_px: float,
    ):
        self.camera = camera
        self.max_range_m = max_range_m
        self.cos_clear = math.cos(math.radians(max_view_angle_deg))
        self.cos_in_view = math.cos(math.radians(IN_VIEW_MAX_ANGLE_DEG))
        self.edge_margin_px = edge_margin_px

    def _inside(self, px: np.ndarray, depth: np.ndarray, margin_px: float) -> np.ndarray:
        w, h = self.camera.width_px, self.camera.height_px
        with np.errstate(invalid="ignore"):  # NaN pixels (behind the camera) are outside
            return (
                (depth > 0.05)
                & (px[:, 0] >= margin_px)
                & (px[:, 0] <= w - margin_px)
                & (px[:, 1] >= margin_px)
                & (px[:, 1] <= h - margin_px)
            )

    def frame(self, pose: Pose2D, markers: list[WorldMarker], world=None) -> dict[int, MarkerTruth]:
        """Marker id -> truth, for every marker in view at `pose`. `world` (a SimWorld, read
        only) is used for occlusion; without it nothing occludes."""
        cam = self.camera
        seen = {}
        cam_world = np.array(
            [
                *pose.transform_point(cam.mount_m[:2]),
                cam.mount_m[2] + cam.base_link_height_m,
            ]
        )
        for marker in markers:
            pts = to_base_link(pose, marker.points_world, cam.base_link_height_m)
            normal_yaw = wrap_angle(marker.normal_yaw_rad - pose.yaw)
            to_camera = cam.mount_m - pts[0]
            distance = float(np.linalg.norm(to_camera))
            if distance < 1e-6:
                continue
            facing = (
                math.cos(normal_yaw) * to_camera[0] + math.sin(normal_yaw) * to_camera[1]
            ) / distance
            if facing <= self.cos_in_view:
                continue
            px, depth = cam.project(pts)
            inside = self._inside(px, depth, -IN_VIEW_SLACK_PX)
            if not inside.any():
                continue
            clear_geometry = (
                bool(self._inside(px[1:], depth[1:], self.edge_margin_px).all())
                and distance <= self.max_range_m
                and facing >= self.cos_clear
            )
            targets = marker.points_world
            if world is not None and all(
                _occluded(world, cam_world, targets[i]) for i in np.flatnonzero(inside)
            ):
                continue  # in the image, but behind something
            clear = clear_geometry and (
                world is None or not any(_occluded(world, cam_world, p) for p in targets)
            )
            seen[marker.marker_id] = MarkerTruth(
                marker.station_id,
                marker.marker_id,
                tuple(float(v) for v in pts[0]),
                normal_yaw,
                clear,
            )
        return seen


def _occluded(world, origin: np.ndarray, target: np.ndarray) -> bool:
    """Something solid (walls, obstacles, posts, actors; not the robot, not floor markings)
    between the camera and `target`. mj_ray only reads the simulator's state."""
    vec = target - origin
    distance = float(np.linalg.norm(vec))
    geom = np.zeros(1, dtype=np.int32)
    hit = mujoco.mj_ray(
        world.model, world.data, origin, vec / distance, WORLD_GROUP_ONLY, 1, -1, geom
    )
    return 0.0 <= hit < distance - OCCLUSION_SLACK_M
