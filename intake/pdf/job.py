"""What a web worker hands the PDF renderer process, and how it crosses the pipe between them.

Standard library only: the renderer process imports this and WeasyPrint and nothing of the web
application, so it stays small (``intake.pdf.engine``); the web worker imports this and never
WeasyPrint (``intake.pdf.renderer``).

On the pipe, a job is one frame of JSON (the HTML, each attachment's bytes in base64) and a reply
one status byte and a frame of bytes: the PDF, or the name of the error's type. Never its message:
the renderer's errors could quote the document, and the reply may end up in a log.
"""

from __future__ import annotations

import base64
import json
import re
import struct
from dataclasses import dataclass
from datetime import datetime
from hashlib import md5
from typing import IO, Any

#: A MIME type that is also a plain PDF name once its "/" is escaped (no parameters, no spaces).
_MIME_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]*/[A-Za-z0-9][A-Za-z0-9.+-]*")
_LENGTH = struct.Struct(">Q")
#: Bytes in a frame header (the body's length).
HEADER_SIZE = _LENGTH.size

OK = b"+"
FAILED = b"-"


@dataclass(frozen=True)
class PdfAttachment:
    """A file embedded in the PDF as a PDF/A-3 associated file, e.g. the intake's FHIR JSON.

    ``created`` (the submission time) is written as both creation and modification date: a
    default of "now" would make two renders of the same answers differ. ``name`` and
    ``description`` are readable without opening the file, so they must not identify the
    patient.
    """

    name: str
    data: bytes
    mime_type: str
    description: str
    created: datetime

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or "\\" in self.name:
            raise ValueError("attachment name must be a plain, non-empty file name")
        if not _MIME_TYPE.fullmatch(self.mime_type):
            raise ValueError(f"attachment mime_type {self.mime_type!r} is not type/subtype")
        if self.created.tzinfo is None:
            raise ValueError("attachment created must be timezone-aware")

    @property
    def checksum(self) -> str:
        """The /CheckSum WeasyPrint writes for this file: how the finisher finds it again."""
        return f"<{md5(self.data, usedforsecurity=False).hexdigest()}>"


@dataclass(frozen=True)
class RenderJob:
    """One PDF to make: self-contained HTML and the files to embed in it."""

    html: str
    attachments: tuple[PdfAttachment, ...] = ()

    def encode(self) -> bytes:
        payload = {
            "html": self.html,
            "attachments": [
                {
                    "name": a.name,
                    "data": base64.b64encode(a.data).decode("ascii"),
                    "mime_type": a.mime_type,
                    "description": a.description,
                    "created": a.created.isoformat(),
                }
                for a in self.attachments
            ],
        }
        return frame(json.dumps(payload).encode("utf-8"))

    @classmethod
    def decode(cls, body: bytes) -> RenderJob:
        payload: dict[str, Any] = json.loads(body)
        attachments = tuple(
            PdfAttachment(
                name=a["name"],
                data=base64.b64decode(a["data"]),
                mime_type=a["mime_type"],
                description=a["description"],
                created=datetime.fromisoformat(a["created"]),
            )
            for a in payload["attachments"]
        )
        return cls(html=payload["html"], attachments=attachments)


def frame(body: bytes) -> bytes:
    """A length-prefixed frame: 8 bytes of length, then the body."""
    return _LENGTH.pack(len(body)) + body


def read_frame(stream: IO[bytes]) -> bytes | None:
    """The next frame's body from a blocking stream, or None at a clean end of the stream."""
    head = stream.read(HEADER_SIZE)
    if not head:
        return None
    if len(head) != HEADER_SIZE:
        raise EOFError("the stream ended inside a frame header")
    length = frame_length(head)
    body = stream.read(length)
    if len(body) != length:
        raise EOFError("the stream ended inside a frame")
    return body


def frame_length(head: bytes) -> int:
    """The body length a frame header announces."""
    (length,) = _LENGTH.unpack(head)
    return int(length)
