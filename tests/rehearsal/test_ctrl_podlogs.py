"""Column: rehearsal. Container logs as the rehearsal kubelet keeps and serves them: the CRI
logging format the runtime writes (a record per line, over-long lines in ``P`` pieces), what the
kubelet answers for ``tailLines``/``sinceSeconds``/``timestamps``/``limitBytes``, and how the
apiserver decodes and validates PodLogOptions and picks the container (its 400 and 422)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from multidict import MultiDict

from tests.rehearsal.kube.controllers.podlogs import (
    MAX_LINE,
    LogOptions,
    LogWriter,
    follow_log,
    parse_record,
    read_log,
    record,
)
from tests.rehearsal.kube.errors import ApiError
from tests.rehearsal.kube.logs import log_options

T0 = 1_700_000_000 * 1_000_000_000


def write(path: Path, *records: tuple[int, str, bytes, bool]) -> None:
    path.write_bytes(b"".join(record(at, stream, content, partial) for at, stream, content, partial in records))


def test_the_writer_keeps_lines_and_splits_long_ones(tmp_path: Path) -> None:
    async def copy() -> None:
        reader = asyncio.StreamReader()
        for chunk in (b"one\ntwo", b" halves\n" + b"x" * (MAX_LINE + 10) + b"\n", b"tail"):
            reader.feed_data(chunk)
        reader.feed_eof()
        writer = LogWriter(tmp_path / "c" / "0.log")
        await writer.copy(reader, "stderr")
        writer.close()

    asyncio.run(copy())
    lines = (tmp_path / "c" / "0.log").read_bytes().splitlines()
    parsed = [parse_record(line) for line in lines]
    assert all(p is not None and p.stream == "stderr" for p in parsed)
    assert [(p.partial, len(p.content)) for p in parsed if p] == [
        (False, 3), (False, 10), (True, MAX_LINE), (False, 10), (False, 4)]
    assert read_log(tmp_path / "c" / "0.log", LogOptions()) == (
        b"one\ntwo halves\n" + b"x" * (MAX_LINE + 10) + b"\ntail\n")


def test_a_record_is_rfc3339_nano_stream_tag_content() -> None:
    assert record(T0 + 5, "stdout", b"hello world") == b"2023-11-14T22:13:20.000000005Z stdout F hello world\n"
    parsed = parse_record(b"2023-11-14T22:13:20.500000000Z stdout P part")
    assert parsed is not None and parsed.partial and parsed.content == b"part"
    assert parsed.at == pytest.approx(1_700_000_000.5)
    assert parse_record(b"not a record") is None


def test_tail_since_timestamps_and_limit(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    second = 1_000_000_000
    write(log, (T0, "stdout", b"first", False), (T0 + 10 * second, "stderr", b"second", False),
          (T0 + 20 * second, "stdout", b"thi", True), (T0 + 21 * second, "stdout", b"rd", False))
    assert read_log(log, LogOptions()) == b"first\nsecond\nthird\n"
    assert read_log(log, LogOptions(tail_lines=2)) == b"third\n"
    assert read_log(log, LogOptions(tail_lines=0)) == b""
    assert read_log(log, LogOptions(since=1_700_000_005.0)) == b"second\nthird\n"
    assert read_log(log, LogOptions(tail_lines=1, timestamps=True)) == b"2023-11-14T22:13:41.000000000Z rd\n"
    assert read_log(log, LogOptions(limit_bytes=8)) == b"first\nse"


def test_follow_sends_what_is_appended_until_the_instance_stops(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    write(log, (T0, "stdout", b"old", False), (T0, "stdout", b"older", False))

    async def follow() -> list[bytes]:
        running = True
        stopping = asyncio.Event()
        chunks: list[bytes] = []

        async def produce() -> None:
            nonlocal running
            with log.open("ab") as out:
                for word in (b"new", b"newer"):
                    await asyncio.sleep(0.3)
                    out.write(record(T0, "stdout", word))
                    out.flush()
            running = False

        producer = asyncio.create_task(produce())
        async for chunk in follow_log(log, LogOptions(tail_lines=1, follow=True), lambda: running, stopping):
            chunks.append(chunk)
        await producer
        return chunks

    chunks = asyncio.run(asyncio.wait_for(follow(), 30))
    assert b"".join(chunks) == b"older\nnew\nnewer\n"
    assert len(chunks) == 3


POD: dict[str, Any] = {
    "metadata": {"name": "web-1"},
    "spec": {"initContainers": [{"name": "init"}], "containers": [{"name": "a"}, {"name": "b"}]},
}


def options(pod: dict[str, Any] = POD, **query: str) -> LogOptions:
    return log_options(MultiDict(query), pod, 1000.0)


def test_the_query_decodes_as_the_parameter_codec_does() -> None:
    decoded = options(container="a", follow="yes", previous="0", timestamps="FALSE", tailLines="3",
                      sinceSeconds="10")
    assert decoded == LogOptions(container="a", follow=True, previous=False, timestamps=False, tail_lines=3,
                                 since=990.0)
    assert options(container="b", sinceTime="1970-01-01T00:10:00Z").since == 600.0
    with pytest.raises(ApiError) as bad:
        options(container="a", tailLines="ten")
    assert (bad.value.code, bad.value.message) == (400, 'strconv.ParseInt: parsing "ten": invalid syntax')


def test_invalid_options_are_422_podlogoptions() -> None:
    with pytest.raises(ApiError) as invalid:
        options(container="a", tailLines="-1", limitBytes="0", sinceSeconds="5",
                sinceTime="1970-01-01T00:10:00Z")
    assert (invalid.value.code, invalid.value.reason) == (422, "Invalid")
    assert invalid.value.message.startswith(
        'PodLogOptions "web-1" is invalid: [tailLines: Invalid value: -1: must be greater than or equal to 0, '
        "limitBytes: Invalid value: 0: must be greater than 0, "
    )
    assert [c["message"] for c in invalid.value.details["causes"]][2] == (
        "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified")
    with pytest.raises(ApiError) as too_recent:
        options(container="a", sinceSeconds="0")
    assert too_recent.value.details["causes"] == [
        {"reason": "FieldValueInvalid", "message": "Invalid value: 0: must be greater than 0", "field": "sinceSeconds"}]


def test_the_container_is_named_or_the_only_one() -> None:
    with pytest.raises(ApiError) as unnamed:
        options()
    assert (unnamed.value.code, unnamed.value.message) == (
        400, "a container name must be specified for pod web-1, choose one of: [init a b]")
    with pytest.raises(ApiError) as unknown:
        options(container="c")
    assert (unknown.value.code, unknown.value.message) == (400, "container c is not valid for pod web-1")
    assert options(container="init").container == "init"
    single = {"metadata": {"name": "one"}, "spec": {"containers": [{"name": "only"}]}}
    assert options(single).container == "only"
