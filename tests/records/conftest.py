"""A real S3 (moto server on 127.0.0.1) for the records tests; stopped by the test that used it."""

from __future__ import annotations

import pytest
from moto.server import ThreadedMotoServer

REGION = "eu-central-1"


@pytest.fixture
def moto_url():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.get_host_and_port()[1]}"
    finally:
        server.stop()


def s3_client(url: str):
    import boto3

    return boto3.client("s3", region_name=REGION, endpoint_url=url, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def bucket_env(url: str, bucket: str) -> dict[str, str]:
    """A new bucket in the moto server, and the settings that publish to it."""
    s3_client(url).create_bucket(Bucket=bucket,
                                 CreateBucketConfiguration={"LocationConstraint": REGION})
    return {"SCHOOLPLEIN_S3_BUCKET": bucket, "AWS_ENDPOINT_URL": url, "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def keys(url: str, bucket: str) -> set[str]:
    pages = s3_client(url).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}
