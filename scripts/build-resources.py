#!/usr/bin/env python3
"""Derive Brygga's committed industry-code resources from public classification files.

Only facts are carried over: codes, levels, titles (English and Swedish) and the
SNI 2007 -> NACE Rev.2 mapping. Eurostat's explanatory notes (prose) are not copied.

Usage: python3 scripts/build-resources.py [SHARED_DIR]   (default: ../shared)
Writes crates/domain/resources/nace.tsv and crates/domain/resources/sni2007.tsv.
"""
import csv
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent
shared = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else root.parent / "shared")
codes = shared / "data" / "industry-codes"
out = root / "crates" / "domain" / "resources"
out.mkdir(parents=True, exist_ok=True)


def clean(s: str) -> str:
    return " ".join(s.replace("\t", " ").split())


with open(codes / "nace_rev2_en_sv.csv", encoding="utf-8") as f:
    nace = [(r["code"], r["level"], clean(r["title_en"]), clean(r["title_sv"])) for r in csv.DictReader(f)]
with open(out / "nace.tsv", "w", encoding="utf-8", newline="\n") as f:
    f.write("# NACE Rev.2 codes and titles (source: Eurostat, via OCA community-data-files). code\tlevel\ttitle_en\ttitle_sv\n")
    for row in nace:
        f.write("\t".join(row) + "\n")

with open(codes / "sni2007.csv", encoding="utf-8") as f:
    sni = [(r["sni2007"], r["nace_rev2_class"], clean(r["title_sv"])) for r in csv.DictReader(f)]
with open(out / "sni2007.tsv", "w", encoding="utf-8", newline="\n") as f:
    f.write("# SNI 2007 codes (source: Statistics Sweden). sni2007\tnace_rev2_class\ttitle_sv\n")
    for row in sni:
        f.write("\t".join(row) + "\n")
print(f"wrote {len(nace)} NACE codes and {len(sni)} SNI 2007 codes to {out}")
