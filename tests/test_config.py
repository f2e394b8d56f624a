from pathlib import Path

import pytest

from rag.config import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_config_yaml_matches_the_built_in_defaults():
    assert load_settings(ROOT / "config.yaml") == Settings()


def test_unknown_keys_and_bad_values_are_named(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("chunking:\n  max_wordz: 3\n")
    with pytest.raises(ConfigError, match="chunking.max_wordz"):
        load_settings(bad)
    bad.write_text("retrieval:\n  k: 0\n")
    with pytest.raises(ConfigError, match="retrieval.k"):
        load_settings(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.yaml")
