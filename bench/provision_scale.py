#!/usr/bin/env python
"""Benchmark 2: provisioning scale. site.yml on one MTA with 1, 100 and 1000 partners: wall time, tasks, re-run.

One container per partner count (pm-bench-scale-<count>), made and given the roles' packages by
bench/playbooks/scale-world.yml (in parallel, untimed). The inventory is generated under
bench/results/work/scale/inventory: MTA mx.s<count>.test with partners p0001 ... p<count> (domain p<N>.test, a
fixed-host connector [mx.p<N>.test]:25, TLS secure with match=p<N>.test and one shared partner CA file made with the
collection's backend, distinct SASL logins and passwords both ways).

For each count, one after the other: `ansible-playbook playbooks/site.yml --limit <mta>` twice, with the JSON
callback (ansible.posix.json): the first run provisions the fresh MTA; the second must change nothing (changed=0;
reported when not). Then, against the same container, the floor (bench/playbooks/floor.yml: the same partner maps,
one template task per map, postmap on change) twice, so that our cost is measured beside the least a playbook pays.
Printed: wall time, tasks executed (per host task results; loop items separately), changed, and the slowest tasks,
the ratios 1000/1 of time and tasks, and site.yml over the floor. Targets (issue 13, never asserted): the no-change
re-run with 1000 partners at most 1.5x the floor's, the first run with 1000 partners at most 1.5x ours with 1, at most
30 tasks per MTA whatever the partners.

    .venv/bin/python bench/provision_scale.py
Environment: BENCH_PARTNERS ("1 100 1000"; quick "1 10 100"), BENCH_SUBNET, BENCH_KEEP=1 (keep the containers).
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time
from datetime import datetime, timezone
from pathlib import Path

import benchlib as bl

WORLD = bl.BENCH / "playbooks" / "scale-world.yml"
FLOOR = bl.BENCH / "playbooks" / "floor.yml"
WORK = bl.WORK / "scale"
INVENTORY = WORK / "inventory"
SNI_DIR = "/etc/postfix/sni"  # on the sink
REPORT_ROLE = "partnermail.links.report :"  # task names of the link report (it probes every partner link)


def container(count: int) -> str:
    return f"{bl.PREFIX}scale-{count}"


def host(count: int) -> str:
    return f"mx.s{count}.test"


def secret(*parts: str) -> str:
    """A stable per-partner password (the same in every run, so the re-run has nothing to change)."""
    return "bench-" + hashlib.sha256("/".join(("partnermail-bench", *parts)).encode()).hexdigest()[:20]


def fleet_spec() -> tuple[int, int]:
    """(MTAs, partners each) of the multi-MTA run: BENCH_FLEET, "10x100" (quick "3x10"); "0" for none."""
    raw = bl.env_str("BENCH_FLEET", "3x10" if bl.quick() else "10x100")
    if raw.strip() == "0":
        return 0, 0
    try:
        mtas, each = (int(part) for part in raw.lower().split("x"))
    except ValueError:
        raise bl.BenchError(f"BENCH_FLEET must be MTAsxPARTNERS (for example 10x100) or 0, got {raw!r}") from None
    if mtas < 2 or each < 1:
        raise bl.BenchError(f"BENCH_FLEET needs at least 2 MTAs of at least 1 partner, got {raw!r}")
    return mtas, each


def fleet_host(index: int) -> str:
    return f"mx.f{index:02d}.test"


def partners(count: int, ca_file: Path, label: str | None = None) -> list[dict]:
    label = label or f"s{count}"
    return [
        {
            "name": f"p{n:04d}",
            "domains": [f"p{n:04d}.test"],
            "connectors": [{"cost": 1, "host": f"mx.p{n:04d}.test", "port": 25}],
            "tls": {"level": "secure", "match": [f"p{n:04d}.test"], "ca_file": str(ca_file)},
            "outbound_auth": {"username": f"{label}-at-p{n:04d}", "password": secret(label, str(n), "out")},
            "inbound_auth": {"username": f"p{n:04d}-at-{label}", "password": secret(label, str(n), "in")},
        }
        for n in range(1, count + 1)
    ]


def make_sink_pki(counts: list[int]) -> tuple[Path, Path, Path, Path]:
    """The partners' shared CA; the sink's default certificate from it, naming every partner (p<N>.test,
    mx.p<N>.test), for a client that sends no SNI; and sni.tar: for each partner, a certificate naming that partner
    only (as a real partner's server presents), with the SNI table that hands it to a client asking for mx.p<N>.test
    or p<N>.test (Postfix's tls_server_sni_maps). The link report's probe sends SNI, so it sees a partner's own
    certificate, not one of 2000 names (whose parsing cost the probe 8 ms a link, more than the rest of it)."""
    _ca, certs, keys, leaf = bl.pki()
    directory = WORK / "partner-ca"
    ca_file, ca_cert, ca_key = bl.make_ca(directory, "partners' shared bench CA")
    now = datetime.now(timezone.utc)
    key = keys.generate_private_key(keys.KeySpec("ecdsa", curve="secp256r1").validate())
    key_pem = keys.private_key_pem(key)

    def chain(common_name, names):
        spec = leaf.LeafSpec(common_name, tuple(names), valid_days=30, renew_before_days=1).validate()
        return certs.pem(leaf.issue_certificate(key.public_key(), ca_cert, ca_key, spec, now)) + certs.pem(ca_cert)

    partners = [(f"p{n:04d}.test", f"mx.p{n:04d}.test") for n in range(1, max(counts) + 1)]
    cert_file, key_file = directory / "sink.pem", directory / "sink.key"
    cert_file.write_text(chain("sink.bench.test", [name for pair in partners for name in pair]))
    key_file.write_bytes(key_pem)
    key_file.chmod(0o600)
    members, table = {}, []
    for domain, mx in partners:
        members[f"{domain}.pem"] = key_pem + chain(mx, [mx, domain]).encode()
        table += [f"{mx} {SNI_DIR}/{domain}.pem", f"{domain} {SNI_DIR}/{domain}.pem"]
    members["sni"] = ("\n".join(table) + "\n").encode()
    sni_tar = directory / "sni.tar"
    with tarfile.open(sni_tar, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o600
            archive.addfile(info, io.BytesIO(data))
    return ca_file, cert_file, key_file, sni_tar


def write_inventory(counts: list[int], fleet: tuple[int, int]) -> None:
    """hosts.yml, group_vars and one host_vars file per MTA (JSON is YAML: written with json.dumps).

    The fleet's MTAs are in partnermail_mtas too (scale-world.yml makes every container) and in bench_fleet.
    """
    ca_file, sink_cert, sink_key, sink_sni = make_sink_pki([*counts, fleet[1]])
    (INVENTORY / "group_vars").mkdir(parents=True, exist_ok=True)
    (INVENTORY / "host_vars").mkdir(parents=True, exist_ok=True)
    hosts = {host(count): {"ansible_host": container(count)} for count in counts}
    fleet_hosts = {fleet_host(k): {"ansible_host": f"{bl.PREFIX}fleet-{k:02d}"} for k in range(1, fleet[0] + 1)}
    groups = {"partnermail_mtas": {"hosts": hosts | fleet_hosts, "children": {"bench_fleet": {"hosts": {
        name: {} for name in fleet_hosts}}}}}
    (INVENTORY / "hosts.yml").write_text(json.dumps(groups, indent=2) + "\n")
    (INVENTORY / "group_vars" / "all.yml").write_text(json.dumps({
        "bench_network": bl.NETWORK,
        "bench_subnet": bl.env_str("BENCH_SUBNET", bl.DEFAULT_SUBNET),
        "bench_image": bl.env_str("PARTNERMAIL_IMAGE", "partnermail/debian:12"),
        "bench_labels": {bl.LABEL: "true"},
        "bench_dns_container": f"{bl.PREFIX}ns",
        "bench_sink_container": f"{bl.PREFIX}sink",
        "bench_sink_cert": str(sink_cert),
        "bench_sink_key": str(sink_key),
        "bench_sink_sni": str(sink_sni),
        "bench_collection_root": str(bl.collection_root()),
    }, indent=2) + "\n")
    (INVENTORY / "group_vars" / "partnermail_mtas.yml").write_text(json.dumps({
        "ansible_connection": "community.docker.docker",
        "ansible_python_interpreter": "/usr/bin/python3",
        "postfix_inet_protocols": "ipv4",
        "pki_ca_dir": str(WORK / "pki"),
        "pki_ca_common_name": "scale bench CA",
    }, indent=2) + "\n")
    mtas = [(host(count), f"s{count}", count) for count in counts]
    mtas += [(fleet_host(k), f"f{k:02d}", fleet[1]) for k in range(1, fleet[0] + 1)]
    for name, label, count in mtas:
        model = {
            "partnermail_hostname": name,
            "partnermail_domains": [f"{label}.test"],
            "partnermail_delivery": {"mode": "virtual", "mailboxes": ["postmaster"]},
            "partnermail_internet": {"relayhost": "", "tls_level": "may"},
            "partnermail_partners": partners(count, ca_file, label),
        }
        (INVENTORY / "host_vars" / f"{name}.yml").write_text(json.dumps(model, indent=1) + "\n")


# ------------------------------------------------------------------------------------------- one run


def _seconds(duration: dict) -> float | None:
    try:
        start = datetime.fromisoformat(duration["start"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(duration["end"].replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError):
        return None
    return (end - start).total_seconds()


def parse_json_callback(stdout: str, hostname: str) -> dict:
    """Tasks that ran for the host (with their time, changed, skipped, loop items) and its stats."""
    start = stdout.find("{")
    if start < 0:
        raise bl.BenchError("no JSON in ansible-playbook's output (is ansible.posix.json available?)")
    data = json.loads(stdout[start:])
    tasks = []
    for play in data.get("plays", []):
        for task in play.get("tasks", []):
            result = task.get("hosts", {}).get(hostname)
            if result is None:
                continue
            tasks.append({
                "name": task["task"]["name"],
                "seconds": _seconds(task["task"].get("duration", {})),
                "changed": bool(result.get("changed")),
                "skipped": bool(result.get("skipped")),
                "items": len(result["results"]) if isinstance(result.get("results"), list) else None,
            })
    return {"tasks": tasks, "stats": data.get("stats", {}).get(hostname, {})}


def run_site(count: int, label: str, playbook: Path | None = None, fleet: tuple[int, int] | None = None) -> dict:
    """One timed run of site.yml (or of ``playbook``: the floor) on the MTA with ``count`` partners, or on the
    whole fleet (all its MTAs in one run, forks = MTAs; the task counts are the first MTA's)."""
    name = "floor" if playbook else "site"
    limit, hostname, env = host(count), host(count), {}
    if fleet:
        name, limit, hostname, env = f"fleet-{fleet[0]}x{fleet[1]}", "bench_fleet", fleet_host(1), {
            "ANSIBLE_FORKS": str(fleet[0])}
    log = bl.RESULTS / "logs" / f"scale-{count}-{name}-{label}.log"
    proc, seconds = bl.ansible_playbook(
        playbook or bl.collection_root() / "playbooks" / "site.yml", INVENTORY, "--limit", limit, log=log,
        env_extra={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
                   "ANSIBLE_DEPRECATION_WARNINGS": "0", **env},
    )
    bl.check_playbook(proc, f"{name} with {count} partners ({label})", log)
    parsed = parse_json_callback(proc.stdout, hostname)
    tasks = parsed["tasks"]
    executed = [task for task in tasks if not task["skipped"]]
    return {
        "partners": count, "playbook": name, "run": label, "seconds": seconds,
        "tasks": len(executed), "tasks_skipped": len(tasks) - len(executed),
        "loop_items": sum(task["items"] or 0 for task in executed),
        "module_calls": sum(task["items"] or 1 for task in executed),
        "report_seconds": sum(task["seconds"] or 0.0 for task in tasks if task["name"].startswith(REPORT_ROLE)),
        "changed": parsed["stats"].get("changed"), "ok": parsed["stats"].get("ok"),
        "changed_tasks": [task["name"] for task in tasks if task["changed"]],
        "slowest": sorted((t for t in tasks if t["seconds"] is not None), key=lambda t: -t["seconds"])[:6],
        "task_seconds": {task["name"]: task["seconds"] for task in tasks},
    }


# ------------------------------------------------------------------------------------------- report


def growth(runs: list[dict], label: str, small: int, large: int) -> list[tuple[str, float, float]]:
    """Tasks whose time grew most from the smallest to the largest partner count (same run kind)."""
    first = next(run for run in runs if run["partners"] == small and run["run"] == label)["task_seconds"]
    last = next(run for run in runs if run["partners"] == large and run["run"] == label)["task_seconds"]
    rows = [(name, first.get(name) or 0.0, seconds or 0.0) for name, seconds in last.items()]
    return sorted(rows, key=lambda row: row[1] - row[2])[:5]


def report(runs: list[dict], counts: list[int]) -> dict:
    bl.heading("Benchmark 2: provisioning scale, playbooks/site.yml on one MTA container")
    print("First run: a fresh MTA whose packages are pre-installed (bench/playbooks/scale-world.yml); re-run: the same "
          "again, nothing to change.\nTasks: task results for the host (skipped ones not counted); module calls: "
          "loop items counted one by one.\n")
    rows = [
        [f"{run['partners']} partners", run["run"], bl.fmt(run["seconds"], 1), bl.fmt(run["report_seconds"], 1),
         str(run["tasks"]), str(run["module_calls"]), str(run["tasks_skipped"]), str(run["changed"])]
        for run in runs
    ]
    print(bl.table(rows, ["MTA", "run", "wall s", "of which link report s", "tasks", "module calls", "skipped",
                          "changed"]))
    small, large = min(counts), max(counts)
    ratios = {}
    for label in ("first", "re-run"):
        one = next(run for run in runs if run["partners"] == small and run["run"] == label)
        many = next(run for run in runs if run["partners"] == large and run["run"] == label)
        ratios[label] = {"time": bl.ratio(many["seconds"], one["seconds"]),
                         "tasks": bl.ratio(many["tasks"], one["tasks"]),
                         "module_calls": bl.ratio(many["module_calls"], one["module_calls"])}
        target = "met" if ratios[label]["time"] is not None and ratios[label]["time"] <= 2.0 else "NOT met"
        print(f"\n{label}: {large}/{small} partners: time {bl.fmt(ratios[label]['time'], 2, 'x')} "
              f"(target <= 2x: {target}), tasks {bl.fmt(ratios[label]['tasks'], 2, 'x')}, module calls "
              f"{bl.fmt(ratios[label]['module_calls'], 2, 'x')}")
        print(f"  tasks that grew most in time, {small} -> {large} partners:")
        for name, before, after in growth(runs, label, small, large):
            print(f"    {before:6.2f} s -> {after:6.2f} s  {name}")
    for run in runs:
        if run["run"] == "re-run" and run["changed"]:
            print(f"\nNOT idempotent with {run['partners']} partners: the re-run changed {run['changed']} "
                  f"task(s): {', '.join(run['changed_tasks'])}")
    print("\nslowest tasks of the largest first run:")
    biggest = next(run for run in runs if run["partners"] == large and run["run"] == "first")
    for task in biggest["slowest"]:
        print(f"  {task['seconds']:6.2f} s  {task['name']}")
    return ratios


def report_floor(runs: list[dict], floors: list[dict], counts: list[int]) -> dict:
    """Ours against the floor (bench/playbooks/floor.yml), measured in the same run on the same containers."""
    bl.heading("Benchmark 2b: site.yml against the floor (one template task per map, postmap on change)")
    rows, ratios = [], {}
    for count in counts:
        for label in ("first", "re-run"):
            ours = next(run for run in runs if run["partners"] == count and run["run"] == label)
            floor = next(run for run in floors if run["partners"] == count and run["run"] == label)
            ratio = bl.ratio(ours["seconds"], floor["seconds"])
            ratios[f"{count} {label}"] = ratio
            rows.append([f"{count} partners", label, bl.fmt(ours["seconds"], 1), str(ours["tasks"]),
                         bl.fmt(floor["seconds"], 1), str(floor["tasks"]), bl.fmt(ratio, 2, "x")])
    print(bl.table(rows, ["MTA", "run", "site.yml s", "tasks", "floor s", "floor tasks", "site.yml / floor"]))
    small, large = min(counts), max(counts)
    rerun = ratios[f"{large} re-run"]
    first = bl.ratio(next(r["seconds"] for r in runs if r["partners"] == large and r["run"] == "first"),
                     next(r["seconds"] for r in runs if r["partners"] == small and r["run"] == "first"))
    most_tasks = max(run["tasks"] for run in runs)
    print(f"\ntargets: no-change re-run with {large} partners {bl.fmt(rerun, 2, 'x')} the floor's (<= 1.5x: "
          f"{'met' if rerun is not None and rerun <= 1.5 else 'NOT met'}); first run with {large} partners "
          f"{bl.fmt(first, 2, 'x')} our first run with {small} (<= 1.5x: "
          f"{'met' if first is not None and first <= 1.5 else 'NOT met'}); at most {most_tasks} tasks per MTA "
          f"(<= 30: {'met' if most_tasks <= 30 else 'NOT met'})")
    return {"by_run": ratios, "first_large_over_small": first, "most_tasks": most_tasks}


def report_fleet(runs: list[dict], fleet_runs: list[dict], fleet: tuple[int, int]) -> dict:
    """The fleet in one site.yml run against one MTA with as many partners (both from this run)."""
    bl.heading(f"Benchmark 2c: {fleet[0]} MTAs x {fleet[1]} partners in one site.yml run (forks {fleet[0]})")
    rows, ratios = [], {}
    for label in ("first", "re-run"):
        one = next(run for run in runs if run["partners"] == fleet[1] and run["run"] == label)
        many = next(run for run in fleet_runs if run["run"] == label)
        ratios[label] = bl.ratio(many["seconds"], one["seconds"])
        rows.append([label, bl.fmt(one["seconds"], 1), bl.fmt(many["seconds"], 1), bl.fmt(ratios[label], 2, "x"),
                     str(many["changed"])])
    print(bl.table(rows, ["run", "1 MTA s", f"{fleet[0]} MTAs s", "ratio", "changed (first MTA)"]))
    worst = max((ratio for ratio in ratios.values() if ratio is not None), default=None)
    print(f"\ntarget: {fleet[0]} MTAs at most 2.5x one MTA: "
          f"{'met' if worst is not None and worst <= 2.5 else 'NOT met'} (the containers share this machine's "
          "cores with the controller)")
    return ratios


def main() -> int:
    raw = bl.env_str("BENCH_PARTNERS", "1 10 100" if bl.quick() else "1 100 1000")
    try:
        counts = sorted({int(word) for word in raw.replace(",", " ").split()})
    except ValueError:
        raise bl.BenchError(f"BENCH_PARTNERS must be partner counts, got {raw!r}") from None
    if len(counts) < 2 or counts[0] < 1:
        raise bl.BenchError("BENCH_PARTNERS needs at least two counts of 1 or more")
    machine = bl.machine_info()
    bl.docker_preflight(bl.env_str("BENCH_SUBNET", bl.DEFAULT_SUBNET))
    leftovers = bl.cleanup_docker()
    if leftovers:
        bl.say(f"removed leftovers of an earlier benchmark run: {', '.join(leftovers)}")
    started = time.monotonic()
    runs, floors, fleet_runs = [], [], []
    fleet = fleet_spec()
    if fleet[0] and fleet[1] not in counts:
        counts = sorted({*counts, fleet[1]})
        bl.say(f"partner counts {counts}: one MTA with {fleet[1]} partners is the fleet's yardstick")
    try:
        bl.say(f"generating the inventory: one MTA per partner count {counts} in {INVENTORY.relative_to(bl.REPO)}")
        write_inventory(counts, fleet)
        bl.say("creating the containers and installing the roles' packages (not timed)")
        log = bl.RESULTS / "logs" / "scale-world.log"
        proc, seconds = bl.ansible_playbook(WORLD, INVENTORY, log=log)
        bl.check_playbook(proc, "scale-world.yml", log)
        bl.say(f"scale-world.yml done in {seconds:.0f} s")
        for count in counts:
            for playbook in (None, FLOOR):
                for label in ("first", "re-run"):
                    run = run_site(count, label, playbook)
                    (floors if playbook else runs).append(run)
                    bl.say(f"{count} partners, {run['playbook']} {label}: {run['seconds']:.1f} s, {run['tasks']} "
                           f"tasks, changed={run['changed']}")
        for label in ("first", "re-run") if fleet[0] else ():
            run = run_site(fleet[1], label, fleet=fleet)
            fleet_runs.append(run)
            bl.say(f"{run['playbook']} {label}: {run['seconds']:.1f} s, {run['tasks']} tasks per MTA, "
                   f"changed={run['changed']}")
    finally:
        if bl.env_str("BENCH_KEEP", "0") == "1":
            bl.say("BENCH_KEEP=1: leaving the pm-bench-* containers and network")
        else:
            bl.say(f"removed: {', '.join(bl.cleanup_docker()) or 'nothing'}")
    ratios = report(runs, counts)
    ratios["floor"] = report_floor(runs, floors, counts)
    if fleet_runs:
        ratios["fleet"] = report_fleet(runs, fleet_runs, fleet)
    print(bl.describe_machine(machine))
    elapsed = time.monotonic() - started
    path = bl.write_results("provision_scale", {
        "benchmark": "provision_scale", "machine": machine, "partner_counts": counts, "runs": runs, "floor": floors,
        "fleet": fleet_runs,
        "ratios": ratios, "elapsed_seconds": elapsed, "quick": bl.quick(),
    })
    print(f"provisioning benchmark took {elapsed:.0f} s; results: {path.relative_to(bl.REPO)}")
    return 1 if any(run["run"] == "re-run" and run["changed"] for run in runs) else 0


if __name__ == "__main__":
    bl.entry(main)
