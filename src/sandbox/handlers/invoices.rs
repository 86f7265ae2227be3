//! Handlers of the `invoices` toolset: invoice lists (derived from
//! transactions) and invoice mails.
//!
//! Owns: the answers only. Must not touch: HTTP, money.

use super::common::{Ctx, Res};
use crate::sandbox::args::{Args, money};
use crate::sandbox::dates::fmt_date;
use crate::sandbox::model::*;
use crate::sandbox::views;
use serde_json::{Value, json};

/// listInvoices: one invoice per payment and one credit note per refund of an order.
pub fn list_invoices(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let id = args.req_str("purchase_id")?;
    let p = a.purchase_or_404(id)?;
    let list: Vec<Value> = a
        .purchase_transactions(&p.id)
        .filter(|t| !t.is_test)
        .map(|t| {
            let label = if t.kind == TxKind::Payment { "Invoice" } else { "Credit note" };
            json!({
                "invoice_id": (t.id % 10_000_000).to_string(),
                "invoice_date": fmt_date(t.created_at.date()),
                "invoice_url": format!("{SITE_URL}/invoice/{}/{}/{}.pdf", p.id, t.id, &p.id[..4]),
                "invoice_label": format!("{label} no. {} - {} - {} {}", t.id % 10_000_000, fmt_date(t.created_at.date()), money(t.amount), t.currency),
                "pay_method": t.pay_method,
                "pay_method_msg": views::pay_method_msg(&t.pay_method),
                "purchase_id": p.id,
                "transaction_id": t.id.to_string(),
                "type": t.kind.as_str(),
                "amount": money(t.amount),
                "currency": t.currency,
            })
        })
        .collect();
    Ok(json!({"purchase_id": p.id, "invoice_list": list}))
}

/// resendInvoiceMail: "e-mails" all invoices of an order to the buyer again.
pub fn resend_invoice_mail(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let id = args.req_str("purchase_id")?;
    let p = a.purchase_mut_or_404(id)?;
    if p.is_test {
        return Ok(json!({"status": "error", "note": format!("Order '{id}' is a test order and has no invoices")}));
    }
    p.mails_sent += 1;
    let buyer = p.buyer_id;
    let email = a.buyers.get(&buyer).map(|b| b.email.clone()).unwrap_or_default();
    Ok(json!({"status": "success", "note": format!("All invoices of order '{id}' were sent to {email}")}))
}
