"""bitnami/postgresql Helm values (audit 16, D9): the configuration in `primary.extendedConfiguration`
is checked with the container's memory limit and the PostgreSQL major the values give.

- the limit: `primary.resources.limits.memory`; with `resources` empty, the chart applies
  `primary.resourcesPreset` (bitnami/common `_resources.tpl`: nano 192Mi, micro 384Mi, small 768Mi,
  medium 1536Mi, large 3072Mi, xlarge 6144Mi, 2xlarge 12288Mi), "nano" when none is written
  (chart 15.0.0 and later), "none" for no limit; `resources` written without a memory limit sets none;
- the major: `image.tag` (16.4.0-debian-12-r9 is PostgreSQL 16).
"""

from __future__ import annotations

import pytest

from advisor.engine import make_settings, run
from advisor.loaders.infra_yaml import BITNAMI_PRESET_LIMITS, load

CONF = """  extendedConfiguration: |-
    max_connections = 400
    shared_buffers = 1GB
    work_mem = 32MB
"""


def _doc(tmp_path, text: str):
    path = tmp_path / "values-postgresql.yaml"
    path.write_text(text)
    docs = [d for d in load(str(path), {}) if d.kind == "postgresql"]
    assert len(docs) == 1, docs
    return docs[0]


def _limit(doc):
    fact = doc.host.get("memory_limit") if doc.host is not None else None
    return None if fact is None else fact.value


def test_the_audit_values_give_the_limit_and_the_major(tmp_path):
    doc = _doc(tmp_path, "image:\n  tag: 16.4.0-debian-12-r9\nprimary:\n" + CONF
               + "  resources:\n    requests:\n      memory: 2Gi\n    limits:\n      memory: 3Gi\n")
    assert _limit(doc) == 3 * 1024**3
    assert doc.host.get("memory_limit").span.line == 12  # limits: memory: 3Gi
    assert doc.meta["pg_version"] == 16 and "image.tag" in doc.meta["pg_version_found"]
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["MEM001"]}, use_config=False))
    [finding] = report.findings
    assert "memory limit 3 GB" in finding.message and 12 in [r.line for r in finding.related]


@pytest.mark.parametrize("resources,preset,limit", [
    ("", None, "192Mi"),  # the chart's default preset, nano
    ("  resources: {}\n", None, "192Mi"),
    ("", "small", "768Mi"),
    ("", "2xlarge", "12288Mi"),
    ("", "none", None),
    ("  resources:\n    requests:\n      memory: 1Gi\n", "large", None),  # resources win over the preset, no limit
    ("  resources:\n    limits:\n      memory: 1Gi\n", "large", "1Gi"),
])
def test_resources_and_presets(tmp_path, resources, preset, limit):
    text = "primary:\n" + CONF + resources + (f"  resourcesPreset: {preset}\n" if preset else "")
    doc = _doc(tmp_path, text)
    expected = None if limit is None else int(limit[:-2]) * 1024 ** {"Mi": 2, "Gi": 3}[limit[-2:]]
    assert _limit(doc) == expected
    if limit and not resources:
        assert limit == BITNAMI_PRESET_LIMITS[preset or "nano"]
        said = doc.host.get("memory_limit").hint
        assert ("the chart's default" in said) == (preset is None) and "primary.resources is empty" in said


def test_the_default_preset_is_named_in_the_finding(tmp_path):
    path = tmp_path / "values.yaml"
    path.write_text("primary:\n" + CONF)
    report = run(make_settings({"paths": [str(path)], "select": ["MEM001"]}, use_config=False))
    [finding] = report.findings
    assert "memory limit 192 MB (set by the chart's default primary.resourcesPreset nano" in finding.message


def test_read_replicas_and_a_parent_chart(tmp_path):
    text = ("postgresql:\n  image:\n    tag: \"15.8.0\"\n  readReplicas:\n    configuration: |-\n"
            "      max_connections = 200\n      shared_buffers = 512MB\n    resourcesPreset: medium\n")
    doc = _doc(tmp_path, text)
    assert _limit(doc) == 1536 * 1024**2 and doc.meta["pg_version"] == 15


def test_other_values_are_not_taken_for_the_chart(tmp_path):
    # an embedded configuration under another key: no chart, no preset, no version
    doc = _doc(tmp_path, "database:\n  extendedConfiguration: |-\n    max_connections = 400\n    shared_buffers = 1GB\n"
               "  resources:\n    limits:\n      memory: 1Gi\n")
    assert doc.host is None and "pg_version_found" not in doc.meta
