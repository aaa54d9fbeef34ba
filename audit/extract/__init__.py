"""Read episode extracts: CSV (any of the usual delimiters and encodings, gzip), Parquet, Excel .xlsx;
wide, long or concatenated layouts; into canonical episode frames, a chunk at a time.

- ``formats``: open a file by its content as a stream of raw chunks (``source``), read by ``csvfile``,
  ``parquetfile`` (pyarrow) or ``xlsxfile`` (openpyxl);
- ``columns``: which column plays which role (HES names, or a mapping);
- ``layouts``: detect the layout and turn each chunk into the canonical frame;
- ``validate``: row-level checks (pandera) and duplicate ids across chunks;
- ``dates``: dates and text as extracts write them (dictionary-encoded columns: once per distinct value);
- ``reader``: ``read_extract``, tying them together.
"""

DEFAULT_CHUNK_ROWS = 250_000
REJECT_COLUMNS = ["line", "episode_id", "reason"]

__all__ = ["DEFAULT_CHUNK_ROWS", "REJECT_COLUMNS", "Batch", "parse_dates", "read_extract"]
_LAZY = {"Batch": "reader", "read_extract": "reader", "parse_dates": "dates"}


def __getattr__(name: str):
    """The readers (pandas, pyarrow) imported when first used, not with the package: a command that
    reads no extract (``audit --version``) does not pay for them."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
