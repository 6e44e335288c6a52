"""The aligned text tables every benchmark prints."""

from __future__ import annotations


def format_table(headers: list[str], rows: list[list[str]], right_align: set[int]) -> str:
    """Columns as wide as their widest cell; `right_align` holds the indices of numeric columns."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        parts = [
            str(cell).rjust(width) if i in right_align else str(cell).ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])
