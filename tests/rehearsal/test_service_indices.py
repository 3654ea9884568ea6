"""Column: rehearsal (real sockets, locks and a real ``python -m tests.rehearsal up``). Cluster
indices are shared by every session on the machine: ``service.free_indices`` skips the reserved
ones (1 for ``make rehearse``, 9 for molecule), those with anything listening on their node, pod
or service addresses, and those a running cluster has claimed; a cluster started on a claimed
index exits with 3 before binding anything."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.rehearsal import service


@contextmanager
def claimed(index: int) -> Iterator[None]:
    locks = service.claim_indices(index, 1)
    try:
        yield
    finally:
        for lock in locks:
            os.close(lock)


@contextmanager
def listening(address: str, port: int) -> Iterator[None]:
    with socket.socket() as sock:
        sock.bind((address, port))
        sock.listen()
        yield


def test_reserved_indices_are_never_picked() -> None:
    first = service.free_indices(3)
    assert not service.RESERVED & set(range(first, first + 3))
    everything_but_first = set(range(1, service.MAX_INDEX + 1)) - {first}
    assert service.free_indices(1, reserved=everything_but_first) == first
    with pytest.raises(RuntimeError, match="no free block"):
        service.free_indices(1, reserved=set(range(1, service.MAX_INDEX + 1)))


def test_a_claimed_index_is_skipped_and_refuses_a_second_cluster(tmp_path: Path) -> None:
    index = service.free_indices(1)
    with claimed(index):
        assert service.free_indices(1) != index
        with pytest.raises(service.IndexTaken):
            service.claim_indices(index, 1)
        done = subprocess.run(
            [sys.executable, "-m", "tests.rehearsal", "up", "--state-dir", str(tmp_path), "--index-offset",
             str(index - 1)],
            cwd=service.REPO, capture_output=True, text=True, timeout=120, check=False,
        )
        assert done.returncode == service.EXIT_INDEX_TAKEN, done.stderr
        assert f"rehearsal cluster index {index} is held by another running cluster" in done.stderr
        assert index not in service.busy_indices()


def test_anything_listening_on_a_clusters_addresses_makes_it_busy() -> None:
    index = service.free_indices(1)
    with claimed(index):
        assert index not in service.busy_indices()
        with listening(f"127.0.{index}.1", 30200):
            assert index in service.busy_indices()
        with listening(f"127.{10 * index + 1}.0.7", 0):
            assert index in service.busy_indices()
        with listening(f"127.{10 * index + 2}.0.9", 0):
            assert index in service.busy_indices()
        assert index not in service.busy_indices()
