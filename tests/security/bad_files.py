"""Builders of broken files: damaged XLSX parts, a zip bomb, deeply nested JSON.

Used by make_corpus.py (files committed under corpus/) and by tests that make a
file too large to commit (the zip bomb is built in a few milliseconds from one
compressed block repeated).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def replace_member(xlsx: bytes, member: str, data: bytes | None) -> bytes:
    """The same XLSX with one zip member replaced (or left out when `data` is None)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename != member:
                dst.writestr(info, src.read(info.filename))
            elif data is not None:
                dst.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def truncate_member(xlsx: bytes, member: str, keep: float = 0.5) -> bytes:
    """The XLSX with one member's XML cut off partway (a half-written file)."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src:
        data = src.read(member)
    return replace_member(xlsx, member, data[: max(1, int(len(data) * keep))])


def corrupt_member_data(xlsx: bytes, member: str) -> bytes:
    """The XLSX with one member's compressed bytes damaged (its CRC no longer fits)."""
    raw = bytearray(xlsx)
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src:
        info = src.getinfo(member)
    # Local header: 30 bytes plus name and extra field, then the compressed data.
    name_len, extra_len = struct.unpack(
        "<HH", raw[info.header_offset + 26 : info.header_offset + 30]
    )
    start = info.header_offset + 30 + name_len + extra_len
    for i in range(start, start + min(info.compress_size, 64)):
        raw[i] ^= 0x5A
    return bytes(raw)


def zip_bomb(member: str = "xl/worksheets/sheet1.xml", unpacked: int = 1 << 30) -> bytes:
    """A zip whose one member inflates to `unpacked` bytes of spaces (about 1 MB per GiB).

    The deflate stream is one compressed MiB repeated: after a full flush the
    compressor starts afresh, so every MiB compresses to the same bytes. The CRC is
    not computed (that would mean reading a GiB); a reader that checks sizes first
    never gets that far."""
    chunk = b" " * (1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    assert block == again
    data = block * (unpacked >> 20) + comp.flush(zlib.Z_FINISH)
    name = member.encode()
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, 0, len(data), unpacked, len(name), 0
    )
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50,
        20,
        20,
        0,
        8,
        0,
        0,
        0,
        len(data),
        unpacked,
        len(name),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    cd_offset = len(local) + len(name) + len(data)
    cd = central + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(cd), cd_offset, 0)
    return local + name + data + cd + end


def deep_json(depth: int, table: str = "kinderen") -> bytes:
    """{"table": [[[[ ... ]]]]}: arrays nested `depth` deep."""
    return ('{"' + table + '": ' + "[" * depth + "]" * depth + "}").encode()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row>'
    b"</sheetData></worksheet>"
)
