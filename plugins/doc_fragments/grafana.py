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
  timeout:
    description: Seconds to wait for each answer.
    type: int
    default: 30
"""
