"""Read ahead: run an iterator in a background thread, a bounded number of items ahead of its consumer.

Parsing and decoding happen in pyarrow's C++ code, which lets go of the GIL: with
the parser a chunk ahead in its own thread, the chunk before it is checked (and
handed to the evaluating worker) at the same time, on the other core. Items come
out in order; an exception raised by the iterator is raised again in the
consumer, at the point it would have been. Memory: at most ``depth`` items wait.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


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

    thread = threading.Thread(target=produce, name="audit-read-ahead", daemon=True)
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
