//! Asking the user before a call is made: an input-required answer with
//! sealed state (protocol 2026-07-28), an elicitation on a live connection
//! (stdio), or a refusal when nobody can be asked.
//!
//! Owns: who can be asked ([`Asker`]), the sealed state's binding to key,
//! tool and exact form body, and judging the answer. Must not touch: the
//! policy of *which* calls need confirming (see `policy.rs`).

use super::outcome::Refusal;
use super::policy::ConfirmPolicy;
use super::prepare::PreparedCall;
use crate::ds24::{ApiKey, parse_bool};
use rmcp::model::{
    ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction, InputRequest, InputRequests, InputRequiredResult, InputResponses,
    RequestStateCodec, SealOptions,
};
use rmcp::{Peer, RoleServer};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The key of the confirmation in MRTR input requests/responses.
const CONFIRM: &str = "confirm";

/// Where a confirmation can come from for this call.
pub enum Asker<'a> {
    /// 2026-07-28 client with elicitation: answer input-required (MRTR).
    Mrtr { state: Option<&'a str>, responses: Option<&'a InputResponses> },
    /// Older client with elicitation on a live connection (stdio).
    Elicit(&'a Peer<RoleServer>),
    /// Nobody to ask, and why.
    Nobody(&'static str),
}

impl Asker<'_> {
    /// Whether this asker asks now (rather than judging an answer or refusing).
    pub fn asks_now(&self) -> bool {
        matches!(self, Asker::Mrtr { state: None, .. } | Asker::Elicit(_))
    }
}

/// Why a confirmation round did not let the call through.
pub enum NotConfirmed {
    /// Ask the client: the first round of MRTR.
    Ask(InputRequiredResult),
    /// Refused: declined, invalid state, nobody to ask.
    Refused(Refusal),
}

/// Everything a confirmation needs from the server.
pub struct Confirmer<'a> {
    /// Seals and opens the request state.
    pub codec: &'a RequestStateCodec,
    /// How long the user has.
    pub ttl: Duration,
    /// The operator's policy, for the refusal's wording.
    pub policy: ConfirmPolicy,
}

impl Confirmer<'_> {
    /// Asks (or judges the answer) for `call` with `key`; `Ok` when confirmed.
    pub async fn confirm(&self, call: &PreparedCall, key: &ApiKey, summary: String, asker: Asker<'_>) -> Result<(), NotConfirmed> {
        let tool = call.function.name;
        match asker {
            Asker::Mrtr { state: None, .. } => {
                let bound = binding(key, call);
                let options = SealOptions::new().associated_data(&bound).ttl(self.ttl);
                let state = self.codec.seal_with(tool.as_bytes(), &options);
                let mut requests = InputRequests::new();
                requests.insert(CONFIRM.into(), InputRequest::Elicitation(ElicitRequest::new(confirmation_params(&summary))));
                Err(NotConfirmed::Ask(InputRequiredResult::new(Some(requests), Some(state))))
            }
            Asker::Mrtr { state: Some(state), responses } => {
                if let Err(e) = self.codec.open_with(state, &binding(key, call)) {
                    // One message for every failure (expired, tampered, other key or
                    // arguments), as the codec asks; the detail goes to the log only.
                    tracing::debug!(tool, error = %e, "confirmation state refused");
                    return Err(NotConfirmed::Refused(Refusal::ConfirmationInvalid { tool }));
                }
                let answer = responses.and_then(|r| r.get(CONFIRM)).cloned().and_then(|v| serde_json::from_value::<ElicitResult>(v).ok());
                judge(tool, summary, answer)
            }
            Asker::Elicit(peer) => {
                let answer = peer.create_elicitation_with_timeout(confirmation_params(&summary), Some(self.ttl)).await.ok();
                judge(tool, summary, answer)
            }
            Asker::Nobody(why) => {
                let policy = if self.policy == ConfirmPolicy::Writes { "writes" } else { "destructive" };
                Err(NotConfirmed::Refused(Refusal::ConfirmationUnavailable { tool, policy, summary, why }))
            }
        }
    }
}

fn judge(tool: &'static str, summary: String, answer: Option<ElicitResult>) -> Result<(), NotConfirmed> {
    match answer {
        Some(ElicitResult { action: ElicitationAction::Accept, content: Some(content), .. })
            if content.get(CONFIRM).and_then(parse_bool) == Some(true) =>
        {
            Ok(())
        }
        Some(_) => Err(NotConfirmed::Refused(Refusal::Declined { tool, summary })),
        None => Err(NotConfirmed::Refused(Refusal::NoConfirmation { tool, summary })),
    }
}

fn confirmation_params(summary: &str) -> ElicitRequestParams {
    let schema = json!({
        "type": "object",
        "properties": {CONFIRM: {"type": "boolean", "title": "Confirm", "description": "Yes, do it"}},
        "required": [CONFIRM],
    });
    ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: format!("Please confirm: {summary}."),
        requested_schema: serde_json::from_value(schema).expect("static elicitation schema"),
    }
}

/// What a confirmation is bound to: the key, the tool and the exact form
/// fields that will be sent, sorted by name so that the order in which the
/// client wrote its JSON keys can never matter.
pub fn binding(key: &ApiKey, call: &PreparedCall) -> Vec<u8> {
    let mut fields: Vec<&(String, String)> = call.body.fields.iter().collect();
    fields.sort();
    let mut hash = Sha256::new();
    for part in [key.expose(), call.function.name] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    for (name, value) in fields {
        // Lengths first, so that no two field lists hash alike.
        hash.update((name.len() as u64).to_le_bytes());
        hash.update(name.as_bytes());
        hash.update((value.len() as u64).to_le_bytes());
        hash.update(value.as_bytes());
    }
    hash.finalize().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::lookup;
    use crate::ds24::FormBody;

    fn call_with(fields: &[(&str, &str)]) -> PreparedCall {
        let body = FormBody { fields: fields.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect() };
        let function = lookup("createBillingOnDemand").unwrap();
        let (fields, fields_given) = (crate::mcp::Fields::Default, None);
        PreparedCall { function, body, dry_run: false, skip: 0, fields, arguments: Default::default(), fields_given }
    }

    #[test]
    fn the_binding_does_not_depend_on_key_order() {
        let key = ApiKey::new("k-1").unwrap();
        // A map argument encodes in the order the client's JSON had (serde_json
        // with `preserve_order`); the binding must not see that order.
        let one = call_with(&[("purchase_id", "A"), ("placeholders[a]", "1"), ("placeholders[b]", "2")]);
        let other = call_with(&[("placeholders[b]", "2"), ("purchase_id", "A"), ("placeholders[a]", "1")]);
        assert_eq!(binding(&key, &one), binding(&key, &other));
        let changed = call_with(&[("purchase_id", "A"), ("placeholders[a]", "1"), ("placeholders[b]", "3")]);
        assert_ne!(binding(&key, &one), binding(&key, &changed));
        assert_ne!(binding(&key, &one), binding(&ApiKey::new("k-2").unwrap(), &one));
    }

    #[test]
    fn the_binding_of_json_in_two_key_orders_is_the_same() {
        let key = ApiKey::new("k-1").unwrap();
        let function = lookup("refundPartially").unwrap();
        let a: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(r#"{"purchase_id":"A","amount":"5.00","reason":"late"}"#).unwrap();
        let b: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(r#"{"reason":"late","amount":"5.00","purchase_id":"A"}"#).unwrap();
        let (a, b) = (PreparedCall::new(function, a).unwrap(), PreparedCall::new(function, b).unwrap());
        assert_eq!(binding(&key, &a), binding(&key, &b));
    }
}
