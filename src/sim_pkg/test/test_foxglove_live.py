"""The simulator's Foxglove live view, seen by a WebSocket client speaking Foxglove's protocol:
the simulator runs in its own process, this test is the Foxglove app."""

import asyncio
import base64
import json
import math
import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import websockets
from geometry_msgs.msg import PoseStamped
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from nav_msgs.msg import Odometry
from nav_msgs.msg import Path as PathMsg
from rclpy.serialization import deserialize_message

from sim_pkg.ros.foxglove_live import scene_update

SCENARIO = Path(__file__).resolve().parents[2] / "curriculum_pkg/scenarios/banwol_plating_01.yaml"
# foxglove-sdk 0.30 accepts the first; the Foxglove app offers both, older servers take the second.
SUBPROTOCOLS = ["foxglove.sdk.v1", "foxglove.websocket.v1"]
MESSAGE_DATA = 0x01  # binary opcode: uint32 subscription id, uint64 log time (ns), payload

pytestmark = pytest.mark.timeout(60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FoxgloveClient:
    """The part of the Foxglove app this test needs: channels as advertised, and messages."""

    def __init__(self, ws):
        self.ws = ws
        self.channels: dict[str, dict] = {}  # topic -> its advertise entry
        self.server_info: dict = {}
        self._subscriptions: dict[int, str] = {}  # subscription id -> topic
        self.received: dict[str, list[tuple[int, bytes]]] = {}  # topic -> (log time, payload)
        self.statuses: list[str] = []  # what the server reported (e.g. a refused subscription)

    @classmethod
    async def connect(cls, port: int, timeout_s: float) -> "FoxgloveClient":
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                ws = await websockets.connect(
                    f"ws://127.0.0.1:{port}", subprotocols=SUBPROTOCOLS, max_size=None
                )
                return cls(ws)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)

    async def _receive_one(self, timeout_s: float) -> None:
        frame = await asyncio.wait_for(self.ws.recv(), timeout_s)
        if isinstance(frame, str):
            message = json.loads(frame)
            if message["op"] == "serverInfo":
                self.server_info = message
            elif message["op"] == "advertise":
                self.channels.update({c["topic"]: c for c in message["channels"]})
            elif message["op"] == "status":
                self.statuses.append(message.get("message", ""))
        elif frame[0] == MESSAGE_DATA:
            subscription, log_time_ns = struct.unpack_from("<IQ", frame, 1)
            topic = self._subscriptions[subscription]
            self.received.setdefault(topic, []).append((log_time_ns, frame[13:]))

    async def until(self, condition, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while not condition() and time.monotonic() < deadline:
            try:
                await self._receive_one(max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break
        return condition()

    async def subscribe(self, *topics: str) -> None:
        subscriptions = []
        for topic in topics:
            sub_id = len(self._subscriptions) + 1
            self._subscriptions[sub_id] = topic
            subscriptions.append({"id": sub_id, "channelId": self.channels[topic]["id"]})
        await self.ws.send(json.dumps({"op": "subscribe", "subscriptions": subscriptions}))


def decode_protobuf(schema_name: str, descriptor_set: bytes, payload: bytes):
    """A foxglove.* message decoded with its schema (a protobuf FileDescriptorSet), as the app
    does: the SDK's own message objects cannot be read back."""
    pool = descriptor_pool.DescriptorPool()
    for file in descriptor_pb2.FileDescriptorSet.FromString(descriptor_set).file:
        pool.Add(file)
    message_type = pool.FindMessageTypeByName(schema_name)
    return message_factory.GetMessageClass(message_type).FromString(payload)


def test_scene_has_the_floor_plan_in_the_world_frame(empty_room):
    update = scene_update(empty_room, t_ns=1_500_000_000)
    schema = update.get_schema()
    scene = decode_protobuf(schema.name, schema.data, update.encode())
    entities = {e.id: e for e in scene.entities}
    walls = entities["walls"]
    assert walls.frame_id == "world" and len(walls.cubes) == 4
    assert {round(c.size.z, 3) for c in walls.cubes} == {1.0}  # the room's 1 m walls
    assert {round(c.pose.position.z, 3) for c in walls.cubes} == {0.5}  # standing on the floor
    floor = entities["floor"].cubes[0]
    assert (floor.pose.position.x, floor.pose.position.y) == (2.0, 2.0)  # the room's centre
    assert (walls.timestamp.seconds, walls.timestamp.nanos) == (1, 500_000_000)  # sim time


@pytest.fixture
def sim_cli(ros_domain, tmp_path):
    """`rootroute sim banwol_plating_01 --foxglove-port PORT` in a process of its own."""
    port = free_port()
    log_path = tmp_path / "sim.log"
    env = {**os.environ, **ros_domain.env(), "ROS_LOG_DIR": str(tmp_path / "ros_log")}
    args = [sys.executable, "-m", "curriculum_pkg.cli", "sim", "banwol_plating_01"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [*args, "--foxglove-port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    yield port, log_path
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_foxglove_sees_the_robot_topics_the_scene_and_the_true_pose(sim_cli):
    port, log_path = sim_cli

    async def session():
        client = await FoxgloveClient.connect(port, timeout_s=30)
        async with client.ws:
            wanted = {"/scan", "/odom", "/clock", "/rootroute/scene", "/rootroute/true_pose"}
            assert await client.until(lambda: wanted <= set(client.channels), 15), (
                f"advertised: {sorted(client.channels)}"
            )
            await client.subscribe("/odom", "/rootroute/scene")
            await client.until(
                lambda: (
                    len(client.received.get("/odom", [])) >= 3
                    and client.received.get("/rootroute/scene")
                ),
                10,
            )
            return client

    client = asyncio.run(session())
    channels = client.channels
    assert "time" in client.server_info["capabilities"]  # message times are sim times
    for topic, type_name in {
        "/scan": "sensor_msgs/msg/LaserScan",
        "/odom": "nav_msgs/msg/Odometry",
        "/clock": "rosgraph_msgs/msg/Clock",
    }.items():
        assert channels[topic]["encoding"] == "cdr"
        assert channels[topic]["schemaEncoding"] == "ros2msg"
        assert channels[topic]["schemaName"] == type_name
    assert "MSG: geometry_msgs/PoseWithCovariance" in channels["/odom"]["schema"]
    assert channels["/rootroute/scene"]["schemaName"] == "foxglove.SceneUpdate"
    assert channels["/rootroute/true_pose"]["schemaName"] == "foxglove.PoseInFrame"
    assert channels["/rootroute/tf"]["schemaName"] == "foxglove.FrameTransforms"

    log_time_ns, payload = client.received["/odom"][-1]
    odom = deserialize_message(payload, Odometry)
    assert (odom.header.frame_id, odom.child_frame_id) == ("odom", "base_footprint")
    stamp_ns = odom.header.stamp.sec * 1_000_000_000 + odom.header.stamp.nanosec
    assert stamp_ns == log_time_ns > 0
    p, q = odom.pose.pose.position, odom.pose.pose.orientation
    assert math.hypot(p.x, p.y) < 0.05  # nobody drives: it stays at the odom origin
    assert math.isclose(q.z**2 + q.w**2, 1.0, abs_tol=1e-6)

    _, scene_payload = client.received["/rootroute/scene"][0]
    scene_channel = channels["/rootroute/scene"]
    scene = decode_protobuf(
        scene_channel["schemaName"], base64.b64decode(scene_channel["schema"]), scene_payload
    )
    entities = {e.id: e for e in scene.entities}
    assert {"floor", "walls", "obstacles", "zones", "stations"} <= set(entities)
    assert len(entities["walls"].cubes) >= 4 and entities["walls"].frame_id == "world"
    assert entities["stations"].texts, "stations are labelled"
    assert f"ws://localhost:{port}" in log_path.read_text()


def test_a_path_the_student_publishes_appears_in_foxglove(ros_process, ros_node):
    port = free_port()
    bridge = ros_process(
        "sim_pkg.nodes.bridge_node",
        params={"scenario": SCENARIO, "real_time_factor": 2.0, "foxglove_port": port},
    )
    plan = ros_node.create_publisher(PathMsg, "/plan", 10)
    path = PathMsg()
    path.header.frame_id = "odom"
    for i in range(5):
        pose = PoseStamped()
        pose.pose.position.x = 0.1 * i
        path.poses.append(pose)

    async def session():
        client = await FoxgloveClient.connect(port, timeout_s=30)
        async with client.ws:
            deadline = time.monotonic() + 20
            while "/plan" not in client.channels and time.monotonic() < deadline:
                plan.publish(path)  # a planner republishes its plan; no spin needed to publish
                await client.until(lambda: "/plan" in client.channels, 0.2)
            assert "/plan" in client.channels, f"advertised: {sorted(client.channels)}"
            await client.subscribe("/plan")
            subscribed = time.monotonic()
            deadline = time.monotonic() + 20  # its own wait: a busy machine is slow at both
            while not client.received.get("/plan") and time.monotonic() < deadline:
                plan.publish(path)
                await client.until(lambda: bool(client.received.get("/plan")), 0.2)
                # On a busy machine foxglove-sdk can refuse a subscription that follows a new
                # channel's advertisement at once ("attempted to subscribe to unknown channel",
                # 1 run in 15 under a CPU hog): subscribe again, as a viewer would.
                if time.monotonic() - subscribed > 3.0:
                    await client.subscribe("/plan")
                    subscribed = time.monotonic()
            return client

    client = asyncio.run(session())
    channel = client.channels["/plan"]
    assert (channel["encoding"], channel["schemaName"]) == ("cdr", "nav_msgs/msg/Path")
    assert client.received.get("/plan"), (
        f"no /plan message reached the client; bridge alive: {bridge.poll() is None}, "
        f"matched subscriptions: {plan.get_subscription_count()}, "
        f"server statuses: {client.statuses}, "
        f"bridge log: {Path(bridge.log_path).read_text()[-2000:]}"
    )
    received = deserialize_message(client.received["/plan"][0][1], PathMsg)
    assert received.header.frame_id == "odom"
    assert [round(p.pose.position.x, 3) for p in received.poses] == [0.0, 0.1, 0.2, 0.3, 0.4]
