"""HTML -> text, with Beautiful Soup (its stdlib `html.parser` backend: no compiled parser needed).
Scripts, styles, navigation, page headers and footers, forms, hidden elements and comments are dropped;
headings become markdown headings ("## Pricing") so the chunker sees the page's sections; every other
block (paragraph, list item, table row, preformatted text) becomes a paragraph of its own, separated by
a blank line; whitespace inside a block is collapsed (except in <pre>).

    html_to_text(b"<h1>Leave</h1><script>x()</script><p>Ask  your\\nmanager.</p>") -> "# Leave\\n\\nAsk your manager."
"""
from __future__ import annotations

import re

from datagen.documents.errors import CannotRead
from datagen.extras import MissingExtra

DROP = ("script", "style", "noscript", "template", "nav", "aside", "form", "button", "iframe", "object", "embed",
        "svg", "canvas", "select", "head")
PAGE_CHROME = ("header", "footer")  # dropped unless inside an article or main (then they are its own)
DROP_ROLES = ("navigation", "banner", "contentinfo", "search", "menu", "menubar")
HEADINGS = {f"h{n}": n for n in range(1, 7)}
BLOCKS = {"p", "div", "section", "article", "main", "ul", "ol", "dl", "dt", "dd", "blockquote", "figure",
          "figcaption", "address", "details", "summary", "hr", "table", "thead", "tbody", "tfoot", "caption",
          "body", "html", "br"}
_WS = re.compile(r"\s+")


def _needs_bs4():
    try:
        import bs4
    except ImportError:
        raise CannotRead("missing_extra", str(MissingExtra("HTML (beautifulsoup4)", "documents"))) from None
    return bs4


def _hidden(el) -> bool:
    attrs = el.attrs or {}
    return ("hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true"
            or str(attrs.get("role", "")).lower() in DROP_ROLES)


def _chrome(el) -> bool:
    return el.name in PAGE_CHROME and el.find_parent(["article", "main"]) is None


class _Blocks:
    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.parts: list[str] = []

    def inline(self, text: str) -> None:
        self.parts.append(text)

    def flush(self, prefix: str = "") -> None:
        text = _WS.sub(" ", "".join(self.parts)).strip()
        self.parts = []
        if text:
            self.blocks.append(prefix + text)

    def block(self, text: str) -> None:
        self.flush()
        if text.strip():
            self.blocks.append(text)


def _walk(node, out: _Blocks, bs4) -> None:
    for child in node.children:
        if isinstance(child, bs4.element.NavigableString):
            if type(child) in (bs4.element.NavigableString, bs4.element.CData):
                out.inline(str(child))
            continue
        name = child.name
        if name in HEADINGS:
            out.flush()
            title = _WS.sub(" ", child.get_text(" ")).strip()
            if title:
                out.block("#" * HEADINGS[name] + " " + title)
        elif name == "pre":
            out.block(child.get_text().strip("\n").rstrip())
        elif name == "li":
            out.flush()
            _walk(child, out, bs4)
            out.flush("- ")
        elif name == "tr":
            out.flush()
            cells = [_WS.sub(" ", c.get_text(" ")).strip() for c in child.find_all(["td", "th"], recursive=False)]
            out.block(" | ".join(c for c in cells if c))
        elif name in BLOCKS:
            out.flush()
            _walk(child, out, bs4)
            out.flush()
        else:
            _walk(child, out, bs4)


def html_to_text(data: bytes) -> str:
    bs4 = _needs_bs4()
    soup = bs4.BeautifulSoup(data, "html.parser")
    title = soup.title.get_text(" ").strip() if soup.title else ""
    for el in soup.find_all(DROP):
        el.decompose()
    for el in [e for e in soup.find_all(True) if _hidden(e) or _chrome(e)]:
        if not el.decomposed:
            el.decompose()
    out = _Blocks()
    _walk(soup, out, bs4)
    out.flush()
    if title and not soup.find("h1") and out.blocks:
        out.blocks.insert(0, "# " + _WS.sub(" ", title))
    return "\n\n".join(out.blocks)
