//! The room's subscribed sockets, kept in memory so that a broadcast does not read every
//! socket's attachment back (a structured-clone deserialization per socket: at 1,000 sockets
//! the broadcast's p50 went from 70 to 54 ms without it, docs/performance.md). The
//! attachments stay the truth: hibernation wipes this list, and the next broadcast rebuilds it
//! from them.

use std::cell::RefCell;

use worker::{State, WebSocket};

use super::SocketState;
use crate::protocol::Wire;

#[derive(Default)]
pub(super) struct Audience(RefCell<Option<Vec<(WebSocket, Wire)>>>);

impl Audience {
    /// Calls `send` for every subscribed socket, rebuilding the list first if memory lost it.
    /// A socket `send` fails on (closed meanwhile) leaves the list.
    pub fn send_all(&self, state: &State, mut send: impl FnMut(&WebSocket, Wire) -> bool) {
        let mut members = self.0.borrow_mut();
        let members = members.get_or_insert_with(|| {
            state
                .get_websockets()
                .into_iter()
                .filter_map(|ws| match ws.deserialize_attachment::<SocketState>() {
                    Ok(Some(s)) if s.subscribed => Some((ws, s.wire)),
                    _ => None,
                })
                .collect()
        });
        members.retain(|(ws, wire)| send(ws, *wire));
    }

    /// A socket that was not subscribed now is (its attachment already says so).
    pub fn joined(&self, ws: &WebSocket, wire: Wire) {
        if let Some(members) = self.0.borrow_mut().as_mut() {
            members.push((ws.clone(), wire));
        }
    }

    /// A subscribed socket unsubscribed. Should the runtime hand us another object for the
    /// same socket, nothing matches: then the list is dropped and rebuilt from the attachments.
    pub fn left(&self, ws: &WebSocket) {
        let mut members = self.0.borrow_mut();
        if let Some(list) = members.as_mut() {
            let before = list.len();
            list.retain(|(member, _)| member != ws);
            if list.len() == before {
                *members = None;
            }
        }
    }
}
