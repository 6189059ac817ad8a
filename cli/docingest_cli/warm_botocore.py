"""Imported once by the server the emulator's function workers are forked from (``function_worker.PRELOADED``):
botocore's data files (service models, endpoint rules, partitions: JSON it parses for every new session,
about half a second per worker) are read here once, and every session a worker makes shares that loader.

The loader only caches what it has read; a worker's clients, credentials and endpoints are made in
the worker, after its environment is set.
"""
from __future__ import annotations

import os

import boto3
import botocore.loaders
import botocore.session

SERVICES = ("s3", "sqs", "dynamodb")

_shared_loader = botocore.loaders.create_loader()
_boto3_data = os.path.join(os.path.dirname(boto3.__file__), "data")
_shared_loader.search_paths.append(_boto3_data)  # boto3 adds it per session; once is enough here
_create_loader = botocore.loaders.create_loader


def create_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    """botocore.session's loader factory: the shared loader, unless a data path is configured."""
    return _create_loader(search_path_string) if search_path_string else _shared_loader


botocore.session.create_loader = create_loader

def _warm() -> None:
    session = boto3.session.Session(aws_access_key_id="warm", aws_secret_access_key="warm", region_name="us-east-1")
    for service in SERVICES:
        session.client(service, endpoint_url="http://127.0.0.1:9")  # models, endpoint rules, partitions, defaults
    session.resource("dynamodb", endpoint_url="http://127.0.0.1:9")  # boto3's resource model


_warm()
