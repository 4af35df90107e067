//! What the edge caches from the origin — the key manifest and each
//! organisation's snapshot — and what one purge drops of it: as the
//! origin's purge call names it, and as the KV marker passes it on to the
//! other isolates.

use serde::{Deserialize, Serialize};

pub use clausum_core::wire::edge::{EdgePurge as Scope, EdgeResource as Resource};

/// Key of `res`'s copy in the Cache API (any URL will do; this one is ours).
pub fn cache_url(res: &Resource) -> String {
    format!("https://clausum-edge.internal/v1{}", res.path())
}

/// Purges remembered in the marker; older ones have aged out of every copy.
pub const MARKER_LEN: usize = 64;

/// The marker in KV through which a purge reaches every isolate: the
/// latest purges, each applied by an isolate to the copies it validated
/// before the purge.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    /// Oldest first, at most [`MARKER_LEN`].
    pub purges: Vec<Purge>,
}

/// One purge in the marker. (Markers written before `keys` existed read
/// as organisation or everything purges, as they were.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Purge {
    /// When the origin's call arrived (unix ms).
    pub at: i64,
    /// What it dropped.
    #[serde(flatten)]
    pub scope: Scope,
}

impl Marker {
    /// Adds a purge, forgetting the oldest beyond [`MARKER_LEN`].
    pub fn push(&mut self, at: i64, scope: Scope) {
        self.purges.push(Purge { at, scope });
        let skip = self.purges.len().saturating_sub(MARKER_LEN);
        self.purges.drain(..skip);
    }

    /// When the newest purge arrived (0 when there is none).
    pub fn newest(&self) -> i64 {
        self.purges.iter().map(|p| p.at).max().unwrap_or(0)
    }

    /// The purges after `seen`, the newest an isolate has applied.
    pub fn after(&self, seen: i64) -> impl Iterator<Item = &Purge> {
        self.purges.iter().filter(move |p| p.at > seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(o: &str) -> Resource {
        Resource::Org(o.to_owned())
    }

    #[test]
    fn a_purge_call_names_keys_an_organisation_or_everything() {
        let keys = Scope::from_request(br#"{"keys": true}"#);
        assert!(keys.covers(&Resource::Keys) && !keys.covers(&org("org_1")));
        assert_eq!((keys.named(), keys.to_string()), (vec![Resource::Keys], "keys".to_owned()));

        let one = Scope::from_request(br#"{"organization_id": "org_1"}"#);
        assert!(one.covers(&org("org_1")) && !one.covers(&org("org_2")));
        assert!(!one.covers(&Resource::Keys), "a blocklist change leaves the keys alone");
        assert_eq!(one.named(), vec![org("org_1")]);

        let both = Scope::from_request(br#"{"keys": true, "organization_id": "org_1"}"#);
        assert!(both.covers(&Resource::Keys) && both.covers(&org("org_1")));
        assert!(!both.covers(&org("org_2")));
        assert_eq!(both.to_string(), "keys, org_1");

        let unnamed: [&[u8]; 5] =
            [b"", b"{}", b"not json", br#"{"keys": false}"#, br#"{"keys": "yes"}"#];
        for body in unnamed {
            let all = Scope::from_request(body);
            assert!(all.everything(), "{}", String::from_utf8_lossy(body));
            assert!(all.covers(&Resource::Keys) && all.covers(&org("org_9")));
            assert!(all.named().is_empty());
            assert_eq!(all.to_string(), "*");
        }
        assert!(Scope::from_request(br#"{"organization_id": " "}"#).everything());
    }

    #[test]
    fn the_marker_passes_scopes_on_and_forgets_old_purges() {
        let mut m = Marker::default();
        m.push(10, Scope { keys: true, organization_id: None });
        m.push(20, Scope { keys: false, organization_id: Some("org_1".into()) });
        m.push(30, Scope::default());
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(
            text,
            r#"{"purges":[{"at":10,"keys":true},{"at":20,"organization_id":"org_1"},{"at":30}]}"#
        );
        assert_eq!(serde_json::from_str::<Marker>(&text).unwrap(), m);
        assert_eq!(m.newest(), 30);
        assert_eq!(m.after(15).map(|p| p.at).collect::<Vec<_>>(), vec![20, 30]);

        // A marker an older worker wrote.
        let old: Marker = serde_json::from_str(
            r#"{"purges":[{"at":5,"organization_id":null},{"at":6,"organization_id":"org_2"}]}"#,
        )
        .unwrap();
        assert!(old.purges[0].scope.everything());
        assert!(old.purges[1].scope.covers(&org("org_2")));
        assert!(!old.purges[1].scope.covers(&Resource::Keys));

        for at in 0..(MARKER_LEN as i64 + 5) {
            m.push(100 + at, Scope::default());
        }
        assert_eq!(m.purges.len(), MARKER_LEN);
        assert_eq!(m.purges[0].at, 105, "the oldest are forgotten");
        assert_eq!(Marker::default().newest(), 0);
    }
}
