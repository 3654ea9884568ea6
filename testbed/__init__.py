"""The project's stand-ins for what cannot be had here: the kube-prometheus-stack chart and Grafana's HTTP API (README.md)."""
