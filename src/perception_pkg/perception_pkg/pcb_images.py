"""Procedural PCB artwork: a good board or one of three defects, drawn from (label, seed).

The artwork is what the inspection model learns from, so it is drawn the way a real board looks
from a metre away: green solder mask with a white silkscreen frame at the edge (high contrast
against any background, so the board is easy to find), tinned copper pads, traces under the mask,
an SOIC chip, SMD resistors and capacitors, an electrolytic capacitor, a pin header, mounting
holes and silkscreen labels. Placement and colours vary with the seed.

검사 모델이 배우는 PCB 그림을 (라벨, 시드)로부터 그립니다: 정상 보드 또는 세 가지 불량
(부품 누락, 납땜 브리지, 스크래치). 시드마다 부품 위치와 색이 조금씩 달라집니다.

Images are RGB uint8, `ARTWORK_HEIGHT_PX x ARTWORK_WIDTH_PX x 3`, row 0 at the board's top edge.
"""

from __future__ import annotations

import zlib

import cv2
import numpy as np

ARTWORK_WIDTH_PX = 256
ARTWORK_HEIGHT_PX = 192
FRAME_WIDTH_PX = 5  # white silkscreen frame at the board edge
LABELS = ("good", "missing_component", "solder_bridge", "scratch")
LABELS_KO = {
    "good": "정상",
    "missing_component": "부품 누락",
    "solder_bridge": "납땜 브리지",
    "scratch": "스크래치(패턴 단선)",
}

_TIN = (205, 205, 200)  # tinned (HASL) copper pads
_SILK = (240, 240, 232)  # silkscreen ink
_SOLDER = (235, 235, 240)  # a solder blob: brighter and bluer than the pads
_CUT = (236, 196, 128)  # a scratch through the mask: bare copper and fibreglass


def _defect_rng(label: str, seed: int) -> np.random.Generator:
    """The defect's own random stream, so a defect never moves the parts of the board."""
    if label not in LABELS:
        raise ValueError(f"unknown label {label!r} / 알 수 없는 라벨입니다; choose from {LABELS}")
    return np.random.default_rng([seed, zlib.crc32(label.encode())])  # stable across runs


def _jitter(rng: np.random.Generator, xy: tuple[int, int], spread_px: int) -> tuple[int, int]:
    dx, dy = rng.integers(-spread_px, spread_px + 1, size=2)
    return int(xy[0] + dx), int(xy[1] + dy)


def _shade(rng: np.random.Generator, rgb: tuple[int, int, int], spread: int) -> tuple[int, ...]:
    return tuple(int(np.clip(c + rng.integers(-spread, spread + 1), 0, 255)) for c in rgb)


def _soic_pins(origin: tuple[int, int], pins_per_side: int = 8) -> list[tuple[int, int, int, int]]:
    """Pin rectangles (x0, y0, x1, y1) of an SOIC whose body's top-left corner is `origin`."""
    x0, y0 = origin
    pins = []
    for i in range(pins_per_side):
        x = x0 + 4 + i * 7
        pins.append((x, y0 - 8, x + 3, y0 - 1))  # top row
        pins.append((x, y0 + 33, x + 3, y0 + 40))  # bottom row
    return pins


def draw_board(label: str, seed: int) -> np.ndarray:
    """Draw one board. Same (label, seed), same pixels.

    The seed alone sets the layout and colours: `draw_board("scratch", 7)` is board 7 of
    `draw_board("good", 7)` with a scratch on it (같은 시드 = 같은 보드, 불량만 다름).
    """
    defect_rng = _defect_rng(label, seed)
    rng = np.random.default_rng(seed)
    h, w = ARTWORK_HEIGHT_PX, ARTWORK_WIDTH_PX
    mask = _shade(rng, (28, 112, 52), 10)
    trace = tuple(min(255, c + 28) for c in mask)  # copper under the mask shows lighter
    img = np.empty((h, w, 3), np.uint8)
    img[:] = mask
    cv2.rectangle(img, (0, 0), (w - 1, h - 1), _SILK, FRAME_WIDTH_PX * 2)  # half lies outside

    chip = _jitter(rng, (44, 60), 5)  # SOIC body top-left, 60 x 32 px
    ecap = _jitter(rng, (200, 58), 4)  # electrolytic capacitor centre
    header = _jitter(rng, (40, 160), 3)  # 2.54 mm header, first pad
    passives = [_jitter(rng, xy, 4) for xy in ((140, 112), (140, 140), (190, 118), (190, 146))]
    pins = _soic_pins(chip)

    # Traces first, then pads over them.
    routes = []
    for i, (x0, _, x1, y1) in enumerate(pins):
        if i % 2 == 1 and i % 4 == 1:  # every other bottom pin runs down to the header
            hx = header[0] + (i // 4) * 13
            routes.append([((x0 + x1) // 2, y1), ((x0 + x1) // 2, y1 + 10), (hx, header[1])])
    routes.append([(chip[0] + 60, chip[1] + 16), passives[0], passives[2]])
    routes.append([(chip[0] + 60, chip[1] + 24), passives[1], passives[3]])
    routes.append([(ecap[0], ecap[1] + 14), (ecap[0], passives[2][1])])
    routes.append([(pins[0][0] + 1, pins[0][1]), (pins[0][0] + 1, 28), (224, 28)])
    for route in routes:
        cv2.polylines(img, [np.array(route, np.int32)], False, trace, 3)

    missing = ""
    if label == "missing_component":
        missing = "chip" if defect_rng.random() < 0.6 else "ecap"

    for x0, y0, x1, y1 in pins:
        cv2.rectangle(img, (x0, y0), (x1, y1), _TIN, -1)
    if missing != "chip":
        cv2.rectangle(img, (chip[0], chip[1]), (chip[0] + 60, chip[1] + 32), (24, 24, 26), -1)
        cv2.circle(img, (chip[0] + 6, chip[1] + 26), 2, (90, 90, 90), -1)  # pin-1 dimple
    cv2.putText(img, "U1", (chip[0], chip[1] + 52), cv2.FONT_HERSHEY_PLAIN, 0.8, _SILK, 1)

    for i, (px, py) in enumerate(passives):
        body = (30, 30, 30) if i % 2 == 0 else _shade(rng, (196, 150, 96), 12)  # R or C
        cv2.rectangle(img, (px - 9, py - 4), (px - 5, py + 4), _TIN, -1)
        cv2.rectangle(img, (px + 5, py - 4), (px + 9, py + 4), _TIN, -1)
        cv2.rectangle(img, (px - 6, py - 4), (px + 6, py + 4), body, -1)
        name = f"R{i // 2 + 1}" if i % 2 == 0 else f"C{i // 2 + 1}"
        cv2.putText(img, name, (px - 8, py - 7), cv2.FONT_HERSHEY_PLAIN, 0.6, _SILK, 1)

    cv2.circle(img, ecap, 17, _SILK, 1)  # silkscreen outline stays when the part is missing
    cv2.rectangle(img, (ecap[0] - 3, ecap[1] - 14), (ecap[0] + 3, ecap[1] - 8), _TIN, -1)
    cv2.rectangle(img, (ecap[0] - 3, ecap[1] + 8), (ecap[0] + 3, ecap[1] + 14), _TIN, -1)
    if missing != "ecap":
        cv2.circle(img, ecap, 15, (180, 182, 190), -1)
        cv2.ellipse(img, ecap, (15, 15), 0, 200, 340, (30, 40, 120), -1)  # polarity band
        cv2.line(img, (ecap[0] - 8, ecap[1]), (ecap[0] + 8, ecap[1]), (120, 120, 126), 2)

    for i in range(6):
        centre = (header[0] + i * 13, header[1])
        cv2.circle(img, centre, 5, _TIN, -1)
        cv2.circle(img, centre, 2, (20, 20, 20), -1)
    for corner in ((18, 18), (w - 19, 18), (18, h - 19), (w - 19, h - 19)):
        cv2.circle(img, corner, 6, (200, 170, 90), -1)  # gold-plated mounting hole
        cv2.circle(img, corner, 3, (18, 18, 18), -1)
    cv2.putText(img, "R&R-01", (150, 182), cv2.FONT_HERSHEY_PLAIN, 0.8, _SILK, 1)

    if label == "solder_bridge":
        _draw_solder_bridge(img, defect_rng, pins)
    elif label == "scratch":
        _draw_scratch(img, defect_rng, mask, routes)
    return img


def _draw_solder_bridge(img: np.ndarray, rng: np.random.Generator, pins: list) -> None:
    """A bright blob shorting two or three neighbouring chip pins."""
    row = int(rng.integers(0, 2))
    first = int(rng.integers(0, 6))
    span = int(rng.integers(2, 4))
    row_pins = pins[row::2][first : first + span]
    x0, y0 = row_pins[0][0] - 1, row_pins[0][1] + 1
    x1, y1 = row_pins[-1][2] + 1, row_pins[-1][3] - 1
    centre = ((x0 + x1) // 2, (y0 + y1) // 2)
    axes = ((x1 - x0) // 2 + 2, (y1 - y0) // 2 + 2)
    cv2.ellipse(img, centre, axes, 0, 0, 360, _SOLDER, -1)
    cv2.ellipse(img, (centre[0] - 2, centre[1] - 1), (axes[0] // 2, 1), 0, 0, 360, (255,) * 3, -1)


def _draw_scratch(img: np.ndarray, rng: np.random.Generator, mask: tuple, routes: list) -> None:
    """A gouge through the solder mask across one trace, cutting it."""
    route = routes[int(rng.integers(0, len(routes)))]
    k = int(rng.integers(0, len(route) - 1))
    t = float(rng.uniform(0.3, 0.7))
    cx = route[k][0] + t * (route[k + 1][0] - route[k][0])
    cy = route[k][1] + t * (route[k + 1][1] - route[k][1])
    half_px = float(rng.uniform(28, 50))
    angle_rad = float(rng.uniform(0, np.pi))
    h, w = img.shape[:2]
    ends = [
        (
            int(np.clip(cx + s * half_px * np.cos(angle_rad), 10, w - 11)),
            int(np.clip(cy + s * half_px * np.sin(angle_rad), 10, h - 11)),
        )
        for s in (-1, 1)
    ]
    dark = tuple(max(0, c - 20) for c in mask)
    cv2.line(img, ends[0], ends[1], dark, 6)  # the torn mask around the cut
    cv2.line(img, ends[0], ends[1], _CUT, 2)
