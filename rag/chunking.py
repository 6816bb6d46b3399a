"""Split documents into overlapping, sentence-aware chunks with stable, content-derived ids."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.documents import Document

# Paragraphs first, then sentence ends, then clauses: chunks end on a sentence where they can.
_SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


@dataclass
class Chunk:
    """A piece of a document as stored: the id is a hash of the document id and the text."""

    chunk_id: str
    doc_id: str
    text: str
    position: int
    metadata: dict


def make_splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    """The library splitter, configured to keep sentence ends with the sentence."""
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=min(chunk_overlap, chunk_size // 2),
        separators=_SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )


def chunk_id(doc_id: str, text: str, occurrence: int = 0) -> str:
    """Stable id: unchanged text in the same document always gets the same id."""
    digest = hashlib.sha1(f"{doc_id}\x00{text}\x00{occurrence}".encode()).hexdigest()[:16]
    return f"{doc_id}#{digest}"


def chunk_document(doc: Document, splitter: RecursiveCharacterTextSplitter, min_chars: int,
                   fingerprint: str) -> list[Chunk]:
    """Chunks of one document, each carrying the document's metadata."""
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for text in splitter.split_text(doc.text):
        text = text.strip()
        if len(text) < min_chars:
            continue
        occurrence = seen.get(text, 0)
        seen[text] = occurrence + 1
        meta = {
            "source": doc.doc_id,
            "title": doc.title,
            "outlet": doc.outlet,
            "date": doc.date,
            "byline": doc.byline,
            "lede": doc.lede,
            "url": doc.url,
            "origin": doc.origin,
            "fingerprint": fingerprint,
            "position": len(chunks),
        }
        chunks.append(Chunk(chunk_id(doc.doc_id, text, occurrence), doc.doc_id, text, len(chunks), meta))
    return chunks
