#!/usr/bin/env python3
"""What SQLite itself allows for the roster import's writes, without Guanai.

Writes 330,000 families and ≈ 1,056,000 persons with values of the sizes Guanai stores
(16-byte look-up hashes and sealed numbers as blobs, timestamps as text; `--hex` for hex
text, as before migration 000033) into the same two tables
and indexes, with the import's settings: WAL, synchronous=NORMAL, foreign keys on, a
128 MB page cache, no automatic checkpoint, seven transactions, then one checkpoint. No
planning, no encryption: the time is SQLite's B-trees, page cache and WAL. Compare it
with `guanai bench --only import` run at the same load (docs/BENCHMARKS.md).

    python3 scripts/sqlite_schema_floor.py [--hex [--hash-chars 32]] [--head-index] [--no-foreign-keys]

Prints each transaction's time and the last one's rate against the first's (the bench's
first and last tenth, for SQLite alone).
"""
import argparse
import hashlib
import os
import random
import sqlite3
import tempfile
import time

parser = argparse.ArgumentParser()
parser.add_argument("--hex", action="store_true", help="hashes and sealed numbers as hex text (before migration 000033)")
parser.add_argument("--hash-chars", type=int, default=32, help="with --hex: hex characters of a look-up hash")
parser.add_argument("--head-index", action="store_true", help="also index heads' names (before migration 000006)")
parser.add_argument("--no-foreign-keys", action="store_true", help="as Guanai's bulk connection (store/src/bulk.rs)")
parser.add_argument("--households", type=int, default=330_000)
parser.add_argument("--transactions", type=int, default=7)
args = parser.parse_args()

folder = tempfile.mkdtemp(prefix="guanai-floor-")
path = os.path.join(folder, "floor.db")
db = sqlite3.connect(path, isolation_level=None)
foreign_keys = "foreign_keys=off" if args.no_foreign_keys else "foreign_keys=on"
for pragma in ("journal_mode=wal", "synchronous=normal", foreign_keys, "cache_size=-131072", "wal_autocheckpoint=0"):
    db.execute(f"pragma {pragma}")
db.execute("create table regions (code varchar(12) not null primary key)")
db.executemany("insert into regions values (?)", [(f"36080{i:07d}",) for i in range(3000)])
db.execute("""create table families (id integer not null primary key autoincrement,
    code varchar(16) not null unique, village_code varchar(12) not null, category varchar(32) not null,
    poverty varchar(16) not null, address varchar(200) not null, phone_enc varchar(200), phone_hash varchar(64),
    phone_masked varchar(16), head_name varchar(50) not null, created_at text not null, updated_at text not null,
    foreign key (village_code) references regions (code))""")
indexes = [
    "create index idx_families_village on families (village_code)",
    "create index idx_families_phone on families (phone_hash)",
    "create index idx_families_category_village on families (category, village_code)",
    """create table persons (id integer not null primary key autoincrement, family_id bigint not null,
    name varchar(50) not null, id_hash varchar(64) not null unique, id_enc varchar(200) not null,
    id_masked varchar(18) not null, birth_date text not null, sex varchar(8) not null,
    relationship varchar(16) not null, active boolean not null, left_on text, created_at text not null,
    foreign key (family_id) references families (id))""",
    "create index idx_persons_family on persons (family_id)",
    "create index idx_persons_name on persons (name)",
]
if args.head_index:
    indexes.append("create index idx_families_head on families (head_name)")
for statement in indexes:
    db.execute(statement)

rng = random.Random(1)
names = ["王" + chr(0x4E00 + rng.randrange(2000)) + chr(0x4E00 + rng.randrange(2000)) for _ in range(50_000)]
now = "2026-11-30 08:00:00.000000 +00:00"
if args.hex:
    sealed_id, sealed_phone = "ab" * 58, "cd" * 51
else:
    sealed_id, sealed_phone = b"\xab" * 58, b"\xcd" * 51


def lookup_hash(value):
    if args.hex:
        return hashlib.sha256(value.encode()).hexdigest()[: args.hash_chars]
    return hashlib.sha256(value.encode()).digest()[:16]


started = time.time()
transaction_seconds = []
per = args.households // args.transactions
persons = 0
for batch in range(args.transactions):
    db.execute("begin")
    families = [
        (f"H{rng.getrandbits(56):014x}", f"36080{rng.randrange(3000):07d}", "only_child", "none",
         "某某村某某组12号某某村某某组12号", sealed_phone, lookup_hash(f"p{h}"), "138****1234",
         names[h % 50_000], now, now)
        for h in range(batch * per, (batch + 1) * per)
    ]
    db.executemany("""insert into families (code, village_code, category, poverty, address, phone_enc,
        phone_hash, phone_masked, head_name, created_at, updated_at) values (?,?,?,?,?,?,?,?,?,?,?)""", families)
    first = db.execute("select id from families where code = ?", (families[0][0],)).fetchone()[0]
    rows = [
        (first + k, names[(4 * (batch * per + k) + m) % 50_000], lookup_hash(str(4 * (batch * per + k) + m)),
         sealed_id, "360***********1234", "1980-01-01", "male", "spouse", 1, None, now)
        for k in range(per)
        for m in range(3 if k % 5 else 4)
    ]
    persons += len(rows)
    db.executemany("""insert into persons (family_id, name, id_hash, id_enc, id_masked, birth_date, sex,
        relationship, active, left_on, created_at) values (?,?,?,?,?,?,?,?,?,?,?)""", rows)
    db.execute("commit")
    transaction_seconds.append(time.time() - started - sum(transaction_seconds))
    print(f"transaction {batch + 1}: {len(rows)} persons in {transaction_seconds[-1]:.2f} s")
written = time.time() - started
db.execute("pragma wal_checkpoint(passive)")
total = time.time() - started
size = os.path.getsize(path) // 2**20
print(f"{per * args.transactions} families, {persons} persons: written in {written:.1f} s, "
      f"{total:.1f} s with the checkpoint; database {size} MB (SQLite {sqlite3.sqlite_version}); "
      f"last transaction's rate ÷ first's {transaction_seconds[0] / transaction_seconds[-1]:.2f}")
db.close()
for name in os.listdir(folder):
    os.remove(os.path.join(folder, name))
os.rmdir(folder)
