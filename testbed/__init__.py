"""The project's stand-ins for what cannot be had here (see README.md): the chart and Grafana's HTTP API."""
