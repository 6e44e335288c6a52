"""When an inspection verdict is sure enough to report (no ROS here).

Only the first report counts, and only if the camera had seen the item before it, so the
reporter listens only while the robot stands still at the inspect stop point (the display in
front of it), and reports a label once it has come back `agreeing_frames` times in a row with a
score of at least `min_score`, from frames taken after the robot stood still.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

NO_BOARD = "no_board"


@dataclass(frozen=True)
class VerdictConfig:
    min_score: float = 0.9
    agreeing_frames: int = 3
    stop_radius_m: float = 0.2  # this close to the inspect point counts as standing at it
    still_mps: float = 0.01  # slower than this (and turning slower than still_rps) is still
    still_rps: float = 0.02
    settle_s: float = 0.5  # frames from this long after the robot stood still


class VerdictStreak:
    """Feed it the robot's motion and the inspector's results; it says when to report."""

    def __init__(self, cfg: VerdictConfig = VerdictConfig()):
        self.cfg = cfg
        self.still_since: float | None = None
        self.label, self.count = "", 0

    def robot(self, t_s: float, xy, target_xy, linear_mps: float, angular_rps: float) -> None:
        cfg = self.cfg
        at_stop = target_xy is not None and math.dist(xy, target_xy) <= cfg.stop_radius_m
        still = abs(linear_mps) < cfg.still_mps and abs(angular_rps) < cfg.still_rps
        if at_stop and still:
            if self.still_since is None:
                self.still_since = t_s
        else:
            self.still_since = None
            self.label, self.count = "", 0

    def result(self, frame_t_s: float, label: str, score: float) -> str | None:
        """The label to report now, or None. `frame_t_s`: when the camera took the frame."""
        cfg = self.cfg
        if self.still_since is None or frame_t_s < self.still_since + cfg.settle_s:
            return None
        if label == NO_BOARD or score < cfg.min_score:
            self.label, self.count = "", 0
            return None
        self.count = self.count + 1 if label == self.label else 1
        self.label = label
        return label if self.count >= cfg.agreeing_frames else None
