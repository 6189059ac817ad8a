"""The entity index on DynamoDB: for each canonical entity, the documents that mention it.

One table, three kinds of item (``pk``, ``sk``):

- ``ENTITY#<key>``, ``#SUMMARY``: type, display name, total mentions, documents, languages;
  the GSI ``by-type`` (entity_type, mention_count) ranks entities of a type;
- ``ENTITY#<key>``, ``DOC#<doc_id>``: mentions in that document, its language, the first sentence;
- ``ALIAS#<name>``, ``ENTITY#<key>``: a canonical name a search may use ("putin") -> the entity.

Adding a document is idempotent: its ``DOC#`` item is written with a condition in the same
transaction as the summary's increments, so a redelivered document changes no count.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from docingest.adapters.aws import resource
from docingest.stages.entity_keys import EntityMentions, search_names

SUMMARY = "#SUMMARY"
TYPE_INDEX = "by-type"
ENTITY_TYPES = ("PER", "ORG", "LOC", "MISC")
_ENTITIES_PER_TRANSACTION = 50  # two actions each; a transaction takes up to 100


@dataclass(frozen=True)
class EntityDocument:
    key: str
    doc_id: str
    name: str
    mentions: int
    language: str | None
    first_sentence: str


class EntityIndex:
    def __init__(self, table_name: str, dynamodb=None):
        self.table = (dynamodb or resource("dynamodb")).Table(table_name)
        self.client = self.table.meta.client

    # writing ------------------------------------------------------------------------------

    def add_document(self, doc_id: str, language: str | None, entities: list[EntityMentions]) -> int:
        """Index a document's entities once; returns how many entities were newly counted."""
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        added = 0
        for first in range(0, len(entities), _ENTITIES_PER_TRANSACTION):
            batch = entities[first:first + _ENTITIES_PER_TRANSACTION]
            try:
                self._transact([a for e in batch for a in self._actions(doc_id, language, e, now)])
                added += len(batch)
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                added += sum(self._add_one(doc_id, language, entity, now) for entity in batch)
        self._put_aliases(entities)
        return added

    def _add_one(self, doc_id: str, language: str | None, entity: EntityMentions, now: str) -> bool:
        try:
            self._transact(self._actions(doc_id, language, entity, now))
            return True
        except ClientError as error:
            reasons = error.response.get("CancellationReasons") or []
            if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                return False  # indexed by an earlier delivery
            raise

    def _transact(self, actions: list[dict[str, Any]]) -> None:
        self.client.transact_write_items(TransactItems=actions)

    def _actions(self, doc_id: str, language: str | None, entity: EntityMentions, now: str) -> list[dict[str, Any]]:
        pk = f"ENTITY#{entity.key}"
        item = {"pk": pk, "sk": f"DOC#{doc_id}", "doc_id": doc_id, "entity_key": entity.key, "name": entity.name,
                "mentions": entity.mentions, "first_sentence": entity.first_sentence, "indexed_at": now}
        if language:
            item["language"] = language
        update_values: dict[str, Any] = {":m": entity.mentions, ":one": 1, ":t": entity.type, ":n": entity.name,
                                         ":k": entity.key, ":now": now}
        update = "ADD mention_count :m, document_count :one SET entity_type = :t, entity_key = :k, updated_at = :now, " \
                 "#name = if_not_exists(#name, :n)"
        if language:
            update = update.replace("document_count :one", "document_count :one, languages :langs")
            update_values[":langs"] = {language}
        return [
            {"Put": {"TableName": self.table.name, "Item": item,
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": {"TableName": self.table.name, "Key": {"pk": pk, "sk": SUMMARY},
                        "UpdateExpression": update, "ExpressionAttributeNames": {"#name": "name"},
                        "ExpressionAttributeValues": update_values}},
        ]

    def _put_aliases(self, entities: Iterable[EntityMentions]) -> None:
        items = {(f"ALIAS#{alias}", f"ENTITY#{e.key}"): e for e in entities for alias in e.aliases}
        existing = self._existing(list(items))
        missing = {key: entity for key, entity in items.items() if key not in existing}
        with self.table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for (pk, sk), entity in missing.items():
                batch.put_item(Item={"pk": pk, "sk": sk, "entity_key": entity.key, "entity_type": entity.type})

    def _existing(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (pk, sk) items exist: a read is a fifth of a write's price, and most aliases exist already."""
        found: set[tuple[str, str]] = set()
        for start in range(0, len(keys), 100):
            request = {self.table.name: {"Keys": [{"pk": pk, "sk": sk} for pk, sk in keys[start:start + 100]],
                                         "ProjectionExpression": "pk, sk"}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                found.update((item["pk"], item["sk"]) for item in response["Responses"].get(self.table.name, []))
                request = response.get("UnprocessedKeys") or None
        return found

    # reading ------------------------------------------------------------------------------

    def top(self, entity_type: str | None = None, language: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The most mentioned entities, optionally of one type and mentioned in one language."""
        types = [entity_type] if entity_type else list(ENTITY_TYPES)
        found: list[dict[str, Any]] = []
        for kind in types:
            found.extend(self._top_of_type(kind, language, limit))
        found.sort(key=lambda item: (-int(item["mention_count"]), item["entity_key"]))
        return [_summary(item) for item in found[:limit]]

    def _top_of_type(self, kind: str, language: str | None, limit: int) -> Iterator[dict[str, Any]]:
        query: dict[str, Any] = {"IndexName": TYPE_INDEX, "KeyConditionExpression": Key("entity_type").eq(kind),
                                 "ScanIndexForward": False}
        if language:
            query["FilterExpression"] = Attr("languages").contains(language)
        returned = 0
        while returned < limit:
            page = self.table.query(**query)
            for item in page["Items"]:
                if returned < limit:
                    returned += 1
                    yield item
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def entity(self, key: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"pk": f"ENTITY#{key}", "sk": SUMMARY}).get("Item")
        return _summary(item) if item else None

    def documents(self, key: str) -> list[EntityDocument]:
        items = self._query_all(Key("pk").eq(f"ENTITY#{key}") & Key("sk").begins_with("DOC#"))
        documents = [EntityDocument(key, item["doc_id"], item["name"], int(item["mentions"]), item.get("language"),
                                    item.get("first_sentence", "")) for item in items]
        return sorted(documents, key=lambda d: (-d.mentions, d.doc_id))

    def search(self, name: str) -> list[str]:
        """Keys of the entities a name may stand for: exact canonical names first, then aliases."""
        keys: list[str] = []
        for canonical in search_names(name):
            for kind in ENTITY_TYPES:
                if self.entity(f"{kind}:{canonical}"):
                    keys.append(f"{kind}:{canonical}")
            keys.extend(item["entity_key"] for item in self._query_all(Key("pk").eq(f"ALIAS#{canonical}")))
        return list(dict.fromkeys(keys))

    def _query_all(self, condition) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"KeyConditionExpression": condition}
        items: list[dict[str, Any]] = []
        while True:
            page = self.table.query(**query)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return items
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _summary(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": item["entity_key"],
        "type": item["entity_type"],
        "name": item.get("name", ""),
        "mentions": int(item.get("mention_count", 0)),
        "documents": int(item.get("document_count", 0)),
        "languages": sorted(item.get("languages", set())),
    }
