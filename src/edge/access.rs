//! The Worker's access rules, read from its variables and secrets: who may write, who may
//! subscribe, from which origins, and within which limits.

use subtle::ConstantTimeEq;
use worker::{Env, Request, Result};

use super::{query, var};
use crate::guard::{verify_token, AllowedOrigins, Limits};

pub struct Access {
    api_token: Option<String>,
    event_token_secret: Option<String>,
    origins: AllowedOrigins,
    pub limits: Limits,
}

/// A refusal: the status and the reason to answer with.
pub type Refusal = (u16, String);

impl Access {
    pub fn from_env(env: &Env) -> Access {
        Access {
            api_token: var(env, "API_TOKEN"),
            event_token_secret: var(env, "EVENT_TOKEN_SECRET"),
            origins: AllowedOrigins::parse(var(env, "ALLOWED_ORIGINS").as_deref()),
            limits: Limits::from_vars(|name| var(env, name)),
        }
    }

    /// Writes need `Authorization: Bearer <API_TOKEN>`; with no token configured, none pass.
    pub fn check_writer(&self, req: &Request) -> Result<Option<Refusal>> {
        let Some(expected) = &self.api_token else {
            return Ok(Some((503, "writes are disabled: no API_TOKEN is configured".into())));
        };
        let given = req.headers().get("authorization")?.unwrap_or_default();
        let given = given.strip_prefix("Bearer ").unwrap_or("");
        if bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return Ok(None);
        }
        Ok(Some((401, "writes need the header Authorization: Bearer <API_TOKEN>".into())))
    }

    /// Sockets: from an allowed origin, and with a valid token (see `check_reader`).
    pub fn check_subscriber(&self, req: &Request, event_id: &str, now_secs: u64) -> Result<Option<Refusal>> {
        if !self.origin_allowed(req)? {
            return Ok(Some((403, "this origin may not open sockets here (see ALLOWED_ORIGINS)".into())));
        }
        self.check_reader(req, event_id, now_secs)
    }

    /// Reading an event (its state, photos, sockets) needs a valid `?token=` for it when
    /// `EVENT_TOKEN_SECRET` is set. Checked before any Durable Object is reached.
    pub fn check_reader(&self, req: &Request, event_id: &str, now_secs: u64) -> Result<Option<Refusal>> {
        let Some(secret) = &self.event_token_secret else { return Ok(None) };
        let Some(token) = query(req, "token")? else {
            return Ok(Some((401, "reading this event needs ?token= (POST /events/{eventId}/tokens issues one)".into())));
        };
        Ok(verify_token(secret, event_id, &token, now_secs).err().map(|e| (401, e.to_string())))
    }

    pub fn event_token_secret(&self) -> Option<&str> {
        self.event_token_secret.as_deref()
    }

    /// The request's Origin when it is allowed (to echo in CORS headers).
    pub fn cors_origin(&self, req: &Request) -> Result<Option<String>> {
        let origin = req.headers().get("origin")?;
        Ok(origin.filter(|_| self.origin_allowed(req).unwrap_or(false)))
    }

    fn origin_allowed(&self, req: &Request) -> Result<bool> {
        let own = req.url()?.origin().ascii_serialization();
        Ok(self.origins.allows(req.headers().get("origin")?.as_deref(), &own))
    }
}
