"""A stand-in for the CloudFront KeyValueStore data-plane API, over HTTP on 127.0.0.1.

moto (5.2) serves the CloudFront control plane (CreateKeyValueStore) but not the
`cloudfront-keyvaluestore` API that reads and writes keys, and there is no local
CloudFront. This server speaks that API's wire format (rest-json:
DescribeKeyValueStore, ListKeys with pagination, UpdateKeys with If-Match and a
new ETag per change, ConflictException on a stale ETag), so the publish code runs
through a real boto3 client: request serialisation, SigV4A signing (awscrt) and
response parsing are botocore's own. Every request is logged.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
from botocore.config import Config

PAGE = 3  # small pages, so pagination is exercised


class KvsServer:
    def __init__(self, arn: str):
        self.arn = arn
        self.items: dict[str, str] = {}
        self.version = 1
        self.log: list[tuple[str, str]] = []  # (operation, detail)
        self.down = False
        store = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server naming
                store._handle(self, "GET")

            def do_POST(self):  # noqa: N802
                store._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def etag(self) -> str:
        return f"ETAG{self.version}"

    def client(self, attempts: int = 3):
        """A real boto3 client pointed here.

        The service's endpoint rules put the account id in front of the host
        (`123456789012.127.0.0.1`); the signed request is sent to 127.0.0.1 itself.
        """
        client = boto3.client("cloudfront-keyvaluestore", endpoint_url=self.url,
                              region_name="us-east-1", aws_access_key_id="testing",
                              aws_secret_access_key="testing",
                              config=Config(retries={"max_attempts": attempts,
                                                     "mode": "standard"}))

        def to_loopback(request, **_):
            parts = urlsplit(request.url)
            request.url = parts._replace(netloc=f"127.0.0.1:{parts.port}").geturl()

        client.meta.events.register("before-send.cloudfront-keyvaluestore", to_loopback)
        return client

    def writes(self) -> list[str]:
        return [detail for op, detail in self.log if op == "UpdateKeys"]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _send(self, handler, status: int, body: dict, error: str = "") -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("ETag", self.etag)
        if error:
            handler.send_header("x-amzn-ErrorType", error)
        handler.end_headers()
        handler.wfile.write(data)

    def _handle(self, handler, method: str) -> None:
        if self.down:
            self._send(handler, 500, {"Message": "unavailable"}, "InternalServerException")
            return
        parts = urlsplit(handler.path)
        path = parts.path.removeprefix("/key-value-stores/")
        arn, _, rest = path.partition("/")
        assert handler.headers.get("Authorization", "").startswith("AWS4-ECDSA-P256-SHA256")
        if unquote(arn) != self.arn:
            self._send(handler, 404, {"Message": "no such store"}, "ResourceNotFoundException")
            return
        if method == "GET" and not rest:
            self.log.append(("DescribeKeyValueStore", ""))
            self._send(handler, 200, {"KvsARN": self.arn, "ItemCount": len(self.items),
                                      "TotalSizeInBytes": 0, "Created": 0, "Status": "READY"})
        elif method == "GET" and rest == "keys":
            query = parse_qs(parts.query)
            keys = sorted(self.items)
            start = int(query.get("NextToken", ["0"])[0])
            page = {"Items": [{"Key": k, "Value": self.items[k]} for k in keys[start:start + PAGE]]}
            if start + PAGE < len(keys):
                page["NextToken"] = str(start + PAGE)
            self.log.append(("ListKeys", str(start)))
            self._send(handler, 200, page)
        elif method == "POST" and rest == "keys":
            body = json.loads(handler.rfile.read(int(handler.headers["Content-Length"])))
            if handler.headers.get("If-Match") != self.etag:
                self._send(handler, 409, {"Message": "stale ETag"}, "ConflictException")
                return
            for put in body.get("Puts", []):
                self.items[put["Key"]] = put["Value"]
            for delete in body.get("Deletes", []):
                self.items.pop(delete["Key"], None)
            self.version += 1
            self.log.append(("UpdateKeys", json.dumps(body, sort_keys=True)))
            self._send(handler, 200, {"ItemCount": len(self.items), "TotalSizeInBytes": 0})
        else:
            self._send(handler, 400, {"Message": "unknown"}, "ValidationException")
