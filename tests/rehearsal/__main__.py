"""``python -m tests.rehearsal up``: run rehearsal Kubernetes clusters until SIGINT/SIGTERM.

Cluster ``i`` (1-based, shifted by ``--index-offset``) is named ``rehearsal-<i>`` and gets node IP
``127.0.<i>.1``, pod network ``127.<10i+1>.0.0/16`` and service network ``127.<10i+2>.0.0/16``.
The command writes ``<state-dir>/kubeconfig`` (one context per cluster, the first current) and
each cluster's request log ``<state-dir>/<name>/requests.jsonl``, then prints one JSON line
``{"event": "ready", "kubeconfig": ..., "clusters": {name: {...}}}`` on stdout. It holds its indices'
locks (``service.claim_indices``) while it runs and exits with 3, before binding anything, when
another running cluster holds one of them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import yaml

from .kube.cluster import Cluster, ClusterConfig
from .service import EXIT_INDEX_TAKEN, MAX_INDEX, IndexTaken, claim_indices


def config_for(index: int, args: argparse.Namespace) -> ClusterConfig:
    name = f"rehearsal-{index}"
    state = Path(args.state_dir) / name
    state.mkdir(parents=True, exist_ok=True)
    return ClusterConfig(
        name=name,
        node_ip=f"127.0.{index}.1",
        api_port=args.api_port + index - 1 if args.api_port else 0,
        pod_network=f"127.{10 * index + 1}.0.0/16",
        service_network=f"127.{10 * index + 2}.0.0/16",
        nodeport_offset=args.nodeport_offset,
        kubelet_config=Path(args.kubelet_config) if args.kubelet_config else None,
        crd_established_delay=args.crd_established_delay,
        request_log=state / "requests.jsonl",
        bookmark_interval=args.bookmark_interval,
        watch_history=args.watch_history,
        tls_dir=state,
    )


def merged_kubeconfig(clusters: list[Cluster]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [],
        "users": [],
        "contexts": [],
        "preferences": {},
    }
    for cluster in clusters:
        single = cluster.kubeconfig()
        for key in ("clusters", "users", "contexts"):
            out[key].extend(single[key])
    out["current-context"] = clusters[0].config.name
    return out


async def up(args: argparse.Namespace) -> int:
    first = 1 + args.index_offset
    if args.clusters < 1 or first + args.clusters - 1 > MAX_INDEX:
        print(f"--clusters with --index-offset must stay within 1..{MAX_INDEX}", file=sys.stderr)
        return 2
    try:
        locks = claim_indices(first, args.clusters)
    except IndexTaken as taken:
        print(f"{taken}; pick another --index-offset", file=sys.stderr)
        return EXIT_INDEX_TAKEN
    state = Path(args.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    clusters = [Cluster(config_for(i, args)) for i in range(first, first + args.clusters)]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    started: list[Cluster] = []
    try:
        for cluster in clusters:
            await cluster.start()
            started.append(cluster)
        kubeconfig = state / "kubeconfig"
        kubeconfig.write_text(yaml.safe_dump(merged_kubeconfig(clusters), sort_keys=False))
        kubeconfig.chmod(0o600)
        ready = {
            "event": "ready",
            "kubeconfig": str(kubeconfig),
            "clusters": {
                c.config.name: {
                    "context": c.config.name,
                    "url": c.url,
                    "token": c.config.token,
                    "node_ip": c.config.node_ip,
                    "pod_network": c.config.pod_network,
                    "service_network": c.config.service_network,
                    "nodeport_offset": c.config.nodeport_offset,
                    "request_log": str(c.config.request_log),
                    "ca_file": str(c.ca_file),
                    "internal_url": c.internal_url,
                }
                for c in clusters
            },
        }
        print(json.dumps(ready), flush=True)
        await stop.wait()
    finally:
        for cluster in reversed(started):
            await cluster.stop()
        for lock in locks:
            os.close(lock)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.rehearsal")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("up", help="run rehearsal clusters until SIGINT/SIGTERM")
    cmd.add_argument("--clusters", type=int, default=1)
    cmd.add_argument("--state-dir", required=True)
    cmd.add_argument("--kubelet-config")
    cmd.add_argument("--index-offset", type=int, default=0, help="shift cluster indices (node IPs, networks)")
    cmd.add_argument("--api-port", type=int, default=0, help="API port of the first cluster (0: any free port)")
    cmd.add_argument("--nodeport-offset", type=int, default=0)
    cmd.add_argument("--crd-established-delay", type=float, default=1.0)
    cmd.add_argument("--bookmark-interval", type=float, default=60.0)
    cmd.add_argument("--watch-history", type=int, default=5000, help="watch events kept before 410 Expired")
    cmd.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    return asyncio.run(up(args))


if __name__ == "__main__":
    sys.exit(main())
