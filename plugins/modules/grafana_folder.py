"""Ansible module mlmon.monitoring.grafana_folder: a Grafana folder, keyed by its uid."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: grafana_folder
short_description: Create, rename or delete a Grafana folder by uid
version_added: "0.1.0"
description:
  - Ensures a folder with a fixed O(uid) exists in Grafana with the given O(title), renaming it when the title
    differs, or deletes it.
  - Talks to Grafana's folder HTTP API (C(/api/folders)); it reads first and writes only when something differs, so
    a second run reports C(changed=false) and sends no write.
  - Grafana titles are not unique (since Grafana 11.3); the uid is the folder's identity.
author:
  - mlmon maintainers (@mlmon)
extends_documentation_fragment:
  - mlmon.monitoring.grafana
options:
  uid:
    description: uid of the folder (letters, digits, C(-) and C(_), at most 40 characters).
    type: str
    required: true
  title:
    description: Title of the folder. Required when O(state=present).
    type: str
  state:
    description: Whether the folder should exist.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - With O(state=absent), delete the folder even when it still holds dashboards or folders; Grafana deletes them
        with it.
      - When V(false), a folder that is not empty is not deleted and the task fails, listing what it holds.
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reads the folder and reports what would change; sends no write.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Shows the folder's uid and title before and after.
notes:
  - A rename sends the folder's current version, so a change someone else saved in between is answered with HTTP
    412 instead of being overwritten; run the task again to read the new version.
seealso:
  - module: mlmon.monitoring.grafana_dashboard
  - name: Grafana folder HTTP API
    description: The endpoints this module uses.
    link: https://grafana.com/docs/grafana/latest/developers/http_api/folder/
"""

EXAMPLES = r"""
- name: Ensure the folder for the model dashboards
  mlmon.monitoring.grafana_folder:
    url: http://127.0.0.1:30200
    url_username: admin
    url_password: "{{ grafana_admin_password }}"
    uid: mlmon
    title: ML models

- name: Delete the folder with a service account token, only if it is empty
  mlmon.monitoring.grafana_folder:
    url: https://grafana.example.org
    token: "{{ grafana_token }}"
    uid: mlmon
    state: absent
"""

RETURN = r"""
status:
  description: What the task did (or, in check mode, would do).
  returned: always
  type: str
  choices: [created, updated, unchanged, deleted]
  sample: created
uid:
  description: uid of the folder.
  returned: always
  type: str
  sample: mlmon
title:
  description: Title of the folder after the task; null when it does not exist.
  returned: always
  type: str
  sample: ML models
url:
  description: Address of the folder in Grafana; null when it does not exist (or would only be created).
  returned: always
  type: str
  sample: http://127.0.0.1:30200/dashboards/f/mlmon/ml-models
version:
  description: Version of the folder Grafana holds after the task; null when it does not exist.
  returned: always
  type: int
  sample: 1
http_status:
  description: HTTP status of the request that failed (-1 when Grafana did not answer).
  returned: failure
  type: int
  sample: 401
grafana_message:
  description: Grafana's C(message) for the request that failed.
  returned: failure
  type: str
  sample: Invalid username or password
grafana_status:
  description: Grafana's C(status) word for the request that failed, when it gave one.
  returned: failure
  type: str
  sample: version-mismatch
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlmon.monitoring.plugins.module_utils.grafana_api import (
    GRAFANA_MUTUALLY_EXCLUSIVE,
    GRAFANA_REQUIRED_ONE_OF,
    GrafanaAPIError,
    GrafanaClient,
    failure,
    grafana_argument_spec,
    path_segment,
)

LISTED_CONTENTS = 10


class FolderNotEmpty(Exception):
    """The folder to delete still holds dashboards or folders."""


def _result(
    client: GrafanaClient,
    status: str,
    uid: str,
    folder: dict[str, Any] | None,
    before: dict[str, Any],
    after: dict[str, Any],
) -> dict[str, Any]:
    return {
        "changed": status != "unchanged",
        "status": status,
        "uid": uid,
        "title": folder.get("title") if folder else after.get("title"),
        "url": client.absolute(folder["url"]) if folder and folder.get("url") else None,
        "version": folder.get("version") if folder else None,
        "diff": {"before": before, "after": after},
    }


def ensure_present(client: GrafanaClient, uid: str, title: str, check_mode: bool) -> dict[str, Any]:
    """Create the folder, or rename it when its title differs."""
    path = f"/api/folders/{path_segment(uid)}"
    live = client.find(path)
    wanted = {"uid": uid, "title": title}
    if live is None:
        created = None if check_mode else client.post("/api/folders", wanted)
        return _result(client, "created", uid, created, {}, wanted)
    before = {"uid": uid, "title": live.get("title")}
    if live.get("title") == title:
        return _result(client, "unchanged", uid, live, before, wanted)
    if check_mode:
        return _result(client, "updated", uid, {**live, "title": title}, before, wanted)
    try:
        renamed = client.put(path, {"title": title, "version": live.get("version"), "overwrite": False})
    except GrafanaAPIError as error:
        if error.status == 412:
            error.hint = "Someone changed the folder while this task ran; run the task again"
        raise
    return _result(client, "updated", uid, renamed, before, wanted)


def ensure_absent(client: GrafanaClient, uid: str, force: bool, check_mode: bool) -> dict[str, Any]:
    """Delete the folder; refuse a folder that is not empty unless ``force``."""
    path = f"/api/folders/{path_segment(uid)}"
    live = client.find(path)
    if live is None:
        return _result(client, "unchanged", uid, None, {}, {})
    before = {"uid": uid, "title": live.get("title")}
    if not force:
        contents = client.get(f"/api/search?folderUIDs={path_segment(uid)}") or []
        if contents:
            listed = ", ".join(f"{hit.get('title')} ({hit.get('uid')})" for hit in contents[:LISTED_CONTENTS])
            more = f" and {len(contents) - LISTED_CONTENTS} more" if len(contents) > LISTED_CONTENTS else ""
            raise FolderNotEmpty(
                f"Folder {uid} ({live.get('title')}) still holds {len(contents)} dashboard(s) or folder(s): "
                f"{listed}{more}. Move or delete them, or set force: true to delete them with the folder."
            )
    if not check_mode:
        client.delete(path + ("?forceDeleteRules=true" if force else ""))
    return _result(client, "deleted", uid, None, before, {})


def main() -> None:
    argument_spec = grafana_argument_spec()
    argument_spec.update(
        uid={"type": "str", "required": True},
        title={"type": "str"},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        force={"type": "bool", "default": False},
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=GRAFANA_MUTUALLY_EXCLUSIVE,
        required_one_of=GRAFANA_REQUIRED_ONE_OF,
        required_if=[("state", "present", ("title",))],
    )
    params = module.params
    client = GrafanaClient.from_params(params)
    try:
        if params["state"] == "present":
            result = ensure_present(client, params["uid"], params["title"], module.check_mode)
        else:
            result = ensure_absent(client, params["uid"], params["force"], module.check_mode)
    except GrafanaAPIError as error:
        module.fail_json(uid=params["uid"], **failure(error))
    except FolderNotEmpty as error:
        module.fail_json(msg=str(error), uid=params["uid"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
