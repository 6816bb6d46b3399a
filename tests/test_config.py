"""Settings: YAML, environment overrides, one-line errors naming the key."""

import pytest

from rag.config import load_settings
from rag.errors import KabarError


def test_defaults_load_and_paths_resolve(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data_dir: store\nretrieval:\n  top_k: 3\n")
    s = load_settings(cfg)
    assert s.retrieval.top_k == 3
    assert s.data_path == tmp_path / "store"


def test_env_overrides_yaml_and_flags_override_env(tmp_path, monkeypatch):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("retrieval:\n  top_k: 3\n")
    monkeypatch.setenv("KABAR_RETRIEVAL__TOP_K", "5")
    monkeypatch.setenv("KABAR_DATA_DIR", str(tmp_path / "env"))
    s = load_settings(cfg)
    assert s.retrieval.top_k == 5
    assert s.data_path == tmp_path / "env"
    assert load_settings(cfg, data_dir=str(tmp_path / "flag")).data_path == tmp_path / "flag"


@pytest.mark.parametrize(
    ("yaml_text", "needle"),
    [
        ("retrieval:\n  top_k: lots\n", "retrieval.top_k"),
        ("retrieval:\n  top_k: 0\n", "retrieval.top_k"),
        ("retrieval:\n  tpo_k: 4\n", "retrieval.tpo_k: unknown key"),
        ("llm: [1, 2\n", "line"),
        ("store:\n  mode: cluster\n", "store.mode"),
        ("store:\n  port: 0\n", "store.port"),
        ("llm:\n  mode: remote\n", "llm.mode"),
        ("llm:\n  server_url: localhost:8080\n", "llm.server_url"),
        ("- a\n- b\n", "mapping"),
    ],
)
def test_bad_config_is_one_line_error_naming_the_key(tmp_path, yaml_text, needle):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml_text)
    with pytest.raises(KabarError) as err:
        load_settings(cfg)
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


def test_bad_env_value_names_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("KABAR_RETRIEVAL__TOP_K", "x")
    with pytest.raises(KabarError, match="retrieval.top_k"):
        load_settings()


def test_missing_config_file(tmp_path):
    with pytest.raises(KabarError, match="not found"):
        load_settings(tmp_path / "nope.yaml")


def test_server_modes_from_the_environment(monkeypatch):
    s = load_settings()
    assert (s.store.mode, s.llm.mode) == ("embedded", "embedded")  # the defaults stay on one machine
    monkeypatch.setenv("KABAR_STORE__MODE", "http")
    monkeypatch.setenv("KABAR_STORE__PORT", "8123")
    monkeypatch.setenv("KABAR_LLM__MODE", "server")
    monkeypatch.setenv("KABAR_LLM__SERVER_URL", "http://10.0.0.5:8080/v1")
    s = load_settings()
    assert (s.store.mode, s.store.url) == ("http", "http://127.0.0.1:8123")
    assert (s.llm.mode, s.llm.server_url) == ("server", "http://10.0.0.5:8080/v1")
