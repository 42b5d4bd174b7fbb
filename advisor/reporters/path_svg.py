"""One assembled connection path as an inline SVG (no script, no external reference).

Top: each hop a box, left to right from the client, with the legs (TCP connections) between
them. Below: one time axis (logarithmic, seconds of idleness) with a bar per idle timer on the
path (HAProxy `timeout client/server/tunnel`, PgBouncer `client_idle_timeout`,
`idle_session_timeout`, a load balancer's or NAT's idle timeout) and a bar per keepalive
interval of each leg (the first probe after that much silence). The timer that closes an idle
connection first is drawn red and marked; a timer that keepalive probes defeat is drawn pale.

Reads `advisor.path.model.DeploymentPath` by attribute only (hops, legs, timers, first_close),
so the reporter does not import the path package.
"""

from __future__ import annotations

import math
from html import escape

WIDTH = 960
BOX_H = 54
ROW_H = 22
LEFT = 300  # room for the row labels of the time axis
RIGHT = 270  # room for the value and note after the longest bar


def _fmt(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _clip(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: max(1, chars - 1)] + "…"


def svg(path) -> str:
    hops = list(path.hops)
    n = max(len(hops), 1)
    gap = 28
    box_w = (WIDTH - 2 * 12 - gap * (n - 1)) / n
    first = path.first_close() if hasattr(path, "first_close") else None
    parts: list[str] = []
    # hops
    y0 = 12
    for i, hop in enumerate(hops):
        x = 12 + i * (box_w + gap)
        closes = first is not None and first.hop == i
        cls = "hop closes-first" if closes else "hop"
        stroke = "#b42318" if closes else "#475467"
        fill = "#fef3f2" if closes else ("#f2f4f7" if getattr(hop, "declared", False) else "#ffffff")
        chars = max(6, int(box_w / 7))
        parts.append(
            f'<g class="{cls}" data-kind="{escape(str(hop.kind))}"><rect x="{x:.1f}" y="{y0}" width="{box_w:.1f}" '
            f'height="{BOX_H}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{2 if closes else 1}"/>'
            f'<text x="{x + 8:.1f}" y="{y0 + 18}" font-size="11" fill="#475467">{escape(_clip(str(hop.kind), chars))}'
            f'</text><text x="{x + 8:.1f}" y="{y0 + 38}" font-size="13" fill="#101828">'
            f'{escape(_clip(str(hop.label), chars))}</text><title>{escape(str(hop.label))}</title></g>')
        if i:
            ax = x - gap + 2
            parts.append(f'<line class="link" x1="{ax:.1f}" y1="{y0 + BOX_H / 2}" x2="{x - 4:.1f}" '
                         f'y2="{y0 + BOX_H / 2}" stroke="#98a2b3" stroke-width="2" marker-end="url(#arrow)"/>')
    # rows: timers, then keepalive intervals of each leg
    rows: list[tuple[str, float | None, str, str]] = []  # (label, seconds, class, note)
    for t in getattr(path, "timers", []) or []:
        who = hops[t.hop].label if 0 <= t.hop < len(hops) else ""
        if first is not None and t is first:
            cls, note = "timer first", "closes idle connections first"
        elif t.defeated:
            cls, note = "timer defeated", f"defeated by {t.kept_by or 'keepalive probes'}"
        elif not t.closes_client:
            cls, note = "timer hidden", "the pooler reconnects"
        else:
            cls, note = "timer", "resets on traffic only" if t.resets_on == "traffic" else "resets on any packet"
        rows.append((t.name if who and who in t.name else f"{_clip(who, 22)}: {t.name}", t.seconds, cls, note))
    for leg in getattr(path, "legs", []) or []:
        best = leg.keepalive()
        a, b = leg.labels(hops)
        label = f"keepalive {_clip(str(a), 16)} ↔ {_clip(str(b), 16)}"
        if best is None:
            rows.append((label, None, "keepalive none", "no keepalive probes on this leg"))
        else:
            rows.append((label, best.probes_every, "keepalive", best.text))
    known = [s for _, s, _, _ in rows if isinstance(s, (int, float)) and s > 0]
    top = max(known + [3600.0]) * 1.3
    lo = 1.0
    span = WIDTH - LEFT - RIGHT

    def xpos(seconds: float) -> float:
        return LEFT + span * (math.log10(max(seconds, lo)) - math.log10(lo)) / (math.log10(top) - math.log10(lo))

    axis_y = y0 + BOX_H + 34
    parts.append(f'<text x="12" y="{axis_y - 12}" font-size="12" fill="#475467">idle time (log scale) →</text>')
    parts.append(f'<line x1="{LEFT}" y1="{axis_y}" x2="{WIDTH - RIGHT}" y2="{axis_y}" stroke="#98a2b3"/>')
    for tick in (1, 10, 60, 300, 600, 1800, 3600, 7200, 28800, 86400):
        if tick <= top:
            tx = xpos(tick)
            parts.append(f'<line x1="{tx:.1f}" y1="{axis_y - 4}" x2="{tx:.1f}" y2="{axis_y + 4}" stroke="#98a2b3"/>'
                         f'<text x="{tx:.1f}" y="{axis_y - 8}" font-size="10" text-anchor="middle" '
                         f'fill="#475467">{_fmt(tick)}</text>')
    colours = {"timer first": "#d92d20", "timer": "#f79009", "timer defeated": "#fedf89",
               "timer hidden": "#d0d5dd", "keepalive": "#12b76a", "keepalive none": "#d0d5dd"}
    y = axis_y + 10
    for label, seconds, cls, note in rows:
        parts.append(f'<g class="{cls}"><text x="12" y="{y + 14}" font-size="12" fill="#101828">'
                     f'{escape(_clip(label, 40))}<title>{escape(label)}</title></text>')
        if isinstance(seconds, (int, float)) and seconds > 0:
            w = max(2.0, xpos(seconds) - LEFT)
            parts.append(f'<rect x="{LEFT}" y="{y + 4}" width="{w:.1f}" height="12" rx="2" fill="{colours[cls]}"/>'
                         f'<text x="{LEFT + w + 6:.1f}" y="{y + 14}" font-size="11" fill="#344054">'
                         f'{escape(_fmt(seconds))} · {escape(_clip(note, 34))}</text>')
        else:
            parts.append(f'<text x="{LEFT}" y="{y + 14}" font-size="11" fill="#667085">'
                         f'{escape("unknown" if seconds is None and cls.startswith("timer") else note)}</text>')
        parts.append("</g>")
        y += ROW_H
    height = y + 10
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="path-figure" viewBox="0 0 {WIDTH} {height}" '
            f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(str(getattr(path, "label", "")))}" '
            'font-family="system-ui, sans-serif"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" '
            'markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
            'fill="#98a2b3"/></marker></defs>' + "".join(parts) + "</svg>")
