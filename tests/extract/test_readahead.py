"""Read ahead in a thread: same items in the same order, errors raised where they happened, no thread left."""

from __future__ import annotations

import threading

import pytest

from audit.extract.readahead import read_ahead, stop_producers


def test_items_come_out_in_order():
    assert list(read_ahead(iter(range(1000)), depth=3)) == list(range(1000))


def test_an_error_is_raised_in_the_consumer_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError("bad row")

    got = []
    with pytest.raises(ValueError, match="bad row"):
        got.extend(read_ahead(items()))  # the items before the error arrive one by one
    assert got == [1, 2]


def test_stopping_early_closes_the_source_and_ends_the_thread():
    closed = threading.Event()

    def items():
        try:
            yield from range(10**9)
        finally:
            closed.set()

    for item in read_ahead(items(), depth=2):
        if item == 5:
            break
    assert closed.is_set()
    assert not any(t.name == "audit-read-ahead" for t in threading.enumerate())


def test_it_stays_at_most_depth_items_ahead():
    produced = []

    def items():
        for i in range(100):
            produced.append(i)
            yield i

    reader = read_ahead(items(), depth=2)
    assert next(reader) == 0
    threading.Event().wait(0.2)  # give the producer time to run ahead as far as it may
    assert len(produced) <= 4  # the one taken, two waiting, one blocked in put
    reader.close()


def _producers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "audit-read-ahead"]


def test_at_exit_a_running_producer_is_stopped_and_joined():
    """A consumer that neither finishes nor is closed (an error left it referenced) leaves its producer
    running; the exit hook stops and joins it before the interpreter finalises (a thread left inside C++
    code then aborts the process)."""
    ahead = read_ahead(iter(range(1000)), depth=1)
    assert next(ahead) == 0
    assert _producers()
    stop_producers()
    assert not _producers()
    ahead.close()


def test_a_run_that_fails_midway_leaves_no_reading_thread(tmp_path):
    from audit.pipeline import run_audit
    from audit.rules import load_rules

    path = tmp_path / "e.csv"
    path.write_text("EPIKEY,DIAG_01,OPERTN_01\n" + "".join(f"{i},C787,J124\n" for i in range(50)))

    def fail(_rows):
        raise RuntimeError("the consumer stops here")

    with pytest.raises(RuntimeError):
        run_audit(path, load_rules(), chunk_rows=5, progress=fail)
    assert not _producers()
