"""The files Streamlit Community Cloud reads: present, CPU-only torch, in step with local pins."""

import tomllib

from conftest import ROOT


def pins(path) -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return dict(line.split("==") if "==" in line else (line, "") for line in lines if line and line[0] != "-")


def test_cloud_requirements_match_local_ones_except_for_the_cpu_torch_build():
    local, cloud = pins(ROOT / "requirements.txt"), pins(ROOT / "dashboard" / "requirements.txt")
    assert cloud.pop("torch") == local.pop("torch") + "+cpu"
    assert cloud == local


def test_cloud_requirements_name_the_cpu_wheel_index():
    text = (ROOT / "dashboard" / "requirements.txt").read_text()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text


def test_root_streamlit_config_has_a_theme_and_a_checkpoint_sized_upload_limit():
    from rnn_core.checkpoint import MAX_BYTES

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["theme"]["primaryColor"] == "#0072B2"
    assert config["server"]["maxUploadSize"] * 2**20 >= MAX_BYTES


def test_no_full_garbage_collection_after_every_poll():
    """Streamlit's post-run gc.collect(2) holds the GIL ~85 ms per chart poll and starves training."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False


def test_no_file_watcher_walking_every_module_for_each_new_session():
    """With Streamlit's default watcher a class of 30 cost the server 4-5 times the CPU per student,
    and the browser tests and benchmarks start their servers with this file's settings only."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"
