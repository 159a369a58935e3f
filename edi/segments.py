"""Streaming X12 tokenizer: separators from the ISA, one segment at a time with its file position.

Files are read in fixed-size chunks and split on the segment terminator, so memory stays flat no
matter how many claims a file or a single ST-SE transaction holds. Positions are 1-based segment
numbers counted over the whole file (blank segments are not counted) because that is what a
biller can find again in an editor: "segment 345 (CLM)".

Tolerated deviations, all seen in real or published files: an ISA that is not fixed width (its
elements are split by the element separator rather than read at fixed offsets), a file that starts
at GS or ST (default separators ``* : ~``), line breaks or CRLF after terminators, trailing
whitespace, and composites written with ``>`` while ISA16 says ``:`` (LinuxForHealth samples).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

CHUNK_CHARS = 1 << 18
ISA_ELEMENT_COUNT = 16
DEFAULT_ELEMENT, DEFAULT_COMPONENT, DEFAULT_REPETITION, DEFAULT_SEGMENT = "*", ":", "^", "~"

Segment = list[str]  # element 0 is the segment id ("CLM"), then its elements as sent


class X12FormatError(ValueError):
    """The file cannot be tokenized at all (no ISA/GS/ST, unreadable ISA)."""

    def __init__(self, position: str, reason: str) -> None:
        super().__init__(f"{position}: {reason}")
        self.position = position
        self.reason = reason


@dataclass(frozen=True)
class Delimiters:
    element: str = DEFAULT_ELEMENT
    component: str = DEFAULT_COMPONENT
    repetition: str | None = DEFAULT_REPETITION
    segment: str = DEFAULT_SEGMENT


# A composite whose first component is a short qualifier (HC, ABK, 22 ...) followed by one of these
# characters, while the declared component separator is absent, was written with another separator.
_ALT_COMPONENT = re.compile(r"^[A-Za-z0-9]{1,3}([>:^|!<\\])")


def split_composite(value: str, separator: str) -> list[str]:
    """Components of a composite element, tolerating a component separator other than ISA16."""
    if separator in value:
        return value.split(separator)
    match = _ALT_COMPONENT.match(value)
    if match is not None:
        return value.split(match.group(1))
    return [value]


def _detect_isa(head: str) -> tuple[Delimiters, int]:
    """Separators from an ISA; returns them and the offset of the first character after the ISA.

    ISA16 (the component separator) is the one-character element after the 16th element
    separator and the segment terminator is the character right after it; counting separators
    instead of fixed offsets accepts an ISA whose fields were not padded to width.
    """
    element = head[3]
    if element.isalnum() or element.isspace():
        raise X12FormatError("segment 1 (ISA)", "no element separator after ISA")
    cursor = 0
    for _ in range(ISA_ELEMENT_COUNT):
        cursor = head.find(element, cursor + 1)
        if cursor < 0:
            raise X12FormatError("segment 1 (ISA)", "ISA has fewer than 16 elements")
    if cursor + 2 >= len(head):
        raise X12FormatError("segment 1 (ISA)", "file ends inside the ISA segment")
    component = head[cursor + 1]
    terminator = head[cursor + 2]
    if terminator in "\r\n" and cursor + 3 < len(head) and head[cursor + 3] == "\n":
        terminator = "\n"  # CRLF-terminated file: CR is stripped as whitespace later
    isa_elements = head[:cursor].split(element)
    repetition: str | None = isa_elements[11] if len(isa_elements) > 11 else None
    if repetition is not None and (len(repetition) != 1 or repetition.isalnum()):
        repetition = None  # 4010-style "U": no repetition separator
    if len({element, component, terminator}) < 3:
        raise X12FormatError("segment 1 (ISA)", "element, component and segment separators are not distinct")
    return Delimiters(element, component, repetition, terminator), cursor + 3


def detect_delimiters(head: str) -> tuple[Delimiters, int]:
    """Separators for a file whose first characters (whitespace and BOM already removed) are ``head``."""
    tag = head[:3].upper()
    if tag == "ISA" and len(head) > 3:
        return _detect_isa(head)
    if head[:2].upper() in ("GS", "ST") and len(head) > 2 and not head[2].isalnum():
        element = head[2]
        terminator = DEFAULT_SEGMENT
        if terminator not in head:
            # no "~" anywhere in the first chunk: one segment per line
            terminator = "\n"
        return Delimiters(element, DEFAULT_COMPONENT, DEFAULT_REPETITION, terminator), 0
    raise X12FormatError("segment 1", "not an X12 file: expected it to start with ISA, GS or ST")


class SegmentReader:
    """Iterate ``(position, segment)`` over an X12 file, reading it in chunks.

    Use as a context manager; ``delimiters`` is known after ``__enter__``. The ISA itself is
    yielded as segment 1 (split by the element separator) so readers can see the envelope.
    """

    def __init__(self, path: Path | str, *, chunk_chars: int = CHUNK_CHARS) -> None:
        self.path = Path(path)
        self._chunk_chars = chunk_chars
        self._file = open(self.path, encoding="utf-8", errors="replace", newline="")  # noqa: SIM115
        try:
            first = self._file.read(max(chunk_chars, 1024))  # enough for any ISA, even padded
            stripped = first.lstrip("\ufeff \t\r\n")
            if not stripped:
                raise X12FormatError("segment 1", "the file is empty")
            self.delimiters, _ = detect_delimiters(stripped)
        except BaseException:
            self._file.close()
            raise
        self._pending = stripped

    def __enter__(self) -> SegmentReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def __iter__(self) -> Iterator[tuple[int, Segment]]:
        terminator = self.delimiters.segment
        element = self.delimiters.element
        read = self._file.read
        size = self._chunk_chars
        rest = self._pending
        self._pending = ""
        position = 0
        while True:
            chunk = read(size)
            if not chunk:
                break
            pieces = (rest + chunk).split(terminator)
            rest = pieces.pop()
            for piece in pieces:
                text = piece.strip()
                if text:
                    position += 1
                    yield position, text.split(element)
        pieces = rest.split(terminator)
        for piece in pieces:
            text = piece.strip()
            if text:
                position += 1
                yield position, text.split(element)


def iter_segments(path: Path | str) -> Iterator[tuple[int, Segment]]:
    """All segments of a file with their positions; the file is closed when iteration ends."""
    with SegmentReader(path) as reader:
        yield from reader


class BadSegment(Exception):
    """A segment of the current claim that cannot be read; carries the reason for the RecordError."""


def element(seg: Segment, index: int) -> str:
    return seg[index] if len(seg) > index else ""


def iso_date(value: str) -> str:
    """CCYYMMDD (or the first date of an RD8 range) as ISO; other text is left for the model to reject."""
    first = value[:8]
    if len(first) == 8 and first.isdigit():
        return f"{first[:4]}-{first[4:6]}-{first[6:8]}"
    return value


def number(seg: Segment, index: int, name: str) -> float | None:
    """An X12 R-type element as a float; a non-number rejects the claim it belongs to."""
    text = seg[index].strip() if len(seg) > index else ""
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise BadSegment(f"{seg[0]}{index:02d} ({name}) is not a number") from None
