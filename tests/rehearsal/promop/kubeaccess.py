"""How the stand-in processes reach the rehearsal API server (a pod's in-cluster config)."""

from __future__ import annotations

import argparse
import base64
import ssl
from pathlib import Path

import aiohttp
import yaml

from ..kube.client import ApiClient, Kind

PROMETHEUSES = Kind("monitoring.coreos.com", "v1", "prometheuses", "Prometheus")
SERVICEMONITORS = Kind("monitoring.coreos.com", "v1", "servicemonitors", "ServiceMonitor")
PODMONITORS = Kind("monitoring.coreos.com", "v1", "podmonitors", "PodMonitor")
PROMETHEUSRULES = Kind("monitoring.coreos.com", "v1", "prometheusrules", "PrometheusRule")
NAMESPACES = Kind("", "v1", "namespaces", "Namespace", namespaced=False)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", type=Path, help="kubeconfig (its current context)")
    parser.add_argument("--server", help="API server URL (instead of --kubeconfig)")
    parser.add_argument("--token", help="bearer token for --server")


class TlsApiClient(ApiClient):
    """The controllers' client, verifying the API server against the cluster's CA."""

    def __init__(self, url: str, token: str, user_agent: str, context: ssl.SSLContext) -> None:
        super().__init__(url, token, user_agent=user_agent)
        self._context = context

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers=self._headers, connector=aiohttp.TCPConnector(ssl=self._context),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10))
        return self._session


def client(args: argparse.Namespace, user_agent: str) -> ApiClient:
    if args.server:
        return ApiClient(args.server, args.token or "", user_agent=user_agent)
    if args.kubeconfig is None:
        raise SystemExit("give --kubeconfig or --server/--token")
    config = yaml.safe_load(args.kubeconfig.read_text())
    context = next(c["context"] for c in config["contexts"]
                   if c["name"] == config["current-context"])
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    if not cluster["server"].startswith("https://"):
        return ApiClient(cluster["server"], user.get("token", ""), user_agent=user_agent)
    context_ = ssl.create_default_context()
    if cluster.get("certificate-authority-data"):
        context_.load_verify_locations(
            cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    elif cluster.get("certificate-authority"):
        context_.load_verify_locations(cafile=cluster["certificate-authority"])
    return TlsApiClient(cluster["server"], user.get("token", ""), user_agent, context_)
