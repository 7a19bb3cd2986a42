"""Shared helpers of the partnermail benchmarks: settings, commands, docker, cgroup CPU, results.

The benchmarks print figures and write JSON under bench/results/; they never pass or fail on time. A run
exits non-zero only when it could not measure (a playbook failed, messages were not delivered).
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
RESULTS = BENCH / "results"
WORK = RESULTS / "work"
VENV_BIN = REPO / ".venv" / "bin"

# Everything the container benchmarks create is named pm-bench-* and carries this label; cleanup removes
# only what has both.
LABEL = "partnermail.bench"
PREFIX = "pm-bench-"
NETWORK = "pm-bench"
DEFAULT_SUBNET = "172.30.91.0/24"


class BenchError(RuntimeError):
    """The benchmark could not measure (not: a figure was low)."""


# ------------------------------------------------------------------------------------------- settings


def quick() -> bool:
    """BENCH_QUICK=1: a smoke run with small sizes (figures are then only indicative)."""
    return os.environ.get("BENCH_QUICK", "0").strip().lower() not in ("", "0", "no", "false")


def _env_number(name: str, default, quick_default, convert, what: str):
    raw = os.environ.get(name, "").strip()
    if raw:
        try:
            return convert(raw)
        except ValueError:
            raise BenchError(f"{name} must be {what}, got {raw!r}") from None
    return quick_default if quick() and quick_default is not None else default


def env_int(name: str, default: int, quick_default: int | None = None) -> int:
    return _env_number(name, default, quick_default, int, "an integer")


def env_float(name: str, default: float, quick_default: float | None = None) -> float:
    return _env_number(name, default, quick_default, float, "a number")


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def tool_env(**extra: str) -> dict[str, str]:
    """The environment for ansible-playbook: the venv first on PATH, this checkout as partnermail.links."""
    env = dict(os.environ)
    path = env.get("PATH", "")
    if str(VENV_BIN) not in path.split(os.pathsep):
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{path}"
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".collections"))
    env.setdefault("ANSIBLE_NOCOLOR", "1")
    env.setdefault("ANSIBLE_FORCE_COLOR", "0")
    env.setdefault("ANSIBLE_HOST_KEY_CHECKING", "False")
    env.setdefault("ANSIBLE_RETRY_FILES_ENABLED", "False")
    env.update(extra)
    return env


def collections_dir() -> Path:
    """The collections directory Ansible will use (ANSIBLE_COLLECTIONS_PATH, first entry; else .collections)."""
    first = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep)[0]
    for candidate in ([Path(first)] if first else []) + [REPO / ".collections"]:
        if (candidate / "ansible_collections" / "partnermail" / "links").exists():
            return candidate
    raise BenchError(f"{REPO}/.collections/ansible_collections/partnermail/links is missing: run make setup")


def collection_root() -> Path:
    """The checkout partnermail.links is loaded from: site.yml is taken from there too (the roles' own playbook)."""
    return (collections_dir() / "ansible_collections" / "partnermail" / "links").resolve()


def pki():
    """The collection's PKI backend (module_utils/_pki), imported as Ansible imports it."""
    collections = collections_dir()
    if str(collections) not in sys.path:
        sys.path.insert(0, str(collections))
    from ansible_collections.partnermail.links.plugins.module_utils._pki import (  # noqa: PLC0415
        ca,
        certs,
        keys,
        leaf,
    )

    return ca, certs, keys, leaf


def make_ca(directory: Path, common_name: str) -> tuple[Path, object, object]:
    """An ECDSA P-256 CA (the pki role's default) made with the collection's backend: (ca.pem path, cert, key)."""
    ca, certs, keys, _leaf = pki()
    now = datetime.now(timezone.utc)
    key = keys.generate_private_key(keys.KeySpec("ecdsa", curve="secp256r1").validate())
    cert = ca.build_ca_certificate(key, ca.CaSpec(common_name, valid_days=30, renew_before_days=1).validate(), now)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "ca.pem"
    path.write_text(certs.pem(cert))
    return path, cert, key


# ------------------------------------------------------------------------------------------- output


def entry(main) -> None:
    """The entry point of a benchmark script: exit with main()'s status, or 1 with the reason it could not measure."""
    try:
        sys.exit(main())
    except BenchError as exc:
        say(f"ERROR: {exc}")
        sys.exit(1)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def heading(title: str) -> None:
    rule = "=" * 100
    print(f"\n{rule}\n  {title}\n{rule}", flush=True)


def table(rows: list[list[str]], header: list[str]) -> str:
    """A plain text table, first column left-aligned, the others right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells):
        return "  ".join(
            str(cell).ljust(width) if index == 0 else str(cell).rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(header), line(["-" * width for width in widths])] + [line(row) for row in rows])


def median(values):
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def fmt(value, digits: int = 1, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{suffix}"


def ratio(numerator, denominator):
    return None if numerator is None or not denominator else numerator / denominator


def write_results(name: str, data: dict) -> Path:
    """bench/results/<name>-<UTC time>.json and bench/results/<name>-latest.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(text)
    (RESULTS / f"{name}-latest.json").write_text(text)
    return path


def machine_info() -> dict:
    """What the figures were measured on (the machine may be shared with other work)."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {
        "cpu_model": model,
        "cpus": os.cpu_count(),
        "loadavg": os.getloadavg(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "host": platform.node(),
        "time_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    try:
        info["debian"] = Path("/etc/debian_version").read_text().strip()
    except OSError:
        pass
    return info


def describe_machine(info: dict) -> str:
    load = ", ".join(f"{value:.2f}" for value in info["loadavg"])
    return (f"machine: {info['cpus']} CPUs ({info['cpu_model'] or 'unknown CPU'}), kernel {info['kernel']}, "
            f"Debian {info.get('debian', '?')}; load average at start {load} (shared machine: other work may run)")


# ------------------------------------------------------------------------------------------- commands


def run(argv, *, check=True, timeout=None, env=None, input_text=None) -> subprocess.CompletedProcess:
    """Run a command, capture its output as text; raise BenchError with the output when it fails."""
    try:
        proc = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, env=env, input=input_text, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"timed out after {timeout}s: {shlex.join(map(str, argv))}") from exc
    if check and proc.returncode != 0:
        tail = (proc.stdout[-2000:] + "\n" + proc.stderr[-2000:]).strip()
        raise BenchError(f"exit {proc.returncode}: {shlex.join(map(str, argv))}\n{tail}")
    return proc


def docker(*args, check=True, timeout=120) -> str:
    return run(["docker", *args], check=check, timeout=timeout).stdout


def dexec(container: str, script: str, *, check=True, timeout=600) -> str:
    """Run a shell script in a container; return its stdout."""
    return run(["docker", "exec", container, "sh", "-c", script], check=check, timeout=timeout).stdout


def dpython(container: str, code: str, *args, timeout=600) -> str:
    """Run a Python snippet with the container's python3."""
    return run(["docker", "exec", container, "python3", "-c", code, *map(str, args)], timeout=timeout).stdout


def ansible_playbook(playbook: Path, inventory: Path, *args: str, env_extra: dict | None = None,
                     log: Path | None = None, timeout: float = 3600) -> tuple[subprocess.CompletedProcess, float]:
    """Run ansible-playbook; return the process and its wall time. The output goes to ``log`` too."""
    argv = ["ansible-playbook", "-i", str(inventory), str(playbook), *args]
    env = tool_env(**(env_extra or {}))
    start = time.monotonic()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"timed out after {timeout}s: {shlex.join(argv)}") from exc
    elapsed = time.monotonic() - start
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"$ {shlex.join(argv)}\n# exit {proc.returncode} after {elapsed:.1f}s\n"
                       f"{proc.stdout}\n--- stderr ---\n{proc.stderr}")
    return proc, elapsed


def check_playbook(proc: subprocess.CompletedProcess, what: str, log: Path | None) -> None:
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        raise BenchError(f"{what} failed (exit {proc.returncode}; full output in {log}):\n{tail}")


# ------------------------------------------------------------------------------------------- docker


def docker_preflight(subnet: str) -> None:
    """Docker answers, the image exists, and the benchmark network does not clash with someone else's."""
    try:
        docker("version", "--format", "{{.Server.Version}}", timeout=30)
    except (BenchError, FileNotFoundError) as exc:
        raise BenchError(f"docker is not answering ({exc}); run scripts/ensure-docker.sh") from exc
    image = env_str("PARTNERMAIL_IMAGE", "partnermail/debian:12")
    if docker("image", "inspect", image, check=False, timeout=30).strip() in ("", "[]"):
        raise BenchError(f"image {image} is missing; run scripts/build-images.sh")
    for net_id in docker("network", "ls", "-q", timeout=30).split():
        name, labels, subnets = _network_facts(net_id)
        if name == NETWORK and LABEL not in labels:
            raise BenchError(f"a network named {NETWORK} exists and is not ours (no label {LABEL}); not touching it")
        if name != NETWORK and subnet in subnets:
            raise BenchError(f"subnet {subnet} is used by network {name}; set BENCH_SUBNET to a free /24")


def _network_facts(net_id: str) -> tuple[str, dict, list[str]]:
    out = docker("network", "inspect", net_id, timeout=30)
    facts = json.loads(out)[0]
    subnets = [conf.get("Subnet", "") for conf in (facts.get("IPAM") or {}).get("Config") or []]
    return facts["Name"], facts.get("Labels") or {}, subnets


def cleanup_docker() -> list[str]:
    """Remove the containers and the network this benchmark made (name pm-bench-* AND label), nothing else."""
    removed = []
    ids = docker("ps", "-aq", "--filter", f"label={LABEL}", "--filter", f"name=^{PREFIX}", timeout=60).split()
    for container_id in ids:
        name = docker("inspect", "-f", "{{.Name}}", container_id, timeout=30).strip().lstrip("/")
        if name.startswith(PREFIX):
            docker("rm", "-f", container_id, timeout=120)
            removed.append(name)
    for net_id in docker("network", "ls", "-q", "--filter", f"label={LABEL}", timeout=30).split():
        name, labels, _subnets = _network_facts(net_id)
        if name == NETWORK and LABEL in labels:
            docker("network", "rm", net_id, timeout=60)
            removed.append(f"network {name}")
    return removed


class CpuMeter:
    """CPU time of containers from their cgroup (v1 cpuacct or v2 cpu.stat), in seconds."""

    def __init__(self, containers):
        self.paths = {}
        for name in containers:
            container_id = docker("inspect", "-f", "{{.Id}}", name, timeout=30).strip()
            self.paths[name] = self._find(container_id)

    @staticmethod
    def _find(container_id: str) -> Path | None:
        candidates = [
            Path(f"/sys/fs/cgroup/cpuacct/docker/{container_id}/cpuacct.usage"),
            Path(f"/sys/fs/cgroup/cpu,cpuacct/docker/{container_id}/cpuacct.usage"),
            Path(f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/cpu.stat"),
            Path(f"/sys/fs/cgroup/docker/{container_id}/cpu.stat"),
        ]
        return next((path for path in candidates if path.exists()), None)

    @property
    def available(self) -> bool:
        return all(path is not None for path in self.paths.values())

    def read(self) -> dict[str, float | None]:
        usage = {}
        for name, path in self.paths.items():
            if path is None:
                usage[name] = None
            elif path.name == "cpuacct.usage":
                usage[name] = int(path.read_text()) / 1e9
            else:
                fields = dict(line.split() for line in path.read_text().splitlines() if line.strip())
                usage[name] = int(fields["usage_usec"]) / 1e6
        return usage

    @staticmethod
    def delta(before: dict, after: dict) -> dict[str, float | None]:
        return {
            name: None if before[name] is None or after[name] is None else after[name] - before[name]
            for name in before
        }
