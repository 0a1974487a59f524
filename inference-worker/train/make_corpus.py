"""Builds data/kep-corpus.txt, the text generator's corpus, from a checkout of kubernetes/enhancements.

The corpus is committed, so training never needs this script; it documents how the file was made.
It keeps the prose of each KEP's Summary, Motivation and Proposal sections (SIG Apps, SIG Node
and SIG Autoscaling), drops code blocks, tables, HTML comments, link targets and template
checklists, and maps the text to printable ASCII with one paragraph per line.

    python3 make_corpus.py /path/to/enhancements-checkout > data/kep-corpus.txt
"""

import pathlib
import re
import sys

SIGS = ["sig-apps", "sig-autoscaling", "sig-node"]
KEEP_SECTIONS = ("summary", "motivation", "goals", "non-goals", "proposal", "user stories")
MAX_CHARS = 400_000

ASCII_MAP = {
    "\u2014": "-", "\u2013": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2026": "...", "\u00a0": " ", "\u2192": "->", "\u00e9": "e",
}


def clean_paragraph(text):
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)  # images
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = re.sub(r"\[([^\]]+)\]\[[^\]]*\]", r"\1", text)  # reference links
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = re.sub(r"https?://\S+", "", text)
    text = text.replace("**", "").replace("__", "")
    text = "".join(ASCII_MAP.get(ch, ch) for ch in text)
    text = "".join(ch for ch in text if 32 <= ord(ch) < 127)
    return re.sub(r"\s+", " ", text).strip()


def kep_prose(markdown):
    markdown = re.sub(r"<!--.*?-->", "", markdown, flags=re.S)
    markdown = re.sub(r"```.*?```", "", markdown, flags=re.S)
    keep = False
    paragraphs, current = [], []
    for line in markdown.splitlines():
        heading = re.match(r"^(#+)\s+(.*)", line)
        if heading:
            if current:
                paragraphs.append(" ".join(current))
                current = []
            title = heading.group(2).lower()
            level = len(heading.group(1))
            if level <= 2 or any(title.startswith(s) for s in KEEP_SECTIONS):
                keep = any(title.startswith(s) for s in KEEP_SECTIONS) or (level > 2 and keep)
            continue
        if not keep:
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("|") or stripped.startswith("[") and "]:" in stripped:
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        if stripped.startswith(("- [ ]", "- [x]")):
            continue
        if re.match(r"^([-*+]|\d+\.)\s", stripped) and current:
            paragraphs.append(" ".join(current))
            current = []
        current.append(re.sub(r"^([-*+]|\d+\.)\s+", "", stripped))
    if current:
        paragraphs.append(" ".join(current))
    out = []
    for p in paragraphs:
        p = clean_paragraph(p)
        if len(p) >= 40:
            out.append(p)
    return out


def main():
    root = pathlib.Path(sys.argv[1])
    lines, total = [], 0
    for sig in SIGS:
        for readme in sorted((root / "keps" / sig).glob("*/README.md")):
            for p in kep_prose(readme.read_text(encoding="utf-8")):
                if total + len(p) + 1 > MAX_CHARS:
                    break
                lines.append(p)
                total += len(p) + 1
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
