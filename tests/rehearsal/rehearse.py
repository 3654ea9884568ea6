"""``make rehearse``: the main job on the rehearsal cluster, then keep it up until Ctrl-C.

Starts rehearsal cluster 1 (tests/rehearsal/, node address 127.0.1.1) in the background, runs
``ansible-playbook site.yml -i inventory/rehearsal`` against it exactly as a user would against kind,
prints where the model, Prometheus and Grafana answer, and on Ctrl-C (or when the playbook fails)
stops the cluster and every process it started. Without MLMON_GRAFANA_ADMIN_PASSWORD it makes up a
password for this rehearsal and prints it: nothing is committed, nothing is reused.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

from tests.rehearsal import service

REPO = Path(__file__).resolve().parents[2]
STATE = REPO / "build" / "rehearsal"
NODE = "127.0.1.1"


def main() -> int:
    env = dict(os.environ)
    if not env.get("MLMON_GRAFANA_ADMIN_PASSWORD"):
        env["MLMON_GRAFANA_ADMIN_PASSWORD"] = secrets.token_urlsafe(12)
        print(f"MLMON_GRAFANA_ADMIN_PASSWORD is not set: this rehearsal's Grafana admin password is "
              f"{env['MLMON_GRAFANA_ADMIN_PASSWORD']}")
    env["MLMON_REHEARSAL_DIR"] = str(STATE)
    if service.start(STATE, index=1, clusters=1, kubelet_config=service.KUBELET_CONFIG) != 0:
        return 1
    try:
        playbook = subprocess.run(
            ["ansible-playbook", "site.yml", "-i", "inventory/rehearsal"], cwd=REPO, env=env, check=False
        )
        if playbook.returncode != 0:
            print("site.yml failed on the rehearsal cluster; stopping it.", file=sys.stderr)
            return playbook.returncode
        print(
            "\nThe rehearsal cluster is up (test equipment, not a place for production):\n"
            f"  model API   http://{NODE}:30100/docs\n"
            f"  Prometheus  http://{NODE}:30300\n"
            f"  Grafana     http://{NODE}:30200  (admin / MLMON_GRAFANA_ADMIN_PASSWORD)\n"
            f"  kubectl     kubectl --kubeconfig {STATE / 'kubeconfig'} get pods -A\n"
            "Press Ctrl-C to stop everything."
        )
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        service.stop(STATE)


if __name__ == "__main__":
    sys.exit(main())
