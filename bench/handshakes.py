#!/usr/bin/env python
"""Benchmark 3: TLS handshake cost by server key type (RSA 2048/3072/4096, ECDSA P-256/P-384).

Keys and certificates come from the collection's own backend (module_utils/_pki: the code the pki role runs):
one ECDSA P-256 CA (the role's default CA) issues a server certificate for each key type, so only the server
key differs. One TLS server process per key type listens on 127.0.0.1 (Python's ssl, OpenSSL); the client
does full handshakes one after another (TLS 1.2 and TLS 1.3, ECDHE with X25519, certificate verified against
the CA and the name checked; no session resumption: a new session every time and no tickets issued).

Measured side by side in one run: rounds of all (key, protocol) cells in turn, each cell getting
BENCH_HANDSHAKE_SECONDS / BENCH_HANDSHAKE_ROUNDS seconds per round. Per cell: handshakes/s (sequential,
one at a time: client and server never run at once, so this is 1 / (server + client CPU + loopback latency)),
the server's CPU per handshake (what a busy MTA pays for each incoming TLS session) and the client's.

    .venv/bin/python bench/handshakes.py
Environment: BENCH_HANDSHAKE_SECONDS (default 10, quick 3), BENCH_HANDSHAKE_ROUNDS (default 3), BENCH_QUICK.
"""

from __future__ import annotations

import argparse
import datetime
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchlib as bl

KEY_TYPES = [  # (label, KeySpec arguments)
    ("ECDSA P-256", {"key_type": "ecdsa", "curve": "secp256r1"}),
    ("ECDSA P-384", {"key_type": "ecdsa", "curve": "secp384r1"}),
    ("RSA 2048", {"key_type": "rsa", "key_size": 2048}),
    ("RSA 3072", {"key_type": "rsa", "key_size": 3072}),
    ("RSA 4096", {"key_type": "rsa", "key_size": 4096}),
]
PROTOCOLS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}
BASELINE = "ECDSA P-256"
SERVER_NAME = "mx.bench.test"


def make_pki(directory: Path) -> tuple[Path, dict[str, tuple[Path, Path]]]:
    """Write ca.pem and, per key type, a server certificate and key; return their paths."""
    _ca, certs, keys, leaf = bl.pki()
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_pem, ca_cert, ca_key = bl.make_ca(directory, "partnermail bench CA")
    leaf_spec = leaf.LeafSpec(SERVER_NAME, (SERVER_NAME,), valid_days=30, renew_before_days=1).validate()
    servers = {}
    for label, spec_args in KEY_TYPES:
        spec = keys.KeySpec(**spec_args).validate()
        bl.say(f"generating a {spec.describe()} server key and certificate (collection backend)")
        key = keys.generate_private_key(spec)
        cert = leaf.issue_certificate(key.public_key(), ca_cert, ca_key, leaf_spec, now)
        slug = label.lower().replace(" ", "-")
        cert_path, key_path = directory / f"{slug}.pem", directory / f"{slug}.key"
        cert_path.write_text(certs.pem(cert))
        key_path.write_bytes(keys.private_key_pem(key))
        key_path.chmod(0o600)
        servers[label] = (cert_path, key_path)
    return ca_pem, servers


# ------------------------------------------------------------------------------------------- server


def serve(cert: str, key: str) -> None:
    """The server process: handshake with every connection, then close it. Prints its port first."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.options |= ssl.OP_NO_TICKET  # TLS 1.2: no session tickets
    context.num_tickets = 0  # TLS 1.3: no tickets either, so nothing could be resumed
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    print(listener.getsockname()[1], flush=True)
    while True:
        conn, _address = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)  # the client closes after the handshake
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()


class Server:
    def __init__(self, label: str, cert: Path, key: Path):
        self.label = label
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(cert), str(key)],
            stdout=subprocess.PIPE, text=True,
        )
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            raise bl.BenchError(f"TLS server for {label} did not start")
        self.port = int(line)

    def cpu_seconds(self) -> float:
        """CPU time of the (single-threaded) server so far: schedstat (ns) or stat (clock ticks)."""
        try:
            return int(Path(f"/proc/{self.proc.pid}/schedstat").read_text().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


# ------------------------------------------------------------------------------------------- client


def client_context(ca_pem: Path, version: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname
    context.load_verify_locations(cafile=str(ca_pem))
    context.minimum_version = context.maximum_version = version
    return context


def handshakes(context: ssl.SSLContext, port: int, seconds: float) -> tuple[int, float, float]:
    """Full handshakes for ``seconds``: (count, wall seconds, client CPU seconds)."""
    count = 0
    cpu0, start = time.thread_time(), time.perf_counter()
    deadline = start + seconds
    while True:
        with socket.create_connection(("127.0.0.1", port)) as raw:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with context.wrap_socket(raw, server_hostname=SERVER_NAME) as tls:
                if count == 0 and tls.session_reused:
                    raise bl.BenchError("a session was resumed: not a full handshake")
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count, now - start, time.thread_time() - cpu0


def measure(ca_pem: Path, servers: dict[str, Server], seconds: float, rounds: int) -> dict:
    cells = {(label, proto): [] for label in servers for proto in PROTOCOLS}
    for round_no in range(rounds):
        for label, server in servers.items():
            for proto, version in PROTOCOLS.items():
                context = client_context(ca_pem, version)
                handshakes(context, server.port, 0.05)  # warm up (imports, first connection)
                server_cpu0 = server.cpu_seconds()
                count, wall, client_cpu = handshakes(context, server.port, seconds / rounds)
                server_cpu = server.cpu_seconds() - server_cpu0
                cells[(label, proto)].append({
                    "round": round_no + 1, "handshakes": count, "seconds": wall, "per_second": count / wall,
                    "server_cpu_ms": 1000 * server_cpu / count, "client_cpu_ms": 1000 * client_cpu / count,
                })
    return cells


def summarise(cells: dict) -> list[dict]:
    summary = []
    for (label, proto), runs in cells.items():
        summary.append({
            "key": label, "protocol": proto,
            "handshakes": sum(run["handshakes"] for run in runs),
            "per_second": bl.median(run["per_second"] for run in runs),
            "server_cpu_ms": bl.median(run["server_cpu_ms"] for run in runs),
            "client_cpu_ms": bl.median(run["client_cpu_ms"] for run in runs),
            "runs": runs,
        })
    base = {row["protocol"]: row for row in summary if row["key"] == BASELINE}
    for row in summary:
        ref = base[row["protocol"]]
        row["relative_to_p256"] = bl.ratio(row["per_second"], ref["per_second"])
        row["server_cpu_relative_to_p256"] = bl.ratio(row["server_cpu_ms"], ref["server_cpu_ms"])
        row["server_core_handshakes_per_second"] = 1000 / row["server_cpu_ms"] if row["server_cpu_ms"] else None
    return summary


def report(summary: list[dict], seconds: float, rounds: int) -> None:
    bl.heading("Benchmark 3: TLS handshake cost by server key type")
    print(f"Full handshakes, one at a time, over 127.0.0.1; {ssl.OPENSSL_VERSION}; certificate verified against an "
          f"ECDSA P-256 CA\n(the pki role's default) and the name checked; no resumption, no tickets. "
          f"{seconds:g} s per cell in {rounds} rounds, medians.\n")
    rows = [
        [row["key"], row["protocol"], bl.fmt(row["per_second"], 0), bl.fmt(row["relative_to_p256"], 2, "x"),
         bl.fmt(row["server_cpu_ms"], 2), bl.fmt(row["server_core_handshakes_per_second"], 0),
         bl.fmt(row["server_cpu_relative_to_p256"], 2, "x"), bl.fmt(row["client_cpu_ms"], 2)]
        for row in sorted(summary, key=lambda r: (r["protocol"], [k for k, _spec in KEY_TYPES].index(r["key"])))
    ]
    print(bl.table(rows, ["server key", "protocol", "handshakes/s", "vs P-256", "server ms/hs",
                          "server-core hs/s", "server cost vs P-256", "client ms/hs"]))
    print("\nhandshakes/s: sequential (client and server alternate on 2 cores); server ms/hs: the server process's "
          "CPU per handshake;\nserver-core hs/s = 1000 / server ms/hs: what one fully busy core could serve.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", nargs=2, metavar=("CERT", "KEY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return 0

    seconds = bl.env_float("BENCH_HANDSHAKE_SECONDS", 10.0, quick_default=3.0)
    rounds = max(1, bl.env_int("BENCH_HANDSHAKE_ROUNDS", 3))
    machine = bl.machine_info()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pm-bench-tls-") as tmp:
        ca_pem, files = make_pki(Path(tmp))
        servers = {label: Server(label, *paths) for label, paths in files.items()}
        try:
            bl.say(f"measuring {len(servers)} key types x {len(PROTOCOLS)} protocols, {seconds:g} s each")
            cells = measure(ca_pem, servers, seconds, rounds)
        finally:
            for server in servers.values():
                server.stop()
    summary = summarise(cells)
    report(summary, seconds, rounds)
    print(bl.describe_machine(machine))
    elapsed = time.monotonic() - started
    path = bl.write_results("handshakes", {
        "benchmark": "handshakes", "machine": machine, "openssl": ssl.OPENSSL_VERSION,
        "seconds_per_cell": seconds, "rounds": rounds, "baseline": BASELINE, "results": summary,
        "elapsed_seconds": elapsed, "quick": bl.quick(),
    })
    print(f"handshake benchmark took {elapsed:.0f} s; results: {path.relative_to(bl.REPO)}")
    return 0


if __name__ == "__main__":
    bl.entry(main)
