"""Small but real files of each type smweb accepts, made here rather than shipped."""

import io
import struct
import zipfile
import zlib


def png(width: int = 1, height: int = 1) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\0" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                              0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def pdf(text: str = "Lab results") -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n% " + text.encode()
            + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _zip(first: tuple[str, bytes], *rest: tuple[str, bytes],
         compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in (first, *rest):
            archive.writestr(name, data)
    return buffer.getvalue()


def ooxml_with(*extra: tuple[str, bytes], part: str = "word") -> bytes:
    """An Office Open XML file with more members in it (a macro project, a huge sheet)."""
    return _zip(("[Content_Types].xml", b"<Types/>"), ("_rels/.rels", b"<Relationships/>"),
                (f"{part}/document.xml", b"<document/>"), *extra,
                compression=zipfile.ZIP_DEFLATED)


def ooxml(part: str) -> bytes:
    return _zip(("[Content_Types].xml", b"<Types/>"), ("_rels/.rels", b"<Relationships/>"),
                (f"{part}/document.xml", b"<document/>"))


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024

STANDARD = {
    "note.txt": b"My blood pressure this week: 128/82, 131/85.\n",
    "scan.pdf": pdf(),
    "rash.png": png(2, 2),
    "photo.jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
                 + b"\x00" * 64 + b"\xff\xd9",
    "photo2.jpeg": b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00" + b"\x01" * 64 + b"\xff\xd9",
    "anim.gif": b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01"
                b"\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
    "letter.rtf": b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}} Hello team.}",
    "old.doc": OLE2,
    "sheet.xls": OLE2 + b"\x01",
    "letter.docx": ooxml("word"),
    "log.xlsx": ooxml("xl"),
}

LARGE_ONLY = {
    "xray.bmp": b"BM" + struct.pack("<IHHI", 70, 0, 0, 54) + b"\0" * 62,
    "xray.tif": b"II*\x00\x08\x00\x00\x00" + b"\0" * 32,
    "talk.pptx": ooxml("ppt"),
    "text.odt": _zip(("mimetype", b"application/vnd.oasis.opendocument.text"),
                     ("content.xml", b"<office:document-content/>")),
    "walk.mp4": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\0" * 32,
}

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
