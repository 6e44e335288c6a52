"""Embedded MuJoCo simulator of the lab robot and its ROS 2 bridge node."""

import os

# Headless rendering: EGL is the backend that works without a display (osmesa fails here). Set
# before anything imports mujoco, which picks its GL backend at import time.
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
