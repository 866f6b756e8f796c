"""Walk a JPEG's segments from SOI to EOI without decoding its pixels.

Why: entropy-decoding a JPEG, even at 1/8 scale, costs 3-15x copying the file, and what it
catches beyond the structure is little: libjpeg treats corrupt entropy data as a warning
(Pillow loads it), and reports truncation as "the data ended before the image did". Walking
the segments catches the same truncated files (no EOI after the scans) and checks the tables
libjpeg would refuse (Huffman code lengths, frame and scan parameters). Anything this walk does
not fully understand (arithmetic coding, lossless, 12-bit, DNL, restart markers outside a
scan) is answered ``False``, and the caller decodes the image as before: the walk only ever
saves work, it never accepts what it cannot vouch for.

``jpeg_layout`` also returns what Pillow's header parse would find (size, components), and whether
the metadata segments are ones Pillow's parse only stores (no EXIF, ICC, MPF, Photoshop or Adobe
segment, which it interprets and may choke on): such a file needs no Pillow at all.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# The next marker inside entropy-coded data: 0xFF followed by neither a stuffed 0x00, a
# restart marker (RST0-7), nor a fill byte.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_EOI, _SOS, _DHT, _DQT, _DRI = 0xD9, 0xDA, 0xC4, 0xDB, 0xDD
_SOF_SEQUENTIAL = (0xC0, 0xC1)
_SOF_PROGRESSIVE = 0xC2
# APP0-15 and COM: metadata, skipped by length.
_SKIPPED = frozenset(range(0xE0, 0xF0)) | {0xFE}


@dataclass(frozen=True, slots=True)
class JpegLayout:
    """A JPEG the walk vouches for, as Pillow's header parse would describe it."""

    width: int
    height: int
    components: int
    # Only metadata Pillow stores without interpreting: its header parse cannot fail on it.
    plain_metadata: bool


class _Frame:
    __slots__ = ("height", "max_table", "progressive", "quant_of", "width")

    def __init__(
        self, quant_of: dict[int, int], progressive: bool, max_table: int, width: int, height: int
    ) -> None:
        self.quant_of = quant_of  # component id -> quantisation table id
        self.progressive = progressive
        self.max_table = max_table
        self.width, self.height = width, height


class _Tables:
    """Which quantisation and Huffman tables have been defined so far."""

    __slots__ = ("huffman", "quant")

    def __init__(self) -> None:
        self.quant: set[int] = set()
        self.huffman: set[tuple[int, int]] = set()  # (0 = DC / 1 = AC, table id)


def jpeg_is_complete(data: bytes) -> bool:
    """True when ``data`` is SOI, well-formed segments and scans, then EOI (bytes after EOI are
    ignored, as libjpeg ignores them). False means "decode it to find out", not "broken"."""
    return jpeg_layout(data) is not None


def jpeg_layout(data: bytes) -> JpegLayout | None:
    """``data``'s layout when it is SOI, well-formed segments and scans, then EOI; None means
    "decode it to find out", not "broken"."""
    if not data.startswith(b"\xff\xd8"):
        return None
    end, pos = len(data), 2
    frame: _Frame | None = None
    tables = _Tables()
    scans = 0
    plain = True
    while pos + 1 < end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # a fill byte before a marker
            pos += 1
            continue
        pos += 2
        if marker == _EOI:
            if frame is None or scans == 0:
                return None
            return JpegLayout(frame.width, frame.height, len(frame.quant_of), plain)
        length = int.from_bytes(data[pos : pos + 2], "big")
        if pos + 2 > end or length < 2 or pos + length > end:
            return None
        body = data[pos + 2 : pos + length]
        pos += length
        if marker == _SOS:
            found = _NEXT_MARKER.search(data, pos)
            # No marker after the entropy-coded data: it runs to the end, so it is truncated.
            if frame is None or found is None or not _scan_ok(body, frame, tables):
                return None
            pos, scans = found.start(), scans + 1
        elif marker in _SOF_SEQUENTIAL or marker == _SOF_PROGRESSIVE:
            frame = None if frame else _frame(body, marker)
            if frame is None:  # a second frame header, or one we do not vouch for
                return None
        elif not _segment_ok(marker, body, tables):
            return None
        elif plain and marker in _SKIPPED:
            plain = _stored_as_is(marker, body)
    return None


def _stored_as_is(marker: int, body: bytes) -> bool:
    """Whether Pillow's header parse only stores this metadata segment (see JpegImagePlugin.APP):
    EXIF is parsed for its DPI, ICC fragments are indexed, MPF makes an MPO, Photoshop and Adobe
    segments are parsed, and a JFIF segment needs its version field."""
    if marker == 0xE0:
        return not body.startswith(b"JFIF") or len(body) >= 14
    if marker == 0xE1:
        return not body.startswith(b"Exif")
    if marker == 0xE2:
        return False
    if marker == 0xED:
        return not body.startswith(b"Photoshop")
    if marker == 0xEE:
        return not body.startswith(b"Adobe")
    return True


def _segment_ok(marker: int, body: bytes, tables: _Tables) -> bool:
    if marker == _DHT:
        return _huffman_tables_ok(body, tables)
    if marker == _DQT:
        return _quant_tables_ok(body, tables)
    return marker == _DRI or marker in _SKIPPED


def _frame(body: bytes, marker: int) -> _Frame | None:
    """SOF0/1/2 with 8-bit samples, a known height (no DNL) and 1-4 distinct components."""
    if len(body) < 6:
        return None
    precision, height, width, count = body[0], body[1] << 8 | body[2], body[3] << 8 | body[4], body[5]
    if precision != 8 or height == 0 or width == 0 or not 1 <= count <= 4 or len(body) != 6 + 3 * count:
        return None
    quant_of: dict[int, int] = {}
    for index in range(count):
        ident, sampling, table = body[6 + 3 * index : 9 + 3 * index]
        if not (1 <= sampling >> 4 <= 4 and 1 <= sampling & 15 <= 4 and table <= 3) or ident in quant_of:
            return None
        quant_of[ident] = table
    return _Frame(quant_of, marker == _SOF_PROGRESSIVE, 1 if marker == 0xC0 else 3, width, height)


def _scan_ok(body: bytes, frame: _Frame, tables: _Tables) -> bool:
    """The scan header is valid and every table it needs is defined (libjpeg stops otherwise)."""
    count = body[0] if body else 0
    if not 1 <= count <= 4 or len(body) != 4 + 2 * count:
        return False
    start, stop, approximation = body[-3], body[-2], body[-1]
    high, low = approximation >> 4, approximation & 15
    if frame.progressive:  # libjpeg's "Invalid progressive parameters" checks
        spectral_ok = stop == 0 if start == 0 else start <= stop <= 63 and count == 1
        if not (spectral_ok and high <= 13 and low <= 13 and (high == 0 or low == high - 1)):
            return False
        needs_dc, needs_ac = start == 0 and high == 0, start > 0
    elif (start, stop, approximation) != (0, 63, 0):
        return False
    else:
        needs_dc = needs_ac = True
    for index in range(count):
        ident, selectors = body[1 + 2 * index], body[2 + 2 * index]
        dc, ac = selectors >> 4, selectors & 15
        if ident not in frame.quant_of or frame.quant_of[ident] not in tables.quant:
            return False
        if dc > frame.max_table or ac > frame.max_table:
            return False
        if (needs_dc and (0, dc) not in tables.huffman) or (needs_ac and (1, ac) not in tables.huffman):
            return False
    return True


def _huffman_tables_ok(body: bytes, tables: _Tables) -> bool:
    defined = _huffman_tables(body)
    tables.huffman.update(defined or ())
    return defined is not None


# Most files of one camera or encoder carry the same tables: check each distinct segment once.
@functools.lru_cache(maxsize=256)
def _huffman_tables(body: bytes) -> frozenset[tuple[int, int]] | None:
    """The tables a DHT segment defines, or None unless every one is well-formed as libjpeg's
    jpeg_make_d_derived_tbl demands."""
    defined = set()
    pos = 0
    while pos < len(body):
        kind, table = body[pos] >> 4, body[pos] & 15
        counts = body[pos + 1 : pos + 17]
        total = sum(counts)
        values = body[pos + 17 : pos + 17 + total]
        if len(counts) != 16 or kind > 1 or table > 3 or total > 256 or len(values) != total:
            return None
        if kind == 0 and values and max(values) > 15:  # DC symbols are bit counts
            return None
        code = 0
        for size, count in enumerate(counts, start=1):
            code += count
            if code >= 1 << size:  # more codes than fit: "Bogus Huffman table definition"
                return None
            code <<= 1
        defined.add((kind, table))
        pos += 17 + total
    return frozenset(defined)


def _quant_tables_ok(body: bytes, tables: _Tables) -> bool:
    pos = 0
    while pos < len(body):
        precision, table = body[pos] >> 4, body[pos] & 15
        size = 1 + (128 if precision else 64)
        if precision > 1 or table > 3 or pos + size > len(body):
            return False
        tables.quant.add(table)
        pos += size
    return True
