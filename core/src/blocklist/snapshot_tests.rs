//! The snapshot must answer exactly as the origin's index does for the
//! `block` entries it holds: same probes, same hits.

use proptest::prelude::*;

use super::snapshot::{Snapshot, SnapshotBuilder, SnapshotError, edge_digest_key};
use super::{BlocklistIndex, BlocklistLookup, EntryMeta, FlowScope, ListType, Severity};
use crate::digest::DigestKey;
use crate::engine::{self, Context};
use crate::history::HistoryView;
use crate::normalize::IpAddress;
use crate::transaction::Transaction;
use crate::velocity::VelocitySnapshot;
use crate::wire::{AssessRequest, Flow};

/// (list type, raw value, scope, expires at)
type Entry = (ListType, String, FlowScope, Option<i64>);

fn both(entries: &[Entry]) -> (BlocklistIndex, Snapshot) {
    let key = edge_digest_key(b"token", "org_1");
    let mut index = BlocklistIndex::new(key.clone());
    let mut builder = SnapshotBuilder::new(key.clone());
    let mut seen = std::collections::HashSet::new();
    for (n, (t, raw, scope, exp)) in entries.iter().enumerate() {
        let Ok(v) = t.normalize(raw) else { continue };
        // The database lists a type and value once per organisation.
        if !seen.insert((*t, v.clone())) {
            continue;
        }
        let entry = 1000 + n as u128;
        let meta = EntryMeta {
            list_type: *t,
            severity: Severity::Block,
            flow_scope: *scope,
            expires_at_ms: *exp,
            entry,
        };
        index.insert(&v, meta);
        builder.push(*t, &v, *scope, *exp, entry);
    }
    (index, Snapshot::parse(builder.finish(), key).expect("parses"))
}

fn hits(ix: &dyn BlocklistLookup, json: &str, flow: Flow, now_ms: i64) -> Vec<super::Hit> {
    let req: AssessRequest = serde_json::from_str(json).unwrap();
    let tx = Transaction::from_wire(&req).unwrap();
    let ip = tx.device.ip.as_ref().map(|i| i.to_string());
    let (velocity, history) = (VelocitySnapshot::default(), HistoryView::default());
    let ctx = Context {
        flow,
        ip_country: None,
        velocity: &velocity,
        history: &history,
        now_ms,
        payout: None,
    };
    let mut h = engine::blocklist_hits(ix, &tx, ip.as_deref(), &ctx);
    h.sort_by_key(|h| (h.list_type, h.entry));
    h
}

fn entries() -> Vec<Entry> {
    vec![
        (ListType::Email, "Fraud@Example.com".into(), FlowScope::All, None),
        (ListType::EmailDomain, "bad.example".into(), FlowScope::Payin, None),
        (ListType::CardBin, "411111".into(), FlowScope::All, None),
        (ListType::IpAddress, "203.0.113.7".into(), FlowScope::Payout, None),
        (ListType::IpRange, "198.51.100.0/24".into(), FlowScope::All, None),
        (ListType::IpRange, "2001:db8::/32".into(), FlowScope::All, Some(5_000)),
        (ListType::Phone, "+5215512345678".into(), FlowScope::All, Some(1_000)),
        (ListType::CustomerId, "cus_9".into(), FlowScope::All, None),
    ]
}

#[test]
fn snapshot_hits_what_the_index_hits() {
    let (index, snap) = both(&entries());
    assert_eq!(snap.len(), 8);
    let probes = [
        r#"{"amount":1,"currency":"MXN","email":"FRAUD@example.com"}"#,
        r#"{"amount":1,"currency":"MXN","email":"a@shop.bad.example","customer_id":"cus_9"}"#,
        r#"{"amount":1,"currency":"MXN","payment_method":{"card_bin":"41111122"}}"#,
        r#"{"amount":1,"currency":"MXN","device":{"ip":"203.0.113.7"}}"#,
        r#"{"amount":1,"currency":"MXN","device":{"ip":"198.51.100.200"}}"#,
        r#"{"amount":1,"currency":"MXN","device":{"ip":"2001:db8:5::1"}}"#,
        r#"{"amount":1,"currency":"MXN","phone":"+52 1 55 1234 5678"}"#,
        r#"{"amount":1,"currency":"MXN","email":"clean@example.com","device":{"ip":"10.0.0.1"}}"#,
    ];
    for json in probes {
        for flow in [Flow::Payin, Flow::Payout] {
            for now in [0, 999, 1_000, 6_000] {
                assert_eq!(hits(&snap, json, flow, now), hits(&index, json, flow, now), "{json}");
            }
        }
    }
    assert_eq!(hits(&snap, probes[0], Flow::Payin, 0).len(), 1);
    assert!(hits(&snap, probes[3], Flow::Payin, 0).is_empty(), "payout-only entry");
    assert!(hits(&snap, probes[6], Flow::Payin, 1_000).is_empty(), "expired");
    assert!(hits(&snap, probes[7], Flow::Payin, 0).is_empty());
}

#[test]
fn same_entries_same_bytes_in_any_order() {
    let build = |es: &mut dyn Iterator<Item = &Entry>| {
        let mut b = SnapshotBuilder::new(DigestKey::new([3; 16]));
        for (t, raw, s, e) in es {
            b.push(*t, &t.normalize(raw).unwrap(), *s, *e, raw.len() as u128);
        }
        b.finish()
    };
    let es = entries();
    let forward = build(&mut es.iter());
    assert_eq!(forward, build(&mut es.iter().rev()));
    assert!(Snapshot::parse(forward, DigestKey::new([3; 16])).is_ok());
}

#[test]
fn damaged_bytes_are_refused() {
    let key = DigestKey::new([3; 16]);
    let mut b = SnapshotBuilder::new(key.clone());
    for i in 0..50 {
        b.push(ListType::CustomerId, &format!("c{i}"), FlowScope::All, None, i);
    }
    let good = b.finish();
    assert!(Snapshot::parse(good.clone(), key.clone()).is_ok());
    assert_eq!(
        Snapshot::parse(b"nonsense".to_vec(), key.clone()).unwrap_err(),
        SnapshotError::Magic
    );
    let mut short = good.clone();
    short.pop();
    assert_eq!(Snapshot::parse(short, key.clone()).unwrap_err(), SnapshotError::Length);
    let mut swapped = good.clone();
    let (a, b) = (24, 24 + 29);
    let first: Vec<u8> = swapped[a..b].to_vec();
    let second: Vec<u8> = swapped[b..b + 29].to_vec();
    swapped[a..b].copy_from_slice(&second);
    swapped[b..b + 29].copy_from_slice(&first);
    assert!(matches!(Snapshot::parse(swapped, key.clone()), Err(SnapshotError::Record(_))));
    let mut bad_meta = good;
    bad_meta[24 + 28] = 0x0f;
    assert!(matches!(Snapshot::parse(bad_meta, key), Err(SnapshotError::Record(0))));
}

#[test]
fn the_key_depends_on_token_and_organisation() {
    let d = |k: DigestKey| k.digest("email", &[b"a@b.co"]);
    assert_eq!(d(edge_digest_key(b"t", "org_1")), d(edge_digest_key(b"t", "org_1")));
    assert_ne!(d(edge_digest_key(b"t", "org_1")), d(edge_digest_key(b"t", "org_2")));
    assert_ne!(d(edge_digest_key(b"t", "org_1")), d(edge_digest_key(b"u", "org_1")));
    // A snapshot read with the wrong key parses but matches nothing.
    let mut b = SnapshotBuilder::new(edge_digest_key(b"t", "org_1"));
    b.push(ListType::Email, "a@b.co", FlowScope::All, None, 1);
    let wrong = Snapshot::parse(b.finish(), edge_digest_key(b"t", "org_2")).unwrap();
    assert!(wrong.lookup(ListType::Email, "a@b.co", Flow::Payin, 0).is_none());
}

proptest! {
    #[test]
    fn ip_probes_agree_with_the_index(
        nets in proptest::collection::vec((any::<u32>(), 8u8..=32, 0u8..3, any::<bool>()), 1..20),
        probes in proptest::collection::vec(any::<u32>(), 1..20),
    ) {
        let scopes = [FlowScope::Payin, FlowScope::Payout, FlowScope::All];
        let es: Vec<Entry> = nets
            .iter()
            .map(|&(n, p, s, exact)| {
                let ip = std::net::Ipv4Addr::from(n);
                if exact {
                    (ListType::IpAddress, ip.to_string(), scopes[usize::from(s)], None)
                } else {
                    (ListType::IpRange, format!("{ip}/{p}"), scopes[usize::from(s)], Some(50))
                }
            })
            .collect();
        let (index, snap) = both(&es);
        // Probe inside the listed networks as well as at random.
        let inside = nets.iter().map(|&(n, _, _, _)| n ^ 1);
        for a in probes.into_iter().chain(inside) {
            let ip = IpAddress::parse(&std::net::Ipv4Addr::from(a).to_string()).unwrap();
            for flow in [Flow::Payin, Flow::Payout] {
                for now in [0, 50] {
                    let s = snap.lookup_ip_ranges(&ip, flow, now).map(|h| h.list_type);
                    let i = index.lookup_ip_ranges(&ip, flow, now).map(|h| h.list_type);
                    prop_assert_eq!(s, i);
                    let text = ip.to_string();
                    let s = snap.lookup(ListType::IpAddress, &text, flow, now).map(|h| h.entry);
                    let i = index.lookup(ListType::IpAddress, &text, flow, now).map(|h| h.entry);
                    prop_assert_eq!(s, i);
                }
            }
        }
    }
}
