#!/usr/bin/env python
"""Benchmark 4: CPU cost of one health check run (module_utils/_health, check.run()).

A synthetic Postfix log of BENCH_HEALTH_LOG_MB megabytes (default 100) in the shapes Postfix 3.7/3.10 write
(smtpd, cleanup, qmgr, the partner transport with some deferrals and tlsproxy verification lines, the Internet
transport), BENCH_HEALTH_PARTNERS partners (default 1000, two domain entries each, one trust anchor file each
plus the own certificate), and a ``postqueue -j`` output of BENCH_HEALTH_QUEUED messages (default 1000; the
check is given a command that prints it, so postqueue's own cost - showq's, not ours - is left out).

Each run is the program the role will install: a new Python process that imports the package and calls
check.run(); its CPU (user + system, from getrusage of the child) includes the interpreter start.

1. first run: no state; the whole log (log_history_bytes 0), then the default (its last 16 MiB);
2. steady state: BENCH_HEALTH_MINUTE_MESSAGES messages' lines (default 1000: a busy MTA's minute) are appended,
   then one run; BENCH_HEALTH_ROUNDS times (default 5), median reported. Target: below 1 s CPU per run.

    .venv/bin/python bench/health_check.py
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import benchlib as bl

PROGRAM = """\
import json, sys
sys.path.insert(0, sys.argv[2])
from _health import check
result = check.run(json.load(open(sys.argv[1])))
print(json.dumps({"success": result.success, "errors": result.errors, "messages": len(result.messages)}))
"""


class LogWriter:
    """Lines of a busy MTA, message after message; a few partners' mail deferred."""

    def __init__(self, partners, start):
        self.partners = partners
        self.stamp = start
        self.random = random.Random(11)  # noqa: S311 - a reproducible traffic mix, not a secret
        self.serial = 0

    def message(self):
        self.serial += 1
        self.stamp += timedelta(milliseconds=60)
        ts = self.stamp.strftime("%b %d %H:%M:%S")
        qid = f"{self.serial:011X}"
        pid = 1000 + self.serial % 5000
        rnd = self.random.random()
        lines = [
            f"{ts} mx-a postfix/smtpd[{pid}]: connect from client.example[198.51.100.7]",
            f"{ts} mx-a postfix/smtpd[{pid}]: {qid}: client=client.example[198.51.100.7], sasl_method=PLAIN, "
            f"sasl_username=user{self.serial % 300}",
            f"{ts} mx-a postfix/cleanup[{pid + 1}]: {qid}: message-id=<{self.serial}.bench@a.test>",
            f"{ts} mx-a postfix/qmgr[900]: {qid}: from=<user{self.serial % 300}@a.test>, size=4821, nrcpt=1 "
            "(queue active)",
            f"{ts} mx-a postfix/smtpd[{pid}]: disconnect from client.example[198.51.100.7] ehlo=2 starttls=1 "
            "auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8",
        ]
        if rnd < 0.5:  # partner mail
            partner = self.partners[self.serial % len(self.partners)]
            relay = f"mx.{partner}.test[10.1.{self.serial % 250}.3]:25"
            head = (f"{ts} mx-a postfix/partner/smtp[{pid + 2}]: {qid}: to=<bob@{partner}.test>, relay={relay}, "
                    "conn_use=3, delay=0.21, delays=0.02/0.01/0.08/0.1")
            if rnd < 0.03:
                lines.append(f"{ts} mx-a postfix/tlsproxy[700]: server certificate verification failed for "
                             f"{relay}: num=62:hostname mismatch")
                lines.append(f"{head}, dsn=4.7.5, status=deferred (Server certificate not verified)")
            elif rnd < 0.05:
                lines.append(f"{head}, dsn=4.4.1, status=deferred (connect to {relay}: Connection refused)")
            else:
                lines.append(f"{ts} mx-a postfix/partner/smtp[{pid + 2}]: Verified TLS connection established to "
                             f"{relay}: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
                             "X25519 server-signature ECDSA (prime256v1) server-digest SHA256")
                lines.append(f"{head}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4AB{self.serial:08X})")
        else:  # Internet mail
            lines.append(f"{ts} mx-a postfix/smtp[{pid + 3}]: {qid}: to=<carol@example.org>, "
                         "relay=mx.example.org[203.0.113.25]:25, delay=0.5, delays=0.02/0.01/0.2/0.27, dsn=2.0.0, "
                         "status=sent (250 2.0.0 Ok: queued as 9XYZ)")
        lines.append(f"{ts} mx-a postfix/qmgr[900]: {qid}: removed")
        return "".join(line + "\n" for line in lines)


def child_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_check(program, config_path, package_dir):
    before, start = child_cpu(), time.monotonic()
    proc = subprocess.run([sys.executable, "-E", "-s", str(program), str(config_path), str(package_dir)],
                          capture_output=True, text=True, check=False)
    wall, cpu = time.monotonic() - start, child_cpu() - before
    if proc.returncode != 0:
        raise bl.BenchError(f"the check failed:\n{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout)
    if not result["success"] or result["errors"]:
        raise bl.BenchError(f"the check did not succeed: {result}")
    return cpu, wall


def setup(work, program, partner_count, queued, now):
    """The program (the package copied next to it), certificates, the queue output, the config: (partners, config)."""
    shutil.rmtree(work, ignore_errors=True)
    for sub in ("state", "textfile", "trust", "bin"):
        (work / sub).mkdir(parents=True)
    collections = bl.collections_dir()
    package = collections / "ansible_collections/partnermail/links/plugins/module_utils/_health"
    shutil.copytree(package, work / "bin" / "_health", ignore=shutil.ignore_patterns("__pycache__"))
    program.write_text(PROGRAM)

    partners = [f"p{index:04d}" for index in range(partner_count)]
    ca_path, _unused, _unused = bl.make_ca(work / "ca", "Bench CA")
    certificates = [{"certificate": "own", "path": str(ca_path)}]
    for name in partners:
        path = work / "trust" / f"{name}.pem"
        shutil.copyfile(ca_path, path)
        certificates.append({"certificate": "trust_anchor", "partner": name, "path": str(path)})
    queue_lines = [json.dumps({"queue_name": "deferred", "queue_id": f"Q{index:010X}",
                               "arrival_time": int(now.timestamp()) - 60 * (index % 600), "message_size": 5000,
                               "forced_expire": False, "sender": "alice@a.test",
                               "recipients": [{"address": f"bob@{partners[index % partner_count]}.test",
                                               "delay_reason": "Server certificate not verified"}]})
                   for index in range(queued)]
    (work / "postqueue.json").write_text("\n".join(queue_lines) + "\n")
    config = {
        "log_path": str(work / "mail.log"), "state_dir": str(work / "state"),
        "textfile_path": str(work / "textfile" / "partnermail.prom"),
        "partner_domains": {domain: name for name in partners for domain in (f"{name}.test", f".{name}.test")},
        "certificates": certificates,
        "alert": {"threshold_seconds": 3600, "to": ["postmaster@a.test"], "hostname": "mx-a.a.test"},
        "postqueue_command": ["cat", str(work / "postqueue.json")],
    }
    config_path = work / "config.json"
    config_path.write_text(json.dumps(config))
    return partners, config_path


def main():
    log_mb = bl.env_int("BENCH_HEALTH_LOG_MB", 100, 10)
    partner_count = bl.env_int("BENCH_HEALTH_PARTNERS", 1000, 100)
    queued = bl.env_int("BENCH_HEALTH_QUEUED", 1000, 100)
    minute = bl.env_int("BENCH_HEALTH_MINUTE_MESSAGES", 1000)
    rounds = bl.env_int("BENCH_HEALTH_ROUNDS", 5, 2)
    info = bl.machine_info()
    bl.heading("Health check: CPU per run (module_utils/_health, check.run() in a new process)")
    print(bl.describe_machine(info))

    work = bl.WORK / "health"
    program, package_copy = work / "bin" / "partnermail-health", work / "bin"
    now = datetime.now(timezone.utc)
    partners, config_path = setup(work, program, partner_count, queued, now)
    writer = LogWriter(partners, now - timedelta(hours=20))
    bl.say(f"writing a {log_mb} MB log")
    target = log_mb * 1_000_000
    with open(work / "mail.log", "w") as handle:
        written = 0
        while written < target:
            chunk = "".join(writer.message() for _unused in range(1000))
            handle.write(chunk)
            written += len(chunk)
    size = os.path.getsize(work / "mail.log")
    lines = sum(1 for _unused in open(work / "mail.log", "rb"))

    # The whole log once, with a state directory of its own: what the first run cost before it read only the last
    # log_history_bytes (16 MiB by default) of a log it has no position for.
    whole = json.loads(config_path.read_text()) | {"log_history_bytes": 0, "state_dir": str(work / "state-whole")}
    (work / "state-whole").mkdir()
    whole_path = work / "config-whole.json"
    whole_path.write_text(json.dumps(whole))
    bl.say("first run reading the whole log (log_history_bytes 0)")
    whole_cpu, whole_wall = run_check(program, whole_path, package_copy)
    bl.say("first run (the default: the log's last 16 MiB)")
    first_cpu, first_wall = run_check(program, config_path, package_copy)
    steady = []
    minute_bytes = 0
    for number in range(rounds):
        chunk = "".join(writer.message() for _unused in range(minute))
        minute_bytes = len(chunk.encode())
        with open(work / "mail.log", "a") as handle:
            handle.write(chunk)
        bl.say(f"steady-state run {number + 1}/{rounds}")
        steady.append(run_check(program, config_path, package_copy))
    idle = [run_check(program, config_path, package_copy) for _unused in range(rounds)]  # nothing new in the log

    steady_cpu = statistics.median(cpu for cpu, _unused in steady)
    idle_cpu = statistics.median(cpu for cpu, _unused in idle)
    rows = [
        ["first run, whole log (log_history_bytes 0)", f"{size / 1e6:.1f} MB, {lines} lines", bl.fmt(whole_cpu, 2),
         bl.fmt(whole_wall, 2), ""],
        ["first run (no state, default)", f"last {min(size, 16 * 1024 * 1024) / 1e6:.1f} MB", bl.fmt(first_cpu, 2),
         bl.fmt(first_wall, 2), "met" if first_cpu < 1 else "NOT met"],
        [f"steady state (median of {rounds})", f"{minute_bytes / 1e3:.0f} kB, {minute} messages",
         bl.fmt(steady_cpu, 3), bl.fmt(statistics.median(wall for _unused, wall in steady), 3),
         "met" if steady_cpu < 1 else "NOT met"],
        [f"nothing new (median of {rounds})", "0", bl.fmt(idle_cpu, 3),
         bl.fmt(statistics.median(wall for _unused, wall in idle), 3), ""],
    ]
    print(bl.table(rows, ["run", "log read", "CPU s", "wall s", "target < 1 s CPU"]))
    print(f"{partner_count} partners ({2 * partner_count} domain entries, {partner_count + 1} certificate files), "
          f"{queued} queued messages; CPU includes the Python start (python {info['python']}).")
    path = bl.write_results("health_check", {
        "machine": info, "log_bytes": size, "log_lines": lines, "partners": partner_count, "queued": queued,
        "minute_messages": minute, "minute_bytes": minute_bytes, "first_cpu_s": first_cpu, "first_wall_s": first_wall,
        "whole_log_cpu_s": whole_cpu, "whole_log_wall_s": whole_wall,
        "steady_cpu_s": [cpu for cpu, _unused in steady], "steady_wall_s": [wall for _unused, wall in steady],
        "idle_cpu_s": [cpu for cpu, _unused in idle],
    })
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    bl.entry(main)
