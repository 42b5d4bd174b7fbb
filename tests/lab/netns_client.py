"""The client side of the middlebox lab; run inside the client network namespace by labkit.

stdin: a JSON list of probes {"id", "conninfo", "idle", "wait", "mode"}. Each probe opens a psycopg
(libpq) connection with exactly that conninfo, runs a query, stays idle `idle` seconds while
watching its socket, then runs `SELECT pg_backend_pid()`. A query with no answer after `wait`
seconds is a hang (the middlebox drops the packets): the socket is then shut down so the
blocked libpq call returns. With "mode": "statement" the probe runs `SELECT pg_sleep(idle),
pg_backend_pid()` instead of idling and querying: a statement that returns nothing for `idle`
seconds, whose answer is awaited `wait` seconds more. All probes run at once. stdout: a JSON
list of observations.
"""

import json
import os
import select
import socket
import sys
import threading
import time

import psycopg


def probe(spec: dict, out: list) -> None:
    row = {"id": spec["id"], "idle": spec["idle"], "alive": False, "closed_at": None, "error": None,
           "sqlstate": None, "pid_changed": None, "hang": False, "client_port": None, "detail": {}}
    out.append(row)
    try:
        conn = psycopg.connect(spec["conninfo"], autocommit=True, prepare_threshold=None)
    except psycopg.Error as exc:
        row["error"] = f"connect failed: {type(exc).__name__}: {exc}"
        return
    try:
        pid0 = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        fd = conn.pgconn.socket
        dup = socket.socket(fileno=os.dup(fd))
        row["client_port"] = dup.getsockname()[1]
        statement = spec.get("mode") == "statement"
        start = time.monotonic()
        if not statement:
            readable, _, _ = select.select([fd], [], [], spec["idle"])
            if readable:
                row["closed_at"] = time.monotonic() - start
            rest = spec["idle"] - (time.monotonic() - start)
            if rest > 0:
                time.sleep(rest)
        result: dict = {}
        sql = f"SELECT pg_sleep({float(spec['idle'])}), pg_backend_pid()" if statement else "SELECT pg_backend_pid()"

        def query() -> None:
            try:
                result["pid"] = conn.execute(sql).fetchone()[-1]
            except psycopg.Error as exc:
                result["exc"] = exc

        t = threading.Thread(target=query, daemon=True)
        asked = time.monotonic()
        t.start()
        t.join(spec["wait"] + (spec["idle"] if statement else 0))
        if t.is_alive():
            row["hang"] = True
            dup.shutdown(socket.SHUT_RDWR)  # wake the blocked libpq read; the flow is dead anyway
            t.join(10)
        row["detail"]["answered_after"] = round(time.monotonic() - asked, 3)
        dup.close()
        if "pid" in result and not row["hang"]:
            row["alive"] = True
            row["pid_changed"] = result["pid"] != pid0
        elif "exc" in result:
            exc = result["exc"]
            row["error"] = f"{type(exc).__name__}: {exc}"
            row["sqlstate"] = exc.sqlstate
    finally:
        try:
            conn.close()
        except Exception:  # noqa: BLE001
            pass


def main() -> None:
    specs = json.load(sys.stdin)
    out: list = []
    threads = [threading.Thread(target=probe, args=(s, out)) for s in specs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
