"""The rehearsal Kubernetes API server: test equipment that real clients talk to unmodified.

Layers, bottom up:

* store.py — objects, the cluster-wide resourceVersion, watch history;
* resources.py, discovery.py, openapi.py (+ openapi_pb.py) — what is served and how it is
  described (discovery lists, OpenAPI v2 JSON/protobuf, v3 per group-version);
* codec.py, protobuf.py (+ proto_fields.py), validation.py, defaults.py, semantic.py, names.py,
  quantity.py, strategy.py, allocators.py, tracking.py — decoding, defaulting, validation,
  per-kind strategies and managed fields of a write (patch/SSA engines: patch.py, ssa.py);
* rest.py — the verbs; server.py, watch.py, tables.py — their HTTP face;
* crds.py, gc.py — the in-process controllers (CRD naming/establishing/cleanup, garbage
  collector, namespace lifecycle, default service accounts);
* cluster.py (+ tls.py) — one cluster: server, TLS, seed objects, plugged-in controllers.

``python -m tests.rehearsal up`` runs clusters; tests/rehearsal/fixtures.py wraps it for pytest.
"""
