"""Write the corpus of bad inputs (all synthetic). Run from the repository root:

    python tests/extract/bad_inputs/make_corpus.py

The files are committed; test_bad_inputs.py states what each must give.
"""

from __future__ import annotations

import gzip
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEAD = "EPIKEY,PROCODE,EPIEND,DIAG_01,DIAG_02,OPERTN_01,OPERTN_02"
GOOD = [
    "1001,RXX,2024-03-31,C787,C187,J124,Y539",
    "1002,RXX,2024-04-01,C787,,J124,",
    "1003,RYY,20240402,C229,,J128,Y123",
]


def text(name: str, body: str, encoding: str = "utf-8") -> None:
    (HERE / name).write_bytes(body.encode(encoding))


def csv(name: str, rows: list[str], head: str = HEAD, encoding: str = "utf-8", newline: str = "\n") -> None:
    text(name, newline.join([head, *rows]) + newline, encoding)


def main() -> None:
    # -- unusable files: exit 2, one message
    text("empty.csv", "")
    text("blank-lines-only.csv", "\n\n  \n")
    csv("header-only.csv", [])
    csv("header-and-blank-rows.csv", ["", ",,,,,,"])
    csv(
        "no-id-column.csv",
        ["RXX,2024-03-31,C787,C187,J124,Y539"],
        head="PROCODE,EPIEND,DIAG_01,DIAG_02,OPERTN_01,OPERTN_02",
    )
    csv("no-code-columns.csv", ["1001,RXX,2024-03-31,M"], head="EPIKEY,PROCODE,EPIEND,SEX")
    csv("duplicate-header.csv", ["1001,C787,C187,J124"], head="EPIKEY,DIAG_01,DIAG_01,OPERTN_01")
    csv("semicolon-header-comma-rows.csv", GOOD, head=HEAD.replace(",", ";"))
    text("utf-16.csv", "\n".join([HEAD, *GOOD]) + "\n", "utf-16")
    (HERE / "old-excel.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    (HERE / "corrupt.xlsx").write_bytes(b"PK\x03\x04" + b"\x14\x00\x00\x00" + b"not really a zip" * 8)
    rng = random.Random(4)
    (HERE / "binary-garbage.csv").write_bytes(bytes(rng.randrange(256) for _ in range(600)))
    data = gzip.compress(("\n".join([HEAD, *GOOD * 400]) + "\n").encode(), mtime=0)
    (HERE / "truncated.csv.gz").write_bytes(data[: len(data) // 2])
    _parquet()
    _xlsx()

    # -- row-level defects: the rest is audited, the defective rows are listed
    csv("bom.csv", GOOD, encoding="utf-8-sig")
    csv(
        "windows-1252.csv",
        ["1001,RXX,2024-03-31,C787,C187,J124,Y539,Renée", "1002,RYY,2024-04-01,C787,,J124,,Siân"],
        head=HEAD + ",CODER",
        encoding="cp1252",
    )
    csv(
        "crlf-lowercase-header.csv",
        GOOD,
        head=" epikey , procode,epiend,diag_01,diag_02,opertn_01,opertn_02",
        newline="\r\n",
    )
    csv(
        "ragged-rows.csv",
        [GOOD[0], "1002,RXX,2024-04-01,C787", GOOD[2], "1004,RXX,2024-04-01,C787,,J124,,extra"],
    )
    csv("duplicate-ids.csv", [GOOD[0], GOOD[1], GOOD[0], "1002,RZZ,2024-05-01,C787,,J124,Y539", GOOD[2]])
    csv(
        "missing-ids.csv", [GOOD[0], ",RXX,2024-04-01,C787,,J124,", "   ,RXX,2024-04-01,C787,,J124,", GOOD[2]]
    )
    csv("nul-bytes.csv", [GOOD[0], "1002,RXX,2024-04-01,C7\x0087,,J124,", GOOD[2]])
    big = "C" * (1 << 20) + "787"
    (HERE / "cell-over-1mb.csv.gz").write_bytes(
        gzip.compress(
            ("\n".join([HEAD, GOOD[0], f"1002,RXX,2024-04-01,C787,{big},J124,", GOOD[2]]) + "\n").encode(),
            mtime=0,
        )
    )
    csv(
        "formula-values.csv",
        [
            '"=1+1",RXX,2024-03-31,"=HYPERLINK(""http://x"",""C787"")",C187,J124,Y539',
            "1002,@SUM(A1),2024-04-01,+C787,,-J124,",
        ],
    )
    csv(
        "junk-around-codes.csv",
        [
            '1001,RXX,2024-03-31, C787 ,"C18.7\t",J124,Y539',
            "1002,RXX,2024-04-01,'C787,[C187],J124.,Y53 9",
            "1003,RXX,2024-04-02,C787;,C787/C187,J124,",
        ],
    )
    csv(
        "unparseable-dates.csv",
        [
            GOOD[0],
            "1002,RXX,2024-02-31,C787,,J124,",
            "1003,RXX,yesterday,C787,,J124,",
            "1004,RXX,,C787,,J124,",
        ],
    )
    csv(
        "unclosed-quote.csv",
        [
            GOOD[0],
            '1002,RXX,2024-04-01,C787,"C187,J124,',
            "1003,RXX,2024-04-02,C787,C187",
            '1004,RXX,2024-04-03,C787,C187",J124,',
            "1005,RXX,2024-04-04,C787,C187,J124,Y539",
        ],
    )
    csv("blank-rows.csv", [GOOD[0], "", ",,,,,,", GOOD[1], "", "1004,RXX,2024-13-01,C787,,J124,"])
    csv(
        "long-defects.csv",
        [
            "1,diagnosis,1,C787",
            "1,procedure,1,J124",
            "2,diagnosis,1,C787",
            "2,diagnosis,1,C187",
            "3,procedure,first,J124",
            "4,,1,J124",
            "5,surgery,1,J124",
            "6,procedure,1,J124",
            "6,procedure,2,Y539",
        ],
        head="EPIKEY,CODE_TYPE,POSITION,CODE",
    )
    csv(
        "long-ungrouped.csv",
        [
            "1,diagnosis,1,C787",
            "2,diagnosis,1,C229",
            "1,procedure,1,J124",
            "2,procedure,1,J128",
            "2,procedure,2,Y123",
        ],
        head="EPIKEY,CODE_TYPE,POSITION,CODE",
    )
    csv(
        "concatenated-mixed-separators.csv",
        ["1001,C787|C187,J124|Y539", "1002,C787|C187,J124;Y539"],
        head="EPIKEY,DIAG_ALL,OPERTN_ALL",
    )


def _parquet() -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "EPIKEY": [str(1000 + i) for i in range(300)],
            "DIAG_01": ["C787"] * 300,
            "OPERTN_01": ["J124"] * 300,
        }
    )
    pq.write_table(table, HERE / "whole.parquet.tmp")
    data = (HERE / "whole.parquet.tmp").read_bytes()
    (HERE / "whole.parquet.tmp").unlink()
    (HERE / "truncated.parquet").write_bytes(data[: len(data) * 2 // 3])
    pq.write_table(
        pa.table({"EPIKEY": pa.array([], pa.string()), "DIAG_01": pa.array([], pa.string())}),
        HERE / "no-rows.parquet",
    )
    pq.write_table(
        pa.table({"EPIKEY": ["1001"], "DIAG_01": pa.array([["C787", "C187"]])}), HERE / "nested-codes.parquet"
    )


def _xlsx() -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["EPIKEY", "Diagnoses", None, "Procedures", None])  # one name over two merged cells each
    ws.merge_cells("B1:C1")
    ws.merge_cells("D1:E1")
    ws.append([1001, "C787", "C187", "J124", "Y539"])
    wb.save(HERE / "merged-header.xlsx")

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Coded episodes, March (synthetic)"])
    ws.merge_cells("A1:E1")
    ws.append([])
    ws.append(["EPIKEY", "DIAG_01", "DIAG_02", "OPERTN_01", "OPERTN_02"])
    ws.append([1001, "C787", "C187", "J124", "Y539"])
    ws.append([1002, "C787", None, "J124", None])
    wb.save(HERE / "title-rows.xlsx")

    wb = openpyxl.Workbook()
    wb.active.title = "Empty"
    wb.save(HERE / "empty-sheet.xlsx")


if __name__ == "__main__":
    main()
