"""Scripted gamepad input (ROS-free): a short text script -> the sensor_msgs/Joy state at a time.

The grader replays the same gamepad moves to every student's teleop node, so the moves are data:

    "1.0 0 0; 3.0 1.0 0 deadman; 1.0 0 0; 2.0 0.5 -0.5 deadman turbo"

Segments are separated by `;`. Each is `SECONDS LINEAR ANGULAR [deadman] [turbo]`:
- SECONDS > 0, how long the segment lasts;
- LINEAR and ANGULAR, the left stick in [-1, 1] as `joy_node` reports it (up and left are +1);
- the optional words `deadman` and `turbo`: those buttons are held for the whole segment.

Time 0 is when the player first sees sim time; after the last segment the sticks are centred and
no button is held, forever. The pad is an Xbox pad under `joy_node` (8 axes, 11 buttons); the
indices of the sticks and buttons are teleop_joy's defaults (`joystick.JoyConfig`), so the
platform's own teleop node drives from a script unchanged.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from itertools import accumulate

from teleop_pkg.joystick import JoyConfig

MAX_SCRIPT_CHARS = 20_000  # a script is written by a teacher; this bounds a mistake, not an attack
MAX_SEGMENTS = 1000
_WORDS = ("deadman", "turbo")


@dataclass(frozen=True)
class PadLayout:
    """Where the script's inputs go in a Joy message (Xbox / XInput under `joy_node`)."""

    n_axes: int = 8  # config/teleop/gamepads.yaml: sticks, triggers, D-pad
    n_buttons: int = 11
    axis_linear: int = JoyConfig.axis_linear
    axis_angular: int = JoyConfig.axis_angular
    deadman_button: int = JoyConfig.enable_button
    turbo_button: int = JoyConfig.turbo_button


XBOX = PadLayout()


@dataclass(frozen=True)
class Segment:
    duration_s: float
    linear: float  # stick, [-1, 1], up is +
    angular: float  # stick, [-1, 1], left is +
    deadman: bool = False
    turbo: bool = False


RELEASED = Segment(math.inf, 0.0, 0.0)  # before the script starts and after it ends


def _error(index: int, text: str, en: str, ko: str) -> ValueError:
    text = text if len(text) <= 60 else text[:57] + "..."
    return ValueError(
        f"input script segment {index + 1} '{text}': {en} / 입력 스크립트 {index + 1}번째 구간 '{text}': {ko}"
    )


def _stick(value: str, index: int, text: str, name: str, name_ko: str) -> float:
    try:
        stick = float(value)
    except ValueError:
        stick = math.nan
    if not -1.0 <= stick <= 1.0:  # also refuses nan
        raise _error(
            index,
            text,
            f"{name} must be a number in [-1, 1], got '{value}'",
            f"{name_ko} 값은 -1 이상 1 이하의 숫자여야 합니다 ('{value}')",
        )
    return stick


def parse_script(script: str) -> tuple[Segment, ...]:
    """The segments of a script, in order. Raises a bilingual ValueError naming the bad segment."""
    if len(script) > MAX_SCRIPT_CHARS:
        raise ValueError(
            f"input script longer than {MAX_SCRIPT_CHARS} characters "
            f"/ 입력 스크립트가 {MAX_SCRIPT_CHARS}자보다 깁니다"
        )
    texts = [text.strip() for text in script.split(";")]
    if texts and not texts[-1]:
        texts.pop()  # a trailing ';' is harmless
    if not texts:
        raise ValueError("input script is empty / 입력 스크립트가 비어 있습니다")
    if len(texts) > MAX_SEGMENTS:
        raise ValueError(
            f"input script has more than {MAX_SEGMENTS} segments "
            f"/ 입력 스크립트의 구간이 {MAX_SEGMENTS}개보다 많습니다"
        )
    segments = []
    for index, text in enumerate(texts):
        fields = text.split()
        if len(fields) < 3:
            raise _error(
                index,
                text,
                "expected 'SECONDS LINEAR ANGULAR [deadman] [turbo]'",
                "'초 전후 좌우 [deadman] [turbo]' 형식이어야 합니다",
            )
        try:
            duration_s = float(fields[0])
        except ValueError:
            duration_s = math.nan
        if not 0.0 < duration_s < math.inf:
            raise _error(
                index,
                text,
                f"SECONDS must be a number > 0, got '{fields[0]}'",
                f"시간(초)은 0보다 큰 숫자여야 합니다 ('{fields[0]}')",
            )
        words = fields[3:]
        for word in words:
            if word not in _WORDS or words.count(word) > 1:
                raise _error(
                    index,
                    text,
                    f"unknown or repeated word '{word}' (only 'deadman', 'turbo')",
                    f"'{word}'는 모르는 단어이거나 두 번 쓰였습니다 ('deadman', 'turbo'만 씁니다)",
                )
        segments.append(
            Segment(
                duration_s,
                _stick(fields[1], index, text, "LINEAR", "전후(LINEAR)"),
                _stick(fields[2], index, text, "ANGULAR", "좌우(ANGULAR)"),
                deadman="deadman" in words,
                turbo="turbo" in words,
            )
        )
    return tuple(segments)


def script_duration_s(segments: tuple[Segment, ...]) -> float:
    return math.fsum(segment.duration_s for segment in segments)


def segment_at(segments: tuple[Segment, ...], t: float) -> Segment:
    """The segment in force at script time `t` (segments are half-open: [start, end))."""
    if t < 0.0:
        return RELEASED
    ends = list(accumulate(segment.duration_s for segment in segments))
    index = bisect.bisect_right(ends, t)
    return segments[index] if index < len(segments) else RELEASED


def joy_state(segment: Segment, layout: PadLayout = XBOX) -> tuple[list[float], list[int]]:
    """(axes, buttons) of a Joy message for one segment."""
    axes = [0.0] * layout.n_axes
    buttons = [0] * layout.n_buttons
    axes[layout.axis_linear] = segment.linear
    axes[layout.axis_angular] = segment.angular
    buttons[layout.deadman_button] = int(segment.deadman)
    buttons[layout.turbo_button] = int(segment.turbo)
    return axes, buttons


def joy_at(script: str | tuple[Segment, ...], t: float) -> tuple[list[float], list[int]]:
    """(axes, buttons) at script time `t` s: what the player publishes then."""
    segments = parse_script(script) if isinstance(script, str) else script
    return joy_state(segment_at(segments, t))
