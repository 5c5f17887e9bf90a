"""Fixtures for the CloudFront target: demo roster, moto server, bucket."""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
for entry in (ROOT, Path(__file__).parent):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from cf_helpers import REGION, Moto  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

from plugins.sections import build_section_map  # noqa: E402


@pytest.fixture(scope="session")
def section_map(roster):
    return build_section_map(roster, "Kc de Matrix")


@pytest.fixture
def moto() -> Iterator[Moto]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    running = Moto(server, server.get_host_and_port()[1])
    try:
        yield running
    finally:
        with contextlib.suppress(Exception):  # already stopped by a fault test
            running.server.stop()


@pytest.fixture
def bucket(moto) -> str:
    name = f"schoolplein-{uuid.uuid4().hex[:12]}"  # moto state is shared in-process
    moto.client(log=False).create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name
