"""Run the rehearsal cluster in the background: ``start`` returns once it serves, ``stop`` ends it.

``python -m tests.rehearsal.service start --state-dir DIR [--index N] [--clusters K]`` starts
``python -m tests.rehearsal up`` detached (clusters rehearsal-N ... rehearsal-(N+K-1), node addresses
127.0.N.1 ...), with the default kubelet image mapping, waits for its ready line, and leaves
``DIR/kubeconfig``, ``DIR/rehearsal.pid`` and ``DIR/rehearsal.log`` behind. ``stop`` sends SIGTERM,
which stops every pod process, and waits. Molecule's create/destroy playbooks and ``make rehearse`` use it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KUBELET_CONFIG = REPO / "tests" / "rehearsal" / "kubelet.yml"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0


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
