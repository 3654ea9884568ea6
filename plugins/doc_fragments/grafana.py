"""Documentation fragment of the mlmon.monitoring Grafana modules: how they reach and authenticate to Grafana."""

from __future__ import annotations


class ModuleDocFragment:
    """The connection options every Grafana module takes (see module_utils/grafana_api.py)."""

    DOCUMENTATION = r"""
options:
  url:
    description: Base URL of Grafana, for example V(http://127.0.0.1:30200).
    type: str
    required: true
  url_username:
    description: User for basic auth. Ignored when O(token) is set.
    type: str
    default: admin
  url_password:
    description:
      - Password of O(url_username) for basic auth.
      - One of O(url_password) and O(token) is required.
    type: str
  token:
    description:
      - "Service account token, sent as C(Authorization: Bearer <token>)."
      - The account needs the Editor or Admin role.
    type: str
  validate_certs:
    description: Verify the TLS certificate of an https O(url).
    type: bool
    default: true
  ca_path:
    description: PEM file of the certificate authorities that sign Grafana's certificate, in place of the system's.
    type: path
  client_cert:
    description:
      - PEM file of a client certificate, for a Grafana (or a proxy in front of it) that asks for one.
      - It may hold the private key too; else give O(client_key).
    type: path
  client_key:
    description: PEM file of the private key of O(client_cert).
    type: path
  use_proxy:
    description: Use the proxy the environment names (C(https_proxy), C(http_proxy), C(no_proxy)).
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each answer.
    type: int
    default: 30
"""
