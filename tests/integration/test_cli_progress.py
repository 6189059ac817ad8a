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
