"""Render Markdown as the KFP UI does (CommonMark + GFM tables, raw HTML passed through) and list the tags.

Used to prove that a report's data-derived strings cannot become HTML, links or
images: render the report, then compare the tags against what the report's own
template produces.
"""

from __future__ import annotations

from html.parser import HTMLParser

from markdown_it import MarkdownIt

# What the report templates themselves emit: headings, lists, bold, code spans, tables.
TEMPLATE_TAGS = frozenset({"h1", "h2", "h3", "ul", "li", "p", "strong", "code", "table", "thead", "tbody", "tr",
                           "th", "td"})  # fmt: skip


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def render(markdown: str) -> str:
    """HTML for ``markdown``, raw HTML allowed (a renderer that trusts its input, as KFP's does)."""
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(markdown)


def tags(markdown: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Tags()
    parser.feed(render(markdown))
    return parser.tags


def unexpected_tags(markdown: str) -> list[str]:
    """Tags (with attributes) that the template does not produce: anything data smuggled in."""
    bad = []
    for tag, attrs in tags(markdown):
        if tag not in TEMPLATE_TAGS or any(k != "style" for k, _ in attrs):
            bad.append(f"<{tag} {attrs}>")
    return bad
