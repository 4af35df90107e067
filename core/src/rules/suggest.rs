//! "Did you mean …?" for mistyped field paths.

use super::fields::{FIXED, Field, VelocityStat};
use crate::velocity::{Dimension, Window};

/// The closest valid path to a mistyped one, if it is close enough to be a
/// plausible typo.
pub(super) fn suggest(path: &str) -> Option<String> {
    // Suggestions are a courtesy: skip the quadratic distance on huge input.
    if path.len() > 64 {
        return None;
    }
    let mut candidates: Vec<String> = FIXED.iter().map(|(p, _)| (*p).to_owned()).collect();
    for dimension in Dimension::ALL {
        for stat in [VelocityStat::Count, VelocityStat::Sum] {
            for window in Window::ALL {
                candidates.push(Field::Velocity { dimension, window, stat }.path());
            }
        }
    }
    candidates.extend(crate::signals::ALL.iter().map(|s| format!("signal.{}", s.code)));
    let limit = (path.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (distance(path, &c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars, two rows.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("amout").as_deref(), Some("amount"));
        assert_eq!(suggest("email.domian").as_deref(), Some("email.domain"));
        assert_eq!(suggest("velocity.email.count_1d").as_deref(), Some("velocity.email.count_1h"));
        assert_eq!(suggest("zzzzzzzz"), None);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "ab"), 2);
    }
}
