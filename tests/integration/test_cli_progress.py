"""`ingest run`'s progress line: shown on a terminal, silent otherwise."""
import io
from collections import Counter
from types import SimpleNamespace

from docingest_cli.main import WaitProgress, _Watch


class Terminal(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


class Counts:
    def count_by_status(self):
        return {"RECEIVED": 0, "FETCHED": 3, "CLEANED": 1, "LANGUAGE_DETECTED": 0, "DONE": 5, "FAILED": 1}


def test_the_line_says_what_is_finished_where_the_rest_is_the_rate_and_the_eta():
    line = WaitProgress.line(6, 10, Counter(DONE=5, FAILED=1), {"FETCHED": 3, "CLEANED": 1}, elapsed=3.0)
    assert line == "6/10 finished (DONE 5, FAILED 1) · in the pipeline: cleaning 3 language 1 · 2.0 docs/s · ETA 0:02"


def test_progress_is_written_on_a_terminal_and_not_elsewhere():
    dropped = [{"doc_id": str(i), "source": f"f{i}", "dropped_at": 0.0} for i in range(10)]
    watch = _Watch(dropped)
    watch.saw([{"doc_id": "1", "status": "DONE", "sources": ["f1"]}, {"doc_id": "2", "status": "FAILED", "sources": ["f2"]}])
    target = SimpleNamespace(documents=Counts())
    terminal, pipe = Terminal(True), Terminal(False)
    WaitProgress(target, terminal).update(watch, watch.total(), final=True)
    WaitProgress(target, pipe).update(watch, watch.total(), final=True)
    assert "2/10 finished (DONE 1, FAILED 1)" in terminal.getvalue() and "cleaning 3" in terminal.getvalue()
    assert pipe.getvalue() == ""


def test_each_awaited_document_is_handed_on_once_when_seen_final():
    dropped = [{"doc_id": "1", "source": "f1", "dropped_at": 0.0}, {"doc_id": "2", "source": "f2", "dropped_at": 0.0},
               {"doc_id": "list", "source": "urls.txt", "dropped_at": 0.0, "urls": ["https://example.org/a"]}]
    finals = []
    watch = _Watch(dropped, finals.append)
    watch.saw([{"doc_id": "1", "status": "DONE", "enriched_key": "e/1"}, {"doc_id": "other", "status": "DONE"},
               {"doc_id": "list", "status": "DONE"}])
    watch.saw([{"doc_id": "1", "status": "DONE"}, {"doc_id": "a", "status": "DONE", "sources": ["https://example.org/a"]}])
    assert [record["doc_id"] for record in finals] == ["1", "list", "a"]  # not "other" (not awaited), "1" once
    assert watch.pending_count() == 1  # f2
