"""--hook: the files to read for a list of changed files, so that the findings that touch them are
the findings a check of the whole repository (the folder pgpath runs in) reports on them.

A full check links files by evidence (advisor/path/discover.py, advisor/pgversion.py,
advisor/pgbversion.py, the loaders); each kind of link is followed here, from files to the
*groups* they belong to, until nothing new is reached:

- **the neighbourhood** (`group_neighbourhoods`): a folder holding a PostgreSQL, PgBouncer or HAProxy
  file, with every folder below it that holds none (down to the next such folder); for a folder
  with no such file above it, the highest folder above it whose compose file, manifest or cloud
  file runs a server (loaded alone to say: the path assembly takes that folder for a server's,
  and a compose PgBouncer that mounts a pgbouncer.ini has its home there), likewise; else the
  folder alone. Such a group holds whole neighbourhoods whatever those holders run, and is read
  whole: its paths, its pooled version evidence (a Dockerfile, a manifest's image) and its client
  counts are then those of the full check.
- **names**: a Kubernetes Service, an operator's cluster or pooler (CloudNativePG `<name>-rw`,
  Crunchy/Percona `<name>-pgbouncer`, Zalando `<name>`...) or an RDS Proxy is reached, from any
  folder, by a client whose host names it and that nothing of its own group answers; each name
  is unique or ignored. Once the groups in reach are loaded (`more`), a client that no file of
  its group answers brings every file that defines a name its host starts with (its server, and
  any other of that name), and a name a loaded document answers to brings every file that
  mentions it as a host could (its clients).
- **paths**: a file that names another by a relative path (a compose or manifest mount
  `../db/pgbouncer.ini:/etc/...`, whose image then says the version; a postgresql.conf
  `include '../common/memory.conf'`; `ssl_cert_file = '../certs/server.crt'`; a compose
  `env_file`) brings the group of that file or folder, and is brought by it.
- **the host** (`host_root`): a server's file and the sysctl files and systemd units of its host
  (beside it, or in the same copy of the host's file system: `etc/postgresql/16/main/` and
  `etc/systemd/system/`), which give it its host facts (advisor.path.hosts), bring each other.
- **the run as a whole**: SYS003 merges a systemd unit with its drop-ins by name wherever they
  are, and an RDS parameter group takes the run's only instance class: such files bring each
  other (`alike`).

Paths, and the names defined or mentioned elsewhere, are found in the text (those files are not
parsed): a mention that is no link reads a group more, never less. The text of the
repository's files is read once a run.
"""

from __future__ import annotations

import functools
import os
import re

from advisor import lazy_re
from advisor.model import is_known
from advisor.model.middlebox import rds_proxy_name

SERVER_KINDS = ("pgbouncer", "haproxy", "postgresql")  # (advisor.path.discover.SERVER_KINDS)
# the Kubernetes kinds whose name a client reaches: a Service, and the custom resources an operator
# makes Services for (advisor.loaders.infra_yaml._OPERATOR_SERVICES)
_NAMED_KINDS = ("Service", "Cluster", "Pooler", "PostgresCluster", "PerconaPGCluster", "postgresql")
_OPERATOR_SUFFIXES = ("-rw", "-ro", "-r", "-primary", "-ha", "-replicas", "-pgbouncer", "-repl")
_KIND_LINE = lazy_re.compile(r"^kind:[ \t]*[\"']?(\w+)", re.MULTILINE)
_JSON_KIND = lazy_re.compile(r"\"kind\"\s*:\s*\"(\w+)\"")
_JSON_NAME = lazy_re.compile(r"\"name\"\s*:\s*\"([A-Za-z0-9][\w.-]*)\"")
_DOC_SPLIT = lazy_re.compile(r"^---", re.MULTILINE)
_METADATA = lazy_re.compile(r"^metadata:[ \t]*(\{[^\n]*)?$", re.MULTILINE)
_FLOW_NAME = lazy_re.compile(r"(?:\{|,)\s*name:\s*[\"']?([A-Za-z0-9][\w.-]*)")
_BLOCK_NAME = lazy_re.compile(r"^([ \t]+)name:[ \t]*[\"']?([A-Za-z0-9][\w.-]*)")
_TF_NAME = lazy_re.compile(r"(?:\bname|\"DBProxyName\")\s*[=:]\s*\"([A-Za-z0-9][\w.-]*)\"")
# an RDS instance's or Aurora cluster's identifier (Terraform, plan JSON, describe-db-instances),
# the first label of its endpoint
_RDS_IDENTIFIER = lazy_re.compile(r"(?:\b(?:cluster_)?identifier|\"DB(?:Instance|Cluster)Identifier\")\s*[=:]\s*"
                                  r"\"([A-Za-z][\w-]*)\"")
_NAME_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@+-")
_RUNS = bytes(0x61 if c in _NAME_CHARS or c == 0x2F else 0x20 for c in range(256))

def defined_names(path: str, data: bytes) -> set[str]:
    """The names (lower case) a client could reach something in this file by: the metadata names
    of Kubernetes Services and operator clusters and poolers (with the operators' Service
    suffixes), the names of RDS Proxies in Terraform and in `aws rds describe-db-proxies` output,
    the identifiers of RDS instances and Aurora clusters and the names of Azure flexible servers
    (the first label of their endpoints)."""
    out: set[str] = set()
    lower = path.lower()
    if b"aws_db_proxy" in data or b"DBProxyName" in data or b"azurerm_postgresql_flexible_server" in data:
        text = data.decode("utf-8", "replace")
        out.update(n.lower() for n in _TF_NAME.findall(text))
    if b"dentifier" in data:
        out.update(n.lower() for n in _RDS_IDENTIFIER.findall(data.decode("utf-8", "replace")))
    if not lower.endswith((".yml", ".yaml", ".json", ".tpl", ".tmpl", ".j2")) or b"kind" not in data:
        return out
    text = data.decode("utf-8", "replace")
    if lower.endswith(".json"):
        if any(k in _NAMED_KINDS for k in _JSON_KIND.findall(text)):
            for n in _JSON_NAME.findall(text):  # (every name of the file: a superset)
                out.update(_with_suffixes(n.lower()))
        return out
    for doc in _DOC_SPLIT.split(text):
        kinds = _KIND_LINE.findall(doc)
        if not kinds or kinds[0] not in _NAMED_KINDS:
            continue
        name = _metadata_name(doc)
        if name:
            out.update(_with_suffixes(name.lower()) if kinds[0] != "Service" else (name.lower(),))
    return out


def _with_suffixes(name: str) -> tuple[str, ...]:
    return (name, *(name + s for s in _OPERATOR_SUFFIXES))


def _metadata_name(doc: str) -> str | None:
    m = _METADATA.search(doc)
    if m is None:
        return None
    if m.group(1):
        n = _FLOW_NAME.search(m.group(1))
        return n.group(1) if n else None
    indent = None
    for line in doc[m.end():].split("\n")[1:]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            return None  # the block ended
        width = len(line) - len(line.lstrip())
        indent = width if indent is None else indent
        if width == indent:
            n = _BLOCK_NAME.match(line)
            if n:
                return n.group(2)
    return None


class Related:
    """The groups of files in reach of the changed files (see the module docstring).

    `kind_of(path)` says what a file is found as (None: not read), `excluded(path)` whether the
    settings leave it out; paths are shown relative to the folder pgpath runs in (`top`)."""

    def __init__(self, kind_of, excluded, skip_dirs, config_names) -> None:
        self.kind_of = kind_of
        self.excluded = excluded
        self.skip_dirs = skip_dirs
        self.config_names = config_names
        self.top = os.path.abspath(".")
        self._listings: dict[str, tuple[list[tuple[str, str]], list[str], list[str]]] = {}
        self._files: dict[str, bool] | None = None  # every file a full check would look at (_walk)
        self._texts: dict[str, bytes] = {}
        self._lower: dict[str, bytes] = {}
        self._names: dict[str, set[str]] = {}
        self._runs_server: dict[str, bool] = {}
        self._hosts: dict[str, set[str]] | None = None  # host root -> folders of its files (_same_host)
        self._seen: set[str] = set()  # folders whose group is read
        self._groups: set[str] = set()
        self._found: list[tuple[str, str]] = []
        self._unread: list[str] = []
        self._asked: set[str] = set()  # hosts' names looked up among the definitions
        self._answered: set[str] = set()  # names looked up among the mentions

    # -- folders

    def shown(self, absolute: str) -> str:
        if absolute == self.top:
            return ""
        if absolute.startswith(self.top + os.sep):
            return absolute[len(self.top) + 1:]
        return absolute

    def listing(self, folder: str) -> tuple[list[tuple[str, str]], list[str], list[str]]:
        """(files found with their kinds, files not read, subfolders) of an absolute folder, as the
        walk of a full check sees them."""
        got = self._listings.get(folder)
        if got is not None:
            return got
        found: list[tuple[str, str]] = []
        unread: list[str] = []
        subdirs: list[str] = []
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            entries = []
        shown = self.shown(folder)
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir:
                # (os.walk, as a full check walks, does not go into a linked folder)
                if entry.name not in self.skip_dirs and not entry.name.startswith(".") and not entry.is_symlink():
                    subdirs.append(entry.path)
                continue
            path = os.path.join(shown, entry.name) if shown else entry.name
            if not os.path.isfile(path) or self.excluded(path):
                continue
            kind = self.kind_of(path)
            if kind:
                found.append((path, kind))
            elif entry.name not in self.config_names:
                unread.append(path)
        got = self._listings[folder] = (found, unread, subdirs)
        return got

    def names(self, folder: str) -> set[str]:
        """The names of the entries of a folder (files and folders a file there can name bare)."""
        got = self._names.get(folder)
        if got is None:
            try:
                got = set(os.listdir(folder))
            except OSError:
                got = set()
            self._names[folder] = got
        return got

    def is_server(self, folder: str) -> bool:
        return any(kind in SERVER_KINDS for _, kind in self.listing(folder)[0])

    def _boundary(self, folder: str) -> bool:
        """The top of the repository: the folder pgpath runs in, or a folder with .git."""
        return folder == self.top or os.path.exists(os.path.join(folder, ".git"))

    def may_run_server(self, folder: str) -> bool:
        """Whether a file of the folder that holds configurations of several kinds (a compose file
        or manifest, Terraform, cloud JSON) yields, loaded alone, a PostgreSQL, PgBouncer or HAProxy
        document: the path assembly then takes the folder for a server's (and a compose file's
        PgBouncer that mounts a pgbouncer.ini of another folder has its home there)."""
        got = self._runs_server.get(folder)
        if got is None:
            got = False
            for path, kind in self.listing(folder)[0]:
                if kind in ("kubernetes", "terraform", "cloud") and _loads_server(path, kind):
                    got = True
                    break
            self._runs_server[folder] = got
        return got

    def group(self, folder: str) -> tuple[str, list[str]]:
        """(key, folders) of a group that holds the neighbourhood of an absolute folder's files
        whatever the holders of configurations turn out to run: the folder's nearest one above
        (or itself) with a PostgreSQL, PgBouncer or HAProxy file, else the highest one whose
        compose file, manifest or cloud file runs a server, with the folders below it down to
        the next with such a file; else the folder alone."""
        home = None
        highest = None
        up = folder
        while True:
            if self.is_server(up):
                home = up
                break
            if self.may_run_server(up):
                highest = up
            parent = os.path.dirname(up)
            if self._boundary(up) or parent == up:
                break
            up = parent
        home = home or highest
        if home is None:
            return "alone:" + folder, [folder]
        folders = [home]
        stack = list(reversed(self.listing(home)[2]))
        while stack:
            d = stack.pop()
            if self.is_server(d):
                continue  # its own group, with the folders below it
            folders.append(d)
            stack.extend(reversed(self.listing(d)[2]))
        return home, folders

    # -- the repository's text

    def _walk(self) -> dict[str, bool]:
        """Every file a full check would look at (absolute path -> whether a full check follows a
        relative path written in it), walked once."""
        if self._files is None:
            from advisor.engine import SNIFF_SUFFIXES
            from advisor.loaders import detect_kind

            self._files = {}
            for root, dirs, files in os.walk(self.top):
                dirs[:] = sorted(d for d in dirs if d not in self.skip_dirs and not d.startswith("."))
                for name in files:
                    suffix = os.path.splitext(name)[1].lower()
                    path = os.path.join(root, name)
                    if suffix in SNIFF_SUFFIXES or detect_kind(path) \
                            or name.lower().startswith(("dockerfile", "containerfile")):
                        self._files[path] = suffix not in _NO_PATHS
        return self._files

    def text(self, path: str) -> bytes:
        """A file's text (bytes; empty when it cannot be read or is too large to be)."""
        got = self._texts.get(path)
        if got is None:
            from advisor.engine import SNIFF_MAX_BYTES

            got = b""
            try:
                if os.path.getsize(path) <= SNIFF_MAX_BYTES:
                    with open(path, "rb") as f:
                        got = f.read()
            except OSError:
                pass
            self._texts[path] = got
        return got

    def texts(self):
        """(absolute path, text) of every file a full check would look at."""
        return ((path, self.text(path)) for path in self._walk())

    def path_texts(self):
        """(absolute path, text) of the files whose relative paths a full check follows: a
        postgresql.conf's includes, a PgBouncer's %include and files, HAProxy's certificates, a
        compose file's or manifest's mounts, Terraform's files, systemd's (not a client's settings
        module, a cloud JSON output, SQL, a certificate: their loaders read their own file alone)."""
        return ((path, self.text(path)) for path, follows in self._walk().items() if follows)

    def lower(self, path: str) -> bytes:
        got = self._lower.get(path)
        if got is None:
            got = self._lower[path] = self.text(path).lower()
        return got

    def definers(self, name: str) -> list[str]:
        """Absolute paths of the files that define a name (`defined_names`), read only where the
        text holds it or, for an operator's Service (`pg-rw`), the cluster's name (`pg`)."""
        needles = {name.encode()} | {name[:-len(s)].encode() for s in _OPERATOR_SUFFIXES
                                     if name.endswith(s) and len(name) > len(s)}
        return [path for path, data in self.texts()
                if any(n in self.lower(path) for n in needles) and name in defined_names(path, data)]

    # -- links of one file

    def links(self, path: str) -> set[str]:
        """Absolute folders of the files and folders a file names by a relative path."""
        out: set[str] = set()
        absolute = os.path.abspath(path)
        data = self.text(absolute)
        for target in _path_refs(absolute, data, self.names(os.path.dirname(absolute))):
            if os.path.isdir(target):
                out.add(target)
            elif os.path.isfile(target):
                out.add(os.path.dirname(target))
        return out

    def alike(self, path: str, kind: str) -> set[str]:
        """Absolute folders of the files a full check joins with this one wherever they are: the
        other files of its systemd unit (the unit and its drop-ins, by name: SYS003 merges them
        across the run), and for an RDS parameter group every file that may describe DB instances
        (the only instance class of the run sizes it: advisor.loaders.cloud.link), and the
        reverse."""
        out: set[str] = set()
        if kind == "systemd":
            from advisor.loaders.systemd_unit import unit_name

            unit = unit_name(path)
            out.update(os.path.dirname(p) for p in self._walk() if unit_name(p) == unit)
        if kind in _HOST_KINDS:
            out.update(self._same_host(path))
        if kind in ("haproxy", "keepalived"):
            out.update(self._vip_links(path, kind))
        if kind in ("cloud", "terraform"):
            data = self.text(os.path.abspath(path))
            for mine, theirs in ((_RDS_PARAMETERS, _RDS_INSTANCES), (_RDS_INSTANCES, _RDS_PARAMETERS)):
                if any(m in data for m in mine):
                    out.update(os.path.dirname(p) for p, text in self.texts() if any(m in text for m in theirs))
        return out

    def _same_host(self, path: str) -> set[str]:
        """The folders of the files of the same host (`host_root`): a server takes the sysctl files
        and systemd units of its host wherever they sit in the copy of its file system
        (advisor.path.hosts), HAP012 the sysctl files of an HAProxy's host. Grouped once a run."""
        from advisor.model.host import host_root

        if self._hosts is None:
            self._hosts = {}
            roots: dict[str, str] = {}  # folder -> its host (host_root depends on the folder alone)
            for p in self._walk():
                folder = os.path.dirname(p)
                root = roots.get(folder)
                if root is None:
                    root = roots[folder] = host_root(p)
                self._hosts.setdefault(root, set()).add(folder)
        return self._hosts.get(host_root(os.path.abspath(path)), set())

    def _vip_links(self, path: str, kind: str) -> set[str]:
        """HAP012 joins an HAProxy file with every keepalived.conf of the run whose VIP it binds
        (and with the sysctl files of its host, `_same_host`): for an HAProxy file the folders of
        every file that may hold a `vrrp_instance`, and for a keepalived.conf those of every file
        that writes one of its VIPs (then theirs in turn)."""
        absolute = os.path.abspath(path)
        out: set[str] = set()
        if kind == "haproxy":
            # the keepalived.conf files that name an address this HAProxy binds (only a .conf is
            # read as one: a test or a script that mentions one is not)
            from advisor.loaders.template import strip_template_suffix

            binds = {m.group(1).encode() for m in _BIND_ADDRESS.finditer(self.text(absolute).decode("utf-8", "replace"))}
            if binds:
                out.update(os.path.dirname(p) for p, text in self.texts()
                           if b"vrrp_instance" in text and strip_template_suffix(os.path.basename(p)).endswith(".conf")
                           and any(b in text for b in binds))
        elif kind == "keepalived":
            vips = {m.group(1).encode() for m in _VIP_WORD.finditer(self.text(absolute).decode("utf-8", "replace"))}
            if vips:
                # (an HAProxy configuration that binds one: a test or a script that writes it is not)
                from advisor.loaders import detect_kind

                out.update(os.path.dirname(p) for p, text in self.texts() if any(v in text for v in vips)
                           and detect_kind(p, text.decode("utf-8", "replace")) == "haproxy")
        return out

    def mentions(self, name: str) -> set[str]:
        """Absolute paths of the files that mention a name as a host could start with it
        (`pgbouncer.db.svc`, `@db-rw:5432`, `host=hippo-pgbouncer`)."""
        needle = name.encode()
        return {other for other in self._walk() if needle in self.lower(other) and _mentions(self.lower(other), needle)}

    def referrers(self, files: list[str], folders: list[str]) -> set[str]:
        """Absolute folders of the files that name one of these files or folders by a relative path
        (a run of path characters with one of their names as a whole part, resolved from its folder).
        From another folder that path holds a `/` before the name, but in the folder just above a
        target folder (`include_dir 'conf.d'`) and in a target file's own folder (`include 'b.conf'`,
        for a changed file no kind claims: a full check reads it only as the include)."""
        targets = {os.path.abspath(p) for p in files} | set(folders)
        names = sorted({os.path.basename(t).encode() for t in targets if os.path.basename(t)})
        if not names:
            return set()
        slashed = [b"/" + n for n in names]
        parents = {os.path.dirname(f) for f in folders} | {os.path.dirname(os.path.abspath(p)) for p in files}
        out: set[str] = set()
        for other, data in self.path_texts():
            folder = os.path.dirname(other)
            if not any(n in data for n in (names if folder in parents else slashed)):
                continue
            if _names_by_path(other, data, names, targets, self.names(folder)):
                out.add(folder)
        return out

    # -- the closure

    def add(self, folders) -> bool:
        """Read the groups of these absolute folders, and those their files name by path or are
        named by; whether any was new."""
        queue = [f for f in folders if f not in self._seen]
        grew = False
        while queue:
            folder = queue.pop()
            if folder in self._seen:
                continue
            key, members = self.group(folder)
            self._seen.add(folder)
            if key in self._groups:
                continue
            self._groups.add(key)
            self._seen.update(members)
            grew = True
            files: list[tuple[str, str]] = []
            for f in members:
                got, skipped, _ = self.listing(f)
                files.extend(got)
                self._unread.extend(skipped)
            self._found.extend(files)
            for path, kind in files:
                queue.extend(self.links(path) - self._seen)
                queue.extend(self.alike(path, kind) - self._seen)
            queue.extend(self.referrers([p for p, _ in files], members) - self._seen)
        return grew

    def files(self) -> tuple[list[tuple[str, str]], list[str]]:
        """(files to read with their kinds, files only read for a version's evidence), in the order
        of a full check's walk."""
        return sorted(self._found, key=lambda pk: _walk_key(pk[0])), sorted(self._unread, key=_walk_key)

    def more(self, docs, paths) -> set[str]:
        """The folders the loaded documents' names reach: for each client no file of its group
        answers, the files defining a name its host starts with; for each name a document answers
        to (a Kubernetes Service, an operator's Service, an RDS Proxy), the files mentioning it."""
        out: set[str] = set()
        for path in paths:
            hop = path.hops[0] if path.hops else None
            if path.source != "discovered" or hop is None or hop.kind != "client" or _answered_here(path):
                continue
            hosts = getattr(hop.detail, "hosts", None) or ()
            host = str(hosts[0].value).lower() if hosts and hosts[0].known else ""
            if not host:
                continue
            names = {host.split(".")[0]}
            proxy = rds_proxy_name(host)
            if proxy:
                names.add(proxy)
            for name in names - self._asked:
                self._asked.add(name)
                out.update(os.path.dirname(p) for p in self.definers(name))
        for doc in docs:
            names = {str(n).lower() for n in doc.meta.get("services", ())}
            for box in getattr(doc.model, "middleboxes", ()) or ():
                if box.kind == "aws-rds-proxy" and is_known(box.name) and box.name:
                    names.add(str(box.name).lower())
            # an RDS identifier, an Azure flexible server's name: the first label of its endpoint
            names.update(str(i["identifier"]).lower() for i in doc.meta.get("db_instances", ()) if i.get("identifier"))
            names.update(a["address"].split(".")[0].lower() for a in doc.meta.get("addresses", ())
                         if ".postgres.database.azure.com:" in a["address"])
            for name in names - self._answered:
                self._answered.add(name)
                out.update(self.clients_naming(name, self.mentions(name) - self._seen_files()))
        return out - self._seen

    def _seen_files(self) -> set[str]:
        return {os.path.abspath(p) for p, _ in self._found}

    def clients_naming(self, name: str, files: set[str]) -> set[str]:
        """The folders of those files that hold a client whose host starts with the name (each file
        loaded alone, as a full check loads it; one that cannot be is taken to)."""
        out: set[str] = set()
        for path in sorted(files):
            folder = os.path.dirname(path)
            shown = self.shown(path)
            kind = next((k for p, k in self.listing(folder)[0] if p == shown), None)
            if kind is None or kind in _NO_CLIENTS:
                continue  # a full check does not read it, or reads no client in it
            try:
                docs = _load_alone(shown, kind)
            except Exception:  # noqa: BLE001 - unreadable here: its group is read, and the run says why
                out.add(folder)
                continue
            for doc in docs:
                if any(_host_names(ep, name) for ep in getattr(doc.model, "endpoints", ()) or ()):
                    out.add(folder)
                    break
        return out


# the first word of a keepalived `virtual_ipaddress` line that may be an IP address (a superset:
# a word that is none only reads a folder more)
# an address an HAProxy `bind` line names (`bind 10.20.0.100:5000`, `bind [fd00::10]:5000`): no
# wildcard, which any host can bind
_BIND_ADDRESS = lazy_re.compile(r"^[ \t]*bind[ \t]+\[?((?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]*:[0-9A-Fa-f:]+)\]?:",
                                re.MULTILINE)
_VIP_WORD = lazy_re.compile(r"^[ \t]*(?:@\^?\S+[ \t]+)?([0-9A-Fa-f.:]*[.:][0-9A-Fa-f.:]+)(?:/\d+)?(?:[ \t]|\r?$)",
                            re.MULTILINE)
# what may say an RDS parameter group's settings (describe-db-parameters, Terraform), and an
# instance's class (describe-db-instances, Terraform): a superset
_RDS_PARAMETERS = (b"ParameterName", b"aws_db_parameter_group", b"aws_rds_cluster_parameter_group")
_RDS_INSTANCES = (b"DBInstanceClass", b"DBClusterInstanceClass", b"instance_class")
# files whose loaders read them alone (a settings module, cloud JSON, SQL, certificates...): no
# relative path in them is followed by a full check
_NO_PATHS = frozenset((".py", ".json", ".properties", ".toml", ".sql", ".psql", ".pgsql", ".crt", ".pem", ".key",
                       ".cer"))
# the kinds whose files take facts of their host's files, or give them (advisor.path.hosts, HAP012)
_HOST_KINDS = ("postgresql", "pgbouncer", "haproxy", "keepalived", "sysctl", "systemd")
_NO_CLIENTS = ("postgresql", "pgbouncer", "haproxy", "sql", "sysctl", "systemd", "certificate")


_ALONE = {"workloads": [], "autoscalers": [], "services": [], "compose_merged": [], "compose_bases": {},
          "folder_listings": {}, "env_file_services": []}


def _load_alone(path: str, kind: str) -> list:
    """The documents of one file loaded alone (the options a run shares left empty)."""
    from advisor.loaders import load_file

    got = load_file(path, kind, {k: type(v)() for k, v in _ALONE.items()})
    return got if isinstance(got, list) else [got]


def _loads_server(path: str, kind: str) -> bool:
    try:
        return any(d.kind in SERVER_KINDS for d in _load_alone(path, kind))
    except Exception:  # noqa: BLE001 - unreadable here: taken to run one (the run says why it is unreadable)
        return True


def _host_names(ep, name: str) -> bool:
    """Whether a client endpoint's first host starts with the name (`name`, `name.ns.svc`), or is
    the endpoint of the RDS Proxy of that name."""
    hosts = getattr(ep, "hosts", None) or ()
    host = str(hosts[0].value).lower() if hosts and hosts[0].known else ""
    if not host:
        return False
    return host.split(".")[0] == name or rds_proxy_name(host) == name


def _answered_here(path) -> bool:
    """Whether a discovered path's client reached its first hop in its own group, by port
    (advisor.path.discover._client_paths says so: `<who> connects to port N, where ...`), and not
    by a name that any folder may answer to, or not at all."""
    who = path.hops[0].detail.who() if hasattr(path.hops[0].detail, "who") else None
    return bool(who) and len(path.hops) > 1 and bool(path.evidence) and \
        path.evidence[0].startswith(f"{who} connects to port ")


def _mentions(text: bytes, needle: bytes) -> bool:
    """Whether a (lower-case) text holds a name where a host could start with it: not inside a
    longer name or after a dot, and ending its label."""
    start = text.find(needle)
    while start >= 0:
        end = start + len(needle)
        before = text[start - 1:start]
        after = text[end:end + 1]
        if not (before and (before.isalnum() or before in b"_-.")) and not (after and (after.isalnum() or after in b"_-")):
            return True
        start = text.find(needle, start + 1)
    return False


def _names_by_path(path: str, data: bytes, names: list[bytes], targets: set[str], here: set[str]) -> bool:
    """Whether a file's text names one of `targets` by a relative path: each occurrence of one of
    their `names` as a whole part of a run of path characters, the run resolved from its folder."""
    mask = None
    for name in names:
        i = data.find(name)
        while i >= 0:
            end = i + len(name)
            if (i == 0 or data[i - 1] not in _NAME_CHARS) and (end == len(data) or data[end] not in _NAME_CHARS):
                if mask is None:
                    mask = data.translate(_RUNS)  # path characters as "a", the others as " "
                start = mask.rfind(b" ", 0, i) + 1
                stop = mask.find(b" ", end)
                if any(t in targets for t in _path_refs(path, data[start:stop if stop >= 0 else len(data)], here)):
                    return True
            i = data.find(name, i + 1)
    return False


def _path_refs(path: str, data: bytes, here: set[str]) -> set[str]:
    """The absolute paths a file's text names relatively: each run of path characters holding a `/`
    and not starting with one (`../db/pgbouncer.ini`, `./conf.d/`), and each word that is the name
    of a file or folder beside it (`include_dir 'conf.d'`; `here`), resolved from the file's folder."""
    out: set[str] = set()
    folder = os.path.dirname(path)
    for word in _path_run().findall(data):
        if b"/" not in word:
            name = word.decode("utf-8", "replace")
            if name in here:
                out.add(os.path.join(folder, name))
            continue
        if word.startswith(b"/") or b"//" in word:
            continue  # absolute (not in the repository), or a URL
        try:
            rel = word.decode("utf-8").rstrip("/.")
        except UnicodeDecodeError:
            continue
        if rel:
            out.add(os.path.normpath(os.path.join(folder, rel)))
    return out


@functools.lru_cache(maxsize=None)
def _path_run() -> re.Pattern:
    """A run of path characters (`../db/pgbouncer.ini`, `conf.d/x.conf`, `conf.d`): a bytes pattern,
    which lazy_re does not remember, compiled on first use."""
    return re.compile(rb"[\w.@+/-]+")


def _walk_key(path: str):
    """A full check's walk order: a folder's files (by name) before its subfolders (by name)."""
    parts = os.path.normpath(path).split(os.sep)
    return [(1, p) for p in parts[:-1]] + [(0, parts[-1])]
