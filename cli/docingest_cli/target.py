"""One place the CLI talks to: the embedded emulator, an external endpoint, or AWS."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

from docingest.adapters.documents import DocumentRepository
from docingest.adapters.entity_index import EntityIndex
from docingest.adapters.storage import DocumentStore
from docingest_cli.deployment import DEFAULT_STACK, Deployment, cloudformation_physical_ids

REPO_ROOT = Path(__file__).resolve().parents[2]


def default_template() -> Path:
    for candidate in (Path.cwd() / "template.yaml", REPO_ROOT / "template.yaml"):
        if candidate.exists():
            return candidate
    raise SystemExit("template.yaml not found: run from the project folder or pass --template")


@dataclass
class Target:
    deployment: Deployment
    endpoint: str | None  # None: real AWS
    direct_socket: str | None = None  # the embedded emulator's short cut (direct_transport), when it is one

    @classmethod
    def connect(cls, template: Path, region: str, stack_name: str = DEFAULT_STACK, endpoint: str | None = None) -> "Target":
        """Resource names from the CloudFormation stack when there is one, else the emulator's names.

        The caller sets the environment (``emulator.endpoint_environment``): credentials, and the endpoint
        the functions' own clients use.
        """
        physical_ids = None
        try:
            session = boto3.session.Session(region_name=region)
            physical_ids = cloudformation_physical_ids(session.client("cloudformation", endpoint_url=endpoint), stack_name) or None
        except ClientError:
            if not endpoint:
                raise SystemExit(f"stack {stack_name} not found in {region}: deploy it with sam deploy, or pass --endpoint-url")
        except Exception:
            if not endpoint:
                raise
            physical_ids = None  # an emulator without CloudFormation: the emulator's names
        return cls(Deployment.load(template, region, stack_name, physical_ids), endpoint)

    @cached_property
    def session(self) -> boto3.session.Session:
        session = boto3.session.Session(region_name=self.deployment.region)
        if self.endpoint and self.direct_socket:
            from docingest_cli import direct_transport

            direct_transport.attach_session(session, self.endpoint, self.direct_socket)
        return session

    def client(self, service: str):
        return self.session.client(service, endpoint_url=self.endpoint)

    @cached_property
    def environment(self) -> dict[str, str]:
        return self.deployment.settings_environment(self.endpoint)

    @cached_property
    def documents(self) -> DocumentRepository:
        return DocumentRepository(self.environment["DOCUMENT_TABLE"], self.session.resource("dynamodb", endpoint_url=self.endpoint))

    @cached_property
    def entity_index(self) -> EntityIndex:
        return EntityIndex(self.environment["ENTITY_INDEX_TABLE"], self.session.resource("dynamodb", endpoint_url=self.endpoint),
                           self.client("dynamodb"))

    @cached_property
    def store(self) -> DocumentStore:
        return DocumentStore(self.environment["DOCUMENT_BUCKET"], self.client("s3"))

    @property
    def inbox_bucket(self) -> str:
        return self.deployment.inbox_bucket()

    def queue_urls(self) -> dict[str, str]:
        """Queue logical id -> URL, for every queue of the template."""
        resolver = self.deployment.resolver(self.endpoint)
        return {lid: resolver.refs[lid] for lid in self.deployment.of_type("AWS::SQS::Queue")}
