"""The live view in a real headless browser: the simulator in its own process, the robot driven
over DDS from this one, the page in Chromium."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from geometry_msgs.msg import PoseStamped, TwistStamped
from nav_msgs.msg import Path as PathMsg

from sim_pkg.liveview.testing import (
    KOREAN_GLYPHS_JS,
    browser_page,
    chromium_path,
    free_port,
    wait_for_http,
)

SCENARIO = Path(__file__).resolve().parents[2] / "curriculum_pkg/scenarios/banwol_plating_01.yaml"
SHOTS = Path(__file__).resolve().parents[3] / "runs/test-screenshots"


def drawn(page) -> dict:
    return page.evaluate("() => window.rootroute.drawn")


def canvas_picture(page) -> np.ndarray:
    png = page.locator("#floor").screenshot()
    return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)


@pytest.fixture
def live_sim(ros_process):
    chromium_path()  # skip early, before starting anything, if there is no browser
    port = free_port()
    proc = ros_process(
        "sim_pkg.nodes.bridge_node",
        params={"scenario": SCENARIO, "view_port": port, "real_time_factor": 2.0},
    )
    url = f"http://localhost:{port}/"
    wait_for_http(url + "api/info", 40, alive=lambda: proc.poll() is None)
    return url


def test_live_view_shows_the_robot_moving_its_scan_and_student_paths_in_korean(live_sim, ros_node):
    node = ros_node
    cmd = node.create_publisher(TwistStamped, "/cmd_vel", 10)
    plan = node.create_publisher(PathMsg, "/student/plan", 10)

    def drive() -> None:
        msg = TwistStamped()
        msg.twist.linear.x, msg.twist.angular.z = 0.2, 0.3
        cmd.publish(msg)
        path = PathMsg()
        path.header.frame_id = "map"
        for x in (1.0, 2.0, 3.0):
            pose = PoseStamped()
            pose.pose.position.x, pose.pose.position.y = x, 2.5
            path.poses.append(pose)
        plan.publish(path)

    node.create_timer(0.05, drive)
    with browser_page() as page:
        page.goto(live_sim)
        page.wait_for_function(
            "() => window.rootroute.ready && window.rootroute.drawn.scanPoints > 50", timeout=30000
        )
        assert page.locator("#lang-ko").inner_text() == "한국어"
        assert "라이다" in page.locator("aside").inner_text()  # Korean first
        node.spin_until(lambda: False, 1.0)
        before, first = drawn(page), canvas_picture(page)
        SHOTS.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(SHOTS / "liveview_1.png"), first)
        node.spin_until(lambda: False, 2.5)  # the robot drives on (sim at 2x)
        page.wait_for_function("() => window.rootroute.drawn.overlays > 0", timeout=10000)
        after, second = drawn(page), canvas_picture(page)
        cv2.imwrite(str(SHOTS / "liveview_2.png"), second)

        # The robot's drawn pose moved, and the picture changed where it was.
        assert after["t"] > before["t"]
        moved_m = np.hypot(
            after["true"][0] - before["true"][0], after["true"][1] - before["true"][1]
        )
        assert moved_m > 0.15, (before, after)
        scale = first.shape[1] / page.evaluate("() => document.getElementById('floor').width")
        x, y = (round(v * scale) for v in before["robotPx"])
        r = round(25 * scale)
        region = (slice(max(0, y - r), y + r), slice(max(0, x - r), x + r))
        assert np.abs(first[region].astype(int) - second[region].astype(int)).sum() > 1000
        assert after["odom"] is not None and after["scanPoints"] > 50
        # The scan is drawn: its red points are in the picture.
        red = (second[:, :, 2] > 200) & (second[:, :, 1] < 80) & (second[:, :, 0] < 80)
        assert red.sum() > 100

        # Korean renders with a real CJK font, not as empty boxes.
        glyphs = page.evaluate(KOREAN_GLYPHS_JS)
        assert glyphs["inked"] and glyphs["distinct"] and glyphs["notTofu"], glyphs

        # English on request; the page pauses the simulation and it resumes.
        page.click("#lang-en")
        assert "lidar" in page.locator("aside").inner_text()
        page.click("#play")
        page.wait_for_function("() => window.rootroute.state.paused", timeout=5000)
        paused_at = drawn(page)["t"]
        node.spin_until(lambda: False, 1.0)
        assert drawn(page)["t"] == pytest.approx(paused_at, abs=0.05)
        page.click("#play")
        page.wait_for_function(f"() => window.rootroute.drawn.t > {paused_at} + 0.2", timeout=5000)
