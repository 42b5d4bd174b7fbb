"""Compose overlay files merged over the base file of their folder, as `docker compose` does.

`docker compose up` reads the folder's base file (the first of compose.yaml, compose.yml,
docker-compose.yml, docker-compose.yaml) and, beside it, the first override file
(compose.override.yml, compose.override.yaml, docker-compose.override.yml,
docker-compose.override.yaml), merged over it. `docker compose -f docker-compose.yml -f
docker-compose.prod.yml` merges another file the same way (and reads no override file). An
overlay's service often has no `image:`: the image is in the base file.

The merge rules are the Compose Specification's (reference/compose-file/merge and
manuals/compose/how-tos/multiple-compose-files/merge):

- a mapping merges by key, the overlay's value winning (`mem_limit`, `image`, `deploy.resources`
  ...); a scalar replaces;
- `command`, `entrypoint` and `healthcheck.test` are replaced, never appended;
- `environment` and `labels` merge by variable or label name in their expanded form (a
  `- KEY=value` list and a `KEY: value` mapping are the same thing);
- `ports` are appended (an entry equal to one already there is not added twice); `volumes`,
  `secrets`, `configs` are unique by their target in the container: an overlay's entry replaces
  the base's at the same target, others are appended; any other sequence is appended;
- `!reset` removes a value, `!override` replaces it whole.

Each merged node keeps the file that wrote it (`Node.file`), so every span of the merged service
points at the line of the file that wrote the value.
"""

from __future__ import annotations

import os

from advisor import lazy_re
from advisor.loaders.yaml_nodes import N

BASE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_NAMES = ("compose.override.yml", "compose.override.yaml", "docker-compose.override.yml",
                  "docker-compose.override.yaml")
# `docker-compose.prod.yml`, `compose.staging.yaml`: a file given after the base with `-f`
OVERLAY_NAME = lazy_re.compile(r"^(?:docker-)?compose\.[\w.-]+\.ya?ml$")

_REPLACED = ("command", "entrypoint")
_BY_NAME = ("environment", "labels")
_BY_TARGET = ("volumes", "secrets", "configs")


class Node(N):
    """An `N` of a merged service that remembers the file it was written in: its spans are in
    that file whatever path the reader passes."""

    __slots__ = ("file",)

    def __init__(self, kind, value, tag, style, line, col, end_line, end_col, file) -> None:
        super().__init__(kind, value, tag, style, line, col, end_line, end_col)
        self.file = file

    def span(self, path: str):
        return N.span(self, self.file)

    def value_span(self, path: str):
        return N.value_span(self, self.file)


def file_of(node: N, default: str) -> str:
    """The file a node was written in (a merged service's node knows it; others are the reader's)."""
    return getattr(node, "file", None) or default


def is_overlay_name(name: str) -> bool:
    name = name.lower()
    return name not in BASE_NAMES and bool(OVERLAY_NAME.match(name))


def _first_file(folder: str, names: tuple[str, ...]) -> str | None:
    """The first of `names` that is a file in `folder`, as `docker compose` looks for them."""
    for name in names:
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def base_of(path: str) -> str | None:
    """The base file `docker compose` reads in the overlay's folder (the first default name there),
    or None when there is none."""
    return _first_file(os.path.dirname(path), BASE_NAMES)


def override_of(base: str) -> str | None:
    """The override file `docker compose up` merges over the base file `base`: the first of the
    override names in its folder, or None."""
    return _first_file(os.path.dirname(base), OVERRIDE_NAMES)


def automatic_override(path: str) -> bool:
    """True when `docker compose up` merges this file by itself: it is the first override file
    of its folder, beside a base file."""
    name = os.path.basename(path).lower()
    if name not in OVERRIDE_NAMES:
        return False
    first = override_of(path)
    return first is not None and os.path.basename(first) == name


def rebase(node: N, file: str, memo: dict | None = None) -> Node:
    """A copy of a node tree whose nodes remember `file` (an alias is copied once)."""
    memo = {} if memo is None else memo
    done = memo.get(id(node))
    if done is not None:
        return done
    out = Node(node.kind, None, node.tag, node.style, node.line, node.col, node.end_line, node.end_col, file)
    memo[id(node)] = out
    if node.kind == "map":
        out.value = [(k, rebase(kn, file, memo), rebase(vn, file, memo)) for k, kn, vn in node.value]
    elif node.kind == "seq":
        out.value = [rebase(item, file, memo) for item in node.value]
    else:
        out.value = node.value
    return out


def merge_service(base: N, over: N, base_file: str, over_file: str) -> Node:
    """The service `over` (of `over_file`) merged over `base` (of `base_file`)."""
    return _merge_map(rebase(base, base_file), rebase(over, over_file), ())


def _merge_map(base: Node, over: Node, at: tuple) -> Node:
    items = list(base.value)
    index = {k: i for i, (k, _, _) in enumerate(items)}
    for key, kn, vn in over.value:
        where = at + (key,)
        i = index.get(key)
        if vn.tag == "!reset":
            if i is not None:
                items[i] = None
                index.pop(key)
            continue
        if i is None:
            index[key] = len(items)
            items.append((key, kn, _expanded(vn, where)))
            continue
        items[i] = (key, kn, _merge_value(items[i][2], vn, where))
    out = Node("map", [item for item in items if item is not None], base.tag, None, base.line, base.col,
               base.end_line, base.end_col, base.file)
    return out


def _merge_value(base: Node, over: Node, at: tuple) -> Node:
    name = at[-1]
    if over.tag == "!override" or len(at) == 1 and name in _REPLACED or at[-2:] == ("healthcheck", "test"):
        return over
    if len(at) == 1 and name in _BY_NAME:
        return _merge_map(_expanded(base, at), _expanded(over, at), at)
    if base.kind == "map" and over.kind == "map":
        return _merge_map(base, over, at)
    if base.kind == "seq" and over.kind == "seq":
        items = list(base.value)
        if len(at) == 1 and name in _BY_TARGET:
            targets = {_target(item): i for i, item in enumerate(items) if _target(item)}
            for item in over.value:
                t = _target(item)
                if t and t in targets:
                    items[targets[t]] = item
                else:
                    items.append(item)
        else:
            seen = {(item.kind, item.value) for item in items if item.kind == "scalar"}
            items += [item for item in over.value if item.kind != "scalar" or (item.kind, item.value) not in seen]
        return Node("seq", items, base.tag, None, base.line, base.col, base.end_line, base.end_col, base.file)
    return over  # a scalar, or a value of another shape: replaced


def _expanded(node: Node, at: tuple) -> Node:
    """`environment`/`labels` as a mapping: a `- KEY=value` item becomes KEY with a value node at
    the text after `=` (the item itself when it spans lines)."""
    if not (len(at) == 1 and at[0] in _BY_NAME and node.kind == "seq"):
        return node
    items = []
    for item in node.value:
        if item.kind != "scalar" or item.tag == "null":
            continue
        key, eq, value = item.value.partition("=")
        key = key.strip()
        if not key:
            continue
        if not eq:  # `- KEY` alone: the value comes from the shell; unknown here
            value_node = Node("scalar", "${" + key + "}", "str", None, item.line, item.col, item.end_line,
                              item.end_col, item.file)
        elif item.line == item.end_line:
            col = item.col + (1 if item.style in ("'", '"') else 0) + len(item.value) - len(value)
            value_node = Node("scalar", value, "str", None, item.line, col, item.line, col + len(value), item.file)
        else:
            value_node = Node("scalar", value, "str", None, item.line, item.col, item.end_line, item.end_col,
                              item.file)
        items.append((key, item, value_node))
    return Node("map", items, None, None, node.line, node.col, node.end_line, node.end_col, node.file)


def _target(item: N) -> str | None:
    """The unique key of a volume, secret or config entry: its target in the container."""
    if item.kind == "map":
        return item.text("target") or (item.text("source") if item.get("target") is None else None)
    if item.kind == "scalar" and item.tag != "null":
        parts = str(item.value).split(":")
        return parts[1] if len(parts) >= 2 else parts[0]
    return None
