from __future__ import annotations

from pathlib import Path

import pytest

from edi.segments import SegmentReader, X12FormatError, iter_segments, split_composite

ISA = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260115*1200*^*00501*000000101*0*T*:~"


def _write(tmp_path: Path, text: str, name: str = "f.x12") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_separators_come_from_the_isa(tmp_path: Path) -> None:
    text = ISA.replace("*", "|").replace(":~", ">!").replace("^", "{") + "GS|HC|A!ST|837|1!SE|2|1!"
    with SegmentReader(_write(tmp_path, text)) as reader:
        assert reader.delimiters.element == "|"
        assert reader.delimiters.component == ">"
        assert reader.delimiters.segment == "!"
        assert reader.delimiters.repetition == "{"
        segments = list(reader)
    assert [s[0] for _, s in segments] == ["ISA", "GS", "ST", "SE"]
    assert segments[2] == (3, ["ST", "837", "1"])


def test_isa_that_is_not_fixed_width(tmp_path: Path) -> None:
    text = "ISA*00**00**ZZ*S*ZZ*R*260115*1200*^*00501*1*0*T*:~GS*HC*S*R~ST*837*1~SE*2*1~"
    with SegmentReader(_write(tmp_path, text)) as reader:
        assert reader.delimiters.component == ":"
        assert reader.delimiters.segment == "~"
        assert [s[0] for _, s in reader] == ["ISA", "GS", "ST", "SE"]


def test_file_starting_at_st_uses_default_separators(tmp_path: Path) -> None:
    with SegmentReader(_write(tmp_path, "ST*837*0001~BHT*0019~SE*3*0001~")) as reader:
        assert (reader.delimiters.element, reader.delimiters.component, reader.delimiters.segment) == ("*", ":", "~")
        assert [pos for pos, _ in reader] == [1, 2, 3]


def test_crlf_newlines_and_trailing_whitespace_are_ignored(tmp_path: Path) -> None:
    text = "\ufeff  " + ISA + "\r\nGS*HC*S*R~\r\n\r\nST*837*1~  \nSE*2*1~\r\n   \n"
    segments = list(iter_segments(_write(tmp_path, text)))
    assert [s for _, s in segments][1:] == [["GS", "HC", "S", "R"], ["ST", "837", "1"], ["SE", "2", "1"]]
    assert [pos for pos, _ in segments] == [1, 2, 3, 4]


def test_segments_split_across_chunks_keep_their_positions(tmp_path: Path) -> None:
    body = "".join(f"REF*6R*LINE{i}~\n" for i in range(500))
    path = _write(tmp_path, ISA + "ST*837*1~" + body + "SE*502*1~")
    small = list(SegmentReader(path, chunk_chars=7))
    big = list(SegmentReader(path))
    assert small == big
    assert small[400] == (401, ["REF", "6R", "LINE398"])


def test_not_x12_is_a_format_error_naming_the_segment(tmp_path: Path) -> None:
    with pytest.raises(X12FormatError, match="segment 1"):
        SegmentReader(_write(tmp_path, "claim_id,charge\nA,1\n"))
    with pytest.raises(X12FormatError, match="empty"):
        SegmentReader(_write(tmp_path, "  \n"))
    with pytest.raises(X12FormatError, match="ISA"):
        SegmentReader(_write(tmp_path, "ISA*00*00*ZZ"))


def test_composites_split_with_declared_or_visibly_different_separator() -> None:
    assert split_composite("HC:J3490:JW::::DRUG 5MG", ":") == ["HC", "J3490", "JW", "", "", "", "DRUG 5MG"]
    assert split_composite("HC>00142>QK>QS>P1", ":") == ["HC", "00142", "QK", "QS", "P1"]
    assert split_composite("ABK>M069", ":") == ["ABK", "M069"]
    assert split_composite("UN", ":") == ["UN"]
    assert split_composite("DRUG 1:10", ">") == ["DRUG 1:10"]  # a ":" after 4+ characters is data
