"""Fixes for moto's speed as the emulator's engine (behaviour stays AWS's; nothing here reaches Lambda).

- moto's dispatcher lists its package folder on every request, under a lock (~15 ms each): the list
  never changes while it runs, so it is computed once.
- moto's TransactWriteItems deep-copies every table it touches, once per action, to roll back on
  failure: with the entity index that is quadratic in the table's size (minutes per document after a
  few hundred documents). The patched version snapshots only the items the transaction touches and
  restores them when moto cancels the transaction.
- moto's ReceiveMessage checks each message it returns against the queue's retention period by building
  all the queue's attributes, whose message counts walk every message: O(queue length) per message
  received. The patched check reads the retention period alone.
- moto's UpdateItem parses, validates and runs every update expression through a generic AST (about
  3 ms each, 40 per entity-index transaction). Expressions of the plain form the pipeline writes
  (``SET a = :v``, ``SET a = if_not_exists(b, :v)``, ``ADD a :n`` on top-level attributes,
  ``REMOVE a``) are applied directly, with moto's own condition check, types and size limit; any
  other expression, and any request moto would refuse, takes moto's own path (which then answers).
  tests/integration/test_moto_fast_update.py compares the two on random requests.
- moto parses the same condition expressions again and again (the advance condition of every document):
  parsed once per distinct expression and placeholder values.
- moto's SendMessage builds all of a standard queue's attributes (counting every message) to read one
  that a standard queue does not have: answered without them.
- moto lists a response class's methods on every request: once per class.
- moto's request layer parses every update and condition expression again to list its placeholders:
  parsed, and their placeholders listed, once per distinct expression (it only reads them).
- moto projects an item (ProjectionExpression) by converting all of it to plain JSON and back, once per
  projected path: top-level attribute names are copied directly; nested paths take moto's way.
- moto draws its random identifiers (request ids, receipt handles) one character per call: drawn in one
  call, from the same seedable generator and alphabet.
- moto reads every DynamoDB request and writes every response by walking botocore's shape model
  (a quarter of its time in the pipeline). DynamoDB speaks plain JSON: requests without binary
  attribute values are read with ``json.loads``, and results made only of strings, numbers,
  booleans, lists and maps (no binary, no null) are written with ``json.dumps``; anything else takes
  moto's model walk. tests/integration/test_moto_json.py compares the parsed answers both ways.
"""
from __future__ import annotations

import copy
import functools
import json
import re
import threading
import types
from typing import Any


def cache_module_list() -> None:
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = functools.cache(lambda: modules)


def item_level_transaction_rollback() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    if getattr(models.DynamoDBBackend.transact_write_items, "_item_level_rollback", False):
        return
    original = models.DynamoDBBackend.transact_write_items

    def deepcopy_except_tables(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    models.copy = types.SimpleNamespace(deepcopy=deepcopy_except_tables, copy=copy.copy)

    def transact_write_items(self, transact_items: list[dict[str, Any]]) -> None:
        snapshots = [_snapshot(self, item) for item in transact_items]
        try:
            original(self, transact_items)
        except Exception:  # TransactionCanceledException and moto's validation errors: nothing may stay
            _restore(self, snapshots)
            raise

    transact_write_items._item_level_rollback = True
    models.DynamoDBBackend.transact_write_items = transact_write_items


def _snapshot(backend, item: dict[str, Any]):
    op_type, op = next(iter(item.items()))
    try:
        table = backend.get_table(op["TableName"])
        if op_type == "Put":
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        current = backend.get_item(op["TableName"], key)
    except Exception:  # noqa: BLE001  (moto reports the bad request itself)
        return None
    return op["TableName"], key, _copied(current.to_json()["Attributes"]) if current else None


def _copied(attributes: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of an item's JSON (a JSON round trip is several times faster than deepcopy)."""
    try:
        return json.loads(json.dumps(attributes))
    except (TypeError, ValueError):  # binary values
        return copy.deepcopy(attributes)


def _restore(backend, snapshots) -> None:
    for snapshot in reversed(snapshots):
        if snapshot is None:
            continue
        table_name, key, attributes = snapshot
        if attributes is None:
            if backend.get_item(table_name, key) is not None:
                backend.delete_item(table_name, key)
        else:
            backend.put_item(table_name, attributes)


def retention_check_without_queue_attributes() -> None:
    from moto.sqs import models

    def is_message_valid_based_on_retention_period(self, queue_name: str, message: Any) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return retention_period + message.sent_timestamp / 1000 > models.unix_time()

    models.SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period


# plain update expressions -------------------------------------------------------------------------

_CLAUSE = re.compile(r"\b(SET|ADD|REMOVE|DELETE)\b", re.IGNORECASE)
_PATH = r"(#[A-Za-z0-9_]+|[A-Za-z][A-Za-z0-9_]*)"
_VALUE = r"(:[A-Za-z0-9_]+)"
_SET_VALUE = re.compile(rf"^\s*{_PATH}\s*=\s*{_VALUE}\s*$")
_SET_IF_NOT_EXISTS = re.compile(rf"^\s*{_PATH}\s*=\s*if_not_exists\s*\(\s*{_PATH}\s*,\s*{_VALUE}\s*\)\s*$")
_ADD = re.compile(rf"^\s*{_PATH}\s+{_VALUE}\s*$")
_REMOVE = re.compile(rf"^\s*{_PATH}\s*$")


def plain_update_plan(expression: str, names: dict[str, str] | None, values: dict[str, Any] | None,
                      condition: str | None = None) -> list[tuple[str, ...]] | None:
    """The actions of a plain update expression, or None when moto's own path must take it.

    Actions: ("SET", name, value_key), ("SET_IF_NOT_EXISTS", name, source_name, value_key),
    ("ADD", name, value_key), ("REMOVE", name). Every placeholder must resolve, every attribute
    appear once, and plain names must not be reserved words (moto's path reports those errors).
    """
    from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords

    names, values = names or {}, values or {}
    plan = _parsed_actions(expression)
    if plan is None:
        return None
    reserved = _reserved_words(ReservedKeywords)
    used_names: set[str] = set()
    used_values: set[str] = set()

    def name_of(token: str) -> str | None:
        if token.startswith("#"):
            used_names.add(token)
            return names.get(token)
        return None if token.upper() in reserved else token

    resolved: list[tuple[str, ...]] = []
    targets: set[str] = set()
    for kind, *operands in plan:
        tokens = operands[:-1] if kind != "REMOVE" else operands
        attribute_names = [name_of(token) for token in tokens]
        if None in attribute_names or attribute_names[0] in targets:
            return None
        targets.add(attribute_names[0])
        if kind == "REMOVE":
            resolved.append((kind, attribute_names[0]))
            continue
        value_key = operands[-1]
        value = values.get(value_key)
        if not isinstance(value, dict) or len(value) != 1:
            return None
        value_type, content = next(iter(value.items()))
        if value_type in ("SS", "NS", "BS") and not content:
            return None
        if kind == "ADD" and value_type not in ("N", "SS", "NS", "BS"):
            return None
        used_values.add(value_key)
        resolved.append((kind, *attribute_names, value_key))
    if condition:  # its placeholders count as used (moto parses and checks the condition itself)
        used_names.update(re.findall(r"#[A-Za-z0-9_]+", condition))
        used_values.update(re.findall(r":[A-Za-z0-9_]+", condition))
    if used_names != set(names) or used_values != set(values):
        return None  # moto reports unused placeholders
    return resolved


@functools.lru_cache(maxsize=1024)
def _parsed_actions(expression: str) -> tuple[tuple[str, ...], ...] | None:
    """The actions of an update expression as written (placeholders unresolved), or None if not plain."""
    parts = _CLAUSE.split(expression)
    if parts[0].strip() or len(parts) < 3:
        return None
    clauses_seen: set[str] = set()
    plan: list[tuple[str, ...]] = []
    for keyword, body in zip(parts[1::2], parts[2::2]):
        keyword = keyword.upper()
        if keyword == "DELETE" or keyword in clauses_seen or not body.strip():
            return None
        clauses_seen.add(keyword)
        for action in re.split(r",(?![^()]*\))", body):  # not the comma inside if_not_exists(...)
            if keyword == "SET":
                if match := _SET_VALUE.match(action):
                    plan.append(("SET", match.group(1), match.group(2)))
                elif match := _SET_IF_NOT_EXISTS.match(action):
                    plan.append(("SET_IF_NOT_EXISTS", match.group(1), match.group(2), match.group(3)))
                else:
                    return None
            elif keyword == "ADD":
                if not (match := _ADD.match(action)):
                    return None
                plan.append(("ADD", match.group(1), match.group(2)))
            elif not (match := _REMOVE.match(action)):
                return None
            else:
                plan.append(("REMOVE", match.group(1)))
    return tuple(plan)


@functools.cache
def _reserved_words(keywords: Any) -> frozenset[str]:
    return frozenset(word.upper() for word in keywords.get_reserved_keywords())


def plain_update_items() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.exceptions import ConditionalCheckFailed, ItemSizeTooLarge, ItemSizeToUpdateTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType

    if getattr(models.DynamoDBBackend.update_item, "_plain_updates", False):
        return
    original = models.DynamoDBBackend.update_item

    def update_item(self, table_name: str, key: dict[str, Any], update_expression: str,
                    expression_attribute_names: dict[str, Any], expression_attribute_values: dict[str, Any],
                    attribute_updates: dict[str, Any] | None = None, expected: dict[str, Any] | None = None,
                    condition_expression: str | None = None,
                    return_values_on_condition_check_failure: str | None = None) -> Any:
        arguments = (self, table_name, key, update_expression, expression_attribute_names, expression_attribute_values,
                     attribute_updates, expected, condition_expression, return_values_on_condition_check_failure)
        plan = plain_update_plan(update_expression, expression_attribute_names, expression_attribute_values,
                                 condition_expression) if update_expression and not attribute_updates and not expected else None
        table = self.tables.get(table_name)
        if plan is None or table is None or table.stream_shard is not None:
            return original(*arguments)
        key_attributes = {table.hash_key_attr, table.range_key_attr}
        paths = {name for kind, *operands in plan for name in (operands if kind == "REMOVE" else operands[:-1])}
        if set(key) != key_attributes - {None} or paths & key_attributes:
            return original(*arguments)
        declared = {definition["AttributeName"]: definition["AttributeType"] for definition in table.attr}
        if any(len(value) != 1 or next(iter(value)) != declared.get(name) for name, value in key.items()):
            return original(*arguments)
        index_types = _index_key_types(table)
        for kind, name, *rest in plan:
            if kind != "REMOVE" and name in index_types:
                if next(iter(expression_attribute_values[rest[-1]])) != index_types[name]:
                    return original(*arguments)
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        item = table.get_item(hash_value, range_value)
        for kind, name, *rest in plan:  # ADD onto an attribute of another type: moto's error
            if kind == "ADD" and item is not None and name in item.attrs:
                if item.attrs[name].type != next(iter(expression_attribute_values[rest[-1]])):
                    return original(*arguments)
        condition = cached_condition(condition_expression, expression_attribute_names, expression_attribute_values)
        if not condition.expr(item):
            if return_values_on_condition_check_failure == "ALL_OLD" and item is not None:
                raise ConditionalCheckFailed(item=item.to_json()["Attributes"])
            raise ConditionalCheckFailed
        if item is None:
            data = {table.hash_key_attr: key[table.hash_key_attr]}
            if range_value is not None:
                data[table.range_key_attr] = key[table.range_key_attr]
            table.put_item(data)
            item = table.get_item(hash_value, range_value)
        try:
            _apply_plan(item, plan, expression_attribute_values, DynamoType)
        except ItemSizeTooLarge:
            raise ItemSizeToUpdateTooLarge()
        return item

    update_item._plain_updates = True
    update_item.moto_update_item = original
    models.DynamoDBBackend.update_item = update_item


def _index_key_types(table: Any) -> dict[str, str]:
    """Attribute name -> declared type, for the keys of the table's secondary indexes."""
    declared = {definition["AttributeName"]: definition["AttributeType"] for definition in table.attr}
    names = {schema["AttributeName"] for index in (*table.global_indexes, *table.indexes) for schema in index.schema}
    return {name: declared[name] for name in names if name in declared}


def _apply_plan(item: Any, plan: list[tuple[str, ...]], values: dict[str, Any], dynamo_type: type) -> None:
    """Operands are read from the item as it was before the update (DynamoDB's rule), then applied in order;
    the item's size is checked once, on the result (moto checks it again at every attribute set)."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge

    attributes = dict(item.attrs)
    resolved = []
    for kind, name, *rest in plan:
        value = None if kind == "REMOVE" else dynamo_type(_value_copy(values[rest[-1]]))
        if kind == "SET_IF_NOT_EXISTS" and rest[0] in attributes:
            # the attribute's own value stays as it is; another attribute's is copied (ADD changes sets in place)
            value = attributes[rest[0]] if rest[0] == name else copy.deepcopy(attributes[rest[0]])
        resolved.append((kind, name, value))
    for kind, name, value in resolved:
        if kind == "REMOVE":
            attributes.pop(name, None)
        elif kind in ("SET", "SET_IF_NOT_EXISTS"):
            attributes[name] = value
        elif value.type == "N":
            attributes[name] = attributes[name] + value if name in attributes else dynamo_type({"N": "0"}) + value
        else:  # a set, as moto adds to one: an empty set of the type first, then each new element
            if name not in attributes:
                attributes[name] = dynamo_type({value.type: []})
            current = attributes[name]
            for element in value.value:
                if element not in current.value:
                    current.value.append(element)
    if _item_size(attributes) > MAX_ITEM_BYTES:
        raise ItemSizeTooLarge
    dict.clear(item.attrs)
    dict.update(item.attrs, attributes)


def _value_copy(value: dict[str, Any]) -> dict[str, Any]:
    """A request's attribute value, copied so that the item never shares it: scalars need no copy, a set's
    list is copied, lists and maps are copied deeply."""
    (kind, inner), = value.items() if len(value) == 1 else ((None, value),)
    if kind is None or isinstance(inner, dict) or (isinstance(inner, list) and kind not in ("SS", "NS", "BS")):
        return copy.deepcopy(value)
    return {kind: list(inner)} if isinstance(inner, list) else {kind: inner}


MAX_ITEM_BYTES = 405_000  # moto's LimitedSizeDict limit (DynamoDB's 400 KB, as measured by moto's authors)


def _item_size(attributes: dict[str, Any]) -> int:
    """moto's size of an item (``DynamoType.size``), strings, numbers and their sets counted inline."""
    from moto.dynamodb.models.utilities import bytesize

    return sum(bytesize(key) + _attribute_size(value) for key, value in attributes.items())


def _attribute_size(value: Any) -> int:
    kind, inner = value.type, value.value
    if kind == "S" and isinstance(inner, str):
        return len(inner.encode("utf-8"))
    if kind == "N":
        return len(str(inner))
    if kind == "SS" and all(isinstance(element, str) for element in inner):
        return sum(len(element.encode("utf-8")) for element in inner)
    return value.size()


def items_sized_once() -> None:
    """moto builds an item's attributes one at a time, summing the size of all of them at each step:
    quadratic in the attributes (an eighth of moto's time on the pipeline's 25-attribute records). The
    patched constructor sums them once, with the same limit and the same error."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    if getattr(Item.__init__, "_sized_once", False):
        return

    def __init__(self, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        values = {key: DynamoType(value) for key, value in attrs.items()}
        if _item_size(values) > MAX_ITEM_BYTES:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict()
        dict.update(self.attrs, values)

    __init__._sized_once = True
    __init__.moto_init = Item.__init__
    Item.__init__ = __init__


# DynamoDB's JSON both ways ------------------------------------------------------------------------

JSON_SHORTCUTS = True  # tests switch it off to compare with moto's own reading and writing


def dynamodb_plain_json() -> None:
    import json

    from moto.core import responses

    if getattr(responses.BaseResponse.parse_parameters, "_plain_json", False):
        return
    parse_parameters, serialized = responses.BaseResponse.parse_parameters, responses.BaseResponse.serialized

    def parse(self, request: Any) -> None:
        if JSON_SHORTCUTS and self.service_name == "dynamodb":
            body = request.data
            if b'"B' not in body and b"null" not in body:  # binary values and nulls: the model walk decodes or drops them
                try:
                    params = json.loads(body) if body else {}
                except ValueError:
                    params = None
                if isinstance(params, dict):
                    self.params = params
                    return
        parse_parameters(self, request)

    def serialize(self, action_result: Any) -> Any:
        result = action_result.result
        if JSON_SHORTCUTS and self.service_name == "dynamodb" and isinstance(result, dict) and _plain(result):
            headers = {"Content-Type": "application/x-amz-json-1.0"}
            headers.update(self.response_headers)
            return 200, headers, json.dumps(result, separators=(",", ":"))
        return serialized(self, action_result)

    parse._plain_json = True
    responses.BaseResponse.parse_parameters = parse
    responses.BaseResponse.serialized = serialize


def _plain(value: Any) -> bool:
    """Only what JSON writes the same as the model walk: str, int, float, bool, lists and maps of them."""
    if isinstance(value, dict):
        return all(isinstance(key, str) and key not in ("B", "BS") and _plain(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    return isinstance(value, (str, int, float)) and not (isinstance(value, float) and value != value)


def cached_update_parses_for_validation() -> None:
    """moto's request layer parses each update expression only to list its placeholders: it reads the
    tree and never changes it, so one parse per distinct expression serves them all (the backend, which
    does change its tree, keeps parsing its own)."""
    from moto.dynamodb import responses

    if getattr(responses.UpdateExpressionParser, "_cached", False):
        return
    parser = responses.UpdateExpressionParser

    class CachedUpdateExpressionParser:
        _cached = True
        make = staticmethod(functools.lru_cache(maxsize=4096)(lambda expression: _ClausesListedOnce(parser.make(expression))))

    responses.UpdateExpressionParser = CachedUpdateExpressionParser
    responses.create_condition_expression_parser = _PlaceholdersOfCondition


class _ClausesListedOnce:
    """An update expression's tree as moto's request layer reads it: the clauses of each kind, found once."""

    def __init__(self, tree: Any) -> None:
        self._tree = tree
        self._found: dict[tuple, list] = {}

    def find_clauses(self, kinds: list[type]) -> list:
        key = tuple(kinds)
        if key not in self._found:
            self._found[key] = self._tree.find_clauses(kinds)
        return list(self._found[key])


class _PlaceholdersOfCondition:
    """What moto's request layer reads of a condition parser (``parse()`` and the placeholders it found,
    fresh lists that moto may extend), from one parse per distinct expression."""

    def __init__(self, expression: str | None, names: dict[str, str] | None, values: dict[str, Any] | None) -> None:
        self._arguments = (expression, names, values)
        self.expr_attr_names_found: list[str] = []
        self.expr_attr_values_found: list[str] = []

    def parse(self) -> Any:
        condition, names_found, values_found = _condition(*self._arguments)
        self.expr_attr_names_found, self.expr_attr_values_found = list(names_found), list(values_found)
        return condition


# condition expressions ------------------------------------------------------------------------------


def cached_condition(expression: str | None, names: dict[str, str] | None, values: dict[str, Any] | None) -> Any:
    """moto's parse of a condition or filter expression, once per distinct expression and the placeholders it
    uses (the pipeline's advance condition is the same for every document of a stage)."""
    return _condition(expression, names, values)[0]


def _condition(expression: str | None, names: dict[str, str] | None,
               values: dict[str, Any] | None) -> tuple[Any, tuple[str, ...], tuple[str, ...]]:
    """The parsed condition and the name and value placeholders moto's parser found in it."""
    if not expression:
        return _parse_condition(expression, (), "{}")
    used_names = tuple(sorted((k, v) for k, v in (names or {}).items() if k in expression))
    try:
        used_values = json.dumps({k: v for k, v in (values or {}).items() if k in expression}, sort_keys=True)
    except (TypeError, ValueError):  # not JSON (bytes): parsed every time
        return _parse_condition.__wrapped__(expression, used_names, None, values)
    return _parse_condition(expression, used_names, used_values)


@functools.lru_cache(maxsize=4096)
def _parse_condition(expression: str | None, names: tuple, values: str | None,
                     unlisted_values: dict[str, Any] | None = None) -> tuple[Any, tuple[str, ...], tuple[str, ...]]:
    from moto.dynamodb.comparisons import ConditionExpressionParser

    parser = ConditionExpressionParser(expression, dict(names), json.loads(values) if values is not None else unlisted_values)
    condition = parser.parse()
    return condition, tuple(parser.expr_attr_names_found), tuple(parser.expr_attr_values_found)


def cached_conditions() -> None:
    from moto.dynamodb import models

    models.get_filter_expression = cached_condition


# SQS ---------------------------------------------------------------------------------------------------


def send_without_queue_attributes() -> None:
    """moto's SendMessage reads ``queue.attributes["ContentBasedDeduplication"]`` by building all of the
    queue's attributes, whose message counts walk every message: O(queue length) per message sent. For a
    standard queue that attribute does not exist, so the lookup is answered without building them."""
    import threading

    from moto.sqs import models

    if getattr(models.SQSBackend.send_message, "_no_attributes", False):
        return
    sending = threading.local()
    attributes, send_message = models.Queue.attributes, models.SQSBackend.send_message

    def queue_attributes(self) -> dict[str, Any]:
        if getattr(sending, "queue", None) is self:  # a standard queue, inside send_message: see above
            return {}
        return attributes.fget(self)

    def send(self, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        queue = self.get_queue(queue_name)
        if queue.fifo_queue:
            return send_message(self, queue_name, message_body, *args, **kwargs)
        sending.queue = queue
        try:
            return send_message(self, queue_name, message_body, *args, **kwargs)
        finally:
            sending.queue = None

    send._no_attributes = True
    models.Queue.attributes = property(queue_attributes)
    models.SQSBackend.send_message = send


def cached_method_names() -> None:
    """moto lists a response class's methods (``inspect.getmembers``) on every request to find the action:
    a class's methods do not change while the server runs, so the list is made once per class."""
    from moto.core import responses

    if getattr(responses.method_names_from_class, "cache_info", None):
        return
    original = responses.method_names_from_class
    responses.method_names_from_class = functools.cache(lambda clazz: frozenset(original(clazz)))


def projections_copied() -> None:
    from moto.dynamodb.models.dynamo_type import Item

    if getattr(Item.project, "_copied", False):
        return
    original = Item.project

    def project(self, projection_expressions: list[list[str]]) -> Any:
        if not all(len(path) == 1 and not _LIST_ELEMENT.match(path[0]) for path in projection_expressions):
            return original(self, projection_expressions)
        names = [path[0] for path in projection_expressions]
        attributes = {name: self.attrs[name].to_regular_json() for name in names if name in self.attrs}
        return Item(hash_key=self.hash_key, range_key=self.range_key, attrs=attributes)

    project._copied = True
    project.moto_project = original
    Item.project = project


_LIST_ELEMENT = re.compile(r"(.+)\[(\d+)\]$")  # moto's reading of ``a[1]`` in a projected path


def random_identifiers_in_one_draw() -> None:
    import string

    from moto.moto_api._internal.moto_random import HEX_CHARS, MotoRandom
    from moto.sqs import models as sqs_models

    if getattr(MotoRandom.get_random_string, "_one_draw", False):
        return

    def get_random_hex(self, length: int = 8) -> str:
        return "".join(map(str, self.choices(HEX_CHARS, k=length)))

    def get_random_string(self, length: int = 20, include_digits: bool = True, lower_case: bool = False) -> str:
        drawn = "".join(self.choices(string.ascii_letters + (string.digits if include_digits else ""), k=length))
        return drawn.lower() if lower_case else drawn

    def generate_receipt_handle() -> str:  # moto's: 185 lower-case letters
        return "".join(sqs_models.random.choices(string.ascii_lowercase, k=185))

    get_random_string._one_draw = True
    MotoRandom.get_random_hex, MotoRandom.get_random_string = get_random_hex, get_random_string
    sqs_models.generate_receipt_handle = generate_receipt_handle


def apply() -> None:
    projections_copied()
    random_identifiers_in_one_draw()
    index_queries_prefiltered()
    items_sized_once()
    cached_method_names()
    dynamodb_plain_json()
    cached_conditions()
    send_without_queue_attributes()
    cached_update_parses_for_validation()
    cache_module_list()
    item_level_transaction_rollback()
    retention_check_without_queue_attributes()
    plain_update_items()


# Queries on a secondary index ------------------------------------------------------------------


_query_candidates = threading.local()


def index_queries_prefiltered() -> None:
    """moto answers a query on a secondary index by sorting every item of the table, then sizing and
    range-checking each one that has the index's hash key: `ingest run`'s look for finished documents
    (status = DONE, updated_at >= t) cost a seventh of moto's time. The patched query first picks the
    items moto's loop would consider (``_index_candidates``: plain string comparisons instead of moto's
    typed ones), and runs moto's own query on those alone: same order, pages, counts and projections.
    Other queries are moto's."""
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_prefiltered", False):
        return
    original_query, original_all_items = Table.query, Table.all_items

    def all_items(self) -> list[Any]:
        candidates = getattr(_query_candidates, "items", None)
        if candidates is not None and getattr(_query_candidates, "table", None) is self:
            return sorted(candidates, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)
        return original_all_items(self)

    def query(self, hash_key: Any, range_comparison: Any, range_objs: Any, limit: Any, exclusive_start_key: Any,
              scan_index_forward: Any, projection_expressions: Any, index_name: str | None = None, *args: Any,
              hash_key_conditions: Any = None, range_key_conditions: Any = None, **kwargs: Any) -> Any:
        candidates = _index_candidates(self, index_name, hash_key_conditions, range_key_conditions, range_comparison,
                                       range_objs, limit)
        if candidates is None:
            return original_query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                                  scan_index_forward, projection_expressions, index_name, *args,
                                  hash_key_conditions=hash_key_conditions, range_key_conditions=range_key_conditions, **kwargs)
        _query_candidates.table, _query_candidates.items = self, candidates
        try:
            return original_query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                                  scan_index_forward, projection_expressions, index_name, *args,
                                  hash_key_conditions=hash_key_conditions, range_key_conditions=range_key_conditions, **kwargs)
        finally:
            _query_candidates.table = _query_candidates.items = None

    query._prefiltered = True
    query.moto_query, all_items.moto_all_items = original_query, original_all_items
    Table.query, Table.all_items = query, all_items


def _index_candidates(table: Any, index_name: str | None, hash_conditions: Any, range_conditions: Any,
                      range_comparison: Any, range_objs: Any, limit: Any) -> list[Any] | None:
    """The items a simple index query considers, or None when the query is not of the simple kind.

    Those with the index's hash key (the string asked for) and its range key, as moto's loop keeps them.
    Without a Limit, and when they cannot fill moto's 1 MB page whatever the item after them, only those
    whose range key passes the comparison too: moto pages on neither list, so the answers are the same.
    """
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT

    if not index_name or not hash_conditions or len(hash_conditions) != 1 or (range_conditions and len(range_conditions) > 1):
        return None
    index = {i.name: i for i in table.all_indexes()}.get(index_name)
    if index is None:
        return None
    hash_names = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
    range_names = [key["AttributeName"] for key in index.schema if key["KeyType"] == "RANGE"]
    (name, expected), = hash_conditions
    if hash_names != [name] or expected.type != "S" or len(range_names) > 1:
        return None
    range_name = range_names[0] if range_names else None
    if range_comparison and (range_name is None or (range_conditions and range_conditions[-1][0] != range_name)):
        return None
    wanted = expected.value
    candidates, in_range = [], []
    for hash_set in table.items.values():
        for item in (hash_set.values() if table.range_key_attr else (hash_set,)):
            if not isinstance(item, Item):
                continue
            value = item.attrs.get(name)
            if value is None or value.type != "S" or value.value != wanted:
                continue
            if range_name is not None:
                range_value = item.attrs.get(range_name)
                if not range_value:
                    continue
                if range_comparison and range_value.compare(range_comparison, range_objs):
                    in_range.append(item)
            candidates.append(item)
    if range_comparison and limit is None and \
            sum(item.size() for item in in_range) + MAX_ITEM_BYTES < RESULT_SIZE_LIMIT:
        return in_range
    return candidates
