"""Write the PCB artwork that inspection scenarios put on display, as PNG files.

    python src/perception_pkg/scripts/make_inspection_items.py [OUT_DIR]

Default OUT_DIR: src/curriculum_pkg/scenarios/items. One board per (label, seed) below.
"""

import sys
from pathlib import Path

import cv2

from perception_pkg.pcb_images import draw_board

ITEMS = [
    (label, seed)
    for label in ("good", "missing_component", "solder_bridge", "scratch")
    for seed in (901, 902)
]


def main() -> None:
    out = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parents[2] / "curriculum_pkg/scenarios/items"
    )
    out.mkdir(parents=True, exist_ok=True)
    for label, seed in ITEMS:
        path = out / f"pcb_{label}_{seed}.png"
        cv2.imwrite(str(path), cv2.cvtColor(draw_board(label, seed), cv2.COLOR_RGB2BGR))
        print(path)


if __name__ == "__main__":
    main()
