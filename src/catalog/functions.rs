//! Every Digistore24 vendor API function, one entry each.
//!
//! Adding a function means adding one entry here; the tool list, validation,
//! wire encoding, annotations and the sandbox's checks follow from it.
//! Names, types and enums follow Digistore24's own spelling (typos included).
//! Left out on purpose: `getUpgrades` and `globalSettings`, which the API
//! reference lists only as doubtful aliases of `getUpgrade` and
//! `getGlobalSettings`.

use super::Kind::{self, *};
use super::{Function as F, Param as P};

// Shared kinds, so the same constraint is written once.
const ID: Kind = Str;
const INT: Kind = Int { min: None, max: None };
const PAGE_NO: Kind = Int { min: Some(1), max: None };
const CURRENCY: Kind = Str;
const COUNT: Kind = Int { min: Some(1), max: None };
const NON_NEG: Kind = Int { min: Some(0), max: None };

// Order-form positions; `before_playplan` (sic) is Digistore24's spelling.
const POSITION: Kind = OneOf(&["before_playplan", "after_payplan", "before_checkout", "before_pay_button", "after_pay_button"]);
const CANCEL_POLICY: Kind = OneOf(&["6m_0", "6m_6m", "6m_12m", "12m_0", "12m_3m", "12m_6m", "12m_12m", "24m_0", "24m_6m", "24m_12m"]);

// Shared hints.
const INSTALMENTS: &str = "0 subscription, 1 single payment, 2+ instalments";
const INTERVAL: &str = "code like 7_day, 1_month, 12_month";
const IDS: &str = "comma list of ids";
const IDS_OR_ALL: &str = "comma list of ids, or all";
const FROM_24H: &str = "default -24h";

// Shared field sets.
const TRACKING: &[P] = &[
    P::new("custom", Str),
    P::new("affiliate", Str),
    P::new("campaignkey", Str),
    P::new("trackingkey", Str),
];

const SHIPPING_POLICY: &[P] = &[
    P::new("name", Str),
    P::new("label_XX", Str).doc("XX = language, e.g. label_de"),
    P::new("position", INT),
    P::new("is_active", Bool),
    P::new("for_product_ids", Str).doc("comma list of ids; default all"),
    P::new("for_countries", Str).doc("comma list of country codes; default all"),
    P::new("for_currencies", Str).doc("comma list; default all"),
    P::new("fee_type", OneOf(&["total_fee", "fee_per_unit"])),
    P::new("billing_cycle", OneOf(&["once", "monthly"])),
    P::new("currency", CURRENCY),
    P::new("scale_level_count", Int { min: Some(1), max: Some(5) }),
    P::new("scale_1_amount", Amount),
    P::new("scale_2_from", INT),
    P::new("scale_2_amount", Amount),
    P::new("scale_3_from", INT),
    P::new("scale_3_amount", Amount),
    P::new("scale_4_from", INT),
    P::new("scale_4_amount", Amount),
    P::new("scale_5_from", INT),
    P::new("scale_5_amount", Amount),
];

/// The catalogue, grouped by toolset.
pub static FUNCTIONS: &[F] = &[
    // ── purchases ──────────────────────────────────────────────────────────
    F::read(
        "getPurchase",
        "purchases",
        "Complete record of one order: buyer, items, payments, billing status, links. Use when you know the order id; a comma list returns several, keyed by id.",
        &[P::new("purchase_id", ID).req().doc("order id (IPN order_id), or comma list")],
    ),
    F::read(
        "listPurchases",
        "purchases",
        "Pages through orders in a time window with filters and sorting. Use to find orders without an id; for one buyer's e-mail, listPurchasesOfEmail is simpler.",
        &[
            P::new("from", DateTime).doc(FROM_24H),
            P::new("to", DateTime),
            P::new("search", Object(&[
                P::new("role", Str).doc("comma list: vendor, affiliate, other"),
                P::new("product_id", ID).doc(IDS),
                P::new("first_name", Str),
                P::new("last_name", Str),
                P::new("email", Str),
                P::new("has_affiliate", Bool),
                P::new("affiliate_name", Str),
                P::new("order_type", OneOf(&["live", "test"])),
                P::new("pay_method", Str).doc("comma list"),
                P::new("billing_type", Str).doc("comma list: single_payment, subscription, installment"),
                P::new("transaction_type", Str),
                P::new("currency", CURRENCY),
                P::new("purchase_id", ID).doc(IDS),
            ])),
            P::new("sort_by", OneOf(&["date", "earning", "amount"])),
            P::new("sort_order", OneOf(&["asc", "desc"])),
            P::new("load_transactions", Bool),
            P::new("page_no", PAGE_NO),
            P::new("page_size", COUNT).doc("default 500"),
        ],
    ),
    F::read(
        "listPurchasesOfEmail",
        "purchases",
        "All orders of one buyer e-mail address. The direct way to answer a buyer's question when you only have their e-mail.",
        &[P::new("email", Str).req(), P::new("limit", COUNT)],
    ),
    F::read(
        "getPurchaseDownloads",
        "purchases",
        "Download files and links attached to an order, e.g. to give a buyer their access again.",
        &[P::new("purchase_id", ID).req()],
    ),
    F::read(
        "getPurchaseTracking",
        "purchases",
        "Tracking data stored on an order: affiliate, campaign key, tracking key and UTM values.",
        &[P::new("purchase_id", ID).req()],
    ),
    F::destructive(
        "updatePurchase",
        "purchases",
        "Edits an order: vendor tracking key, custom value, invoice access or a later next rebilling date. A postponed date cannot be moved earlier again.",
        &[
            P::new("purchase_id", ID).req(),
            P::new("data", Object(&[
                P::new("tracking_param", Str).doc("vendor tracking key"),
                P::new("custom", Str),
                P::new("unlock_invoices", Bool).doc("Y: re-open buyer's invoice access"),
                P::new("next_payment_at", Date).doc("can only move later"),
            ])).req(),
        ],
    ).idempotent(),
    F::destructive(
        "addBalanceToPurchase",
        "purchases",
        "Adds a balance to a subscription or instalment order, settled with its coming payments; a negative amount reduces it. Changes what the buyer is charged.",
        &[
            P::new("purchase_id", ID).req(),
            P::new("amount", Amount).req().doc("order currency; negative reduces, not below 0"),
        ],
    ),
    F::destructive(
        "refundPurchase",
        "purchases",
        "Refunds all payments of an order that can still be refunded; money goes back to the buyer, cannot be undone. Part of a payment: refundPartially; one payment: refundTransaction.",
        &[
            P::new("purchase_id", ID).req(),
            P::new("force", Bool).doc("Y: refund even if policy refuses"),
            P::new("request_date", Date).doc("day the buyer asked for the refund"),
        ],
    ),
    F::destructive(
        "refundPartially",
        "purchases",
        "Pays back part of an order's payment as a discount; the order itself stays as it is. Money goes to the buyer and cannot be taken back.",
        &[
            P::new("purchase_id", ID).req(),
            P::new("amount", Amount).req().doc("at most the payment amount"),
            P::new("reason", Str),
        ],
    ),
    F::write(
        "resendPurchaseConfirmationMail",
        "purchases",
        "E-mails the order confirmation to the buyer once more; every call sends another mail.",
        &[P::new("purchase_id", ID).req()],
    ),
    F::destructive(
        "createAddonChangePurchase",
        "purchases",
        "Changes an order's add-on subscriptions (add or drop) through a package-change order billed to the saved payment method. Requires the billing-on-demand right; cannot be undone.",
        &[
            P::new("purchase_id", ID).req(),
            P::new("addons", List(&Object(&[
                P::new("product_id", INT).req(),
                P::new("amount", Amount),
                P::new("quantity", COUNT),
                P::new("is_quantity_editable_after_purchase", Bool),
            ]))).req().doc("subscription products only"),
            P::new("tracking", Object(TRACKING)).doc("omitted fields copy the original order"),
            P::new("placeholders", Map(&Str)).doc("e.g. TITLE, DESCRIPTION"),
        ],
    ),
    F::write(
        "logMemberAccess",
        "purchases",
        "Reports that the buyer really logged in to your membership area for this order; relevant under German refund rules (refund_days=0). Never report logins that did not happen.",
        &[
            P::new("purchase_id", ID).req(),
            P::new("platform_name", Str).req(),
            P::new("login_name", Str).req(),
            P::new("login_url", Str).req(),
            P::new("number_of_unlocked_lectures", NON_NEG).req(),
            P::new("total_number_of_lectures", NON_NEG).req(),
            P::new("login_at", DateTime).doc("default now"),
        ],
    ),
    // ── billing ────────────────────────────────────────────────────────────
    F::destructive(
        "createBillingOnDemand",
        "billing",
        "Bills an order's saved payment method for a product and price without checkout; the buyer is charged at once. Needs the billing-on-demand right.",
        &[
            P::new("purchase_id", ID).req().doc("order whose payment method is charged"),
            P::new("product_id", ID).req(),
            P::new("payment_plan", Object(&[
                P::new("first_amount", Amount),
                P::new("other_amounts", Amount),
                P::new("currency", CURRENCY),
                P::new("number_of_installments", COUNT).doc("1 single payment, 2+ instalments"),
                P::new("first_billing_interval", Str).doc(INTERVAL),
                P::new("other_billing_intervals", Str),
                P::new("test_interval", Str),
                P::new("template", Str),
                P::new("upgrade_type", OneOf(&["upgrade", "downgrade"])),
            ])),
            P::new("tracking", Object(TRACKING)),
            P::new("placeholders", Map(&Str)).doc("e.g. TITLE, DESCRIPTION"),
            P::new("settings", Object(&[
                P::new("voucher_code", Str),
                P::new("quantity", COUNT),
                P::new("product_country", Str).doc("two-letter code"),
            ])),
            P::new("addons", List(&Object(&[
                P::new("product_id", ID),
                P::new("first_amount", Amount),
                P::new("other_amounts", Amount),
                P::new("single_amount", Amount),
                P::new("quantity", COUNT),
                P::new("currency", CURRENCY),
                P::new("is_quantity_editable_after_purchase", Bool),
                P::new("product_country", Str),
            ]))),
        ],
    ),
    F::destructive(
        "createRebillingPayment",
        "billing",
        "Charges the next rebilling payment now, for an order whose plan bills by trigger. Takes money from the buyer; needs the billing-on-demand right.",
        &[P::new("purchase_id", ID).req()],
    ),
    F::destructive(
        "startRebilling",
        "billing",
        "Restarts automatic charges on a subscription or instalment order whose rebilling was stopped.",
        &[P::new("purchase_id", ID).req()],
    ).idempotent(),
    F::destructive(
        "stopRebilling",
        "billing",
        "Ends automatic charges on a subscription or instalment order, at once or when its minimum term ends. Access continues until the last paid day.",
        &[
            P::new("purchase_id", ID).req(),
            P::new("force", Bool).doc("Y: cancel now despite a minimum term"),
            P::new("ignore_refund_possibility", Bool).doc("Y: end at term even if refundable"),
        ],
    ).idempotent(),
    F::read(
        "listRebillingStatusChanges",
        "billing",
        "Pages through rebilling events (cancelled, resumed, last paid day) in a time window; use it to keep subscription access in sync.",
        &[
            P::new("from", DateTime),
            P::new("to", DateTime),
            P::new("page_no", PAGE_NO),
            P::new("page_size", COUNT),
        ],
    ),
    // ── transactions ───────────────────────────────────────────────────────
    F::read(
        "listTransactions",
        "transactions",
        "Pages through single money movements (payments, refunds, chargebacks) in a time window, with filters, sorting and totals. For orders rather than payments use listPurchases.",
        &[
            P::new("from", DateTime).doc(FROM_24H),
            P::new("to", DateTime),
            P::new("search", Object(&[
                P::new("role", Str).doc("comma list: vendor, affiliate, other"),
                P::new("product_id", ID).doc(IDS),
                P::new("first_name", Str),
                P::new("last_name", Str),
                P::new("email", Str),
                P::new("has_affiliate", Bool),
                P::new("affiliate_name", Str),
                P::new("pay_method", Str).doc("comma list"),
                P::new("billing_type", Str).doc("comma list: single_payment, subscription, installment"),
                P::new("transaction_type", Str).doc("comma list: payment, refund, chargeback, refund_request"),
                P::new("currency", CURRENCY),
                P::new("purchase_id", ID).doc(IDS),
            ])),
            P::new("sort_by", OneOf(&["date", "earning", "amount"])),
            P::new("sort_order", OneOf(&["asc", "desc"])),
            P::new("page_no", PAGE_NO),
            P::new("page_size", Int { min: Some(1), max: Some(1000) }),
        ],
    ),
    F::destructive(
        "refundTransaction",
        "transactions",
        "Refunds one payment transaction rather than the whole order; money goes back to the buyer and cannot be undone. Transaction ids come from listTransactions.",
        &[
            P::new("transaction_id", ID).req().doc("from listTransactions; not an order id"),
            P::new("force", Bool).doc("Y: refund even if policy refuses"),
            P::new("request_date", Date),
        ],
    ),
    F::destructive(
        "reportFraud",
        "transactions",
        "Flags a transaction's buyer or affiliate as a fraudster, with your justification. Cannot be withdrawn; use only with evidence.",
        &[
            P::new("transaction_id", INT).req(),
            P::new("who", OneOf(&["buyer", "affiliate"])).req(),
            P::new("comment", Str).req(),
        ],
    ),
    // ── payouts ────────────────────────────────────────────────────────────
    F::read(
        "listCommissions",
        "payouts",
        "Pages through commission credits in a time window: your vendor, affiliate and partner shares and when they are paid out.",
        &[
            P::new("from", DateTime).doc(FROM_24H),
            P::new("to", DateTime),
            P::new("page_no", PAGE_NO),
            P::new("page_size", NON_NEG).doc("default 0 = all"),
            P::new("transaction_type", Str).doc("comma list: payment, refund, refund_request, chargeback"),
            P::new("commission_type", Str),
            P::new("purchase_id", ID),
        ],
    ),
    F::read(
        "listPayouts",
        "payouts",
        "Lists your payouts (credit notes from Digistore24) for vendor and affiliate earnings.",
        &[],
    ),
    // ── products ───────────────────────────────────────────────────────────
    F::read(
        "listProducts",
        "products",
        "Lists all products of the account with ids and main settings; use getProduct for one product's full record.",
        &[P::new("sort_by", OneOf(&["name", "group"]))],
    ),
    F::read(
        "getProduct",
        "products",
        "Full settings of one product, including its approval status per reseller.",
        &[P::new("product_id", INT).req(), P::new("show_deleted", Bool)],
    ),
    F::write(
        "createProduct",
        "products",
        "Creates a product and returns its id. Prices are not set here: add payment plans with createPaymentplan, or pass a price to createBuyUrl.",
        &[P::new("data", Object(&[
            P::new("name_intern", Str),
            P::new("name_de", Str),
            P::new("name_en", Str),
            P::new("name_es", Str),
            P::new("description_de", Str),
            P::new("description_en", Str),
            P::new("description_es", Str),
            P::new("salespage_url", Str),
            P::new("upsell_salespage_url", Str),
            P::new("thankyou_url", Str),
            P::new("image_url", Str),
            P::new("product_type_id", INT).doc("see listProductTypes"),
            P::new("approval_status", OneOf(&["new", "pending"])).doc("pending requests marketplace approval"),
            P::new("affiliate_commission", Amount),
            P::new("buyer_type", OneOf(&["consumer", "business"])),
            P::new("is_address_input_mandatory", Bool),
            P::new("add_order_data_to_thankyou_page_url", Bool),
            P::new("name", Str),
            P::new("description", Str),
            P::new("currency", Str).doc("comma list, e.g. USD,EUR"),
            P::new("language", Str).doc("order-form language, one per product"),
            P::new("product_group_id", INT),
            P::new("default_quantity", INT),
            P::new("max_quantity", INT),
            P::new("note", Str).doc("internal; cut to 47 characters"),
        ])).req()],
    ),
    F::write(
        "updateProduct",
        "products",
        "Changes fields of an existing product; only the fields given change. is_active=N takes it off sale.",
        &[
            P::new("product_id", INT).req(),
            P::new("data", Object(&[
                P::new("name_de", Str),
                P::new("name_en", Str),
                P::new("name_es", Str),
                P::new("name_intern", Str),
                P::new("description_de", Str),
                P::new("description_en", Str),
                P::new("description_es", Str),
                P::new("salespage_url", Str),
                P::new("upsell_salespage_url", Str),
                P::new("thankyou_url", Str),
                P::new("image_url", Str),
                P::new("product_type_id", INT),
                P::new("currency", Str).doc("comma list, e.g. USD,EUR"),
                P::new("approval_status", OneOf(&["new", "pending"])).doc("pending requests marketplace approval"),
                // Digistore24 spells it with one "s" in updateProduct only.
                P::new("affiliate_commision", Amount),
                P::new("buyer_type", OneOf(&["consumer", "business"])),
                P::new("is_address_input_mandatory", Bool),
                P::new("add_order_data_to_thankyou_page_url", Bool),
                P::new("name", Str),
                P::new("description", Str),
                P::new("language", Str),
                P::new("product_group_id", INT),
                P::new("default_quantity", INT),
                P::new("max_quantity", INT),
                P::new("is_active", Bool),
                P::new("note", Str).doc("internal; cut to 47 characters"),
            ])).req(),
        ],
    ).idempotent(),
    F::write(
        "copyProduct",
        "products",
        "Duplicates a product with its settings; fields given in data override those of the copy.",
        &[
            P::new("product_id", ID).req(),
            P::new("data", Object(&[
                P::new("name_intern", Str),
                P::new("product_type_id", INT),
                P::new("language", Str).doc("comma list of language codes"),
                P::new("is_active", Bool),
                P::new("product_group_id", INT),
                P::new("name_de", Str),
                P::new("name_en", Str),
                P::new("name_es", Str),
            ])),
        ],
    ),
    F::destructive(
        "deleteProduct",
        "products",
        "Deletes a product permanently; cannot be undone. For a product that has sold, set is_active=N with updateProduct instead.",
        &[P::new("product_id", INT).req()],
    ).idempotent(),
    F::read(
        "listProductTypes",
        "products",
        "Lists product type ids and names, for product_type_id in createProduct and updateProduct.",
        &[],
    ),
    // ── product_groups ─────────────────────────────────────────────────────
    F::read(
        "listProductGroups",
        "product_groups",
        "Lists the product groups (folders) that organise the account's products.",
        &[],
    ),
    F::read(
        "getProductGroup",
        "product_groups",
        "Returns one product group (folder) with its name, position and tab setting.",
        &[P::new("product_group_id", INT).req()],
    ),
    F::write(
        "createProductGroup",
        "product_groups",
        "Creates a product group (folder) for organising products.",
        &[P::new("data", Object(&[
            P::new("name", Str).req(),
            P::new("position", INT),
            P::new("is_shown_as_tab", Bool),
        ])).req()],
    ),
    F::write(
        "updateProductGroup",
        "product_groups",
        "Renames or re-orders a product group, or switches its display as a tab.",
        &[
            P::new("product_group_id", INT).req(),
            P::new("data", Object(&[
                P::new("name", Str),
                P::new("position", INT),
                P::new("is_shown_as_tab", Bool),
            ])).req(),
        ],
    ).idempotent(),
    F::destructive(
        "deleteProductGroup",
        "product_groups",
        "Deletes a product group (folder); cannot be undone.",
        &[P::new("product_group_id", INT).req()],
    ).idempotent(),
    // ── upsells ────────────────────────────────────────────────────────────
    F::read(
        "getUpsells",
        "upsells",
        "Returns the upsell funnel of a main product: position codes (y, yn, yy…) mapped to product ids. Needs a full-access key.",
        &[P::new("product_id", INT).req()],
    ),
    F::write(
        "updateUpsells",
        "upsells",
        "Replaces the upsell funnel of a main product with the given map of position codes to product ids.",
        &[
            P::new("product_id", INT).req(),
            // Shape unconfirmed upstream (data[y]=51 vs y=51): follows the `data`
            // wrapper of Digistore24's confirmed updateX(id, data) calls, which the
            // official PHP connector sends as arg2[...].
            P::new("data", Map(&INT)).req().doc("position code (y, yn, yy…) → product id"),
        ],
    ).idempotent(),
    F::destructive(
        "deleteUpsells",
        "upsells",
        "Removes every upsell step of a main product's funnel; buyers stop seeing those offers. Cannot be undone.",
        &[P::new("product_id", INT).req()],
    ).idempotent(),
    // ── buy_urls ───────────────────────────────────────────────────────────
    F::write(
        "createBuyUrl",
        "buy_urls",
        "Creates a signed, expiring checkout link for a product, optionally with prefilled buyer, custom price or payment plan, tracking, add-ons and settings. Returns the url.",
        &[
            P::new("product_id", ID).req(),
            P::new("buyer", Object(&[
                P::new("email", Str),
                P::new("salutation", OneOf(&["M", "F"])),
                P::new("title", Str),
                P::new("last_name", Str),
                P::new("first_name", Str),
                P::new("company", Str),
                P::new("street", Str),
                P::new("city", Str),
                P::new("zipcode", Str),
                P::new("state", Str),
                P::new("country", Str).doc("two-letter code"),
                P::new("phone_no", Str),
                P::new("tax_id", Str),
                P::new("readonly_keys", OneOf(&["all", "email", "email_and_name", "none"])),
                P::new("id", ID).doc("buyer or order id to reuse address"),
            ])),
            P::new("payment_plan", Object(&[
                P::new("first_amount", Amount),
                P::new("other_amounts", Amount),
                P::new("currency", CURRENCY),
                P::new("number_of_installments", NON_NEG).doc(INSTALMENTS),
                P::new("first_billing_interval", Str).doc(INTERVAL),
                P::new("other_billing_intervals", Str),
                P::new("test_interval", Str),
                P::new("template", Str),
                P::new("upgrade_order_id", ID).doc("order to upgrade or downgrade from"),
                P::new("upgrade_type", OneOf(&["upgrade", "downgrade"])),
                P::new("tax_mode", OneOf(&["as_set", "exclude", "include"])),
            ])),
            P::new("tracking", Object(&[
                P::new("custom", Str).doc("every IPN of the order repeats it"),
                P::new("affiliate", Str),
                P::new("affiliate_priority", OneOf(&["email", "as_set"])),
                P::new("campaignkey", Str),
                P::new("trackingkey", Str),
                P::new("utm_source", Str),
                P::new("utm_medium", Str),
                P::new("utm_campaign", Str),
                P::new("utm_term", Str),
                P::new("utm_content", Str),
            ])),
            P::new("valid_until", Str).doc("lifetime like 2h, 24h, or forever"),
            P::new("urls", Object(&[
                P::new("thankyou_url", Str),
                P::new("fallback_url", Str),
                P::new("upgrade_error_url", Str),
            ])).doc("public https URLs only"),
            P::new("placeholders", Map(&Str)).doc("e.g. TITLE, DESCRIPTION"),
            P::new("settings", Object(&[
                P::new("orderform_id", ID),
                P::new("img", Str),
                P::new("affiliate_commission_rate", Amount),
                P::new("affiliate_commission_fix", Amount),
                P::new("voucher_code", Str),
                P::new("voucher_1st_rate", Amount),
                P::new("voucher_oth_rates", Amount),
                P::new("voucher_1st_amount", Amount),
                P::new("voucher_oth_amounts", Amount),
                P::new("force_rebilling", Bool).doc("Y: allows later createBillingOnDemand"),
                P::new("pay_methods", List(&OneOf(&["paypal", "sezzle", "creditcard", "elv", "banktransfer", "klarna"]))),
                P::new("hide_double_buy_info", Bool),
            ])),
            P::new("addons", List(&Object(&[
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
            ]))),
        ],
    ),
    F::read(
        "listBuyUrls",
        "buy_urls",
        "Lists the checkout links made with createBuyUrl, with ids and expiry.",
        &[],
    ),
    F::destructive(
        "deleteBuyUrl",
        "buy_urls",
        "Deletes a checkout link made with createBuyUrl; the link stops working for buyers.",
        &[P::new("id", INT).req()],
    ).idempotent(),
    // ── buyers ─────────────────────────────────────────────────────────────
    F::read(
        "getBuyer",
        "buyers",
        "Contact and address record of one buyer; the numeric buyer_id appears in getPurchase and listBuyers.",
        &[P::new("buyer_id", INT).req()],
    ),
    F::read(
        "listBuyers",
        "buyers",
        "Pages through every buyer of the account, 100 per page unless page_size says otherwise.",
        &[P::new("page_no", PAGE_NO), P::new("page_size", COUNT)],
    ),
    F::write(
        "updateBuyer",
        "buyers",
        "Edits a buyer's contact data (e-mail, name, salutation, company, address, phone); only the fields given change.",
        &[
            P::new("buyer_id", INT).req(),
            P::new("data", Object(&[
                P::new("email", Str),
                P::new("first_name", Str),
                P::new("last_name", Str),
                P::new("salutation", OneOf(&["", "M", "F"])),
                P::new("title", Str),
                P::new("company", Str),
                P::new("street_name", Str),
                P::new("street_number", Str),
                P::new("phone_number", Str).doc("empty string clears it"),
                P::new("city", Str),
                P::new("zipcode", Str),
                P::new("state", Str),
                P::new("country", Str).doc("two-letter code"),
            ])).req(),
        ],
    ).idempotent(),
    // ── affiliates ─────────────────────────────────────────────────────────
    F::read(
        "getAffiliateCommission",
        "affiliates",
        "Shows one affiliate's commission settings and approval state for some or all of your products.",
        &[
            P::new("affiliate_id", ID).req().doc("affiliate id, name or e-mail"),
            P::new("product_ids", Str).doc(IDS_OR_ALL),
        ],
    ),
    F::write(
        "updateAffiliateCommission",
        "affiliates",
        "Sets an affiliate's commission rate, fixed commission or approval state for some or all products; missing affiliations are created.",
        &[
            P::new("affiliate_id", ID).req().doc("affiliate id or name"),
            P::new("product_ids", Str).req().doc(IDS_OR_ALL),
            P::new("data", Object(&[
                P::new("commission_rate", Amount),
                P::new("commission_fix", Amount),
                P::new("commission_currency", CURRENCY),
                P::new("approval_status", OneOf(&["new", "approved", "rejected", "pending"])),
            ])),
        ],
    ).idempotent(),
    F::read(
        "getAffiliateForEmail",
        "affiliates",
        "Returns the affiliate, campaign key and tracking key pre-assigned to an e-mail address with setAffiliateForEmail.",
        &[P::new("email", Str).req()],
    ),
    F::write(
        "setAffiliateForEmail",
        "affiliates",
        "Links a future buyer's e-mail address to an affiliate, with optional campaign key, tracking key and click id.",
        &[
            P::new("email", Str).req(),
            P::new("affiliate", Str).req().doc("affiliate's Digistore24 id (user name)"),
            P::new("campaignkey", Str),
            P::new("trackingkey", Str),
            P::new("click_id", Str),
        ],
    ).idempotent(),
    F::read(
        "getReferringAffiliate",
        "affiliates",
        "Shows the partner who recruited an affiliate and the share of commission that partner gets.",
        &[P::new("affiliate_id", ID).req()],
    ),
    F::write(
        "setReferringAffiliate",
        "affiliates",
        "Records which partner referred an affiliate and sets the partner's share of that affiliate's commission.",
        &[
            P::new("referrer_id", ID).req(),
            P::new("affiliate_id", ID).req(),
            P::new("commission", Amount).doc("percent of the affiliate's commission"),
        ],
    ).idempotent(),
    F::read(
        "validateAffiliate",
        "affiliates",
        "Checks whether an affiliate is approved to promote given products. Works with a developer key; lookups on other vendors' products are rate-limited.",
        &[
            P::new("affiliate_name", Str).req(),
            P::new("product_ids", Str).req().doc("comma list of ids, one vendor"),
        ],
    ),
    F::read(
        "getCustomerToAffiliateBuyerDetails",
        "affiliates",
        "Returns become-an-affiliate links and promo names for the buyers of given orders (customer-to-affiliate programme). Needs a full-access key.",
        &[P::new("purchase_id", ID).req().doc(IDS)],
    ),
    F::read(
        "renderJsTrackingCode",
        "affiliates",
        "Generates a JavaScript snippet for landing pages that fills form inputs (or calls a callback) with the visitor's affiliate, campaignkey and trackingkey.",
        &[
            P::new("affiliate_input", Str),
            P::new("campaignkey_input", Str),
            P::new("trackingkey_input", Str),
            P::new("callback", Str),
        ],
    ),
    // ── vouchers ───────────────────────────────────────────────────────────
    F::read(
        "listVouchers",
        "vouchers",
        "Lists all discount codes (vouchers) of the account with their settings.",
        &[],
    ),
    F::read(
        "getVoucher",
        "vouchers",
        "Returns one discount code's settings, looked up by the code buyers type.",
        &[P::new("code", Str).req()],
    ),
    F::write(
        "createVoucher",
        "vouchers",
        "Creates a discount code: percent and/or fixed discount, optional validity window and usage limit.",
        &[P::new("data", Object(&[
            P::new("code", Str).req(),
            P::new("product_ids", Str).doc(IDS_OR_ALL),
            P::new("valid_from", DateTime),
            P::new("expires_at", DateTime),
            P::new("first_rate", Amount).doc("percent off the first payment"),
            P::new("other_rates", Amount).doc("percent off later payments"),
            P::new("first_amount", Amount),
            P::new("other_amounts", Amount),
            P::new("currency", CURRENCY),
            P::new("is_count_limited", Bool),
            P::new("count_left", INT),
            P::new("upgrade_policy", OneOf(&["valid", "other_only", "not_valid"])),
        ])).req()],
    ),
    F::write(
        "updateVoucher",
        "vouchers",
        "Changes an existing discount code; only the fields given change, and data.code renames it.",
        &[
            P::new("code", Str).req().doc("current code or voucher id"),
            P::new("data", Object(&[
                P::new("code", Str),
                P::new("product_ids", Str).doc(IDS_OR_ALL),
                P::new("valid_from", DateTime),
                P::new("expires_at", DateTime),
                P::new("first_rate", Amount).doc("percent off the first payment"),
                P::new("other_rates", Amount).doc("percent off later payments"),
                P::new("first_amount", Amount),
                P::new("other_amounts", Amount),
                P::new("currency", CURRENCY),
                P::new("is_count_limited", Bool),
                P::new("count_left", INT),
                P::new("upgrade_policy", OneOf(&["valid", "other_only", "not_valid"])),
            ])).req(),
        ],
    ).idempotent(),
    F::destructive(
        "deleteVoucher",
        "vouchers",
        "Deletes a discount code; buyers can no longer redeem it. Cannot be undone.",
        &[P::new("code", Str).req().doc("code or voucher id")],
    ).idempotent(),
    F::read(
        "validateCouponCode",
        "vouchers",
        "Checks whether a discount code can be used right now and how much value is left on it.",
        &[P::new("code", Str).req().doc("code or voucher id")],
    ),
    // ── orderforms ─────────────────────────────────────────────────────────
    F::read(
        "listOrderforms",
        "orderforms",
        "Lists the account's order form designs, optionally only those of one layout.",
        &[P::new("layout", OneOf(&["all", "orderform_responsive", "orderform_widget", "orderform_legacy"]))],
    ),
    F::read(
        "getOrderform",
        "orderforms",
        "Returns one order form design with all its settings.",
        &[P::new("orderform_id", INT).req()],
    ),
    F::read(
        "getOrderformMetas",
        "orderforms",
        "Lists the option values and placeholders available when creating or editing order forms.",
        &[],
    ),
    F::write(
        "createOrderform",
        "orderforms",
        "Creates a new order form design (layout, step count, tabs, order bump, element positions, CSS). Responsive layouts cannot be created through the API.",
        &[P::new("data", Object(&[
            P::new("name", Str).req(),
            P::new("layout", OneOf(&["widget", "legacy"])),
            P::new("background_style", OneOf(&["white", "blue"])),
            P::new("step_count", Int { min: Some(1), max: Some(3) }),
            P::new("shipping_position", OneOf(&["after_cart", "before_cart"])),
            P::new("summary_positions", Str).doc("comma list of position codes"),
            P::new("flex_elements_order", Str).doc("order_bumper, order_summary, refund_waiver, comma-ordered"),
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
            P::new("tab_image_1_url", Str),
            P::new("tab_image_2_url", Str),
            P::new("tab_image_3_url", Str),
            P::new("order_bump_style", OneOf(&["none", "dashed"])),
            P::new("orderbump_product_id", ID),
            P::new("orderbump_headline", Str),
            P::new("orderbump_html", Str),
            P::new("orderbump_position", POSITION),
            P::new("refund_waiver_position", POSITION),
            P::new("custom_css", Str),
        ])).req()],
    ),
    F::write(
        "updateOrderform",
        "orderforms",
        "Changes an existing order form design; only the fields given change.",
        &[
            P::new("orderform_id", INT).req(),
            // The field list published for updateOrderform differs from
            // createOrderform's; kept as published since nothing confirms either.
            P::new("data", Object(&[
                P::new("name", Str),
                P::new("product_id", INT),
                P::new("paymentplan_id", INT),
                P::new("is_active", Bool),
                P::new("is_default", Bool),
                P::new("theme", Str),
                P::new("language", Str),
                P::new("custom_css", Str),
                P::new("custom_js", Str),
                P::new("custom_html", Str),
                P::new("custom_fields", List(&Map(&Str))),
                P::new("upsell_settings", Map(&Str)),
            ])).req(),
        ],
    ).idempotent(),
    F::destructive(
        "deleteOrderform",
        "orderforms",
        "Deletes an order form design; cannot be undone.",
        &[P::new("orderform_id", INT).req()],
    ).idempotent(),
    // ── payment_plans ──────────────────────────────────────────────────────
    F::read(
        "listPaymentPlans",
        "payment_plans",
        "Lists the stored payment plans (prices, intervals, instalments) of one product.",
        &[P::new("product_id", INT).req()],
    ),
    F::write(
        "createPaymentplan",
        "payment_plans",
        "Adds a stored payment plan (amounts, intervals, instalments, minimum term) to a product. A product without plans sells at a Digistore24 default price.",
        &[
            P::new("product_id", ID).req(),
            P::new("data", Object(&[
                P::new("first_amount", Amount),
                P::new("first_billing_interval", Str).doc(INTERVAL),
                P::new("currency", CURRENCY),
                P::new("other_amounts", Amount),
                P::new("other_billing_intervals", Str),
                P::new("number_of_installments", NON_NEG).doc(INSTALMENTS),
                P::new("is_active", Bool),
                P::new("cancel_policy", CANCEL_POLICY).doc("minimum term_notice period"),
                P::new("position", INT),
                P::new("is_switching_allowed", Bool).doc("Y: buyers may switch between plans"),
            ])).req(),
        ],
    ),
    F::write(
        "updatePaymentplan",
        "payment_plans",
        "Changes a stored payment plan; only the fields given change.",
        &[
            P::new("paymentplan_id", INT).req(),
            P::new("data", Object(&[
                P::new("first_amount", Amount),
                P::new("first_billing_interval", Str).doc(INTERVAL),
                P::new("currency", CURRENCY),
                P::new("other_amounts", Amount),
                P::new("other_billing_intervals", Str),
                P::new("number_of_installments", INT).doc(INSTALMENTS),
                P::new("is_active", Bool),
                P::new("cancel_policy", CANCEL_POLICY).doc("minimum term_notice period"),
                P::new("position", INT),
                P::new("is_switching_allowed", Bool).doc("Y: buyers may switch between plans"),
            ])).req(),
        ],
    ).idempotent(),
    F::destructive(
        "deletePaymentplan",
        "payment_plans",
        "Deletes a stored payment plan from its product; cannot be undone.",
        &[P::new("paymentplan_id", INT).req()],
    ).idempotent(),
    // ── upgrades ───────────────────────────────────────────────────────────
    F::read(
        "listUpgrades",
        "upgrades",
        "Lists upgrade, downgrade and member-offer definitions; in each upgrade_url replace ORDER_ID with the buyer's order ids.",
        &[],
    ),
    F::read(
        "getUpgrade",
        "upgrades",
        "Returns one upgrade definition; given order ids, it also says whether those orders can use it.",
        &[
            P::new("upgrade_id", INT).req(),
            P::new("order_ids", Str).doc("comma list of the buyer's order ids"),
        ],
    ),
    F::write(
        "createUpgrade",
        "upgrades",
        "Defines an upgrade to a target product: which products upgrade at once, downgrade at the next billing period, or get a member offer.",
        &[
            P::new("name", Str).req(),
            P::new("to_product_id", INT).req(),
            P::new("upgrade_from", Str).doc(IDS),
            P::new("downgrade_from", Str).doc(IDS),
            P::new("special_offer_for", Str).doc(IDS),
            P::new("fallback_product_id", INT),
            P::new("is_active", Bool),
            P::new("buyer_readonly_keys", OneOf(&["none", "email", "email_and_name", "all"])),
        ],
    ),
    F::destructive(
        "deleteUpgrade",
        "upgrades",
        "Deletes an upgrade definition; cannot be undone.",
        &[P::new("upgrade_id", INT).req()],
    ).idempotent(),
    F::destructive(
        "createUpgradePurchase",
        "upgrades",
        "Upgrades existing orders with no buyer action, billing the saved payment method. Needs the buyer's consent and the billing-on-demand right; cannot be undone.",
        &[
            P::new("purchase_ids", ID).req().doc(IDS),
            P::new("upgrade_id", ID).req().doc("id or id-authkey (NNN-XXXX)"),
            P::new("payment_plan_id", ID).doc("plan id or 1-based plan index"),
            P::new("quantities", Map(&INT)).doc("item position or product id → quantity"),
        ],
    ),
    // ── conversion_tools ───────────────────────────────────────────────────
    F::read(
        "listConversionTools",
        "conversion_tools",
        "Lists the account's conversion tools of the given types: smart upgrades, social-proof boxes and bubbles, countdowns, trust badges.",
        &[P::new("type", Str).req().doc("comma list: smartupgrade, socialproof_box, socialproof_bubble, countdown, trust_badge")],
    ),
    F::read(
        "listSmartUpgrades",
        "conversion_tools",
        "Lists the account's smart-upgrade widgets; getSmartupgrade returns one with its HTML.",
        &[],
    ),
    F::read(
        "getSmartupgrade",
        "conversion_tools",
        "Returns one smart-upgrade widget; given order ids it also renders the widget HTML for them, which is slow, so cache it.",
        &[
            P::new("smartupgrade_id", ID).req(),
            P::new("purchase_id", ID).doc("order id(s) to render for"),
        ],
    ),
    // ── shipping ───────────────────────────────────────────────────────────
    F::read(
        "listShippingCostPolicies",
        "shipping",
        "Lists every shipping cost rule of the account; getShippingCostPolicy gives one in full.",
        &[],
    ),
    F::read(
        "getShippingCostPolicy",
        "shipping",
        "Returns one shipping cost rule with its products, countries and price scales.",
        &[P::new("policy_id", INT).req()],
    ),
    F::write(
        "createShippingCostPolicy",
        "shipping",
        "Creates a shipping cost rule: covered products, countries and currencies, fee type, billing cycle and up to five quantity price scales.",
        &[P::new("data", Object(SHIPPING_POLICY)).req()],
    ),
    F::write(
        "updateShippingCostPolicy",
        "shipping",
        "Changes a shipping cost rule; only the fields given change.",
        &[P::new("policy_id", INT).req(), P::new("data", Object(SHIPPING_POLICY)).req()],
    ).idempotent(),
    F::destructive(
        "deleteShippingCostPolicy",
        "shipping",
        "Deletes a shipping cost rule; cannot be undone.",
        &[P::new("policy_id", INT).req()],
    ).idempotent(),
    // ── deliveries ─────────────────────────────────────────────────────────
    F::read(
        "listDeliveries",
        "deliveries",
        "Lists physical-delivery records by order, date range, state or processing flag. Also works with a shipping-provider key.",
        &[P::new("search", Object(&[
            P::new("purchase_id", ID),
            P::new("from", Date),
            P::new("to", Date),
            P::new("type", Str).doc("comma list: request, in_progress, delivery, partial_delivery, return, cancel"),
            P::new("same_address_as", ID).doc("delivery id with the same address"),
            P::new("is_processed", Bool),
            P::new("is_test_order", Bool),
        ]))],
    ),
    F::read(
        "getDelivery",
        "deliveries",
        "Returns one delivery with address and parcel tracking. With set_in_progress=Y it also marks the delivery as in progress.",
        &[P::new("delivery_id", INT).req(), P::new("set_in_progress", Bool)],
    ),
    // Not idempotent: add_quantity_delivered adds again and each call may e-mail the buyer.
    F::write(
        "updateDelivery",
        "deliveries",
        "Records a delivery's status, shipped quantity and parcel tracking ids. Notifies the buyer by e-mail unless notify_via_email=N.",
        &[
            P::new("delivery_id", INT).req(),
            P::new("notify_via_email", Bool),
            P::new("data", Object(&[
                P::new("type", OneOf(&["request", "in_progress", "delivery", "partial_delivery", "return", "cancel"])),
                P::new("is_shipped", Bool),
                P::new("quantity_delivered", INT),
                P::new("add_quantity_delivered", INT).doc("added to the delivered quantity"),
                P::new("is_shipped_by_reseller_from", Str),
            ])),
            P::new("tracking", List(&Object(&[
                P::new("parcel_service", Str).doc("parcel service key, e.g. dhl"),
                P::new("tracking_id", Str),
                P::new("expect_delivery_at", Date),
                P::new("quantity", INT),
                P::new("operation", OneOf(&["create_or_update", "delete"])),
            ]))),
        ],
    ),
    // ── etickets ───────────────────────────────────────────────────────────
    F::read(
        "listEtickets",
        "etickets",
        "Searches issued e-tickets by owner, order, buyer, template, location or event date.",
        &[P::new("search", Object(&[
            P::new("owner_id", ID),
            P::new("purchase_id", ID),
            P::new("first_name", Str),
            P::new("last_name", Str),
            P::new("email", Str),
            P::new("template_id", ID),
            P::new("location_id", ID),
            P::new("date", Date),
        ]))],
    ),
    F::read(
        "getEticket",
        "etickets",
        "Returns one e-ticket by its ticket id, without marking it used (validateEticket does that).",
        &[P::new("eticket_id", ID).req()],
    ),
    F::write(
        "createEticket",
        "etickets",
        "Issues free e-tickets to a person for an event date at a location, using a ticket template.",
        &[
            P::new("buyer", Object(&[
                P::new("email", Str),
                P::new("title", Str),
                P::new("salutation", OneOf(&["m", "f"])),
                P::new("last_name", Str),
                P::new("first_name", Str),
            ])).req(),
            P::new("product_id", ID).req(),
            P::new("location_id", ID).req().doc("see listEticketLocations"),
            P::new("template_id", ID).req().doc("see listEticketTemplates"),
            P::new("date", Date).req(),
            P::new("days", COUNT),
            P::new("note", Str),
            P::new("count", COUNT).doc("number of tickets"),
        ],
    ),
    F::write(
        "validateEticket",
        "etickets",
        "Checks in an e-ticket: if it matches the template, location and date it is valid and gets marked used.",
        &[
            P::new("eticket_id", ID).req().doc("ticket serial number or id"),
            P::new("template_id", ID).req().doc("id or comma list"),
            P::new("location_id", ID).req().doc("id or comma list"),
            P::new("date", Str).doc("date or comma list; default today"),
            // `seperator` (sic): spelled as in Digistore24's own OpenAPI file; kept verbatim.
            P::new("seperator", Str).doc("separator used in the returned message"),
        ],
    ),
    F::read(
        "getEticketSettings",
        "etickets",
        "Returns the account's e-ticket owners, templates and locations in one call.",
        &[],
    ),
    F::read(
        "listEticketLocations",
        "etickets",
        "Lists the event locations available for e-tickets (location_id values).",
        &[],
    ),
    F::read(
        "listEticketTemplates",
        "etickets",
        "Lists the e-ticket templates of the account (template_id values).",
        &[],
    ),
    // ── images ─────────────────────────────────────────────────────────────
    F::read(
        "listImages",
        "images",
        "Lists the images uploaded for one usage type, such as product images.",
        &[P::new("usage_type", Str).req().doc("e.g. product; see getGlobalSettings")],
    ),
    F::read(
        "getImage",
        "images",
        "Returns one uploaded image with its URL and details.",
        &[P::new("image_id", ID).req()],
    ),
    F::write(
        "createImage",
        "images",
        "Imports an image into Digistore24 by downloading it from a public URL.",
        &[P::new("data", Object(&[
            P::new("name", Str).req(),
            // Hyphen, not underscore, as Digistore24 publishes it.
            P::new("image-url", Str).req(),
            P::new("usage_type", Str),
            P::new("alt_tag", Str),
        ])).req()],
    ),
    F::destructive(
        "deleteImage",
        "images",
        "Deletes an uploaded image; cannot be undone.",
        &[P::new("image_id", ID).req()],
    ).idempotent(),
    // ── invoices ───────────────────────────────────────────────────────────
    F::read(
        "listInvoices",
        "invoices",
        "Lists the invoice PDFs of one order; resendInvoiceMail e-mails them to the buyer.",
        &[P::new("purchase_id", ID).req()],
    ),
    F::write(
        "resendInvoiceMail",
        "invoices",
        "Sends the buyer every invoice of an order by e-mail once more; each call sends another mail.",
        &[P::new("purchase_id", ID).req()],
    ),
    // ── stats ──────────────────────────────────────────────────────────────
    F::read(
        "statsSales",
        "stats",
        "Revenue per day, month, quarter or year over a date range, split by currency. Always pass period.",
        &[
            P::new("period", OneOf(&["day", "month", "quarter", "year"])),
            P::new("from", Date),
            P::new("to", Date),
        ],
    ),
    F::read(
        "statsSalesSummary",
        "stats",
        "Revenue totals for set periods: today, this week, month, quarter, year and all time.",
        &[],
    ),
    F::read(
        "statsDailyAmounts",
        "stats",
        "Revenue amounts per day over a time range; statsSales groups by longer periods.",
        &[P::new("from", DateTime), P::new("to", DateTime)],
    ),
    F::read(
        "statsAffiliateToplist",
        "stats",
        "Ranks your affiliates by sales over a range of months.",
        &[
            // Months, not points in time: a DateTime check would refuse YYYY-MM.
            P::new("from", Str).req().doc("month as YYYY-MM"),
            P::new("to", Str).req().doc("month as YYYY-MM"),
            P::new("affiliate", Str),
            P::new("currency", CURRENCY),
        ],
    ),
    F::read(
        "statsExpectedPayouts",
        "stats",
        "Payout overview as on the dashboard: earned, already paid, pending and upcoming amounts.",
        &[],
    ),
    // The reference's own `language` param is covered by the common `language` param.
    F::read(
        "statsMarketplace",
        "stats",
        "Marketplace statistics for your products; the common language argument selects the marketplace language.",
        &[],
    ),
    // ── marketplace ────────────────────────────────────────────────────────
    F::read(
        "listMarketplaceEntries",
        "marketplace",
        "Lists your marketplace listings with performance statistics for each.",
        &[P::new("sort_by", Str)],
    ),
    F::read(
        "getMarketplaceEntry",
        "marketplace",
        "Returns one marketplace listing with its performance statistics.",
        &[P::new("entry_id", INT).req()],
    ),
    // ── service_proofs ─────────────────────────────────────────────────────
    F::read(
        "listServiceProofRequests",
        "service_proofs",
        "Lists service-proof requests: Digistore24 wants evidence that you delivered, typically because the buyer asked for a refund.",
        &[P::new("search", Object(&[
            P::new("purchase_id", ID),
            P::new("product_id", INT),
            P::new("delivery_type", OneOf(&["digital", "shipping", "service", "event", "download"])),
            P::new("approval_status", OneOf(&["new", "pending", "approved", "rejected"])),
            P::new("request_status", OneOf(&["pending", "proof_provided", "exec_refund"])),
        ]))],
    ),
    F::read(
        "getServiceProofRequest",
        "service_proofs",
        "Returns one service-proof request with its status and details.",
        &[P::new("service_proof_id", INT).req()],
    ),
    F::destructive(
        "updateServiceProofRequest",
        "service_proofs",
        "Answers a service-proof request with proof (message, file links) or by accepting the refund. request_status=exec_refund refunds the buyer; cannot be undone.",
        &[
            P::new("service_proof_id", INT).req(),
            P::new("data", Object(&[
                P::new("request_status", OneOf(&["proof_provided", "exec_refund"])).req(),
                P::new("message", Str),
            ])).req(),
            P::new("files", List(&Object(&[P::new("url", Str).req(), P::new("filename", Str)]))),
        ],
    ).idempotent(),
    // ── custom_forms ───────────────────────────────────────────────────────
    F::read(
        "listCustomFormRecords",
        "custom_forms",
        "Returns what buyers entered in additional order-form fields, for one order or for all.",
        &[P::new("purchase_id", ID)],
    ),
    // ── licenses ───────────────────────────────────────────────────────────
    F::read(
        "validateLicenseKey",
        "licenses",
        "Verifies a license key against an order and reports whether the order's payments are up to date, e.g. before unlocking software.",
        &[P::new("purchase_id", ID).req(), P::new("license_key", Str).req()],
    ),
    // ── ipn ────────────────────────────────────────────────────────────────
    F::write(
        "ipnSetup",
        "ipn",
        "Creates or updates (same domain_id) this API key's IPN webhook: URL, products, events, timing and signing passphrase.",
        &[
            P::new("ipn_url", Str).req().doc("public https URL answering GET with 200"),
            P::new("name", Str).req(),
            P::new("product_ids", Str).req().doc(IDS_OR_ALL),
            P::new("domain_id", ID).doc("unique per app; same id updates"),
            P::new("categories", Str).doc("comma list, e.g. orders, affiliations"),
            P::new("transactions", Str).doc("comma list or all; default payment,refund,chargeback,payment_missed"),
            P::new("timing", OneOf(&["before_thankyou", "delayed"])).doc("before_thankyou makes the buyer wait"),
            P::new("sha_passphrase", Str).doc("random: generated and returned"),
            // The spec's garbled `end_…` values are replaced by the `send_…`
            // names the reference recommends (as the GoSuccess client sends them).
            P::new("newsletter_send_policy", OneOf(&["send_always", "send_if_not_optout", "send_if_optout", "send_if_optin"])),
            P::new("vendor_id", ID),
        ],
    ).idempotent(),
    F::read(
        "ipnInfo",
        "ipn",
        "Returns the IPN webhook settings stored for this API key under a domain_id.",
        &[P::new("domain_id", ID).doc("as given to ipnSetup"), P::new("vendor_id", ID)],
    ),
    F::destructive(
        "ipnDelete",
        "ipn",
        "Deletes this API key's IPN webhook under a domain_id; notifications to it stop.",
        &[P::new("domain_id", ID).req().doc("as given to ipnSetup"), P::new("vendor_id", ID)],
    ).idempotent(),
    // ── api_keys ───────────────────────────────────────────────────────────
    F::write(
        "requestApiKey",
        "api_keys",
        "Starts interactive key creation with a developer key: returns request_url for the vendor to approve and a token for retrieveApiKey.",
        &[
            // The spec says `read-only`; the official PHP connector's constant is `readonly`.
            P::new("permissions", OneOf(&["readonly", "writable"])).req(),
            P::new("return_url", Str).req().doc("public https URL"),
            P::new("cancel_url", Str),
            P::new("site_url", Str).doc("your site, shown to the vendor"),
            P::new("comment", Str),
        ],
    ),
    F::write(
        "retrieveApiKey",
        "api_keys",
        "Polls with the developer key for the key approved via requestApiKey. Status pending: poll again; aborted: give up. The token is single-use.",
        &[P::new("token", Str).req().doc("request_token from requestApiKey")],
    ),
    F::destructive(
        "unregister",
        "api_keys",
        "Deletes the calling API key and all IPN webhooks made with it; call with the vendor's key, not the developer key. Cannot be undone.",
        &[],
    ).idempotent(),
    // ── account ────────────────────────────────────────────────────────────
    F::read(
        "getUserInfo",
        "account",
        "Returns the API key owner's id, user name and roles; handy to show who is connected.",
        &[],
    ),
    F::read(
        "listAccountAccess",
        "account",
        "Lists who has access to your account and which accounts you have access to.",
        &[],
    ),
    F::write(
        "getTestpayKey",
        "account",
        "Returns the account-wide test-payment key (append ?<get_param_name>=<key> to a checkout URL). A secret: never put it on customer links.",
        &[P::new("do_recreate", Bool).doc("Y: new key; old copies stop working")],
    ),
    // ── system ─────────────────────────────────────────────────────────────
    F::read(
        "ping",
        "system",
        "Checks that the API is reachable and the key works; returns the server time.",
        &[],
    ),
    F::read(
        "getGlobalSettings",
        "system",
        "Reference values used across the API: billing interval codes, product types, image usage types and limits, languages and more.",
        &[],
    ),
    F::read(
        "listCountries",
        "system",
        "Lists the countries Digistore24 knows, with their two-letter codes.",
        &[],
    ),
    F::read(
        "listCurrencies",
        "system",
        "Lists the selling currencies with their price limits; convert_to adds exchange rates.",
        &[P::new("convert_to", Str).doc("comma list of currencies, or all")],
    ),
];
