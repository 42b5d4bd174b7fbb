"""keepalived's VRRP instances: the virtual IP addresses (VIPs) each moves between the nodes, with
where each is written. Filled by `advisor.loaders.keepalived_conf`; read by HAP012 (an HAProxy
`bind` on a VIP). Nothing secret is kept: `authentication { auth_pass ... }` and every other
keyword pgpath does not need are never stored.
"""

from __future__ import annotations

from typing import Any

from advisor.model import Record, Span


class VirtualAddress(Record):
    """One line of a `virtual_ipaddress` (or `virtual_ipaddress_excluded`) block:
    `<ip>[/<prefix>] [dev <if>] [label <label>] ...`; `address` is the IP alone (`10.20.0.100`),
    `written` the first word as written (`10.20.0.100/24`), `span` that word."""

    __slots__ = ("address", "written", "span", "instance", "excluded", "version")

    def __init__(self, address: str, written: str, span: Span, instance: str, excluded: bool = False,
                 version: int = 4) -> None:
        self.address = address
        self.written = written
        self.span = span
        self.instance = instance  # the vrrp_instance's name
        self.excluded = excluded  # from virtual_ipaddress_excluded (moved the same way, left out of adverts)
        self.version = version  # 4 or 6: which net.ipvN.ip_nonlocal_bind lets a node bind it without holding it

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "written": self.written, "span": self.span.to_dict(),
                "instance": self.instance, "excluded": self.excluded}


class VrrpInstance(Record):
    """A `vrrp_instance NAME { ... }` block: its `state` (MASTER/BACKUP: the state it starts in),
    `interface`, and VIPs."""

    __slots__ = ("name", "span", "state", "interface", "vips")

    def __init__(self, name: str, span: Span, state: str | None = None, interface: str | None = None,
                 vips: list[VirtualAddress] | None = None) -> None:
        self.name = name
        self.span = span
        self.state = state
        self.interface = interface
        self.vips = [] if vips is None else vips

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "span": self.span.to_dict(), "state": self.state, "interface": self.interface,
                "vips": [v.to_dict() for v in self.vips]}


class Keepalived(Record):
    __slots__ = ("instances",)

    def __init__(self, instances: list[VrrpInstance] | None = None) -> None:
        self.instances = [] if instances is None else instances

    def vips(self) -> list[VirtualAddress]:
        return [v for inst in self.instances for v in inst.vips]

    def to_dict(self) -> dict[str, Any]:
        return {"vrrp_instances": [i.to_dict() for i in self.instances]}
