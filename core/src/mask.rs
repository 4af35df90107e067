//! Masking personal data for readers who may see that a value exists but
//! not what it is (the dashboard's viewer role).
//!
//! Masking keeps just enough to tell two values apart at a glance (an
//! email's first letter and domain, an IP's network, a number's last four)
//! and never enough to reach the person. One function decides, per JSON
//! field name, what a stored request may show, so every screen and every
//! endpoint masks the same way.

use serde_json::Value;

use crate::blocklist::ListType;

/// The masking character.
const STAR: char = '*';

/// `juan.perez@gmail.com` → `j***@gmail.com`. Text without `@` is masked whole.
pub fn email(value: &str) -> String {
    match value.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => tail(value, 0),
    }
}

/// `203.0.113.7` → `203.0.113.*`; `2001:db8:85a3::8a2e:370:7334` →
/// `2001:db8:85a3:*` (the network a /24 or /48 names, not the host).
pub fn ip(value: &str) -> String {
    match value.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.*")
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:*", s[0], s[1], s[2])
        }
        Err(_) => tail(value, 0),
    }
}

/// Every character but the last `keep` replaced by `*` (at least half of
/// the value is always masked, so a short value is not given away).
pub fn tail(value: &str, keep: usize) -> String {
    let n = value.chars().count();
    let keep = keep.min(n / 2);
    value.chars().enumerate().map(|(i, c)| if i + keep < n { STAR } else { c }).collect()
}

/// Masks the personal data of a stored request (pay-in or payout, as the
/// API received it after normalisation) in place, by field name at any
/// depth: emails and IPs keep their domain and network, identifiers,
/// account numbers and phone numbers their last four, names and addresses
/// nothing. Amounts, countries, currencies, card BINs and last-fours (not
/// personal on their own), behaviour counters and signals stay.
pub fn request(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match (field(key), v.as_str()) {
                    (Some(rule), Some(text)) => *v = Value::String(rule(text)),
                    (Some(_), None) if !v.is_object() && !v.is_array() && !v.is_null() => {
                        *v = Value::String(tail(&v.to_string(), 0));
                    }
                    _ => request(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(request),
        _ => {}
    }
}

/// One stored value of the JSON field `name`, masked as [`request`] masks
/// that field (`victim_email` like an email, `customer_id` to its last
/// four, …); the value of a field that holds no personal data comes back
/// unchanged.
pub fn value(name: &str, text: &str) -> String {
    match field(name) {
        Some(rule) => rule(text),
        None => text.to_owned(),
    }
}

/// A blocklist entry's value masked like the request field it matches:
/// emails, IPs and CIDR ranges keep their domain and network; phones,
/// customer and beneficiary ids, account numbers, fingerprints and hashes
/// their last four. Email domains, card BINs, countries and SWIFT/BIC
/// codes (not personal on their own) stay.
pub fn listed(list_type: ListType, text: &str) -> String {
    match list_type {
        ListType::Email => email(text),
        ListType::IpAddress => ip(text),
        ListType::IpRange => match text.split_once('/') {
            Some((address, bits)) => format!("{}/{bits}", ip(address)),
            None => ip(text),
        },
        ListType::DeviceFingerprint
        | ListType::CardHash
        | ListType::Phone
        | ListType::CustomerId
        | ListType::Clabe
        | ListType::Iban
        | ListType::AccountHash
        | ListType::BeneficiaryId => tail(text, 4),
        ListType::EmailDomain | ListType::CardBin | ListType::Country | ListType::SwiftBic => {
            text.to_owned()
        }
    }
}

/// The masking of one field name, if it holds personal data: first the
/// names the API itself uses, then, for any other name (the merchant's own
/// `metadata` keys can be anything), the words the name is made of, so that
/// `buyer_email`, `shippingAddress` or `customer-phone` are masked like
/// `email`, `address` and `phone`.
fn field(name: &str) -> Option<fn(&str) -> String> {
    Some(match name {
        "email" | "victim_email" | "beneficiary_email" => email,
        "ip" | "ip_address" => ip,
        "phone" | "customer_id" | "account_id" | "clabe" | "iban" | "account_number"
        | "account_hash" | "fingerprint" | "device_fingerprint" | "document_id" | "tax_id" => {
            |v| tail(v, 4)
        }
        "name" | "full_name" | "victim_name" | "city" | "postal_code" | "address" | "line1"
        | "line2" | "street" => |v| tail(v, 0),
        // Businesses, not people.
        "submerchant_name" | "bank_name" => return None,
        _ => return by_words(name),
    })
}

/// The masking a field name's words call for: the first word that names
/// personal data decides. Words are split at anything but a letter or a
/// digit and where a lower-case letter meets an upper-case one, so
/// `tip_amount` or `shipping` (no word `ip`) stay whole.
fn by_words(name: &str) -> Option<fn(&str) -> String> {
    words(name).into_iter().find_map(|word| -> Option<fn(&str) -> String> {
        Some(match word.as_str() {
            "email" | "mail" | "correo" => email,
            "ip" | "ipaddress" | "ipaddr" => ip,
            "phone" | "telephone" | "tel" | "mobile" | "whatsapp" | "telefono" | "celular"
            | "movil" | "document" | "passport" | "ssn" | "rfc" | "curp" | "cpf" | "dni"
            | "nif" | "nie" | "cuit" | "rut" => |v| tail(v, 4),
            "name" | "fullname" | "firstname" | "lastname" | "surname" | "username" | "nombre"
            | "apellido" | "address" | "street" | "direccion" | "calle" | "birthdate"
            | "birthday" | "dob" | "nacimiento" => |v| tail(v, 0),
            _ => return None,
        })
    })
}

/// The lower-case words of a field name (`shippingAddress_line` →
/// `shipping`, `address`, `line`).
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut lower_before = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            words.push(std::mem::take(&mut word));
            lower_before = false;
            continue;
        }
        if c.is_uppercase() && lower_before {
            words.push(std::mem::take(&mut word));
        }
        lower_before = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    words.push(word);
    words.retain(|w| !w.is_empty());
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emails_keep_first_letter_and_domain() {
        assert_eq!(email("juan.perez@gmail.com"), "j***@gmail.com");
        assert_eq!(email("a@b.co"), "a***@b.co");
        assert_eq!(email("not-an-email"), "************");
    }

    #[test]
    fn ips_keep_their_network() {
        assert_eq!(ip("203.0.113.7"), "203.0.113.*");
        assert_eq!(ip("2001:db8:85a3::8a2e:370:7334"), "2001:db8:85a3:*");
        assert_eq!(ip("garbage"), "*******");
    }

    #[test]
    fn tails_never_show_more_than_half() {
        assert_eq!(tail("+525512345678", 4), "*********5678");
        assert_eq!(tail("abc", 4), "**c");
        assert_eq!(tail("", 4), "");
        assert_eq!(tail("Juan Pérez", 0), "**********");
    }

    #[test]
    fn single_values_mask_by_field_name() {
        assert_eq!(value("victim_email", "ana@example.com"), "a***@example.com");
        assert_eq!(value("victim_name", "Ana López"), "*********");
        assert_eq!(value("customer_id", "cus_12345678"), "********5678");
        assert_eq!(value("ip", "203.0.113.7"), "203.0.113.*");
        assert_eq!(value("title", "Ana López"), "Ana López");
    }

    #[test]
    fn other_names_mask_by_the_words_they_are_made_of() {
        assert_eq!(value("buyer_email", "ana@example.com"), "a***@example.com");
        assert_eq!(value("contactEmail", "ana@example.com"), "a***@example.com");
        assert_eq!(value("customer-phone", "+525512345678"), "*********5678");
        assert_eq!(value("doc_curp", "LOPA800101MDFRRN09"), "**************RN09");
        assert_eq!(value("shippingAddress", "Calle 5"), "*******");
        assert_eq!(value("FirstName", "Ana"), "***");
        assert_eq!(value("client_ip", "203.0.113.7"), "203.0.113.*");
        assert_eq!(value("IPAddress", "203.0.113.7"), "203.0.113.*");
        // Names without such a word stay whole; `ip` must be a word of its own.
        for (name, v) in [
            ("channel", "web"),
            ("shipping_method", "express"),
            ("tip_amount", "15"),
            ("zipcode_zone", "north"),
            ("submerchant_name", "Tienda Uno"),
            ("bank_name", "Banco Uno"),
        ] {
            assert_eq!(value(name, v), v, "{name}");
        }
    }

    #[test]
    fn field_names_split_into_lower_case_words() {
        let split = words;
        assert_eq!(split("shippingAddress_line2"), ["shipping", "address", "line2"]);
        assert_eq!(split("--buyer..EMAIL--"), ["buyer", "email"]);
        assert_eq!(split("IPAddress"), ["ipaddress"]);
        assert!(split("").is_empty());
    }

    #[test]
    fn listed_values_mask_like_the_field_they_match() {
        let cases = [
            (ListType::Email, "thief@example.com", "t***@example.com"),
            (ListType::EmailDomain, "mailinator.com", "mailinator.com"),
            (ListType::IpAddress, "198.51.100.4", "198.51.100.*"),
            (ListType::IpRange, "198.51.100.0/24", "198.51.100.*/24"),
            (ListType::IpRange, "2001:db8:85a3::/48", "2001:db8:85a3:*/48"),
            (ListType::Phone, "+525512345678", "*********5678"),
            (ListType::Clabe, "002010077777777771", "**************7771"),
            (ListType::CustomerId, "cus_987654321", "*********4321"),
            (ListType::CardBin, "424242", "424242"),
            (ListType::Country, "MX", "MX"),
            (ListType::SwiftBic, "BNMXMXMM", "BNMXMXMM"),
        ];
        for (list_type, raw, shown) in cases {
            assert_eq!(listed(list_type, raw), shown, "{list_type:?}");
        }
        // Every list type is classified; no personal value passes whole.
        for t in ListType::ALL {
            let raw = match t {
                ListType::Email => "someone@example.com",
                ListType::IpAddress => "203.0.113.7",
                ListType::IpRange => "203.0.113.0/24",
                _ => "abcdefghijkl",
            };
            let kept = listed(t, raw) == raw;
            let public = matches!(
                t,
                ListType::EmailDomain | ListType::CardBin | ListType::Country | ListType::SwiftBic
            );
            assert_eq!(kept, public, "{t:?}");
        }
    }

    #[test]
    fn requests_mask_personal_fields_at_any_depth() {
        let mut v = json!({
            "amount": 1500, "currency": "MXN", "email": "ana@example.com", "phone": "+525512345678",
            "customer_id": "cus_12345678",
            "payment_method": {"card_bin": "424242", "card_last4": "4242"},
            "device": {"ip": "198.51.100.20", "fingerprint": "fp_abcdef123456", "timezone": "America/Mexico_City"},
            "billing": {"country": "MX", "city": "Puebla", "postal_code": "72000"},
            "beneficiary": {"name": "Ana López", "clabe": "002010077777777771", "country": "MX"},
            "origin": {"account_id": 123456789},
            "metadata": {"items": [{"email": "b@x.mx"}], "buyer_name": "Ana López", "channel": "web"}
        });
        request(&mut v);
        assert_eq!(v["email"], "a***@example.com");
        assert_eq!(v["phone"], "*********5678");
        assert_eq!(v["customer_id"], "********5678");
        assert_eq!(v["payment_method"]["card_bin"], "424242");
        assert_eq!(v["device"]["ip"], "198.51.100.*");
        assert_eq!(v["device"]["fingerprint"], "***********3456");
        assert_eq!(v["device"]["timezone"], "America/Mexico_City");
        assert_eq!(
            v["billing"],
            json!({"country": "MX", "city": "******", "postal_code": "*****"})
        );
        assert_eq!(v["beneficiary"]["name"], "*********");
        assert_eq!(v["beneficiary"]["clabe"], "**************7771");
        assert_eq!(v["beneficiary"]["country"], "MX");
        assert_eq!(v["origin"]["account_id"], "*********");
        assert_eq!(v["metadata"]["items"][0]["email"], "b***@x.mx");
        assert_eq!(v["metadata"]["buyer_name"], "*********");
        assert_eq!(v["metadata"]["channel"], "web");
        assert_eq!(v["amount"], 1500);
    }
}
