"""Where the template's resources are on one target: the embedded emulator, LocalStack or AWS."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docingest_cli.template import (
    ACCOUNT_ID,
    Resolver,
    load_sam,
    local_code_paths,
    parameter_defaults,
    resources_of_type,
    translate,
)

DEFAULT_STACK = "docingest"
NAMED_TYPES = ("AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::DynamoDB::Table", "AWS::Lambda::Function")


def kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


@dataclass
class Function:
    logical_id: str
    code_path: Path
    handler: str
    timeout: int
    environment: dict[str, str]
    memory: int = 128  # MemorySize, MB
    reserved_concurrency: int | None = None  # ReservedConcurrentExecutions, when the template sets it


@dataclass
class QueueMapping:
    """An SQS event-source mapping: which queue feeds which function, and how."""

    function: str
    queue_logical_id: str
    batch_size: int
    batching_window: int
    report_batch_item_failures: bool


@dataclass
class Deployment:
    template_path: Path
    region: str
    stack_name: str
    translated: dict[str, Any]
    physical_ids: dict[str, str]
    parameters: dict[str, str] = field(default_factory=dict)
    account_id: str = ACCOUNT_ID

    @classmethod
    def load(cls, template_path: Path, region: str, stack_name: str = DEFAULT_STACK,
             physical_ids: dict[str, str] | None = None, account_id: str = ACCOUNT_ID) -> "Deployment":
        sam = load_sam(template_path)
        translated = translate(sam, region)
        deployment = cls(template_path, region, stack_name, translated, {}, parameter_defaults(translated), account_id)
        deployment.physical_ids = physical_ids or deployment.local_names()
        deployment._sam = sam
        return deployment

    # names ------------------------------------------------------------------------------
    def local_names(self) -> dict[str, str]:
        """Physical names on the embedded emulator: ``<stack>-<kebab-logical-id>``."""
        names = {}
        for logical_id, resource in self.translated["Resources"].items():
            if resource["Type"] in NAMED_TYPES:
                names[logical_id] = f"{self.stack_name}-{kebab(logical_id)}"
        return names

    def queue_url(self, logical_id: str, endpoint: str | None) -> str:
        physical = self.physical_ids[logical_id]
        if physical.startswith("http"):
            return physical
        base = endpoint or f"https://sqs.{self.region}.amazonaws.com"
        return f"{base.rstrip('/')}/{self.account_id}/{physical}"

    def resolver(self, endpoint: str | None = None) -> Resolver:
        resolver = Resolver()
        resolver.refs.update(self.parameters)
        resolver.refs.update({"AWS::Region": self.region, "AWS::AccountId": self.account_id,
                              "AWS::Partition": "aws", "AWS::StackName": self.stack_name, "AWS::URLSuffix": "amazonaws.com"})
        for logical_id, resource in self.translated["Resources"].items():
            kind = resource["Type"]
            physical = self.physical_ids.get(logical_id, logical_id)
            if kind == "AWS::SQS::Queue":
                url = self.queue_url(logical_id, endpoint)
                name = url.rsplit("/", 1)[-1]
                resolver.refs[logical_id] = url
                resolver.attributes[(logical_id, "QueueName")] = name
                resolver.attributes[(logical_id, "QueueUrl")] = url
                resolver.attributes[(logical_id, "Arn")] = f"arn:aws:sqs:{self.region}:{self.account_id}:{name}"
            elif kind == "AWS::S3::Bucket":
                resolver.refs[logical_id] = physical
                resolver.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{physical}"
            elif kind == "AWS::DynamoDB::Table":
                resolver.refs[logical_id] = physical
                resolver.attributes[(logical_id, "Arn")] = f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{physical}"
            else:
                resolver.refs[logical_id] = physical
                resolver.attributes[(logical_id, "Arn")] = f"arn:aws:local:{self.region}:{self.account_id}:{physical}"
        return resolver

    # what the template declares -----------------------------------------------------------
    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return resources_of_type(self.translated, resource_type)

    def functions(self, endpoint: str | None = None) -> dict[str, Function]:
        resolver = self.resolver(endpoint)
        code_paths = local_code_paths(self._sam)
        root = self.template_path.parent
        functions = {}
        for logical_id, resource in self.of_type("AWS::Lambda::Function").items():
            properties = resource["Properties"]
            variables = resolver.resolve(properties.get("Environment", {}).get("Variables", {}))
            functions[logical_id] = Function(
                logical_id=logical_id,
                code_path=root / code_paths[logical_id],
                handler=properties["Handler"],
                timeout=int(properties.get("Timeout", 3)),
                environment={key: str(value) for key, value in variables.items()},
                memory=int(properties.get("MemorySize", 128)),
                reserved_concurrency=int(properties["ReservedConcurrentExecutions"])
                if "ReservedConcurrentExecutions" in properties else None,
            )
        return functions

    def queue_mappings(self) -> list[QueueMapping]:
        mappings = []
        for resource in self.of_type("AWS::Lambda::EventSourceMapping").values():
            properties = resource["Properties"]
            source = properties["EventSourceArn"]
            if not (isinstance(source, dict) and "Fn::GetAtt" in source):
                continue
            queue_id = source["Fn::GetAtt"][0]
            if self.translated["Resources"][queue_id]["Type"] != "AWS::SQS::Queue":
                continue
            mappings.append(QueueMapping(
                function=properties["FunctionName"]["Ref"],
                queue_logical_id=queue_id,
                batch_size=int(properties.get("BatchSize", 10)),
                batching_window=int(properties.get("MaximumBatchingWindowInSeconds", 0)),
                report_batch_item_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
            ))
        return mappings

    def dead_letter_queues(self) -> dict[str, str]:
        """Queue logical id -> its DLQ's logical id."""
        pairs = {}
        for logical_id, resource in self.of_type("AWS::SQS::Queue").items():
            target = resource.get("Properties", {}).get("RedrivePolicy", {}).get("deadLetterTargetArn")
            if isinstance(target, dict) and "Fn::GetAtt" in target:
                pairs[logical_id] = target["Fn::GetAtt"][0]
        return pairs

    def inbox_bucket(self) -> str:
        for logical_id, resource in self.of_type("AWS::S3::Bucket").items():
            if resource.get("Properties", {}).get("NotificationConfiguration"):
                return self.physical_ids[logical_id]
        raise LookupError("the template declares no bucket with notifications (the inbox)")

    def settings_environment(self, endpoint: str | None = None) -> dict[str, str]:
        """The environment every function gets (the Globals of the template)."""
        merged: dict[str, str] = {}
        for function in self.functions(endpoint).values():
            merged.update(function.environment)
        return merged


def cloudformation_physical_ids(cloudformation, stack_name: str) -> dict[str, str]:
    """Logical id -> physical id of a deployed stack (``sam deploy`` to AWS or LocalStack)."""
    ids = {}
    paginator = cloudformation.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack_name):
        for summary in page["StackResourceSummaries"]:
            ids[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]
    return ids


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
