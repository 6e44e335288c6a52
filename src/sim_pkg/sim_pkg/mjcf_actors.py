"""The MJCF of a scenario's moving actors: a worker or a forklift, one mocap body each.

Their geoms use the "actor" default class that build_mjcf defines (collision bits like the
world's, geom group 0 so the lidar sees them); SimWorld moves the bodies every control period.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from common_pkg.actors import Actor
from sim_pkg.mjcf_robot import fmt, sub


def actor_body_name(actor: Actor) -> str:
    return f"actor_{actor.id}"


def add_actor(parent: ET.Element, actor: Actor) -> None:
    """A worker or a forklift: a mocap body (moved by SimWorld, not by the physics) whose geoms
    the lidar, the camera and the robot's contacts all meet. Body frame: x = its heading."""
    x, y, yaw = actor.pose_at(0.0)
    body = sub(
        parent,
        "body",
        name=actor_body_name(actor),
        mocap="true",
        pos=fmt(x, y, 0),
        euler=fmt(0, 0, yaw),
    )
    length, width, height = actor.size_lwh
    name = actor_body_name(actor)
    if actor.kind == "worker":  # an upright cylinder in a hi-vis vest, with a head on top
        head_r = min(0.11, height / 8)
        body_h = height - 2 * head_r
        sub(
            body,
            "geom",
            name=f"{name}_body",
            class_="actor",
            type="cylinder",
            pos=fmt(0, 0, body_h / 2),
            size=fmt(actor.radius_m, body_h / 2),
            rgba="1.0 0.55 0.0 1",
        )
        sub(
            body,
            "geom",
            name=f"{name}_head",
            class_="actor",
            type="sphere",
            pos=fmt(0, 0, height - head_r),
            size=fmt(head_r),
            rgba="0.85 0.7 0.55 1",
        )
        return
    # A forklift: the chassis over its whole outline up to 45 % of its height, the mast at the
    # front, and the overhead guard's roof over the driver's seat.
    chassis_h = 0.45 * height
    mast_depth = min(0.12, length / 8)
    boxes = (
        (
            "chassis",
            (0, 0, chassis_h / 2),
            (length / 2, width / 2, chassis_h / 2),
            "0.95 0.75 0.05",
        ),
        (
            "mast",
            (length / 2 - mast_depth / 2, 0, height / 2),
            (mast_depth / 2, 0.4 * width, height / 2),
            "0.2 0.2 0.2",
        ),
        (
            "guard",
            (-0.1 * length, 0, height - 0.03),
            (0.3 * length, width / 2, 0.03),
            "0.2 0.2 0.2",
        ),
        *(
            (
                f"guard_post_{side}",
                (-0.35 * length, sign * (width / 2 - 0.03), (chassis_h + height) / 2),
                (0.03, 0.03, (height - chassis_h) / 2),
                "0.2 0.2 0.2",
            )
            for side, sign in (("left", 1), ("right", -1))
        ),
    )
    for part, pos, half, rgb in boxes:
        sub(
            body,
            "geom",
            name=f"{name}_{part}",
            class_="actor",
            type="box",
            pos=fmt(*pos),
            size=fmt(*half),
            rgba=f"{rgb} 1",
        )
