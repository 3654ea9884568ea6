"""Stand-in for prometheus-operator and its config reloader in the rehearsal cluster.

``python -m tests.rehearsal.promop operator`` watches Prometheus, ServiceMonitor, PodMonitor,
PrometheusRule and Namespace objects and writes what prometheus-operator v0.93 writes: the gzipped
configuration Secret ``prometheus-<name>``, the rule ConfigMaps ``prometheus-<name>-rulefiles-N``,
the StatefulSet ``prometheus-<name>`` and its governing Service, and the Prometheus status.
``python -m tests.rehearsal.promop prometheus`` is what the rehearsal kubelet runs for the
Prometheus image: the config reloader's job plus the real Debian ``/usr/bin/prometheus``.
"""
