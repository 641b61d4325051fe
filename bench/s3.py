"""
An S3-compatible object store on loopback, for the storage tests, `make cluster` and `make bench`.

moto's server mode runs in a subprocess of its own on a free 127.0.0.1 port, so that every process
(gunicorn workers, a test's subprocess, the test itself) reaches the same buckets over real HTTP. It
keeps objects in memory and accepts any credentials; nothing leaves the machine. The bucket lets
anyone read its objects, as a public site's media bucket does.

    with S3Server() as s3:
        env = os.environ | s3.env()   # what practice/settings/base.py reads to store uploads there
        ...

`stop()` (or leaving the `with` block) ends the server and everything in it.
"""

import http.client
import json
import socket
import subprocess
import sys
import time

ACCESS_KEY_ID = "practice-test-key"
SECRET_ACCESS_KEY = "practice-test-secret"  # noqa: S105 (moto accepts any key; nothing real is stored)
REGION = "us-east-1"
START_TIMEOUT = 30  # seconds


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Server:
    """moto's S3 server, started on a free loopback port when made, with one empty bucket, `bucket`."""

    def __init__(self, bucket: str = "practice-media"):
        self.bucket = bucket
        self.endpoint_url = ""
        self._process = None
        self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def start(self) -> "S3Server":
        """Starts the server (once; `S3Server()` already has) and creates the bucket."""
        if self._process is not None:
            return self
        # The port is chosen before moto binds it, so another program may take it in between: try again.
        for _attempt in range(3):
            port = _free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_until_listening(process, port):
                self._process = process
                self.endpoint_url = f"http://127.0.0.1:{port}"
                self._create_public_bucket()
                return self
            process.kill()
            process.wait()
        raise RuntimeError("moto's S3 server did not start on 127.0.0.1")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def env(self) -> dict[str, str]:
        """The environment variables that make the Django settings store uploads in this server's bucket."""
        if self._process is None:
            raise RuntimeError("Start the S3 server before asking for its environment.")
        return {
            "DJANGO_MEDIA_STORAGE": "storages.backends.s3.S3Storage",
            "DJANGO_MEDIA_S3_BUCKET": self.bucket,
            "DJANGO_MEDIA_S3_ENDPOINT_URL": self.endpoint_url,
            "DJANGO_MEDIA_S3_REGION": REGION,
            "DJANGO_MEDIA_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "DJANGO_MEDIA_S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "DJANGO_MEDIA_S3_ADDRESSING_STYLE": "path",
        }

    def client(self):
        """A boto3 S3 client for this server, to look into the bucket."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )

    def _create_public_bucket(self) -> None:
        # As a deployment sets it up: everyone may read the objects (pages link to them without a
        # signature), through a bucket policy rather than per-object ACLs, which many services refuse.
        client = self.client()
        client.create_bucket(Bucket=self.bucket)
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{self.bucket}/*",
                }
            ],
        }
        client.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(policy))

    def object_keys(self) -> list[str]:
        """The names of every object in the bucket, sorted."""
        paginator = self.client().get_paginator("list_objects_v2")
        return sorted(
            item["Key"] for page in paginator.paginate(Bucket=self.bucket) for item in page.get("Contents", [])
        )

    @staticmethod
    def _wait_until_listening(process, port) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                connection.request("GET", "/moto-api/")
                connection.getresponse().read()
                connection.close()
                return True
            except OSError:
                time.sleep(0.1)
        return False
