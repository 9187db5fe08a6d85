//! An EventRoom's SQLite storage: its photos, and the log of frames it broadcast (whose row
//! id is the frame's seq). Counters are derived from the photo rows, so they cannot drift.

use serde::Deserialize;
use worker::{Result, SqlStorage, SqlStorageValue};

use crate::protocol::{NumberMatch, SequencedFrame, ServerEvent};
use crate::room::{trim_through, Counters, PhotoRecord, PhotoState};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS photos (
    photo_id   TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    digest     TEXT NOT NULL,
    status     TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    stage      TEXT,
    result     TEXT,
    error      TEXT
);
CREATE TABLE IF NOT EXISTS frames (
    seq   INTEGER PRIMARY KEY,
    frame TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS numbers (
    number    TEXT NOT NULL,
    photo_id  TEXT NOT NULL,
    detection TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS numbers_by_number ON numbers (number);";

pub struct RoomStore {
    sql: SqlStorage,
}

#[derive(Deserialize)]
struct PhotoRow {
    /// The row id, selected by page queries only (their cursor).
    #[serde(default)]
    row: f64,
    photo_id: String,
    request_id: String,
    digest: String,
    status: String,
    attempts: f64,
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
struct SeqRangeRow {
    oldest: Option<f64>,
    last: Option<f64>,
}

#[derive(Deserialize)]
struct FrameRow {
    frame: String,
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

    /// Adds a queued photo that is not known yet.
    pub fn insert(&self, record: &PhotoRecord) -> Result<()> {
        self.sql
            .exec(
                "INSERT INTO photos (photo_id, request_id, digest, status) VALUES (?, ?, ?, ?)",
                vec![
                    record.photo_id.as_str().into(),
                    record.request_id.as_str().into(),
                    record.digest.as_str().into(),
                    record.state.status().into(),
                ],
            )
            .map(drop)
    }

    /// Counts a new processing attempt of a photo and returns its number.
    pub fn start_attempt(&self, photo_id: &str) -> Result<Option<u32>> {
        #[derive(Deserialize)]
        struct Row {
            attempts: f64,
        }
        let rows: Vec<Row> = self
            .sql
            .exec(
                "UPDATE photos SET attempts = attempts + 1 WHERE photo_id = ? RETURNING attempts",
                vec![photo_id.into()],
            )?
            .to_array()?;
        Ok(rows.first().map(|row| row.attempts as u32))
    }

    /// Stores a photo's new state; a photo that succeeded also indexes every number read.
    pub fn update(&self, record: &PhotoRecord) -> Result<()> {
        if let (PhotoState::Succeeded, Some(reading)) = (record.state, &record.result) {
            for detection in &reading.detections {
                self.sql.exec(
                    "INSERT INTO numbers (number, photo_id, detection) VALUES (?, ?, ?)",
                    vec![
                        detection.number.as_str().into(),
                        record.photo_id.as_str().into(),
                        serde_json::to_string(detection)?.into(),
                    ],
                )?;
            }
        }
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

    /// Up to `limit` photos in upload order after the cursor (a row id), and the next cursor.
    pub fn photos_page(&self, after: u64, limit: u64) -> Result<(Vec<PhotoRecord>, Option<u64>)> {
        let rows: Vec<PhotoRow> = self
            .sql
            .exec(
                "SELECT rowid AS row, * FROM photos WHERE rowid > ? ORDER BY rowid LIMIT ?",
                vec![(after as i64).into(), (limit as i64 + 1).into()],
            )?
            .to_array()?;
        let more = rows.len() as u64 > limit;
        let last = rows.iter().take(limit as usize).last().map(|r| r.row as u64);
        let photos = rows.into_iter().take(limit as usize).map(record_of).collect::<Result<_>>()?;
        Ok((photos, last.filter(|_| more)))
    }

    /// Every place a number was read, best read first.
    pub fn photos_with_number(&self, number: &str) -> Result<Vec<NumberMatch>> {
        #[derive(Deserialize)]
        struct Row {
            photo_id: String,
            detection: String,
        }
        let rows: Vec<Row> = self
            .sql
            .exec("SELECT photo_id, detection FROM numbers WHERE number = ?", vec![number.into()])?
            .to_array()?;
        let mut matches = rows
            .into_iter()
            .map(|row| Ok(NumberMatch::new(row.photo_id, serde_json::from_str(&row.detection)?)))
            .collect::<Result<Vec<_>>>()?;
        matches.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        Ok(matches)
    }

    /// The oldest and the latest seq in the frame log, if it holds any frame.
    pub fn seq_range(&self) -> Result<(Option<u64>, Option<u64>)> {
        let row: SeqRangeRow =
            self.sql.exec("SELECT MIN(seq) AS oldest, MAX(seq) AS last FROM frames", None)?.one()?;
        Ok((row.oldest.map(|s| s as u64), row.last.map(|s| s as u64)))
    }

    pub fn last_seq(&self) -> Result<u64> {
        Ok(self.seq_range()?.1.unwrap_or(0))
    }

    /// Every logged frame with a seq above `since`, in order.
    pub fn frames_after(&self, since: u64) -> Result<Vec<String>> {
        let rows: Vec<FrameRow> = self
            .sql
            .exec("SELECT frame FROM frames WHERE seq > ? ORDER BY seq", vec![(since as i64).into()])?
            .to_array()?;
        Ok(rows.into_iter().map(|row| row.frame).collect())
    }

    /// Logs a broadcast under the next seq, keeps only the last `limit` frames, and returns
    /// the frame's text.
    pub fn append(&self, event: ServerEvent, limit: u64) -> Result<String> {
        let frame = SequencedFrame { event, seq: self.last_seq()? + 1 };
        let text = serde_json::to_string(&frame)?;
        self.sql.exec(
            "INSERT INTO frames (seq, frame) VALUES (?, ?)",
            vec![(frame.seq as i64).into(), text.as_str().into()],
        )?;
        self.sql.exec(
            "DELETE FROM frames WHERE seq <= ?",
            vec![(trim_through(frame.seq, limit) as i64).into()],
        )?;
        Ok(text)
    }
}

fn record_of(row: PhotoRow) -> Result<PhotoRecord> {
    let state = PhotoState::from_parts(&row.status, row.stage.as_deref())
        .ok_or_else(|| worker::Error::RustError(format!("photo {} has a bad status {}", row.photo_id, row.status)))?;
    Ok(PhotoRecord {
        photo_id: row.photo_id,
        request_id: row.request_id,
        digest: row.digest,
        state,
        attempts: row.attempts as u32,
        result: row.result.as_deref().map(serde_json::from_str).transpose()?,
        error: row.error,
    })
}
