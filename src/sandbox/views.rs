//! JSON shapes of records as Digistore24 answers show them.
//!
//! Owns: turning model records into answer objects (ids and amounts as strings,
//! Y/N flags, zone-less timestamps, readable `*_msg` texts). Must not touch:
//! account state (views only read), argument handling.

use super::args::{Cents, money, yn};
use super::dates::{fmt_date, fmt_dt, fmt_opt_date, fmt_opt_dt};
use super::model::*;
use super::reference::{RESELLERS, country_name, delivery_type, product_type_name};
use serde_json::{Map, Value, json};

/// Readable payment method.
pub fn pay_method_msg(m: &str) -> &'static str {
    match m {
        "creditcard" => "Credit card",
        "paypal" => "PayPal",
        "elv" => "Direct debit",
        "sofort" => "Sofort",
        "applepay" => "Apple Pay",
        "banktransfer" => "Bank transfer",
        "test" => "Test payment",
        _ => "Other",
    }
}

/// The answer of a call that created an order and charged it at once.
pub fn created_purchase(id: &str, p: &Purchase) -> Map<String, Value> {
    let Value::Object(map) = json!({
        "created_purchase_id": id,
        "payment_status": "completed",
        "payment_status_msg": "The payment was completed",
        "billing_status": p.billing_status,
        "billing_status_msg": billing_status_msg(&p.billing_status),
        "pay_url": "",
    }) else {
        unreachable!("json! of an object")
    };
    map
}

/// Readable billing status.
pub fn billing_status_msg(s: &str) -> &'static str {
    match s {
        "paying" => "Paying",
        "completed" => "Completed",
        "aborted" => "Aborted",
        "unpaid" => "Unpaid",
        "reminding" => "Reminding",
        _ => "Unknown",
    }
}

/// Readable billing type.
pub fn billing_type_msg(t: &str) -> &'static str {
    match t {
        "single_payment" => "Single payment",
        "subscription" => "Subscription",
        "installment" => "Installment payment",
        _ => "Unknown",
    }
}

/// Readable approval status.
pub fn approval_status_msg(s: &str) -> &'static str {
    match s {
        "approved" => "Approved",
        "pending" => "Waiting for approval",
        "rejected" => "Rejected",
        _ => "Not requested",
    }
}

/// Human text for a payment plan (`47.00 EUR`, `1.00 EUR, then 29.00 EUR monthly`).
pub fn plan_msg(first: Cents, other: Cents, currency: &str, n: i64, interval: &str) -> String {
    let every = match interval {
        "1_month" | "" => "monthly".to_string(),
        "12_month" | "1_year" => "yearly".to_string(),
        i => format!("every {}", i.replace('_', " ")),
    };
    match n {
        1 => format!("{} {currency}", money(first)),
        0 if first == other => format!("{} {currency} {every}", money(first)),
        0 => format!("{} {currency}, then {} {currency} {every}", money(first), money(other)),
        n => format!("{n} payments of {} {currency} {every}", money(other.max(first))),
    }
}

/// A buyer record.
pub fn buyer(b: &Buyer) -> Value {
    json!({
        "id": b.id.to_string(),
        "address_id": b.address_id.to_string(),
        "created_at": fmt_dt(b.created_at),
        "email": b.email,
        "first_name": b.first_name,
        "last_name": b.last_name,
        "salutation": b.salutation,
        "title": b.title,
        "company": b.company,
        "street": format!("{} {}", b.street_name, b.street_number).trim().to_string(),
        "street_name": b.street_name,
        "street_number": b.street_number,
        "street2": b.street2,
        "zipcode": b.zipcode,
        "city": b.city,
        "state": b.state,
        "country": b.country,
        "phone_no": b.phone_no,
        "language": b.language,
    })
}

fn approval_list(p: &Product) -> Value {
    Value::Array(
        RESELLERS
            .iter()
            .map(|(id, name)| {
                let s = p.approval.get(id).map(String::as_str).unwrap_or("new");
                json!({"reseller_id": id.to_string(), "reseller_name": name, "approval_status": s, "approval_status_msg": approval_status_msg(s)})
            })
            .collect(),
    )
}

/// A product as listProducts shows it.
pub fn product_summary(a: &Account, p: &Product) -> Value {
    let group = p.product_group_id.and_then(|g| a.product_groups.get(&g));
    json!({
        "id": p.id.to_string(),
        "name": p.name,
        "name_intern": p.name_intern,
        "note": p.note,
        "tag": p.tag,
        "language": p.language,
        "product_group_id": group.map(|g| g.id.to_string()).unwrap_or_default(),
        "product_group_name": group.map(|g| g.name.clone()).unwrap_or_default(),
        "product_type_id": p.product_type_id.to_string(),
        "units_left": "infinite",
        "is_active": yn(p.is_active),
        "is_deleted": yn(p.is_deleted),
        "currency": p.currency,
        "image_url": p.image_url,
        "affiliate_commission": money(p.affiliate_commission),
        "approval_status_list": approval_list(p),
        "created_at": fmt_dt(p.created_at),
        "modified_at": fmt_dt(p.modified_at),
    })
}

/// The full product record of getProduct.
pub fn product_full(a: &Account, p: &Product) -> Value {
    let mut v = product_summary(a, p);
    let m = v.as_object_mut().expect("object");
    for (lang, name) in &p.names {
        m.insert(format!("name_{lang}"), json!(name));
    }
    for (lang, d) in &p.descriptions {
        m.insert(format!("description_{lang}"), json!(d));
    }
    let main_status = p.approval.get(&1).map(String::as_str).unwrap_or("new");
    let extra = json!({
        "user_id": a.vendor.user_id.to_string(),
        "owner_id": a.vendor.user_id.to_string(),
        "owner_name": a.vendor.user_name,
        "description": p.descriptions.get(&p.language).cloned().unwrap_or_default(),
        "product_type_name": product_type_name(p.product_type_id),
        "delivery_type": delivery_type(p.product_type_id),
        "salespage_url": p.salespage_url,
        "upsell_salespage_url": p.upsell_salespage_url,
        "thankyou_url": p.thankyou_url,
        "affiliate_commission_fix": money(p.affiliate_commission_fix),
        "affiliate_commission_cur": a.vendor.currency,
        "buyer_type": p.buyer_type,
        "is_address_input_mandatory": yn(p.is_address_input_mandatory),
        "add_order_data_to_thankyou_page_url": yn(p.add_order_data_to_thankyou_page_url),
        "default_quantity": p.default_quantity.to_string(),
        "max_quantity": p.max_quantity.to_string(),
        "refund_days": p.refund_days.to_string(),
        "approval_status": main_status,
        "approval_status_msg": approval_status_msg(main_status),
        "payment_plans": a.payment_plans.values().filter(|pp| pp.product_id == p.id).map(|pp| payment_plan(a, pp)).collect::<Vec<_>>(),
    });
    if let Value::Object(e) = extra {
        m.extend(e);
    }
    v
}

/// A product group.
pub fn product_group(a: &Account, g: &ProductGroup) -> Value {
    json!({
        "id": g.id.to_string(),
        "name": g.name,
        "position": g.position.to_string(),
        "is_shown_as_tab": yn(g.is_shown_as_tab),
        "product_count": a.products.values().filter(|p| !p.is_deleted && p.product_group_id == Some(g.id)).count(),
        "created_at": fmt_dt(g.created_at),
        "modified_at": fmt_dt(g.modified_at),
    })
}

/// A payment plan.
pub fn payment_plan(a: &Account, pp: &PaymentPlan) -> Value {
    json!({
        "id": pp.id.to_string(),
        "product_id": pp.product_id.to_string(),
        "name": format!("{} – {}", a.product_name(pp.product_id), plan_msg(pp.first_amount, pp.other_amounts, &pp.currency, pp.number_of_installments, &pp.other_billing_intervals)),
        "first_amount": money(pp.first_amount),
        "other_amounts": money(pp.other_amounts),
        "currency": pp.currency,
        "first_billing_interval": pp.first_billing_interval,
        "other_billing_intervals": pp.other_billing_intervals,
        "number_of_installments": pp.number_of_installments.to_string(),
        "billing_type": billing_type(pp.number_of_installments),
        "is_active": yn(pp.is_active),
        "cancel_policy": pp.cancel_policy,
        "position": pp.position.to_string(),
        "is_switching_allowed": yn(pp.is_switching_allowed),
        "created_at": fmt_dt(pp.created_at),
        "modified_at": fmt_dt(pp.modified_at),
    })
}

fn links(p: &Purchase) -> Map<String, Value> {
    let key = &p.id;
    let mut m = Map::new();
    m.insert("renew_url".into(), json!(format!("{SITE_URL}/renew/{key}")));
    m.insert("rebilling_stop_url".into(), json!(if p.is_recurring() { format!("{SITE_URL}/order/{key}/stop") } else { String::new() }));
    m.insert("invoice_url".into(), json!(format!("{SITE_URL}/invoice/{key}")));
    m.insert("receipt_url".into(), json!(format!("{SITE_URL}/receipt/{key}")));
    m.insert("details_url".into(), json!(format!("{SITE_URL}/order/{key}")));
    m.insert("request_refund_url".into(), json!(format!("{SITE_URL}/order/{key}/refund")));
    m
}

/// A transaction as listed inside an order.
pub fn purchase_transaction(t: &Transaction) -> Value {
    json!({
        "id": t.id.to_string(),
        "purchase_id": t.purchase_id,
        "amount": money(t.amount),
        "currency": t.currency,
        "pay_method": t.pay_method,
        "pay_method_msg": pay_method_msg(&t.pay_method),
        "created_at": fmt_dt(t.created_at),
        "type": t.kind.as_str(),
        "type_msg": t.kind.label(),
        "pay_sequence_no": t.pay_sequence_no.to_string(),
        "invoice_url": if t.is_test { String::new() } else { format!("{SITE_URL}/invoice/{}/{}", t.purchase_id, t.id) },
    })
}

/// Refund state of an order: `none`, `partially_refunded`, `refunded`.
pub fn refund_state(a: &Account, p: &Purchase) -> (&'static str, Cents) {
    let refunded: Cents = a.purchase_transactions(&p.id).filter(|t| t.kind == TxKind::Refund).map(|t| -t.amount).sum();
    let state = if p.refunded_at.is_some() {
        "refunded"
    } else if refunded > 0 {
        "partially_refunded"
    } else {
        "none"
    };
    (state, refunded)
}

/// An order. `full` adds the buyer, items, links and refund policy (getPurchase);
/// `with_transactions` adds `transaction_list`.
pub fn purchase(a: &Account, p: &Purchase, full: bool, with_transactions: bool) -> Value {
    let product = a.products.get(&p.product_id());
    let b = a.buyers.get(&p.buyer_id);
    let payments: Vec<&Transaction> = a.purchase_transactions(&p.id).filter(|t| t.kind == TxKind::Payment).collect();
    let last = payments.last();
    let vat_amount = p.first_amount - (i128::from(p.first_amount) * 10_000 / (10_000 + i128::from(p.vat_rate))) as Cents;
    let (refund_status, refunded) = refund_state(a, p);
    let chargeback = a.purchase_transactions(&p.id).any(|t| t.kind == TxKind::Chargeback);
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("id", json!(p.id));
    put("created_at", json!(fmt_dt(p.created_at)));
    put("product_id", json!(p.product_id().to_string()));
    put("product_name", json!(a.product_name(p.product_id())));
    put("quantity", json!(p.quantity().to_string()));
    put("amount", json!(money(p.first_amount)));
    put("other_amounts", json!(money(p.other_amounts)));
    put("currency", json!(p.currency));
    put("vat_rate", json!(money(p.vat_rate)));
    put("vat_amount", json!(money(vat_amount)));
    put("vat_country", json!(p.country));
    put("number_of_installments", json!(p.number_of_installments.to_string()));
    put("billing_type", json!(p.billing_type()));
    put("billing_type_msg", json!(billing_type_msg(p.billing_type())));
    put("billing_status", json!(p.billing_status));
    put("billing_status_msg", json!(billing_status_msg(&p.billing_status)));
    put(
        "payment_plan_msg",
        json!(plan_msg(p.first_amount, p.other_amounts, &p.currency, p.number_of_installments, &p.other_billing_intervals)),
    );
    put("pay_method", json!(p.pay_method));
    put("pay_method_msg", json!(pay_method_msg(&p.pay_method)));
    put("order_type", json!(if p.is_test { "test" } else { "live" }));
    put("purchase_type", json!(p.order_type));
    put("role", json!("vendor"));
    put("earned_amount", json!(money(a.earnings(&p.id))));
    put("paid_amount", json!(money(payments.iter().map(|t| t.amount).sum())));
    put("refund_status", json!(refund_status));
    put("refunded_amount", json!(money(refunded)));
    put("refunded_at", json!(fmt_opt_dt(p.refunded_at)));
    put("is_chargeback", json!(yn(chargeback)));
    put("rebilling_active", json!(yn(p.rebilling_active)));
    put("next_payment_at", json!(fmt_opt_date(p.next_payment_at)));
    put("rebill_stop_noted_at", json!(fmt_opt_dt(p.rebill_stop_noted_at)));
    put("payment_count", json!(payments.len().to_string()));
    put("buyer_id", json!(p.buyer_id.to_string()));
    put("buyer_email", json!(b.map(|b| b.email.clone()).unwrap_or_default()));
    put("buyer_first_name", json!(b.map(|b| b.first_name.clone()).unwrap_or_default()));
    put("buyer_last_name", json!(b.map(|b| b.last_name.clone()).unwrap_or_default()));
    put("affiliate_id", json!(p.affiliate_id.map(|i| i.to_string()).unwrap_or_default()));
    put("affiliate_name", json!(a.affiliate_name(p.affiliate_id)));
    put("campaignkey", json!(p.campaignkey));
    put("trackingkey", json!(p.trackingkey));
    put("custom", json!(p.custom));
    put("voucher_code", json!(p.voucher_code));
    if p.affiliate_id.is_some() {
        put("click_id", json!(p.click_id));
        put("sub_ids", json!({"sid1": "", "sid2": "", "sid3": "", "sid4": "", "sid5": ""}));
    }
    if full {
        put("buyer", b.map(buyer).unwrap_or(Value::Null));
        let items: Vec<Value> = p
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| {
                json!({
                    "id": it.id.to_string(),
                    "no": (i + 1).to_string(),
                    "count": p.items.len().to_string(),
                    "product_id": it.product_id.to_string(),
                    "product_name": a.product_name(it.product_id),
                    "quantity": it.quantity.to_string(),
                    "amount": money(it.first_amount),
                    "variant_key": "",
                    "variant_name": "",
                    "delivery_type": a.products.get(&it.product_id).map(|p| delivery_type(p.product_type_id)).unwrap_or("digital"),
                })
            })
            .collect();
        put("items", json!(items));
        put(
            "last_payment",
            match last {
                Some(t) => {
                    json!({"transaction_id": t.id.to_string(), "created_at": fmt_dt(t.created_at), "amount": money(t.amount), "currency": t.currency, "pay_method": t.pay_method, "pay_sequence_no": t.pay_sequence_no.to_string()})
                }
                None => json!({}),
            },
        );
        for (k, v) in links(p) {
            put(&k, v);
        }
        let ptype = product.map(|p| p.product_type_id).unwrap_or(2);
        put(
            "refund_policy",
            json!({
                "purchase_id": p.id,
                "reason_code": "vendor",
                "refund_days": product.map(|p| p.refund_days).unwrap_or(14).to_string(),
                "is_reminder_allowed": "Y",
                "product_type_id": ptype.to_string(),
                "delivery_type": delivery_type(ptype),
            }),
        );
        put("cancel_policy", json!(p.cancel_policy));
        put("can_cancel_before", json!(""));
        put("is_canceled_now", json!(yn(!p.rebilling_active && p.is_recurring() && p.billing_status == "aborted")));
        put("balance", json!(money(p.balance)));
        put("license_key", json!(p.license_key.clone().unwrap_or_default()));
        put("has_etickets", json!(yn(a.etickets.values().any(|e| e.purchase_id == p.id))));
        put("has_custom_forms", json!(yn(a.custom_forms.values().any(|r| r.purchase_id == p.id))));
        put("unlock_invoices", json!(yn(p.unlock_invoices)));
        put("placeholders", Value::Object(p.placeholders.iter().map(|(k, v)| (k.clone(), json!(v))).collect()));
        put("utm_params", Value::Object(p.utm.iter().map(|(k, v)| (k.clone(), json!(v))).collect()));
        put("parent_purchase_id", json!(p.parent_purchase_id.clone().unwrap_or_default()));
        put("upgraded_to_purchase_id", json!(p.upgraded_to.clone().unwrap_or_default()));
        put("member_access_count", json!(p.member_access.len().to_string()));
    }
    if with_transactions || full {
        let list: Vec<Value> = a.purchase_transactions(&p.id).map(purchase_transaction).collect();
        put("transaction_list", json!(list));
    }
    Value::Object(m)
}

/// A transaction as listTransactions shows it.
pub fn transaction(a: &Account, t: &Transaction) -> Value {
    let b = a.buyers.get(&t.buyer_id);
    let p = a.purchase(&t.purchase_id);
    json!({
        "id": t.id.to_string(),
        "purchase_id": t.purchase_id,
        "created_at": fmt_dt(t.created_at),
        "transaction_type": t.kind.as_str(),
        "transaction_type_msg": t.kind.label(),
        "amount": money(t.amount),
        "vat_amount": money(t.vat),
        "netto_amount": money(t.netto()),
        "fee_amount": money(t.fee),
        "affiliate_amount": money(t.affiliate),
        "earned_amount": money(t.vendor),
        "currency": t.currency,
        "pay_method": t.pay_method,
        "pay_method_msg": pay_method_msg(&t.pay_method),
        "pay_sequence_no": t.pay_sequence_no.to_string(),
        "parent_transaction_id": t.parent_id.map(|i| i.to_string()).unwrap_or_default(),
        "product_id": t.product_id.to_string(),
        "product_name": a.product_name(t.product_id),
        "billing_type": p.map(|p| p.billing_type()).unwrap_or("single_payment"),
        "role": "vendor",
        "order_type": if t.is_test { "test" } else { "live" },
        "affiliate_id": t.affiliate_id.map(|i| i.to_string()).unwrap_or_default(),
        "affiliate_name": a.affiliate_name(t.affiliate_id),
        "note": t.note,
        "buyer": {
            "id": t.buyer_id.to_string(),
            "email": b.map(|b| b.email.clone()).unwrap_or_default(),
            "first_name": b.map(|b| b.first_name.clone()).unwrap_or_default(),
            "last_name": b.map(|b| b.last_name.clone()).unwrap_or_default(),
            "country": b.map(|b| b.country.clone()).unwrap_or_default(),
        },
    })
}

/// A voucher (coupon).
pub fn voucher(v: &Voucher) -> Value {
    json!({
        "id": v.id.to_string(),
        "code": v.code,
        "product_ids": v.product_ids.as_ref().map(|ids| ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")).unwrap_or_else(|| "all".into()),
        "valid_from": fmt_opt_dt(v.valid_from),
        "valid_until": fmt_opt_dt(v.expires_at),
        "expires_at": fmt_opt_dt(v.expires_at),
        "first_rate": money(v.first_rate),
        "other_rates": money(v.other_rates),
        "first_amount": money(v.first_amount),
        "other_amounts": money(v.other_amounts),
        "currency": v.currency,
        "upgrade_policy": v.upgrade_policy,
        "is_count_limited": yn(v.is_count_limited),
        "count_left": v.count_left.to_string(),
        "is_discarding_early_bird": "N",
        "is_test_only": yn(v.is_test),
        "created_at": fmt_dt(v.created_at),
        "modified_at": fmt_dt(v.modified_at),
    })
}

/// Tracking URL of a parcel service.
pub fn tracking_url(service: &str, id: &str) -> String {
    match service {
        "dhl" => format!("https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={id}"),
        "ups" => format!("https://www.ups.com/track?tracknum={id}"),
        "dpd" => format!("https://tracking.dpd.de/status/de_DE/parcel/{id}"),
        "hermes" => format!("https://www.myhermes.de/empfangen/sendungsverfolgung/?trackingId={id}"),
        _ => String::new(),
    }
}

/// A delivery record.
pub fn delivery(a: &Account, d: &Delivery) -> Value {
    let p = a.purchase(&d.purchase_id);
    let b = p.and_then(|p| a.buyers.get(&p.buyer_id));
    let product = a.products.get(&d.product_id);
    let address = match b {
        Some(b) => json!({
            "title": b.title, "salutation": b.salutation, "company": b.company,
            "first_name": b.first_name, "last_name": b.last_name,
            "street": b.street_name, "street2": b.street2, "street_number": b.street_number,
            "city": b.city, "state": b.state, "zipcode": b.zipcode, "country": b.country,
            "email": b.email, "phone_no": b.phone_no, "tax_id": "", "country_name": country_name(&b.country),
        }),
        None => json!({}),
    };
    let tracking: Vec<Value> = d
        .parcels
        .iter()
        .map(|t| {
            json!({
                "delivery_id": d.id.to_string(),
                "parcel_service_type": t.parcel_service,
                "service_label": t.parcel_service.to_uppercase(),
                "tracking_id": t.tracking_id,
                "tracking_url": tracking_url(&t.parcel_service, &t.tracking_id),
                "expect_delivery_at": fmt_opt_date(t.expect_delivery_at),
                "quantity": t.quantity.to_string(),
                "ipn_config_id": "",
            })
        })
        .collect();
    json!({
        "id": d.id.to_string(),
        "purchase_id": d.purchase_id,
        "purchase_created_at": p.map(|p| fmt_dt(p.created_at)).unwrap_or_default(),
        "purchase_item_id": d.purchase_item_id.to_string(),
        "buyer_address_id": b.map(|b| b.address_id.to_string()).unwrap_or_default(),
        "delivery_address": address,
        "delivery_type": "shipping",
        "type": d.kind,
        "product_id": d.product_id.to_string(),
        "product_name": a.product_name(d.product_id),
        "product_type_id": product.map(|p| p.product_type_id.to_string()).unwrap_or_default(),
        "product_type_name": product.map(|p| product_type_name(p.product_type_id)).unwrap_or(""),
        "variant_label": "", "variant_name": "", "variant_key": "", "variant_id": "0",
        "quantity_total": d.quantity.to_string(),
        "quantity_delivered": d.quantity_delivered.to_string(),
        "is_processed": yn(d.processed_at.is_some()),
        "processed_at": fmt_opt_dt(d.processed_at),
        "processed_by": d.processed_by,
        "is_shippment_by_reseller_id": d.shipped_by_reseller_from,
        "is_test_order": yn(d.is_test),
        "invoice_url": format!("{SITE_URL}/invoice/{}", d.purchase_id),
        "delivery_slip_url": format!("{SITE_URL}/delivery-slip/{}/{}", d.purchase_id, d.id),
        "tracking": tracking,
        "created_at": fmt_dt(d.created_at),
        "modified_at": fmt_dt(d.modified_at),
    })
}

/// An e-ticket.
pub fn eticket(e: &Eticket) -> Value {
    json!({
        "id": e.id,
        "purchase_id": e.purchase_id,
        "product_id": e.product_id.to_string(),
        "location_id": e.location_id.to_string(),
        "template_id": e.template_id.to_string(),
        "date_id": "1",
        "date": fmt_date(e.date),
        "duration": if e.days > 1 { format!("{} days", e.days) } else { String::new() },
        "hint": e.note,
        "note": e.note,
        "no": e.no.to_string(),
        "count": e.count.to_string(),
        "email": e.email,
        "first_name": e.first_name,
        "last_name": e.last_name,
        "salutation": e.salutation,
        "title": e.title,
        "language": e.language,
        "used_at": fmt_opt_dt(e.used_at),
        "is_used": yn(e.used_at.is_some()),
        "is_blocked": yn(e.is_blocked),
        "download_url": format!("{SITE_URL}/eticket/file{}.pdf", e.id),
        "created_at": fmt_dt(e.created_at),
    })
}

/// An image.
pub fn image(i: &Image) -> Value {
    json!({
        "id": i.id,
        "name": i.name,
        "url": i.url,
        "type": i.usage_type,
        "usage_type": i.usage_type,
        "alt_tag": i.alt_tag,
        "width": i.width.to_string(),
        "height": i.height.to_string(),
        "file_extension": i.file_extension,
        "approval_status": "approved",
        "created_at": fmt_dt(i.created_at),
        "properties": {"width": i.width, "height": i.height, "file_extension": i.file_extension, "source_url": i.source_url},
    })
}

/// A shipping cost policy.
pub fn shipping_policy(p: &ShippingPolicy) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(p.id.to_string()));
    m.insert("name".into(), json!(p.name));
    for (lang, l) in &p.labels {
        m.insert(format!("label_{lang}"), json!(l));
    }
    m.insert("position".into(), json!(p.position.to_string()));
    m.insert("is_active".into(), json!(yn(p.is_active)));
    m.insert("for_product_ids".into(), json!(p.for_product_ids));
    m.insert("for_countries".into(), json!(p.for_countries));
    m.insert("for_currencies".into(), json!(p.for_currencies));
    m.insert("fee_type".into(), json!(p.fee_type));
    m.insert("billing_cycle".into(), json!(p.billing_cycle));
    m.insert("currency".into(), json!(p.currency));
    m.insert("scale_level_count".into(), json!(p.scales.len().to_string()));
    let mut rules = Vec::new();
    for (i, (from, amount)) in p.scales.iter().enumerate() {
        let n = i + 1;
        if n > 1 {
            m.insert(format!("scale_{n}_from"), json!(from.to_string()));
        }
        m.insert(format!("scale_{n}_amount"), json!(money(*amount)));
        rules.push(json!({"level": n.to_string(), "from_quantity": from.to_string(), "amount": money(*amount), "currency": p.currency}));
    }
    m.insert("rules".into(), json!(rules));
    m.insert("created_at".into(), json!(fmt_dt(p.created_at)));
    m.insert("modified_at".into(), json!(fmt_dt(p.modified_at)));
    Value::Object(m)
}

/// An order form.
pub fn orderform(o: &Orderform) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(o.id.to_string()));
    m.insert("name".into(), json!(o.name));
    m.insert("layout".into(), json!(o.layout));
    for (k, v) in &o.settings {
        m.insert(k.clone(), v.clone());
    }
    m.insert("created_at".into(), json!(fmt_dt(o.created_at)));
    m.insert("modified_at".into(), json!(fmt_dt(o.modified_at)));
    Value::Object(m)
}

/// An upgrade definition.
pub fn upgrade(a: &Account, u: &Upgrade) -> Value {
    let mut types = Map::new();
    for id in &u.upgrade_from {
        types.insert(id.to_string(), json!("upgrade"));
    }
    for id in &u.downgrade_from {
        types.insert(id.to_string(), json!("downgrade"));
    }
    for id in &u.special_offer_for {
        types.insert(id.to_string(), json!("special_offer"));
    }
    let list = |v: &[u64]| v.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    json!({
        "id": u.id.to_string(),
        "name": u.name,
        "authkey": u.authkey,
        "upgrade_url": format!("{SITE_URL}/upgrade/{}-{}/ORDER_ID", u.id, u.authkey),
        "to_product_id": u.to_product_id.to_string(),
        "to_product_name": a.product_name(u.to_product_id),
        "upgrade_from": list(&u.upgrade_from),
        "downgrade_from": list(&u.downgrade_from),
        "special_offer_for": list(&u.special_offer_for),
        "fallback_product_id": u.fallback_product_id.map(|i| i.to_string()).unwrap_or_default(),
        "is_active": yn(u.is_active),
        "buyer_readonly_keys": u.buyer_readonly_keys,
        "upgrade_types": Value::Object(types),
        "created_at": fmt_dt(u.created_at),
        "modified_at": fmt_dt(u.modified_at),
    })
}

/// A conversion tool.
pub fn conversion_tool(t: &ConversionTool) -> Value {
    json!({
        "id": t.id.to_string(),
        "type": t.kind,
        "name": t.name,
        "authkey": t.authkey,
        "created_at": fmt_dt(t.created_at),
        "is_custom_css_used": yn(!t.custom_css.is_empty()),
        "custom_css": t.custom_css,
        "upgrade_to_product_id": t.upgrade_to_product_id.map(|i| i.to_string()).unwrap_or_default(),
        "product_ids": t.product_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","),
    })
}

/// A buy URL.
pub fn buy_url(b: &BuyUrl) -> Value {
    json!({
        "id": b.id.to_string(),
        "product_id": b.product_id.to_string(),
        "url": b.url,
        "valid_until": b.valid_until.map(fmt_dt).unwrap_or_else(|| "forever".into()),
        "upgrade_status": b.upgrade_status,
        "settings": b.settings,
        "created_at": fmt_dt(b.created_at),
        "modified_at": fmt_dt(b.modified_at),
    })
}

/// An IPN connection's settings.
pub fn ipn(c: &IpnConnection) -> Value {
    json!({
        "ipn_id": c.id.to_string(),
        "domain_id": c.domain_id,
        "name": c.name,
        "ipn_url": c.ipn_url,
        "product_ids": c.product_ids,
        "categories": c.categories,
        "transactions": c.transactions,
        "timing": c.timing,
        "sha_passphrase": c.sha_passphrase,
        "newsletter_send_policy": c.newsletter_send_policy,
        "created_at": fmt_dt(c.created_at),
        "modified_at": fmt_dt(c.modified_at),
    })
}

/// A service proof request.
pub fn service_proof(s: &ServiceProof) -> Value {
    json!({
        "id": s.id.to_string(),
        "purchase_id": s.purchase_id,
        "product_id": s.product_id.to_string(),
        "delivery_type": s.delivery_type,
        "approval_status": s.approval_status,
        "request_status": s.request_status,
        "status": s.request_status,
        "message": s.message,
        "notes": s.message,
        "files": s.files.iter().map(|(u, f)| json!({"url": u, "filename": f})).collect::<Vec<_>>(),
        "due_date": fmt_date(s.due_date),
        "created_at": fmt_dt(s.created_at),
        "modified_at": fmt_dt(s.modified_at),
    })
}

/// A marketplace entry with statistics.
pub fn marketplace_entry(a: &Account, m: &MarketplaceEntry) -> Value {
    let orders: Vec<&Purchase> = a.purchases.iter().filter(|p| m.all_product_ids.contains(&p.product_id()) && !p.is_test).collect();
    let with_aff = orders.iter().filter(|p| p.affiliate_id.is_some()).count();
    let cancelled = orders.iter().filter(|p| p.billing_status == "aborted").count();
    let revenue: Cents = orders.iter().map(|p| a.earnings(&p.id)).sum();
    let aff_profit: Cents = orders.iter().flat_map(|p| a.purchase_transactions(&p.id)).map(|t| t.affiliate).sum();
    let cancel_rate = if orders.is_empty() { 0 } else { (cancelled * 10_000 / orders.len()) as Cents };
    json!({
        "id": m.id.to_string(),
        "main_product_id": m.main_product_id.to_string(),
        "all_product_ids": m.all_product_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>(),
        "approval_status": m.approval_status,
        "approval_status_msg": approval_status_msg(&m.approval_status),
        "price": money(m.price),
        "currency": m.currency,
        "price_msg": format!("{} {}", money(m.price), m.currency),
        "language": m.language,
        "is_price_msg_overriden": "N",
        "product_category_id": m.category_id.to_string(),
        "product_category": m.category,
        "headline": m.headline,
        "description": m.description,
        "affiliate_share": money(m.affiliate_share),
        "product_created_at": a.products.get(&m.main_product_id).map(|p| fmt_dt(p.created_at)).unwrap_or_default(),
        "stats_is_valid": yn(orders.len() >= 5),
        "stats_updated_at": fmt_dt(m.stats_updated_at),
        "stats_seller_rank": m.seller_rank.to_string(),
        "stats_seller_rank_category": m.seller_rank_category.to_string(),
        "stats_stars": money(m.stars),
        "stats_affiliate_profit_visitor": money(if orders.is_empty() { 0 } else { aff_profit / (orders.len() as Cents * 20) }),
        "stats_affiliate_profit_sale": money(if with_aff == 0 { 0 } else { aff_profit / with_aff as Cents }),
        "stats_count_orders_w_aff": with_aff.to_string(),
        "stats_cancel_rate": money(cancel_rate),
        "stats_revenue": money(revenue),
        "stats_count_affiliates_with_sales": orders.iter().filter_map(|p| p.affiliate_id).collect::<std::collections::BTreeSet<_>>().len().to_string(),
        "stats_conversion_rate": money(m.conversion_rate),
        "stats_count_orders": orders.len().to_string(),
    })
}
