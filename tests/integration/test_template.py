"""template.yaml: valid for SAM and cfn-lint, and holding the rules the pipeline relies on."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from docingest_cli.template import load_sam, translate
from docingest_cli.template_check import checkov_translated, lint_translated
from tests.conftest import ROOT, TEMPLATE

SAM = load_sam(TEMPLATE)
CFN = translate(SAM)
RESOURCES = CFN["Resources"]


def of_type(kind):
    return {lid: r for lid, r in RESOURCES.items() if r["Type"] == kind}


def test_cfn_lint_finds_nothing_on_the_translated_template():
    assert lint_translated(TEMPLATE) == []


def test_cfn_lint_on_the_translated_template_catches_errors(tmp_path):
    broken = TEMPLATE.read_text().replace("BillingMode: PAY_PER_REQUEST", "BillingMode: PAY_PER_MOOD")
    path = tmp_path / "template.yaml"
    path.write_text(broken)
    assert any("PAY_PER_MOOD" in finding for finding in lint_translated(path))


def test_checkov_finds_nothing_on_the_translated_template():
    report = checkov_translated(TEMPLATE)
    assert report.failed == []
    assert report.passed >= 50  # it did scan: the buckets, tables, queues, log groups, functions and roles
    assert report.skipped and all("No comment provided" not in line for line in report.skipped)


def test_checkov_on_the_translated_template_catches_findings(tmp_path):
    sam = load_sam(TEMPLATE)
    del sam["Resources"]["DocumentBucketPolicy"]  # the bucket no longer denies plain HTTP
    del sam["Resources"]["SourceLineTable"]["Properties"]["PointInTimeRecoverySpecification"]
    path = tmp_path / "template.yaml"
    path.write_text(json.dumps(sam))
    failed = {line.split(":")[0] for line in checkov_translated(path).failed}
    assert failed == {"CKV2_DOCINGEST_1 DocumentBucket", "CKV_AWS_28 SourceLineTable"}


def test_sam_validate_lint():
    sam = shutil.which("sam", path=str(Path(sys.executable).parent))
    assert sam, "aws-sam-cli is a dev dependency: it must be in the venv"
    result = subprocess.run([sam, "validate", "--lint", "--region", "us-east-1", "--template", str(TEMPLATE)],
                            capture_output=True, text=True, env={**os.environ, "SAM_CLI_TELEMETRY": "0"}, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_every_function_consumes_its_queue_with_partial_batch_responses():
    functions = of_type("AWS::Lambda::Function")
    assert set(functions) == {"FetchFunction", "CleanFunction", "DetectLanguageFunction", "ExtractEntitiesFunction"}
    mappings = of_type("AWS::Lambda::EventSourceMapping").values()
    for logical_id, function in functions.items():
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.12" and properties["Architectures"] == ["arm64"]
        assert properties["Layers"], logical_id
        (mapping,) = [m["Properties"] for m in mappings if m["Properties"]["FunctionName"] == {"Ref": logical_id}]
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        queue_id = mapping["EventSourceArn"]["Fn::GetAtt"][0]
        assert queue_id == logical_id.replace("Function", "Queue")
        queue = RESOURCES[queue_id]["Properties"]
        assert int(queue["VisibilityTimeout"]) >= 6 * int(properties["Timeout"]), queue_id
        variables = properties["Environment"]["Variables"]
        for name in ("DOCUMENT_TABLE", "DOCUMENT_BUCKET", "FETCH_QUEUE_URL", "CLEAN_QUEUE_URL",
                     "DETECT_LANGUAGE_QUEUE_URL", "EXTRACT_ENTITIES_QUEUE_URL", "POWERTOOLS_SERVICE_NAME"):
            assert name in variables, (logical_id, name)


def test_every_work_queue_has_its_own_dead_letter_queue():
    queues = of_type("AWS::SQS::Queue")
    targets = []
    parameters = SAM["Parameters"]
    for logical_id in ("FetchQueue", "CleanQueue", "DetectLanguageQueue", "ExtractEntitiesQueue"):
        policy = queues[logical_id]["Properties"]["RedrivePolicy"]
        targets.append(policy["deadLetterTargetArn"]["Fn::GetAtt"][0])
        count = policy["maxReceiveCount"]
        value = int(parameters[count["Ref"]]["Default"]) if isinstance(count, dict) else int(count)
        assert 3 <= value <= 5
    assert len(set(targets)) == 4 and all(t in queues for t in targets)


def _policies(role: dict) -> list[dict]:
    """A role's inline policies, both branches of a conditional one included."""
    policies = []
    for policy in role["Properties"].get("Policies", []):
        branches = policy["Fn::If"][1:] if "Fn::If" in policy else [policy]
        policies.extend(b for b in branches if isinstance(b, dict) and "PolicyDocument" in b)
    return policies


def _grants(role: dict) -> set[tuple[str, str]]:
    """(action, resource) pairs of a role's inline policies; resources as written (``${DocumentBucket.Arn}/raw/*``)."""
    def name(resource) -> str:
        if isinstance(resource, dict) and "Fn::GetAtt" in resource:
            return ".".join(resource["Fn::GetAtt"])
        return resource["Fn::Sub"] if isinstance(resource, dict) and "Fn::Sub" in resource else resource

    grants = set()
    for policy in _policies(role):
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            grants |= {(action, name(resource)) for action in actions for resource in resources}
    return grants


def test_policies_have_no_wildcard_acl_or_lifecycle_actions():
    for role in of_type("AWS::IAM::Role").values():
        actions = {action for action, _ in _grants(role)}
        assert not any("*" in action for action in actions), actions
        assert not actions & {"s3:PutObjectAcl", "s3:PutObjectVersionAcl", "s3:PutBucketAcl", "s3:PutLifecycleConfiguration",
                              "s3:DeleteObject", "dynamodb:Scan", "dynamodb:DeleteTable"}, actions


DOCUMENT_RECORD = {("dynamodb:GetItem", "DocumentTable.Arn"), ("dynamodb:UpdateItem", "DocumentTable.Arn")}
GRANTS = {  # what each function's code calls (shared/docingest/adapters, pipeline.py), and nothing else
    "FetchFunction": DOCUMENT_RECORD | {
        ("s3:GetObject", "${InboxBucket.Arn}/*"),  # one GetObject per dropped file (no HeadObject)
        ("s3:PutObject", "${DocumentBucket.Arn}/raw/*"),
        ("dynamodb:PutItem", "DocumentTable.Arn"),
        ("dynamodb:DeleteItem", "DocumentTable.Arn"),  # a URL's earlier failure, superseded
        ("sqs:SendMessage", "CleanQueue.Arn"),
        ("sqs:SendMessage", "FetchQueue.Arn"),  # the URLs of a URL list (SendMessageBatch)
    },
    "CleanFunction": DOCUMENT_RECORD | {
        ("s3:GetObject", "${DocumentBucket.Arn}/raw/*"),
        ("s3:PutObject", "${DocumentBucket.Arn}/clean/*"),
        *{(action, "SourceLineTable.Arn") for action in ("dynamodb:BatchGetItem", "dynamodb:PutItem",  # TransactWriteItems:
                                                          "dynamodb:UpdateItem")},  # its Put and Updates
        ("sqs:SendMessage", "DetectLanguageQueue.Arn"),
    },
    "DetectLanguageFunction": DOCUMENT_RECORD | {
        ("s3:GetObject", "${DocumentBucket.Arn}/clean/*"),
        ("sqs:SendMessage", "ExtractEntitiesQueue.Arn"),
    },
    "ExtractEntitiesFunction": DOCUMENT_RECORD | {
        ("s3:GetObject", "${DocumentBucket.Arn}/clean/*"),
        ("s3:PutObject", "${DocumentBucket.Arn}/enriched/*"),
        *{(action, "EntityIndexTable.Arn") for action in ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem",
                                                           "dynamodb:BatchGetItem")},
        ("comprehend:BatchDetectEntities", "*"),  # only with EntityBackend=comprehend
    },
}


def test_each_function_holds_exactly_the_calls_its_code_makes():
    for logical_id, expected in GRANTS.items():
        role = RESOURCES[RESOURCES[logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]]
        assert _grants(role) == expected, logical_id
        # SAM's own: logs (to the function's log group) and polling the function's queue
        assert sorted(role["Properties"]["ManagedPolicyArns"]) == [
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"], logical_id


def test_buckets_are_private_encrypted_and_tls_only():
    policies = {r["Properties"]["Bucket"]["Ref"]: r["Properties"]["PolicyDocument"] for r in of_type("AWS::S3::BucketPolicy").values()}
    for logical_id, bucket in of_type("AWS::S3::Bucket").items():
        properties = bucket["Properties"]
        assert all(properties["PublicAccessBlockConfiguration"].values()), logical_id
        (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        (statement,) = policies[logical_id]["Statement"]
        assert statement["Effect"] == "Deny" and statement["Principal"] == "*" and statement["Action"] == "s3:*"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert statement["Resource"] == [{"Fn::GetAtt": [logical_id, "Arn"]}, {"Fn::Sub": f"${{{logical_id}.Arn}}/*"}]


def test_documents_and_records_are_versioned_backed_up_and_retained():
    bucket = RESOURCES["DocumentBucket"]
    assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    retained = ["DocumentBucket", *of_type("AWS::DynamoDB::Table")]
    assert sorted(retained) == ["DocumentBucket", "DocumentTable", "EntityIndexTable", "SourceLineTable"]
    for logical_id in retained:
        assert RESOURCES[logical_id]["DeletionPolicy"] == RESOURCES[logical_id]["UpdateReplacePolicy"] == "Retain", logical_id
    for logical_id, table in of_type("AWS::DynamoDB::Table").items():
        assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, logical_id


def test_queues_keep_messages_14_days_encrypted():
    for logical_id, queue in of_type("AWS::SQS::Queue").items():
        assert queue["Properties"]["MessageRetentionPeriod"] == 1209600, logical_id
        assert queue["Properties"]["SqsManagedSseEnabled"] is True, logical_id  # why checkov's CKV_AWS_27 is skipped


def test_each_function_logs_to_its_own_log_group_with_retention():
    groups = of_type("AWS::Logs::LogGroup")
    functions = of_type("AWS::Lambda::Function")
    assert len(groups) == len(functions)
    assert SAM["Parameters"]["LogRetentionDays"]["Default"] == 30
    for logical_id, function in functions.items():
        properties = function["Properties"]
        group_id = properties["LoggingConfig"]["LogGroup"]["Ref"]
        group = groups[group_id]["Properties"]
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        # named after the function, as Lambda would name it: nothing else creates a second log group
        assert group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/" + properties["FunctionName"]["Fn::Sub"]}, logical_id


def test_results_never_retrigger_the_pipeline():
    buckets = of_type("AWS::S3::Bucket")
    with_notifications = [lid for lid, b in buckets.items() if b["Properties"].get("NotificationConfiguration")]
    assert with_notifications == ["InboxBucket"]
    variables = RESOURCES["FetchFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["DOCUMENT_BUCKET"] == {"Ref": "DocumentBucket"}


def test_document_table_is_on_demand_with_status_and_language_indexes():
    table = RESOURCES["DocumentTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    indexes = {index["IndexName"]: index["KeySchema"][0]["AttributeName"] for index in table["GlobalSecondaryIndexes"]}
    assert indexes == {"by-status": "status", "by-language": "language"}


def test_entity_index_ranks_entities_by_type_and_only_comprehend_gets_comprehend():
    table = RESOURCES["EntityIndexTable"]["Properties"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    (index,) = table["GlobalSecondaryIndexes"]
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["entity_type", "mention_count"]
    function = RESOURCES["ExtractEntitiesFunction"]["Properties"]
    assert function["Environment"]["Variables"]["ENTITY_INDEX_TABLE"] == {"Ref": "EntityIndexTable"}
    role = RESOURCES[function["Role"]["Fn::GetAtt"][0]]
    conditional = [p for p in role["Properties"]["Policies"] if "Fn::If" in p]
    assert [p["Fn::If"][0] for p in conditional] == ["UseComprehend"]
    assert SAM["Conditions"]["UseComprehend"] == {"Fn::Equals": [{"Ref": "EntityBackend"}, "comprehend"]}
    others = [r for lid, r in of_type("AWS::IAM::Role").items() if r is not role]
    assert not any("comprehend" in str(r) for r in others)


def test_outputs_name_the_resources_a_user_needs():
    outputs = SAM["Outputs"]
    for name in ("InboxBucketName", "DocumentBucketName", "DocumentTableName", "FetchQueueUrl", "FetchDeadLetterQueueUrl"):
        assert name in outputs


def test_layer_ships_the_shared_package_and_its_pinned_requirements():
    layer = SAM["Resources"]["SharedLayer"]
    assert layer["Properties"]["ContentUri"] == "shared/"
    assert (ROOT / "shared" / "docingest" / "pipeline.py").exists()
    lines = (ROOT / "shared" / "requirements.txt").read_text().splitlines()
    requirements = [line for line in lines if line.strip() and not line.startswith("#")]
    assert requirements and all("==" in line for line in requirements)
    assert not any(line.lower().startswith(("moto", "pytest", "torch")) for line in requirements)


def test_sample_events_exist_for_every_function_and_match_the_samples():
    import hashlib

    events = {path.name for path in (ROOT / "events").glob("*.json")}
    assert {"fetch-s3-notification.json", "fetch-s3-notification-moto.json", "fetch-url.json", "clean.json",
            "detect-language.json", "extract-entities.json"} <= events
    doc_id = hashlib.sha256((ROOT / "samples/en/council-vote.txt").read_bytes()).hexdigest()
    for name in ("clean.json", "detect-language.json", "extract-entities.json"):
        body = json.loads(json.loads((ROOT / "events" / name).read_text())["Records"][0]["body"])
        assert body == {"doc_id": doc_id}, name
