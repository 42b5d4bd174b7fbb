"""A value or reference HAProxy rejects: bad time value, unknown defaults, missing backend.

## What it checks
What HAProxy checks after cutting a line into words: time values (digits and one of `us`, `ms`,
`s`, `m`, `h`, `d`, case-sensitive, no fraction, no space: `1.5s`, `30S` and `30 s` are errors;
at most 2147483647 ms, about 24.8 days), a missing or extra argument (`timeout client`,
`timeout client 1 s`), `mode` other than tcp/http, `from <name>` naming no (or an ambiguous)
named `defaults` section, two proxies with the same name, `default_backend`/`use_backend`
naming no backend, `bind`/`server` where they are not allowed, `no option` on an option that
cannot be negated (`no option tcpka`), `option pgsql-check` without `user <name>`, the removed
`clitimeout`/`srvtimeout`/`contimeout`, an active `.alert`, and `bind` addresses HAProxy
refuses at start: a port outside 1..65535 (`:0`, `:65536`, either end of a range), a reversed
range (`5010-5000`), no port (`10.0.0.5`, `10.0.0.5:`), a port offset (`+1`), a port that is no
number (`:abc`), an empty element of the address list, a datagram family (`udp@`), an unknown
family prefix or a malformed IP literal (`300.0.0.1`, `::1` without brackets).

On `server`, `server-template` and `default-server` lines, the arguments of the options (each
message in HAProxy's words, at the word refused; the first error of a line only, as HAProxy):
an option whose argument is missing (`check inter`, `port`, `verify`); a delay that is not a
time value or is 0 (`inter 3x`, `inter 1.5s`, `inter 0`, `fastinter`, `downinter`,
`agent-inter`, `slowstart`) or above 24.8 days; `rise`, `fall`, `error-limit` not above 0 (read
as C's atol: `rise 3x` is 3, `rise x` is 0); `weight` outside 0..256; a word outside the list
of `on-marked-down` (shutdown-sessions), `on-marked-up` (shutdown-backup-sessions), `on-error`,
`observe`, `resolve-prefer`, `verify`, `ssl-min-ver`/`ssl-max-ver`, `init-addr`,
`resolve-opts`, `proxy-v2-options`; `usesrc` without `source`. Then what HAProxy checks on each
server once every section is read, with the options the server takes from its default-server:
`resolvers` naming no `resolvers` section; `agent-check` without `agent-port`; `ssl` or
`check-ssl` verifying the server (`verify required`, the default unless global
`ssl-server-verify none`) with no `ca-file`. An option `default-server` cannot take (`id`,
`no-tlsv10`...) is a **warning**: HAProxy says so and ignores it. Not checked without the
target machine: names given to `addr` (resolved at start), whether `ca-file`/`crt` files exist
(HAP010 runs the real `haproxy -c`).

A timeout written in a section that cannot use it (`timeout tunnel` or `timeout server` in a
frontend, `timeout client` in a backend) is reported as a **warning**: HAProxy starts, ignores
the line and says so (`'timeout tunnel' will be ignored because frontend 'pg_in' has no backend
capability`), so the value written is not applied.

## Why it matters
Each of the others makes `haproxy -c` fail and HAProxy refuse to start or reload.

## Fix
The message quotes HAProxy's own error; the fix shows the corrected line.

## References
- HAProxy configuration manual: 2.5 Time format, 4 Proxies — https://docs.haproxy.org/2.6/configuration.html#2.5
- HAProxy configuration manual: 5.2 Server and default-server options — https://docs.haproxy.org/2.6/configuration.html#5.2
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule, report_diagnostics


def check(ctx):
    return report_diagnostics(RULE, ctx, "haproxy-config-error")


RULE = Rule(
    code="HAP008",
    name="haproxy-config-error",
    severity=Severity.ERROR,
    summary="A value or reference HAProxy rejects",
    needs=("haproxy",),
    check=check,
    doc=__doc__,
)
