"""Reading the /mydata file back as its reader would: its parts, one for each table."""

from __future__ import annotations

import csv
import io

from handlers.render.account import NONE_STORED, SECTION_TITLES

TABLE_OF = {title: table for table, title in SECTION_TITLES.items()}


def mydata_parts(data: bytes) -> dict[str, list[dict[str, str]]]:
    """The rows of each part of the file, by table name (a title the renderer does not know
    stands for itself), each row by column name."""
    assert data.startswith(b"\xef\xbb\xbf"), "no BOM: a spreadsheet app may misread UTF-8"
    parts: dict[str, list[dict[str, str]]] = {}
    lines = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    while (title := next(lines, None)) is not None:
        assert len(title) == 1, f"a part opens with its title alone, not {title}"
        table = TABLE_OF.get(title[0], title[0])
        header = next(lines)
        rows: list[dict[str, str]] = []
        if header != [NONE_STORED]:
            for line in lines:
                if not line:
                    break
                assert len(line) == len(header), (table, header, line)
                rows.append(dict(zip(header, line, strict=True)))
        else:
            assert next(lines) == []
        assert table not in parts, f"{table} twice"
        parts[table] = rows
    return parts
