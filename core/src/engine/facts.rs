//! What custom rules read: the request, its context, and the built-in result.

use super::{Context, Fired};
use crate::rules::{Facts, Field, Value, VelocityStat};
use crate::transaction::Transaction;

/// The facts of one request, as custom rules see them.
pub struct RequestFacts<'a> {
    tx: &'a Transaction,
    ctx: &'a Context<'a>,
    score: u8,
    fired: &'a [Fired],
    ip: Option<&'a str>,
}

impl<'a> RequestFacts<'a> {
    /// Facts over a transaction, its context, and the signals fired so far.
    /// `ip` is the canonical text of `tx.device.ip`.
    pub fn new(
        tx: &'a Transaction,
        ip: Option<&'a str>,
        ctx: &'a Context<'a>,
        score: u8,
        fired: &'a [Fired],
    ) -> Self {
        RequestFacts { tx, ctx, score, fired, ip }
    }
}

fn s(v: Option<&str>) -> Value<'_> {
    v.map_or(Value::Null, Value::Str)
}

fn n<T: Into<f64>>(v: Option<T>) -> Value<'static> {
    v.map_or(Value::Null, |x| Value::Num(x.into()))
}

impl Facts for RequestFacts<'_> {
    fn get(&self, field: &Field) -> Value<'_> {
        let tx = self.tx;
        let pm = &tx.payment_method;
        let payout = tx.payout.as_ref();
        let beneficiary = payout.map(|p| &p.beneficiary);
        let facts = self.ctx.payout;
        match field {
            Field::Amount => Value::Num(tx.amount.minor() as f64),
            Field::AmountMajor => Value::Num(tx.amount.major_f64()),
            Field::Currency => Value::Str(tx.amount.currency().code()),
            Field::TransactionType => Value::Str(&tx.transaction_type),
            Field::Email => s(tx.email.as_ref().map(|e| e.as_str())),
            Field::EmailDomain => s(tx.email.as_ref().map(|e| e.domain())),
            Field::EmailTld => s(tx.email.as_ref().map(|e| e.tld())),
            Field::Phone => s(tx.phone.as_ref().map(|p| p.as_str())),
            Field::CustomerId => s(tx.customer_id.as_deref()),
            Field::OrderId => s(tx.order_id.as_deref()),
            Field::PaymentId => s(tx.payment_id.as_deref()),
            Field::SubmerchantId => s(tx.submerchant_id.as_deref()),
            Field::PmType => s(pm.kind.as_deref()),
            Field::PmCardBin => s(pm.card_bin.as_ref().map(|b| b.as_str())),
            Field::PmCardLast4 => s(pm.card_last4.as_ref().map(|b| b.as_str())),
            Field::PmCardCountry => s(pm.card_country.as_ref().map(|c| c.as_str())),
            Field::PmCardBrand => s(pm.card_brand.as_deref()),
            Field::PmBankCode => s(pm.bank_code.as_deref()),
            Field::PmWalletType => s(pm.wallet_type.as_deref()),
            Field::DeviceIp => s(self.ip),
            Field::DeviceIpCountry => s(self.ctx.ip_country.as_ref().map(|c| c.as_str())),
            Field::DeviceFingerprint => s(tx.device.fingerprint.as_deref()),
            Field::DeviceUserAgent => s(tx.device.user_agent.as_deref()),
            Field::DeviceTimezone => s(tx.device.timezone.as_deref()),
            Field::DeviceWebdriver => tx.device.webdriver.map_or(Value::Null, Value::Bool),
            Field::SessionDurationMs => n(tx.behavior.session_duration_ms.map(|v| v as f64)),
            Field::MouseMovements => n(tx.behavior.mouse_movements.map(|v| v as f64)),
            Field::KeyboardEvents => n(tx.behavior.keyboard_events.map(|v| v as f64)),
            Field::CopyPasteEvents => n(tx.behavior.copy_paste_events.map(|v| v as f64)),
            Field::BillingCountry => s(tx.billing.country.as_ref().map(|c| c.as_str())),
            Field::BillingCity => s(tx.billing.city.as_deref()),
            Field::BillingPostalCode => s(tx.billing.postal_code.as_deref()),
            Field::ShippingCountry => s(tx.shipping.country.as_ref().map(|c| c.as_str())),
            Field::ShippingCity => s(tx.shipping.city.as_deref()),
            Field::ShippingPostalCode => s(tx.shipping.postal_code.as_deref()),
            Field::Flow => Value::Str(self.ctx.flow.as_str()),
            Field::BeneficiaryId => s(beneficiary.and_then(|b| b.id.as_deref())),
            Field::BeneficiaryName => s(beneficiary.and_then(|b| b.name.as_deref())),
            Field::BeneficiaryCountry => {
                s(beneficiary.and_then(|b| b.effective_country()).map(|c| c.as_str()))
            }
            Field::BeneficiaryClabe => {
                s(beneficiary.and_then(|b| b.clabe.as_ref()).map(|c| c.as_str()))
            }
            Field::BeneficiaryIban => {
                s(beneficiary.and_then(|b| b.iban.as_ref()).map(|i| i.as_str()))
            }
            Field::BeneficiaryAccountHash => s(beneficiary.and_then(|b| b.account_hash.as_deref())),
            Field::BeneficiarySwiftBic => {
                s(beneficiary.and_then(|b| b.swift_bic.as_ref()).map(|b| b.as_str()))
            }
            Field::OriginAccountId => s(payout.and_then(|p| p.origin.account_id.as_deref())),
            Field::OriginCountry => s(payout.and_then(|p| p.origin.country).map(|c| c.as_str())),
            Field::PayoutChannel => s(payout.and_then(|p| p.channel).map(|c| c.as_str())),
            Field::PayoutRail => s(payout.and_then(|p| p.rail.as_deref())),
            Field::PayoutInitiatedBy => s(payout.and_then(|p| p.initiated_by.as_deref())),
            Field::PayoutFirstToBeneficiary => {
                payout.and_then(|p| p.first_to_beneficiary).map_or(Value::Null, Value::Bool)
            }
            Field::PayoutBeneficiaryKnown => {
                facts.and_then(|f| f.beneficiary_known).map_or(Value::Null, Value::Bool)
            }
            Field::PayoutNewBeneficiaries => {
                n(facts.map(|f| f64::from(f.new_beneficiaries_in_window)))
            }
            Field::Metadata(key) => match tx.metadata.get(&**key) {
                Some(serde_json::Value::String(v)) => Value::Str(v),
                Some(serde_json::Value::Bool(b)) => Value::Bool(*b),
                Some(serde_json::Value::Number(x)) => x.as_f64().map_or(Value::Null, Value::Num),
                _ => Value::Null,
            },
            Field::Velocity { dimension, window, stat } => {
                match self.ctx.velocity.get(*dimension) {
                    Some(stats) => {
                        let w = stats.get(*window);
                        Value::Num(match stat {
                            VelocityStat::Count => f64::from(w.count),
                            VelocityStat::Sum => w.sum_minor as f64,
                        })
                    }
                    None => Value::Null,
                }
            }
            Field::HistoryFraudReports => Value::Num(f64::from(self.ctx.history.fraud_reports)),
            Field::HistoryApprovedCount => {
                Value::Num(self.ctx.history.primary.map_or(0.0, |p| f64::from(p.approved)))
            }
            Field::Score => Value::Num(f64::from(self.score)),
            Field::Signal(code) => Value::Bool(self.fired.iter().any(|f| f.code == **code)),
        }
    }
}
