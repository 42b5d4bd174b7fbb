"""keepalived.conf: the VRRP instances and the virtual IP addresses (VIPs) they move between nodes.

Read as keepalived(8) 2.2 reads keepalived.conf(5): keywords in blocks delimited by `{` and `}`
(a brace may share a line with other words); `#` and `!` start a comment; a line starting with
`@name` (or `@^name`) is for one host only and is read like the others. In a `vrrp_instance NAME`
block pgpath reads `state`, `interface` and each line of `virtual_ipaddress { ... }` and
`virtual_ipaddress_excluded { ... }`: its first word is the address, `<ip>[/<prefix>]`, and the
words after it options (`dev eth0`, `label eth0:1`, `brd`, `scope`, `no_track`...). A first word
that is no IP address (a template placeholder, `include`) is no VIP.

Nothing else is kept: `authentication { auth_pass ... }`, `vrrp_script` commands, notification
addresses and every other keyword are read past, never stored nor printed. `include` files are
not followed.

Unbalanced braces are `syntax-error` diagnostics (ADV001) in keepalived's own words ("Extra '}'
found", "There are N missing '}'s or extra '{'s"), warnings: keepalived logs them and starts,
reading what follows in another block than the one written.
"""

from __future__ import annotations

import ipaddress

from advisor.loaders.source import read_text
from advisor.loaders.template import is_template
from advisor.model import ConfigDoc, Diagnostic, Setting, Span
from advisor.model.keepalived import Keepalived, VirtualAddress, VrrpInstance

_VIP_BLOCKS = ("virtual_ipaddress", "virtual_ipaddress_excluded")
_INSTANCE_KEYS = ("state", "interface")


def _words(line: str) -> list[tuple[str, int]]:
    """(word, 1-based column) of one line, comments cut, `{` and `}` words of their own."""
    out: list[tuple[str, int]] = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in " \t\r\f\v":
            i += 1
        elif c in "#!":
            break
        elif c in "{}":
            out.append((c, i + 1))
            i += 1
        else:
            j = i
            while j < n and line[j] not in " \t\r\f\v{}":
                j += 1
            out.append((line[i:j], i + 1))
            i = j
    return out


def _vip(word: str) -> tuple[str, int] | None:
    """(the IP address, 4 or 6) of a `virtual_ipaddress` line's first word, or None."""
    try:
        iface = ipaddress.ip_interface(word)
    except ValueError:
        return None
    return str(iface.ip), iface.version


def load(path: str, options: dict | None = None) -> ConfigDoc:
    text = read_text(path)
    doc = ConfigDoc(path=path, kind="keepalived")
    doc.files.append(path)
    doc.template = is_template(path, text)
    model = Keepalived()
    # the open blocks: (keyword, line, column, the vrrp_instance it is in or None)
    stack: list[tuple[str, int, int, VrrpInstance | None]] = []
    before: list[tuple[str, int]] = []  # the words of the line before (a `{` alone opens its keyword's block)
    before_line = 0
    for lineno, line in enumerate(text.split("\n"), start=1):
        words = _words(line)
        if words and words[0][0].startswith("@"):
            words = words[1:]  # `@host` / `@^host`: a line for some hosts only
        if not words:
            continue
        opener = words if words[0][0] != "{" else before
        entry = True  # at the start of an entry: the line's first word, or the first after a brace
        for k, (word, wcol) in enumerate(words):
            top = stack[-1] if stack else None
            block, instance = (top[0], top[3]) if top else (None, None)
            if word == "{":
                keyword = opener[0][0] if opener and opener[0][0] not in "{}" and (k > 0 or opener is before) else ""
                if keyword == "vrrp_instance" and not stack:
                    name = opener[1][0] if len(opener) > 1 and opener[1][0] not in "{}" else ""
                    instance = VrrpInstance(name, Span(path, before_line if opener is before else lineno, opener[0][1],
                                                       lineno, wcol + 1))
                    model.instances.append(instance)
                stack.append((keyword, lineno, opener[0][1] if opener else wcol, instance))
                entry = True
            elif word == "}":
                if not stack:
                    doc.diagnostics.append(Diagnostic(
                        "syntax-error", Span(path, lineno, wcol, lineno, wcol + 1),
                        "Extra '}' found (keepalived logs it and reads on: the block it was meant to close ended "
                        "earlier)", "remove the extra '}' or open the block it closes", severity="warning"))
                else:
                    stack.pop()
                entry = True
            elif entry:
                entry = False
                if block in _VIP_BLOCKS and instance is not None:
                    found = _vip(word)
                    if found is not None:
                        span = Span(path, lineno, wcol, lineno, wcol + len(word))
                        instance.vips.append(VirtualAddress(found[0], word, span, instance.name,
                                                            block == "virtual_ipaddress_excluded", found[1]))
                        doc.settings.append(Setting(block, word, found[0], span, span, section=instance.name))
                elif (block == "vrrp_instance" and instance is not None and word in _INSTANCE_KEYS
                      and k + 1 < len(words) and words[k + 1][0] not in "{}"):
                    value, vcol = words[k + 1]
                    setattr(instance, word, value)
                    doc.settings.append(Setting(word, value, value, Span(path, lineno, wcol, lineno, vcol + len(value)),
                                                Span(path, lineno, vcol, lineno, vcol + len(value)),
                                                section=instance.name))
        before, before_line = words, lineno
    if stack:
        keyword, lineno, col, _ = stack[0]
        what = f"`{keyword}`" if keyword else "a block"
        doc.diagnostics.append(Diagnostic(
            "syntax-error", Span(path, lineno, col, lineno, col + max(len(keyword), 1)),
            f"There are {len(stack)} missing '}}'s or extra '{{'s (keepalived's words): {what} opened here is "
            "never closed, so everything after it is read inside it",
            f"close {what} with '}}'", severity="warning"))
    doc.model = model
    return doc
