"""The emulator's pollers of one queue receive one at a time (moto's ReceiveMessage takes no lock)."""
import threading
import time
from types import SimpleNamespace

from docingest_cli.emulator import QueuePoller


class SlowQueue:
    """A queue whose ReceiveMessage takes a while and records how many ran at once."""

    def __init__(self):
        self.running = self.most = 0
        self.guard = threading.Lock()

    def receive_message(self, **request):
        with self.guard:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        with self.guard:
            self.running -= 1
        return {"Messages": []}


def poller(sqs, lock=None) -> QueuePoller:
    mapping = SimpleNamespace(function="F", batch_size=10, batching_window=0, report_batch_item_failures=True)
    return QueuePoller(sqs, mapping, queue_url="q", queue_arn="arn", function=SimpleNamespace(logical_id="F", timeout=3),
                       handler=lambda event, context: None, region="us-east-1", invoke_lock=threading.Lock(),
                       stop=threading.Event(), receive_lock=lock)


def receive_at_once(pollers) -> None:
    threads = [threading.Thread(target=p._receive_batch) for p in pollers for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_pollers_sharing_a_queue_lock_never_receive_at_the_same_time():
    sqs, lock = SlowQueue(), threading.Lock()
    receive_at_once([poller(sqs, lock), poller(sqs, lock)])
    assert sqs.most == 1


def test_without_the_shared_lock_they_would():  # the check above can fail
    sqs = SlowQueue()
    receive_at_once([poller(sqs), poller(sqs)])
    assert sqs.most > 1
