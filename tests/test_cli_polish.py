"""`rag --version`, errors as JSON under --json, and config typos that name the key meant."""

from __future__ import annotations

import json
from importlib.metadata import version

import pytest
from click.testing import CliRunner

from rag.cli import main
from rag.config import ConfigError, Settings, load_settings


def test_version():
    done = CliRunner().invoke(main, ["--version"])
    assert done.exit_code == 0 and done.output == f"rag {version('rag-news')}\n"


@pytest.mark.parametrize("args", [["ask", "anything", "--json"], ["stats", "--json"], ["docs", "--json"]])
def test_json_errors_are_json_on_stdout_with_the_same_exit_code(tmp_path, args):
    config = tmp_path / "c.yaml"
    config.write_text("retreival:\n  k: 3\n")
    done = CliRunner().invoke(main, [*args, "--config", str(config), "--index", str(tmp_path / "i")])
    plain = CliRunner().invoke(main, [a for a in args if a != "--json"] + ["--config", str(config)])
    assert done.exit_code == plain.exit_code == 1
    assert json.loads(done.stdout) == {"error": f"{config}: retreival: unknown key; did you mean retrieval?"}
    assert plain.stdout == "" and plain.stderr == f"error: {config}: retreival: unknown key; did you mean retrieval?\n"


def test_a_missing_index_is_a_json_error_too(tmp_path):
    done = CliRunner().invoke(main, ["ask", "why?", "--json", "--index", str(tmp_path / "none")])
    assert done.exit_code == 1 and "no index" in json.loads(done.stdout)["error"]


@pytest.mark.parametrize(("yaml", "message"), [
    ("retreival:\n  k: 3\n", "retreival: unknown key; did you mean retrieval?"),
    ("retrieval:\n  kk: 3\n", "retrieval.kk: unknown key; did you mean retrieval.k?"),
    ("ui:\n  max_upload: 3\n", "ui.max_upload: unknown key; did you mean ui.max_upload_mb?"),
    ("chunking:\n  max_wordz: 3\n", "chunking.max_wordz: unknown key; did you mean chunking.max_words?"),
    ("zzz: 1\n", f"zzz: unknown key (valid: {', '.join(Settings.model_fields)})"),
])
def test_an_unknown_config_key_names_the_closest_valid_one(tmp_path, yaml, message):
    config = tmp_path / "c.yaml"
    config.write_text(yaml)
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert str(raised.value) == f"{config}: {message}"
