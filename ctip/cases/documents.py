"""Checking and storing uploaded files: allowed types by their content (not their name),
size limit, metadata (EXIF/GPS) stripped from images, bytes encrypted under the case key."""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from ctip.core import crypto

MAX_BYTES_DEFAULT = 10 * 1024 * 1024

# extension -> (content type, magic prefix)
ALLOWED = {
    "pdf": ("application/pdf", b"%PDF-"),
    "jpg": ("image/jpeg", b"\xff\xd8\xff"),
    "jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    "png": ("image/png", b"\x89PNG\r\n\x1a\n"),
}
# Markup that makes a file dangerous if a browser ever sniffs it as a page (polyglots).
MARKUP = (b"<html", b"<script", b"<svg", b"<!doctype", b"<iframe", b"<body")


class UploadRejected(ValueError):
    """The message is for the user, in their language."""


def max_bytes() -> int:
    return int(getattr(settings, "CTIP_UPLOAD_MAX_BYTES", MAX_BYTES_DEFAULT))


@dataclass(frozen=True)
class CheckedFile:
    content: bytes
    content_type: str
    extension: str


def check_upload(name: str, content: bytes) -> CheckedFile:
    limit = max_bytes()
    if len(content) > limit:
        raise UploadRejected(
            _("The file is too large: at most %(mb)s MB.") % {"mb": limit // (1024 * 1024)}
        )
    if not content:
        raise UploadRejected(_("The file is empty."))
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ALLOWED:
        raise UploadRejected(_("Only PDF, JPEG and PNG files can be uploaded."))
    content_type, magic = ALLOWED[extension]
    if not content.startswith(magic):
        raise UploadRejected(
            _("The file's content does not match its type (%(ext)s).") % {"ext": extension.upper()}
        )
    head = content[:4096].lower()
    if any(tag in head for tag in MARKUP) or (
        content_type != "application/pdf" and any(tag in content.lower() for tag in MARKUP)
    ):
        raise UploadRejected(_("The file contains web page markup and was refused."))
    if content_type == "image/jpeg":
        content = strip_jpeg_metadata(content)
    elif content_type == "image/png":
        content = strip_png_metadata(content)
    return CheckedFile(content, content_type, "jpg" if extension == "jpeg" else extension)


def strip_jpeg_metadata(data: bytes) -> bytes:
    """Drop APP1..APP15 segments (EXIF, GPS, XMP, ...) and comments; keep the image."""
    if not data.startswith(b"\xff\xd8"):
        return data
    out, i = bytearray(b"\xff\xd8"), 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise UploadRejected(_("The image is damaged."))
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            out += data[i:]
            return bytes(out)
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        segment = data[i : i + 2 + length]
        if not (0xE1 <= marker <= 0xEF or marker == 0xFE):
            out += segment
        i += 2 + length
    raise UploadRejected(_("The image is damaged."))


def strip_png_metadata(data: bytes) -> bytes:
    """Drop text and EXIF chunks (tEXt, zTXt, iTXt, eXIf, tIME) from a PNG."""
    out, i = bytearray(data[:8]), 8
    while i + 8 <= len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        chunk = data[i : i + 12 + length]
        if kind not in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"):
            out += chunk
        i += 12 + length
        if kind == b"IEND":
            return bytes(out)
    raise UploadRejected(_("The image is damaged."))


def _aad(document) -> bytes:
    return f"cases.casedocument.content|{document.pk}|{document.data_key_id}".encode()


def seal_content(document, plain: bytes) -> bytes:
    blob = crypto.aes_seal(document.data_key.secret(), plain, _aad(document))
    return base64.b64encode(blob)


def open_content(document) -> bytes:
    blob = base64.b64decode(bytes(document.content))
    return crypto.aes_open(
        document.data_key.secret(), blob, _aad(document), what=f"document {document.pk}"
    )
