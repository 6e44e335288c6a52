"""An inspection bench in MuJoCo: a PCB on an easel in front of the robot's camera.

The board is a thin box whose +Z face carries the artwork of `pcb_images` as a 2D texture (MuJoCo
projects a 2D texture on a primitive geom along its local Z, once over the face). The camera has
the robot profile's resolution and field of view, and looks along world +x. Each sample changes
the artwork (uploaded to the GPU in place, no recompile), the board pose, the light and the
background, and adds camera noise, all from one seed.

검사대 장면: 로봇 카메라 앞 이젤 위의 PCB를 렌더링합니다. 샘플마다 보드 그림, 자세, 조명,
배경색, 카메라 잡음이 시드에 따라 달라집니다. 데이터셋은 시드가 같으면 항상 같습니다.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import mujoco
import numpy as np

from common_pkg.profile import RobotProfile, load_profile
from perception_pkg.pcb_images import ARTWORK_HEIGHT_PX, ARTWORK_WIDTH_PX, LABELS, draw_board

BOARD_SIZE_M = (0.16, 0.12)  # width x height, a common 160 x 120 mm controller board
CAMERA_HEIGHT_M = 0.25
_BACKGROUNDS_RGB = np.array(  # factory walls, benches and floors; none of them green
    [(0.55, 0.55, 0.57), (0.30, 0.32, 0.36), (0.62, 0.52, 0.40), (0.20, 0.28, 0.45),
     (0.75, 0.74, 0.70), (0.42, 0.30, 0.22), (0.12, 0.12, 0.13), (0.58, 0.60, 0.68)]
)  # fmt: skip


@dataclass(frozen=True)
class BenchVariation:
    """Everything that changes between two photos of a board on the bench."""

    distance_m: float  # camera to board centre along +x
    lateral_m: float  # board centre along world +y (left in the image)
    vertical_m: float  # board centre above the camera axis
    yaw_rad: float  # board turned about world z
    pitch_rad: float  # board tilted back about its horizontal axis
    light_dir: tuple[float, float, float]
    light_intensity: float  # 0.45 (dim aisle) .. 1.3 (bright inspection lamp)
    ambient: float
    background_rgb: tuple[float, float, float]
    noise_std: float  # Gaussian camera noise, in 8-bit grey levels


def sample_variation(rng: np.random.Generator, profile: RobotProfile) -> BenchVariation:
    """Draw one bench variation; the whole board always stays in view."""
    distance_m = float(rng.uniform(0.35, 0.6))
    half_w = distance_m * math.tan(profile.camera_hfov_rad / 2) - 0.11
    half_h = distance_m * math.tan(profile.camera_vfov_rad / 2) - 0.09
    background = _BACKGROUNDS_RGB[rng.integers(len(_BACKGROUNDS_RGB))]
    azimuth = rng.uniform(-1.2, 1.2)
    elevation = rng.uniform(-1.2, -0.2)
    return BenchVariation(
        distance_m=distance_m,
        lateral_m=float(rng.uniform(-1, 1) * max(half_w, 0.0)),
        vertical_m=float(rng.uniform(-1, 1) * max(half_h, 0.0)),
        yaw_rad=float(rng.uniform(-1, 1) * math.radians(15)),
        pitch_rad=float(rng.uniform(-1, 1) * math.radians(15)),
        light_dir=(
            float(math.cos(elevation) * math.cos(azimuth)),
            float(math.cos(elevation) * math.sin(azimuth)),
            float(math.sin(elevation)),
        ),
        light_intensity=float(rng.uniform(0.45, 1.3)),
        ambient=float(rng.uniform(0.12, 0.35)),
        background_rgb=tuple(float(c) for c in np.clip(background * rng.uniform(0.8, 1.2), 0, 1)),
        noise_std=float(rng.uniform(1.0, 6.0)),
    )


def bench_mjcf(profile: RobotProfile) -> str:
    """The bench world; the board's pose, light and colours are set per sample at run time."""
    w, h = BOARD_SIZE_M
    fovy_deg = math.degrees(profile.camera_vfov_rad)  # MuJoCo's fovy is in degrees
    return f"""
<mujoco model="pcb_inspection_bench">
  <visual>
    <quality shadowsize="0"/>
    <headlight ambient="0.2 0.2 0.2" diffuse="0 0 0" specular="0 0 0"/>
    <global offwidth="{profile.camera_width_px}" offheight="{profile.camera_height_px}"/>
  </visual>
  <asset>
    <texture name="pcb" type="2d" file="pcb.png"/>
    <material name="pcb" texture="pcb" specular="0.2" shininess="0.3"/>
  </asset>
  <worldbody>
    <light name="lamp" directional="true" castshadow="false" dir="1 0 -1" diffuse="1 1 1"/>
    <geom name="floor" type="plane" size="3 3 0.1" rgba="0.5 0.5 0.5 1"/>
    <geom name="wall" type="box" pos="1.3 0 1" size="0.02 3 1.5" rgba="0.5 0.5 0.5 1"/>
    <camera name="inspection_camera" pos="0 0 {CAMERA_HEIGHT_M}" xyaxes="0 -1 0 0 0 1"
            fovy="{fovy_deg:.6f}"/>
    <body name="board" pos="0.45 0 {CAMERA_HEIGHT_M}" xyaxes="0 -1 0 0 0 1">
      <!-- local +z faces the camera: the textured face; local +y is up on the board -->
      <geom name="pcb" type="box" size="{w / 2} {h / 2} 0.0008" material="pcb"/>
      <geom name="backing" type="box" pos="0 0 -0.004" size="{w / 2 + 0.01} {h / 2 + 0.01} 0.003"
            rgba="0.25 0.25 0.27 1"/>
      <geom name="ledge" type="box" pos="0 {-h / 2 - 0.006} 0.006" size="{w / 2 + 0.01} 0.006 0.01"
            rgba="0.3 0.3 0.32 1"/>
      <geom name="post" type="cylinder" fromto="0 {-h / 2} -0.01 0 -0.6 -0.04" size="0.008"
            rgba="0.3 0.3 0.32 1"/>
    </body>
  </worldbody>
</mujoco>
"""


def _png(image_rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(image_rgb[:, :, ::-1]))
    assert ok
    return buf.tobytes()


class InspectionBench:
    """Renders the bench offscreen through the public MuJoCo GL API (EGL with MUJOCO_GL=egl)."""

    def __init__(self, profile: RobotProfile | None = None):
        self.profile = profile or load_profile()
        blank = np.zeros((ARTWORK_HEIGHT_PX, ARTWORK_WIDTH_PX, 3), np.uint8)
        self.model = mujoco.MjModel.from_xml_string(
            bench_mjcf(self.profile), assets={"pcb.png": _png(blank)}
        )
        self.data = mujoco.MjData(self.model)
        self._width, self._height = self.profile.camera_width_px, self.profile.camera_height_px
        self._gl = mujoco.GLContext(self._width, self._height)
        self._gl.make_current()
        self._context = mujoco.MjrContext(self.model, mujoco.mjtFontScale.mjFONTSCALE_100)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, self._context)
        self._scene = mujoco.MjvScene(self.model, maxgeom=50)
        for flag in (
            mujoco.mjtRndFlag.mjRND_SHADOW,
            mujoco.mjtRndFlag.mjRND_REFLECTION,
            mujoco.mjtRndFlag.mjRND_SKYBOX,
            mujoco.mjtRndFlag.mjRND_HAZE,
        ):
            self._scene.flags[flag] = False
        self._camera = mujoco.MjvCamera()
        self._camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
        self._camera.fixedcamid = self.model.camera("inspection_camera").id
        self._option = mujoco.MjvOption()
        self._rect = mujoco.MjrRect(0, 0, self._width, self._height)
        self._texid = self.model.texture("pcb").id

    def set_artwork(self, artwork_rgb: np.ndarray) -> None:
        """Replace the board's texture in place and upload it to the GPU."""
        adr = self.model.tex_adr[self._texid]
        # tex_data keeps the PNG's row order: row 0 lands at the face's local +y edge (its top).
        pixels = np.ascontiguousarray(artwork_rgb).reshape(-1)
        self.model.tex_data[adr : adr + pixels.size] = pixels
        self._gl.make_current()
        mujoco.mjr_uploadTexture(self.model, self._context, self._texid)

    def set_variation(self, v: BenchVariation) -> None:
        m = self.model
        board = m.body("board")
        board.pos[:] = (v.distance_m, v.lateral_m, CAMERA_HEIGHT_M + v.vertical_m)
        facing = np.array([[0.0, 0.0, -1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # cols: x y z
        cy, sy = math.cos(v.yaw_rad), math.sin(v.yaw_rad)
        cp, sp = math.cos(v.pitch_rad), math.sin(v.pitch_rad)
        yaw = np.array([[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]])
        pitch = np.array([[cp, 0.0, sp], [0.0, 1.0, 0.0], [-sp, 0.0, cp]])
        rot = yaw @ pitch @ facing
        mujoco.mju_mat2Quat(board.quat, rot.reshape(-1))
        lamp = m.light("lamp")
        lamp.dir[:] = v.light_dir
        lamp.diffuse[:] = v.light_intensity
        m.vis.headlight.ambient[:] = v.ambient
        m.geom("wall").rgba[:3] = v.background_rgb
        m.geom("floor").rgba[:3] = np.asarray(v.background_rgb) * 0.8
        mujoco.mj_forward(m, self.data)  # poses of bodies, the camera and the light

    def render(self) -> np.ndarray:
        """One noise-free RGB frame, height x width x 3 uint8, row 0 at the top."""
        self._gl.make_current()
        mujoco.mjv_updateScene(
            self.model,
            self.data,
            self._option,
            None,
            self._camera,
            mujoco.mjtCatBit.mjCAT_ALL,
            self._scene,
        )
        mujoco.mjr_render(self._rect, self._scene, self._context)
        rgb = np.empty((self._height, self._width, 3), np.uint8)
        mujoco.mjr_readPixels(rgb, None, self._rect, self._context)
        return np.flipud(rgb)

    def photograph(self, label: str, board_seed: int, rng: np.random.Generator) -> np.ndarray:
        """Draw, place, light and render one board, with camera noise from `rng`."""
        self.set_artwork(draw_board(label, board_seed))
        v = sample_variation(rng, self.profile)
        self.set_variation(v)
        frame = self.render().astype(np.float32)
        frame += rng.normal(0.0, v.noise_std, frame.shape).astype(np.float32)
        return np.clip(frame, 0, 255).astype(np.uint8)

    def close(self) -> None:
        if self._gl is not None:
            self._gl.make_current()
            self._context.free()
            self._gl.free()
            self._gl = None

    def __enter__(self) -> InspectionBench:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def iter_dataset(n_per_class: int, seed: int) -> Iterator[tuple[np.ndarray, int]]:
    """Yield (frame, label index) pairs, classes interleaved, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    with InspectionBench() as bench:
        for _ in range(n_per_class):
            for index, label in enumerate(LABELS):
                board_seed = int(rng.integers(2**31))
                yield bench.photograph(label, board_seed, rng), index
