"""advisor.import_cache: a run of the CLI imports the modules an earlier run recorded from one file
in the cache folder, and imports the usual way whatever changed since (an edited module, a file
added beside it, a file another user could have written)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(sys.implementation.name != "cpython", reason="CPython's import system only")

# runs the CLI as the console script does, then prints (stderr, last line) which modules the
# import cache served, before the process leaves
RUN = """
import json, os, sys
leave = os._exit
def report(code):
    from advisor import import_cache
    served = sorted(n for n, m in sys.modules.items() if isinstance(getattr(m, '__loader__', None), import_cache._Loader))
    attrs = {n: [m.__file__, m.__cached__, getattr(m, '__path__', None), m.__spec__.origin, m.__package__]
             for n, m in sys.modules.items() if n.startswith(('advisor.', 'typer.'))}
    sys.stdout.flush()
    sys.stderr.write(json.dumps({'served': served, 'attrs': attrs}) + '\\n')
    sys.stderr.flush()
    leave(code)
os._exit = report
sys.argv = ['pgpath'] + sys.argv[1:]
from advisor.cli import main
main()
"""


def run(args, cache, cwd=ROOT, pythonpath=None):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    env.update(PGPATH_CACHE_DIR=str(cache), NO_COLOR="1")
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    proc = subprocess.run([sys.executable, "-c", RUN, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)
    *rest, last = proc.stderr.rstrip("\n").split("\n")
    found = json.loads(last)
    return proc.returncode, proc.stdout, "\n".join(rest), found


def bundle_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("modules-*.bin")) if cache.is_dir() else []


def test_a_second_run_imports_from_the_file_and_does_the_same(tmp_path):
    cache = tmp_path / "cache"
    code1, out1, err1, first = run(["check", "samples/healthy"], cache)
    assert first["served"] == []
    [bundle] = bundle_files(cache)
    assert bundle.stat().st_mode & 0o077 == 0
    code2, out2, err2, second = run(["check", "samples/healthy"], cache)
    assert (code1, out1, err1) == (code2, out2, err2) and out1
    served = set(second["served"])
    # pgpath's modules, the rules and loaders this check ran, and typer's
    for name in ("advisor.engine", "advisor.loaders.pgbouncer_ini", "advisor.loaders.haproxy_cfg",
                 "advisor.rules.pgb.pgb016_pool_size", "advisor.reporters.text", "typer.main", "typer._click.core"):
        assert name in served
    # the same modules, with the same file, cache file, package path and package
    assert first["attrs"] == second["attrs"]
    # and the same output in every format
    for fmt in ("json", "sarif"):
        assert run(["check", "samples/healthy", "--format", fmt], cache)[:2] == \
            run(["check", "samples/healthy", "--format", fmt], tmp_path / "other")[:2]


def copy_of_pgpath(tmp_path: Path) -> Path:
    """A copy of the advisor package (imported from it with PYTHONPATH), and of samples/."""
    where = tmp_path / "src"
    shutil.copytree(ROOT / "advisor", where / "advisor", ignore=shutil.ignore_patterns("__pycache__"),
                    symlinks=True)
    shutil.copytree(ROOT / "samples", where / "samples")
    return where


def test_an_edited_module_is_imported_from_its_new_source(tmp_path):
    src, cache = copy_of_pgpath(tmp_path), tmp_path / "cache"
    args = ["check", "samples/healthy", "--no-config"]
    run(args, cache, cwd=src, pythonpath=src)
    _, out, _, found = run(args, cache, cwd=src, pythonpath=src)
    assert "advisor.reporters.text" in found["served"]
    assert found["attrs"]["advisor.reporters.text"][0] == str(src / "advisor" / "reporters" / "text.py")
    text = src / "advisor" / "reporters" / "text.py"
    before = text.stat()
    text.write_text(text.read_text() + "\nimport sys as _s\n_s.stderr.write('EDITED\\n')\n")
    os.utime(text, ns=(before.st_atime_ns, before.st_mtime_ns + 2_000_000_000))
    _, out2, err2, found2 = run(args, cache, cwd=src, pythonpath=src)
    assert "EDITED" in err2 and "advisor.reporters.text" not in found2["served"] and out2 == out
    _, out3, err3, found3 = run(args, cache, cwd=src, pythonpath=src)  # recorded again, as edited
    assert "EDITED" in err3 and "advisor.reporters.text" in found3["served"] and out3 == out


def test_a_module_is_imported_the_usual_way_when_its_folder_changed(tmp_path):
    """A package made beside a recorded module shadows it in the usual import: the cache must not
    serve the module."""
    src, cache = copy_of_pgpath(tmp_path), tmp_path / "cache"
    args = ["check", "samples/healthy", "--no-config"]
    run(args, cache, cwd=src, pythonpath=src)
    assert "advisor.reporters.text" in run(args, cache, cwd=src, pythonpath=src)[3]["served"]
    package = src / "advisor" / "reporters" / "text"
    package.mkdir()
    (package / "__init__.py").write_text(
        "import sys\nsys.stderr.write('SHADOW\\n')\n"
        "from importlib.util import spec_from_file_location, module_from_spec\n"
        "_s = spec_from_file_location('_text', __file__.rsplit('/', 2)[0] + '/text.py')\n"
        "_m = module_from_spec(_s)\n_s.loader.exec_module(_m)\nglobals().update(_m.__dict__)\n")
    _, _, err, found = run(args, cache, cwd=src, pythonpath=src)
    assert "SHADOW" in err and "advisor.reporters.text" not in found["served"]
    assert found["attrs"]["advisor.reporters.text"][2] == [str(package)]


def test_a_file_others_may_write_is_not_read(tmp_path):
    cache = tmp_path / "cache"
    run(["check", "samples/healthy/pgbouncer.ini"], cache)
    [bundle] = bundle_files(cache)
    bundle.chmod(0o666)
    assert run(["check", "samples/healthy/pgbouncer.ini"], cache)[3]["served"] == []


def test_a_damaged_file_only_means_the_usual_import(tmp_path):
    cache = tmp_path / "cache"
    expected = run(["check", "samples/healthy"], cache)[:2]
    [bundle] = bundle_files(cache)
    data = bundle.read_bytes()
    bundle.write_bytes(data[: len(data) // 2])  # every module's code past the middle is cut short
    code, out, _, found = run(["check", "samples/healthy"], cache)
    assert (code, out) == expected
    bundle.write_bytes(b"\0" * 64)
    code, out, _, found = run(["check", "samples/healthy"], cache)
    assert (code, out) == expected and found["served"] == []


def test_no_cache_folder_no_file(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PGPATH_CACHE_DIR="", XDG_CACHE_HOME=str(tmp_path), HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "advisor", "check", "samples/healthy"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and not list(tmp_path.rglob("modules-*"))


def test_a_damaged_entry_only_means_the_usual_import(tmp_path):
    """An index that reads but holds entries of another shape or type (a damaged or foreign
    file of the same format) never breaks an import."""
    import marshal

    cache = tmp_path / "cache"
    expected = run(["check", "samples/healthy"], cache)[:2]
    [bundle] = bundle_files(cache)
    data = bundle.read_bytes()
    size = int.from_bytes(data[8:12], "little")
    index = marshal.loads(data[12:12 + size])
    index["advisor.reporters.text"] = ("too", "short")
    index["advisor.engine"] = (5,) * 9
    head = marshal.dumps(index)
    # (the modules' code keeps its offsets: they are counted from the end of the index)
    bundle.write_bytes(data[:8] + len(head).to_bytes(4, "little") + head + data[12 + size:])
    code, out, _, found = run(["check", "samples/healthy"], cache)
    assert (code, out) == expected
    assert "advisor.reporters.text" not in found["served"] and "advisor.engine" not in found["served"]
    assert "advisor.loaders.pgbouncer_ini" in found["served"]
