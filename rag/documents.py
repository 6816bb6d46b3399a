"""Read corpus files (.txt, .md, .html, .jsonl) into cleaned documents with ids and metadata."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from rag.cleaning import clean_news
from rag.text import split_sentences


@dataclass
class Document:
    """One article: `doc_id` as the eval spec defines it, the cleaned story and its metadata."""

    doc_id: str
    text: str
    title: str
    outlet: str
    date: str
    origin: str  # the file it came from (absolute path)
    fingerprint: str  # hash of the raw content and the cleaning result: unchanged input, same value
    url: str = ""
    byline: str = ""  # who wrote or edited it, as the page says ("Editor: Mentari DP")
    lede: str = ""  # its first sentence (the answer checks read it with every chunk)


@dataclass
class ReadReport:
    """What a read found besides documents: problems to tell the user about."""

    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    files: int = 0


def _hash(*parts: str) -> str:
    h = hashlib.sha1()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def _decode(path: Path, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (not text)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 (byte {exc.start})") from None


def _html_to_text(html: str) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "nav", "footer", "aside", "form", "noscript", "header", "figure"]):
        tag.decompose()
    title = ""
    h1 = soup.find("h1")
    if h1 and h1.get_text(strip=True):
        title = h1.get_text(" ", strip=True)
        h1.decompose()
    elif soup.title and soup.title.get_text(strip=True):
        title = soup.title.get_text(" ", strip=True)
    if soup.title:
        soup.title.decompose()
    blocks = soup.find_all(["p", "h2", "h3", "li", "blockquote"]) or [soup]
    text = "\n".join(b.get_text(" ", strip=True) for b in blocks)
    return title, text


def _markdown_to_text(md: str) -> tuple[str, str]:
    title = ""
    lines = []
    for line in md.splitlines():
        m = re.match(r"^#\s+(.+)$", line)
        if m and not title:
            title = m.group(1).strip()
            continue
        line = re.sub(r"^#{1,6}\s+", "", line)
        line = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", line)  # images
        line = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line)  # links keep their text
        line = re.sub(r"[*_`]{1,3}", "", line)
        lines.append(line)
    return title, "\n".join(lines)


# Longest lede kept (characters): a news story's first sentence is rarely longer.
_LEDE_CHARS = 320


def lede(text: str) -> str:
    """The first sentence of a story (at most `_LEDE_CHARS` characters)."""
    first = split_sentences(text.lstrip().split("\n", 1)[0]) if text.strip() else []
    return first[0][:_LEDE_CHARS] if first else ""


def _from_text(doc_id: str, path: Path, raw: str, title: str = "", url: str = "", date: str = "") -> Document:
    outlet = urlparse(url).hostname.removeprefix("www.") if url and urlparse(url).hostname else ""
    clean = clean_news(raw, title=title, outlet=outlet, date=date)
    first = lede(clean.text)
    return Document(
        doc_id=doc_id,
        text=clean.text,
        title=clean.title,
        outlet=clean.outlet,
        date=clean.date,
        origin=str(path),
        # A byline joins the hash only when there is one, so documents without one keep their fingerprint.
        fingerprint=_hash(raw, clean.text, clean.title, clean.outlet, clean.date, *filter(None, [clean.byline]),
                          first),
        url=url,
        byline=clean.byline,
        lede=first,
    )


def read_jsonl(path: Path, data: str, report: ReadReport) -> Iterator[Document]:
    """One document per line: {"id", "text", "title"?, "url"?, "date"?}; bad lines are reported."""
    for no, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            report.skipped.append((f"{path}:{no}", f"invalid JSON ({exc.msg})"))
            continue
        if not isinstance(rec, dict) or not isinstance(rec.get("id"), (str, int)) or not isinstance(
            rec.get("text"), str
        ):
            report.skipped.append((f"{path}:{no}", 'needs "id" and "text" fields'))
            continue
        if not rec["text"].strip():
            report.skipped.append((f"{path}:{no}", "empty text"))
            continue
        yield _from_text(
            str(rec["id"]), path, rec["text"], title=str(rec.get("title") or ""),
            url=str(rec.get("url") or ""), date=str(rec.get("date") or ""),
        )


def read_file(path: Path, doc_id: str, report: ReadReport, max_bytes: int) -> Iterator[Document]:
    """Documents in one file (several for .jsonl). Problems go to `report`, never raise."""
    report.files += 1
    try:
        size = path.stat().st_size
        if size > max_bytes:
            report.skipped.append((str(path), f"larger than {max_bytes // 2**20} MB (corpus.max_file_mb)"))
            return
        text = _decode(path, path.read_bytes())
    except (OSError, ValueError) as exc:
        report.skipped.append((str(path), str(exc)))
        return
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from read_jsonl(path, text, report)
        return
    title = ""
    if suffix in (".html", ".htm"):
        title, text = _html_to_text(text)
    elif suffix == ".md":
        title, text = _markdown_to_text(text)
    if not text.strip():
        report.skipped.append((str(path), "no text"))
        return
    yield _from_text(doc_id, path, text, title=title)


def iter_documents(paths: list[Path], extensions: list[str], max_bytes: int, report: ReadReport
                   ) -> Iterator[Document]:
    """Walk files and folders. A file's id is its name relative to the folder given."""
    exts = {e.lower() for e in extensions}
    for root in paths:
        if not root.exists():
            report.skipped.append((str(root), "no such file or folder"))
            continue
        if root.is_file():
            if root.suffix.lower() not in exts:
                report.skipped.append((str(root), f"unsupported file type {root.suffix or '(none)'}"))
                continue
            yield from read_file(root.resolve(), root.name, report, max_bytes)
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = path.relative_to(root)
            if any(part.startswith(".") for part in rel.parts):
                continue
            if path.suffix.lower() not in exts:
                report.skipped.append((str(path), f"unsupported file type {path.suffix or '(none)'}"))
                continue
            yield from read_file(path.resolve(), rel.as_posix(), report, max_bytes)
