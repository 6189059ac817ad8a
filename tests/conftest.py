"""Shared fixtures: moto in-process with the template's resources, and the services over them."""
from __future__ import annotations

import os
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
SAMPLES = ROOT / "samples"
REGION = "us-east-1"
# The functions' Powertools objects read these once, when first imported (as on Lambda).
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "docingest")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "DocIngest")


@pytest.fixture
def aws_credentials(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def deployment():
    from docingest_cli.deployment import Deployment

    return Deployment.load(TEMPLATE, REGION)


@pytest.fixture
def provisioned(aws_credentials, deployment, monkeypatch):
    """moto in-process with every resource of template.yaml, and the functions' environment set."""
    from moto import mock_aws

    from docingest import handler
    from docingest.adapters import aws
    from docingest_cli import moto_patches
    from docingest_cli.emulator import provision

    moto_patches.apply()  # as in the emulator's moto process
    with mock_aws():
        for cached in (aws.client, aws.resource, handler.services):
            cached.cache_clear()
        provision(deployment, boto3.session.Session(region_name=REGION), None)
        for key, value in deployment.settings_environment(None).items():
            monkeypatch.setenv(key, value)
        yield deployment
        for cached in (aws.client, aws.resource, handler.services):
            cached.cache_clear()


@pytest.fixture
def services(provisioned):
    from docingest.pipeline import Services

    return Services.from_env()


def receive_all(queue_url: str) -> list[dict]:
    """Every message on a queue (made visible again right away)."""
    import json

    sqs = boto3.client("sqs", region_name=REGION)
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]
