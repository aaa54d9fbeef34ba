"""Opening files by their content: CSV delimiters, encodings, gzip, Parquet types, .xlsx sheets."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.errors import InputFileError
from audit.extract import read_extract
from audit.extract.formats import CsvSource, ParquetSource, XlsxSource, open_source
from audit.extract.xlsxfile import _cell_text
from tests.extract import synthetic as syn

ROWS = [["EPIKEY", "PROCODE", "DIAG_01"], ["1", "RXX", "C787"], ["2", "RYY", "C187"]]


def _rows(frame) -> list[list[str]]:
    return frame.astype(str).values.tolist()


def read_all(path, **options):
    batches = list(read_extract(path, **options))
    import pandas as pd

    episodes = pd.concat([b.episodes for b in batches if len(b.episodes)], ignore_index=True)
    rejected = pd.concat([b.rejected for b in batches], ignore_index=True)
    return episodes, rejected, batches[-1].notes


@pytest.mark.parametrize("delimiter", [",", "\t", "|", ";"])
def test_delimiter_is_detected_from_the_header(tmp_path, delimiter):
    path = tmp_path / "e.dat"
    path.write_text("\n".join(delimiter.join(r) for r in ROWS) + "\n")
    source = open_source(path)
    assert isinstance(source, CsvSource) and source.delimiter == delimiter
    assert source.header == ROWS[0]


def test_quoted_header_with_a_delimiter_inside(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text('EPIKEY;"Site; main";DIAG_01\n1;RXX;C787\n')
    source = open_source(path)
    assert source.delimiter == ";" and source.header == ["EPIKEY", "Site; main", "DIAG_01"]


@pytest.mark.parametrize(
    "encoding, expected", [("utf-8", "utf8"), ("utf-8-sig", "utf8"), ("cp1252", "cp1252")]
)
def test_encoding_is_detected(tmp_path, encoding, expected):
    path = tmp_path / "e.csv"
    path.write_bytes("EPIKEY,CODER,DIAG_01\n1,Renée,C787\n".encode(encoding))
    source = open_source(path)
    assert source.encoding == expected and source.header[0] == "EPIKEY"
    episodes, _, _ = read_all(path, columns={"coder": "CODER"})
    assert list(episodes["coder"]) == ["Renée"]


def test_a_late_windows_1252_byte_is_still_detected(tmp_path):
    """Detection reads the whole file, not a sample: one é after thousands of ASCII rows."""
    path = tmp_path / "e.csv"
    body = "".join(f"{i},Tom,C787\n" for i in range(20000)) + "20000,Renée,C787\n"
    path.write_bytes(("EPIKEY,CODER,DIAG_01\n" + body).encode("cp1252"))
    episodes, _, notes = read_all(path, columns={"coder": "CODER"}, chunk_rows=5000)
    assert episodes["coder"].iloc[-1] == "Renée" and len(episodes) == 20001
    assert any("read as Windows-1252" in n for n in notes)


def test_gzip_is_read_with_or_without_isal(tmp_path, monkeypatch):
    """ISA-L decompresses what the reader reads itself (the first pass, the blocks split for two parsers);
    without it pyarrow's zlib does: the same rows, lines and notes either way."""
    from audit.extract import csvfile

    lines = ["EPIKEY,DIAG_01,DIAG_02"] + [f"{i},C787,C187" for i in range(1, 500)] + ["7,C787,"]
    path = tmp_path / "e.csv.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    monkeypatch.setattr(csvfile, "_SPLIT_BLOCK", 300)  # many blocks
    assert open_source(path).splittable
    with_isal = read_all(path, chunk_rows=37)
    monkeypatch.setattr(csvfile, "_igzip", None)
    without = read_all(path, chunk_rows=37)
    assert _rows(with_isal[0]) == _rows(without[0]) and with_isal[1].equals(without[1])
    assert with_isal[2] == without[2] and list(with_isal[1]["line"]) == [501]


@pytest.mark.parametrize("damage", ["deflate", "crc", "truncated"])
def test_damaged_gzip_is_one_clear_error(tmp_path, damage):
    data = bytearray(gzip.compress(b"EPIKEY,DIAG_01\n" + b"".join(b"%d,C787\n" % i for i in range(20_000))))
    if damage == "deflate":  # an invalid deflate block (ISA-L's own error, not an OSError)
        data[10:40] = b"\xff" * 30
    elif damage == "crc":
        data[-8] ^= 0xFF
    else:
        data = data[: len(data) // 2]
    path = tmp_path / "e.csv.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(InputFileError, match="cannot read the file"):
        read_all(path)


def test_gzip_is_recognised_by_content_not_name(tmp_path):
    path = tmp_path / "extract.dat"
    path.write_bytes(gzip.compress(b"EPIKEY\tDIAG_01\n1\tC787\n"))
    source = open_source(path)
    assert source.compression == "gzip" and source.delimiter == "\t"
    episodes, _, _ = read_all(path)
    assert list(episodes["diag_01"]) == ["C787"]


def test_a_cell_longer_than_the_read_block(tmp_path):
    """A row longer than pyarrow's default block is read (and set aside as over 1 MB), not an error."""
    path = tmp_path / "e.csv"
    path.write_text("EPIKEY,DIAG_01\n1,C787\n2," + "C" * (6 << 20) + "\n3,C187\n")
    episodes, rejected, _ = read_all(path, chunk_rows=1)
    assert list(episodes["episode_id"]) == ["1", "3"]
    assert rejected.to_dict(orient="records") == [
        {"line": 3, "episode_id": "2", "reason": "cell over 1 MB in column DIAG_01"}
    ]


def test_line_numbers_with_leading_blank_lines_ragged_and_blank_rows(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(
        "\n\nEPIKEY,DIAG_01,DIAG_02\n1,C787,C187\n2,C787\n\n3,C787,,x\n4,,\n5,1999-99\n6,C787,C187\n"
    )
    for chunk in (1, 2, 100):
        episodes, rejected, notes = read_all(path, chunk_rows=chunk)
        assert list(episodes["episode_id"]) == ["1", "4", "6"]  # 4 has no codes: audited, not blank
        assert list(rejected["line"]) == [5, 7, 9] and list(rejected["episode_id"]) == ["2", "3", "5"]
        assert list(rejected["reason"])[:2] == [
            "ragged row: 2 fields, expected 3",
            "ragged row: 4 fields, expected 3",
        ]
        assert any("1 blank row skipped" in n for n in notes)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("encoding, newline", [("utf-8", "\n"), ("cp1252", "\n"), ("utf-8", "\r\n")])
def test_quote_free_text_parsed_in_blocks_reads_as_in_one_stream(tmp_path, monkeypatch, compress, encoding,
                                                                 newline):
    """Cut at line ends into blocks parsed on two threads: the same rows, lines and reasons as one parser."""
    lines = ["", "EPIKEY,DIAG_01,DIAG_02,CODER"]
    for i in range(1, 400):
        lines.append({7: f"{i},C787", 50: "", 51: "", 99: f"{i},C787,,x,y", 150: f"{i},1999-99,C187,Renée",
                      201: f"{i}", 300: f"{i},C787,C187,Zoë", 350: f"{i},C787,C187,{'long ' * 60}"}.get(
            i, f"{i},C787,C187,"))  # line 352 is longer than a block
    data = (newline.join(lines)).encode(encoding)  # no newline at the end
    path = tmp_path / "e.csv"
    path.write_bytes(gzip.compress(data) if compress else data)
    from audit.extract import csvfile

    assert open_source(path).splittable
    monkeypatch.setattr(csvfile, "_SPLIT_BLOCK", 100)  # a few lines a block: many blocks
    split = read_all(path, chunk_rows=37, columns={"coder": "CODER"})
    scan = csvfile._scan
    monkeypatch.setattr(csvfile, "_scan",
                        lambda *a, **k: dataclasses.replace(scan(*a, **k), splittable=False))
    assert not open_source(path).splittable
    serial = read_all(path, chunk_rows=37, columns={"coder": "CODER"})
    assert _rows(split[0]) == _rows(serial[0]) and list(split[0].columns) == list(serial[0].columns)
    assert split[1].equals(serial[1]) and split[2] == serial[2]
    assert list(split[1]["line"]) == [9, 101, 203] and "Zoë" in set(split[0]["coder"])


@pytest.mark.parametrize("later", ["plain", "quote", "cp1252", "long line"])
def test_a_large_file_is_parsed_while_its_first_pass_finishes(tmp_path, monkeypatch, later):
    """Its first block's guesses (UTF-8, no quotes, short lines) are acted on at once, and nothing is handed
    on until the rest of the pass confirms them: the same episodes, rows set aside and notes as when the
    pass comes first, whatever the rest of the file turns out to be."""
    from audit.extract import csvfile

    lines = ["EPIKEY,DIAG_01,DIAG_02,CODER"] + [f"{i},C787,C187,x" for i in range(1, 300)]
    lines[250] = {"plain": "250,C787,C187,y", "quote": '250,C787,C187,"y, z"', "cp1252": "250,C787,C187,Renée",
                  "long line": "250,C787,C187," + "y" * (1 << 20)}[later]
    lines[120] = "5,C787,C187,x"  # a duplicate id: set aside
    path = tmp_path / "e.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("cp1252" if later == "cp1252" else "utf-8"))
    monkeypatch.setattr(csvfile, "_SPLIT_BLOCK", 300)  # many blocks, parsed ahead while the pass runs
    first = read_all(path, chunk_rows=37, columns={"coder": "CODER"})
    monkeypatch.setattr(csvfile, "_LARGE_TEXT", 1000)
    monkeypatch.setattr(csvfile, "_SCAN_BLOCK", 2000)  # the first block: some 100 lines
    source = open_source(path)
    assert source._verdict is not None and source.splittable and source.encoding == "utf8"
    list(source.chunks(["EPIKEY"], [], 37, "EPIKEY"))
    assert source.rows == len(lines) and source.splittable == (later != "quote")
    meanwhile = read_all(path, chunk_rows=37, columns={"coder": "CODER"})
    assert _rows(meanwhile[0]) == _rows(first[0]) and meanwhile[1].equals(first[1]) and meanwhile[2] == first[2]
    assert list(first[1]["line"]) == [121] and len(first[0]) == len(lines) - 2
    assert ("not UTF-8" in " ".join(first[2])) == (later == "cp1252")


@pytest.mark.parametrize("text", ['EPIKEY,DIAG_01\n1,"C787"\n', "EPIKEY,DIAG_01\r1,C787\r",
                                  "EPIKEY,DIAG_01\n1,C787\r\n2,C18\r3,C19\n"])
def test_quotes_or_lone_carriage_returns_are_parsed_in_one_stream(tmp_path, text):
    path = tmp_path / "e.csv"
    path.write_bytes(text.encode())
    assert not open_source(path).splittable
    assert list(read_all(path)[0]["episode_id"]) == ["1", "2", "3"][: text.count("C")]


def test_ragged_rows_at_the_end_of_the_file(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("EPIKEY,DIAG_01\n1,C787\n2,C787,x\n3\n")
    episodes, rejected, _ = read_all(path, chunk_rows=1)
    assert list(episodes["episode_id"]) == ["1"]
    assert list(rejected["line"]) == [3, 4] and list(rejected["episode_id"]) == ["2", "3"]


def test_parquet_types_become_text_and_dates(tmp_path):
    path = tmp_path / "e.parquet"
    pq.write_table(
        pa.table(
            {
                "EPIKEY": pa.array([1001, 1002], pa.int64()),
                "EPIEND": pa.array(
                    [dt.datetime(2024, 3, 31, tzinfo=dt.UTC), None], pa.timestamp("ms", "UTC")
                ),
                "EPISTART": pa.array([dt.date(2024, 3, 30), dt.date(2024, 4, 1)], pa.date32()),
                "STARTAGE": pa.array([67.0, None]),
                "SEX": pa.array([True, False]),
                "DIAG_01": pa.array(["C787", "C187"]).dictionary_encode(),
                "OPERTN_01": pa.array(["J124", None], pa.large_string()),
            }
        ),
        path,
    )
    assert isinstance(open_source(path), ParquetSource)
    episodes, rejected, _ = read_all(path)
    assert rejected.empty
    assert list(episodes["episode_id"]) == ["1001", "1002"]
    assert list(episodes["age"]) == ["67", ""] and list(episodes["sex"]) == ["true", "false"]
    assert str(episodes["end_date"].iloc[0]) == "2024-03-31 00:00:00" and episodes["end_date"].isna().iloc[1]
    assert str(episodes["start_date"].dtype) == "datetime64[us]"
    assert list(episodes["proc_01"].astype(object).fillna("")) == ["J124", ""]


def test_parquet_row_numbers_count_across_row_groups(tmp_path):
    frame = syn.episodes(12)
    frame.loc[9, "EPIKEY"] = ""
    path = syn.write_parquet(frame, tmp_path / "e.parquet", row_group_size=4)
    _, rejected, _ = read_all(path, chunk_rows=3)
    assert rejected.to_dict(orient="records") == [
        {"line": 10, "episode_id": "", "reason": "missing episode id"}
    ]


def test_parquet_is_streamed_without_keeping_the_file_in_memory(tmp_path):
    # pyarrow's pre-buffering keeps every row group's bytes until the file is closed (apache/arrow#39808):
    # a national extract would hold its whole file in memory. Read row group by row group, pyarrow holds
    # a few chunks at a time (150 row groups here), a small part of the file.
    path = syn.write_parquet(syn.episodes(30_000), tmp_path / "e.parquet", row_group_size=200)
    source = open_source(path)
    codes = [c for c in source.header if c.startswith(("DIAG", "OPERTN"))]
    before, peak = pa.total_allocated_bytes(), 0
    for chunk in source.chunks(source.header, codes, 200, "EPIKEY"):
        peak = max(peak, pa.total_allocated_bytes() - before)
        del chunk
    assert peak < path.stat().st_size / 3


def test_xlsx_sheet_by_name_or_number(tmp_path):
    frame = syn.episodes(5)
    path = syn.write_xlsx(frame, tmp_path / "e.xlsx", sheet="Coded", first_sheet="Notes")
    with pytest.raises(InputFileError, match="no episode id column"):
        read_all(path)
    for sheet in ("Coded", "2"):
        episodes, _, _ = read_all(path, sheet=sheet)
        assert list(episodes["episode_id"]) == list(frame["EPIKEY"])


def test_xlsx_header_under_title_rows_and_line_numbers(tmp_path):
    frame = syn.episodes(4)
    frame.loc[2, "EPIEND"] = "someday"
    path = syn.write_xlsx(frame, tmp_path / "e.xlsx", title="Synthetic extract")
    source = open_source(path, header_hint=lambda names: "EPIKEY" in names)
    assert isinstance(source, XlsxSource) and source.header_row == 2
    _, rejected, _ = read_all(path)
    assert rejected.to_dict(orient="records") == [
        {"line": 5, "episode_id": frame.loc[2, "EPIKEY"], "reason": "unparseable end date 'someday'"}
    ]


@pytest.mark.parametrize(
    "value, text",
    [
        (None, ""),
        ("C787", "C787"),
        (1001, "1001"),
        (1001.0, "1001"),
        (1.5, "1.5"),
        (True, "TRUE"),
        (dt.datetime(2024, 3, 31), "2024-03-31"),
        (dt.datetime(2024, 3, 31, 12, 5), "2024-03-31 12:05:00"),
        (dt.date(2024, 3, 31), "2024-03-31"),
    ],
)
def test_xlsx_cells_as_extract_text(value, text):
    assert _cell_text(value) == text


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p, "no such file"),
        (lambda p: (p.mkdir(), p)[1], "is a folder"),
    ],
)
def test_missing_or_folder(tmp_path, make, message):
    path = make(tmp_path / "x.csv")
    with pytest.raises(InputFileError, match=message):
        open_source(path)


def test_rechunking_is_exact(tmp_path):
    frame = syn.episodes(10)
    path = syn.write_parquet(frame, tmp_path / "e.parquet", row_group_size=3)
    source = open_source(path)
    sizes = [len(c.lines) for c in source.chunks(["EPIKEY"], [], 4, "EPIKEY")]
    assert sizes == [4, 4, 2]
    lines = np.concatenate([c.lines for c in source.chunks(["EPIKEY"], [], 4, "EPIKEY")])
    assert list(lines) == list(range(1, 11))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, 40), min_size=1, max_size=60), st.sampled_from([b"\n", b"\r\n", b"\r"]),
       st.booleans())
def test_scan_counts_lines_and_bounds_the_longest(monkeypatch, lengths, end, last_ended):
    """Line feeds are counted (and a last line without one); the longest line (with its line end) is
    measured exactly when it is over two windows long, else bounded by that."""
    from audit.extract import csvfile

    monkeypatch.setattr(csvfile, "_SCAN_BLOCK", 32)  # many blocks, lines across their edges
    monkeypatch.setattr(csvfile, "_LINE_WINDOW", 4)
    lines = [b"x" * n for n in lengths]
    data = end.join(lines) + (end if last_ended else b"")
    scan = csvfile._scan(pa.BufferReader(data), check_utf8=True)
    true_longest = max(len(line) + (1 if i < len(lines) - 1 or last_ended else 0)
                       for i, line in enumerate(lines))
    assert scan.lines == data.count(b"\n") + (1 if data and not data.endswith((b"\n", b"\r")) else 0)
    assert scan.longest >= true_longest
    assert scan.longest == true_longest or scan.longest <= 2 * 4 + 1
    assert scan.splittable == (b"\r" not in data.replace(b"\r\n", b""))  # no lone carriage return


@pytest.mark.parametrize("quoted", [False, True])
def test_code_columns_interned_read_as_pyarrow_dictionaries_do(tmp_path, monkeypatch, quoted):
    """A large CSV's code columns are read as text and interned (audit.kernels.TextInterner): the same
    episodes, codes and rejects as with pyarrow's dictionaries, across chunks."""
    import audit.kernels

    codes = ["C787", "", "C18.7", "Y53.9", "ABCDEFGH long", "é1", " ", "J124"]
    lines = ["EPIKEY,PROCODE,DIAG_01,DIAG_02,OPER_01"]
    for i in range(1, 300):
        row = [str(i), f"R{i % 3}", codes[i % 8], codes[(i * 7) % 8], codes[(i * 3) % 8]]
        lines.append(",".join(f'"{v}"' if quoted and i % 5 == 0 else v for v in row))
    lines[40] = "40,RX"  # ragged
    path = tmp_path / "e.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    plain = read_all(path, chunk_rows=37)
    monkeypatch.setattr(audit.kernels, "CELLS_BEFORE_COMPILING", 0)
    source = open_source(path)
    assert source._text_interner(3) is not None and source.splittable == (not quoted)
    interned = read_all(path, chunk_rows=37)
    assert _rows(interned[0]) == _rows(plain[0]) and list(interned[0].columns) == list(plain[0].columns)
    assert interned[1].equals(plain[1]) and interned[2] == plain[2]
