#!/usr/bin/env python3
"""Extracts one province's official division files (统计用区划代码) from the shared set.

The repository carries what it needs at run time (a user's machine has no shared data):
吉安市 for the demo (`crates/store/data/divisions-3608`) and 江西省 for the province
simulation of `guanai bench --only province` (`crates/guanai/data/divisions-36`).

    python3 scripts/extract_divisions.py ../shared/data/divisions 36 crates/guanai/data/divisions-36
"""
import csv
import gzip
import io
import os
import sys


def main(source, province, target):
    os.makedirs(target, exist_ok=True)
    for stem in ["provinces", "cities", "areas", "streets", "villages"]:
        with gzip.open(os.path.join(source, f"{stem}.csv.gz"), "rt", encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1:]
        column = header.index("provinceCode") if "provinceCode" in header else header.index("code")
        kept = [row for row in body if row[column] == province]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(kept)
        # mtime=0: the same input makes the same bytes.
        with open(os.path.join(target, f"{stem}.csv.gz"), "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                gz.write(out.getvalue().encode("utf-8"))
        print(f"{stem}: {len(kept)} rows")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
