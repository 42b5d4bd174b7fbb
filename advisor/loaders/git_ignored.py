"""Whether git ignores a file: the one fact about version control that pgpath reads.

A password written in a `.env` that `.gitignore` excludes is where a password belongs (kept on
the machine, never committed); the same line in a file the repository keeps is a leaked
credential (APP013). Git's own answer is asked (`git check-ignore`), so every ignore source
counts as git counts it: nested `.gitignore` files, `.git/info/exclude`, `core.excludesFile`,
negations. It is asked only for a file that holds a literal password, and only inside a
work tree (a `.git` above the file): no subprocess otherwise.
"""

from __future__ import annotations

import os
import subprocess


def git_ignores(path: str) -> bool | None:
    """True when git ignores `path`, False when it does not (tracked, or untracked and not
    ignored: `git add .` would commit it), None when that is not known (no work tree above the
    file, no git binary, git failed)."""
    folder = os.path.dirname(os.path.abspath(path))
    if repository_root(folder) is None:
        return None
    try:
        proc = subprocess.run(["git", "-C", folder, "check-ignore", "-q", "--", os.path.basename(path)],
                              capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    # 0: ignored; 1: not ignored; 128: an error (not a work tree, a path outside it)
    return {0: True, 1: False}.get(proc.returncode)


def repository_root(folder: str) -> str | None:
    """The nearest folder at or above `folder` that holds `.git` (a directory, or a worktree's
    file), or None outside any repository."""
    here = folder
    while True:
        if os.path.exists(os.path.join(here, ".git")):
            return here
        up = os.path.dirname(here)
        if up == here:
            return None
        here = up


def project_top(folder: str, roots: list[str]) -> str:
    """The top of the project an absolute folder belongs to: its repository's root
    (`repository_root`), else the deepest checked folder (`roots`) that holds it, else itself."""
    from advisor.model import within

    top = repository_root(folder)
    if top is None:
        inside = [r for r in (os.path.abspath(r) for r in roots) if within(folder, r)]
        top = max(inside, key=len) if inside else folder
    return top


def nearest_file(folder: str, names: tuple[str, ...], roots: list[str]) -> str | None:
    """The first of `names` found in `folder` or a folder above it (a client's go.mod, pom.xml or
    build.gradle), looking no higher than the project's top (`project_top`)."""
    top = project_top(folder, roots)
    here = folder
    while True:
        for name in names:
            if os.path.isfile(os.path.join(here, name)):
                return os.path.join(here, name)
        up = os.path.dirname(here)
        if here == top or up == here:
            return None
        here = up


def relative(path: str) -> str:
    """`path` relative to the working folder (as the files checked are named), or as it is on
    another drive."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return path
