# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make the docsite pages (docs/docsite/rst/*.rst) from the guides in docs/*.md.

The guides are written in Markdown, which GitHub and Galaxy show as they are; the collection's
docsite (antsibull-docs) takes reStructuredText only. The Markdown stays the source: this script
converts the subset the guides use (headings, paragraphs, lists, fenced code, pipe tables, inline
code, emphasis, links, images) and `--check` fails when a page is out of date, so `make test`
catches a guide edited without `make docs-rst`.

    python docs/docsite/md2rst.py            # rewrite docs/docsite/rst/
    python docs/docsite/md2rst.py --check    # exit 1 if a page differs
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent
RST = HERE / "rst"
LABEL = "ansible_collections.apiauth.saas.docsite."
# Where the guides link to files of the source tree, the docsite shows the path.
REPOSITORY = "https://example.invalid/apiauth/saas"
GUIDES = {"awx": "awx.md", "reliability": "reliability.md", "benchmarks": "benchmarks.md", "options": "options.md"}
HEADING_CHARS = {1: "=", 2: "-", 3: "~", 4: "^"}

_CODE = re.compile(r"`([^`]+)`")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_STRONG = re.compile(r"\*\*(.+?)\*\*")
_OPENERS = "'\"([{<-/:"
_CLOSERS = "-.,:;!?\\/'\")]}>"


def _escape(text: str) -> str:
    """Plain text, with what reStructuredText would read as markup escaped."""
    text = text.replace("\\", "\\\\")
    text = re.sub(r"([*|`])", r"\\\1", text)
    return re.sub(r"(\w)_(?=\W|$)", r"\1\\_", text)


def _link(text: str, target: str) -> str:
    if re.match(r"^[a-z]+://", target):
        return f"`{text} <{target}>`__"
    path = target.partition("#")[0]
    name = Path(path).name
    for page, source in GUIDES.items():
        if name == source:
            return f":ref:`{text} <{LABEL}{page}>`"
    if not path:
        return text  # a link within the page: the section titles are in the page's contents
    # A file of the source tree (relative to docs/).
    clean = Path(path).as_posix()
    while clean.startswith("../"):
        clean = clean[3:]
    return f"`{text} <{REPOSITORY}/{clean}>`__"


def inline(text: str) -> str:
    """Markdown inline markup to reStructuredText, each piece set apart with escaped spaces."""
    pieces: list[str] = []
    tokens = re.compile(
        r"(?P<code>`[^`]+`)|(?P<image>!\[[^\]]*\]\([^)\s]+\))|(?P<link>\[[^\]]+\]\([^)\s]+\))"
        r"|(?P<strong>\*\*.+?\*\*)|(?P<emph>(?<![\w*\\])\*(?!\s)[^*]+?(?<!\s)\*(?![\w*]))"
    )
    pos = 0
    for match in tokens.finditer(text):
        pieces.append(_escape(text[pos:match.start()]))
        token = match.group(0)
        if match.group("code"):
            code = token[1:-1]
            rendered = f"``{code.strip() or code}``" if code.strip() else _escape(code)
        elif match.group("image"):
            alt, _target = _IMAGE.match(token).groups()
            rendered = _escape(f"({alt}: see the image in the collection's docs/ directory)")
        elif match.group("link"):
            label, target = _LINK.match(token).groups()
            rendered = _link(_strip_markup(label), target)
        elif match.group("strong"):
            rendered = f"**{_strip_markup(_STRONG.match(token).group(1))}**"
        else:
            rendered = f"*{_strip_markup(token[1:-1])}*"
        if rendered.endswith(("`", "*")):
            # Inline markup must start after a space or opening punctuation and end before a space
            # or punctuation; elsewhere an escaped space (rendered as nothing) separates it.
            before = text[match.start() - 1] if match.start() else " "
            after = text[match.end()] if match.end() < len(text) else " "
            if not (before.isspace() or before in _OPENERS):
                rendered = "\\ " + rendered
            if not (after.isspace() or after in _CLOSERS):
                rendered += "\\ "
        pieces.append(rendered)
        pos = match.end()
    pieces.append(_escape(text[pos:]))
    return "".join(pieces)


def _strip_markup(text: str) -> str:
    """Text inside strong, emphasis or a link label: code quotes dropped, the rest escaped."""
    return _escape(_CODE.sub(r"\1", text))


def _table(rows: list[str]) -> list[str]:
    cells = [[c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))] for row in rows]
    header, body = cells[0], cells[2:]
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *body]:
        row = row + [""] * (len(header) - len(row))
        for index, cell in enumerate(row[: len(header)]):
            text = inline(cell.replace("\\|", "|")) or "\\ "
            out.append(("   * - " if index == 0 else "     - ") + text)
    out.append("")
    return out


def convert(markdown: str, page: str) -> str:
    lines = markdown.splitlines()
    out = [f".. _{LABEL}{page}:", ""]
    i = 0
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append(inline(" ".join(p.strip() for p in paragraph)))
            out.append("")
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        heading = re.match(r"^(#{1,4})\s+(.*)$", line)
        fence = re.match(r"^(\s*)```(\w*)\s*$", line)
        if fence:
            flush()
            language = fence.group(2) or "text"
            language = {"sh": "shell", "": "text"}.get(language, language)
            block = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                block.append(lines[i])
                i += 1
            i += 1
            out += [f".. code-block:: {language}", ""]
            out += [("   " + b).rstrip() for b in block]
            out.append("")
            continue
        if heading:
            flush()
            title = inline(heading.group(2).strip())
            out += [title, HEADING_CHARS[len(heading.group(1))] * max(len(title), 4), ""]
            i += 1
            continue
        if stripped.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(lines[i])
                i += 1
            out += _table(rows)
            continue
        item = re.match(r"^(\s*)([-*]|\d+\.)\s+(.*)$", line)
        if item:
            flush()
            indent = len(item.group(1))
            marker = "-" if item.group(2) in "-*" else "#."
            text = [item.group(3)]
            i += 1
            while i < len(lines) and lines[i].strip() and not re.match(r"^\s*([-*]|\d+\.)\s+", lines[i]) \
                    and not lines[i].strip().startswith(("|", "```", "#")):
                text.append(lines[i].strip())
                i += 1
            pad = "  " * (indent // 2)
            body = inline(" ".join(text))
            out.append(f"{pad}{marker} {body}")
            # A list ends at a blank line or a line that is no item.
            if i >= len(lines) or not re.match(r"^\s*([-*]|\d+\.)\s+", lines[i]):
                out.append("")
            continue
        if not stripped:
            flush()
            i += 1
            continue
        paragraph.append(line)
        i += 1
    flush()
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a page is out of date")
    args = parser.parse_args()
    stale = []
    RST.mkdir(exist_ok=True)
    for page, source in GUIDES.items():
        text = (
            f".. Generated by docs/docsite/md2rst.py from docs/{source}: edit that file, then run\n"
            ".. `make docs-rst`.\n\n" + convert((DOCS / source).read_text(encoding="utf-8"), page)
        )
        target = RST / f"{page}.rst"
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(str(target.relative_to(DOCS.parent)))
        if not args.check:
            target.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"out of date (run `make docs-rst`): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
