"""A package's data is read from its ament share folder when its code is installed there, else
from the checkout."""

import sys
from pathlib import Path

import pytest

from common_pkg.package_data import package_data_dir
from common_pkg.profile import config_dir, load_profile

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def ament_prefix(tmp_path, monkeypatch):
    """An install space holding one package, `shelf_pkg`, registered in its ament index."""
    prefix = tmp_path / "install"
    (prefix / "share/ament_index/resource_index/packages").mkdir(parents=True)
    (prefix / "share/ament_index/resource_index/packages/shelf_pkg").touch()
    (prefix / "share/shelf_pkg/config").mkdir(parents=True)
    code = prefix / "lib/python3/site-packages"
    (code / "shelf_pkg").mkdir(parents=True)
    (code / "shelf_pkg/__init__.py").touch()
    monkeypatch.syspath_prepend(str(code))
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(prefix))
    yield prefix
    sys.modules.pop("shelf_pkg", None)


def test_installed_package_reads_its_data_from_its_share_folder(ament_prefix, tmp_path):
    found = package_data_dir("shelf_pkg", "config", tmp_path / "checkout/config")
    assert found == ament_prefix.resolve() / "share/shelf_pkg/config"


def test_checkout_reads_its_own_data_even_next_to_a_sourced_install_space(ament_prefix, tmp_path):
    # common_pkg registered in the install space, but this process runs the checkout's code.
    (ament_prefix / "share/ament_index/resource_index/packages/common_pkg").touch()
    source = tmp_path / "checkout/config"
    assert package_data_dir("common_pkg", "config", source) == source


def test_package_unknown_to_the_ament_index_or_no_index_at_all_reads_the_checkout(monkeypatch):
    source = Path("/nowhere/config")
    monkeypatch.setenv("AMENT_PREFIX_PATH", "/nowhere")
    assert package_data_dir("shelf_pkg", "config", source) == source
    monkeypatch.delenv("AMENT_PREFIX_PATH")
    assert package_data_dir("common_pkg", "config", source) == source


def test_config_dir_is_the_repository_config_folder_from_a_checkout(monkeypatch):
    monkeypatch.delenv("ROOTROUTE_CONFIG", raising=False)
    assert config_dir() == REPO / "config"
    assert load_profile().max_linear_mps == pytest.approx(0.26)


def test_rootroute_config_overrides_where_the_profiles_are(monkeypatch, tmp_path):
    robots = tmp_path / "robots"
    robots.mkdir()
    text = (REPO / "config/robots/turtlebot3_waffle_pi_omx.yaml").read_text()
    (robots / "slow_bot.yaml").write_text(
        text.replace("max_linear_mps: 0.26", "max_linear_mps: 0.1")
    )
    monkeypatch.setenv("ROOTROUTE_CONFIG", str(tmp_path))
    assert load_profile("slow_bot").max_linear_mps == pytest.approx(0.1)
