//! Resuming an upload without writing into the photographer's folder: each photo's id is
//! derived from its bytes, so a second run finds what the Worker already holds and sends only
//! the rest. What the Worker answers for a repeated id (same bytes: nothing counted twice)
//! covers a request that was in flight when the first run stopped.

use std::collections::HashMap;
use std::path::PathBuf;

use finishline::protocol::PhotoView;

/// A photo of the folder, read once to name it.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalPhoto {
    pub path: PathBuf,
    /// The path as shown to the photographer: relative to the folder given.
    pub name: String,
    pub photo_id: String,
    /// What the bytes are (`image/jpeg`, ...), judged like the Worker judges them.
    pub media_type: &'static str,
    pub size: u64,
}

/// The photoId of a photo's bytes: `ph_` and the first 128 bits of their SHA-256, so the same
/// photo always gets the same id and another photo (in practice) never does.
pub fn photo_id_of(sha256_hex: &str) -> String {
    format!("ph_{}", &sha256_hex[..32])
}

/// What to do with one local photo, given what the Worker holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The Worker does not have it.
    Send,
    /// The Worker holds it, queued or processing: only wait (see `unstarted` for a photo
    /// whose job may never have been queued).
    Wait,
    /// The Worker has finished it (read or failed): nothing to do.
    Done,
    /// The same bytes as an earlier file of the folder (its index): one photo on the Worker.
    SameAs(usize),
}

/// One action per local photo, in folder order.
pub fn plan(local: &[LocalPhoto], held: &HashMap<String, PhotoView>) -> Vec<Action> {
    let mut first_of: HashMap<&str, usize> = HashMap::new();
    local
        .iter()
        .enumerate()
        .map(|(i, photo)| {
            if let Some(&first) = first_of.get(photo.photo_id.as_str()) {
                return Action::SameAs(first);
            }
            first_of.insert(&photo.photo_id, i);
            match held.get(&photo.photo_id) {
                None => Action::Send,
                Some(view) if is_terminal(&view.status) => Action::Done,
                Some(_) => Action::Wait,
            }
        })
        .collect()
}

pub fn is_terminal(status: &str) -> bool {
    matches!(status, "succeeded" | "failed")
}

/// Our photos the Worker holds as queued with no attempt started, asked once the whole event
/// has been quiet for a while: a run killed mid-request can leave a photo registered whose job
/// was never queued. Sending the same bytes again queues it again; should its first job only
/// have been slow, the room still applies each step once. `sent_again` are those already sent
/// again by this run.
pub fn unstarted<'a>(views: &'a [PhotoView], ours: &HashMap<String, usize>, sent_again: &[String]) -> Vec<&'a str> {
    views
        .iter()
        .filter(|v| v.status == "queued" && v.attempts == 0)
        .map(|v| v.photo_id.as_str())
        .filter(|id| ours.contains_key(*id) && !sent_again.iter().any(|s| s == id))
        .collect()
}

/// How many photos each action got, for the line that says what a run resumes.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PlanCounts {
    pub send: usize,
    pub wait: usize,
    pub done: usize,
    pub same: usize,
}

pub fn counts(actions: &[Action]) -> PlanCounts {
    let mut c = PlanCounts::default();
    for action in actions {
        match action {
            Action::Send => c.send += 1,
            Action::Wait => c.wait += 1,
            Action::Done => c.done += 1,
            Action::SameAs(_) => c.same += 1,
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(name: &str, id: &str) -> LocalPhoto {
        LocalPhoto {
            path: PathBuf::from(name),
            name: name.into(),
            photo_id: id.into(),
            media_type: "image/jpeg",
            size: 1,
        }
    }

    fn held(id: &str, status: &str, attempts: u32) -> (String, PhotoView) {
        let view = PhotoView {
            photo_id: id.into(),
            request_id: "req_1".into(),
            status: status.into(),
            stage: None,
            result: None,
            error: None,
            attempts,
        };
        (id.to_string(), view)
    }

    #[test]
    fn ids_come_from_the_bytes() {
        let digest = finishline::ids::content_digest(b"photo");
        let id = photo_id_of(&digest);
        assert_eq!(id, format!("ph_{}", &digest[..32]));
        assert!(finishline::ids::IdKind::Photo.check(&id).is_ok());
        assert_ne!(id, photo_id_of(&finishline::ids::content_digest(b"other photo")));
    }

    #[test]
    fn a_fresh_event_sends_everything() {
        let photos = [local("a.jpg", "ph_a"), local("b.jpg", "ph_b")];
        assert_eq!(plan(&photos, &HashMap::new()), [Action::Send, Action::Send]);
    }

    #[test]
    fn a_resumed_run_sends_only_what_the_worker_lacks() {
        let photos = [
            local("a.jpg", "ph_a"),
            local("b.jpg", "ph_b"),
            local("c.jpg", "ph_c"),
            local("d.jpg", "ph_d"),
            local("e.jpg", "ph_e"),
            local("f.jpg", "ph_f"),
            local("g.jpg", "ph_g"),
        ];
        let held: HashMap<_, _> = [
            held("ph_a", "succeeded", 1),
            held("ph_b", "failed", 3),
            held("ph_c", "processing", 1),
            held("ph_d", "queued", 0),
            // A retry waiting in the queue: an attempt started, so its job exists.
            held("ph_e", "queued", 1),
            held("ph_other", "succeeded", 1),
        ]
        .into();
        let actions = plan(&photos, &held);
        use Action::*;
        assert_eq!(actions, [Done, Done, Wait, Wait, Wait, Send, Send]);
        assert_eq!(counts(&actions), PlanCounts { send: 2, wait: 3, done: 2, same: 0 });
    }

    #[test]
    fn only_our_photos_never_started_are_sent_again_and_only_once() {
        let views: Vec<PhotoView> = [
            held("ph_a", "queued", 0),
            held("ph_b", "queued", 1),
            held("ph_c", "processing", 1),
            held("ph_d", "queued", 0),
            held("ph_theirs", "queued", 0),
        ]
        .into_iter()
        .map(|(_, view)| view)
        .collect();
        let ours: HashMap<String, usize> = ["ph_a", "ph_b", "ph_c", "ph_d"].iter().enumerate().map(|(i, id)| (id.to_string(), i)).collect();
        assert_eq!(unstarted(&views, &ours, &[]), ["ph_a", "ph_d"]);
        assert_eq!(unstarted(&views, &ours, &["ph_a".into()]), ["ph_d"]);
    }

    #[test]
    fn a_copy_in_the_folder_is_one_photo() {
        let photos = [local("a.jpg", "ph_a"), local("b.jpg", "ph_b"), local("copy/a.jpg", "ph_a")];
        assert_eq!(plan(&photos, &HashMap::new()), [Action::Send, Action::Send, Action::SameAs(0)]);
    }
}
