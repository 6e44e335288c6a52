"""Episode recordings: real CDR in, real MCAP out, read back with the mcap libraries."""

import itertools
import signal
import time
from pathlib import Path

import pytest
from geometry_msgs.msg import Twist
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory
from nav_msgs.msg import Odometry
from rclpy.qos import qos_profile_sensor_data
from rclpy.serialization import serialize_message
from sensor_msgs.msg import CameraInfo, Image, LaserScan
from std_msgs.msg import String

from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.nodes.recorder_node import parse_topic
from curriculum_pkg.recording import (
    EPISODE_METADATA,
    RECORDING_METADATA,
    SIM_TOPIC_TYPES,
    EpisodeRecorder,
    RecordedTopic,
    RecordingError,
    episode_topics,
)
from sim_pkg.ros.msgdef import (
    DEFINITION_SEPARATOR,
    MessageTypeError,
    message_definition,
    split_type_name,
)

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
S_NS = 1_000_000_000


def read_bag(path):
    """(topic, schema name, log time ns, publish time ns, decoded message) for every message,
    and the file's metadata records by name."""
    with open(path, "rb") as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        assert reader.get_header().profile == "ros2"
        rows = [
            (ch.topic, schema.name, m.log_time, m.publish_time, decoded)
            for schema, ch, m, decoded in reader.iter_decoded_messages()
        ]
        summary = reader.get_summary()
        for channel in summary.channels.values():
            assert channel.message_encoding == "cdr"
        for schema in summary.schemas.values():
            assert schema.encoding == "ros2msg"
        metadata = {m.name: dict(m.metadata) for m in reader.iter_metadata()}
    return rows, metadata


def odometry(x_m: float) -> Odometry:
    msg = Odometry()
    msg.header.frame_id = "odom"
    msg.header.stamp.sec = 3
    msg.child_frame_id = "base_footprint"
    msg.pose.pose.position.x = x_m
    msg.pose.covariance[0] = 0.25
    msg.twist.twist.angular.z = -0.5
    return msg


def image(stamp_ns: int) -> Image:
    img = Image(height=2, width=2, encoding="rgb8", step=6, data=bytes(range(12)))
    img.header.stamp.sec, img.header.stamp.nanosec = divmod(stamp_ns, S_NS)
    return img


# ---------------------------------------------------------------------------------- the core
def test_recording_round_trips_real_cdr_with_topics_types_values_and_times(tmp_path):
    path = tmp_path / "ep.mcap"
    twist = Twist()
    twist.linear.x, twist.angular.z = 0.2, -0.7
    info = {"scenario_id": "banwol_plating_01", "variant": "2", "seed": "7", "assignment_id": "a"}
    with EpisodeRecorder(path, info) as rec:
        rec.add_topic("/never", "std_msgs/msg/String")
        assert rec.write("/cmd_vel", "geometry_msgs/msg/Twist", serialize_message(twist), 10)
        for i in range(3):
            odom = serialize_message(odometry(1.5 * i))
            assert rec.write("/odom", "nav_msgs/msg/Odometry", odom, S_NS + i, publish_time_ns=5)
        rec.write(
            "/steps", "std_msgs/msg/String", serialize_message(String(data="pick 부싱")), 2 * S_NS
        )
    rows, metadata = read_bag(path)

    assert [(t, s) for t, s, *_ in rows] == [
        ("/cmd_vel", "geometry_msgs/msg/Twist"),
        *[("/odom", "nav_msgs/msg/Odometry")] * 3,
        ("/steps", "std_msgs/msg/String"),
    ]
    assert [log for _, _, log, _, _ in rows] == [10, S_NS, S_NS + 1, S_NS + 2, 2 * S_NS]
    assert [pub for _, _, _, pub, _ in rows] == [
        10,
        5,
        5,
        5,
        2 * S_NS,
    ]  # publish time defaults to log
    cmd, odoms, steps = rows[0][4], [r[4] for r in rows[1:4]], rows[4][4]
    assert (cmd.linear.x, cmd.angular.z) == (0.2, -0.7)
    assert [o.pose.pose.position.x for o in odoms] == [0.0, 1.5, 3.0]
    assert odoms[2].header.frame_id == "odom" and odoms[2].child_frame_id == "base_footprint"
    assert odoms[2].header.stamp.sec == 3 and odoms[2].pose.covariance[0] == 0.25
    assert odoms[2].twist.twist.angular.z == -0.5
    assert steps.data == "pick 부싱"
    episode = metadata[EPISODE_METADATA]
    assert episode["scenario_id"] == "banwol_plating_01" and episode["variant"] == "2"
    assert episode["seed"] == "7" and episode["rootroute_version"]
    assert metadata[RECORDING_METADATA]["truncated"] == "false"
    assert metadata[RECORDING_METADATA]["messages"] == "5"


def test_declared_topic_without_messages_is_listed_in_the_file(tmp_path):
    with EpisodeRecorder(tmp_path / "ep.mcap") as rec:
        rec.add_topic("/inspection/report", "diagnostic_msgs/msg/KeyValue")
        assert rec.message_counts() == {"/inspection/report": 0}
    with open(tmp_path / "ep.mcap", "rb") as f:
        summary = make_reader(f).get_summary()
    (channel,) = summary.channels.values()
    assert channel.topic == "/inspection/report"
    assert summary.schemas[channel.schema_id].name == "diagnostic_msgs/msg/KeyValue"
    assert summary.statistics.channel_message_counts.get(channel.id, 0) == 0


def test_nested_schema_carries_every_dependency_once_after_the_type_itself():
    text = message_definition("nav_msgs/msg/Odometry")
    blocks = text.split(DEFINITION_SEPARATOR + "\n")
    assert "child_frame_id" in blocks[0] and "MSG:" not in blocks[0]
    names = [b.splitlines()[0] for b in blocks[1:]]
    assert sorted(names) == sorted(
        f"MSG: {t}"
        for t in (
            "std_msgs/Header",
            "builtin_interfaces/Time",
            "geometry_msgs/PoseWithCovariance",
            "geometry_msgs/Pose",
            "geometry_msgs/Point",
            "geometry_msgs/Quaternion",
            "geometry_msgs/TwistWithCovariance",
            "geometry_msgs/Twist",
            "geometry_msgs/Vector3",
        )
    )
    # Depth first, like rosbag2: a type's own dependencies follow it.
    assert (
        names.index("MSG: geometry_msgs/Pose")
        == names.index("MSG: geometry_msgs/PoseWithCovariance") + 1
    )
    assert "float64[36] covariance" in text and "int32 sec" in text


def test_byte_cap_stops_the_recording_and_says_where_in_metadata(tmp_path):
    payload = serialize_message(odometry(1.0))
    path = tmp_path / "capped.mcap"
    rec = EpisodeRecorder(path, max_bytes=len(payload) * 3 + 10)
    written = [rec.write("/odom", "nav_msgs/msg/Odometry", payload, i * S_NS) for i in range(6)]
    small = serialize_message(String(data="x"))
    assert not rec.write("/steps", "std_msgs/msg/String", small, 7 * S_NS)  # stopped for good
    summary = rec.close()
    assert written == [True, True, True, False, False, False]
    assert summary.truncated and summary.truncated_at_ns == 3 * S_NS
    assert summary.messages == 3 and summary.payload_bytes == 3 * len(payload)
    rows, metadata = read_bag(path)
    assert [log for _, _, log, _, _ in rows] == [0, S_NS, 2 * S_NS]
    assert metadata[RECORDING_METADATA]["truncated"] == "true"
    assert metadata[RECORDING_METADATA]["truncated_at_ns"] == str(3 * S_NS)


@pytest.mark.parametrize(("rate_hz", "expected_s"), [(1.0, [0, 1, 2]), (0.0, [])])
def test_camera_images_are_kept_at_most_at_the_image_rate(tmp_path, rate_hz, expected_s):
    path = tmp_path / "camera.mcap"
    frame_period_ns = S_NS // 15  # the simulated camera's 15 Hz
    with EpisodeRecorder(path, image_rate_hz=rate_hz) as rec:
        for i in range(45):  # three seconds of sim time
            t_ns = i * frame_period_ns
            rec.write(
                "/camera/image_raw", "sensor_msgs/msg/Image", serialize_message(image(t_ns)), t_ns
            )
            info = serialize_message(CameraInfo(width=2, height=2))
            rec.write("/camera/camera_info", "sensor_msgs/msg/CameraInfo", info, t_ns)
    rows, metadata = read_bag(path)
    images = [(log, msg) for topic, _, log, _, msg in rows if topic == "/camera/image_raw"]
    assert [round(log / S_NS) for log, _ in images] == expected_s
    assert all(b - a >= S_NS for (a, _), (b, _) in itertools.pairwise(images))
    assert all(bytes(msg.data) == bytes(range(12)) and msg.encoding == "rgb8" for _, msg in images)
    assert sum(topic == "/camera/camera_info" for topic, *_ in rows) == 45  # not rate-limited
    assert metadata[RECORDING_METADATA]["images_skipped"] == str(45 - len(expected_s))


def test_unknown_or_malformed_types_are_located_bilingual_errors(tmp_path):
    with pytest.raises(MessageTypeError) as err:
        message_definition("nope_msgs/msg/Thing")
    assert err.value.location == "nope_msgs/msg/Thing"
    assert ".msg" in err.value.en and "설치" in err.value.ko
    with pytest.raises(MessageTypeError, match="pkg/msg/Type"):
        split_type_name("Twist")
    with EpisodeRecorder(tmp_path / "x.mcap") as rec:
        rec.add_topic("/odom", "nav_msgs/msg/Odometry")
        with pytest.raises(RecordingError) as err:
            rec.write("/odom", "std_msgs/msg/String", b"", 0)
        assert err.value.location == "/odom" and "타입" in err.value.ko


def test_grader_records_the_camera_only_when_the_graph_reads_it(profile):
    plating = {t.topic: t for t in episode_topics(profile, load_assignment("plating_stations"))}
    pcb = {t.topic: t for t in episode_topics(profile, load_assignment("pcb_inspection"))}
    assert "/camera/image_raw" not in plating and "/camera/image_raw" in pcb
    for topics in (plating, pcb):
        assert {"/clock", "/odom", "/scan", "/cmd_vel", "/joint_states"} <= set(topics)
        assert topics["/mission/waypoints"].latched and topics["/mission/steps"].latched
    assert plating["/cmd_vel_autonomy"].type_name == "geometry_msgs/msg/TwistStamped"
    assert pcb["/inspection/report"].type_name == "diagnostic_msgs/msg/KeyValue"


def test_topic_entries_of_the_standalone_recorder():
    assert parse_topic("/scan") == "/scan"
    assert parse_topic(" /cmd_vel:geometry_msgs/msg/Twist") == RecordedTopic(
        "/cmd_vel", "geometry_msgs/msg/Twist"
    )
    with pytest.raises(RecordingError):
        parse_topic(":std_msgs/msg/String")


# ---------------------------------------------------------------------- with real rclpy and DDS
def test_recorder_process_records_the_bridge_scan_and_odom_in_sim_time(
    ros_process, ros_node, profile, tmp_path
):
    bag = tmp_path / "bridge.mcap"
    ros_process(
        "sim_pkg.nodes.bridge_node",
        params={"scenario": SCENARIOS / "banwol_plating_01.yaml", "real_time_factor": 1.0},
    )
    recorder = ros_process(
        "curriculum_pkg.nodes.recorder_node",
        params={
            "output": bag,
            "use_sim_time": True,
            "topics": ["/scan", "/odom", "/clock:rosgraph_msgs/msg/Clock"],
        },
    )

    def recorder_listens_to(topic: str) -> bool:
        infos = ros_node.get_subscriptions_info_by_topic(topic)
        return any(i.node_name == "rootroute_recorder" for i in infos)

    assert ros_node.spin_until(
        lambda: recorder_listens_to("/scan") and recorder_listens_to("/odom"), 30
    ), f"the recorder never subscribed; see {recorder.log_path}"
    # The types the grader records for the robot are the ones the live bridge uses.
    sim_topics = {profile.topics[key].name: type_name for key, type_name in SIM_TOPIC_TYPES.items()}
    ros_node.spin_until(
        lambda: sim_topics.keys() <= dict(ros_node.get_topic_names_and_types()).keys(), 30
    )  # discovery reports the bridge's endpoints one by one
    advertised = dict(ros_node.get_topic_names_and_types())
    for name, type_name in sim_topics.items():
        assert type_name in advertised.get(name, []), name
    scans = []
    ros_node.create_subscription(LaserScan, "/scan", scans.append, qos_profile_sensor_data)
    assert ros_node.spin_until(lambda: len(scans) >= 6, 30), "the bridge published no /scan"
    recorder.send_signal(signal.SIGINT)  # Ctrl-C finishes the file
    assert recorder.wait(timeout=20) == 0, Path(recorder.log_path).read_text()

    rows, _ = read_bag(bag)
    by_topic = {}
    for topic, schema, log_ns, _, msg in rows:
        by_topic.setdefault(topic, []).append((schema, log_ns, msg))
    assert len(by_topic.get("/scan", [])) >= 3 and len(by_topic.get("/odom", [])) >= 10
    for schema, _, scan in by_topic["/scan"]:
        assert schema == "sensor_msgs/msg/LaserScan"
        assert len(scan.ranges) == profile.lidar_samples and scan.header.frame_id == "base_scan"
    for schema, log_ns, odom in by_topic["/odom"]:
        assert schema == "nav_msgs/msg/Odometry" and odom.child_frame_id == "base_footprint"
        stamp_ns = odom.header.stamp.sec * S_NS + odom.header.stamp.nanosec
        # Log time is the sim clock (a few seconds since start), not the wall clock (~1.7e18 ns).
        assert log_ns < 3600 * S_NS and abs(log_ns - stamp_ns) < 5 * S_NS
    assert by_topic["/clock"], "typed topics are recorded too"


def test_sim_episode_records_its_topics_in_sim_time_and_closes_the_file(
    ros_domain, profile, tmp_path
):
    from curriculum_pkg.ros.session import RosSession, SimEpisode, run_paced
    from sim_pkg.world import SimWorld

    assignment = load_assignment("plating_stations")
    run = assignment.runs[0]
    scenario = run.scenario.variant(0, run.seed)
    bag = tmp_path / "recordings" / f"{scenario.id}_v0.mcap"
    with RosSession(ros_domain.domain_id) as session:
        world = SimWorld(scenario.world, profile, seed=1)
        episode = SimEpisode(
            session,
            world,
            {
                "mission_topic": assignment.mission_topic,
                "goals_odom": [(1.0, 2.0, 0.0)],
                "task_labels": ["visit:a"],
                "odom_frame": profile.odom_frame_id,
                "required": assignment.nodes,
            },
            record_to=bag,
            record_topics=episode_topics(profile, assignment),
            record_info={"scenario_id": scenario.id, "variant": "0", "seed": str(run.seed)},
        )
        try:
            run_paced(episode.bridge, 3.0, real_time_factor=4.0)
            deadline = time.monotonic() + 20  # DDS delivers on its own thread: wait, bounded
            counts = episode.recorder.message_counts
            while time.monotonic() < deadline and not (
                counts()["/scan"] >= 3 and counts()["/mission/waypoints"] == 1
            ):
                time.sleep(0.05)
        finally:
            episode.close()
    assert episode.recording.path == bag and episode.recording.messages > 0
    rows, metadata = read_bag(bag)
    topics = {topic for topic, *_ in rows}
    assert {"/clock", "/odom", "/scan", "/mission/waypoints", "/mission/steps"} <= topics
    (mission,) = [msg for topic, _, _, _, msg in rows if topic == "/mission/waypoints"]
    assert (mission.poses[0].position.x, mission.poses[0].position.y) == (1.0, 2.0)
    clock_ns = [log for topic, _, log, _, _ in rows if topic == "/clock"]
    assert max(clock_ns) <= 3.0 * S_NS + 10**7  # sim time: the episode ran 3 s of it
    assert metadata[EPISODE_METADATA]["scenario_id"] == scenario.id
