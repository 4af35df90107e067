//! Creating organisations with their first admin and keys: `clausum-origin
//! init`, and the sandbox a first `serve` on an empty database creates.

use clausum_core::{
    catalog::Segment,
    keys::{ApiKey, KeyKind, RANDOM_BYTES},
    policy::Policy,
};
use rand::{Rng, RngCore, rngs::OsRng};
use serde::Serialize;

use crate::{
    store::{ApiKeyRow, OrganizationRow, Store, StoreResult, UserRow},
    time::now_ms,
};

/// Default per-minute rate limit of new keys.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: i64 = 100;

/// The keys of a new organisation, shown once.
#[derive(Debug, Serialize)]
pub struct Keys {
    /// `clm_sk_…`: server-side assess, fraud reports.
    pub secret: String,
    /// `clm_pub_…`: browser SDK.
    pub publishable: String,
    /// `clm_wh_…`: event ingest.
    pub ingest: String,
}

/// What `init` prints: everything needed to start calling the API.
#[derive(Debug, Serialize)]
pub struct Credentials {
    /// The new organisation.
    pub organization_id: String,
    /// Its name.
    pub organization_name: String,
    /// Its segment.
    pub segment: Segment,
    /// Dashboard admin login.
    pub admin_email: String,
    /// Dashboard admin password (shown once; stored only as an Argon2 hash).
    pub admin_password: String,
    /// API keys (shown once; stored only as SHA-256 hashes).
    pub keys: Keys,
}

/// Options of a new organisation.
#[derive(Debug, Clone)]
pub struct NewOrganization {
    /// Display name.
    pub name: String,
    /// Segment.
    pub segment: Segment,
    /// Admin login; derived from the name when absent.
    pub admin_email: Option<String>,
    /// Per-minute limit of the new keys.
    pub rate_limit_per_minute: i64,
}

fn random_string(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = OsRng;
    (0..len).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

fn slug(name: &str) -> String {
    let s: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let s = s.trim_matches('-').to_owned();
    if s.is_empty() { "org".into() } else { s }
}

/// A new key of `kind` for `org_id`: the row to store and the text to show once.
pub fn new_key(
    org_id: &str,
    kind: KeyKind,
    rate_limit_per_minute: i64,
    now: i64,
) -> (ApiKeyRow, ApiKey) {
    let mut random = [0u8; RANDOM_BYTES];
    OsRng.fill_bytes(&mut random);
    let key = ApiKey::generate(kind, random);
    let permissions: Vec<&str> = kind.default_permissions().to_vec();
    let row = ApiKeyRow {
        id: format!("key_{}", uuid::Uuid::new_v4().simple()),
        organization_id: org_id.to_owned(),
        kind: kind.as_str().to_owned(),
        name: format!("{} key", kind.as_str()),
        key_hash: key.hash(),
        display_prefix: key.display_prefix(),
        permissions: serde_json::to_string(&permissions).expect("serialises"),
        rate_limit_per_minute,
        rate_limit_per_day: None,
        created_at: now,
        expires_at: None,
        revoked_at: None,
    };
    (row, key)
}

/// Creates an organisation, its admin user and one key of each type, in
/// one transaction.
pub async fn create_organization(
    store: &dyn Store,
    new: NewOrganization,
) -> StoreResult<Credentials> {
    let now = now_ms();
    let org_id = format!("org_{}", uuid::Uuid::new_v4().simple());
    let policy = Policy { segment: new.segment, ..Policy::default() };
    let org = OrganizationRow {
        id: org_id.clone(),
        name: new.name.clone(),
        segment: new.segment.as_str().to_owned(),
        policy: serde_json::to_string(&policy).expect("serialises"),
        created_at: now,
    };
    let admin_email = new
        .admin_email
        .unwrap_or_else(|| format!("admin+{}-{}@clausum.local", slug(&new.name), &org_id[4..10]))
        .to_ascii_lowercase();
    let password = random_string(20);
    let admin = UserRow {
        id: format!("usr_{}", uuid::Uuid::new_v4().simple()),
        organization_id: org_id.clone(),
        email: admin_email.clone(),
        name: Some("Administrator".into()),
        password_hash: Some(crate::auth::password::hash(&password)),
        role: "admin".into(),
        external_subject: None,
        created_at: now,
        disabled_at: None,
    };
    let (sk_row, sk) = new_key(&org_id, KeyKind::Secret, new.rate_limit_per_minute, now);
    let (pk_row, pk) = new_key(&org_id, KeyKind::Publishable, new.rate_limit_per_minute, now);
    let (wk_row, wk) = new_key(&org_id, KeyKind::Ingest, new.rate_limit_per_minute, now);
    store.create_organization(&org, &admin, &[sk_row, pk_row, wk_row]).await?;
    Ok(Credentials {
        organization_id: org_id,
        organization_name: new.name,
        segment: new.segment,
        admin_email,
        admin_password: password,
        keys: Keys {
            secret: sk.expose().to_owned(),
            publishable: pk.expose().to_owned(),
            ingest: wk.expose().to_owned(),
        },
    })
}
