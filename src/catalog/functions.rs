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

/// The catalogue, grouped by toolset.
pub static FUNCTIONS: &[F] = &[
    // ── purchases ──────────────────────────────────────────────────────────
    F::read(
        "getPurchase",
        "purchases",
        "Full record of one order (buyer, items, payments, billing status, links). Give a comma list of ids to get several, keyed by id.",
        &[P::new("purchase_id", ID).req().doc("order id, or a comma list")],
    ),
    F::destructive(
        "refundPurchase",
        "purchases",
        "Refunds an order in full and stops its rebilling. Moves money back to the buyer; cannot be undone. Use refundPartially for part of an amount.",
        &[
            P::new("purchase_id", ID).req(),
            P::new("force", Bool).doc("refund even outside the refund period"),
            P::new("request_date", Date),
        ],
    ),
    F::write(
        "updateProduct",
        "products",
        "Changes fields of an existing product; only the fields given in data change.",
        &[
            P::new("product_id", INT).req(),
            P::new("data", Object(&[
                P::new("name_intern", Str),
                P::new("approval_status", OneOf(&["new", "pending"])),
                // Digistore24 spells it with one "s" in updateProduct only.
                P::new("affiliate_commision", Amount),
            ])).req(),
        ],
    ).idempotent(),
];
