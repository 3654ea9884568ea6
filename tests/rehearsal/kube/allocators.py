"""Service ClusterIP and NodePort allocation, as the apiserver's service REST storage does it.

ClusterIPs come from the cluster's service network (the first address is the ``kubernetes``
Service); NodePorts from 30000-32767. A requested value is checked: out of range or taken is a
422 on the field, with the apiserver's wording (``provided port is already allocated``).
Allocations are derived from the stored Services, so they survive nothing but the process.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterable
from typing import Any

from .errors import Cause, invalid

NODEPORT_RANGE = range(30000, 32768)
Obj = dict[str, Any]


class ServiceAllocator:
    def __init__(self, service_network: str, seed: int = 0) -> None:
        self.network = ipaddress.ip_network(service_network)
        self._random = random.Random(seed)

    @property
    def kubernetes_ip(self) -> str:
        return str(self.network.network_address + 1)

    def _used(self, services: Iterable[Obj], skip_uid: str | None) -> tuple[set[str], set[int]]:
        ips: set[str] = set()
        ports: set[int] = set()
        for svc in services:
            if skip_uid and svc["metadata"].get("uid") == skip_uid:
                continue
            spec = svc.get("spec") or {}
            ips.update(ip for ip in spec.get("clusterIPs") or [spec.get("clusterIP")] if ip and ip != "None")
            ports.update(p["nodePort"] for p in spec.get("ports") or [] if p.get("nodePort"))
        return ips, ports

    def allocate(self, svc: Obj, old: Obj | None, services: Iterable[Obj]) -> list[Cause]:
        """Fill clusterIP(s), ipFamilies and nodePorts of ``svc``; returns 422 causes."""
        spec = svc.setdefault("spec", {})
        uid = (old or {}).get("metadata", {}).get("uid")
        used_ips, used_ports = self._used(services, uid)
        causes: list[Cause] = []
        stype = spec.get("type", "ClusterIP")
        old_spec = (old or {}).get("spec") or {}
        if stype == "ExternalName":
            for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
                spec.pop(key, None)
            return causes
        if not spec.get("clusterIP") and old_spec.get("clusterIP"):
            spec["clusterIP"] = old_spec["clusterIP"]
            spec.setdefault("clusterIPs", old_spec.get("clusterIPs") or [old_spec["clusterIP"]])
        ip = spec.get("clusterIP")
        if not ip:
            ip = self._free_ip(used_ips)
            spec["clusterIP"] = ip
        elif ip != "None" and ip != old_spec.get("clusterIP"):
            causes += self._check_ip(ip, used_ips)
        spec["clusterIPs"] = [ip] if not spec.get("clusterIPs") or spec["clusterIPs"][0] != ip else spec["clusterIPs"]
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        wants_ports = stype == "NodePort" or (
            stype == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts", True)
        )
        old_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort") for p in old_spec.get("ports") or []}
        for i, port in enumerate(spec.get("ports") or []):
            if not wants_ports:
                if old is not None and port.get("nodePort") and old_spec.get("type") in ("NodePort", "LoadBalancer"):
                    port.pop("nodePort", None)
                continue
            requested = port.get("nodePort")
            previous = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
            if not requested and previous:
                port["nodePort"] = previous
                continue
            if not requested:
                port["nodePort"] = self._free_port(used_ports)
            elif requested != previous:
                causes += self._check_port(f"spec.ports[{i}].nodePort", requested, used_ports)
            used_ports.add(port["nodePort"])
        return causes

    def _free_ip(self, used: set[str]) -> str:
        hosts = self.network.num_addresses - 2
        for _ in range(hosts):
            candidate = str(self.network.network_address + 2 + self._random.randrange(hosts - 1))
            if candidate not in used:
                return candidate
        raise RuntimeError("service network exhausted")

    def _check_ip(self, ip: str, used: set[str]) -> list[Cause]:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return [invalid("spec.clusterIPs[0]", ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")]
        if addr not in self.network:
            return [
                invalid(
                    "spec.clusterIPs",
                    [ip],
                    f"failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. "
                    f"The range of valid IPs is {self.network}",
                )
            ]
        if ip in used:
            return [invalid("spec.clusterIPs", [ip], f"failed to allocate IP {ip}: provided IP is already allocated")]
        return []

    def _free_port(self, used: set[int]) -> int:
        for _ in range(len(NODEPORT_RANGE)):
            candidate = self._random.choice(NODEPORT_RANGE)
            if candidate not in used:
                return candidate
        raise RuntimeError("node ports exhausted")

    @staticmethod
    def _check_port(path: str, port: int, used: set[int]) -> list[Cause]:
        if port not in NODEPORT_RANGE:
            return [
                invalid(
                    path,
                    port,
                    "provided port is not in the valid range. The range of valid ports is 30000-32767",
                )
            ]
        if port in used:
            return [invalid(path, port, "provided port is already allocated")]
        return []
