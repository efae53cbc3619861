//! The history, unread count, login state and resume point, in SQLite.
//!
//! SQLite (bundled, WAL) because the store must survive a crash or `kill -9`
//! at any moment: every event is committed before anything shows it, so what
//! a user saw is always on disk, and the window process can read the history
//! through its own read-only connection while the tray process writes.
//!
//! An event that carried its own `id` is stored at most once per server with
//! the same type and data (a unique index over server, id, type and a hash
//! of the data), which is what makes a replay after a reconnect or restart
//! harmless, while a server that restarted and counts its ids from 1 again
//! is still heard. An empty id names nothing and is never a dedupe key.
//! Dedupe reaches as far back as the history does: once retention has
//! pruned an entry, a replay of it is stored as new. The last event id per
//! server is written in the same transaction as the events, so a restart
//! resumes exactly where the store stands.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::protocol::clock::now_ms;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::Serialize;

use crate::core::description::describe;
use crate::protocol::feed::{AppEvent, Login, MAX_NOTIFICATION_COUNT};
use crate::protocol::sse::connection::resume_point;

/// The size the write-ahead log is cut back to once written into the
/// database.
const MAX_LOG_BYTES: i64 = 4 * 1024 * 1024;

/// One schema step: SQL, or SQL and then Rust for what SQL cannot compute.
struct Migration {
    sql: &'static str,
    then: Option<fn(&rusqlite::Transaction<'_>) -> rusqlite::Result<()>>,
}

/// The schema, one step per version; `PRAGMA user_version` says how many
/// have been applied. Steps are only ever appended.
const MIGRATIONS: &[Migration] = &[
    // 1: history, resume points, login state.
    Migration {
        then: None,
        sql: "CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        server TEXT NOT NULL,
        event_type TEXT NOT NULL,
        event_id TEXT,
        last_event_id TEXT NOT NULL,
        data TEXT NOT NULL,
        kind TEXT NOT NULL,
        unread_weight INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        read INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX events_by_server_and_id ON events(server, event_id)
        WHERE event_id IS NOT NULL;
    CREATE INDEX events_by_time ON events(received_at);
    CREATE INDEX events_unread ON events(read) WHERE read = 0;
    CREATE TABLE servers (
        server TEXT PRIMARY KEY,
        last_event_id TEXT NOT NULL
    );
    CREATE TABLE login_state (
        server TEXT PRIMARY KEY,
        login_json TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    );",
    },
    // 2: full-text search over the event data, kept in step by triggers.
    Migration {
        then: None,
        sql:
            "CREATE VIRTUAL TABLE events_fts USING fts5(data, content='events', content_rowid='id');
    CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
        INSERT INTO events_fts(rowid, data) VALUES (new.id, new.data);
    END;
    CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
        INSERT INTO events_fts(events_fts, rowid, data) VALUES ('delete', old.id, old.data);
    END;
    INSERT INTO events_fts(events_fts) VALUES ('rebuild');",
    },
    // 3: dedupe on id, type and data; empty and oversized ids name nothing;
    // counts clamped, so that no sum can overflow; each entry's size, for
    // the history's size limit.
    Migration {
        sql: "ALTER TABLE events ADD COLUMN data_hash INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE events ADD COLUMN data_bytes INTEGER NOT NULL DEFAULT 0;
    UPDATE events SET data_bytes = length(CAST(data AS BLOB));
    UPDATE events SET event_id = NULL WHERE event_id = '' OR length(event_id) > 1024;
    UPDATE events SET unread_weight = MIN(MAX(unread_weight, 0), 1000000)
        WHERE unread_weight < 0 OR unread_weight > 1000000;
    UPDATE servers SET last_event_id = '' WHERE length(last_event_id) > 1024;
    DROP INDEX events_by_server_and_id;
    CREATE INDEX events_by_size ON events(data_bytes);",
        then: Some(hash_stored_data),
    },
    // 4: the unread count kept by the store itself, in step with every
    // write by triggers (each weight clamped as when it is stored, so no
    // row can overflow or lower it), so that it is one source read in one
    // row; stored
    // addresses without their secrets (a `?token=`).
    Migration {
        sql: "CREATE TABLE unread_total (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        total INTEGER NOT NULL
    );
    INSERT INTO unread_total (id, total)
        SELECT 1, CAST(TOTAL(MIN(MAX(unread_weight, 0), 1000000)) AS INTEGER)
        FROM events WHERE read = 0;
    CREATE TRIGGER unread_on_insert AFTER INSERT ON events WHEN new.read = 0 BEGIN
        UPDATE unread_total SET total = total + MIN(MAX(new.unread_weight, 0), 1000000) WHERE id = 1;
    END;
    CREATE TRIGGER unread_on_delete AFTER DELETE ON events WHEN old.read = 0 BEGIN
        UPDATE unread_total SET total = total - MIN(MAX(old.unread_weight, 0), 1000000) WHERE id = 1;
    END;
    CREATE TRIGGER unread_on_update AFTER UPDATE OF read, unread_weight ON events BEGIN
        UPDATE unread_total SET total = total
            - (CASE WHEN old.read = 0 THEN MIN(MAX(old.unread_weight, 0), 1000000) ELSE 0 END)
            + (CASE WHEN new.read = 0 THEN MIN(MAX(new.unread_weight, 0), 1000000) ELSE 0 END)
            WHERE id = 1;
    END;",
        then: Some(redact_stored_addresses),
    },
    // 5: search over what a row shows (its title and text, as
    // `description::describe` has them) rather than the raw data, in an
    // index that keeps no copy of the text; the login step's image, made
    // safe by the tray process (`login_image`), beside it.
    Migration {
        sql: "DROP TRIGGER events_fts_insert;
    DROP TRIGGER events_fts_delete;
    DROP TABLE events_fts;
    CREATE VIRTUAL TABLE events_text USING fts5(title, body, content='', contentless_delete=1);
    CREATE TRIGGER events_text_delete AFTER DELETE ON events BEGIN
        DELETE FROM events_text WHERE rowid = old.id;
    END;
    ALTER TABLE login_state ADD COLUMN image_png BLOB;",
        then: Some(index_stored_text),
    },
    // 6: an entry's size counts every byte kept for it, not its data alone
    // (see `stored_bytes`); the search text of rows stored before is no
    // longer known, and is counted as long as their data, which bounds it.
    Migration {
        sql: "UPDATE events SET data_bytes =
        length(CAST(server AS BLOB)) + length(CAST(event_type AS BLOB))
        + length(CAST(last_event_id AS BLOB)) + 2 * length(CAST(data AS BLOB))
        + CASE WHEN event_id IS NULL THEN 0 ELSE length(CAST(server AS BLOB))
            + length(CAST(event_type AS BLOB)) + 2 * length(CAST(event_id AS BLOB)) END;",
        then: None,
    },
];

/// Migration 5's second half: the search index filled with what each
/// stored row shows.
fn index_stored_text(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let mut read = tx.prepare("SELECT id, event_type, data FROM events")?;
    let mut index =
        tx.prepare("INSERT INTO events_text (rowid, title, body) VALUES (?1, ?2, ?3)")?;
    let mut rows = read.query([])?;
    while let Some(row) = rows.next()? {
        let (id, event_type, data): (i64, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let event = crate::protocol::feed::interpret(&crate::protocol::sse::SseEvent {
            event_type: event_type.as_str().into(),
            data,
            last_event_id: "".into(),
            has_own_id: false,
        });
        let shown = describe(&event);
        index.execute(params![id, shown.title, shown.text])?;
    }
    Ok(())
}

/// Migration 4's second half: every stored address through the URL
/// policy's redaction. Rows whose redacted address collides with another's
/// are replays of each other (the same stream with another token) and go.
fn redact_stored_addresses(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let mut servers: Vec<String> = Vec::new();
    for table in ["events", "servers", "login_state"] {
        let mut read = tx.prepare(&format!("SELECT DISTINCT server FROM {table}"))?;
        let found = read.query_map([], |row| row.get::<_, String>(0))?;
        for server in found {
            servers.push(server?);
        }
    }
    servers.sort();
    servers.dedup();
    for server in servers {
        let shown = crate::protocol::url_policy::redacted_text(&server);
        if shown == server {
            continue;
        }
        tx.execute(
            "UPDATE OR IGNORE events SET server = ?2 WHERE server = ?1",
            params![server, shown],
        )?;
        tx.execute("DELETE FROM events WHERE server = ?1", [&server])?;
        tx.execute(
            "UPDATE OR REPLACE servers SET server = ?2 WHERE server = ?1",
            params![server, shown],
        )?;
        tx.execute(
            "UPDATE OR REPLACE login_state SET server = ?2 WHERE server = ?1",
            params![server, shown],
        )?;
    }
    Ok(())
}

/// Migration 3's second half: the data hash of every stored entry, then the
/// unique index that needs it.
fn hash_stored_data(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    {
        let mut read = tx.prepare("SELECT id, data FROM events")?;
        let mut write = tx.prepare("UPDATE events SET data_hash = ?2 WHERE id = ?1")?;
        let mut rows = read.query([])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let data: String = row.get(1)?;
            write.execute(params![id, data_hash(&data)])?;
        }
    }
    tx.execute_batch(
        "CREATE UNIQUE INDEX events_replay ON events(server, event_id, event_type, data_hash)
            WHERE event_id IS NOT NULL;",
    )
}

/// A stable 64-bit hash of an event's data (FNV-1a), for the dedupe index:
/// with the server, the id and the type, it tells a replay from a new event
/// that reuses an id. Stable across builds, unlike std's hasher, because it
/// is stored.
fn data_hash(data: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in data.as_bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash as i64
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the history database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot use the history database {path}: {source}")]
    Unusable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create the data folder {path}: {source}. Check that it is writable.")]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the history database {path} was written by a newer SSE Tray (schema {found}, this one knows {known}). Update SSE Tray.")]
    TooNew {
        path: PathBuf,
        found: i64,
        known: usize,
    },
}

/// How much history to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    pub keep_count: u64,
    pub keep_days: u64,
    /// The most kept in all, in megabytes (10^6 bytes): every byte stored
    /// from the servers (each entry's [`stored_bytes`], and the login
    /// steps with their images).
    pub keep_megabytes: u64,
}

impl Retention {
    /// `keep_megabytes` in bytes.
    pub fn keep_bytes(&self) -> u64 {
        self.keep_megabytes.saturating_mul(1_000_000)
    }
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            keep_count: 10_000,
            keep_days: 30,
            keep_megabytes: 256,
        }
    }
}

/// An event to store.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub server: &'a str,
    pub event_type: &'a str,
    /// The event's own id, when its block had one: the dedupe key.
    pub event_id: Option<&'a str>,
    pub last_event_id: &'a str,
    pub data: &'a str,
    pub event: &'a AppEvent,
    pub received_at_ms: i64,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub id: i64,
    pub server: String,
    pub event_type: String,
    pub event_id: Option<String>,
    pub data: String,
    pub kind: String,
    pub unread_weight: u64,
    pub received_at_ms: i64,
    pub read: bool,
}

/// A server's newest login step.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginState {
    pub step: Login,
    pub updated_at_ms: i64,
    /// Its image (QR code, confirmation picture, avatar) as a PNG written
    /// by this app, once fetched and checked.
    pub image_png: Option<Vec<u8>>,
}

/// Which history to list.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    pub unread_only: bool,
    pub event_type: Option<String>,
    /// Entries older than this id (paging backwards).
    pub before_id: Option<i64>,
    /// Words that must all occur in what the row shows (prefixes match).
    pub search: Option<String>,
    /// Only the entries of this stream (a subscription's server key).
    pub server: Option<String>,
    pub limit: u32,
}

/// A user's search words as an FTS5 query: each word quoted (so no word
/// is read as query syntax) and matched as a prefix.
fn fts_query(search: &str) -> Option<String> {
    let words: Vec<String> = search
        .split_whitespace()
        .take(16)
        .map(|word| format!("\"{}\"*", word.replace('"', "\"\"")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The store was damaged and a fresh one made; where the old one went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    pub moved_to: PathBuf,
    pub problem: String,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Bytes written (by [`stored_bytes`] and login images) since retention
    /// last ran, so that the writer knows when to run it again.
    written_since_retention: u64,
}

/// What an entry weighs against `keep_megabytes`: every byte kept for it,
/// which is all the server's except the stream's key: the stream, type,
/// resume point and data in its row, the title and text in the search
/// index, and for an entry with its own id the stream, type and id once
/// more in the replay index. A type name or id as large as the data counts
/// as much.
fn stored_bytes(
    entry: &NewEntry<'_>,
    own_id: Option<&str>,
    resume_at: &str,
    shown: &crate::core::description::Description,
) -> u64 {
    let row = entry.server.len() + entry.event_type.len() + resume_at.len() + entry.data.len();
    let search = shown.title.as_deref().map_or(0, str::len) + shown.text.len();
    let replay = own_id.map_or(0, |id| {
        entry.server.len() + entry.event_type.len() + 2 * id.len()
    });
    (row + search + replay) as u64
}

impl Store {
    /// Open (or create) the store for writing. A damaged database is moved
    /// aside and a fresh one made, so the app always starts; the caller
    /// tells the user through the returned [`Recovered`].
    pub fn open(path: &Path) -> Result<(Store, Option<Recovered>), StoreError> {
        if let Some(folder) = path.parent() {
            crate::core::private_files::private_folder(folder).map_err(|source| {
                StoreError::Folder {
                    path: folder.to_path_buf(),
                    source,
                }
            })?;
        }
        match Store::open_checked(path) {
            Ok(store) => Ok((store, None)),
            Err(StoreError::Sqlite { source, .. }) if is_corruption(&source) => {
                let moved_to = move_aside(path)?;
                let problem = source.to_string();
                tracing::error!(
                    "the history database {} was damaged ({problem}); it was moved to {} and a new one started",
                    path.display(),
                    moved_to.display()
                );
                let store = Store::open_checked(path)?;
                Ok((store, Some(Recovered { moved_to, problem })))
            }
            Err(error) => Err(error),
        }
    }

    /// Open for reading only, as the window process does. `None` when there
    /// is no history yet: no file, or one the writer has not finished
    /// creating.
    pub fn open_read_only(path: &Path) -> Result<Option<Store>, StoreError> {
        match crate::core::private_files::check_regular_file(path) {
            Ok(true) => {}
            Ok(false) => return Ok(None),
            Err(source) => {
                return Err(StoreError::Unusable {
                    path: path.to_path_buf(),
                    source,
                })
            }
        }
        let conn = match Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ) {
            Ok(conn) => conn,
            // Moved aside between the check and the open.
            Err(_) if !path.exists() => return Ok(None),
            Err(source) => return Err(sqlite(path, source)),
        };
        conn.busy_timeout(Duration::from_secs(2))
            .map_err(|source| sqlite(path, source))?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|source| sqlite(path, source))?;
        if version == 0 {
            return Ok(None);
        }
        Ok(Some(Store {
            conn,
            path: path.to_path_buf(),
            written_since_retention: 0,
        }))
    }

    fn open_checked(path: &Path) -> Result<Store, StoreError> {
        // Made 0600 before SQLite opens it: its WAL and shared-memory files
        // take the database file's mode.
        if !path.is_dir() {
            crate::core::private_files::create_private(path).map_err(|source| {
                StoreError::Unusable {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
            for suffix in ["-wal", "-shm"] {
                let _ = crate::core::private_files::make_private(&PathBuf::from(format!(
                    "{}{suffix}",
                    path.display()
                )));
            }
        }
        let conn = Connection::open(path).map_err(|source| sqlite(path, source))?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            written_since_retention: 0,
        };
        store
            .conn
            .busy_timeout(Duration::from_secs(5))
            .map_err(|source| store.err(source))?;
        store
            .conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|source| store.err(source))?;
        // In WAL mode NORMAL survives a crash of the process; only a power
        // loss may drop the newest commits.
        store
            .conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(|source| store.err(source))?;
        // The log shrinks back after a transaction larger than SQLite
        // writes into the file at once (1000 pages, 4 MiB), instead of
        // staying at its largest size for good.
        store
            .conn
            .pragma_update(None, "journal_size_limit", MAX_LOG_BYTES)
            .map_err(|source| store.err(source))?;
        let check: String = store
            .conn
            .query_row("PRAGMA quick_check", [], |row| row.get(0))
            .map_err(|source| store.err(source))?;
        if check != "ok" {
            return Err(store.err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                Some(check),
            )));
        }
        store.migrate()?;
        Ok(store)
    }

    /// Apply the missing schema steps. The version is read inside a write
    /// transaction, so two processes opening a new file at once do not both
    /// apply the same step.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|source| sqlite(&path, source))?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|source| sqlite(&path, source))?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreError::TooNew {
                path,
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        for step in MIGRATIONS.iter().skip(version as usize) {
            tx.execute_batch(step.sql)
                .map_err(|source| sqlite(&path, source))?;
            if let Some(then) = step.then {
                then(&tx).map_err(|source| sqlite(&path, source))?;
            }
        }
        tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)
            .map_err(|source| sqlite(&path, source))?;
        tx.commit().map_err(|source| sqlite(&path, source))
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        sqlite(&self.path, source)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Close the database, saying whether SQLite could (its last checkpoint
    /// of the log included); dropping a store closes it without a word.
    pub fn close(self) -> Result<(), StoreError> {
        let Store { conn, path, .. } = self;
        conn.close().map_err(|(_, source)| sqlite(&path, source))
    }

    /// Store events in one transaction. For each, the row id, or `None` when
    /// its id was already stored for its server (a replay: not shown again).
    pub fn insert_many(
        &mut self,
        entries: &[NewEntry<'_>],
    ) -> Result<Vec<Option<i64>>, StoreError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction()
            .map_err(|source| sqlite(&path, source))?;
        let mut ids = Vec::with_capacity(entries.len());
        let mut written = 0u64;
        {
            let mut statements =
                EventStatements::prepare(&tx).map_err(|source| sqlite(&path, source))?;
            for entry in entries {
                let stored = statements
                    .insert(&tx, entry)
                    .map_err(|source| sqlite(&path, source))?;
                ids.push(stored.map(|(id, _)| id));
                written = written.saturating_add(stored.map_or(0, |(_, bytes)| bytes));
            }
        }
        tx.commit().map_err(|source| sqlite(&path, source))?;
        self.written_since_retention = self.written_since_retention.saturating_add(written);
        Ok(ids)
    }

    /// Remember where to resume when no event came with the id (an id-only
    /// block).
    pub fn set_last_event_id(&self, server: &str, last_event_id: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO servers (server, last_event_id) VALUES (?1, ?2)
                 ON CONFLICT (server) DO UPDATE SET last_event_id = excluded.last_event_id",
                params![server, resume_point(last_event_id)],
            )
            .map_err(|source| self.err(source))?;
        Ok(())
    }

    /// Where to resume the stream of `server`: its last event id, if any.
    pub fn last_event_id(&self, server: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT last_event_id FROM servers WHERE server = ?1",
                [server],
                |row| row.get(0),
            )
            .optional()
            .map_err(|source| self.err(source))
    }

    /// How many messages wait to be read, counting a notification as the
    /// number of messages it announced.
    pub fn unread_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                // Read as a float: an integer sum that SQLite had to widen
                // (rows edited by hand) still reads, and the cast saturates.
                "SELECT MAX(CAST(total AS REAL), 0) FROM unread_total WHERE id = 1",
                [],
                |row| row.get::<_, f64>(0),
            )
            .optional()
            .map(|count| count.unwrap_or(0.0) as u64)
            .map_err(|source| self.err(source))
    }

    pub fn history(&self, query: &HistoryQuery) -> Result<Vec<HistoryEntry>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT id, server, event_type, event_id, data, kind, unread_weight,
                        received_at, read
                 FROM events
                 WHERE (?1 = 0 OR read = 0)
                   AND (?2 IS NULL OR event_type = ?2)
                   AND (?3 IS NULL OR id < ?3)
                   AND (?5 IS NULL OR id IN (SELECT rowid FROM events_text WHERE events_text MATCH ?5))
                   AND (?6 IS NULL OR server = ?6)
                 ORDER BY id DESC
                 LIMIT ?4",
            )
            .map_err(|source| self.err(source))?;
        let rows = statement
            .query_map(
                params![
                    query.unread_only,
                    query.event_type,
                    query.before_id,
                    query.limit,
                    query.search.as_deref().and_then(fts_query),
                    query.server,
                ],
                entry_from_row,
            )
            .map_err(|source| self.err(source))?;
        rows.collect::<Result<_, _>>()
            .map_err(|source| self.err(source))
    }

    /// One entry by its id.
    pub fn entry(&self, id: i64) -> Result<Option<HistoryEntry>, StoreError> {
        self.conn
            .query_row(
                "SELECT id, server, event_type, event_id, data, kind, unread_weight,
                        received_at, read
                 FROM events WHERE id = ?1",
                [id],
                entry_from_row,
            )
            .optional()
            .map_err(|source| self.err(source))
    }

    /// Whether there is an entry with this id.
    pub fn has_entry(&self, id: i64) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM events WHERE id = ?1)",
                [id],
                |row| row.get(0),
            )
            .map_err(|source| self.err(source))
    }

    /// Mark one entry read; `false` when there is no such entry.
    pub fn mark_read(&self, id: i64) -> Result<bool, StoreError> {
        self.conn
            .execute("UPDATE events SET read = 1 WHERE id = ?1", [id])
            .map(|changed| changed > 0)
            .map_err(|source| self.err(source))
    }

    /// Delete one entry; `false` when there is no such entry.
    pub fn delete(&self, id: i64) -> Result<bool, StoreError> {
        self.conn
            .execute("DELETE FROM events WHERE id = ?1", [id])
            .map(|changed| changed > 0)
            .map_err(|source| self.err(source))
    }

    /// Delete the whole history (the resume points and login state stay).
    pub fn clear(&self) -> Result<usize, StoreError> {
        self.conn
            .execute("DELETE FROM events", [])
            .map_err(|source| self.err(source))
    }

    /// The event types in the history, for the filter: those a row shows
    /// whole (`entry_view::MAX_TYPE_CHARS`).
    pub fn event_types(&self) -> Result<Vec<String>, StoreError> {
        self.texts(
            "SELECT DISTINCT event_type FROM events WHERE length(event_type) <= 100
             ORDER BY event_type LIMIT 200",
        )
    }

    /// The one text column of each row a query gives.
    fn texts(&self, sql: &str) -> Result<Vec<String>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached(sql)
            .map_err(|source| self.err(source))?;
        let rows = statement
            .query_map([], |row| row.get(0))
            .map_err(|source| self.err(source))?;
        rows.collect::<Result<_, _>>()
            .map_err(|source| self.err(source))
    }

    /// The unread count of each stream that has unread entries (a
    /// notification counting the messages it announced, as in the total).
    pub fn unread_by_server(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT server, TOTAL(MIN(MAX(unread_weight, 0), 1000000)) FROM events
                 WHERE read = 0 GROUP BY server",
            )
            .map_err(|source| self.err(source))?;
        let rows = statement
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, f64>(1)? as u64))
            })
            .map_err(|source| self.err(source))?;
        rows.collect::<Result<_, _>>()
            .map_err(|source| self.err(source))
    }

    /// Delete the history of one stream (a subscription removed with its
    /// history), its resume point and login state; how many entries went.
    pub fn delete_server(&mut self, server: &str) -> Result<usize, StoreError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction()
            .map_err(|source| sqlite(&path, source))?;
        let removed = tx
            .execute("DELETE FROM events WHERE server = ?1", [server])
            .map_err(|source| sqlite(&path, source))?;
        for table in ["servers", "login_state"] {
            tx.execute(&format!("DELETE FROM {table} WHERE server = ?1"), [server])
                .map_err(|source| sqlite(&path, source))?;
        }
        tx.commit().map_err(|source| sqlite(&path, source))?;
        Ok(removed)
    }

    /// Mark everything read; how many entries changed.
    pub fn mark_all_read(&self) -> Result<usize, StoreError> {
        self.conn
            .execute("UPDATE events SET read = 1 WHERE read = 0", [])
            .map_err(|source| self.err(source))
    }

    /// The newest login step of `server`, which survives a restart, with
    /// its image once the tray process has made it safe.
    pub fn login_state(&self, server: &str) -> Result<Option<LoginState>, StoreError> {
        let row: Option<(String, i64, Option<Vec<u8>>)> = self
            .conn
            .query_row(
                "SELECT login_json, updated_at, image_png FROM login_state WHERE server = ?1",
                [server],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()
            .map_err(|source| self.err(source))?;
        Ok(row.and_then(|(json, updated_at_ms, image_png)| {
            serde_json::from_str(&json).ok().map(|step| LoginState {
                step,
                updated_at_ms,
                image_png,
            })
        }))
    }

    /// The streams with a login state, newest step first.
    pub fn login_servers(&self) -> Result<Vec<String>, StoreError> {
        self.texts("SELECT server FROM login_state ORDER BY updated_at DESC")
    }

    /// Keep the image of `server`'s login step stored at `updated_at_ms`;
    /// `false` when a newer step has come meanwhile (the image is not its).
    pub fn set_login_image(
        &mut self,
        server: &str,
        updated_at_ms: i64,
        png: &[u8],
    ) -> Result<bool, StoreError> {
        let stored = self
            .conn
            .execute(
                "UPDATE login_state SET image_png = ?3 WHERE server = ?1 AND updated_at = ?2",
                params![server, updated_at_ms, png],
            )
            .map(|changed| changed > 0)
            .map_err(|source| self.err(source))?;
        if stored {
            self.written_since_retention = self
                .written_since_retention
                .saturating_add(png.len() as u64);
        }
        Ok(stored)
    }

    /// Bytes written since retention last ran (see [`Store::apply_retention`]).
    pub fn written_since_retention(&self) -> u64 {
        self.written_since_retention
    }

    /// Drop what the retention policy no longer keeps: entries older than
    /// `keep_days`, all but the newest `keep_count`, and the oldest until
    /// what is left, the login steps and their images included, is within
    /// `keep_megabytes`.
    pub fn apply_retention(&mut self, retention: Retention) -> Result<usize, StoreError> {
        self.written_since_retention = 0;
        let cutoff = now_ms() - (retention.keep_days as i64).saturating_mul(86_400_000);
        let old = self
            .conn
            .execute("DELETE FROM events WHERE received_at < ?1", [cutoff])
            .map_err(|source| self.err(source))?;
        let surplus = self
            .conn
            .execute(
                "DELETE FROM events WHERE id <= (
                    SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?1)",
                [retention.keep_count as i64],
            )
            .map_err(|source| self.err(source))?;
        // The login steps are kept whatever their size (the login view
        // needs the newest of each stream): the entries share what is left.
        let login: f64 = self
            .conn
            .query_row(
                "SELECT TOTAL(length(CAST(server AS BLOB)) + length(CAST(login_json AS BLOB))
                    + IFNULL(length(image_png), 0)) FROM login_state",
                [],
                |row| row.get(0),
            )
            .map_err(|source| self.err(source))?;
        let limit = (retention.keep_bytes() as f64 - login).max(0.0);
        let total: f64 = self
            .conn
            .query_row("SELECT TOTAL(data_bytes) FROM events", [], |row| row.get(0))
            .map_err(|source| self.err(source))?;
        let oversize = if total > limit {
            self.conn
                .execute(
                    "DELETE FROM events WHERE id <= (
                        SELECT id FROM (
                            SELECT id, SUM(data_bytes) OVER (ORDER BY id DESC) AS newer
                            FROM events)
                        WHERE newer > ?1 ORDER BY id DESC LIMIT 1)",
                    [limit as i64],
                )
                .map_err(|source| self.err(source))?
        } else {
            0
        };
        Ok(old + surplus + oversize)
    }

    /// Whether the store takes writes now (not locked by another writer,
    /// not read-only): takes and gives back the write lock.
    pub fn check_writable(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE; COMMIT;")
            .map_err(|source| self.err(source))
    }

    /// Forget where to resume `server`: the next connection asks for no
    /// replay.
    pub fn reset_last_event_id(&self, server: &str) -> Result<(), StoreError> {
        self.set_last_event_id(server, "")
    }

    pub fn count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM events", [], |row| {
                row.get::<_, i64>(0)
            })
            .map(|count| count as u64)
            .map_err(|source| self.err(source))
    }
}

/// Whether an event's own id can name it for dedupe: not empty (the
/// standard's reset) and short enough to be a resume point.
/// A history entry from a row of `SELECT id, server, event_type, event_id,
/// data, kind, unread_weight, received_at, read`.
fn entry_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<HistoryEntry> {
    Ok(HistoryEntry {
        id: row.get(0)?,
        server: row.get(1)?,
        event_type: row.get(2)?,
        event_id: row.get(3)?,
        data: row.get(4)?,
        kind: row.get(5)?,
        unread_weight: row.get::<_, i64>(6)?.max(0) as u64,
        received_at_ms: row.get(7)?,
        read: row.get(8)?,
    })
}

fn names_an_event(id: &str) -> bool {
    !id.is_empty() && resume_point(id) == id
}

fn sqlite(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

fn is_corruption(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// Rename a damaged database (and its WAL files) out of the way, keeping it
/// for inspection rather than deleting anything.
fn move_aside(path: &Path) -> Result<PathBuf, StoreError> {
    let stamp = now_ms();
    let moved_to = PathBuf::from(format!("{}.corrupt-{stamp}", path.display()));
    let rename = |from: PathBuf, to: PathBuf| match std::fs::rename(&from, &to) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Folder {
            path: from,
            source: error,
        }),
        _ => Ok(()),
    };
    rename(path.to_path_buf(), moved_to.clone())?;
    for suffix in ["-wal", "-shm"] {
        rename(
            PathBuf::from(format!("{}{suffix}", path.display())),
            PathBuf::from(format!("{}{suffix}", moved_to.display())),
        )?;
    }
    Ok(moved_to)
}

/// The statements that store an event, prepared once a transaction.
struct EventStatements<'tx> {
    event: rusqlite::CachedStatement<'tx>,
    resume_point: rusqlite::CachedStatement<'tx>,
    login: rusqlite::CachedStatement<'tx>,
    search_text: rusqlite::CachedStatement<'tx>,
}

impl<'tx> EventStatements<'tx> {
    fn prepare(tx: &'tx Connection) -> rusqlite::Result<EventStatements<'tx>> {
        Ok(EventStatements {
            event: tx.prepare_cached(
                "INSERT INTO events (server, event_type, event_id, last_event_id, data, kind,
                    unread_weight, received_at, read, data_hash, data_bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT DO NOTHING",
            )?,
            resume_point: tx.prepare_cached(
                "INSERT INTO servers (server, last_event_id) VALUES (?1, ?2)
                 ON CONFLICT (server) DO UPDATE SET last_event_id = excluded.last_event_id",
            )?,
            login: tx.prepare_cached(
                "INSERT INTO login_state (server, login_json, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (server) DO UPDATE SET login_json = excluded.login_json,
                    updated_at = excluded.updated_at, image_png = NULL",
            )?,
            search_text: tx.prepare_cached(
                "INSERT INTO events_text (rowid, title, body) VALUES (?1, ?2, ?3)",
            )?,
        })
    }

    /// Store one event and move its stream's resume point: its row id and
    /// the bytes written, or `None` for a replay (the resume point moves
    /// all the same).
    fn insert(
        &mut self,
        tx: &Connection,
        entry: &NewEntry<'_>,
    ) -> rusqlite::Result<Option<(i64, u64)>> {
        let weight = entry.event.unread_weight().min(MAX_NOTIFICATION_COUNT);
        let resume_at = resume_point(entry.last_event_id);
        let own_id = entry.event_id.filter(|id| names_an_event(id));
        let shown = describe(entry.event);
        let mut bytes = stored_bytes(entry, own_id, resume_at, &shown);
        let changed = self.event.execute(params![
            entry.server,
            entry.event_type,
            own_id,
            resume_at,
            entry.data,
            entry.event.kind(),
            weight as i64,
            entry.received_at_ms,
            weight == 0,
            data_hash(entry.data),
            bytes as i64,
        ])?;
        self.resume_point
            .execute(params![entry.server, resume_at])?;
        if changed == 0 {
            return Ok(None);
        }
        let id = tx.last_insert_rowid();
        self.search_text
            .execute(params![id, shown.title, shown.text])?;
        if let AppEvent::Login(step) = entry.event {
            let json = serde_json::to_string(step).unwrap_or_default();
            bytes = bytes.saturating_add(json.len() as u64);
            self.login
                .execute(params![entry.server, json, entry.received_at_ms])?;
        }
        Ok(Some((id, bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::feed::{interpret, Message};
    use crate::protocol::sse::SseEvent;

    fn message(text: &str) -> AppEvent {
        AppEvent::Message(Message {
            title: None,
            text: text.into(),
            url: None,
            urgency: None,
            malformed: None,
        })
    }

    /// A message event as the feed reads `data`.
    fn message_of(data: &str) -> AppEvent {
        interpret(&SseEvent {
            event_type: "message".into(),
            data: data.into(),
            last_event_id: "".into(),
            has_own_id: false,
        })
    }

    fn entry<'a>(event: &'a AppEvent, id: Option<&'a str>, data: &'a str) -> NewEntry<'a> {
        NewEntry {
            server: "http://s/stream",
            event_type: "message",
            event_id: id,
            last_event_id: id.unwrap_or(""),
            data,
            event,
            received_at_ms: now_ms(),
        }
    }

    #[test]
    fn stores_dedupes_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        let (mut store, recovered) = Store::open(&path).unwrap();
        assert!(recovered.is_none());
        let event = message("a");
        let ids = store
            .insert_many(&[entry(&event, Some("1"), "a"), entry(&event, Some("2"), "b")])
            .unwrap();
        assert!(ids.iter().all(Option::is_some));
        // A replay of id 2 and a new id 3.
        let ids = store
            .insert_many(&[entry(&event, Some("2"), "b"), entry(&event, Some("3"), "c")])
            .unwrap();
        assert_eq!(ids[0], None);
        assert!(ids[1].is_some());
        // Events without an own id are never deduped.
        let ids = store
            .insert_many(&[entry(&event, None, "x"), entry(&event, None, "x")])
            .unwrap();
        assert!(ids.iter().all(Option::is_some));
        assert_eq!(store.count().unwrap(), 5);
        assert_eq!(store.unread_count().unwrap(), 5);
        drop(store);
        let (store, _) = Store::open(&path).unwrap();
        assert_eq!(
            store.last_event_id("http://s/stream").unwrap().as_deref(),
            Some("")
        );
        assert_eq!(store.last_event_id("http://other").unwrap(), None);
    }

    #[test]
    fn unread_count_weighs_notifications_and_clears() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(&dir.path().join("h.db")).unwrap();
        let notification = AppEvent::Notification { count: 7 };
        let login = interpret(&SseEvent {
            event_type: "login".into(),
            data: r#"{"type":"logged_out","uuid":"u"}"#.into(),
            last_event_id: "".into(),
            has_own_id: false,
        });
        let hello = message("hello");
        let ids = store
            .insert_many(&[
                entry(&notification, Some("n1"), "{\"count\":7}"),
                entry(&login, None, "{}"),
                entry(&hello, None, "hello"),
            ])
            .unwrap();
        assert_eq!(store.unread_count().unwrap(), 8);
        assert!(store.mark_read(ids[2].unwrap()).unwrap());
        assert_eq!(store.unread_count().unwrap(), 7);
        store.mark_all_read().unwrap();
        assert_eq!(store.unread_count().unwrap(), 0);
        assert!(matches!(
            store.login_state("http://s/stream").unwrap(),
            Some(LoginState {
                step: Login::LoggedOut { .. },
                image_png: None,
                ..
            })
        ));
    }

    #[test]
    fn history_pages_newest_first_and_filters() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(&dir.path().join("h.db")).unwrap();
        let event = message("m");
        let data: Vec<String> = (0..25).map(|n| n.to_string()).collect();
        let entries: Vec<_> = data.iter().map(|d| entry(&event, None, d)).collect();
        store.insert_many(&entries).unwrap();
        let page = store
            .history(&HistoryQuery {
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(page.len(), 10);
        assert_eq!(page[0].data, "24");
        let next = store
            .history(&HistoryQuery {
                limit: 10,
                before_id: Some(page[9].id),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(next[0].data, "14");
        store.mark_read(page[0].id).unwrap();
        let unread = store
            .history(&HistoryQuery {
                unread_only: true,
                limit: 100,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(unread.len(), 24);
    }

    #[test]
    fn search_finds_words_and_is_safe_from_query_syntax() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(&dir.path().join("h.db")).unwrap();
        let mut data: Vec<String> = (0..500)
            .map(|n| format!("entry {n} about topic{}", n % 7))
            .collect();
        data.push("the needle in the haystack".into());
        // A row shows its title and body, never the JSON around them.
        data.push(r#"{"title": "Invoice", "body": "paid", "secret_key": "zebra"}"#.into());
        let events: Vec<AppEvent> = data.iter().map(|d| message_of(d)).collect();
        let entries: Vec<_> = events
            .iter()
            .zip(&data)
            .map(|(event, d)| entry(event, None, d))
            .collect();
        store.insert_many(&entries).unwrap();
        let search = |text: &str| {
            store
                .history(&HistoryQuery {
                    search: Some(text.into()),
                    limit: 1000,
                    ..Default::default()
                })
                .unwrap()
        };
        assert_eq!(search("needle")[0].data, "the needle in the haystack");
        assert_eq!(search("NEEDLE hay").len(), 1, "words, any case, prefixes");
        assert_eq!(search("topic3").len(), 71);
        assert_eq!(search("invoice paid").len(), 1, "title and body");
        assert!(
            search("zebra").is_empty(),
            "a JSON value the row does not show"
        );
        assert!(search("secret_key").is_empty(), "a JSON key");
        // Query syntax is searched as words: none of these is in the data,
        // so none finds anything (and none is an error).
        for hostile in ["\"", "AND OR NOT", "(", "*", "a:b", "NEAR(x y)"] {
            assert_eq!(search(hostile).len(), 0, "{hostile}");
        }
        // The word "the" is, in one entry only.
        assert_eq!(search("\"the\"").len(), 1);
        // Deleted entries leave the index too.
        let found = search("needle")[0].id;
        assert!(store.delete(found).unwrap());
        assert!(search("needle").is_empty());
        assert_eq!(store.event_types().unwrap(), ["message"]);
        store.clear().unwrap();
        assert_eq!(store.count().unwrap(), 0);
    }

    #[test]
    fn retention_keeps_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(&dir.path().join("h.db")).unwrap();
        let event = message("m");
        let mut old = entry(&event, None, "old");
        old.received_at_ms = now_ms() - 40 * 86_400_000;
        store.insert_many(&[old]).unwrap();
        let data: Vec<String> = (0..20).map(|n| n.to_string()).collect();
        let entries: Vec<_> = data.iter().map(|d| entry(&event, None, d)).collect();
        store.insert_many(&entries).unwrap();
        let removed = store
            .apply_retention(Retention {
                keep_count: 5,
                keep_days: 30,
                ..Retention::default()
            })
            .unwrap();
        assert_eq!(removed, 16);
        let left = store
            .history(&HistoryQuery {
                limit: 100,
                ..Default::default()
            })
            .unwrap();
        let texts: Vec<_> = left.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(texts, ["19", "18", "17", "16", "15"]);
    }

    #[test]
    fn retention_keeps_the_history_within_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(&dir.path().join("h.db")).unwrap();
        let event = message("m");
        let data: Vec<String> = (0..5).map(|n| n.to_string().repeat(400_000)).collect();
        let entries: Vec<_> = data.iter().map(|d| entry(&event, None, d)).collect();
        store.insert_many(&entries).unwrap();
        // 1 MB kept: the newest two 400 kB entries fit, a third does not.
        let removed = store
            .apply_retention(Retention {
                keep_megabytes: 1,
                ..Retention::default()
            })
            .unwrap();
        assert_eq!(removed, 3);
        let left: Vec<_> = store
            .history(&HistoryQuery {
                limit: 100,
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .map(|entry| entry.data.chars().next().unwrap())
            .collect();
        assert_eq!(left, ['4', '3']);
    }

    #[test]
    fn dedupe_drops_only_true_replays() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(&dir.path().join("h.db")).unwrap();
        let event = message("m");
        let first = store
            .insert_many(&[
                entry(&event, Some("1"), "run one"),
                entry(&event, Some(""), "a"),
            ])
            .unwrap();
        assert!(first.iter().all(Option::is_some));
        let again = store
            .insert_many(&[
                // The same id, type and data: a replay.
                entry(&event, Some("1"), "run one"),
                // The same id with new data: a server that counts from 1 again.
                entry(&event, Some("1"), "run two"),
                // An empty id names nothing.
                entry(&event, Some(""), "a"),
            ])
            .unwrap();
        assert_eq!(again[0], None);
        assert!(again[1].is_some());
        assert!(again[2].is_some());
        let mut other_type = entry(&event, Some("1"), "run one");
        other_type.event_type = "other";
        assert!(store.insert_many(&[other_type]).unwrap()[0].is_some());
    }

    #[test]
    fn numbers_from_the_server_cannot_overflow_the_unread_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        let (mut store, _) = Store::open(&path).unwrap();
        let huge = AppEvent::Notification { count: u64::MAX };
        store
            .insert_many(&[entry(&huge, None, "a"), entry(&huge, None, "b")])
            .unwrap();
        assert_eq!(store.unread_count().unwrap(), 2 * MAX_NOTIFICATION_COUNT);
        // Rows from before weights were clamped: a sum of these overflows
        // SQLite's integers, and a negative one lowered the count.
        store
            .conn
            .execute_batch(
                "UPDATE events SET unread_weight = 9223372036854775807;
                 INSERT INTO events (server, event_type, last_event_id, data, kind,
                     unread_weight, received_at)
                 VALUES ('s', 'notification', '', '', 'notification', -5, 0);",
            )
            .unwrap();
        assert_eq!(store.unread_count().unwrap(), 2 * MAX_NOTIFICATION_COUNT);
    }

    #[test]
    fn an_oversized_id_is_no_resume_point() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(&dir.path().join("h.db")).unwrap();
        let event = message("m");
        let long = "9".repeat(100 * 1024);
        store
            .insert_many(&[entry(&event, Some(&long), "x")])
            .unwrap();
        assert_eq!(
            store.last_event_id("http://s/stream").unwrap().as_deref(),
            Some("")
        );
        store.set_last_event_id("http://s/stream", "5").unwrap();
        store.reset_last_event_id("http://s/stream").unwrap();
        assert_eq!(
            store.last_event_id("http://s/stream").unwrap().as_deref(),
            Some("")
        );
    }

    #[test]
    fn a_version_2_database_is_migrated_with_its_history() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        {
            let conn = Connection::open(&path).unwrap();
            for step in &MIGRATIONS[..2] {
                conn.execute_batch(step.sql).unwrap();
            }
            conn.execute_batch(
                "INSERT INTO events (server, event_type, event_id, last_event_id, data, kind,
                     unread_weight, received_at)
                 VALUES ('s', 'notification', '7', '7', '{\"count\": 1}', 'notification',
                     9223372036854775807, 0),
                        ('s', 'message', '8', '8', 'hello', 'message', 1, 0),
                        ('s', 'message', '', '', 'first empty id', 'message', 1, 0);
                 PRAGMA user_version = 2;",
            )
            .unwrap();
        }
        let (mut store, recovered) = Store::open(&path).unwrap();
        assert!(recovered.is_none());
        assert_eq!(store.count().unwrap(), 3, "nothing stored is lost");
        assert_eq!(store.unread_count().unwrap(), MAX_NOTIFICATION_COUNT + 2);
        let found = |words: &str| {
            store
                .history(&HistoryQuery {
                    search: Some(words.into()),
                    limit: 10,
                    ..Default::default()
                })
                .unwrap()
                .len()
        };
        assert_eq!(found("hello"), 1, "the rows stored before are searchable");
        assert_eq!(found("new message"), 1, "as their rows read");
        assert_eq!(found("count"), 0, "not by their JSON");
        let event = message("m");
        let mut replay = entry(&event, Some("8"), "hello");
        replay.server = "s";
        let mut empty = entry(&event, Some(""), "first empty id");
        empty.server = "s";
        let ids = store.insert_many(&[replay, empty]).unwrap();
        assert_eq!(ids[0], None, "the stored event's replay is known");
        assert!(ids[1].is_some(), "an empty id is no dedupe key");
    }

    #[test]
    fn a_version_3_database_loses_its_stored_tokens_and_keeps_its_history() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        let with_token = "http://127.0.0.1:5000/stream?channel=a&token=tok-123";
        let other_token = "http://127.0.0.1:5000/stream?channel=a&token=tok-456";
        {
            let mut conn = Connection::open(&path).unwrap();
            let tx = conn.transaction().unwrap();
            for step in &MIGRATIONS[..3] {
                tx.execute_batch(step.sql).unwrap();
                if let Some(then) = step.then {
                    then(&tx).unwrap();
                }
            }
            tx.commit().unwrap();
            conn.execute(
                "INSERT INTO events (server, event_type, event_id, last_event_id, data, kind,
                     unread_weight, received_at, data_hash)
                 VALUES (?1, 'message', '1', '1', 'one', 'message', 1, 0, 1),
                        (?2, 'message', '1', '1', 'one', 'message', 1, 0, 1),
                        (?2, 'message', '2', '2', 'two', 'message', 1, 0, 2)",
                // (The same event under two tokens: two rows, as stored
                // before this step.)
                params![with_token, other_token],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO servers (server, last_event_id) VALUES (?1, '1'), (?2, '2')",
                params![with_token, other_token],
            )
            .unwrap();
            conn.execute_batch("PRAGMA user_version = 3;").unwrap();
        }
        let (store, _) = Store::open(&path).unwrap();
        let shown = "http://127.0.0.1:5000/stream?channel=a&token=***";
        // The two tokens' copies of event 1 are one event now.
        assert_eq!(store.count().unwrap(), 2);
        assert_eq!(store.unread_count().unwrap(), 2);
        assert!(store.last_event_id(shown).unwrap().is_some());
        let servers: Vec<String> = store
            .conn
            .prepare("SELECT server FROM events UNION ALL SELECT server FROM servers")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(servers.iter().all(|server| server == shown), "{servers:?}");
    }

    #[test]
    fn the_stored_unread_count_follows_every_kind_of_write() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(&dir.path().join("h.db")).unwrap();
        let recount = |store: &Store| -> u64 {
            store
                .conn
                .query_row(
                    "SELECT TOTAL(unread_weight) FROM events WHERE read = 0",
                    [],
                    |row| row.get::<_, f64>(0),
                )
                .unwrap() as u64
        };
        let four = AppEvent::Notification { count: 4 };
        let text = message("m");
        let mut ids = Vec::new();
        for n in 0..20 {
            let id = n.to_string();
            let data = format!("{n}");
            let event = if n % 2 == 0 { &four } else { &text };
            ids.extend(
                store
                    .insert_many(&[entry(event, Some(&id), &data)])
                    .unwrap(),
            );
        }
        assert_eq!(store.unread_count().unwrap(), 50);
        let ids: Vec<i64> = ids.into_iter().flatten().collect();
        store.mark_read(ids[0]).unwrap();
        store.mark_read(ids[0]).unwrap();
        assert_eq!(store.unread_count().unwrap(), 46);
        store.delete(ids[1]).unwrap();
        store.delete(ids[2]).unwrap();
        assert_eq!(store.unread_count().unwrap(), recount(&store));
        store
            .apply_retention(Retention {
                keep_count: 10,
                ..Retention::default()
            })
            .unwrap();
        assert_eq!(store.unread_count().unwrap(), recount(&store));
        store.mark_all_read().unwrap();
        assert_eq!(store.unread_count().unwrap(), 0);
        store
            .insert_many(&[entry(&four, Some("new"), "new")])
            .unwrap();
        assert_eq!(store.unread_count().unwrap(), 4);
        store.clear().unwrap();
        assert_eq!(store.unread_count().unwrap(), 0);
    }

    #[test]
    fn a_corrupt_database_is_moved_aside_and_a_fresh_one_made() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        std::fs::write(
            &path,
            b"this is not a database, just some bytes on disk....",
        )
        .unwrap();
        let (mut store, recovered) = Store::open(&path).unwrap();
        let recovered = recovered.expect("reported");
        assert_eq!(
            std::fs::read(&recovered.moved_to).unwrap(),
            b"this is not a database, just some bytes on disk...."
        );
        let event = message("m");
        store.insert_many(&[entry(&event, None, "after")]).unwrap();
        assert_eq!(store.count().unwrap(), 1);
    }

    #[test]
    fn a_damaged_page_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        {
            let (mut store, _) = Store::open(&path).unwrap();
            let event = message("m");
            let data: Vec<String> = (0..2000).map(|n| format!("entry number {n}")).collect();
            let entries: Vec<_> = data.iter().map(|d| entry(&event, None, d)).collect();
            store.insert_many(&entries).unwrap();
            store
                .conn
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .unwrap();
        }
        // Scribble over the middle of the file, leaving the header intact.
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        for byte in &mut bytes[middle..middle + 8192] {
            *byte = 0x5A;
        }
        std::fs::write(&path, bytes).unwrap();
        let (store, recovered) = Store::open(&path).unwrap();
        assert!(recovered.is_some());
        assert_eq!(store.count().unwrap(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn the_history_and_its_folder_are_the_users_alone() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("ssetray");
        let path = folder.join("history.db");
        let (mut store, _) = Store::open(&path).unwrap();
        let event = message("m");
        store.insert_many(&[entry(&event, None, "x")]).unwrap();
        assert_eq!(mode(&folder), 0o700);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&folder.join("history.db-wal")), 0o600);
        drop(store);
        // Opened up by someone: private again at the next open.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        Store::open(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn a_newer_schema_is_refused_with_advice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
        }
        let error = Store::open(&path).err().expect("refused");
        assert!(error.to_string().contains("Update SSE Tray"), "{error}");
    }

    #[test]
    fn read_only_connection_sees_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        let (mut store, _) = Store::open(&path).unwrap();
        assert!(Store::open_read_only(&dir.path().join("none.db"))
            .unwrap()
            .is_none());
        let reader = Store::open_read_only(&path).unwrap().expect("a store");
        let event = message("m");
        store.insert_many(&[entry(&event, None, "x")]).unwrap();
        assert_eq!(reader.count().unwrap(), 1);
        assert!(reader.mark_all_read().is_err(), "read-only");
    }
}
