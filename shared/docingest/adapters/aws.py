"""boto3 clients, one per service and process. Endpoints come from boto3's own configuration
(``AWS_ENDPOINT_URL``), so the same code talks to AWS, the embedded emulator or LocalStack."""
from __future__ import annotations

from functools import cache

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"})


@cache
def client(service: str):
    return boto3.session.Session().client(service, config=_CONFIG)


@cache
def resource(service: str):
    return boto3.session.Session().resource(service, config=_CONFIG)
