use super::*;

#[test]
fn counts_and_first_interaction() {
    let mut t = BehaviorTracker::new(1_000.0);
    t.record(Interaction::FocusIn, 1_100.0, true);
    t.record(Interaction::MouseMove, 1_500.0, true);
    t.record(Interaction::MouseMove, 1_510.0, true);
    t.record(Interaction::Click, 1_600.0, true);
    t.record(Interaction::Paste(FieldKind::CardNumber), 1_700.0, true);
    t.record(Interaction::Copy, 1_800.0, false);
    t.record(Interaction::WindowBlur, 1_900.0, true);
    let s = t.snapshot(4_000.0);
    assert_eq!(s.session_duration_ms, 3_000);
    assert_eq!(s.time_to_first_interaction_ms, Some(500), "focus alone is not an interaction");
    assert_eq!((s.mouse_movements, s.clicks, s.focus_events, s.window_blurs), (2, 1, 1, 1));
    assert_eq!((s.paste_events, s.copy_events, s.copy_paste_events()), (1, 1, 2));
    assert_eq!(s.pasted_fields, ["card_number"]);
    assert_eq!(s.untrusted_events, 1);
    assert_eq!(s.key_interval_mean_ms, None);
}

#[test]
fn key_cadence_leaves_out_pauses() {
    let mut t = BehaviorTracker::new(0.0);
    for at in [100.0, 200.0, 300.0, 400.0, 5_000.0, 5_150.0] {
        t.record(Interaction::KeyDown, at, true);
    }
    let s = t.snapshot(6_000.0);
    assert_eq!(s.key_presses, 6);
    // Intervals 100, 100, 100, 150 (the 4.6 s pause is left out).
    assert_eq!(s.key_interval_mean_ms, Some(112.5));
    assert_eq!(s.key_interval_stddev_ms, Some(21.7));
}

#[test]
fn machine_regular_typing_has_no_spread() {
    let mut t = BehaviorTracker::new(0.0);
    for i in 0..20 {
        t.record(Interaction::KeyDown, f64::from(i) * 50.0, true);
    }
    let s = t.snapshot(1_000.0);
    assert_eq!((s.key_interval_mean_ms, s.key_interval_stddev_ms), (Some(50.0), Some(0.0)));
}

#[test]
fn fields_are_classified_from_attributes() {
    use FieldKind::*;
    for (ac, ty, name, id, want) in [
        ("cc-number", "text", "", "", CardNumber),
        ("section-pay billing cc-exp", "", "", "", CardExpiry),
        ("", "text", "cardNumber", "", CardNumber),
        ("", "text", "", "card-number", CardNumber),
        ("", "text", "cvv", "", CardCvc),
        ("", "text", "card_exp", "", CardExpiry),
        ("", "email", "whatever", "", Email),
        ("", "text", "correo", "", Email),
        ("", "tel", "", "", Phone),
        ("off", "text", "", "first_name", Name),
        ("", "text", "notes", "", Other),
    ] {
        assert_eq!(FieldKind::classify(ac, ty, name, id), want, "{ac}|{ty}|{name}|{id}");
    }
}

#[test]
fn pasted_fields_are_bounded() {
    let mut t = BehaviorTracker::new(0.0);
    for i in 0..100 {
        t.record(Interaction::Paste(FieldKind::Other), f64::from(i), true);
    }
    let s = t.snapshot(100.0);
    assert_eq!(s.paste_events, 100);
    assert_eq!(s.pasted_fields.len(), MAX_PASTED_FIELDS);
}
