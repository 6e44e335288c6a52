"""Fonts for Korean text in matplotlib pictures (scenario previews, reports).

matplotlib's default font has no Hangul: Korean labels would come out as tofu boxes. Debian's
fonts-nanum (`make setup` installs it) is the usual fix; it is often installed after matplotlib
cached its font list, so the cache alone does not know it.
"""

from __future__ import annotations

import functools

# Families that carry Hangul, most preferred first (Debian: fonts-nanum, fonts-noto-cjk).
KOREAN_FONT_FAMILIES = (
    "NanumGothic",
    "NanumBarunGothic",
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "Source Han Sans K",
    "UnDotum",
    "Baekmuk Gulim",
)


def _has_hangul(path: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        return FT2Font(path).get_char_index(ord("한")) != 0
    except (OSError, RuntimeError):
        return False


@functools.lru_cache(maxsize=1)
def hangul_font() -> str | None:
    """The family name of an installed font with Hangul, known to matplotlib; None if none is."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    known = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in KOREAN_FONT_FAMILIES:
        if family in known and _has_hangul(known[family]):
            return family
    # Installed after matplotlib cached its font list: look on disk, and register it.
    files: dict[str, list[str]] = {}
    for path in sorted(font_manager.findSystemFonts()):
        try:
            files.setdefault(FT2Font(path).family_name, []).append(path)
        except (OSError, RuntimeError):
            continue
    rank = {family: i for i, family in enumerate(KOREAN_FONT_FAMILIES)}
    for family in sorted(files, key=lambda f: (rank.get(f, len(rank)), f)):
        if _has_hangul(files[family][0]):
            for path in files[family]:  # every weight, so that bold text finds its face
                font_manager.fontManager.addfont(path)
            return family
    return None


def boldest_weight(family: str) -> int:
    """The heaviest weight a family has installed: asking matplotlib for 700 where the family's
    bold is 600 (Nanum Gothic) works, but warns on every text."""
    from matplotlib import font_manager

    weights = [
        w if isinstance(w, int) else font_manager.weight_dict.get(w, 400)
        for w in (f.weight for f in font_manager.fontManager.ttflist if f.name == family)
    ]
    return max(weights, default=700)
