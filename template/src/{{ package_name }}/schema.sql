-- WAL lets readers stream while another connection writes (seed-db, new events).
PRAGMA journal_mode = WAL;

DROP TABLE IF EXISTS orders;
DROP TABLE IF EXISTS events;

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    customer TEXT NOT NULL,
    product TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    amount REAL NOT NULL,
    note TEXT NOT NULL
);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL
);
