"""The Arrow path: JSONL lines in chunks, parsed by ``pyarrow.json`` and checked as whole columns.

Validating a million claims one by one with pydantic and then pivoting them into columns costs
tens of microseconds per claim; so large files are parsed by ``pyarrow.json`` in chunks of lines,
the model's constraints are applied to whole columns (``claims.vector_checks``), and only records
that fail a vectorized check (or that Arrow cannot parse) are re-read one by one by
``claims.records`` with pydantic. Doubtful by construction, so sent to pydantic:

* an explicit ``null`` for a field whose default is not ``None`` (Arrow cannot tell ``null``
  from absent, pydantic rejects the first and defaults the second) -- found by a regex, run after
  the parse and only on the lines where such a field is null to Arrow; a key spelt with escapes
  (it could hide such a name) is found by a regex on every line before the parse;
* lines where two JSON values could share a line (``}{``) -- Arrow would give two rows for one line;
* lines that do not start with ``{``, or that are not valid UTF-8 (Arrow does not check);
* whole Arrow parse failures (malformed JSON, a wrong type, an unknown field fail the whole block):
  the block is bisected until the bad lines are isolated, so one bad record costs a few small
  re-parses instead of a chunk read by pydantic.

Shared by the claim reader (``claims.jsonl``) and the remittance-row reader
(``claims.remittance_jsonl``).
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
from pydantic import BaseModel

from claims.errors import InputError
from claims.model_spec import (
    ESCAPED_KEY,
    TWO_VALUES,
    FieldSpec,
    arrow_schema,
    doubtful_line_pattern,
    explicit_null_pattern,
    model_spec,
)
from claims.vector_checks import flat_array, np_bool, rows_failing

CHUNK_BYTES = 16 << 20  # lines are read and parsed in blocks of about this size
ARROW_BLOCK_BYTES = 4 << 20  # pyarrow block size: a few blocks per chunk let it use all cores (1 MiB
# blocks cost a third more CPU in per-block overhead; measured on 238 MB of claims)
MIN_BISECT_LINES = 16  # a failed Arrow parse of this many lines or fewer goes line by line to pydantic
SPLIT_WAYS = 4  # a failed Arrow parse is retried in this many parts (fewer re-parses than halving)
JSON_WHITESPACE = b" \t\r\n"
UTF8_BOM = b"\xef\xbb\xbf"
_OPEN_BRACE = ord("{")


Bytes = bytes | memoryview  # a chunk: a slice of the memory-mapped file, or bytes


@dataclass
class ChunkLines:
    """A chunk split into lines without copying: a binary Arrow array over the chunk's bytes."""

    chunk: Bytes
    lines: pa.BinaryArray
    offsets: np.ndarray  # int32, len(lines) + 1: line i is chunk[offsets[i]:offsets[i + 1]]
    numbers: np.ndarray  # 1-based line number per line

    @staticmethod
    def split(chunk: Bytes, lines_before: int) -> ChunkLines:
        buf = np.frombuffer(chunk, dtype=np.uint8)
        ends = np.flatnonzero(buf == 10) + 1
        offsets = np.empty(ends.size + 1, dtype=np.int32)
        offsets[0] = 0
        offsets[1:] = ends
        lines = pa.Array.from_buffers(
            pa.binary(), ends.size, [None, pa.py_buffer(offsets), pa.py_buffer(chunk)]
        )
        numbers = np.arange(lines_before + 1, lines_before + 1 + ends.size, dtype=np.int64)
        return ChunkLines(chunk, lines, offsets, numbers)

    def raw(self, index: int) -> bytes:
        """Line ``index`` without its newline."""
        return bytes(self.chunk[int(self.offsets[index]) : int(self.offsets[index + 1]) - 1])

    def joined(self, indices: np.ndarray) -> pa.Buffer:
        if indices.size == len(self.lines):
            return pa.py_buffer(self.chunk)
        picked = self.lines.take(pa.array(indices, type=pa.int64()))
        offsets = np.frombuffer(picked.buffers()[1], dtype=np.int32)[
            picked.offset : picked.offset + len(picked) + 1
        ]
        return picked.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


@dataclass(frozen=True)
class JsonlShape:
    """What a JSONL file of one pydantic model looks like to the Arrow path."""

    spec: FieldSpec
    parse_options: pa_json.ParseOptions
    doubtful_line: str
    extra_check: Callable[[pa.Table], np.ndarray] | None = None  # model validators, per row
    explicit_null: str = ""  # explicit_null_pattern(spec); "" matches every line (all doubtful)

    @staticmethod
    def of(model: type[BaseModel], extra_check: Callable[[pa.Table], np.ndarray] | None = None) -> JsonlShape:
        spec = model_spec(model)
        # "infer" rather than "error": an unknown field then does not fail a whole block without
        # saying where; it shows up as an extra column and the lines naming it go to pydantic.
        options = pa_json.ParseOptions(explicit_schema=arrow_schema(spec), unexpected_field_behavior="infer")
        return JsonlShape(spec, options, doubtful_line_pattern(spec), extra_check, explicit_null_pattern(spec))

    def rows_failing(self, table: pa.Table, maybe_null: np.ndarray | None = None) -> np.ndarray:
        bad = rows_failing(self.spec, table, maybe_null)
        if self.extra_check is not None:
            bad |= self.extra_check(table)
        return bad


def _arrow_candidates(chunk: ChunkLines) -> tuple[np.ndarray, np.ndarray]:
    """Split line indices into (parsed by Arrow, sent to pydantic); blank lines are in neither.

    An explicit null where only absence is allowed is looked for after the parse, and only on the
    rows where such a field is null to Arrow (``_explicit_nulls``), not on every line."""
    n = len(chunk.lines)
    buf = np.frombuffer(chunk.chunk, dtype=np.uint8)
    starts_object = buf[chunk.offsets[:n]] == _OPEN_BRACE
    doubtful = np_bool(pc.match_substring_regex(chunk.lines, TWO_VALUES), True)
    doubtful |= np_bool(pc.match_substring_regex(chunk.lines, ESCAPED_KEY), True)
    candidate = starts_object & ~doubtful
    try:
        pa.Array.from_buffers(pa.string(), n, chunk.lines.buffers()).validate(full=True)
    except pa.ArrowInvalid:  # rare: find the lines that are not UTF-8 and let orjson word the error
        for index in np.flatnonzero(candidate):
            try:
                chunk.raw(int(index)).decode("utf-8")
            except UnicodeDecodeError:
                candidate[index] = False
    to_pydantic = [i for i in np.flatnonzero(~candidate) if not is_blank(chunk.raw(int(i)))]
    return np.flatnonzero(candidate), np.asarray(to_pydantic, dtype=np.int64)


def _explicit_nulls(chunk: ChunkLines, rows: np.ndarray, maybe_null: np.ndarray, pattern: str) -> np.ndarray:
    """Per parsed row (line ``rows[i]``): does its line spell an explicit null where only absence
    is allowed? Only rows where such a field is null to Arrow (``maybe_null``) can."""
    suspect = np.flatnonzero(maybe_null)
    found = np.zeros(rows.size, dtype=bool)
    if suspect.size:
        text = chunk.lines.take(pa.array(rows[suspect], type=pa.int64()))
        found[suspect] = np_bool(pc.match_substring_regex(text, pattern), True)
    return found


def _read_json(buffer: pa.Buffer, options: pa_json.ParseOptions, *, single_block: bool) -> pa.Table:
    read_options = (
        pa_json.ReadOptions(use_threads=False, block_size=max(buffer.size + 1, ARROW_BLOCK_BYTES))
        if single_block
        else pa_json.ReadOptions(use_threads=True, block_size=ARROW_BLOCK_BYTES)
    )
    return pa_json.read_json(pa.BufferReader(buffer), read_options=read_options, parse_options=options)


_ROW_HINT = re.compile(r" in row (\d+)$")


def _parse_arrow(
    chunk: ChunkLines, indices: np.ndarray, options: pa_json.ParseOptions
) -> tuple[list[tuple[pa.Table, np.ndarray]], list[np.ndarray]]:
    """Parse the given lines with Arrow, isolating the lines it cannot parse.

    Returns (tables with the line index of each row, line indices left to pydantic). The first
    attempt uses all cores; after a failure, parts are parsed as one block each, so Arrow's
    error names the failing row ("... in row N") and only that line is set aside. Errors without
    a row (an unexpected field, a float for an integer) are isolated by splitting the part."""
    tables: list[tuple[pa.Table, np.ndarray]] = []
    rest: list[np.ndarray] = []
    pending = [indices]
    single_block = False
    while pending:
        part = pending.pop()
        try:
            table = _read_json(chunk.joined(part), options, single_block=single_block)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            hint = _ROW_HINT.search(str(exc)) if single_block else None
            row = int(hint.group(1)) if hint else -1
            single_block = True
            if 0 <= row < part.size:
                rest.append(part[row : row + 1])
                pending.extend(p for p in (part[:row], part[row + 1 :]) if p.size)
            elif part.size <= MIN_BISECT_LINES:
                rest.append(part)
            else:
                pending.extend(np.array_split(part, min(SPLIT_WAYS, part.size)))
            continue
        if table.num_rows == part.size:
            table, unknown = _known_fields_only(table, options.explicit_schema)
            if unknown:
                named = np.zeros(part.size, dtype=bool)
                for name in unknown:
                    named |= np_bool(pc.match_substring(chunk.lines.take(pa.array(part)), f'"{name}"'), True)
                rest.append(part[named])
                table, part = table.filter(pa.array(~named)), part[~named]
            tables.append((table, part))
        elif part.size <= MIN_BISECT_LINES:
            rest.append(part)
        else:  # a line held more or fewer than one value: find it by splitting
            pending.extend(np.array_split(part, min(SPLIT_WAYS, part.size)))
    return tables, rest


def _known_fields_only(table: pa.Table, schema: pa.Schema) -> tuple[pa.Table, set[str]]:
    """The table reduced to ``schema``, and the names of the unknown fields Arrow inferred."""
    if table.schema.equals(schema):
        return table, set()
    unknown: set[str] = set(table.column_names) - set(schema.names)
    columns = []
    for target in schema:
        columns.append(_project(flat_array(table.column(target.name)), target.type, unknown))
    return pa.Table.from_arrays(columns, schema=schema), unknown


def _project(values: pa.Array, target: pa.DataType, unknown: set[str]) -> pa.Array:
    if values.type.equals(target):
        return values
    if pa.types.is_struct(target):
        present = {values.type.field(i).name for i in range(values.type.num_fields)}
        unknown |= present - {f.name for f in target}
        children = [_project(values.field(f.name), f.type, unknown) for f in target]
        return pa.StructArray.from_arrays(children, fields=list(target), mask=values.is_null())
    if pa.types.is_list(target):
        return pa.ListArray.from_arrays(
            values.offsets,
            _project(values.values, target.value_type, unknown),
            type=target,
            mask=values.is_null(),
        )
    raise pa.ArrowTypeError(f"unexpected type {values.type} for {target}")


def split_chunk(chunk: ChunkLines, shape: JsonlShape) -> tuple[pa.Table | None, np.ndarray, np.ndarray]:
    """(table of the rows Arrow read and the model accepts, their line indices, line indices
    left for pydantic in ascending order)."""
    arrow_lines, doubtful_lines = _arrow_candidates(chunk)
    pydantic_lines = [doubtful_lines]
    table: pa.Table | None = None
    rows = np.empty(0, dtype=np.int64)
    if arrow_lines.size:
        parsed, unparsed = _parse_arrow(chunk, arrow_lines, shape.parse_options)
        pydantic_lines.extend(unparsed)
        if parsed:
            table = pa.concat_tables([t for t, _ in parsed]).combine_chunks()
            rows = np.concatenate([r for _, r in parsed])
            if rows.size > 1 and np.any(rows[1:] < rows[:-1]):
                order = np.argsort(rows, kind="stable")
                table, rows = table.take(pa.array(order)), rows[order]
            maybe_null = np.zeros(rows.size, dtype=bool)
            bad = shape.rows_failing(table, maybe_null)
            bad |= _explicit_nulls(chunk, rows, maybe_null & ~bad, shape.explicit_null)
            if bad.any():
                pydantic_lines.append(rows[bad])
                table = table.filter(pa.array(~bad))
                rows = rows[~bad]
    return table, rows, np.sort(np.concatenate(pydantic_lines))


def line_chunks(path: Path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[ChunkLines]:
    """The lines of a file in chunks of about ``chunk_bytes`` (BOM dropped, a newline added after
    the last line): slices of the memory-mapped file, so nothing is copied before Arrow parses."""
    path = Path(path)
    require_file(path)
    yield from mapped_chunks(path, 0, path.stat().st_size, 0, chunk_bytes)


def mapped_chunks(path: Path, start: int, stop: int, lines_before: int, chunk_bytes: int) -> Iterator[ChunkLines]:
    """Chunks of whole lines of bytes ``start:stop`` of a file; line numbers count from ``lines_before``."""
    if stop <= start:
        return
    with path.open("rb") as handle:
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    # No close(): the chunks handed out are views of the map, which lives as long as they do.
    view = memoryview(data)
    if start == 0 and data[: len(UTF8_BOM)] == UTF8_BOM:
        start = len(UTF8_BOM)
    offset = start
    while offset < stop:
        cut = data.rfind(b"\n", offset, min(offset + chunk_bytes, stop))
        if cut < 0:
            cut = data.find(b"\n", offset + chunk_bytes, stop)
        piece: Bytes = view[offset : cut + 1] if cut >= 0 else bytes(view[offset:stop]) + b"\n"
        chunk = ChunkLines.split(piece, lines_before)
        lines_before += len(chunk.lines)
        offset = cut + 1 if cut >= 0 else stop
        yield chunk




def is_blank(raw: bytes) -> bool:
    return not raw.strip(JSON_WHITESPACE)



def require_file(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{path}: no such file")

