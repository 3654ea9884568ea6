"""Pod IPs from the cluster's pod network (host-local IPAM): the network and broadcast addresses
and the first host address (the bridge's, by convention) are never handed out, and allocation
goes round the range so a released address is not reused straight away."""

from __future__ import annotations

import ipaddress


class PodNetworkExhausted(RuntimeError):
    pass


class PodIPAllocator:
    def __init__(self, network: str) -> None:
        self.network = ipaddress.ip_network(network)
        self._first = int(self.network.network_address) + 2
        self._last = int(self.network.broadcast_address) - 1
        self._next = self._first
        self._used: set[int] = set()

    def allocate(self) -> str:
        size = self._last - self._first + 1
        for _ in range(size):
            candidate = self._next
            self._next = self._first if candidate >= self._last else candidate + 1
            if candidate not in self._used:
                self._used.add(candidate)
                return str(ipaddress.ip_address(candidate))
        raise PodNetworkExhausted(f"no free address left in {self.network}")

    def release(self, address: str) -> None:
        self._used.discard(int(ipaddress.ip_address(address)))
