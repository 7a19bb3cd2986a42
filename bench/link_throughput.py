#!/usr/bin/env python
"""Benchmark 1: partner link throughput, A -> B, in three configurations of the same container pair.

Two containers (pm-bench-mx-a for a.test, pm-bench-mx-b for b.test, partners of each other) and a DNS container
are made by bench/playbooks/link-world.yml and provisioned by playbooks/site.yml, unchanged, from
bench/inventory/link. Then, on the containers, postconf switches between (see PHASES):

  (a) plaintext   the limit: the partner transport with TLS off (level none, no policy map) and no SASL; B does not
                  bind the a.test sender to a login. Postfix reuses plaintext connections by itself.
  (b) typical     TLS + SASL as a typical role leaves it: exactly our link but with Postfix's default
                  smtp_tls_connection_reuse = no, so every message opens a new connection, TLS handshake and AUTH
                  (tlsproxy is not used; the TLS session cache stays, as on Debian).
  (c) ours        the link exactly as site.yml provisions it (secure + tafile, SASL, connection reuse via tlsproxy).

Each run: the phase's configuration, both Postfix instances restarted, queues and Maildir emptied; smtp-source
injects N messages on A (127.0.0.1:25) for alice@b.test; B's virtual(8) delivers them into alice's Maildir (a
tmpfs, so no disk flushes at the far end; the queues stay on disk, as in real life). The time is from the start
of the link's work to the newest delivered file (its mtime):

  drain mode (default)  A holds the injected mail (defer_transports, then the hold queue), then releases it all at
                        once: the link alone is timed, not the injection.
  live mode             the clock starts when smtp-source starts: injection competes for the CPU with the link.

Runs rotate through the phases for BENCH_ROUNDS rounds (the machine's noise spreads over all three) after one
small unmeasured warm-up run per phase that also proves each phase is what it claims (B's TLS handshakes and SASL
logins). CPU is the containers' cgroup CPU time over the timed part. Figures are printed and written to
bench/results/link_throughput-*.json; nothing is asserted on time.

    .venv/bin/python bench/link_throughput.py
Both Debian releases in one run (BENCH_LINK_RELEASES, default "12 13"): the whole benchmark on a pair of Debian 12
containers, then on a pair of Debian 13 containers (Postfix 3.10, OpenSSL 3.5), one pair at a time on the same machine,
and a last table puts the ratios of both side by side. PARTNERMAIL_IMAGE without BENCH_LINK_RELEASES measures that
one image only.

Environment: BENCH_MESSAGES (2000; quick 300), BENCH_ROUNDS (3; quick 1), BENCH_SESSIONS (smtp-source -s, 20),
BENCH_MESSAGE_SIZE (bytes, 2048), BENCH_LINK_MODE (drain|live), BENCH_SUBNET, BENCH_KEEP=1 (keep the containers),
BENCH_LINK_ABLATION=1 (also (c) without SASL, without verification, without TLS logging: what the gap is made of).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import benchlib as bl

INVENTORY = bl.BENCH / "inventory" / "link"
WORLD = bl.BENCH / "playbooks" / "link-world.yml"
WORK = bl.WORK / "link"

A, B, NS = "pm-bench-mx-a", "pm-bench-mx-b", "pm-bench-ns"
TRANSPORT = "partner"  # the partner transport (one master.cf clone for all partners)
SENDER, RECIPIENT = "bench@a.test", "alice@b.test"
MAILDIR_NEW = "/var/mail/vhosts/b.test/alice/new"
MAILDIR = "/var/mail/vhosts/b.test/alice"
LOG = "/var/log/mail.log"
SAVED = "/root/pm-bench-orig"  # the provisioned main.cf and master.cf, restored before every phase


@dataclass(frozen=True)
class Phase:
    key: str
    title: str
    a_script: str  # run on A after the provisioned configuration is restored
    b_script: str  # run on B likewise
    tls: bool  # B must log TLS handshakes in this phase
    sasl: bool = True  # B must log a SASL login per message when tls is set


PHASES = [
    Phase(
        "plaintext", "(a) plaintext, no auth (the limit)",
        f"postconf -P {TRANSPORT}/unix/smtp_tls_security_level=none {TRANSPORT}/unix/smtp_tls_policy_maps= "
        f"{TRANSPORT}/unix/smtp_sasl_auth_enable=no",
        "postconf -e 'smtpd_sender_restrictions ='",
        tls=False,
    ),
    Phase(
        "typical", "(b) TLS + SASL, no connection reuse (Postfix default)",
        "postconf -e smtp_tls_connection_reuse=no",
        ":",
        tls=True,
    ),
    Phase("ours", "(c) ours, as site.yml provisions it", ":", ":", tls=True),
]

# BENCH_LINK_ABLATION=1: (c) with one of our choices undone each, to see what the gap to (a) is made of.
ABLATION = [
    Phase("ours-no-sasl", "(c) without SASL",
          f"postconf -P {TRANSPORT}/unix/smtp_sasl_auth_enable=no", "postconf -e 'smtpd_sender_restrictions ='",
          tls=True, sasl=False),
    Phase("ours-no-verify", "(c) level encrypt: no tafile, no name check",
          f"postconf -P {TRANSPORT}/unix/smtp_tls_policy_maps=", ":", tls=True),
    Phase("ours-no-tls-log", "(c) TLS log level 0", "postconf -e smtp_tls_loglevel=0 tlsproxy_tls_loglevel=0", ":",
          tls=True),
]


def phases() -> list[Phase]:
    return PHASES + (ABLATION if bl.env_str("BENCH_LINK_ABLATION", "0") == "1" else [])


# Runs inside B with its python3: wait until the Maildir holds N messages (or nothing arrives for STALL seconds,
# or TIMEOUT passes); print the count and the first and last delivery times (file mtimes).
WAIT_DELIVERED = r"""
import json, os, sys, time
path, want, stall, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
start = time.time(); last_change = start; seen = -1
def entries():
    try:
        return list(os.scandir(path))
    except FileNotFoundError:
        return []
while True:
    count = len(entries())
    now = time.time()
    if count != seen:
        seen, last_change = count, now
    if count >= want or now - last_change > stall or now - start > timeout:
        break
    time.sleep(0.05)
times = [entry.stat().st_mtime for entry in entries()]
print(json.dumps({"count": len(times), "first": min(times, default=None), "last": max(times, default=None)}))
"""

# Runs inside A: wait until N messages wait in the deferred queue and none are incoming or active.
WAIT_DEFERRED = r"""
import os, sys, time
want, timeout = int(sys.argv[1]), float(sys.argv[2])
def count(queue):
    return sum(len(files) for _, _, files in os.walk("/var/spool/postfix/" + queue))
deadline = time.time() + timeout
while True:
    deferred, busy = count("deferred"), count("incoming") + count("active")
    if (deferred >= want and busy == 0) or time.time() > deadline:
        print(deferred, busy)
        break
    time.sleep(0.2)
"""

# Runs inside a container: count log lines after byte offset MARK that contain each needle.
COUNT_LOG = r"""
import json, sys
path, mark, needles = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
with open(path, "rb") as handle:
    handle.seek(mark)
    lines = handle.read().decode(errors="replace").splitlines()
print(json.dumps({needle: sum(needle in line for line in lines) for needle in needles}))
"""

A_NEEDLES = ["status=sent", "status=deferred", "status=bounced", "Verified TLS connection established",
             "Trusted TLS connection established"]
B_NEEDLES = [": connect from", "TLS connection established from", "sasl_username=", "status=sent", "reject:"]


@dataclass
class Settings:
    messages: int
    rounds: int
    sessions: int
    size: int
    mode: str
    warmup: int

    @classmethod
    def from_env(cls):
        mode = bl.env_str("BENCH_LINK_MODE", "drain")
        if mode not in ("drain", "live"):
            raise bl.BenchError(f"BENCH_LINK_MODE must be drain or live, got {mode!r}")
        messages = bl.env_int("BENCH_MESSAGES", 2000, quick_default=300)
        return cls(
            messages=messages,
            rounds=max(1, bl.env_int("BENCH_ROUNDS", 3, quick_default=1)),
            sessions=bl.env_int("BENCH_SESSIONS", 20),
            size=bl.env_int("BENCH_MESSAGE_SIZE", 2048),
            mode=mode,
            warmup=min(messages, bl.env_int("BENCH_WARMUP_MESSAGES", 100)),
        )


# ------------------------------------------------------------------------------------------- set-up


def provision(logs: Path) -> dict:
    env = {"BENCH_WORK_DIR": str(WORK), "BENCH_SUBNET": bl.env_str("BENCH_SUBNET", bl.DEFAULT_SUBNET)}
    timings = {}
    for what, playbook in (("world", WORLD), ("site", bl.collection_root() / "playbooks" / "site.yml")):
        bl.say(f"ansible-playbook {playbook} -i {INVENTORY.relative_to(bl.REPO)}")
        log = logs / f"link-{what}.log"
        proc, seconds = bl.ansible_playbook(playbook, INVENTORY, env_extra=env, log=log)
        bl.check_playbook(proc, f"{playbook.name}", log)
        timings[what] = seconds
        bl.say(f"{playbook.name} done in {seconds:.0f} s")
    for container in (A, B):
        bl.dexec(container, f"mkdir -p {SAVED} && cp /etc/postfix/main.cf /etc/postfix/master.cf {SAVED}/")
    return timings


def reusable() -> bool:
    """BENCH_REUSE=1 and the provisioned containers of an earlier BENCH_KEEP=1 run are there."""
    if bl.env_str("BENCH_REUSE", "0") != "1":
        return False
    for container in (A, B, NS):
        if bl.docker("ps", "-q", "--filter", f"name=^{container}$", "--filter", f"label={bl.LABEL}").strip() == "":
            return False
    return bl.dexec(A, f"test -f {SAVED}/main.cf && echo yes", check=False).strip() == "yes"


def restart_postfix(container: str) -> None:
    bl.dexec(container, """
        postfix check
        postfix stop >/dev/null 2>&1 || true
        i=0
        while postfix status >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        postfix start >/dev/null 2>&1
        postfix status >/dev/null 2>&1
    """)


def configure(phase: Phase, mode: str) -> None:
    """Restore the provisioned configuration, apply the phase's changes, restart Postfix on both MTAs."""
    defer = f"postconf -e defer_transports={TRANSPORT}" if mode == "drain" else ":"
    for container, script in ((A, f"{phase.a_script}\n{defer}"), (B, phase.b_script)):
        bl.dexec(container, f"set -e\ncp {SAVED}/main.cf {SAVED}/master.cf /etc/postfix/\n{script}")
        restart_postfix(container)


def phase_settings(phase: Phase) -> dict:
    """What the phase's configuration really is, as Postfix reads it."""
    a = bl.dexec(A, f"postconf smtp_tls_connection_reuse smtp_tls_security_level smtp_tls_policy_maps "
                    f"smtp_tls_session_cache_database defer_transports; postconf -P {TRANSPORT}/unix")
    b = bl.dexec(B, "postconf smtpd_sender_restrictions smtpd_tls_security_level smtpd_sasl_auth_enable")
    return {"phase": phase.key, "mx_a": a.splitlines(), "mx_b": b.splitlines()}


# ------------------------------------------------------------------------------------------- one run


def log_mark(container: str) -> int:
    return int(bl.dexec(container, f"stat -c %s {LOG}").strip())


def count_log(container: str, mark: int, needles: list[str]) -> dict:
    return json.loads(bl.dpython(container, COUNT_LOG, LOG, mark, *needles))


def inject_command(settings: Settings, messages: int) -> str:
    return (f"smtp-source -s {settings.sessions} -m {messages} -l {settings.size} -f {SENDER} -t {RECIPIENT} "
            f"127.0.0.1:25")


def reset_queues() -> None:
    for container in (A, B):
        bl.dexec(container, "postsuper -d ALL >/dev/null 2>&1 || true")
    bl.dexec(B, f"find {MAILDIR} -type f -delete 2>/dev/null || true")


def start_drain(settings: Settings, messages: int) -> float:
    """Inject with the transport deferred, hold everything, re-enable the transport; return the injection time."""
    begin = time.monotonic()
    bl.dexec(A, inject_command(settings, messages), timeout=900)
    injected = time.monotonic() - begin
    deferred, busy = map(int, bl.dpython(A, WAIT_DEFERRED, messages, 300).split())
    if deferred < messages or busy:
        raise bl.BenchError(f"mx-a queued {deferred} of {messages} messages ({busy} still in incoming/active)")
    bl.dexec(A, "postsuper -h ALL deferred >/dev/null 2>&1; postconf -e 'defer_transports =' && postfix reload "
                ">/dev/null 2>&1 && sleep 2")
    return injected


def run_once(meter: bl.CpuMeter, phase: Phase, settings: Settings, messages: int) -> dict:
    configure(phase, settings.mode)
    reset_queues()
    inject_seconds = None
    if settings.mode == "drain":
        inject_seconds = start_drain(settings, messages)
        marks = {A: log_mark(A), B: log_mark(B)}
        cpu0 = meter.read()
        out = bl.dexec(A, "date +%s.%N; postsuper -H ALL >/dev/null 2>&1; postqueue -f")
        start = float(out.split()[0])
    else:
        marks = {A: log_mark(A), B: log_mark(B)}
        cpu0 = meter.read()
        out = bl.dexec(A, f"date +%s.%N; {inject_command(settings, messages)}; date +%s.%N", timeout=900)
        start, injected = (float(word) for word in out.split()[:2])
        inject_seconds = injected - start
    timeout = max(300.0, messages / 2.0)
    delivered = json.loads(bl.dpython(B, WAIT_DELIVERED, MAILDIR_NEW, messages, 60, timeout, timeout=timeout + 60))
    cpu = meter.delta(cpu0, meter.read())
    time.sleep(1)  # let postlogd write the last lines
    seconds = (delivered["last"] - start) if delivered["last"] else None
    result = {
        "phase": phase.key, "messages": messages, "delivered": delivered["count"], "seconds": seconds,
        "per_second": messages / seconds if seconds and delivered["count"] >= messages else None,
        "inject_seconds": inject_seconds,
        "cpu_seconds": {"mx_a": cpu[A], "mx_b": cpu[B], "ns": cpu[NS]},
        "log_mx_a": count_log(A, marks[A], A_NEEDLES), "log_mx_b": count_log(B, marks[B], B_NEEDLES),
    }
    if cpu[A] is not None and cpu[B] is not None:
        result["cpu_ms_per_message"] = 1000 * (cpu[A] + cpu[B]) / messages
    if delivered["count"] < messages:
        queue = bl.dexec(A, "postqueue -p | tail -n 5; tail -n 20 /var/log/mail.log", check=False)
        result["error"] = f"only {delivered['count']} of {messages} delivered; mx-a:\n{queue}"
    return result


def proof_problems(phase: Phase, run: dict) -> list[str]:
    """Does the warm-up run show the phase is what it claims?"""
    b_log = run["log_mx_b"]
    problems = []
    if run.get("error"):
        problems.append(run["error"])
    handshakes, logins = b_log["TLS connection established from"], b_log["sasl_username="]
    if phase.tls and (handshakes == 0 or (phase.sasl and logins < run["messages"])):
        problems.append(f"expected TLS and SASL: B logged {handshakes} TLS handshakes and {logins} SASL logins "
                        f"for {run['messages']} messages")
    if phase.tls and not phase.sasl and logins:
        problems.append(f"expected no SASL: B logged {logins} SASL logins")
    if not phase.tls and (handshakes or logins):
        problems.append(f"expected plaintext: B logged {handshakes} TLS handshakes and {logins} SASL logins")
    return problems


# ------------------------------------------------------------------------------------------- report


def summarise(runs: list[dict]) -> dict:
    summary = {}
    for phase in phases():
        mine = [run for run in runs if run["phase"] == phase.key]
        summary[phase.key] = {
            "title": phase.title,
            "runs": len(mine),
            "per_second": bl.median(run["per_second"] for run in mine),
            "seconds": bl.median(run["seconds"] for run in mine),
            "cpu_ms_per_message": bl.median(run.get("cpu_ms_per_message") for run in mine),
            "cpu_seconds_mx_a": bl.median(run["cpu_seconds"]["mx_a"] for run in mine),
            "cpu_seconds_mx_b": bl.median(run["cpu_seconds"]["mx_b"] for run in mine),
            "b_tls_handshakes": bl.median(run["log_mx_b"]["TLS connection established from"] for run in mine),
            "b_connections": bl.median(run["log_mx_b"][": connect from"] for run in mine),
            "inject_seconds": bl.median(run["inject_seconds"] for run in mine),
            "all_per_second": [run["per_second"] for run in mine],
        }
    ours = summary["ours"]["per_second"]
    summary["ratios"] = {
        "ours_over_plaintext": bl.ratio(ours, summary["plaintext"]["per_second"]),
        "ours_over_typical": bl.ratio(ours, summary["typical"]["per_second"]),
        "targets": {"ours_over_plaintext": 0.9, "ours_over_typical": 2.0},
    }
    return summary


def verdict(value, target) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}x (target >= {target:g}x: {'met' if value >= target else 'NOT met'})"


def targets() -> list[tuple[str, str]]:
    """(label, image) of each pair to measure, in order."""
    raw = os.environ.get("BENCH_LINK_RELEASES")
    if raw is None and os.environ.get("PARTNERMAIL_IMAGE"):
        image = os.environ["PARTNERMAIL_IMAGE"]
        return [(image.rpartition(":")[2] or image, image)]
    releases = (raw if raw is not None else "12 13").split()
    unknown = [release for release in releases if release not in ("12", "13")]
    if unknown or not releases:
        raise bl.BenchError(f"BENCH_LINK_RELEASES must list Debian releases 12 and/or 13, got {raw!r}")
    return [(release, f"partnermail/debian:{release}") for release in releases]


def report(settings: Settings, summary: dict, info: dict, label: str) -> None:
    bl.heading(f"Benchmark 1: partner link throughput on Debian {label}, mx-a -> mx-b (same container pair, three "
               "configurations)")
    print(f"{settings.messages} messages of {settings.size} bytes per run, smtp-source -s {settings.sessions} on "
          f"mx-a, delivered by mx-b into a Maildir (tmpfs);\n{settings.mode} mode, {settings.rounds} round(s) per "
          f"configuration, medians. Postfix {info['postfix']}, {info['openssl']}.\n")
    rows = []
    for phase in phases():
        row = summary[phase.key]
        rows.append([
            phase.title, bl.fmt(row["per_second"], 1), bl.fmt(row["seconds"], 2), bl.fmt(row["cpu_ms_per_message"], 2),
            bl.fmt(row["cpu_seconds_mx_a"], 2), bl.fmt(row["cpu_seconds_mx_b"], 2), bl.fmt(row["b_connections"], 0),
            bl.fmt(row["b_tls_handshakes"], 0), " ".join(bl.fmt(value, 0) for value in row["all_per_second"]),
            bl.fmt(row["inject_seconds"], 1),
        ])
    print(bl.table(rows, ["configuration", "msg/s", "time s", "CPU ms/msg A+B", "CPU s A", "CPU s B",
                          "B conns", "B TLS hs", "msg/s per run", "inject s"]))
    ratios = summary["ratios"]
    print(f"\nours / plaintext = {verdict(ratios['ours_over_plaintext'], 0.9)}")
    print(f"ours / typical   = {verdict(ratios['ours_over_typical'], 2.0)}")
    print("\nHow the configurations differ (postconf on the provisioned pair, both Postfix restarted per run):")
    print(f"  (a) mx-a: postconf -P {TRANSPORT}/unix/smtp_tls_security_level=none "
          f"{TRANSPORT}/unix/smtp_tls_policy_maps= {TRANSPORT}/unix/smtp_sasl_auth_enable=no;\n"
          "      mx-b: smtpd_sender_restrictions = (no sender-login binding without SASL)")
    print("  (b) mx-a: smtp_tls_connection_reuse = no (Postfix's default; tlsproxy unused): a new connection, TLS "
          "handshake and AUTH per message")
    print("  (c) nothing changed: secure + tafile policy, SASL, smtp_tls_connection_reuse = yes through tlsproxy")
    for phase in phases()[len(PHASES):]:
        print(f"  {phase.title}: mx-a: {phase.a_script}; mx-b: {phase.b_script}")


def container_info() -> dict:
    return {
        "postfix": bl.dexec(A, "postconf -h mail_version").strip(),
        "openssl": bl.dexec(A, "openssl version").strip(),
    }


def measure(settings: Settings, meter: bl.CpuMeter) -> tuple[list[dict], list[dict], dict]:
    warmups, runs, proofs = [], [], {}
    selected = phases()
    for phase in selected:
        bl.say(f"warm-up and proof: {phase.key}, {settings.warmup} messages")
        warmup = run_once(meter, phase, settings, settings.warmup)
        warmups.append(warmup)
        proofs[phase.key] = {"settings": phase_settings(phase), "problems": proof_problems(phase, warmup)}
        for problem in proofs[phase.key]["problems"]:
            bl.say(f"WARNING {phase.key}: {problem}")
    for round_no in range(settings.rounds):
        order = selected[round_no % len(selected):] + selected[:round_no % len(selected)]
        for phase in order:
            result = run_once(meter, phase, settings, settings.messages)
            result["round"] = round_no + 1
            runs.append(result)
            bl.say(f"round {round_no + 1} {phase.key}: {bl.fmt(result['per_second'], 1)} msg/s, "
                   f"{bl.fmt(result['seconds'], 2)} s, {bl.fmt(result.get('cpu_ms_per_message'), 2)} CPU ms/msg, "
                   f"B: {result['log_mx_b']['TLS connection established from']} TLS handshakes"
                   + (f" -- {result['error']}" if result.get("error") else ""))
    return warmups, runs, proofs


def report_releases(results: dict) -> None:
    """The ratios of every release measured, side by side."""
    if len(results) < 2:
        return
    bl.heading("Benchmark 1: the releases side by side (each measured on its own pair, one after the other)")
    rows = []
    for label, result in results.items():
        summary, info = result["summary"], result["containers"]
        rows.append([f"Debian {label}", info["postfix"], info["openssl"].split()[1] if " " in info["openssl"]
                     else info["openssl"], bl.fmt(summary["plaintext"]["per_second"], 1),
                     bl.fmt(summary["typical"]["per_second"], 1), bl.fmt(summary["ours"]["per_second"], 1),
                     verdict(summary["ratios"]["ours_over_plaintext"], 0.9),
                     verdict(summary["ratios"]["ours_over_typical"], 2.0)])
    print(bl.table(rows, ["release", "Postfix", "OpenSSL", "(a) msg/s", "(b) msg/s", "(c) msg/s",
                          "ours / plaintext", "ours / typical"]))


def main() -> int:
    settings = Settings.from_env()
    machine = bl.machine_info()
    started = time.monotonic()
    WORK.mkdir(parents=True, exist_ok=True)
    results, failed = {}, False
    chosen = targets()
    for label, image in chosen:
        os.environ["PARTNERMAIL_IMAGE"] = image
        bl.say(f"Debian {label}: the pair from {image}")
        result = measure_release(settings, label, reuse=len(chosen) == 1, keep=(label, image) == chosen[-1])
        results[label] = result
        failed = failed or any(run.get("error") for run in result["runs"]) or any(
            proof["problems"] for proof in result["proofs"].values())
    report_releases(results)
    print(bl.describe_machine(machine))
    elapsed = time.monotonic() - started
    last = results[chosen[-1][0]]
    path = bl.write_results("link_throughput", {
        "benchmark": "link_throughput", "machine": machine, "settings": vars(settings), "releases": results,
        # the last release's figures at the top level too, as before the releases were measured side by side
        "containers": last["containers"], "summary": last["summary"], "elapsed_seconds": elapsed,
        "quick": bl.quick(),
    })
    print(f"link benchmark took {elapsed:.0f} s; results: {path.relative_to(bl.REPO)}")
    return 1 if failed else 0


def measure_release(settings: Settings, label: str, reuse: bool, keep: bool) -> dict:
    """Provision a pair from PARTNERMAIL_IMAGE (or reuse one with BENCH_REUSE=1), measure, report, clean up (with
    BENCH_KEEP=1 the last pair measured stays)."""
    subnet = bl.env_str("BENCH_SUBNET", bl.DEFAULT_SUBNET)
    bl.docker_preflight(subnet)
    started = time.monotonic()
    try:
        if reuse and reusable():
            bl.say("BENCH_REUSE=1: measuring the containers provisioned by an earlier run")
            timings = {}
        else:
            leftovers = bl.cleanup_docker()
            if leftovers:
                bl.say(f"removed leftovers of an earlier benchmark run: {', '.join(leftovers)}")
            timings = provision(bl.RESULTS / "logs")
        if "smtp-source" not in bl.dexec(A, "ls /usr/sbin/smtp-source", check=False):
            raise bl.BenchError("smtp-source is missing on mx-a (Debian's postfix package ships it)")
        meter = bl.CpuMeter([A, B, NS])
        if not meter.available:
            bl.say("WARNING: no cgroup CPU accounting found for the containers: CPU figures are n/a")
        info = container_info()
        warmups, runs, proofs = measure(settings, meter)
    finally:
        if bl.env_str("BENCH_KEEP", "0") == "1" and keep:
            bl.say("BENCH_KEEP=1: leaving the pm-bench-* containers and network")
        else:
            bl.say(f"removed: {', '.join(bl.cleanup_docker()) or 'nothing'}")
    summary = summarise(runs)
    report(settings, summary, info, label)
    elapsed = time.monotonic() - started
    print(f"Debian {label}: {elapsed:.0f} s (of which provisioning {sum(timings.values()):.0f} s)")
    return {"containers": info, "provision_seconds": timings, "proofs": proofs, "warmups": warmups, "runs": runs,
            "summary": summary, "elapsed_seconds": elapsed}


if __name__ == "__main__":
    bl.entry(main)
