"""Reading and chunking PDFs at scale (--method documents' first step, no teacher): synthetic PDFs of
prose pages written with fpdf2, then read with datagen.documents (pypdf) and chunked with the default
ChunkConfig in a fresh process, so its peak RSS is the reading alone.

    .venv/bin/python benchmarks/documents_parse.py --pages 1000 --files 10
    -> {"pages": 1000, "seconds": ..., "pages_per_s": ..., "chunks": ..., "peak_rss_mb": ...}

Each page has a heading and three paragraphs (~330 words) of seeded sentences over made-up words, like
a handbook page. Exit 1 unless every page is read and every chunk's span gives back its text.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = [f"{a}{b}" for a in ("ta", "ro", "mi", "ke", "lu", "sa", "po", "ne", "di", "fa")
         for b in ("ven", "lor", "mix", "dun", "sar", "pel", "tok", "bri", "gam", "zul")]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 20))]
    if rng.random() < 0.3:
        words.insert(rng.randint(1, len(words) - 1), str(rng.randint(2, 2000)))
    return " ".join(words).capitalize() + "."


def make_pdfs(folder: Path, pages: int, files: int, seed: int = 0) -> list[Path]:
    import fpdf

    rng, out = random.Random(seed), []
    per_file = -(-pages // files)
    for f in range(files):
        pdf = fpdf.FPDF()
        pdf.set_auto_page_break(False)
        for p in range(min(per_file, pages - f * per_file)):
            pdf.add_page()
            pdf.set_font("Helvetica", "B", 14)
            pdf.cell(0, 9, f"Section {f + 1}.{p + 1}: {rng.choice(WORDS).title()}", new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", size=9)
            for _ in range(3):
                pdf.multi_cell(0, 4.5, " ".join(sentence(rng) for _ in range(8)), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(3)
        path = folder / f"book-{f:03d}.pdf"
        pdf.output(str(path))
        out.append(path)
    return out


def parse(folder: Path) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from measure import peak_rss_mb

    from datagen.documents import Document, chunk_text, read_document

    start, pages, chunks, chars, bad = time.perf_counter(), 0, 0, 0, 0
    for path in sorted(folder.glob("*.pdf")):
        doc = read_document(path)
        if not isinstance(doc, Document):
            bad += 1
            continue
        cs = chunk_text(doc.text)
        bad += sum(doc.text[c.start:c.end] != c.text for c in cs)
        pages, chunks, chars = pages + len(doc.pages), chunks + len(cs), chars + len(doc.text)
    seconds = time.perf_counter() - start
    return {"pages": pages, "seconds": round(seconds, 2), "pages_per_s": round(pages / seconds, 1),
            "chunks": chunks, "characters": chars, "bad": bad, "peak_rss_mb": peak_rss_mb()}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--parse", help="(internal) read and chunk the PDFs in this folder")
    a = ap.parse_args()
    if a.parse:
        print(json.dumps(parse(Path(a.parse))))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        files = make_pdfs(Path(tmp), a.pages, a.files)
        made = {"files": len(files), "pdf_mb": round(sum(f.stat().st_size for f in files) / 2**20, 2),
                "make_seconds": round(time.perf_counter() - t, 1)}
        child = subprocess.run([sys.executable, __file__, "--parse", tmp], capture_output=True, text=True)
        if child.returncode:
            print(child.stderr, file=sys.stderr)
            return 1
        result = {**made, **json.loads(child.stdout)}
    print(json.dumps(result))
    return 0 if result["pages"] == a.pages and not result["bad"] else 1


if __name__ == "__main__":
    sys.exit(main())
