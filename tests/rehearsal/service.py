"""Run the rehearsal cluster in the background: ``start`` returns once it serves, ``stop`` ends it.

``python -m tests.rehearsal.service start --state-dir DIR [--index N] [--clusters K]`` starts
``python -m tests.rehearsal up`` detached (clusters rehearsal-N ... rehearsal-(N+K-1), node addresses
127.0.N.1 ...), with the default kubelet image mapping, waits for its ready line, and leaves
``DIR/kubeconfig``, ``DIR/rehearsal.pid`` and ``DIR/rehearsal.log`` behind. ``stop`` sends SIGTERM,
which stops every pod process, and waits. Molecule's create/destroy playbooks and ``make rehearse`` use it.

Cluster indices are shared by everyone on the machine: :func:`free_indices` finds a block nobody
uses (nothing listening on its node, pod or service addresses, no running cluster holding its
lock), and ``python -m tests.rehearsal up`` claims its indices with :func:`claim_indices` for as
long as it runs, so two clusters never share addresses even when started at the same moment.
Clusters 1 (``make rehearse``) and 9 (molecule) are left alone unless asked for by number.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KUBELET_CONFIG = REPO / "tests" / "rehearsal" / "kubelet.yml"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0
# The rehearsal server numbers clusters 1..24 (node addresses 127.0.N.1).
MAX_INDEX = 24
# Cluster 1 is `make rehearse`'s, 9 molecule's: nothing picks them unless told to.
RESERVED = frozenset({1, 9})
# What a cluster binds on its node address once in use: the API port of kind, the chain's NodePorts.
NODE_PORTS = (6443, 30100, 30200, 30300)
LOCK_DIR = Path(tempfile.gettempdir()) / "mlmon-rehearsal-indices"
# `python -m tests.rehearsal up` exits with this when another cluster holds one of its indices.
EXIT_INDEX_TAKEN = 3


class IndexTaken(RuntimeError):
    """Another running cluster holds this index."""


def _lock_path(index: int) -> Path:
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    return LOCK_DIR / f"{index}.lock"


def claim_indices(first: int, count: int) -> list[int]:
    """Lock indices ``first``..``first+count-1`` for this process's lifetime; the open lock files
    (keep them open). Raises :class:`IndexTaken` when another process holds one of them."""
    held: list[int] = []
    for index in range(first, first + count):
        fd = os.open(_lock_path(index), os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            for other in held:
                os.close(other)
            raise IndexTaken(f"rehearsal cluster index {index} is held by another running cluster") from None
        held.append(fd)
    return held


def _locked(index: int) -> bool:
    fd = os.open(_lock_path(index), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def busy_indices() -> set[int]:
    """Indices with something listening on their node address (127.0.<i>.1) or on an address of
    their pod or service network (127.<10i+1>.x.x, 127.<10i+2>.x.x), from /proc/net/tcp."""
    used: set[int] = set()
    table = Path("/proc/net/tcp")
    if not table.exists():
        return used
    for line in table.read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] != "0A":
            continue
        ip = socket.inet_ntoa(bytes.fromhex(fields[1].split(":")[0])[::-1]).split(".")
        if ip[0] != "127":
            continue
        if ip[1] == "0" and ip[3] == "1":
            used.add(int(ip[2]))
        elif int(ip[1]) >= 11 and int(ip[1]) % 10 in (1, 2):
            used.add(int(ip[1]) // 10)
    return used


def _bindable(index: int) -> bool:
    for port in NODE_PORTS:
        with socket.socket() as probe:
            try:
                probe.bind((f"127.0.{index}.1", port))
            except OSError:
                return False
    return True


def free_indices(count: int = 1, reserved: frozenset[int] | set[int] = RESERVED) -> int:
    """The first N such that clusters N..N+count-1 are free: outside ``reserved``, nothing bound
    on their addresses (6443/30100/30200/30300 on 127.0.i.1 included) and no cluster holding them."""
    busy = busy_indices()
    for first in range(1, MAX_INDEX - count + 2):
        block = range(first, first + count)
        if any(i in reserved or i in busy for i in block):
            continue
        if all(_bindable(i) and not _locked(i) for i in block):
            return first
    raise RuntimeError("no free block of rehearsal cluster indices")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _read_pid(state: Path) -> int | None:
    pidfile = state / "rehearsal.pid"
    if not pidfile.exists():
        return None
    pid = int(pidfile.read_text())
    return pid if _alive(pid) else None


def ready_line(log: Path) -> dict | None:
    """The cluster's ready announcement, once it is in the log."""
    if not log.exists():
        return None
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"event": "ready"' in line:
            return json.loads(line)
    return None


def start(state: Path, index: int, clusters: int, kubelet_config: Path) -> int:
    state.mkdir(parents=True, exist_ok=True)
    if (pid := _read_pid(state)) is not None:
        print(f"rehearsal cluster already running (pid {pid}); kubeconfig {state / 'kubeconfig'}")
        return 0
    log = state / "rehearsal.log"
    command = [
        sys.executable, "-m", "tests.rehearsal", "up", "--state-dir", str(state), "--clusters", str(clusters),
        "--index-offset", str(index - 1), "--kubelet-config", str(kubelet_config),
    ]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    (state / "rehearsal.pid").write_text(str(process.pid))
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if (ready := ready_line(log)) is not None:
            print(f"started rehearsal clusters {', '.join(ready['clusters'])} (pid {process.pid}); "
                  f"kubeconfig {ready['kubeconfig']}")
            return 0
        if process.poll() is not None:
            print(f"the rehearsal cluster exited with {process.returncode}:\n{log.read_text()}", file=sys.stderr)
            return 1
        time.sleep(0.2)
    process.terminate()
    print(f"the rehearsal cluster did not come up within {READY_TIMEOUT:.0f}s:\n{log.read_text()}", file=sys.stderr)
    return 1


def stop(state: Path) -> int:
    pid = _read_pid(state)
    if pid is None:
        print("no rehearsal cluster running")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid):
        os.killpg(pid, signal.SIGKILL)
    (state / "rehearsal.pid").unlink(missing_ok=True)
    print(f"stopped rehearsal cluster (pid {pid})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.rehearsal.service", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("start", help="start in the background and wait until it serves")
    up.add_argument("--state-dir", type=Path, required=True)
    up.add_argument("--index", type=int, default=1, help="number of the first cluster (node address 127.0.N.1)")
    up.add_argument("--clusters", type=int, default=1)
    up.add_argument("--kubelet-config", type=Path, default=KUBELET_CONFIG)
    down = sub.add_parser("stop", help="stop it and every pod process")
    down.add_argument("--state-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "start":
        return start(args.state_dir, args.index, args.clusters, args.kubelet_config)
    return stop(args.state_dir)


if __name__ == "__main__":
    sys.exit(main())
