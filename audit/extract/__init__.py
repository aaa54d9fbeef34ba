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

from audit.extract.dates import parse_dates
from audit.extract.reader import DEFAULT_CHUNK_ROWS, REJECT_COLUMNS, Batch, read_extract

__all__ = ["DEFAULT_CHUNK_ROWS", "REJECT_COLUMNS", "Batch", "parse_dates", "read_extract"]
