//! An event's socket that stays open: it reconnects after a drop with `?since=` the last seq
//! it saw, so the frames it hands on have no gap and no repeat (as long as the room's log
//! reaches back; it says so when it does not).

use std::time::Duration;

use finishline::protocol::SequencedFrame;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::api::Api;

/// What the socket brings.
#[derive(Debug)]
pub enum Incoming {
    /// A broadcast: its text as sent and, when it is one of the five events, parsed.
    Frame { text: String, frame: Option<SequencedFrame>, seq: u64 },
    /// The room's log no longer reaches back to where we were: frames before `oldest` are gone.
    Truncated { oldest: u64 },
    /// The socket dropped; it reconnects by itself.
    Dropped(String),
    /// The socket is open (again).
    Connected,
}

#[derive(Deserialize)]
struct Envelope {
    event: String,
    seq: Option<u64>,
    #[serde(default)]
    data: serde_json::Value,
}

/// Sends a keepalive now and then: the runtime answers it without waking the room, and an idle
/// socket is not closed by a proxy on the way.
const KEEPALIVE: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Follows the event from `since` on, until the receiver is dropped.
pub fn follow(api: Api, since: u64) -> mpsc::Receiver<Incoming> {
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        let mut since = since;
        let mut backoff = Duration::from_millis(250);
        loop {
            let reason = match run_socket(&api, &mut since, &tx, &mut backoff).await {
                Ok(()) => return, // the receiver is gone
                Err(reason) => reason,
            };
            if tx.send(Incoming::Dropped(reason)).await.is_err() {
                return;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    });
    rx
}

/// One socket's life. `Ok` only when the receiver is gone; `Err` says why the socket ended.
async fn run_socket(
    api: &Api,
    since: &mut u64,
    tx: &mpsc::Sender<Incoming>,
    backoff: &mut Duration,
) -> Result<(), String> {
    let url = api.socket_url(*since);
    let (socket, _) = tokio_tungstenite::connect_async(url.as_str()).await.map_err(|e| format!("cannot open the socket: {e}"))?;
    *backoff = Duration::from_millis(250);
    if tx.send(Incoming::Connected).await.is_err() {
        return Ok(());
    }
    let (mut sink, mut stream) = socket.split();
    let mut keepalive = tokio::time::interval(KEEPALIVE);
    keepalive.tick().await;
    loop {
        tokio::select! {
            _ = keepalive.tick() => {
                sink.send(Message::text(r#"{"event":"ping"}"#)).await.map_err(|e| e.to_string())?;
            }
            message = stream.next() => {
                let text = match message {
                    None => return Err("the socket closed".into()),
                    Some(Err(e)) => return Err(e.to_string()),
                    Some(Ok(Message::Text(text))) => text.to_string(),
                    Some(Ok(Message::Close(close))) => {
                        return Err(close.map_or("the socket closed".into(), |c| format!("the socket closed: {} {}", u16::from(c.code), c.reason)));
                    }
                    Some(Ok(_)) => continue,
                };
                let Some(incoming) = incoming(text, since) else { continue };
                if tx.send(incoming).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
}

/// What a text frame is; `None` for what only the socket cares about (pong, acks). Moves
/// `since` past every broadcast, so a reconnect replays exactly what followed it.
fn incoming(text: String, since: &mut u64) -> Option<Incoming> {
    let envelope: Envelope = serde_json::from_str(&text).ok()?;
    if envelope.event == "replay:truncated" {
        let oldest = envelope.data.get("oldestSeq").and_then(serde_json::Value::as_u64).unwrap_or(0);
        return Some(Incoming::Truncated { oldest });
    }
    let seq = envelope.seq?;
    if seq <= *since {
        return None; // already handed on (a replay overlapping what we saw)
    }
    *since = seq;
    let frame = serde_json::from_str(&text).ok();
    Some(Incoming::Frame { text, frame, seq })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasts_move_since_and_are_handed_on_once() {
        let mut since = 3;
        let progress = r#"{"event":"event:progress","seq":4,"data":{"eventId":"e1","processedPhotos":1,"totalPhotos":2,"requestId":"r"}}"#;
        match incoming(progress.into(), &mut since) {
            Some(Incoming::Frame { seq: 4, frame: Some(_), .. }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(since, 4);
        assert!(incoming(progress.into(), &mut since).is_none(), "a repeat is dropped");
        assert!(incoming(r#"{"event":"pong"}"#.into(), &mut since).is_none());
        assert!(incoming(r#"{"event":"ack","id":1,"data":{"success":true}}"#.into(), &mut since).is_none());
        match incoming(r#"{"event":"replay:truncated","data":{"oldestSeq":40}}"#.into(), &mut since) {
            Some(Incoming::Truncated { oldest: 40 }) => {}
            other => panic!("{other:?}"),
        }
        // An event this CLI does not know yet is still handed on (raw), in order.
        match incoming(r#"{"event":"photo:new-kind","seq":9,"data":{}}"#.into(), &mut since) {
            Some(Incoming::Frame { seq: 9, frame: None, .. }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(since, 9);
    }
}
