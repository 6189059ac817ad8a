"""BatchWriteItem in chunks of 25, one item per key, unprocessed items sent again and never dropped."""
import pytest

from docingest.adapters import aws


class FakeDynamoDB:
    def __init__(self, unprocessed_rounds: int):
        self.requests: list[list[dict]] = []
        self.unprocessed_rounds = unprocessed_rounds

    def batch_write_item(self, RequestItems):
        (table, writes), = RequestItems.items()
        self.requests.append(writes)
        if self.unprocessed_rounds:
            self.unprocessed_rounds -= 1
            return {"UnprocessedItems": {table: writes[-1:]}}
        return {"UnprocessedItems": {}}


def item(pk: str, value: str = "v") -> dict:
    return {"pk": {"S": pk}, "sk": {"S": "s"}, "value": {"S": value}}


def test_items_go_in_chunks_of_25_with_the_last_of_each_key(monkeypatch):
    client = FakeDynamoDB(0)
    aws.put_items(client, "t", [item(f"k{i}") for i in range(60)] + [item("k3", "newer")], ("pk", "sk"))
    assert [len(r) for r in client.requests] == [25, 25, 10]
    written = [w["PutRequest"]["Item"] for r in client.requests for w in r]
    assert len(written) == 60 and [i["value"]["S"] for i in written if i["pk"]["S"] == "k3"] == ["newer"]


def test_unprocessed_items_are_sent_again(monkeypatch):
    monkeypatch.setattr(aws.time, "sleep", lambda seconds: None)
    client = FakeDynamoDB(2)
    aws.put_items(client, "t", [item("a"), item("b")], ("pk", "sk"))
    assert [[w["PutRequest"]["Item"]["pk"]["S"] for w in r] for r in client.requests] == [["a", "b"], ["b"], ["b"]]


def test_items_still_unprocessed_after_the_retries_raise(monkeypatch):
    monkeypatch.setattr(aws.time, "sleep", lambda seconds: None)
    with pytest.raises(RuntimeError, match="unprocessed"):
        aws.put_items(FakeDynamoDB(100), "t", [item("a")], ("pk", "sk"))
