"""Which Active Record a Rails application runs: the `Gemfile.lock` beside its `config/database.yml`.

Active Record's connection pool changed across releases in ways the path rules read
(advisor.loaders.clients.rails has the plan of each, with its sources): before 7.1 a connection is
verified at each checkout rather than before its first query; 8.1 reaps every 20 s instead of 60,
pings connections idle for `keepalive` (600 s) and reads `max_age`, `max_connections` and
`min_connections`. (Releases before 5.2, which had no `idle_timeout` and no reaper by default, are
read as 5.2.)

The lockfile a database.yml belongs to is the nearest `Gemfile.lock` at or above its folder, looked
for as pgpath looks for a go.mod (up to the repository's root, or outside one the folder being
checked), and always the folder above a `config/` folder (the application's root, which holds
`config/database.yml` and `Gemfile.lock`, when only `config/` is checked). Bundler writes each resolved gem once, indented four spaces under a `specs:` of its `GEM`,
`GIT` or `PATH` source: `    activerecord (8.1.1)`. The `activerecord` line decides (the pool is
Active Record's); a lockfile without one but with `rails (x.y.z)` takes that (rails pins its
activerecord to the same version). The `DEPENDENCIES` section's requirements (`rails (~> 8.0)`) are
never read as a version. No lockfile, or none that names either gem, leaves the version unknown:
the findings that depend on it say so.
"""

from __future__ import annotations

import os

from advisor import lazy_re
from advisor.model import Record

LOCKFILE = "Gemfile.lock"
MAX_BYTES = 4 << 20
# a resolved spec: four spaces, the gem, its version (a platform may follow a dash: not for these gems)
_SPEC = lazy_re.compile(r"^    (activerecord|rails) \((\d+(?:\.\d+)*(?:\.[A-Za-z][\w.]*)?)\)[ \t]*$", 8)  # re.M
_VERSION = lazy_re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


class RailsVersion(Record):
    """The Active Record a Rails client runs: `version` ("8.1.1"; "" when not known), `gem`
    (`activerecord` or `rails`: the lockfile line that said it), `source` (`Gemfile.lock:57`) and
    `reason` (for messages: `activerecord 8.1.1 in Gemfile.lock:57`, or why it is not known)."""

    __slots__ = ("version", "gem", "source", "reason", "files", "line")

    def __init__(self, version: str = "", gem: str = "", source: str = "", reason: str = "",
                 files: list[str] | None = None, line: int = 0) -> None:
        self.version = version
        self.gem = gem
        self.source = source
        self.reason = reason
        self.files = [] if files is None else files
        self.line = line

    def parts(self) -> tuple[int, int, int] | None:
        m = _VERSION.match(self.version)
        return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)) if m else None

    def at_least(self, *version: int) -> bool | None:
        """True from that release on, False before it, None when the version is not known."""
        parts = self.parts()
        return None if parts is None else parts >= version

    def said(self) -> str:
        """`activerecord 8.1.1 (Gemfile.lock:57)`, or `activerecord of no known version (why)`."""
        if not self.version:
            return f"activerecord of no known version ({self.reason})"
        via = "" if self.gem == "activerecord" else f"; rails {self.version}, whose activerecord is the same"
        return f"activerecord {self.version} ({self.source}{via})"

    def to_dict(self) -> dict:
        return {"version": self.version, "gem": self.gem, "source": self.source, "reason": self.reason}


def rails_version(path: str, options: dict | None = None) -> RailsVersion:
    """The Active Record version of the database.yml `path`, from the nearest Gemfile.lock at or
    above its folder; each folder's answer is kept in options["ruby_locks"] for the run."""
    from advisor.loaders.git_ignored import nearest_file, relative

    options = options or {}
    cache = options.get("ruby_locks")
    folder = os.path.dirname(os.path.abspath(path))
    if cache is not None and folder in cache:
        return cache[folder]
    lock = nearest_file(folder, (LOCKFILE,), options.get("check_roots") or [])
    beside_config = os.path.join(os.path.dirname(folder), LOCKFILE)
    if lock is None and os.path.basename(folder) == "config" and os.path.isfile(beside_config):
        lock = beside_config  # Rails.root: the application's folder holds config/ and its Gemfile.lock
    found = _from_lock(lock) if lock else RailsVersion(reason="no Gemfile.lock found at or above the file")
    if not os.path.isabs(path):
        found.files = [relative(f) for f in found.files]
    if cache is not None:
        cache[folder] = found
    return found


def _from_lock(lock: str) -> RailsVersion:
    from advisor.loaders.source import InputError, read_text
    from advisor.pgversion import shown

    name = shown(lock)
    try:
        text = read_text(lock, MAX_BYTES)
    except InputError as exc:  # too large, binary, unreadable: said in the reason
        return RailsVersion(reason=f"{name} could not be read ({exc.message})", files=[lock])
    found = locked(text)
    if found is None:
        return RailsVersion(reason=f"{name} names no activerecord or rails gem", files=[lock])
    gem, version, line = found
    return RailsVersion(version, gem, f"{name}:{line}", f"{gem} {version} in {name}:{line}", [lock], line)


def locked(text: str) -> tuple[str, str, int] | None:
    """(gem, version, line) of the activerecord spec of a Gemfile.lock, else of its rails spec."""
    specs = {}
    for m in _SPEC.finditer(text):
        specs.setdefault(m.group(1), (m.group(2), text.count("\n", 0, m.start()) + 1))
    for gem in ("activerecord", "rails"):
        if gem in specs:
            return gem, *specs[gem]
    return None
