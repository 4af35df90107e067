//! The enumerations of a case: what kind of incident it is, which regulator
//! it goes to, and the fraud-report reason it may have come from.

use serde::{Deserialize, Serialize};

use crate::blocklist::Severity;

/// The incident type of a case, in the regulators' vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum IncidentType {
    /// Credentials or card data obtained through a fake site or message.
    Phishing,
    /// The victim was manipulated into acting (calls, fake support, …).
    IngenieriaSocial,
    /// Money moved without the account holder's authorisation.
    TransferenciaNoAutorizada,
    /// Someone else's identity used to open accounts or transact.
    RoboIdentidad,
    /// Committed or assisted by staff.
    FraudeInterno,
    /// Anything else.
    Otro,
}

impl IncidentType {
    /// Every incident type.
    pub const ALL: [IncidentType; 6] = [
        IncidentType::Phishing,
        IncidentType::IngenieriaSocial,
        IncidentType::TransferenciaNoAutorizada,
        IncidentType::RoboIdentidad,
        IncidentType::FraudeInterno,
        IncidentType::Otro,
    ];

    /// The wire name (`phishing`, `ingenieria_social`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentType::Phishing => "phishing",
            IncidentType::IngenieriaSocial => "ingenieria_social",
            IncidentType::TransferenciaNoAutorizada => "transferencia_no_autorizada",
            IncidentType::RoboIdentidad => "robo_identidad",
            IncidentType::FraudeInterno => "fraude_interno",
            IncidentType::Otro => "otro",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<IncidentType> {
        IncidentType::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The country whose regulator a case is filed with. Serialised as the
/// upper-case ISO code (`CL`, `MX`, …), as the case-management guide shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "UPPERCASE"))]
pub enum Jurisdiction {
    /// Chile.
    Cl,
    /// Mexico.
    Mx,
    /// Brazil.
    Br,
    /// Peru.
    Pe,
    /// Colombia.
    Co,
    /// Uruguay.
    Uy,
    /// Argentina.
    Ar,
}

impl Jurisdiction {
    /// Every supported jurisdiction.
    pub const ALL: [Jurisdiction; 7] = [
        Jurisdiction::Cl,
        Jurisdiction::Mx,
        Jurisdiction::Br,
        Jurisdiction::Pe,
        Jurisdiction::Co,
        Jurisdiction::Uy,
        Jurisdiction::Ar,
    ];

    /// The wire name: the ISO 3166-1 code, upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Jurisdiction::Cl => "CL",
            Jurisdiction::Mx => "MX",
            Jurisdiction::Br => "BR",
            Jurisdiction::Pe => "PE",
            Jurisdiction::Co => "CO",
            Jurisdiction::Uy => "UY",
            Jurisdiction::Ar => "AR",
        }
    }

    /// Parses a country code in any case, surrounding spaces ignored:
    /// dashboards and CSV imports send `mx` as often as `MX`.
    pub fn parse(s: &str) -> Option<Jurisdiction> {
        let s = s.trim();
        Jurisdiction::ALL.into_iter().find(|v| v.as_str().eq_ignore_ascii_case(s))
    }

    /// The local currency amounts are reported in (ISO 4217).
    pub fn currency(self) -> &'static str {
        match self {
            Jurisdiction::Cl => "CLP",
            Jurisdiction::Mx => "MXN",
            Jurisdiction::Br => "BRL",
            Jurisdiction::Pe => "PEN",
            Jurisdiction::Co => "COP",
            Jurisdiction::Uy => "UYU",
            Jurisdiction::Ar => "ARS",
        }
    }
}

/// Why a merchant reported a transaction as fraud (`POST /report-fraud`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum FraudReason {
    /// Issuer chargeback or dispute.
    Chargeback,
    /// The legitimate cardholder paid, then claimed fraud.
    FriendlyFraud,
    /// Small probing payments to validate stolen cards.
    CardTesting,
    /// A compromised customer account.
    AccountTakeover,
    /// A stolen identity used to transact.
    IdentityTheft,
    /// Anything else.
    Other,
}

impl FraudReason {
    /// Every reason.
    pub const ALL: [FraudReason; 6] = [
        FraudReason::Chargeback,
        FraudReason::FriendlyFraud,
        FraudReason::CardTesting,
        FraudReason::AccountTakeover,
        FraudReason::IdentityTheft,
        FraudReason::Other,
    ];

    /// The wire name (`chargeback`, `friendly_fraud`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            FraudReason::Chargeback => "chargeback",
            FraudReason::FriendlyFraud => "friendly_fraud",
            FraudReason::CardTesting => "card_testing",
            FraudReason::AccountTakeover => "account_takeover",
            FraudReason::IdentityTheft => "identity_theft",
            FraudReason::Other => "other",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<FraudReason> {
        FraudReason::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The incident type of the case a report with this reason opens.
    pub fn incident_type(self) -> IncidentType {
        match self {
            // The issuer's customer says they did not authorise the payment:
            // that is the regulators' definition of an unauthorised transfer.
            FraudReason::Chargeback => IncidentType::TransferenciaNoAutorizada,
            // The cardholder did make the payment; no third party defrauded
            // anyone, so none of the fraud categories fits.
            FraudReason::FriendlyFraud => IncidentType::Otro,
            // Stolen card data charged without its owner's consent.
            FraudReason::CardTesting => IncidentType::TransferenciaNoAutorizada,
            // Accounts are taken over with credentials the victim was tricked
            // into giving away. `phishing` is one such vector, but a report
            // does not say which, so the broader category is the honest one.
            FraudReason::AccountTakeover => IncidentType::IngenieriaSocial,
            FraudReason::IdentityTheft => IncidentType::RoboIdentidad,
            FraudReason::Other => IncidentType::Otro,
        }
    }

    /// Whether a report with this reason adds the transaction's card BIN to
    /// the blocklist (when a BIN is known), with [`Severity::Flag`].
    ///
    /// The report-fraud guide names card testing and friendly fraud; we add
    /// the BIN for every reason, because a confirmed fraud on a card is
    /// evidence against its BIN whatever the story was. It is only a `flag`
    /// — heavy weight, never a hard decline — since one report must not
    /// shut out every card of an issuer's range. The match is exhaustive so
    /// that a new reason forces a decision here.
    pub fn blocks_card_bin(self) -> bool {
        match self {
            FraudReason::Chargeback
            | FraudReason::FriendlyFraud
            | FraudReason::CardTesting
            | FraudReason::AccountTakeover
            | FraudReason::IdentityTheft
            | FraudReason::Other => true,
        }
    }

    /// The severity of the card-BIN entry a report adds, if it adds one.
    pub fn card_bin_severity(self) -> Option<Severity> {
        self.blocks_card_bin().then_some(Severity::Flag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::{Country, Currency};

    #[test]
    fn names_round_trip() {
        for t in IncidentType::ALL {
            assert_eq!(IncidentType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        for r in FraudReason::ALL {
            assert_eq!(FraudReason::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        for j in Jurisdiction::ALL {
            assert_eq!(Jurisdiction::parse(j.as_str()), Some(j));
            assert_eq!(serde_json::to_value(j).unwrap(), j.as_str());
            assert_eq!(serde_json::from_value::<Jurisdiction>(j.as_str().into()).unwrap(), j);
        }
        assert_eq!(IncidentType::parse("Phishing"), None);
        assert_eq!(FraudReason::parse("fraud"), None);
    }

    #[test]
    fn jurisdictions_are_countries_with_their_currency() {
        assert_eq!(Jurisdiction::parse(" mx "), Some(Jurisdiction::Mx));
        assert_eq!(Jurisdiction::parse("Cl"), Some(Jurisdiction::Cl));
        assert_eq!(Jurisdiction::parse("US"), None);
        assert_eq!(Jurisdiction::parse("MEX"), None);
        let pairs: Vec<_> = Jurisdiction::ALL.iter().map(|j| (j.as_str(), j.currency())).collect();
        assert_eq!(
            pairs,
            [
                ("CL", "CLP"),
                ("MX", "MXN"),
                ("BR", "BRL"),
                ("PE", "PEN"),
                ("CO", "COP"),
                ("UY", "UYU"),
                ("AR", "ARS")
            ]
        );
        for j in Jurisdiction::ALL {
            assert!(Country::parse(j.as_str()).is_ok(), "{j:?}");
            assert_eq!(Currency::parse(j.currency()).unwrap().code(), j.currency());
        }
    }

    #[test]
    fn reasons_map_to_incident_types() {
        use FraudReason as R;
        use IncidentType as T;
        let got: Vec<_> = FraudReason::ALL.iter().map(|r| r.incident_type()).collect();
        assert_eq!(
            got,
            [
                T::TransferenciaNoAutorizada,
                T::Otro,
                T::TransferenciaNoAutorizada,
                T::IngenieriaSocial,
                T::RoboIdentidad,
                T::Otro
            ]
        );
        // The two the report-fraud guide names explicitly.
        for r in [R::CardTesting, R::FriendlyFraud] {
            assert!(r.blocks_card_bin());
            assert_eq!(r.card_bin_severity(), Some(Severity::Flag));
        }
        assert!(FraudReason::ALL.iter().all(|r| r.card_bin_severity() != Some(Severity::Block)));
    }
}
