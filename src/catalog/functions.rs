//! Every Digistore24 vendor API function, one entry each.
//!
//! Adding a function means adding one entry here; the tool list, validation,
//! wire encoding, annotations and the sandbox's checks follow from it.
//! Names, types and enums follow Digistore24's own spelling (typos included).
//! Left out on purpose: `getUpgrades` and `globalSettings`, which the API
//! reference lists only as doubtful aliases of `getUpgrade` and
//! `getGlobalSettings`.

use super::Kind::{self, *};
use super::{Function as F, INT32_MAX, INT32_MIN, Money, ORDER_LOOKUP, Param as P};

// Shared kinds, so the same constraint is written once. Every integer is
// bounded to Digistore24's 32-bit range (see INT32_MAX).
const ID: Kind = Id;
/// An id the reference types as integer: positive.
const INT_ID: Kind = Int { min: Some(1), max: Some(INT32_MAX) };
const INT: Kind = Int { min: Some(INT32_MIN), max: Some(INT32_MAX) };
const PAGE_NO: Kind = Int { min: Some(1), max: Some(INT32_MAX) };
const CURRENCY: Kind = Str;
const COUNT: Kind = Int { min: Some(1), max: Some(INT32_MAX) };
const NON_NEG: Kind = Int { min: Some(0), max: Some(INT32_MAX) };

// Order-form positions; `before_playplan` (sic) is Digistore24's spelling.
const POSITION: Kind = OneOf(&["before_playplan", "after_payplan", "before_checkout", "before_pay_button", "after_pay_button"]);
const CANCEL_POLICY: Kind = OneOf(&["6m_0", "6m_6m", "6m_12m", "12m_0", "12m_3m", "12m_6m", "12m_12m", "24m_0", "24m_6m", "24m_12m"]);

// Shared hints.
const INSTALMENTS: &str = "0 subscription, 1 one payment, 2+ instalments";
const INTERVAL: &str = "e.g. 7_day, 1_month";

// Shared field sets.
const TRACKING: &[P] = &[P::new("custom", Str), P::new("affiliate", ID), P::new("campaignkey", Str), P::new("trackingkey", Str)];

/// Fields of a stored payment plan (createPaymentplan, updatePaymentplan).
const PAYMENT_PLAN: &[P] = &[
    P::new("first_amount", Amount),
    P::new("first_billing_interval", Str).doc(INTERVAL),
    P::new("currency", CURRENCY),
    P::new("other_amounts", Amount),
    P::new("other_billing_intervals", Str),
    P::new("number_of_installments", NON_NEG).doc(INSTALMENTS),
    P::new("is_active", Bool),
    P::new("cancel_policy", CANCEL_POLICY).doc("minimum term_notice period"),
    P::new("position", INT),
    P::new("is_switching_allowed", Bool),
];

const SHIPPING_POLICY: &[P] = &[
    P::new("name", Str),
    P::new("label_XX", Str),
    P::new("position", INT),
    P::new("is_active", Bool),
    P::new("for_product_ids", IdsOrAll),
    P::new("for_countries", Str),
    P::new("for_currencies", Str),
    P::new("fee_type", OneOf(&["total_fee", "fee_per_unit"])),
    P::new("billing_cycle", OneOf(&["once", "monthly"])),
    P::new("currency", CURRENCY),
    P::new("scale_level_count", Int { min: Some(1), max: Some(5) }),
    P::new("scale_1_amount", Amount),
    P::new("scale_2_from", NON_NEG),
    P::new("scale_2_amount", Amount),
    P::new("scale_3_from", NON_NEG),
    P::new("scale_3_amount", Amount),
    P::new("scale_4_from", NON_NEG),
    P::new("scale_4_amount", Amount),
    P::new("scale_5_from", NON_NEG),
    P::new("scale_5_amount", Amount),
];

/// `parts` laid end to end: one field list shared by a create and an update
/// function, written once (a const fn, so the catalogue stays static data).
const fn join<const N: usize>(parts: &[&[P]]) -> [P; N] {
    let mut out = [P::new("", Str); N];
    let (mut part, mut at) = (0, 0);
    while part < parts.len() {
        let mut i = 0;
        while i < parts[part].len() {
            out[at] = parts[part][i];
            at += 1;
            i += 1;
        }
        part += 1;
    }
    assert!(at == N, "join: N must be the total length of the parts");
    out
}

/// Product fields that createProduct and updateProduct share, before the commission.
const PRODUCT_TEXTS: &[P] = &[
    P::new("name_intern", Str),
    P::new("name_de", Str),
    P::new("name_en", Str),
    P::new("name_es", Str),
    P::new("description_de", Str),
    P::new("description_en", Str),
    P::new("description_es", Str),
    P::new("salespage_url", Url),
    P::new("upsell_salespage_url", Url),
    P::new("thankyou_url", Url),
    P::new("image_url", Url),
    P::new("product_type_id", INT_ID),
    P::new("approval_status", OneOf(&["new", "pending"])),
];
/// Product fields that both share, after the commission.
const PRODUCT_SETTINGS: &[P] = &[
    P::new("buyer_type", OneOf(&["consumer", "business"])),
    P::new("is_address_input_mandatory", Bool),
    P::new("add_order_data_to_thankyou_page_url", Bool),
    P::new("name", Str),
    P::new("description", Str),
    P::new("currency", Str),
    P::new("language", Str),
    P::new("product_group_id", INT_ID),
    P::new("default_quantity", NON_NEG),
    P::new("max_quantity", NON_NEG),
];
const PRODUCT_CREATE_FIELDS: [P; 25] =
    join(&[PRODUCT_TEXTS, &[P::new("affiliate_commission", Amount)], PRODUCT_SETTINGS, &[P::new("note", Str)]]);
// Digistore24 spells it with one "s" in updateProduct only.
const PRODUCT_UPDATE_FIELDS: [P; 26] =
    join(&[PRODUCT_TEXTS, &[P::new("affiliate_commision", Amount)], PRODUCT_SETTINGS, &[P::new("is_active", Bool), P::new("note", Str)]]);

/// Voucher terms that createVoucher and updateVoucher share (after `code`).
const VOUCHER_TERMS: &[P] = &[
    P::new("product_ids", IdsOrAll),
    P::new("valid_from", DateTime),
    P::new("expires_at", DateTime),
    P::new("first_rate", Amount),
    P::new("other_rates", Amount),
    P::new("first_amount", Amount),
    P::new("other_amounts", Amount),
    P::new("currency", CURRENCY),
    P::new("is_count_limited", Bool),
    P::new("count_left", NON_NEG),
    P::new("upgrade_policy", OneOf(&["valid", "other_only", "not_valid"])),
];
const VOUCHER_CREATE_FIELDS: [P; 12] = join(&[&[P::new("code", Str).req()], VOUCHER_TERMS]);
// In updateVoucher, data.code renames the voucher.
const VOUCHER_UPDATE_FIELDS: [P; 12] = join(&[&[P::new("code", Str)], VOUCHER_TERMS]);

/// What an agent needs of an order to answer and to pick the next call:
/// ids, amount with currency, date, product, buyer, where it stands, and
/// whether it is a test order.
const PURCHASE_FIELDS: &[&str] = &[
    "id",
    "created_at",
    "product_id",
    "product_name",
    "amount",
    "currency",
    "buyer_email",
    "buyer_first_name",
    "buyer_last_name",
    "billing_status",
    "refund_status",
    "order_type",
];

// The compact defaults of the other lists (and of the two per-record stats),
// chosen the same way: ids, amounts with currency, dates, statuses, names and
// e-mail; long texts, URLs of secondary files, secrets (authkeys), derived
// labels (`*_msg`, invoice_label) and rarely asked settings are left out.
//
// Lists without a default, because their records are already small or the
// default would be wrong: listPurchasesOfEmail (Digistore24's short form of an
// order, 9 fields an assistant needs), listRebillingStatusChanges (8 short
// fields), listProductTypes, listProductGroups, listBuyUrls (3-8 fields, few
// records), listOrderforms, listEticketLocations, listEticketTemplates,
// listCurrencies, listCountries (a code -> name map), listPaymentPlans and
// listSmartUpgrades (a few records: the `_fields` note would cost more than it saves); listConversionTools and
// listAccountAccess answer two lists at once, and a default selects in only one.
const COMMISSION_FIELDS: &[&str] =
    &["id", "created_at", "commission_type", "transaction_type", "amount", "currency", "purchase_id", "product_name"];
const PAYOUT_FIELDS: &[&str] =
    &["id", "created_at", "processed_at", "currency", "vendor_net_amount", "affiliate_net_amount", "fee_amount", "payout_method"];
const VOUCHER_FIELDS: &[&str] = &[
    "id",
    "code",
    "product_ids",
    "first_rate",
    "other_rates",
    "first_amount",
    "other_amounts",
    "currency",
    "valid_until",
    "count_left",
    "is_test_only",
];
const UPGRADE_FIELDS: &[&str] = &["id", "name", "is_active", "upgrade_from", "to_product_id", "to_product_name", "upgrade_url"];
const SHIPPING_POLICY_FIELDS: &[&str] = &["id", "name", "is_active", "currency", "for_countries", "for_product_ids", "rules"];
const DELIVERY_FIELDS: &[&str] = &[
    "id",
    "created_at",
    "purchase_id",
    "product_id",
    "product_name",
    "delivery_type",
    "quantity_total",
    "quantity_delivered",
    "is_processed",
    "processed_at",
    "is_test_order",
    "delivery_address.email",
    "delivery_address.first_name",
    "delivery_address.last_name",
    "delivery_address.country",
    "tracking.parcel_service_type",
    "tracking.tracking_id",
];
const ETICKET_FIELDS: &[&str] =
    &["id", "product_id", "purchase_id", "date", "email", "first_name", "last_name", "location_id", "is_used", "used_at", "is_blocked"];
const IMAGE_FIELDS: &[&str] = &["id", "name", "url", "usage_type", "approval_status", "created_at"];
const INVOICE_FIELDS: &[&str] =
    &["invoice_id", "invoice_date", "type", "amount", "currency", "purchase_id", "transaction_id", "invoice_url"];
const MARKETPLACE_ENTRY_FIELDS: &[&str] = &[
    "id",
    "headline",
    "main_product_id",
    "price",
    "currency",
    "affiliate_share",
    "approval_status",
    "stats_count_orders",
    "stats_revenue",
    "stats_stars",
];
const SERVICE_PROOF_FIELDS: &[&str] =
    &["id", "purchase_id", "product_id", "status", "request_status", "approval_status", "due_date", "created_at"];
const CUSTOM_FORM_RECORD_FIELDS: &[&str] = &["id", "purchase_id", "product_id", "form_id", "data"];
const DAILY_AMOUNT_FIELDS: &[&str] =
    &["day", "currency", "sales_count", "total_brutto_amount", "total_netto_amount", "vendor_share_amount", "affiliate_share_amount"];
const AFFILIATE_TOPLIST_FIELDS: &[&str] = &[
    "rank",
    "affiliate_id",
    "affiliate_name",
    "currency",
    "sales_count",
    "brutto_amount",
    "affiliate_amount",
    "refund_amount",
    "chargeback_amount",
];

/// The catalogue, grouped by toolset.
pub static FUNCTIONS: &[F] = &[
    // ── purchases ──────────────────────────────────────────────────────────
    F::read(
        "getPurchase",
        "purchases",
        "One order in full (buyer, items, payments, billing), or several.",
        &[P::new("purchase_id", Ids).req()],
    ),
    F::read(
        "listPurchases",
        "purchases",
        "Searches orders by time and filters; one buyer e-mail: listPurchasesOfEmail; known id: getPurchase.",
        &[
            P::new("from", DateTime),
            P::new("to", DateTime),
            P::new(
                "search",
                Object(&[
                    P::new("role", Str).doc("comma list: vendor, affiliate, other"),
                    P::new("product_id", Ids),
                    P::new("first_name", Str),
                    P::new("last_name", Str),
                    P::new("email", Email),
                    P::new("has_affiliate", Bool),
                    P::new("affiliate_name", Str),
                    P::new("order_type", OneOf(&["live", "test"])),
                    P::new("pay_method", Str),
                    P::new("billing_type", Str).doc("comma list: single_payment, subscription, installment"),
                    P::new("transaction_type", Str),
                    P::new("currency", CURRENCY),
                    P::new("purchase_id", Ids),
                ]),
            ),
            P::new("sort_by", OneOf(&["date", "earning", "amount"])),
            P::new("sort_order", OneOf(&["asc", "desc"])),
            P::new("load_transactions", Bool),
            P::new("page_no", PAGE_NO),
            P::new("page_size", COUNT),
        ],
    )
    .default_fields(PURCHASE_FIELDS),
    F::read(
        "listPurchasesOfEmail",
        "purchases",
        "All orders of one buyer e-mail; quickest for buyer questions.",
        &[P::new("email", Email).req(), P::new("limit", COUNT)],
    ),
    F::read(
        "getPurchaseDownloads",
        "purchases",
        "An order's download files and links, e.g. to resend access.",
        &[P::new("purchase_id", ID).req()],
    ),
    F::read(
        "getPurchaseTracking",
        "purchases",
        "An order's affiliate, campaign/tracking key and UTM values.",
        &[P::new("purchase_id", ID).req()],
    ),
    F::destructive(
        "updatePurchase",
        "purchases",
        "Edits an order's tracking key, custom value, invoice access or next payment date (later only).",
        &[
            P::new("purchase_id", ID).req(),
            P::new(
                "data",
                Object(&[
                    P::new("tracking_param", Str),
                    P::new("custom", Str),
                    P::new("unlock_invoices", Bool),
                    P::new("next_payment_at", Date),
                ]),
            )
            .req(),
        ],
    )
    .money(Money::None)
    .idempotent(),
    F::destructive(
        "addBalanceToPurchase",
        "purchases",
        "Adds an amount (negative lowers) to a subscription or instalment order's next payments.",
        &[P::new("purchase_id", ID).req(), P::new("amount", SignedAmount).req()],
    )
    .summary("Add a balance of {amount} to order {purchase_id}")
    .money(Money::Balance("amount")),
    F::destructive(
        "refundPurchase",
        "purchases",
        "Refunds all of an order's payments to the buyer; final. Part of a payment: refundPartially; one payment: refundTransaction.",
        &[P::new("purchase_id", ID).req(), P::new("force", Bool), P::new("request_date", Date)],
    )
    .money(Money::RefundsOrder)
    .summary("Refund order {purchase_id} in full[, {order.amount} {order.currency}][, to {order.email}]")
    .lookup(&ORDER_LOOKUP),
    F::destructive(
        "refundPartially",
        "purchases",
        "Refunds part of an order's payment to the buyer; the order stays active. Final.",
        &[P::new("purchase_id", ID).req(), P::new("amount", Amount).req(), P::new("reason", Str)],
    )
    .money(Money::Refunds(&["amount"]))
    .summary("Refund {amount} {order.currency} of order {purchase_id}[, to {order.email}]")
    .lookup(&ORDER_LOOKUP),
    F::write(
        "resendPurchaseConfirmationMail",
        "purchases",
        "E-mails the order confirmation to the buyer again.",
        &[P::new("purchase_id", ID).req()],
    ),
    F::destructive(
        "createAddonChangePurchase",
        "purchases",
        "Adds or drops an order's add-on subscriptions, charging the saved payment method. Needs billing-on-demand.",
        &[
            P::new("purchase_id", ID).req(),
            P::new(
                "addons",
                List(&Object(&[
                    P::new("product_id", INT_ID).req(),
                    P::new("amount", Amount),
                    P::new("quantity", COUNT),
                    P::new("is_quantity_editable_after_purchase", Bool),
                ])),
            )
            .req(),
            P::new("tracking", Object(TRACKING)),
            P::new("placeholders", Map(&Str)),
        ],
    )
    .money(Money::Charges(&["addons[*][amount]"])),
    F::write(
        "logMemberAccess",
        "purchases",
        "Reports a real buyer login to your member area (German refund rules); never fake ones.",
        &[
            P::new("purchase_id", ID).req(),
            P::new("platform_name", Str).req(),
            P::new("login_name", Str).req(),
            P::new("login_url", Url).req(),
            P::new("number_of_unlocked_lectures", NON_NEG).req(),
            P::new("total_number_of_lectures", NON_NEG).req(),
            P::new("login_at", DateTime),
        ],
    ),
    // ── billing ────────────────────────────────────────────────────────────
    F::destructive(
        "createBillingOnDemand",
        "billing",
        "Charges an order's saved payment method for a product now, no checkout. Needs billing-on-demand.",
        &[
            P::new("purchase_id", ID).req(),
            P::new("product_id", ID).req(),
            P::new(
                "payment_plan",
                Object(&[
                    P::new("first_amount", Amount),
                    P::new("other_amounts", Amount),
                    P::new("currency", CURRENCY),
                    P::new("number_of_installments", COUNT).doc("1 one payment, 2+ instalments"),
                    P::new("first_billing_interval", Str).doc(INTERVAL),
                    P::new("other_billing_intervals", Str),
                    P::new("test_interval", Str),
                    P::new("template", Str),
                    P::new("upgrade_type", OneOf(&["upgrade", "downgrade"])),
                ]),
            ),
            P::new("tracking", Object(TRACKING)),
            P::new("placeholders", Map(&Str)),
            P::new("settings", Object(&[P::new("voucher_code", Str), P::new("quantity", COUNT), P::new("product_country", Str)])),
            P::new(
                "addons",
                List(&Object(&[
                    P::new("product_id", ID),
                    P::new("first_amount", Amount),
                    P::new("other_amounts", Amount),
                    P::new("single_amount", Amount),
                    P::new("quantity", COUNT),
                    P::new("currency", CURRENCY),
                    P::new("is_quantity_editable_after_purchase", Bool),
                    P::new("product_country", Str),
                ])),
            ),
        ],
    )
    .money(Money::Charges(&["payment_plan[first_amount]", "addons[*][first_amount|single_amount]"]))
    .summary("Charge the buyer of order {purchase_id} for product {product_id}"),
    F::destructive(
        "createRebillingPayment",
        "billing",
        "Charges a trigger-billed order's next rebilling payment now. Needs billing-on-demand.",
        &[P::new("purchase_id", ID).req()],
    )
    .money(Money::ChargesUnknown)
    .summary("Charge the next subscription payment of order {purchase_id} now"),
    F::destructive(
        "startRebilling",
        "billing",
        "Resumes payments of a stopped subscription or instalment order; the buyer pays again.",
        &[P::new("purchase_id", ID).req()],
    )
    .money(Money::None)
    .idempotent()
    .summary("Restart the subscription payments of order {purchase_id}"),
    F::destructive(
        "stopRebilling",
        "billing",
        "Stops a subscription or instalment order's payments now or at term end; access lasts to the last paid day.",
        &[
            P::new("purchase_id", ID).req(),
            P::new("force", Bool).doc("cancel now despite minimum term"),
            P::new("ignore_refund_possibility", Bool).doc("end at term even if refundable"),
        ],
    )
    .money(Money::None)
    .idempotent()
    .summary("Stop the subscription payments of order {purchase_id}"),
    F::read(
        "listRebillingStatusChanges",
        "billing",
        "Rebilling events (cancelled, resumed, last paid day) over time, to sync subscription access.",
        &[P::new("from", DateTime), P::new("to", DateTime), P::new("page_no", PAGE_NO), P::new("page_size", COUNT)],
    ),
    // ── transactions ───────────────────────────────────────────────────────
    F::read(
        "listTransactions",
        "transactions",
        "Searches payments, refunds and chargebacks by time and filters, with totals.",
        &[
            P::new("from", DateTime),
            P::new("to", DateTime),
            P::new(
                "search",
                Object(&[
                    P::new("role", Str).doc("comma list: vendor, affiliate, other"),
                    P::new("product_id", Ids),
                    P::new("first_name", Str),
                    P::new("last_name", Str),
                    P::new("email", Email),
                    P::new("has_affiliate", Bool),
                    P::new("affiliate_name", Str),
                    P::new("pay_method", Str),
                    P::new("billing_type", Str).doc("comma list: single_payment, subscription, installment"),
                    P::new("transaction_type", Str).doc("comma list: payment, refund, chargeback, refund_request"),
                    P::new("currency", CURRENCY),
                    P::new("purchase_id", Ids),
                ]),
            ),
            P::new("sort_by", OneOf(&["date", "earning", "amount"])),
            P::new("sort_order", OneOf(&["asc", "desc"])),
            P::new("page_no", PAGE_NO),
            P::new("page_size", Int { min: Some(1), max: Some(1000) }),
        ],
    )
    .default_fields(&["id", "created_at", "transaction_type", "amount", "currency", "purchase_id", "product_id", "buyer.email"]),
    F::destructive(
        "refundTransaction",
        "transactions",
        "Refunds one payment (id from listTransactions), not the whole order; final.",
        &[P::new("transaction_id", ID).req(), P::new("force", Bool), P::new("request_date", Date)],
    )
    .money(Money::RefundsUnknown)
    .summary("Refund transaction {transaction_id}"),
    F::destructive(
        "reportFraud",
        "transactions",
        "Flags a transaction's buyer or affiliate as fraudster; final, only with evidence.",
        &[P::new("transaction_id", INT_ID).req(), P::new("who", OneOf(&["buyer", "affiliate"])).req(), P::new("comment", Str).req()],
    )
    .money(Money::None),
    // ── payouts ────────────────────────────────────────────────────────────
    F::read(
        "listCommissions",
        "payouts",
        "Commission credits over time, with shares and payout dates.",
        &[
            P::new("from", DateTime),
            P::new("to", DateTime),
            P::new("page_no", PAGE_NO),
            P::new("page_size", NON_NEG).doc("0 = all"),
            P::new("transaction_type", Str).doc("comma list: payment, refund, refund_request, chargeback"),
            P::new("commission_type", Str),
            P::new("purchase_id", ID),
        ],
    )
    .default_fields(COMMISSION_FIELDS),
    F::read("listPayouts", "payouts", "Your payouts (credit notes) for vendor and affiliate earnings.", &[]).default_fields(PAYOUT_FIELDS),
    // ── products ───────────────────────────────────────────────────────────
    F::read("listProducts", "products", "All products with ids and main settings.", &[P::new("sort_by", OneOf(&["name", "group"]))])
        .default_fields(&["id", "name", "is_active", "currency", "product_group_name", "product_type_id", "created_at"]),
    F::read(
        "getProduct",
        "products",
        "A product's full settings, incl. approval status per reseller.",
        &[P::new("product_id", INT_ID).req(), P::new("show_deleted", Bool)],
    ),
    F::write(
        "createProduct",
        "products",
        "Creates a product and returns its id; prices via createPaymentplan or createBuyUrl.",
        &[P::new("data", Object(&PRODUCT_CREATE_FIELDS)).req()],
    ),
    F::write(
        "updateProduct",
        "products",
        "Changes a product's given fields; is_active=N takes it off sale.",
        &[P::new("product_id", INT_ID).req(), P::new("data", Object(&PRODUCT_UPDATE_FIELDS)).req()],
    )
    .idempotent(),
    F::write(
        "copyProduct",
        "products",
        "Duplicates a product; fields in data override the copy's.",
        &[
            P::new("product_id", ID).req(),
            P::new(
                "data",
                Object(&[
                    P::new("name_intern", Str),
                    P::new("product_type_id", INT_ID),
                    P::new("language", Str),
                    P::new("is_active", Bool),
                    P::new("product_group_id", INT_ID),
                    P::new("name_de", Str),
                    P::new("name_en", Str),
                    P::new("name_es", Str),
                ]),
            ),
        ],
    ),
    F::destructive(
        "deleteProduct",
        "products",
        "Deletes a product for good; for sold ones set is_active=N via updateProduct instead.",
        &[P::new("product_id", INT_ID).req()],
    )
    .money(Money::None)
    .idempotent(),
    F::read("listProductTypes", "products", "Product type ids and names, for product_type_id.", &[]).cacheable(),
    // ── product_groups ─────────────────────────────────────────────────────
    F::read("listProductGroups", "product_groups", "Product groups (folders) of the account.", &[]),
    F::read(
        "getProductGroup",
        "product_groups",
        "One product group: name, position, tab setting.",
        &[P::new("product_group_id", INT_ID).req()],
    ),
    F::write(
        "createProductGroup",
        "product_groups",
        "Creates a product group (folder) for products.",
        &[P::new("data", Object(&[P::new("name", Str).req(), P::new("position", INT), P::new("is_shown_as_tab", Bool)])).req()],
    ),
    F::write(
        "updateProductGroup",
        "product_groups",
        "Renames or reorders a product group or sets its tab display.",
        &[
            P::new("product_group_id", INT_ID).req(),
            P::new("data", Object(&[P::new("name", Str), P::new("position", INT), P::new("is_shown_as_tab", Bool)])).req(),
        ],
    )
    .idempotent(),
    F::destructive(
        "deleteProductGroup",
        "product_groups",
        "Deletes a product group (folder) for good.",
        &[P::new("product_group_id", INT_ID).req()],
    )
    .money(Money::None)
    .idempotent(),
    // ── upsells ────────────────────────────────────────────────────────────
    F::read(
        "getUpsells",
        "upsells",
        "A main product's upsell funnel (position code → product id). Needs full-access key.",
        &[P::new("product_id", INT_ID).req()],
    )
    .needs_full_access(),
    F::write(
        "updateUpsells",
        "upsells",
        "Replaces a main product's upsell funnel.",
        &[
            P::new("product_id", INT_ID).req(),
            // Shape unconfirmed upstream (data[y]=51 vs y=51): follows the `data`
            // wrapper of Digistore24's confirmed updateX(id, data) calls, which the
            // official PHP connector sends as arg2[...].
            P::new("data", Map(&INT_ID)).req().doc("position code (y, yn…) → product id"),
        ],
    )
    .idempotent(),
    F::destructive(
        "deleteUpsells",
        "upsells",
        "Removes all upsell steps of a main product for good.",
        &[P::new("product_id", INT_ID).req()],
    )
    .money(Money::None)
    .idempotent(),
    // ── buy_urls ───────────────────────────────────────────────────────────
    F::write(
        "createBuyUrl",
        "buy_urls",
        "Creates an expiring checkout link for a product, optionally with buyer, price, tracking, add-ons.",
        &[
            P::new("product_id", ID).req(),
            P::new(
                "buyer",
                Object(&[
                    P::new("email", Email),
                    P::new("salutation", OneOf(&["M", "F"])),
                    P::new("title", Str),
                    P::new("last_name", Str),
                    P::new("first_name", Str),
                    P::new("company", Str),
                    P::new("street", Str),
                    P::new("city", Str),
                    P::new("zipcode", Str),
                    P::new("state", Str),
                    P::new("country", Str),
                    P::new("phone_no", Str),
                    P::new("tax_id", Str),
                    P::new("readonly_keys", OneOf(&["all", "email", "email_and_name", "none"])),
                    P::new("id", ID).doc("buyer or order id"),
                ]),
            ),
            P::new(
                "payment_plan",
                Object(&[
                    P::new("first_amount", Amount),
                    P::new("other_amounts", Amount),
                    P::new("currency", CURRENCY),
                    P::new("number_of_installments", NON_NEG).doc(INSTALMENTS),
                    P::new("first_billing_interval", Str).doc(INTERVAL),
                    P::new("other_billing_intervals", Str),
                    P::new("test_interval", Str),
                    P::new("template", Str),
                    P::new("upgrade_order_id", ID),
                    P::new("upgrade_type", OneOf(&["upgrade", "downgrade"])),
                    P::new("tax_mode", OneOf(&["as_set", "exclude", "include"])),
                ]),
            ),
            P::new(
                "tracking",
                Object(&[
                    P::new("custom", Str),
                    P::new("affiliate", ID),
                    P::new("affiliate_priority", OneOf(&["email", "as_set"])),
                    P::new("campaignkey", Str),
                    P::new("trackingkey", Str),
                    P::new("utm_source", Str),
                    P::new("utm_medium", Str),
                    P::new("utm_campaign", Str),
                    P::new("utm_term", Str),
                    P::new("utm_content", Str),
                ]),
            ),
            P::new("valid_until", Str).doc("e.g. 24h or forever"),
            P::new("urls", Object(&[P::new("thankyou_url", Url), P::new("fallback_url", Url), P::new("upgrade_error_url", Url)])),
            P::new("placeholders", Map(&Str)),
            P::new(
                "settings",
                Object(&[
                    P::new("orderform_id", ID),
                    P::new("img", Str),
                    P::new("affiliate_commission_rate", Amount),
                    P::new("affiliate_commission_fix", Amount),
                    P::new("voucher_code", Str),
                    P::new("voucher_1st_rate", Amount),
                    P::new("voucher_oth_rates", Amount),
                    P::new("voucher_1st_amount", Amount),
                    P::new("voucher_oth_amounts", Amount),
                    P::new("force_rebilling", Bool),
                    P::new("pay_methods", List(&OneOf(&["paypal", "sezzle", "creditcard", "elv", "banktransfer", "klarna"]))),
                    P::new("hide_double_buy_info", Bool),
                ]),
            ),
            P::new(
                "addons",
                List(&Object(&[
                    P::new("product_id", ID),
                    P::new("first_amount", Amount),
                    P::new("other_amounts", Amount),
                    P::new("single_amount", Amount),
                    P::new("default_quantity", COUNT),
                    P::new("max_quantity_type", OneOf(&["unlimited", "like_main_item", "number"])),
                    P::new("max_quantity", COUNT),
                    P::new("currency", CURRENCY),
                    P::new("is_quantity_editable_before_purchase", Bool),
                    P::new("is_quantity_editable_after_purchase", Bool),
                ])),
            ),
        ],
    ),
    F::read("listBuyUrls", "buy_urls", "Checkout links made by createBuyUrl, with expiry.", &[]),
    F::destructive("deleteBuyUrl", "buy_urls", "Deletes a checkout link; it stops working.", &[P::new("id", INT_ID).req()])
        .money(Money::None)
        .idempotent(),
    // ── buyers ─────────────────────────────────────────────────────────────
    F::read("getBuyer", "buyers", "One buyer's contact and address.", &[P::new("buyer_id", INT_ID).req()]),
    F::read(
        "listBuyers",
        "buyers",
        "Pages through all buyers (default 100 per page).",
        &[P::new("page_no", PAGE_NO), P::new("page_size", COUNT)],
    )
    .default_fields(&["id", "email", "first_name", "last_name", "country"]),
    F::write(
        "updateBuyer",
        "buyers",
        "Changes the given contact fields of a buyer.",
        &[
            P::new("buyer_id", INT_ID).req(),
            P::new(
                "data",
                Object(&[
                    P::new("email", Email),
                    P::new("first_name", Str),
                    P::new("last_name", Str),
                    P::new("salutation", OneOf(&["", "M", "F"])),
                    P::new("title", Str),
                    P::new("company", Str),
                    P::new("street_name", Str),
                    P::new("street_number", Str),
                    P::new("phone_number", Str),
                    P::new("city", Str),
                    P::new("zipcode", Str),
                    P::new("state", Str),
                    P::new("country", Str),
                ]),
            )
            .req(),
        ],
    )
    .idempotent(),
    // ── affiliates ─────────────────────────────────────────────────────────
    F::read(
        "getAffiliateCommission",
        "affiliates",
        "An affiliate's commission and approval state for some or all products.",
        &[P::new("affiliate_id", ID).req().doc("id, name or e-mail"), P::new("product_ids", IdsOrAll)],
    ),
    F::write(
        "updateAffiliateCommission",
        "affiliates",
        "Sets an affiliate's commission or approval for products, creating missing affiliations.",
        &[
            P::new("affiliate_id", ID).req(),
            P::new("product_ids", IdsOrAll).req(),
            P::new(
                "data",
                Object(&[
                    P::new("commission_rate", Amount),
                    P::new("commission_fix", Amount),
                    P::new("commission_currency", CURRENCY),
                    P::new("approval_status", OneOf(&["new", "approved", "rejected", "pending"])),
                ]),
            ),
        ],
    )
    .idempotent(),
    F::read("getAffiliateForEmail", "affiliates", "The affiliate and keys preset for an e-mail.", &[P::new("email", Email).req()]),
    F::write(
        "setAffiliateForEmail",
        "affiliates",
        "Presets the affiliate credited when this e-mail buys later.",
        &[
            P::new("email", Email).req(),
            P::new("affiliate", ID).req(),
            P::new("campaignkey", Str),
            P::new("trackingkey", Str),
            P::new("click_id", Str),
        ],
    )
    .idempotent(),
    F::read(
        "getReferringAffiliate",
        "affiliates",
        "The partner who recruited an affiliate, and the partner's commission share.",
        &[P::new("affiliate_id", ID).req()],
    ),
    F::write(
        "setReferringAffiliate",
        "affiliates",
        "Sets the partner who referred an affiliate and the partner's commission share.",
        &[P::new("referrer_id", ID).req(), P::new("affiliate_id", ID).req(), P::new("commission", Amount)],
    )
    .idempotent(),
    F::read(
        "validateAffiliate",
        "affiliates",
        "Whether an affiliate may promote given products; works with a developer key.",
        &[P::new("affiliate_name", ID).req(), P::new("product_ids", Ids).req().doc("comma list of ids, one vendor")],
    ),
    F::read(
        "getCustomerToAffiliateBuyerDetails",
        "affiliates",
        "Become-an-affiliate links for the buyers of orders. Needs full-access key.",
        &[P::new("purchase_id", Ids).req()],
    )
    .needs_full_access(),
    F::read(
        "renderJsTrackingCode",
        "affiliates",
        "Landing-page JavaScript passing the visitor's affiliate and tracking keys to inputs or a callback.",
        &[P::new("affiliate_input", Str), P::new("campaignkey_input", Str), P::new("trackingkey_input", Str), P::new("callback", Str)],
    ),
    // ── vouchers ───────────────────────────────────────────────────────────
    F::read("listVouchers", "vouchers", "All discount codes (vouchers) with settings.", &[]).default_fields(VOUCHER_FIELDS),
    F::read("getVoucher", "vouchers", "One discount code's settings, by the code buyers type.", &[P::new("code", Str).req()]),
    F::write(
        "createVoucher",
        "vouchers",
        "Creates a discount code; rates are percent, amounts fixed.",
        &[P::new("data", Object(&VOUCHER_CREATE_FIELDS)).req()],
    ),
    F::write(
        "updateVoucher",
        "vouchers",
        "Changes a discount code's given fields; data.code renames it.",
        &[P::new("code", Str).req(), P::new("data", Object(&VOUCHER_UPDATE_FIELDS)).req()],
    )
    .idempotent(),
    F::destructive("deleteVoucher", "vouchers", "Deletes a discount code for good.", &[P::new("code", Str).req()])
        .money(Money::None)
        .idempotent(),
    F::read("validateCouponCode", "vouchers", "Whether a discount code is usable now and its value left.", &[P::new("code", Str).req()]),
    // ── orderforms ─────────────────────────────────────────────────────────
    F::read(
        "listOrderforms",
        "orderforms",
        "Order form designs, optionally of one layout.",
        &[P::new("layout", OneOf(&["all", "orderform_responsive", "orderform_widget", "orderform_legacy"]))],
    ),
    F::read("getOrderform", "orderforms", "One order form design with all settings.", &[P::new("orderform_id", INT_ID).req()]),
    F::read("getOrderformMetas", "orderforms", "Option values and placeholders for creating and editing order forms.", &[]),
    F::write(
        "createOrderform",
        "orderforms",
        "Creates an order form design (steps, tabs, order bump, CSS), not responsive.",
        &[P::new(
            "data",
            Object(&[
                P::new("name", Str).req(),
                P::new("layout", OneOf(&["widget", "legacy"])),
                P::new("background_style", OneOf(&["white", "blue"])),
                P::new("step_count", Int { min: Some(1), max: Some(3) }),
                P::new("shipping_position", OneOf(&["after_cart", "before_cart"])),
                P::new("summary_positions", Str),
                P::new("flex_elements_order", Str).doc("comma list: order_bumper, order_summary, refund_waiver"),
                P::new("tab_style", OneOf(&["bigtabs", "image", "image_url"])),
                P::new("tab_text_1_hl", Str),
                P::new("tab_text_1_sl", Str),
                P::new("tab_text_2_hl", Str),
                P::new("tab_text_2_sl", Str),
                P::new("tab_text_3_hl", Str),
                P::new("tab_text_3_sl", Str),
                P::new("tab_image_1_id", ID),
                P::new("tab_image_2_id", ID),
                P::new("tab_image_3_id", ID),
                P::new("tab_image_1_url", Url),
                P::new("tab_image_2_url", Url),
                P::new("tab_image_3_url", Url),
                P::new("order_bump_style", OneOf(&["none", "dashed"])),
                P::new("orderbump_product_id", ID),
                P::new("orderbump_headline", Str),
                P::new("orderbump_html", Str),
                P::new("orderbump_position", POSITION),
                P::new("refund_waiver_position", POSITION),
                P::new("custom_css", Str),
            ]),
        )
        .req()],
    ),
    F::write(
        "updateOrderform",
        "orderforms",
        "Changes the given fields of an order form design.",
        &[
            P::new("orderform_id", INT_ID).req(),
            // The field list published for updateOrderform differs from
            // createOrderform's; kept as published since nothing confirms either.
            P::new(
                "data",
                Object(&[
                    P::new("name", Str),
                    P::new("product_id", INT_ID),
                    P::new("paymentplan_id", INT_ID),
                    P::new("is_active", Bool),
                    P::new("is_default", Bool),
                    P::new("theme", Str),
                    P::new("language", Str),
                    P::new("custom_css", Str),
                    P::new("custom_js", Str),
                    P::new("custom_html", Str),
                    P::new("custom_fields", List(&Map(&Str))),
                    P::new("upsell_settings", Map(&Str)),
                ]),
            )
            .req(),
        ],
    )
    .idempotent(),
    F::destructive("deleteOrderform", "orderforms", "Deletes an order form design for good.", &[P::new("orderform_id", INT_ID).req()])
        .money(Money::None)
        .idempotent(),
    // ── payment_plans ──────────────────────────────────────────────────────
    F::read("listPaymentPlans", "payment_plans", "A product's stored payment plans with prices.", &[P::new("product_id", INT_ID).req()]),
    F::write(
        "createPaymentplan",
        "payment_plans",
        "Adds a payment plan (prices, intervals, term) to a product.",
        &[P::new("product_id", ID).req(), P::new("data", Object(PAYMENT_PLAN)).req()],
    ),
    F::write(
        "updatePaymentplan",
        "payment_plans",
        "Changes the given fields of a payment plan.",
        &[P::new("paymentplan_id", INT_ID).req(), P::new("data", Object(PAYMENT_PLAN)).req()],
    )
    .idempotent(),
    F::destructive(
        "deletePaymentplan",
        "payment_plans",
        "Deletes a payment plan from its product for good.",
        &[P::new("paymentplan_id", INT_ID).req()],
    )
    .money(Money::None)
    .idempotent(),
    // ── upgrades ───────────────────────────────────────────────────────────
    F::read("listUpgrades", "upgrades", "Upgrade, downgrade and member-offer definitions; upgrade_url takes order ids for ORDER_ID.", &[])
        .default_fields(UPGRADE_FIELDS),
    F::read(
        "getUpgrade",
        "upgrades",
        "One upgrade definition; with order_ids also whether they can use it.",
        &[P::new("upgrade_id", INT_ID).req(), P::new("order_ids", Ids)],
    ),
    F::write(
        "createUpgrade",
        "upgrades",
        "Defines an upgrade to a product: which products upgrade, downgrade or get a member offer.",
        &[
            P::new("name", Str).req(),
            P::new("to_product_id", INT_ID).req(),
            P::new("upgrade_from", Ids),
            P::new("downgrade_from", Ids),
            P::new("special_offer_for", Ids),
            P::new("fallback_product_id", INT_ID),
            P::new("is_active", Bool),
            P::new("buyer_readonly_keys", OneOf(&["none", "email", "email_and_name", "all"])),
        ],
    ),
    F::destructive("deleteUpgrade", "upgrades", "Deletes an upgrade definition for good.", &[P::new("upgrade_id", INT_ID).req()])
        .money(Money::None)
        .idempotent(),
    F::destructive(
        "createUpgradePurchase",
        "upgrades",
        "Upgrades orders, charging the saved payment method without the buyer. Needs consent and billing-on-demand; final.",
        &[
            P::new("purchase_ids", Ids).req(),
            P::new("upgrade_id", ID).req(),
            P::new("payment_plan_id", ID).doc("plan id or 1-based plan index"),
            P::new("quantities", Map(&NON_NEG)).doc("item position or product id → quantity"),
        ],
    )
    .money(Money::ChargesUnknown),
    // ── conversion_tools ───────────────────────────────────────────────────
    F::read(
        "listConversionTools",
        "conversion_tools",
        "Conversion tools (widgets) of the given types.",
        &[P::new("type", Str).req().doc("comma list: smartupgrade, socialproof_box, socialproof_bubble, countdown, trust_badge")],
    ),
    F::read("listSmartUpgrades", "conversion_tools", "Smart-upgrade widgets of the account.", &[]),
    F::read(
        "getSmartupgrade",
        "conversion_tools",
        "One smart-upgrade widget; with order ids its HTML too (slow, cache it).",
        &[P::new("smartupgrade_id", ID).req(), P::new("purchase_id", Ids)],
    ),
    // ── shipping ───────────────────────────────────────────────────────────
    F::read("listShippingCostPolicies", "shipping", "All shipping cost rules of the account.", &[]).default_fields(SHIPPING_POLICY_FIELDS),
    F::read(
        "getShippingCostPolicy",
        "shipping",
        "A shipping cost rule with its products, countries and price scales.",
        &[P::new("policy_id", INT_ID).req()],
    ),
    F::write(
        "createShippingCostPolicy",
        "shipping",
        "Creates a shipping cost rule with up to 5 quantity price scales.",
        &[P::new("data", Object(SHIPPING_POLICY)).req()],
    ),
    F::write(
        "updateShippingCostPolicy",
        "shipping",
        "Changes the given fields of a shipping cost rule.",
        &[P::new("policy_id", INT_ID).req(), P::new("data", Object(SHIPPING_POLICY)).req()],
    )
    .money(Money::None)
    .idempotent(),
    F::destructive("deleteShippingCostPolicy", "shipping", "Deletes a shipping cost rule for good.", &[P::new("policy_id", INT_ID).req()])
        .money(Money::None)
        .idempotent(),
    // ── deliveries ─────────────────────────────────────────────────────────
    F::read(
        "listDeliveries",
        "deliveries",
        "Physical deliveries by order, dates or state; shipping-provider keys work.",
        &[P::new(
            "search",
            Object(&[
                P::new("purchase_id", ID),
                P::new("from", Date),
                P::new("to", Date),
                P::new("type", Str).doc("comma list: request, in_progress, delivery, partial_delivery, return, cancel"),
                P::new("same_address_as", ID),
                P::new("is_processed", Bool),
                P::new("is_test_order", Bool),
            ]),
        )],
    )
    .default_fields(DELIVERY_FIELDS),
    F::read(
        "getDelivery",
        "deliveries",
        "One delivery with address and tracking; set_in_progress=Y marks it so.",
        &[P::new("delivery_id", INT_ID).req(), P::new("set_in_progress", Bool)],
    ),
    // Not idempotent: add_quantity_delivered adds again and each call may e-mail the buyer.
    F::write(
        "updateDelivery",
        "deliveries",
        "Sets a delivery's status and parcel tracking; e-mails the buyer unless notify_via_email=N.",
        &[
            P::new("delivery_id", INT_ID).req(),
            P::new("notify_via_email", Bool),
            P::new(
                "data",
                Object(&[
                    P::new("type", OneOf(&["request", "in_progress", "delivery", "partial_delivery", "return", "cancel"])),
                    P::new("is_shipped", Bool),
                    P::new("quantity_delivered", NON_NEG),
                    P::new("add_quantity_delivered", INT),
                    P::new("is_shipped_by_reseller_from", Str),
                ]),
            ),
            P::new(
                "tracking",
                List(&Object(&[
                    P::new("parcel_service", Str),
                    P::new("tracking_id", Str),
                    P::new("expect_delivery_at", Date),
                    P::new("quantity", NON_NEG),
                    P::new("operation", OneOf(&["create_or_update", "delete"])),
                ])),
            ),
        ],
    ),
    // ── etickets ───────────────────────────────────────────────────────────
    F::read(
        "listEtickets",
        "etickets",
        "Searches issued e-tickets by buyer, order, event or date.",
        &[P::new(
            "search",
            Object(&[
                P::new("owner_id", ID),
                P::new("purchase_id", ID),
                P::new("first_name", Str),
                P::new("last_name", Str),
                P::new("email", Email),
                P::new("template_id", ID),
                P::new("location_id", ID),
                P::new("date", Date),
            ]),
        )],
    )
    .default_fields(ETICKET_FIELDS),
    F::read(
        "getEticket",
        "etickets",
        "One e-ticket by id, without marking it used (validateEticket does).",
        &[P::new("eticket_id", ID).req()],
    ),
    F::write(
        "createEticket",
        "etickets",
        "Issues free e-tickets from a template for an event date and location.",
        &[
            P::new(
                "buyer",
                Object(&[
                    P::new("email", Email),
                    P::new("title", Str),
                    P::new("salutation", OneOf(&["m", "f"])),
                    P::new("last_name", Str),
                    P::new("first_name", Str),
                ]),
            )
            .req(),
            P::new("product_id", ID).req(),
            P::new("location_id", ID).req(),
            P::new("template_id", ID).req(),
            P::new("date", Date).req(),
            P::new("days", COUNT),
            P::new("note", Str),
            P::new("count", COUNT),
        ],
    ),
    F::write(
        "validateEticket",
        "etickets",
        "Checks in an e-ticket if template, location and date match; marks it used.",
        &[
            P::new("eticket_id", ID).req(),
            P::new("template_id", Ids).req(),
            P::new("location_id", Ids).req(),
            P::new("date", Dates),
            // `seperator` (sic): spelled as in Digistore24's own OpenAPI file; kept verbatim.
            P::new("seperator", Str),
        ],
    ),
    F::read("getEticketSettings", "etickets", "E-ticket owners, templates and locations in one call.", &[]),
    F::read("listEticketLocations", "etickets", "Event locations for e-tickets (location_id values).", &[]),
    F::read("listEticketTemplates", "etickets", "E-ticket templates (template_id values).", &[]),
    // ── images ─────────────────────────────────────────────────────────────
    F::read("listImages", "images", "Uploaded images of one usage type, e.g. product images.", &[P::new("usage_type", Str).req()])
        .default_fields(IMAGE_FIELDS),
    F::read("getImage", "images", "One uploaded image with URL and details.", &[P::new("image_id", ID).req()]),
    F::write(
        "createImage",
        "images",
        "Imports an image by downloading it from a public URL.",
        &[P::new(
            "data",
            Object(&[
                P::new("name", Str).req(),
                // Hyphen, not underscore, as Digistore24 publishes it.
                P::new("image-url", Url).req(),
                P::new("usage_type", Str),
                P::new("alt_tag", Str),
            ]),
        )
        .req()],
    ),
    F::destructive("deleteImage", "images", "Deletes an uploaded image for good.", &[P::new("image_id", ID).req()])
        .money(Money::None)
        .idempotent(),
    // ── invoices ───────────────────────────────────────────────────────────
    F::read("listInvoices", "invoices", "Invoice PDFs of one order, with download links.", &[P::new("purchase_id", ID).req()])
        .default_fields(INVOICE_FIELDS),
    F::write("resendInvoiceMail", "invoices", "E-mails all invoices of an order to the buyer again.", &[P::new("purchase_id", ID).req()]),
    // ── stats ──────────────────────────────────────────────────────────────
    F::read(
        "statsSales",
        "stats",
        "Revenue per day, month, quarter or year by currency; always pass period.",
        &[P::new("period", OneOf(&["day", "month", "quarter", "year"])), P::new("from", Date), P::new("to", Date)],
    ),
    F::read("statsSalesSummary", "stats", "Revenue totals from today to all time, by period.", &[]),
    F::read("statsDailyAmounts", "stats", "Revenue per day over a time range.", &[P::new("from", DateTime), P::new("to", DateTime)])
        .default_fields(DAILY_AMOUNT_FIELDS),
    F::read(
        "statsAffiliateToplist",
        "stats",
        "Ranks affiliates by sales over a range of months.",
        &[
            // Months, not points in time: a DateTime check would refuse YYYY-MM.
            P::new("from", Month).req(),
            P::new("to", Month).req(),
            P::new("affiliate", ID),
            P::new("currency", CURRENCY),
        ],
    )
    .default_fields(AFFILIATE_TOPLIST_FIELDS),
    F::read("statsExpectedPayouts", "stats", "Payouts as on the dashboard: earned, paid, pending, upcoming.", &[]),
    // The reference's own `language` param is covered by the common `language` param.
    F::read("statsMarketplace", "stats", "Marketplace stats of your products; language picks the marketplace language.", &[]),
    // ── marketplace ────────────────────────────────────────────────────────
    F::read("listMarketplaceEntries", "marketplace", "Your marketplace listings with performance stats.", &[P::new("sort_by", Str)])
        .default_fields(MARKETPLACE_ENTRY_FIELDS),
    F::read("getMarketplaceEntry", "marketplace", "One marketplace listing with performance stats.", &[P::new("entry_id", INT_ID).req()]),
    // ── service_proofs ─────────────────────────────────────────────────────
    F::read(
        "listServiceProofRequests",
        "service_proofs",
        "Requests to prove delivery, usually after a buyer asked for a refund.",
        &[P::new(
            "search",
            Object(&[
                P::new("purchase_id", ID),
                P::new("product_id", INT_ID),
                P::new("delivery_type", OneOf(&["digital", "shipping", "service", "event", "download"])),
                P::new("approval_status", OneOf(&["new", "pending", "approved", "rejected"])),
                P::new("request_status", OneOf(&["pending", "proof_provided", "exec_refund"])),
            ]),
        )],
    )
    .default_fields(SERVICE_PROOF_FIELDS),
    F::read(
        "getServiceProofRequest",
        "service_proofs",
        "One service-proof request with status and details.",
        &[P::new("service_proof_id", INT_ID).req()],
    ),
    F::destructive(
        "updateServiceProofRequest",
        "service_proofs",
        "Answers a service-proof request with proof, or exec_refund: refunds the buyer (final).",
        &[
            P::new("service_proof_id", INT_ID).req(),
            P::new("data", Object(&[P::new("request_status", OneOf(&["proof_provided", "exec_refund"])).req(), P::new("message", Str)]))
                .req(),
            P::new("files", List(&Object(&[P::new("url", Url).req(), P::new("filename", Str)]))),
        ],
    )
    .idempotent()
    .money(Money::RefundsUnknownWhen { path: "data[request_status]", value: "exec_refund" }),
    // ── custom_forms ───────────────────────────────────────────────────────
    F::read(
        "listCustomFormRecords",
        "custom_forms",
        "Buyer entries in extra order-form fields, for one order or all.",
        &[P::new("purchase_id", ID)],
    )
    .default_fields(CUSTOM_FORM_RECORD_FIELDS),
    // ── licenses ───────────────────────────────────────────────────────────
    F::read(
        "validateLicenseKey",
        "licenses",
        "Checks a license key against an order and whether its payments are current.",
        &[P::new("purchase_id", ID).req(), P::new("license_key", Str).req()],
    ),
    // ── ipn ────────────────────────────────────────────────────────────────
    F::write(
        "ipnSetup",
        "ipn",
        "Creates or (same domain_id) updates this key's IPN webhook.",
        &[
            P::new("ipn_url", Url).req().doc("must answer GET with 200"),
            P::new("name", Str).req(),
            P::new("product_ids", IdsOrAll).req(),
            P::new("domain_id", ID),
            P::new("categories", Str).doc("comma list, e.g. orders, affiliations"),
            P::new("transactions", Str).doc("comma list or all"),
            P::new("timing", OneOf(&["before_thankyou", "delayed"])),
            P::new("sha_passphrase", Str),
            // The spec's garbled `end_…` values are replaced by the `send_…`
            // names the reference recommends (as the GoSuccess client sends them).
            P::new("newsletter_send_policy", OneOf(&["send_always", "send_if_not_optout", "send_if_optout", "send_if_optin"])),
            P::new("vendor_id", ID),
        ],
    )
    .idempotent(),
    F::read("ipnInfo", "ipn", "IPN webhook settings of this key for a domain_id.", &[P::new("domain_id", ID), P::new("vendor_id", ID)]),
    F::destructive(
        "ipnDelete",
        "ipn",
        "Deletes this key's IPN webhook of a domain_id; notifications stop.",
        &[P::new("domain_id", ID).req(), P::new("vendor_id", ID)],
    )
    .money(Money::None)
    .idempotent(),
    // ── api_keys ───────────────────────────────────────────────────────────
    F::write(
        "requestApiKey",
        "api_keys",
        "Developer key: starts key creation; returns request_url for the vendor, token for retrieveApiKey.",
        &[
            // The spec says `read-only`; the official PHP connector's constant is `readonly`.
            P::new("permissions", OneOf(&["readonly", "writable"])).req(),
            P::new("return_url", Url).req(),
            P::new("cancel_url", Url),
            P::new("site_url", Url),
            P::new("comment", Str),
        ],
    ),
    F::write(
        "retrieveApiKey",
        "api_keys",
        "Developer key: fetches the key approved via requestApiKey; pending: poll again, aborted: stop.",
        &[P::new("token", Str).req()],
    ),
    F::destructive("unregister", "api_keys", "Deletes the calling API key and its IPN webhooks for good.", &[])
        .money(Money::None)
        .idempotent(),
    // ── account ────────────────────────────────────────────────────────────
    F::read("getUserInfo", "account", "The key owner's id, user name and roles.", &[]),
    F::read("listAccountAccess", "account", "Who can access your account, and which accounts you can access.", &[]),
    F::write(
        "getTestpayKey",
        "account",
        "Test-payment key for checkout URLs; secret, never on customer links.",
        &[P::new("do_recreate", Bool)],
    ),
    // ── system ─────────────────────────────────────────────────────────────
    F::read("ping", "system", "Checks the API is reachable and the key works; returns server time.", &[]),
    F::read("getGlobalSettings", "system", "Reference values: billing intervals, product and image usage types, languages.", &[])
        .cacheable(),
    F::read("listCountries", "system", "Known countries with their two-letter codes.", &[]).cacheable(),
    F::read(
        "listCurrencies",
        "system",
        "Selling currencies with price limits; convert_to adds exchange rates.",
        &[P::new("convert_to", Str).doc("comma list or all")],
    )
    .cacheable(),
];
