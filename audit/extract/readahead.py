"""Read ahead: run an iterator in a background thread, a bounded number of items ahead of its consumer.

Parsing and decoding happen in pyarrow's C++ code, which lets go of the GIL: with
the parser a chunk ahead in its own thread, the chunk before it is checked (and
handed to the evaluating worker) at the same time, on the other core. Items come
out in order; an exception raised by the iterator is raised again in the
consumer, at the point it would have been. Memory: at most ``depth`` items wait.

No producer outlives the run: a consumer that stops early (closed, or an exception)
stops and joins its producer, and at exit every producer still running is stopped
and joined before the interpreter finalises. A daemon thread still inside pyarrow's
C++ code when the interpreter finalises is ended by ``pthread_exit`` unwinding C++
frames, which aborts the process (SIGABRT, exit -6): seen in about one run in sixty
that ended with exit 2 while a chunk was being parsed.
"""

from __future__ import annotations

import atexit
import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()
_RUNNING: dict[threading.Thread, threading.Event] = {}  # producers alive, and the event that stops each
_RUNNING_LOCK = threading.Lock()


@atexit.register
def stop_producers() -> None:
    """Stop and join every producer still running (at exit: before the interpreter finalises)."""
    with _RUNNING_LOCK:
        running = list(_RUNNING.items())
    for thread, stop in running:
        stop.set()
    for thread, _ in running:
        thread.join()


class _Raised:
    def __init__(self, exc: BaseException):
        self.exc = exc


def read_ahead(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """``items``, produced in a background thread up to ``depth`` items ahead of the caller."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put(_Raised(exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator's own clean-up (files closed) runs in the thread that ran it
            with _RUNNING_LOCK:
                _RUNNING.pop(threading.current_thread(), None)

    thread = threading.Thread(target=produce, name="audit-read-ahead", daemon=True)
    with _RUNNING_LOCK:
        _RUNNING[thread] = stop
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, _Raised):
                raise item.exc.with_traceback(item.exc.__traceback__)
            yield item
    finally:
        stop.set()
        thread.join()
