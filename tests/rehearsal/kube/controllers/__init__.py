"""The rehearsal cluster's controllers: what kube-controller-manager, the scheduler, the kubelet
and kube-proxy do for the clients the project runs (see INTERFACE.md).

``default_controllers(config)`` builds them for one cluster; each has a ``name`` and an
``async run(api)`` that works until cancelled and cleans up on cancellation (the kubelet stops
every pod process, kube-proxy closes every listener).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from . import kubelet_config
from .deployment import DeploymentController
from .endpoints import EndpointsController
from .kubelet import Kubelet
from .proxy import KubeProxy
from .replicaset import ReplicaSetController
from .statefulset import StatefulSetController

if TYPE_CHECKING:
    from ..client import ApiClient
    from ..cluster import ClusterConfig


class Controller(Protocol):
    name: str

    async def run(self, api: ApiClient) -> None: ...


def default_controllers(config: ClusterConfig) -> list[Controller]:
    return [
        DeploymentController(),
        ReplicaSetController(),
        StatefulSetController(),
        EndpointsController(),
        Kubelet(
            cluster_name=config.name,
            node_ip=config.node_ip,
            pod_network=config.pod_network,
            kubernetes_version=config.kubernetes_version,
            config=kubelet_config.load(config.kubelet_config),
        ),
        KubeProxy(config.node_ip, config.nodeport_offset),
    ]
