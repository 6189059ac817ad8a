"""The hand-on outbox: messages held during an invocation, sent in batches within SQS's limits."""
import json

from docingest.adapters.queues import MAX_BATCH_BYTES, Queues, _chunks


class FakeSqs:
    def __init__(self, fail_ids=()):
        self.calls = []
        self.fail_ids = set(fail_ids)

    def send_message(self, **request):
        self.calls.append(("SendMessage", request))

    def send_message_batch(self, **request):
        self.calls.append(("SendMessageBatch", request))
        failed = [{"Id": e["Id"], "Code": "InternalError", "SenderFault": False}
                  for e in request["Entries"] if json.loads(e["MessageBody"])["n"] in self.fail_ids]
        return {"Successful": [], "Failed": failed}


def test_outside_held_a_message_is_sent_at_once():
    sqs = FakeSqs()
    Queues(sqs).send("q", {"n": 1})
    assert [name for name, _ in sqs.calls] == ["SendMessage"]


def test_held_messages_go_out_per_queue_in_batches_of_ten_and_failures_name_their_tags():
    sqs = FakeSqs(fail_ids={13})
    queues = Queues(sqs)
    with queues.held() as outbox:
        for n in range(25):
            queues.tag(f"record-{n}")
            queues.send("q1" if n < 23 else "q2", {"n": n})
        assert sqs.calls == []  # nothing leaves before the block ends
    sizes = [(request["QueueUrl"], len(request["Entries"])) for _, request in sqs.calls]
    assert sizes == [("q1", 10), ("q1", 10), ("q1", 3), ("q2", 2)]
    assert outbox.failed == {"record-13"}
    queues.send("q1", {"n": 99})
    assert sqs.calls[-1][0] == "SendMessage"  # the outbox is gone after the block


def test_batches_stay_under_sqs_payload_limit():
    big = "x" * (60 * 1024)
    chunks = list(_chunks([(big, str(n)) for n in range(9)]))
    assert [len(chunk) for chunk in chunks] == [4, 4, 1]
    assert all(sum(len(body) for body, _ in chunk) <= MAX_BATCH_BYTES for chunk in chunks)


def test_a_batch_request_that_raises_fails_only_its_own_tags():
    from botocore.exceptions import EndpointConnectionError

    class Flaky(FakeSqs):
        def send_message_batch(self, **request):
            if request["QueueUrl"] == "down":
                raise EndpointConnectionError(endpoint_url="down")
            return super().send_message_batch(**request)

    queues = Queues(Flaky())
    with queues.held() as outbox:
        queues.tag("a")
        queues.send("down", {"n": 1})
        queues.tag("b")
        queues.send("up", {"n": 2})
    assert outbox.failed == {"a"}
