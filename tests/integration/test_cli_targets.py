"""The CLI never sends a function's calls to AWS unless told to (`--aws`)."""
import os

import boto3

from docingest_cli.emulator import endpoint_environment, patched_environment


def test_an_endpoint_wins_over_service_endpoints_and_the_ignore_switch(monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "https://s3.amazonaws.com")
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    with patched_environment(endpoint_environment("http://127.0.0.1:4577", "eu-west-1")):
        for service in ("s3", "sqs", "dynamodb"):
            assert boto3.session.Session().client(service).meta.endpoint_url == "http://127.0.0.1:4577"
        assert boto3.session.Session().get_credentials().access_key == "testing"
    assert os.environ["AWS_ENDPOINT_URL_S3"] == "https://s3.amazonaws.com" and "AWS_ENDPOINT_URL" not in os.environ


def test_aws_means_aws_even_with_an_endpoint_in_the_environment(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4577")
    with patched_environment(endpoint_environment(None, "eu-west-1")):
        assert boto3.session.Session().client("sqs").meta.endpoint_url == "https://sqs.eu-west-1.amazonaws.com"
