"""A configuration file mounted into the container that runs it, read as one server with it.

A compose service or a Kubernetes container whose PostgreSQL reads a mounted postgresql.conf
(`-c config_file=` naming it, or a file at `$PGDATA/postgresql.conf`), or whose PgBouncer runs a
mounted pgbouncer.ini (the file its command names, else the image's own path), is what that file
configures. The loaders make a document of each (the container's, from its command line and
environment, meta["_mount"]; the file's, from its own loader or from the ConfigMap that embeds it),
and `merge` makes them one, as the software reads them:

- the settings are the file's, in its lines, then the container's command line (`postgres -c`
  overrides every configuration file), each spanned where it is written;
- the host facts are the container's (its memory limit, its pod's sysctls);
- the names are the container's: its compose service or Kubernetes Services (a client naming the
  service reaches it), its image, its published ports (meta "source", "service", "image",
  "compose_exposure", ...); meta["mounted_in"] says which container reads the file and where;
- the container's own document is dropped (an image-default PgBouncer or a server whose settings
  are unknown would be a second, false copy).

The document kept is the file's, so a fix of a setting written there names that file; a fix of a
setting the command line writes stays on the command line (advisor.model.pg_parameters). The
container file is read as well (its path in `files`, meta["_also_read"]: not an include).

A mounted file the run did not read leaves the container's document as it was: the compose
loader says when the file is not there (advisor.loaders.infra_yaml._config_mount), and a
Kubernetes server that reads a ConfigMap no checked file of its folder holds gets that notice here.
A PgBouncer image that runs a mounted pgbouncer.ini not read has no known setting (its variables
are not used: edoburu/pgbouncer writes a file from them only when none is there), with a notice.
"""

from __future__ import annotations

import copy
import os

from advisor.model import ConfigDoc, Unknown

# what the container says about the server it runs, kept on the file's document
_CONTAINER_META = ("source", "service", "image", "compose_exposure", "env", "env_file", "guessable_password",
                   "initdb_scripts", "development", "merged_over", "compose_services", "services",
                   "services_qualified", "namespace", "processes", "_workloads", "_endpoint_workloads")


def merge(docs: list[ConfigDoc]) -> list[ConfigDoc]:
    """The documents with each container that mounts a configuration file the run read merged with
    that file's document (in the container's place), in order."""
    files: dict[str, list[ConfigDoc]] = {}
    configmaps: dict[tuple[str, str], list[ConfigDoc]] = {}
    for d in docs:
        if d.kind not in ("postgresql", "pgbouncer"):
            continue
        if d.meta.get("_configmap"):
            configmaps.setdefault((d.meta["_configmap"][1], d.meta.get("key")), []).append(d)
        elif not d.meta.get("source") and "_mount" not in d.meta:
            files.setdefault(os.path.realpath(d.path), []).append(d)
    for c in docs:
        if "_regenerated" in c.meta:
            _regenerated(c, c.meta.pop("_regenerated"), files, configmaps)
    replaced: dict[int, ConfigDoc] = {}
    taken: set[int] = set()
    for c in docs:
        mount = c.meta.pop("_mount", None)
        if mount is None:
            continue
        found = _source(c, mount, files, configmaps)
        if found is None:
            if c.kind == "pgbouncer":
                _pgbouncer_not_read(c, mount)
            elif mount.get("configmap"):
                _not_read(c, mount)
            continue
        if id(found) in taken:
            found = _copy(found)  # two containers mount one file: each runs a server of its own
        taken.add(id(found))
        _graft(found, c, mount)
        replaced[id(c)] = found
    if not replaced:
        return docs
    kept = {id(d) for d in replaced.values()}
    return [replaced.get(id(d), d) for d in docs if id(d) not in kept or id(d) in replaced]


def _source(c: ConfigDoc, mount: dict, files: dict, configmaps: dict) -> ConfigDoc | None:
    """The document of the file a container mounts, of its kind: the file read by its own loader,
    or the ConfigMap key (same name, same namespace or one of them not written, same folder)."""
    if mount.get("file"):
        found = [d for d in files.get(os.path.realpath(mount["file"]), ()) if d.kind == c.kind]
        return found[0] if len(found) == 1 else None
    namespace, name, key = mount["configmap"]
    found = [d for d in configmaps.get((name, key), ()) if d.kind == c.kind
             and (None in (d.meta["_configmap"][0], namespace) or d.meta["_configmap"][0] == namespace)
             and os.path.dirname(os.path.realpath(d.path)) == mount["folder"]]
    return found[0] if len(found) == 1 else None


def _copy(doc: ConfigDoc) -> ConfigDoc:
    out = copy.copy(doc)
    out.settings = list(doc.settings)
    out.diagnostics = list(doc.diagnostics)
    out.suppressions = list(doc.suppressions)
    out.files = list(doc.files)
    out.meta = dict(doc.meta)
    return out


def _graft(doc: ConfigDoc, c: ConfigDoc, mount: dict) -> None:
    """The container `c`'s command line, host facts and names onto the document of the file it reads."""
    if doc.kind == "postgresql":
        _run_as(doc, c)
        flags = list(c.settings)
        over = {s.name for s in flags if s.effective}
        for s in doc.settings:
            if s.name in over and s.effective:
                s.effective = False  # the command line overrides every configuration file
        doc.settings = doc.settings + flags
    # (the container file's own problems and notices were kept on its first document)
    doc.diagnostics = doc.diagnostics + c.diagnostics
    doc.suppressions = doc.suppressions + c.suppressions
    notes = [n for n in c.meta.get("unresolved_includes", ()) if not _same_span(n, mount["span"])]
    if notes:
        doc.meta["unresolved_includes"] = doc.meta.get("unresolved_includes", []) + notes
    unread = [u for u in c.meta.get("defaults_unknown_because", ()) if not _same_span(u, mount["span"])]
    unread += doc.meta.get("defaults_unknown_because", [])
    if unread:
        doc.meta["defaults_unknown_because"] = unread
    for key in _CONTAINER_META:
        if key in c.meta:
            doc.meta[key] = c.meta[key]
    for key in ("overrides_file", "mounted_at", "image_configuration_only"):
        doc.meta.pop(key, None)
    doc.meta["mounted_in"] = {"file": c.path, "service": c.meta.get("service"), "at": mount["at"],
                              "span": mount["span"]}
    if c.host is not None:
        if doc.host is None:
            doc.host = c.host
        else:
            from advisor.model.host import HostFacts

            host = HostFacts(c.host.name, c.host.span, dict(doc.host.facts))
            host.facts.update(c.host.facts)
            doc.host = host
    if c.path not in doc.files:
        doc.files = doc.files + [c.path]
        doc.meta["_also_read"] = doc.meta.get("_also_read", []) + [c.path]
    for w in doc.meta.get("_workloads", ()):
        w["docs"][:] = [d for d in w["docs"] if d is not c] + ([doc] if not any(d is doc for d in w["docs"]) else [])


# what says which major a document was checked as (advisor.engine._record_version)
_VERSION_META = ("pg_version", "pg_version_source", "pg_version_reason", "pg_version_found", "pg_major_named",
                 "pg_version_said")


def _run_as(doc: ConfigDoc, c: ConfigDoc) -> None:
    """The file is read by the server of the container's image: when that image names a major
    (postgres:16.4) other than the one the file was typed as (its own evidence, a data_directory of
    /var/lib/postgresql/14), the file is typed again as the image's, and says why. A major given
    (--pg-version) or declared in the topology was given to both already."""
    if not c.meta.get("pg_version_found") or c.meta.get("pg_version") == doc.meta.get("pg_version") \
            or doc.meta.get("pg_version_source") in ("option", "topology"):
        return
    from advisor.catalog import load_catalog
    from advisor.loaders.postgresql_conf import type_settings

    for key in _VERSION_META:
        if key in c.meta:
            doc.meta[key] = c.meta[key]
        else:
            doc.meta.pop(key, None)
    own = set(doc.files)
    # (the values' diagnostics of the major it was typed as go; its syntax and includes stay)
    doc.diagnostics = [d for d in doc.diagnostics if d.kind in ("syntax-error", "include-error")
                       or d.span.file not in own]
    for setting in doc.settings:
        if setting.value is not None and not isinstance(setting.value, Unknown):
            setting.value = None
    type_settings(doc, load_catalog(doc.meta["pg_version"]))


def _same_span(note: dict, span: dict) -> bool:
    return all(note.get(k) == span.get(k) for k in ("file", "line", "col"))


def _not_read(c: ConfigDoc, mount: dict) -> None:
    """A Kubernetes server whose configuration file is a ConfigMap key no checked file of its folder
    holds: its settings are unknown but for the command line's, and a notice says so."""
    namespace, name, key = mount["configmap"]
    where = f" of namespace {namespace}" if namespace else ""
    c.meta["overrides_file"] = f"ConfigMap {name}"
    c.meta["mounted_at"] = mount["at"]
    c.meta["defaults_unknown_because"] = c.meta.get("defaults_unknown_because", []) + [mount["span"]]
    c.meta.setdefault("unresolved_includes", []).append(dict(mount["span"], message=(
        f"ConfigMap {name}{where}, key {key}, mounted at {mount['at']}: the server's configuration file, in no "
        "file checked beside this manifest; not read, so the settings it holds are unknown (only the command "
        "line's are known)")))


def _regenerated(c: ConfigDoc, entries: list[dict], files: dict, configmaps: dict) -> None:
    """A bitnami/pgbouncer container that deletes a file mounted in its configuration folder to write
    it again (advisor.loaders.infra_yaml._bitnami_regenerated): the mounted file of the run is no
    configuration a PgBouncer runs (meta["replaced_by_image"]: the path leaves it out, and says
    why); where the delete fails, the container does not start, so no setting of it runs (every
    setting unknown: no path rule judges the image's defaults), and a file it also mounts at
    /bitnami/pgbouncer/conf is not run either."""
    for entry in entries:
        mounted = list(files.get(os.path.realpath(entry["file"]), ())) if entry["file"] else []
        if entry.get("configmap"):
            mounted += [d for d in configmaps.get(entry["configmap"][1:], ())
                        if os.path.dirname(os.path.realpath(d.path)) == entry["folder"]
                        and (None in (d.meta["_configmap"][0], entry["configmap"][0])
                             or d.meta["_configmap"][0] == entry["configmap"][0])]
        for doc in mounted:
            if doc.kind == "pgbouncer":
                doc.meta["replaced_by_image"] = {"file": c.path, "service": c.meta.get("service"), "at": entry["at"],
                                                 "span": entry["span"], "fails": entry["fails"]}
    failing = [e for e in entries if e["fails"]]
    if failing:
        c.meta.pop("_mount", None)
        # (where its clients would reach it is still the container's: its port, its service name)
        _opaque(c, failing[0]["span"], keep=("listen_addr", "listen_port"))


def _opaque(c: ConfigDoc, span: dict, keep: tuple[str, ...] = ()) -> None:
    """Every setting of a PgBouncer container's document unknown (an opaque line at `span`,
    advisor.loaders.pgbouncer_ini.build) but those named in `keep`; its fixes are no longer its
    image's variables."""
    from advisor.loaders.pgbouncer_ini import _Item, build
    from advisor.model import Span

    at = Span(**span)
    kept = [_Item("key", s.name, str(s.raw), str(s.raw), s.span, s.value_span, False)
            for s in c.settings if s.name in keep and s.effective and isinstance(s.raw, str)]
    c.settings = []
    c.model = build(c, [_Item("section", "pgbouncer", "", "[pgbouncer]", at, None, False),
                        _Item("opaque", "", "", "", at, None, True)] + kept, c.model.version)
    c.meta.pop("generated_by", None)


def _pgbouncer_not_read(c: ConfigDoc, mount: dict) -> None:
    """A PgBouncer image's container that runs a mounted pgbouncer.ini the run did not read: the
    settings its variables would have written are not what runs, so none is known (an opaque line
    at the mount: every setting unknown, advisor.loaders.pgbouncer_ini.build), and a notice says so."""
    if mount.get("file"):
        shown = mount.get("written") or mount["file"]
        where = ("not beside this compose file" if not os.path.isfile(mount["file"])
                 else "not read in this run (outside the paths checked, or not recognised as a pgbouncer.ini)")
    else:
        namespace, name, key = mount["configmap"]
        shown = f"ConfigMap {name}" + (f" of namespace {namespace}" if namespace else "") + f", key {key},"
        where = "in no file checked beside this manifest"
    _opaque(c, mount["span"])  # (its fixes are lines of that file, not the image's variables)
    c.meta.setdefault("unresolved_includes", []).append(dict(mount["span"], message=(
        f"{shown} mounted at {mount['at']}: the pgbouncer.ini PgBouncer runs (the image writes one from its "
        f"variables only when none is there), {where}; not read, so its settings are unknown")))
