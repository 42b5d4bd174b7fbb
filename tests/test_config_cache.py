"""A validated pgpath.yaml is remembered, so that a pre-commit run imports neither PyYAML nor
jsonschema; a broken one is never remembered."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.engine import UsageError, read_config

ROOT = Path(__file__).resolve().parent.parent

# reads the configuration in a fresh interpreter where importing yaml or jsonschema fails
NO_YAML = ("import sys; sys.modules['yaml'] = None; sys.modules['jsonschema'] = None\n"
           "from advisor.engine import read_config, config_marks\n"
           "data = read_config(sys.argv[1])\n"
           "print(sorted(data), data.get('select'))\n"
           "if data.get('deployments'):\n"
           "    print(config_marks(sys.argv[1])['deployments/0/hops/1'])\n")

CONFIG = ("select: [PGB, PG]\nram: 8GB\ndeployments:\n  - name: d\n    hops:\n"
          "      - client: .env\n      - postgres: postgresql.conf\n")


def _read_without_yaml(config: Path, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PGPATH_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", NO_YAML, str(config)], cwd=config.parent, env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_valid_configuration_is_read_again_without_yaml_or_jsonschema(tmp_path, monkeypatch):
    config, cache = tmp_path / "pgpath.yaml", tmp_path / "cache"
    config.write_text(CONFIG)
    # never read: a run without PyYAML cannot read it
    assert _read_without_yaml(config, cache).returncode != 0
    monkeypatch.setenv("PGPATH_CACHE_DIR", str(cache))
    first = read_config(str(config))
    again = _read_without_yaml(config, cache)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0] == f"{sorted(first)} ['PGB', 'PG']"
    # the marks of the topology's keys (for messages at pgpath.yaml:line:col) come back too
    assert again.stdout.splitlines()[1] == f"{config}:7:9"
    # an edit is a different text: read and validated again
    config.write_text(CONFIG.replace("8GB", "16GB"))
    assert _read_without_yaml(config, cache).returncode != 0


def test_a_broken_configuration_is_never_remembered(tmp_path, monkeypatch):
    monkeypatch.setenv("PGPATH_CACHE_DIR", str(tmp_path / "cache"))
    config = tmp_path / "pgpath.yaml"
    config.write_text("ram: 8GB\nselect: {PGB: 1}\n")
    for _ in range(2):
        with pytest.raises(UsageError, match=r"pgpath.yaml:2:1: at select"):
            read_config(str(config))
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_an_empty_cache_folder_turns_the_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("PGPATH_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    config = tmp_path / "pgpath.yaml"
    config.write_text("select: [PGB]\n")
    assert read_config(str(config)) == {"select": ["PGB"]}
    assert not (tmp_path / "xdg").exists()


def test_a_cache_that_cannot_be_written_only_slows_the_run(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("PGPATH_CACHE_DIR", str(blocker / "cache"))
    config = tmp_path / "pgpath.yaml"
    config.write_text("select: [PGB]\n")
    assert read_config(str(config)) == {"select": ["PGB"]}


def test_an_entry_is_used_only_for_the_very_text_it_was_made_from(tmp_path, monkeypatch):
    """Entries are named by a checksum: one whose text differs (a collision, a damaged file) is a miss."""
    import json

    from advisor import config_cache

    monkeypatch.setenv("PGPATH_CACHE_DIR", str(tmp_path))
    config_cache.remember("select: [PGB]\n", False, {"select": ["PGB"]}, None)
    [entry] = list(tmp_path.iterdir())
    assert config_cache.recall("select: [PGB]\n")["data"] == {"select": ["PGB"]}
    assert config_cache.recall("select: [PGB]\n", toml=True) is None  # the same text read as TOML
    body = json.loads(entry.read_text())
    entry.write_text(json.dumps(dict(body, text="select: [PG]\n")))
    assert config_cache.recall("select: [PGB]\n") is None
    entry.write_text("{not json")
    assert config_cache.recall("select: [PGB]\n") is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(json_values, st.sampled_from(["", " ", "\n", "\t \r\n"]), st.sampled_from(["", " ", "\n", " x", ",1", "\ufeff"]))
def test_entries_are_read_as_json_loads_reads_them(value, before, after):
    """An entry is read without importing json, by the C scanner json.loads runs: the same value,
    and refused (a miss) wherever json.loads refuses."""
    import json
    import math

    from advisor.config_cache import _loads

    for body in (before + json.dumps(value) + after, after + json.dumps(value), json.dumps(value)[:-1]):
        try:
            expected = json.loads(body)
        except ValueError:
            with pytest.raises(ValueError):
                _loads(body)
            continue
        got = _loads(body)
        assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)
        if isinstance(expected, float) and math.isnan(expected):
            assert math.isnan(got)


def test_a_check_reads_its_remembered_configuration_without_importing_json(tmp_path):
    """json's import compiles six regular expressions (1.5 ms of a pre-commit run's start)."""
    config = tmp_path / "pgpath.yaml"
    config.write_text(CONFIG)
    env = {**os.environ, "PGPATH_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    code = ("import sys\nfrom advisor.engine import read_config\ndata = read_config(sys.argv[1])\n"
            "print(sorted(data), 'json' in sys.modules, 'yaml' in sys.modules)\n")
    first = subprocess.run([sys.executable, "-c", code, str(config)], env=env, capture_output=True, text=True,
                           timeout=60)
    again = subprocess.run([sys.executable, "-c", code, str(config)], env=env, capture_output=True, text=True,
                           timeout=60)
    assert first.stdout.split("] ")[1].split() == ["True", "True"]  # read, validated and remembered
    assert again.stdout == first.stdout.replace("True True", "False False"), again.stderr
