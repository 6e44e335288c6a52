"""The live view's web server (ROS-free): a page, its data, and the commands it sends back.

Standard library only (`http.server`): the page and its script are files of this package, and
the data goes out as Server-Sent Events, so it works offline on a school PC and in any browser.

    GET  /                  the page (static/index.html, app.js, style.css)
    GET  /api/info          {"mode": "live" | "replay", "title": {...}}
    GET  /api/scene         the floor plan (scene.floor_plan)
    GET  /api/stream        live: one `data: {state}` event per update (Server-Sent Events)
    GET  /api/camera.jpg    live: the newest camera frame
    POST /api/command       live: {"paused": bool} and/or {"speed": factor}
    GET  /api/replay        replay: the whole recording, as the page needs it

It listens on localhost only: the view is for the person at this computer.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

import numpy as np

from common_pkg.worldspec import Pose2D, WorldSpec
from sim_pkg.liveview.scene import actor_poses, floor_plan, pose_json

STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
MAX_SPEED = 20.0  # the page offers 0.25x .. 8x and "as fast as possible" (0)
HEARTBEAT_S = 5.0  # an idle stream sends a comment this often, so a closed tab is noticed
MAX_COMMAND_BYTES = 1024


@dataclass(frozen=True)
class LiveCommands:
    """What the page asked for: the simulator honours it (see liveview.pacing.SteerablePacer)."""

    paused: bool = False
    speed: float = 1.0  # real-time factor; 0 = as fast as possible


def _static(name: str) -> bytes:
    return resources.files("sim_pkg.liveview").joinpath("static", name).read_bytes()


class ViewServer:
    """Serves the page and the routes a view adds (`routes`: path -> () -> (body, type))."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.host, self.requested_port = host, port
        self.routes: dict[str, callable] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.closing = threading.Event()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1] if self._httpd else self.requested_port

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}/"

    def start(self) -> str:
        """Listen (on `port`, or on any free one if that is taken) and serve on a daemon
        thread; returns the page's URL."""
        handler = type("Handler", (_Handler,), {"view": self})
        try:
            self._httpd = ThreadingHTTPServer((self.host, self.requested_port), handler)
        except OSError:  # the port is taken (another simulator?): any free one will do
            self._httpd = ThreadingHTTPServer((self.host, 0), handler)
        self._httpd.daemon_threads = True
        # stop() must not wait for a handler still reading a kept-alive connection or streaming:
        # ThreadingMixIn.server_close joins every handler thread unless this is off (seen: a
        # `rootroute view` that took over 30 s to end on Ctrl-C)
        self._httpd.block_on_close = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="liveview-http", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self.closing.set()
        self.on_stop()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def on_stop(self) -> None:
        """Wake anything waiting on the view (streams), so that its threads end."""

    def stream(self, handler: BaseHTTPRequestHandler) -> None:
        handler.send_error(HTTPStatus.NOT_FOUND)

    def command(self, data: dict) -> dict:
        raise ValueError("this view takes no commands")


class _Handler(BaseHTTPRequestHandler):
    view: ViewServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args) -> None:  # quiet: the terminal belongs to the simulator's log
        pass

    def _send(self, body: bytes, content_type: str, status: int = HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path in STATIC_FILES:
            name, content_type = STATIC_FILES[path]
            self._send(_static(name), content_type)
        elif path == "/api/stream":
            self.view.stream(self)
        elif path in self.view.routes:
            body, content_type = self.view.routes[path]()
            if body is None:
                self.send_error(HTTPStatus.NOT_FOUND)
            else:
                self._send(body, content_type)
        else:
            self.send_error(HTTPStatus.NOT_FOUND)

    def do_POST(self) -> None:
        if self.path != "/api/command":
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            if length > MAX_COMMAND_BYTES:
                raise ValueError("command too long")
            answer = self.view.command(json.loads(self.rfile.read(length) or b"{}"))
        except (ValueError, TypeError) as exc:
            self._send(json.dumps({"error": str(exc)}).encode(), "application/json", 400)
            return
        self._send(json.dumps(answer).encode(), "application/json")


def json_route(data) -> callable:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return lambda: (body, "application/json; charset=utf-8")


class LiveView(ViewServer):
    """The simulator's live view. The simulation loop calls `update()` (cheap when no browser
    is connected) and reads `commands()`; the page draws what it is sent.

        view = LiveView(world_spec, port=8765, speed=1.0)
        url = view.start()
        ... view.update(t, true_pose, odom_pose, scan_xy=..., overlays=..., progress=...)
        ... view.commands().paused
        view.stop()
    """

    def __init__(
        self,
        world: WorldSpec,
        port: int = 8765,
        speed: float = 1.0,
        title: dict | None = None,
        host: str = "127.0.0.1",
        camera_max_hz: float = 3.0,
    ):
        super().__init__(port, host)
        self.world = world
        self._commands = LiveCommands(False, float(speed))
        self._lock = threading.Condition()
        self._state: bytes = b"{}"
        self._version = 0
        self._clients = 0
        self._jpeg: bytes | None = None
        self._camera_seq = 0
        self._camera_period_s = 1.0 / camera_max_hz
        self._last_camera = -float("inf")
        self.routes["/api/info"] = json_route({"mode": "live", "title": title or {}})
        self.routes["/api/scene"] = json_route(floor_plan(world))
        self.routes["/api/camera.jpg"] = lambda: (self._jpeg, "image/jpeg")

    # ------------------------------------------------------------------ the simulation's side
    @property
    def clients(self) -> int:
        """Browsers connected now."""
        return self._clients

    def update(
        self,
        time_s: float,
        true_pose: Pose2D,
        odom_pose: Pose2D | None = None,
        scan_xy: list | None = None,
        overlays: list[dict] | None = None,
        progress: dict | None = None,
        actors: list | None = None,
        achieved_speed: float | None = None,
    ) -> None:
        """The newest state, sent to every connected page. `odom_pose`: where /odom says the
        robot is, in the world frame; `scan_xy`: lidar returns as world points; `overlays`:
        the student's paths, poses and markers (see ros.live_feed); `progress`: {"ko", "en"};
        `actors`: [x, y, yaw] each (default: computed from the scenario at `time_s`)."""
        if not self._clients:
            return
        commands = self._commands
        state = {
            "t": round(time_s, 3),
            "true": pose_json(true_pose),
            "odom": pose_json(odom_pose),
            "scan": scan_xy or [],
            "actors": actor_poses(self.world, time_s) if actors is None else actors,
            "overlays": overlays or [],
            "progress": progress,
            "camera_seq": self._camera_seq if self._jpeg is not None else None,
            "paused": commands.paused,
            "speed": commands.speed,
            "achieved_speed": None if achieved_speed is None else round(achieved_speed, 2),
        }
        body = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        with self._lock:
            self._state = body
            self._version += 1
            self._lock.notify_all()

    def camera_due(self) -> bool:
        """Is a new camera frame wanted now? (A browser is connected and the last frame is at
        least 1 / camera_max_hz old, in wall time.) Encoding is the costly part: ask first."""
        return self._clients > 0 and time.monotonic() - self._last_camera >= self._camera_period_s

    def set_camera_jpeg(self, jpeg: bytes) -> None:
        self._jpeg = bytes(jpeg)
        self._camera_seq += 1
        self._last_camera = time.monotonic()

    def set_camera_rgb(self, frame: np.ndarray) -> None:
        """An RGB frame (height x width x 3, uint8), encoded as JPEG if `camera_due()`."""
        if not self.camera_due():
            return
        import cv2

        ok, jpeg = cv2.imencode(".jpg", frame[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 75])
        if ok:
            self.set_camera_jpeg(jpeg.tobytes())

    def commands(self) -> LiveCommands:
        return self._commands

    # ------------------------------------------------------------------ the page's side
    def command(self, data: dict) -> dict:
        if not isinstance(data, dict):
            raise ValueError("a command is a JSON object")
        paused, speed = self._commands.paused, self._commands.speed
        if "paused" in data:
            paused = bool(data["paused"])
        if "speed" in data:
            speed = float(data["speed"])
            if not 0.0 <= speed <= MAX_SPEED:
                raise ValueError(f"speed must be within 0 .. {MAX_SPEED:g}")
        self._commands = LiveCommands(paused, speed)
        return {"paused": paused, "speed": speed}

    def on_stop(self) -> None:
        with self._lock:
            self._lock.notify_all()

    def stream(self, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(HTTPStatus.OK)
        handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
        handler.send_header("Cache-Control", "no-store")
        handler.end_headers()
        handler.close_connection = True
        seen = -1
        with self._lock:
            self._clients += 1
        try:
            while not self.closing.is_set():
                with self._lock:
                    if self._version == seen:
                        self._lock.wait(HEARTBEAT_S)
                    fresh = self._version != seen
                    seen, body = self._version, self._state
                handler.wfile.write(b"data: " + body + b"\n\n" if fresh else b": ping\n\n")
                handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the tab was closed
        finally:
            with self._lock:
                self._clients -= 1
