"""A fetched page's bytes to HTML text, or the reason they are not an HTML page.

Why the order: a byte-order mark, then the HTTP charset, then a `<meta charset>` or `<meta http-equiv
content="...; charset=...">` near the top, then UTF-8 if the bytes are valid UTF-8, then detection
(charset-normalizer, which trafilatura already depends on). That is the HTML standard's order (BOM, transport
layer, prescan, guess), and it matters for Persian: legacy agency pages are windows-1256, and read as UTF-8 or
latin-1 they become mojibake in which no watched name can be found. Bad bytes are replaced, never raised on: one
broken byte must not cost the page.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["not_html", "decode_html", "declared_charset"]

# The HTML standard prescans 1024 bytes; real CMS pages put the meta tag after long comment banners and
# inline styles, so the prescan here reads further. Past this, the tag would be a quote inside the article.
PRESCAN_BYTES = 8192
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.I)
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# Labels the web means otherwise than Python's codec of the same name (WHATWG Encoding: these all mean
# windows-1252; a page labelled iso-8859-1 with a 0x93 quote shows a quote in a browser, not a C1 control).
_WEB_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252",
                "ascii": "cp1252", "iso8859-1": "cp1252"}

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Types that may hold HTML all the same (servers mislabel pages): the bytes are sniffed.
_VAGUE_TYPES = frozenset({"", "text/plain", "application/octet-stream", "binary/octet-stream"})
_SIGNATURES = ((b"%PDF-", "application/pdf"), (b"\x89PNG", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
               (b"GIF8", "image/gif"), (b"PK\x03\x04", "application/zip"), (b"RIFF", "image/webp"))
_MARKUP = re.compile(rb"<\s*(!doctype\s+html|html|head|body|meta|title|div|p|article)\b", re.I)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def not_html(body: bytes, content_type: str | None) -> str | None:
    """Why these bytes are not an HTML page («not HTML (application/pdf)»), or None when they are one.

    A declared HTML type is believed; a vague or missing one is sniffed (a PDF served as octet-stream is a PDF,
    an HTML page served as text/plain is a page); any other declared type (JSON, images, feeds) is not a page.
    """
    media = _media_type(content_type)
    head = body[:PRESCAN_BYTES].lstrip()
    if media in _HTML_TYPES:
        for signature, kind in _SIGNATURES:
            if head.startswith(signature):
                return f"not HTML ({kind}, served as {media})"
        return None
    if media in _VAGUE_TYPES:
        for signature, kind in _SIGNATURES:
            if head.startswith(signature):
                return f"not HTML ({kind})"
        if _MARKUP.search(head):
            return None
        return f"not HTML ({media or 'no content type'}, no markup)"
    return f"not HTML ({media})"


def declared_charset(body: bytes, content_type: str | None) -> str | None:
    """The Python codec a page says it is in (BOM, HTTP header, meta prescan), or None when it says nothing
    usable (no label, or one Python does not know)."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    candidates = []
    if content_type and (m := _HTTP_CHARSET.search(content_type)):
        candidates.append(m.group(1))
    if m := _META_CHARSET.search(body[:PRESCAN_BYTES]):
        candidates.append(m.group(1).decode("ascii", "replace"))
    for label in candidates:
        label = label.strip().lower()
        label = _WEB_ALIASES.get(label, label)
        try:
            return codecs.lookup(label).name
        except LookupError:
            continue
    return None


def decode_html(body: bytes, content_type: str | None) -> str:
    """The page's text: in its declared charset, else UTF-8 when valid, else the charset detected. Never raises:
    undecodable bytes become U+FFFD."""
    name = declared_charset(body, content_type)
    if name is not None:
        if name.startswith("utf-16"):
            body = body[2:] if body[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else body
        elif name == "utf-8" and body.startswith(codecs.BOM_UTF8):
            body = body[len(codecs.BOM_UTF8):]
        return body.decode(name, "replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # only pages that declare nothing and are not UTF-8 pay for it

    best = from_bytes(body).best()
    if best is None or not best.encoding:
        return body.decode("utf-8", "replace")
    return body.decode(best.encoding, "replace")
