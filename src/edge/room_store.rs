//! An EventRoom's SQLite storage: its photos, and the log of frames it broadcast (whose row
//! id is the frame's seq). Counters are derived from the photo rows, so they cannot drift.

use serde::Deserialize;
use worker::{Result, SqlStorage, SqlStorageValue};

use crate::protocol::{SequencedFrame, ServerEvent};
use crate::room::{Counters, PhotoRecord, PhotoState};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS photos (
    photo_id   TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    status     TEXT NOT NULL,
    stage      TEXT,
    result     TEXT,
    error      TEXT
);
CREATE TABLE IF NOT EXISTS frames (
    seq   INTEGER PRIMARY KEY,
    frame TEXT NOT NULL
);";

pub struct RoomStore {
    sql: SqlStorage,
}

#[derive(Deserialize)]
struct PhotoRow {
    photo_id: String,
    request_id: String,
    status: String,
    stage: Option<String>,
    result: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct CountersRow {
    total: f64,
    succeeded: f64,
    failed: f64,
}

#[derive(Deserialize)]
struct SeqRow {
    seq: f64,
}

impl RoomStore {
    pub fn new(sql: SqlStorage) -> RoomStore {
        RoomStore { sql }
    }

    /// Creates the tables when they are missing; safe to run on every wake-up.
    pub fn migrate(&self) -> Result<()> {
        self.sql.exec(SCHEMA, None).map(drop)
    }

    pub fn counters(&self) -> Result<Counters> {
        let row: CountersRow = self
            .sql
            .exec(
                "SELECT COUNT(*) AS total,
                        COALESCE(SUM(status = 'succeeded'), 0) AS succeeded,
                        COALESCE(SUM(status = 'failed'), 0) AS failed
                 FROM photos",
                None,
            )?
            .one()?;
        Ok(Counters { total: row.total as u64, succeeded: row.succeeded as u64, failed: row.failed as u64 })
    }

    pub fn photo(&self, photo_id: &str) -> Result<Option<PhotoRecord>> {
        let rows: Vec<PhotoRow> = self
            .sql
            .exec("SELECT * FROM photos WHERE photo_id = ?", vec![photo_id.into()])?
            .to_array()?;
        rows.into_iter().next().map(record_of).transpose()
    }

    /// Adds a queued photo; a photo already known is left as it is.
    pub fn insert(&self, record: &PhotoRecord) -> Result<()> {
        self.sql
            .exec(
                "INSERT OR IGNORE INTO photos (photo_id, request_id, status) VALUES (?, ?, ?)",
                vec![
                    record.photo_id.as_str().into(),
                    record.request_id.as_str().into(),
                    record.state.status().into(),
                ],
            )
            .map(drop)
    }

    pub fn update(&self, record: &PhotoRecord) -> Result<()> {
        let result = record.result.as_ref().map(serde_json::to_string).transpose()?;
        self.sql
            .exec(
                "UPDATE photos SET status = ?, stage = ?, result = ?, error = ? WHERE photo_id = ?",
                vec![
                    record.state.status().into(),
                    record.state.stage().map(|s| s.as_str()).into(),
                    SqlStorageValue::from(result),
                    SqlStorageValue::from(record.error.clone()),
                    record.photo_id.as_str().into(),
                ],
            )
            .map(drop)
    }

    /// Logs a broadcast under the next seq and returns the frame's text.
    pub fn append(&self, event: ServerEvent) -> Result<String> {
        let last: SeqRow = self.sql.exec("SELECT COALESCE(MAX(seq), 0) AS seq FROM frames", None)?.one()?;
        let frame = SequencedFrame { event, seq: last.seq as u64 + 1 };
        let text = serde_json::to_string(&frame)?;
        self.sql
            .exec(
                "INSERT INTO frames (seq, frame) VALUES (?, ?)",
                vec![(frame.seq as i64).into(), text.as_str().into()],
            )
            .map(drop)?;
        Ok(text)
    }
}

fn record_of(row: PhotoRow) -> Result<PhotoRecord> {
    let state = PhotoState::from_parts(&row.status, row.stage.as_deref())
        .ok_or_else(|| worker::Error::RustError(format!("photo {} has a bad status {}", row.photo_id, row.status)))?;
    Ok(PhotoRecord {
        photo_id: row.photo_id,
        request_id: row.request_id,
        state,
        result: row.result.as_deref().map(serde_json::from_str).transpose()?,
        error: row.error,
    })
}
