"""`rootroute scenario preview` and `rootroute scenario sdf`: one scenario in, a file out."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import cv2
import pytest

from curriculum_pkg.cli import main
from curriculum_pkg.preview import preview_layout
from curriculum_pkg.scenario import SCENARIO_DIR, load_scenario


def test_scenario_preview_writes_the_png_it_names(tmp_path, capsys):
    out = tmp_path / "pictures" / "plating.png"
    scenario = SCENARIO_DIR / "banwol_plating_01.yaml"
    assert main(["scenario", "preview", str(scenario), "-o", str(out)]) == 0
    image = cv2.imread(str(out))
    assert image.shape[1::-1] == preview_layout(load_scenario(scenario)).size_px
    assert str(out) in capsys.readouterr().out


def test_scenario_sdf_writes_the_world_and_its_marker_textures_by_scenario_id(tmp_path, capsys):
    out = tmp_path / "gazebo"
    assert main(["scenario", "sdf", "banwol_plating_01", "-o", str(out)]) == 0
    world = ET.parse(out / "world.sdf").getroot().find("world")
    assert world.get("name") == "banwol_plating_01"
    stations = load_scenario("banwol_plating_01").world.stations
    assert {p.name for p in out.glob("marker_*.png")} == {f"marker_{s.id}.png" for s in stations}
    assert "gazebo_sim.launch.py" in capsys.readouterr().out


@pytest.mark.parametrize("verb", ["preview", "sdf"])
def test_malformed_scenario_gets_the_located_bilingual_error_and_exit_1(tmp_path, capsys, verb):
    broken = tmp_path / "broken.yaml"
    text = (SCENARIO_DIR / "banwol_plating_01.yaml").read_text()
    broken.write_text(text.replace("marker_id: 12", "marker_id: 11"))
    out = tmp_path / "out"
    assert main(["scenario", verb, str(broken), "-o", str(out)]) == 1
    printed = capsys.readouterr().out
    assert printed.startswith("FAIL broken.yaml:64:")  # file:line:col, as `scenario validate`
    assert "marker_id" in printed and "두 번 사용되었습니다" in printed
    assert "Traceback" not in printed
    assert not out.exists()


def test_preview_and_sdf_take_exactly_one_scenario(capsys):
    one = str(SCENARIO_DIR / "banwol_plating_01.yaml")
    assert main(["scenario", "preview", one, one]) == 2
    assert "시나리오 파일을 하나" in capsys.readouterr().err
