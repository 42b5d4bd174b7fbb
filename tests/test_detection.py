"""Which files `pgpath check DIR` reads: by name, then by content, never source code quoting a config."""

from advisor.engine import discover, make_settings
from advisor.loaders import detect_kind

HAPROXY = "defaults\n    mode tcp\n    timeout client 30m\nlisten pg\n    bind *:5000\n    server a 10.0.0.1:5432\n"
PGBOUNCER = "[databases]\napp = host=10.0.0.1 dbname=app\n[pgbouncer]\npool_mode = transaction\n"
POSTGRES = "shared_buffers = 1GB\nmax_connections = 100\nwork_mem = 8MB\nlisten_addresses = '*'\n"


def test_names():
    assert detect_kind("postgresql.conf") == "postgresql"
    assert detect_kind("postgresql.auto.conf") == "postgresql"
    assert detect_kind("postgresql.conf.j2") == "postgresql"
    assert detect_kind("pgbouncer.ini") == "pgbouncer"
    assert detect_kind("haproxy.cfg") == "haproxy"
    assert detect_kind("patroni_haproxy.tmpl") == "haproxy"
    assert detect_kind("haproxy_cfg.py") is None
    assert detect_kind("pgbouncer_settings.py") is None


def test_content_of_config_files_is_recognised(tmp_path):
    (tmp_path / "edge.cfg").write_text(HAPROXY)
    (tmp_path / "pooler.ini").write_text(PGBOUNCER)
    (tmp_path / "main.conf").write_text(POSTGRES)
    found = dict((p.rsplit("/", 1)[1], k) for p, k in discover(make_settings({"paths": [str(tmp_path)]},
                                                                               use_config=False))[0])
    assert found == {"edge.cfg": "haproxy", "pooler.ini": "pgbouncer", "main.conf": "postgresql"}


def test_source_and_documents_quoting_a_config_are_not_claimed(tmp_path):
    (tmp_path / "haproxy_cfg.py").write_text(f'CONFIG = """\n{HAPROXY}"""\n')
    (tmp_path / "notes.md").write_text(f"```\n{PGBOUNCER}```\n")
    (tmp_path / "guide.txt").write_text(HAPROXY + PGBOUNCER)
    (tmp_path / "tune.py").write_text(f'TEXT = """\n{POSTGRES}"""\n')
    found, unknown, errors = discover(make_settings({"paths": [str(tmp_path)]}, use_config=False))
    assert found == [] and not errors


def test_usual_names_shortcut_agrees_with_the_name_patterns(monkeypatch):
    import advisor.loaders as loaders

    shortcut = dict(loaders._USUAL_NAMES)
    monkeypatch.setattr(loaders, "_USUAL_NAMES", {})
    for name, kind in shortcut.items():
        assert detect_kind(f"/etc/x/{name}") == kind, name
        assert detect_kind(f"/etc/x/{name}.j2") == kind, name
