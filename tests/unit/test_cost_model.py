"""The arithmetic of bench/cost.py: billing rules that can be checked by hand."""
from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "bench" / "cost.py"
_SPEC = importlib.util.spec_from_file_location("bench_cost", _PATH)
cost = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = cost  # dataclasses look their module up
_SPEC.loader.exec_module(cost)


def test_lambda_bills_whole_milliseconds_of_configured_memory():
    assert cost.billed_ms(0.2) == 1
    assert cost.billed_ms(100.0) == 100
    assert cost.billed_ms(100.01) == 101
    assert cost.gb_seconds(1024, 1000) == pytest.approx(1.0)
    assert cost.gb_seconds(512, 100.4) == pytest.approx(0.5 * 0.101)
    # 1 M invocations of 100 ms at 1024 MB on arm64: 100,000 GB-s
    assert 1_000_000 * cost.gb_seconds(1024, 100) * cost.PRICES["lambda_gb_s"].usd == pytest.approx(1.33334)


def test_cpu_share_is_proportional_to_memory_up_to_one_vcpu():
    assert cost.cpu_share(1769) == 1.0
    assert cost.cpu_share(3008) == 1.0
    assert cost.cpu_share(1024) == pytest.approx(1024 / 1769)


def test_dynamodb_item_size_counts_names_and_values():
    assert cost.item_size({"pk": {"S": "abc"}}) == 2 + 3
    assert cost.item_size({"n": {"N": "12345"}}) == 1 + 4  # 5 digits: 3 bytes + 1
    assert cost.item_size({"s": {"SS": ["ab", "cde"]}}) == 1 + 5
    assert cost.item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)
    assert cost.item_size({"l": {"L": [{"BOOL": True}, {"NULL": True}]}}) == 1 + 3 + 2 * (1 + 1)
    assert cost.item_size({"é": {"S": "ü"}}) == 2 + 2  # UTF-8 bytes
    assert cost.item_size(None) == 0


def test_write_units_per_started_kilobyte_and_double_in_transactions():
    assert cost.write_units(0) == 1
    assert cost.write_units(1024) == 1
    assert cost.write_units(1025) == 2
    assert cost.write_units(500, transactional=True) == 2
    assert cost.write_units(3000, transactional=True) == 6


def test_read_units_per_started_4_kb_half_when_eventually_consistent():
    assert cost.read_units(0) == 1  # a missing item still costs the minimum
    assert cost.read_units(4096) == 1
    assert cost.read_units(4097) == 2
    assert cost.read_units(100, consistent=False) == 0.5
    assert cost.read_units(8192, consistent=False) == 1
    assert cost.read_units(100, transactional=True) == 2


def test_gsi_writes():
    keys = ("status", "updated_at")
    old = {"doc_id": {"S": "d"}, "status": {"S": "A"}, "updated_at": {"S": "1"}}
    moved = {**old, "status": {"S": "B"}}
    assert cost.index_write_units(None, old, keys) == 1  # enters the index
    assert cost.index_write_units(old, moved, keys) == 2  # key changed: delete + put
    assert cost.index_write_units(old, {**old, "x": {"S": "y"}}, keys) == 1  # projected attribute changed (ALL)
    assert cost.index_write_units(old, {**old, "x": {"S": "y"}}, keys, projection=("doc_id", *keys)) == 0  # KEYS_ONLY
    assert cost.index_write_units(old, old, keys) == 0
    assert cost.index_write_units({"doc_id": {"S": "d"}}, {"doc_id": {"S": "e"}}, keys) == 0  # never in the index
    big = {**moved, "text": {"S": "x" * 1500}}
    assert cost.index_write_units(old, big, keys) == 1 + 2


def test_sqs_bills_64_kb_chunks():
    assert cost.sqs_requests(0) == 1
    assert cost.sqs_requests(64 * 1024) == 1
    assert cost.sqs_requests(64 * 1024 + 1) == 2


def test_comprehend_units_of_100_characters_with_a_3_unit_minimum_per_request():
    assert cost.comprehend_units(1) == 3
    assert cost.comprehend_units(300) == 3
    assert cost.comprehend_units(301) == 4
    assert cost.comprehend_units(4000) == 40
    assert cost.comprehend_request_units(["a" * 50, "b" * 450]) == 3 + 5


def test_comprehend_volume_tiers():
    assert cost.tiered_cost(1_000_000) == pytest.approx(100.0)
    assert cost.tiered_cost(10_000_000) == pytest.approx(1_000.0)
    assert cost.tiered_cost(50_000_000) == pytest.approx(1_000.0 + 2_000.0)
    assert cost.tiered_cost(60_000_000) == pytest.approx(3_000.0 + 250.0)
    assert math.isclose(cost.tiered_cost(0), 0.0)


def test_split_utf8_respects_the_byte_limit():
    pieces = cost.split_utf8("é" * 10, 5)
    assert all(len(p.encode("utf-8")) <= 5 for p in pieces)
    assert "".join(pieces) == "é" * 10
    assert cost.split_utf8("", 5) == [""]
