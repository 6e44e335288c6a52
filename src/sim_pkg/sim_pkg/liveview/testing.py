"""Helpers for tests that open the view in a real headless browser (Debian's Chromium, driven
by Playwright). Playwright's own browser download is not used: the system's Chromium is."""

from __future__ import annotations

import contextlib
import shutil
import socket
import time
import urllib.request

import pytest

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")

# Two different Hangul syllables must come out as two different, inked pictures: with no CJK
# font, Chromium draws the same empty box (tofu) for both, like for a code point no font has.
KOREAN_GLYPHS_JS = """() => {
  const font = getComputedStyle(document.body).fontFamily;
  const c = document.createElement("canvas"); c.width = 64; c.height = 64;
  const g = c.getContext("2d");
  const ink = (text) => {
    g.clearRect(0, 0, 64, 64); g.font = `40px ${font}`; g.fillStyle = "#000";
    g.fillText(text, 4, 48);
    return Array.from(g.getImageData(0, 0, 64, 64).data.filter((_, i) => i % 4 === 3)).join(",");
  };
  const ga = ink("가"), na = ink("나"), missing = ink("\\u{10FFFD}"), blank = ink("");
  return {font, inked: ga !== blank && na !== blank, distinct: ga !== na,
          notTofu: ga !== missing && na !== missing};
}"""


def chromium_path() -> str:
    for path in CHROMIUM_PATHS:
        if shutil.which(path):
            return path
    pytest.skip("chromium is not installed (make system-packages installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout_s: float, alive=lambda: True) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and alive():
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2):
            return
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout_s} s")


@contextlib.contextmanager
def browser_page(width: int = 1280, height: int = 800):
    """A Playwright page in headless Chromium."""
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = chromium_path()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()
