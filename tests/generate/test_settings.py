"""The generator's settings: off by default, the key never in the file."""

import pytest

from rag.config import ConfigError, Settings, load_settings
from rag.generate import generate
from tests.generate.conftest import answer_for, settings_for


def test_the_generator_is_off_and_points_nowhere_by_default():
    settings = Settings()
    assert settings.answer.generator == "extractive"
    assert (settings.llm.base_url, settings.llm.model, settings.llm.max_tokens, settings.llm.timeout,
            settings.llm.structured, settings.llm.temperature) == ("", "", 256, 60.0, True, 0.0)


def test_a_key_in_the_file_is_refused_and_a_bad_url_named(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("llm:\n  api_key: sekret\n")
    with pytest.raises(ConfigError, match="llm.api_key: unknown key"):
        load_settings(config)
    config.write_text("llm:\n  base_url: 127.0.0.1:11434\n")
    with pytest.raises(ConfigError, match="llm.base_url"):
        load_settings(config)
    config.write_text("answer:\n  generator: llm\nllm:\n  base_url: http://127.0.0.1:11434/v1\n  model: llama3.2\n")
    assert load_settings(config).llm.base_url == "http://127.0.0.1:11434/v1"


def test_a_generation_closed_before_it_starts_opens_nothing():
    generation = generate("q", answer_for("q", ["bridge"]), settings_for("http://127.0.0.1:9/v1"), None)
    generation.close()
    assert generation.result.outcome == "cancelled"
    assert list(generation) == []
