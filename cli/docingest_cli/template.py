"""Read template.yaml: expand SAM with aws-sam-translator, then resolve what the emulator needs.

The template is the single source of truth: the emulator creates exactly the queues, buckets and
tables declared there, and polls the event-source mappings the translator produces.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

ACCOUNT_ID = "123456789012"
LOCAL_CODE_BUCKET = "local-code"
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def load_sam(path: Path) -> dict[str, Any]:
    return yaml_parse(path.read_text(encoding="utf-8"))


def local_code_paths(sam: dict[str, Any]) -> dict[str, str]:
    """Logical id -> local CodeUri/ContentUri of each function and layer."""
    globals_uri = sam.get("Globals", {}).get("Function", {}).get("CodeUri")
    paths = {}
    for logical_id, resource in sam.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        uri = properties.get("CodeUri", globals_uri) if resource["Type"] == "AWS::Serverless::Function" else properties.get("ContentUri")
        if isinstance(uri, str) and not uri.startswith("s3://"):
            paths[logical_id] = uri
    return paths


def translate(sam: dict[str, Any], region: str = "us-east-1", parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """The template as CloudFormation after the SAM transform (local code paths become S3 stand-ins)."""
    sam = json.loads(json.dumps(sam))  # a copy the translator may change
    for logical_id, resource in sam.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
                properties[key] = f"s3://{LOCAL_CODE_BUCKET}/{logical_id}.zip"
    if isinstance(sam.get("Globals", {}).get("Function", {}).get("CodeUri"), str):
        sam["Globals"]["Function"]["CodeUri"] = f"s3://{LOCAL_CODE_BUCKET}/globals.zip"
    parameter_values = {"AWS::Region": region, "AWS::AccountId": ACCOUNT_ID, "AWS::Partition": "aws", **(parameters or {})}
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    # Offline there is no IAM to look up managed policy ARNs in: the template uses none.
    translated = translator.translate(sam, parameter_values=parameter_values, get_managed_policy_map=dict)
    translator.metrics.publish()  # to its dummy publisher; else it warns of "unpublished metrics"
    return translated


@dataclass
class Resolver:
    """Evaluates Ref, Fn::GetAtt, Fn::Sub and Fn::Join against known physical values."""

    refs: dict[str, Any] = field(default_factory=dict)
    attributes: dict[tuple[str, str], Any] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (function, argument), = value.items()
            if function == "Ref":
                return self._ref(argument)
            if function == "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self._attribute(logical_id, attribute)
            if function == "Fn::Sub":
                return self._sub(argument)
            if function == "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
        return {key: self.resolve(item) for key, item in value.items()}

    def _ref(self, name: str) -> Any:
        if name not in self.refs:
            raise KeyError(f"cannot resolve Ref {name}")
        return self.refs[name]

    def _attribute(self, logical_id: str, attribute: str) -> Any:
        if (logical_id, attribute) not in self.attributes:
            raise KeyError(f"cannot resolve Fn::GetAtt {logical_id}.{attribute}")
        return self.attributes[(logical_id, attribute)]

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], self.resolve(argument[1]))

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                return str(self._attribute(*name.split(".", 1)))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(replace, text)


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    return {name: str(spec["Default"]) for name, spec in template.get("Parameters", {}).items() if "Default" in spec}


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in template.get("Resources", {}).items() if res.get("Type") == resource_type}
