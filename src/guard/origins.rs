//! Which browser origins may open sockets and read answers (CORS). Not configured, only the
//! service's own origin may; `*` allows every origin, and only when configured so.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    Any,
    List(Vec<String>),
}

impl AllowedOrigins {
    /// Parses `ALLOWED_ORIGINS`: `*`, or origins separated by commas or spaces.
    pub fn parse(setting: Option<&str>) -> AllowedOrigins {
        let setting = setting.unwrap_or("").trim();
        if setting == "*" {
            return AllowedOrigins::Any;
        }
        let list = setting
            .split([',', ' '])
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|o| !o.is_empty())
            .collect();
        AllowedOrigins::List(list)
    }

    /// Whether a request with this `Origin` header, made to `own_origin`, may proceed. A
    /// request without an Origin header comes from a non-browser client: allowed.
    pub fn allows(&self, origin: Option<&str>, own_origin: &str) -> bool {
        let Some(origin) = origin else { return true };
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        match self {
            AllowedOrigins::Any => true,
            AllowedOrigins::List(list) => origin == own_origin.to_ascii_lowercase() || list.contains(&origin),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "https://finishline.example";

    #[test]
    fn unconfigured_allows_only_the_own_origin_and_non_browsers() {
        let none = AllowedOrigins::parse(None);
        assert!(none.allows(None, OWN));
        assert!(none.allows(Some(OWN), OWN));
        assert!(!none.allows(Some("https://evil.example"), OWN));
    }

    #[test]
    fn a_list_and_the_wildcard() {
        let list = AllowedOrigins::parse(Some("https://a.example, https://B.example/"));
        assert!(list.allows(Some("https://b.example"), OWN));
        assert!(!list.allows(Some("https://c.example"), OWN));
        assert!(AllowedOrigins::parse(Some("*")).allows(Some("https://c.example"), OWN));
    }
}
