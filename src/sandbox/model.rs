//! The in-memory data model of one sandbox vendor account.
//!
//! Owns: the record types (products, purchases, transactions, buyers, ...), the
//! [`Account`] that holds one vendor's collections, id allocation, collection
//! limits and the few derived figures several handlers share (billing type,
//! refund state). Must not touch: HTTP, JSON answer shapes (see
//! `handlers/views.rs`), seeding (see `seed.rs`).

use super::args::Cents;
use super::error::ApiError;
use chrono::{NaiveDate, NaiveDateTime};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Base URL of the (fictitious) Digistore24 site in links the sandbox hands out.
pub const SITE_URL: &str = "https://www.digistore24-sandbox.example";
/// Base URL of the (fictitious) checkout host used in buy URLs.
pub const CHECKOUT_URL: &str = "https://www.checkout-ds24-sandbox.example";

/// Largest number of records one collection of one account may hold; creating
/// more is refused, so a runaway client cannot exhaust memory.
pub const MAX_ITEMS: usize = 10_000;

/// Refuses a create when the collection is full.
pub fn ensure_room(len: usize, what: &str) -> Result<(), ApiError> {
    if len >= MAX_ITEMS {
        Err(ApiError::bad_call(format!("Limit reached: a sandbox account holds at most {MAX_ITEMS} {what}")))
    } else {
        Ok(())
    }
}

/// The vendor who owns the account (the API key holder).
#[derive(Debug, Clone)]
pub struct Vendor {
    /// Numeric user id.
    pub user_id: u64,
    /// Digistore24 id (login name).
    pub user_name: String,
    /// Display names.
    pub first_name: String,
    /// Display names.
    pub last_name: String,
    /// Contact e-mail.
    pub email: String,
    /// Company name.
    pub company: String,
    /// Account language.
    pub language: String,
    /// Account currency.
    pub currency: String,
    /// Short label derived from the API key (empty for the shared default account).
    pub label: String,
}

/// A product group (folder).
#[derive(Debug, Clone)]
pub struct ProductGroup {
    /// Id.
    pub id: u64,
    /// Name (max 31 characters at Digistore24).
    pub name: String,
    /// Display order.
    pub position: i64,
    /// Shown as a tab in the product list.
    pub is_shown_as_tab: bool,
    /// Timestamps.
    pub created_at: NaiveDateTime,
    /// Timestamps.
    pub modified_at: NaiveDateTime,
}

/// A product.
#[derive(Debug, Clone)]
pub struct Product {
    /// Id.
    pub id: u64,
    /// Display name (the default language's name).
    pub name: String,
    /// Internal name.
    pub name_intern: String,
    /// Names per language code.
    pub names: BTreeMap<String, String>,
    /// Descriptions per language code.
    pub descriptions: BTreeMap<String, String>,
    /// Internal note (kept to 47 characters).
    pub note: String,
    /// Free tag.
    pub tag: String,
    /// Language of the product and its order form.
    pub language: String,
    /// Folder.
    pub product_group_id: Option<u64>,
    /// Product type (see listProductTypes).
    pub product_type_id: u64,
    /// Allowed currencies (comma list).
    pub currency: String,
    /// Sales page.
    pub salespage_url: String,
    /// Upsell sales page.
    pub upsell_salespage_url: String,
    /// Thank-you page.
    pub thankyou_url: String,
    /// Product image.
    pub image_url: String,
    /// Approval status per reseller id (1 DE, 2 US, 3 UK, 4 IE).
    pub approval: BTreeMap<u8, String>,
    /// Affiliate commission in percent (hundredths).
    pub affiliate_commission: Cents,
    /// Fixed affiliate commission (hundredths of the product currency).
    pub affiliate_commission_fix: Cents,
    /// `consumer` or `business`.
    pub buyer_type: String,
    /// Buyers must always enter an address.
    pub is_address_input_mandatory: bool,
    /// Order data is appended to the thank-you URL.
    pub add_order_data_to_thankyou_page_url: bool,
    /// On sale.
    pub is_active: bool,
    /// Removed with deleteProduct (still visible with show_deleted).
    pub is_deleted: bool,
    /// Quantity preset.
    pub default_quantity: i64,
    /// Quantity limit.
    pub max_quantity: i64,
    /// Refund period in days.
    pub refund_days: i64,
    /// Download files for digital products: (file name, size in bytes).
    pub downloads: Vec<(String, u64)>,
    /// Timestamps.
    pub created_at: NaiveDateTime,
    /// Timestamps.
    pub modified_at: NaiveDateTime,
}

/// A stored payment plan of a product.
#[derive(Debug, Clone)]
pub struct PaymentPlan {
    /// Id.
    pub id: u64,
    /// Product it belongs to.
    pub product_id: u64,
    /// First (or single) payment.
    pub first_amount: Cents,
    /// Follow-up payments.
    pub other_amounts: Cents,
    /// Currency.
    pub currency: String,
    /// Interval to the second payment, e.g. `1_month`.
    pub first_billing_interval: String,
    /// Interval of later payments.
    pub other_billing_intervals: String,
    /// 0 subscription, 1 single payment, >= 2 instalments.
    pub number_of_installments: i64,
    /// Usable.
    pub is_active: bool,
    /// Minimum term code (`12m_3m`) or empty.
    pub cancel_policy: String,
    /// Display order.
    pub position: i64,
    /// Buyers may switch between plans.
    pub is_switching_allowed: bool,
    /// Timestamps.
    pub created_at: NaiveDateTime,
    /// Timestamps.
    pub modified_at: NaiveDateTime,
}

/// `single_payment`, `subscription` or `installment` for a number of instalments.
pub fn billing_type(number_of_installments: i64) -> &'static str {
    match number_of_installments {
        1 => "single_payment",
        0 => "subscription",
        _ => "installment",
    }
}

/// A buyer (customer) with address.
#[derive(Debug, Clone)]
pub struct Buyer {
    /// Id.
    pub id: u64,
    /// Address record id.
    pub address_id: u64,
    /// First seen.
    pub created_at: NaiveDateTime,
    /// E-mail.
    pub email: String,
    /// Name.
    pub first_name: String,
    /// Name.
    pub last_name: String,
    /// `M`, `F` or empty.
    pub salutation: String,
    /// Academic title.
    pub title: String,
    /// Company.
    pub company: String,
    /// Street name.
    pub street_name: String,
    /// House number.
    pub street_number: String,
    /// Address line 2.
    pub street2: String,
    /// Postal code.
    pub zipcode: String,
    /// City.
    pub city: String,
    /// State.
    pub state: String,
    /// Two-letter country code.
    pub country: String,
    /// Phone number.
    pub phone_no: String,
    /// Language.
    pub language: String,
}

/// One line of an order.
#[derive(Debug, Clone)]
pub struct PurchaseItem {
    /// Item id.
    pub id: u64,
    /// Product.
    pub product_id: u64,
    /// Quantity.
    pub quantity: i64,
    /// First payment of this line (all units, gross).
    pub first_amount: Cents,
    /// Follow-up payments of this line (all units, gross).
    pub other_amounts: Cents,
}

/// A buyer's login reported with logMemberAccess.
#[derive(Debug, Clone)]
pub struct MemberAccess {
    /// Platform.
    pub platform_name: String,
    /// Login name.
    pub login_name: String,
    /// Login URL.
    pub login_url: String,
    /// Unlocked lectures.
    pub unlocked: i64,
    /// All lectures.
    pub total: i64,
    /// When.
    pub login_at: NaiveDateTime,
}

/// An order (purchase).
#[derive(Debug, Clone)]
pub struct Purchase {
    /// Order id such as `AC6FUE4N`.
    pub id: String,
    /// Order time.
    pub created_at: NaiveDateTime,
    /// Buyer.
    pub buyer_id: u64,
    /// Lines; the first is the main product.
    pub items: Vec<PurchaseItem>,
    /// Stored payment plan used, if any.
    pub payment_plan_id: Option<u64>,
    /// Currency.
    pub currency: String,
    /// Gross first payment (all lines).
    pub first_amount: Cents,
    /// Gross follow-up payments (all lines).
    pub other_amounts: Cents,
    /// 0 subscription, 1 single payment, >= 2 instalments.
    pub number_of_installments: i64,
    /// Interval to the second payment.
    pub first_billing_interval: String,
    /// Interval of later payments.
    pub other_billing_intervals: String,
    /// VAT rate in percent (hundredths).
    pub vat_rate: Cents,
    /// Buyer's country for VAT.
    pub country: String,
    /// Payment method (`creditcard`, `paypal`, `elv`, ...).
    pub pay_method: String,
    /// Test order.
    pub is_test: bool,
    /// `regular`, `upgrade`, `billing_on_demand`, `addon_change`.
    pub order_type: String,
    /// Affiliate.
    pub affiliate_id: Option<u64>,
    /// Affiliate's campaign key.
    pub campaignkey: String,
    /// Vendor tracking key (`tracking_param`).
    pub trackingkey: String,
    /// Custom field.
    pub custom: String,
    /// Affiliate click id.
    pub click_id: String,
    /// UTM values (source, medium, campaign, term, content).
    pub utm: BTreeMap<String, String>,
    /// `paying`, `completed`, `aborted`, `unpaid`, `reminding`.
    pub billing_status: String,
    /// Recurring payments continue.
    pub rebilling_active: bool,
    /// Next scheduled payment.
    pub next_payment_at: Option<NaiveDate>,
    /// When a stop was noted.
    pub rebill_stop_noted_at: Option<NaiveDateTime>,
    /// Minimum term code or empty.
    pub cancel_policy: String,
    /// Balance to settle with coming payments.
    pub balance: Cents,
    /// License key, for software products.
    pub license_key: Option<String>,
    /// When the order was refunded in full.
    pub refunded_at: Option<NaiveDateTime>,
    /// Invoice access re-opened.
    pub unlock_invoices: bool,
    /// Voucher used.
    pub voucher_code: String,
    /// Confirmation mails sent (count).
    pub mails_sent: u32,
    /// Reported logins.
    pub member_access: Vec<MemberAccess>,
    /// Title/description placeholders.
    pub placeholders: BTreeMap<String, String>,
    /// Order this one was created from (upgrade, billing on demand).
    pub parent_purchase_id: Option<String>,
    /// Order that replaced this one through an upgrade.
    pub upgraded_to: Option<String>,
}

impl Purchase {
    /// Main product id.
    pub fn product_id(&self) -> u64 {
        self.items.first().map(|i| i.product_id).unwrap_or(0)
    }

    /// Main quantity.
    pub fn quantity(&self) -> i64 {
        self.items.first().map(|i| i.quantity).unwrap_or(1)
    }

    /// `single_payment`, `subscription` or `installment`.
    pub fn billing_type(&self) -> &'static str {
        billing_type(self.number_of_installments)
    }

    /// Whether the order has recurring payments at all.
    pub fn is_recurring(&self) -> bool {
        self.number_of_installments != 1
    }
}

/// Kind of money movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxKind {
    /// Money in.
    Payment,
    /// Money back (full or partial).
    Refund,
    /// Reversed by the card issuer.
    Chargeback,
}

impl TxKind {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TxKind::Payment => "payment",
            TxKind::Refund => "refund",
            TxKind::Chargeback => "chargeback",
        }
    }

    /// Readable name.
    pub fn label(self) -> &'static str {
        match self {
            TxKind::Payment => "Payment",
            TxKind::Refund => "Refund",
            TxKind::Chargeback => "Chargeback",
        }
    }
}

/// A money movement. Amounts are signed: refunds and chargebacks are negative.
#[derive(Debug, Clone)]
pub struct Transaction {
    /// Numeric id.
    pub id: u64,
    /// Order.
    pub purchase_id: String,
    /// Kind.
    pub kind: TxKind,
    /// When.
    pub created_at: NaiveDateTime,
    /// Currency.
    pub currency: String,
    /// Gross amount.
    pub amount: Cents,
    /// VAT part of the gross amount.
    pub vat: Cents,
    /// Digistore24 fee.
    pub fee: Cents,
    /// Affiliate commission.
    pub affiliate: Cents,
    /// Vendor earnings (gross - VAT - fee - affiliate).
    pub vendor: Cents,
    /// Payment method.
    pub pay_method: String,
    /// 1 for the first payment, 2 for the second, ...
    pub pay_sequence_no: i64,
    /// The payment a refund/chargeback reverses.
    pub parent_id: Option<u64>,
    /// Main product.
    pub product_id: u64,
    /// Buyer.
    pub buyer_id: u64,
    /// Affiliate.
    pub affiliate_id: Option<u64>,
    /// Test order money (left out of statistics and payouts).
    pub is_test: bool,
    /// Refund reason, if given.
    pub note: String,
}

impl Transaction {
    /// Net amount (gross without VAT).
    pub fn netto(&self) -> Cents {
        self.amount - self.vat
    }
}

/// An affiliate (partner) promoting the vendor's products.
#[derive(Debug, Clone)]
pub struct Affiliate {
    /// Numeric id.
    pub id: u64,
    /// Digistore24 id (name).
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Names.
    pub first_name: String,
    /// Names.
    pub last_name: String,
    /// Joined.
    pub created_at: NaiveDateTime,
    /// Referring partner, if any.
    pub referrer: Option<Referral>,
}

/// Who referred an affiliate, and the referrer's share.
#[derive(Debug, Clone)]
pub struct Referral {
    /// Referring affiliate.
    pub referrer_id: u64,
    /// Percent of the affiliate commission (hundredths).
    pub commission: Cents,
    /// When recorded.
    pub created_at: NaiveDateTime,
    /// User id who recorded it.
    pub created_by: u64,
}

/// Commission settings of one affiliate for one product.
#[derive(Debug, Clone)]
pub struct Affiliation {
    /// Percent (hundredths), if set.
    pub commission_rate: Option<Cents>,
    /// Fixed amount (hundredths), if set.
    pub commission_fix: Option<Cents>,
    /// Currency of the fixed amount.
    pub commission_currency: String,
    /// `new`, `approved`, `rejected`, `pending`.
    pub approval_status: String,
    /// Timestamps.
    pub created_at: NaiveDateTime,
    /// Timestamps.
    pub modified_at: NaiveDateTime,
}

/// Affiliate data pre-assigned to a future buyer's e-mail.
#[derive(Debug, Clone)]
pub struct EmailAffiliate {
    /// Affiliate.
    pub affiliate_id: u64,
    /// Campaign key.
    pub campaignkey: String,
    /// Tracking key.
    pub trackingkey: String,
    /// Click id.
    pub click_id: String,
    /// When assigned.
    pub promoclick_at: NaiveDateTime,
}

/// A discount code.
#[derive(Debug, Clone)]
pub struct Voucher {
    /// Id.
    pub id: u64,
    /// Code as typed by buyers.
    pub code: String,
    /// Products it applies to (`None` = all).
    pub product_ids: Option<Vec<u64>>,
    /// Valid from.
    pub valid_from: Option<NaiveDateTime>,
    /// Expires.
    pub expires_at: Option<NaiveDateTime>,
    /// Percent off the first payment (hundredths).
    pub first_rate: Cents,
    /// Percent off later payments.
    pub other_rates: Cents,
    /// Amount off the first payment.
    pub first_amount: Cents,
    /// Amount off later payments.
    pub other_amounts: Cents,
    /// Currency of the amounts.
    pub currency: String,
    /// Uses are limited.
    pub is_count_limited: bool,
    /// Uses left.
    pub count_left: i64,
    /// `valid`, `other_only`, `not_valid`.
    pub upgrade_policy: String,
    /// Only for test payments.
    pub is_test: bool,
    /// Timestamps.
    pub created_at: NaiveDateTime,
    /// Timestamps.
    pub modified_at: NaiveDateTime,
}

/// One parcel of a delivery.
#[derive(Debug, Clone)]
pub struct Parcel {
    /// Parcel service key (`dhl`, `ups`, ...).
    pub parcel_service: String,
    /// Tracking number.
    pub tracking_id: String,
    /// Expected arrival.
    pub expect_delivery_at: Option<NaiveDate>,
    /// Units in the parcel.
    pub quantity: i64,
}

/// A physical delivery of an order line.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Id.
    pub id: u64,
    /// Order.
    pub purchase_id: String,
    /// Order line.
    pub purchase_item_id: u64,
    /// Product.
    pub product_id: u64,
    /// Units ordered.
    pub quantity: i64,
    /// Units delivered.
    pub quantity_delivered: i64,
    /// `request`, `in_progress`, `delivery`, `partial_delivery`, `return`, `cancel`.
    pub kind: String,
    /// When processing started.
    pub processed_at: Option<NaiveDateTime>,
    /// Who processed it.
    pub processed_by: String,
    /// Parcels.
    pub parcels: Vec<Parcel>,
    /// Fulfilment centre code.
    pub shipped_by_reseller_from: String,
    /// Buyer notifications sent.
    pub notifications: u32,
    /// Test order.
    pub is_test: bool,
    /// Timestamps.
    pub created_at: NaiveDateTime,
    /// Timestamps.
    pub modified_at: NaiveDateTime,
}

/// An order form design.
#[derive(Debug, Clone)]
pub struct Orderform {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// `widget`, `legacy`, `responsive`.
    pub layout: String,
    /// All other settings as sent (`step_count`, `custom_css`, ...).
    pub settings: BTreeMap<String, Value>,
    /// Timestamps.
    pub created_at: NaiveDateTime,
    /// Timestamps.
    pub modified_at: NaiveDateTime,
}

/// An upgrade/downgrade definition.
#[derive(Debug, Clone)]
pub struct Upgrade {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Secret part of the upgrade URL.
    pub authkey: String,
    /// Target product.
    pub to_product_id: u64,
    /// Owners of these products upgrade immediately.
    pub upgrade_from: Vec<u64>,
    /// Owners of these products downgrade at the next period.
    pub downgrade_from: Vec<u64>,
    /// Member offers.
    pub special_offer_for: Vec<u64>,
    /// Offered when the upgrade is impossible.
    pub fallback_product_id: Option<u64>,
    /// Purchasable.
    pub is_active: bool,
    /// `none`, `email`, `email_and_name`, `all`.
    pub buyer_readonly_keys: String,
    /// Timestamps.
    pub created_at: NaiveDateTime,
    /// Timestamps.
    pub modified_at: NaiveDateTime,
}

/// A conversion tool (smart upgrade, social proof box/bubble, countdown, trust badge).
#[derive(Debug, Clone)]
pub struct ConversionTool {
    /// Id.
    pub id: u64,
    /// `smartupgrade`, `socialproof_box`, `socialproof_bubble`, `countdown`, `trust_badge`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Secret for embedding.
    pub authkey: String,
    /// Target product (smart upgrades).
    pub upgrade_to_product_id: Option<u64>,
    /// Products shown on.
    pub product_ids: Vec<u64>,
    /// Custom CSS.
    pub custom_css: String,
    /// Created.
    pub created_at: NaiveDateTime,
}

/// An uploaded image.
#[derive(Debug, Clone)]
pub struct Image {
    /// Alphanumeric id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Public URL.
    pub url: String,
    /// Where it came from.
    pub source_url: String,
    /// `product`, `orderform_header`, ...
    pub usage_type: String,
    /// Alternative text.
    pub alt_tag: String,
    /// Pixels.
    pub width: i64,
    /// Pixels.
    pub height: i64,
    /// `png`, `jpg`, ...
    pub file_extension: String,
    /// Created.
    pub created_at: NaiveDateTime,
}

/// A shipping cost rule.
#[derive(Debug, Clone)]
pub struct ShippingPolicy {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Order-form labels per language.
    pub labels: BTreeMap<String, String>,
    /// Display order.
    pub position: i64,
    /// In force.
    pub is_active: bool,
    /// `all` or comma list.
    pub for_product_ids: String,
    /// `all` or comma list.
    pub for_countries: String,
    /// `all` or comma list.
    pub for_currencies: String,
    /// `total_fee` or `fee_per_unit`.
    pub fee_type: String,
    /// `once` or `monthly`.
    pub billing_cycle: String,
    /// Currency of the fees.
    pub currency: String,
    /// Scale levels: (from quantity, amount); the first starts at 1.
    pub scales: Vec<(i64, Cents)>,
    /// Timestamps.
    pub created_at: NaiveDateTime,
    /// Timestamps.
    pub modified_at: NaiveDateTime,
}

/// An e-ticket event location.
#[derive(Debug, Clone)]
pub struct EticketLocation {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Address.
    pub address: String,
}

/// An e-ticket template.
#[derive(Debug, Clone)]
pub struct EticketTemplate {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Timestamps.
    pub created_at: NaiveDateTime,
    /// Timestamps.
    pub modified_at: NaiveDateTime,
}

/// An issued e-ticket.
#[derive(Debug, Clone)]
pub struct Eticket {
    /// 20-digit id.
    pub id: String,
    /// Order (empty for free tickets).
    pub purchase_id: String,
    /// Product.
    pub product_id: u64,
    /// Location.
    pub location_id: u64,
    /// Template.
    pub template_id: u64,
    /// Event date.
    pub date: NaiveDate,
    /// Event length in days.
    pub days: i64,
    /// Note (e.g. the time).
    pub note: String,
    /// Number within the order.
    pub no: i64,
    /// Tickets in the order.
    pub count: i64,
    /// Holder.
    pub email: String,
    /// Holder.
    pub first_name: String,
    /// Holder.
    pub last_name: String,
    /// Holder (`M`/`F`).
    pub salutation: String,
    /// Holder.
    pub title: String,
    /// Language.
    pub language: String,
    /// Check-in time.
    pub used_at: Option<NaiveDateTime>,
    /// Blocked.
    pub is_blocked: bool,
    /// Created.
    pub created_at: NaiveDateTime,
}

/// A checkout link made with createBuyUrl.
#[derive(Debug, Clone)]
pub struct BuyUrl {
    /// Id.
    pub id: u64,
    /// Product.
    pub product_id: u64,
    /// Checkout URL.
    pub url: String,
    /// Expiry (`None` = forever).
    pub valid_until: Option<NaiveDateTime>,
    /// What was sent (buyer, payment_plan, tracking, ...), for display.
    pub settings: Value,
    /// `none`, `ok`, `error`.
    pub upgrade_status: String,
    /// Timestamps.
    pub created_at: NaiveDateTime,
    /// Timestamps.
    pub modified_at: NaiveDateTime,
}

/// A generic IPN connection registered with ipnSetup.
#[derive(Debug, Clone)]
pub struct IpnConnection {
    /// Id.
    pub id: u64,
    /// Identity within the account.
    pub domain_id: String,
    /// Name shown in the back office.
    pub name: String,
    /// Target URL.
    pub ipn_url: String,
    /// `all` or comma list.
    pub product_ids: String,
    /// Comma list.
    pub categories: String,
    /// Comma list.
    pub transactions: String,
    /// `before_thankyou` or `delayed`.
    pub timing: String,
    /// Signing secret.
    pub sha_passphrase: String,
    /// Newsletter policy.
    pub newsletter_send_policy: String,
    /// Timestamps.
    pub created_at: NaiveDateTime,
    /// Timestamps.
    pub modified_at: NaiveDateTime,
}

/// A request for proof that a service was delivered.
#[derive(Debug, Clone)]
pub struct ServiceProof {
    /// Id.
    pub id: u64,
    /// Order.
    pub purchase_id: String,
    /// Product.
    pub product_id: u64,
    /// `digital`, `shipping`, `service`, `event`, `download`.
    pub delivery_type: String,
    /// `new`, `pending`, `approved`, `rejected`.
    pub approval_status: String,
    /// `pending`, `proof_provided`, `exec_refund`.
    pub request_status: String,
    /// Vendor's message.
    pub message: String,
    /// Proof files: (url, filename).
    pub files: Vec<(String, String)>,
    /// Deadline.
    pub due_date: NaiveDate,
    /// Timestamps.
    pub created_at: NaiveDateTime,
    /// Timestamps.
    pub modified_at: NaiveDateTime,
}

/// Data a buyer entered into an additional order-form form.
#[derive(Debug, Clone)]
pub struct CustomFormRecord {
    /// Id.
    pub id: u64,
    /// Form.
    pub form_id: u64,
    /// Order.
    pub purchase_id: String,
    /// Order line.
    pub purchase_item_id: u64,
    /// Product.
    pub product_id: u64,
    /// Number of this form within the order.
    pub form_no: i64,
    /// Forms in the order.
    pub form_count: i64,
    /// Entered fields.
    pub data: BTreeMap<String, String>,
}

/// A marketplace listing.
#[derive(Debug, Clone)]
pub struct MarketplaceEntry {
    /// Id.
    pub id: u64,
    /// Main product.
    pub main_product_id: u64,
    /// All products of the listing.
    pub all_product_ids: Vec<u64>,
    /// `new`, `pending`, `approved`, `rejected`.
    pub approval_status: String,
    /// Average price.
    pub price: Cents,
    /// Currency.
    pub currency: String,
    /// Language.
    pub language: String,
    /// Category id.
    pub category_id: u64,
    /// Category name.
    pub category: String,
    /// Headline.
    pub headline: String,
    /// Description.
    pub description: String,
    /// Affiliate share in percent (hundredths).
    pub affiliate_share: Cents,
    /// Popularity 0..5 (hundredths).
    pub stars: Cents,
    /// Overall rank.
    pub seller_rank: i64,
    /// Rank within the category.
    pub seller_rank_category: i64,
    /// Cart conversion rate (hundredths of percent).
    pub conversion_rate: Cents,
    /// When statistics were computed.
    pub stats_updated_at: NaiveDateTime,
}

/// A rebilling state change (`rebill_cancelled`, `rebill_resumed`, `last_paid_day`).
#[derive(Debug, Clone)]
pub struct RebillEvent {
    /// Id.
    pub id: u64,
    /// Order.
    pub purchase_id: String,
    /// When.
    pub created_at: NaiveDateTime,
    /// Payments made so far.
    pub pay_sequence_no: i64,
    /// Kind.
    pub kind: String,
}

/// An account-access grant between two Digistore24 users.
#[derive(Debug, Clone)]
pub struct AccountAccess {
    /// Id.
    pub id: u64,
    /// Granting user.
    pub owner_id: u64,
    /// Receiving user.
    pub accessor_id: u64,
    /// Other party's name.
    pub other_name: String,
    /// `can_full_access`, `can_read_only`, ...
    pub permissions: String,
    /// Granted by this account (`true`) or to it.
    pub by_me: bool,
    /// Timestamps.
    pub created_at: NaiveDateTime,
    /// Timestamps.
    pub modified_at: NaiveDateTime,
}

/// An interactive API key request (requestApiKey / retrieveApiKey).
#[derive(Debug, Clone)]
pub struct KeyRequest {
    /// Polling token.
    pub token: String,
    /// `readonly` or `writable`.
    pub permissions: String,
    /// Redirect target.
    pub return_url: String,
    /// Where a cancelled request sends the vendor (else `return_url`).
    pub cancel_url: Option<String>,
    /// Comment.
    pub comment: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// The vendor's answer on the approval page: `None` while pending.
    pub approved: Option<bool>,
    /// Already handed out.
    pub retrieved: bool,
}

/// A fraud report made with reportFraud.
#[derive(Debug, Clone)]
pub struct FraudReport {
    /// Transaction.
    pub transaction_id: u64,
    /// `buyer` or `affiliate`.
    pub who: String,
    /// Justification.
    pub comment: String,
    /// When.
    pub created_at: NaiveDateTime,
}

/// The test-payment key of the account.
#[derive(Debug, Clone)]
pub struct TestpayKey {
    /// Secret.
    pub key: String,
    /// Expiry.
    pub expires_at: NaiveDateTime,
}

/// All data of one vendor account.
#[derive(Debug, Clone)]
pub struct Account {
    /// Owner.
    pub vendor: Vendor,
    /// Random source for new ids and secrets (deterministic per account).
    pub rng: ChaCha8Rng,
    /// Next free numeric id per record kind.
    pub counters: HashMap<&'static str, u64>,
    /// Product groups by id.
    pub product_groups: BTreeMap<u64, ProductGroup>,
    /// Products by id (deleted ones stay, flagged).
    pub products: BTreeMap<u64, Product>,
    /// Payment plans by id.
    pub payment_plans: BTreeMap<u64, PaymentPlan>,
    /// Upsell funnels per main product: position code (`y`, `yn`, ...) → product id.
    pub upsells: BTreeMap<u64, BTreeMap<String, u64>>,
    /// Buyers by id.
    pub buyers: BTreeMap<u64, Buyer>,
    /// Orders, oldest first (never removed).
    pub purchases: Vec<Purchase>,
    /// Order id → index into `purchases`.
    pub purchase_index: HashMap<String, usize>,
    /// Money movements, oldest first (never removed).
    pub transactions: Vec<Transaction>,
    /// Transaction id → index.
    pub tx_index: HashMap<u64, usize>,
    /// Order id → indexes of its transactions.
    pub tx_by_purchase: HashMap<String, Vec<usize>>,
    /// Affiliates by id.
    pub affiliates: BTreeMap<u64, Affiliate>,
    /// Commission settings per (affiliate id, product id).
    pub affiliations: BTreeMap<(u64, u64), Affiliation>,
    /// Pre-assigned affiliates per lower-case e-mail.
    pub email_affiliates: BTreeMap<String, EmailAffiliate>,
    /// Vouchers by id.
    pub vouchers: BTreeMap<u64, Voucher>,
    /// Deliveries by id.
    pub deliveries: BTreeMap<u64, Delivery>,
    /// Order forms by id.
    pub orderforms: BTreeMap<u64, Orderform>,
    /// Upgrades by id.
    pub upgrades: BTreeMap<u64, Upgrade>,
    /// Conversion tools by id.
    pub conversion_tools: BTreeMap<u64, ConversionTool>,
    /// Images by id.
    pub images: BTreeMap<String, Image>,
    /// Shipping cost policies by id.
    pub shipping_policies: BTreeMap<u64, ShippingPolicy>,
    /// E-ticket locations by id.
    pub eticket_locations: BTreeMap<u64, EticketLocation>,
    /// E-ticket templates by id.
    pub eticket_templates: BTreeMap<u64, EticketTemplate>,
    /// E-tickets by id.
    pub etickets: BTreeMap<String, Eticket>,
    /// Buy URLs by id.
    pub buy_urls: BTreeMap<u64, BuyUrl>,
    /// IPN connections by domain id.
    pub ipn_connections: BTreeMap<String, IpnConnection>,
    /// Service proof requests by id.
    pub service_proofs: BTreeMap<u64, ServiceProof>,
    /// Custom form records by id.
    pub custom_forms: BTreeMap<u64, CustomFormRecord>,
    /// Marketplace entries by id.
    pub marketplace: BTreeMap<u64, MarketplaceEntry>,
    /// Rebilling state changes, oldest first.
    pub rebill_events: Vec<RebillEvent>,
    /// Account access grants.
    pub account_access: Vec<AccountAccess>,
    /// Interactive key requests by token.
    pub key_requests: BTreeMap<String, KeyRequest>,
    /// Fraud reports.
    pub fraud_reports: Vec<FraudReport>,
    /// Test-payment key.
    pub testpay: TestpayKey,
}

const ID_CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

impl Account {
    /// Allocates the next numeric id of a record kind.
    pub fn next_id(&mut self, kind: &'static str) -> u64 {
        let c = self.counters.entry(kind).or_insert(1000);
        let id = *c;
        *c += 1;
        id
    }

    /// A random string from `alphabet` of length `len`.
    pub fn random_string(&mut self, len: usize, alphabet: &[u8]) -> String {
        (0..len).map(|_| alphabet[self.rng.random_range(0..alphabet.len())] as char).collect()
    }

    /// A fresh, unused order id (8 characters, letters and digits).
    pub fn new_purchase_id(&mut self) -> String {
        loop {
            let id = self.random_string(8, ID_CHARS);
            let has_digit = id.bytes().any(|b| b.is_ascii_digit());
            let has_letter = id.bytes().any(|b| b.is_ascii_alphabetic());
            if has_digit && has_letter && !self.purchase_index.contains_key(&id) {
                return id;
            }
        }
    }

    /// A random secret of letters and digits.
    pub fn new_secret(&mut self, len: usize) -> String {
        self.random_string(len, b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    }

    /// Adds an order and indexes it.
    pub fn add_purchase(&mut self, p: Purchase) {
        self.purchase_index.insert(p.id.clone(), self.purchases.len());
        self.purchases.push(p);
    }

    /// Adds a transaction and indexes it.
    pub fn add_transaction(&mut self, t: Transaction) {
        let idx = self.transactions.len();
        self.tx_index.insert(t.id, idx);
        self.tx_by_purchase.entry(t.purchase_id.clone()).or_default().push(idx);
        self.transactions.push(t);
    }

    /// Records a rebilling state change of an order (`rebill_cancelled`, `rebill_resumed`, `last_paid_day`).
    pub fn add_rebill_event(&mut self, purchase_id: &str, at: NaiveDateTime, pay_sequence_no: i64, kind: &str) {
        let id = self.next_id("rebill_event");
        self.rebill_events.push(RebillEvent {
            id,
            purchase_id: purchase_id.to_string(),
            created_at: at,
            pay_sequence_no,
            kind: kind.into(),
        });
    }

    /// The order with this id.
    pub fn purchase(&self, id: &str) -> Option<&Purchase> {
        self.purchase_index.get(id).map(|&i| &self.purchases[i])
    }

    /// The order with this id, for changing it.
    pub fn purchase_mut(&mut self, id: &str) -> Option<&mut Purchase> {
        let i = *self.purchase_index.get(id)?;
        self.purchases.get_mut(i)
    }

    /// The order with this id, or the standard not-found error.
    pub fn purchase_or_404(&self, id: &str) -> Result<&Purchase, ApiError> {
        self.purchase(id).ok_or_else(|| ApiError::no_such("Purchase", id))
    }

    /// The order with this id, for changing it, or the standard not-found error.
    pub fn purchase_mut_or_404(&mut self, id: &str) -> Result<&mut Purchase, ApiError> {
        self.purchase_mut(id).ok_or_else(|| ApiError::no_such("Purchase", id))
    }

    /// The transactions of an order, oldest first.
    pub fn purchase_transactions(&self, purchase_id: &str) -> impl Iterator<Item = &Transaction> {
        self.tx_by_purchase.get(purchase_id).into_iter().flat_map(|v| v.iter()).map(move |&i| &self.transactions[i])
    }

    /// A product that exists and is not deleted, or the not-found error.
    pub fn product_or_404(&self, id: u64) -> Result<&Product, ApiError> {
        self.products.get(&id).filter(|p| !p.is_deleted).ok_or_else(|| ApiError::no_such("Product", id))
    }

    /// A product that exists and is not deleted, for changing it, or the not-found error.
    pub fn product_mut_or_404(&mut self, id: u64) -> Result<&mut Product, ApiError> {
        self.products.get_mut(&id).filter(|p| !p.is_deleted).ok_or_else(|| ApiError::no_such("Product", id))
    }

    /// Resolves a product id given as text (not-found for text that is no id).
    pub fn product_by_text(&self, id: &str) -> Result<&Product, ApiError> {
        id.trim()
            .parse::<u64>()
            .ok()
            .and_then(|n| self.products.get(&n))
            .filter(|p| !p.is_deleted)
            .ok_or_else(|| ApiError::no_such("Product", id))
    }

    /// The product's display name, or a placeholder for unknown ids.
    pub fn product_name(&self, id: u64) -> String {
        self.products.get(&id).map(|p| p.name.clone()).unwrap_or_else(|| format!("Product {id}"))
    }

    /// Finds an affiliate by numeric id, name or e-mail (case-insensitive).
    pub fn find_affiliate(&self, key: &str) -> Option<&Affiliate> {
        let key = key.trim();
        if let Ok(id) = key.parse::<u64>()
            && let Some(a) = self.affiliates.get(&id)
        {
            return Some(a);
        }
        self.affiliates.values().find(|a| a.name.eq_ignore_ascii_case(key) || a.email.eq_ignore_ascii_case(key))
    }

    /// The affiliate with this id, name or e-mail, or the not-found error.
    pub fn affiliate_or_404(&self, key: &str) -> Result<&Affiliate, ApiError> {
        self.find_affiliate(key).ok_or_else(|| ApiError::no_such("Affiliate", key))
    }

    /// Affiliate name for an optional id (empty when none).
    pub fn affiliate_name(&self, id: Option<u64>) -> String {
        id.and_then(|i| self.affiliates.get(&i)).map(|a| a.name.clone()).unwrap_or_default()
    }

    /// Finds a voucher by code (case-insensitive) or numeric id.
    pub fn find_voucher_id(&self, key: &str) -> Option<u64> {
        let key = key.trim();
        if let Some(v) = self.vouchers.values().find(|v| v.code.eq_ignore_ascii_case(key)) {
            return Some(v.id);
        }
        key.parse::<u64>().ok().filter(|id| self.vouchers.contains_key(id))
    }

    /// The voucher with this code (or id), or the not-found error.
    pub fn voucher_or_404(&self, key: &str) -> Result<&Voucher, ApiError> {
        self.find_voucher_id(key).and_then(|id| self.vouchers.get(&id)).ok_or_else(|| ApiError::no_such("Voucher", key))
    }

    /// Removes the voucher with this code (or id) and hands it back, or the not-found error.
    pub fn remove_voucher(&mut self, key: &str) -> Result<Voucher, ApiError> {
        let found = self.find_voucher_id(key).and_then(|id| self.vouchers.remove(&id));
        found.ok_or_else(|| ApiError::no_such("Voucher", key))
    }

    /// Gross amount already refunded for a payment transaction (positive number).
    pub fn refunded_of(&self, payment: &Transaction) -> Cents {
        self.purchase_transactions(&payment.purchase_id)
            .filter(|t| t.parent_id == Some(payment.id) && t.kind != TxKind::Payment)
            .map(|t| -t.amount)
            .sum()
    }

    /// Sum paid minus refunded/charged back for an order (gross).
    pub fn net_paid(&self, purchase_id: &str) -> Cents {
        self.purchase_transactions(purchase_id).map(|t| t.amount).sum()
    }

    /// Vendor earnings of an order so far.
    pub fn earnings(&self, purchase_id: &str) -> Cents {
        self.purchase_transactions(purchase_id).map(|t| t.vendor).sum()
    }

    /// Books a reversal (refund or chargeback) of part or all of a payment, dated
    /// `at`, splitting VAT, fee and commissions in proportion. Returns the new
    /// transaction's id.
    pub fn book_reversal(&mut self, payment_idx: usize, gross: Cents, kind: TxKind, at: NaiveDateTime, note: &str) -> u64 {
        let id = self.next_id("transaction");
        let p = self.transactions[payment_idx].clone();
        let share = |part: Cents| -> Cents {
            if p.amount == 0 { 0 } else { ((i128::from(part) * i128::from(gross)) / i128::from(p.amount)) as Cents }
        };
        let vat = share(p.vat);
        let fee = share(p.fee);
        let affiliate = share(p.affiliate);
        let vendor = gross - vat - fee - affiliate;
        self.add_transaction(Transaction {
            id,
            purchase_id: p.purchase_id.clone(),
            kind,
            created_at: at,
            currency: p.currency.clone(),
            amount: -gross,
            vat: -vat,
            fee: -fee,
            affiliate: -affiliate,
            vendor: -vendor,
            pay_method: p.pay_method.clone(),
            pay_sequence_no: p.pay_sequence_no,
            parent_id: Some(p.id),
            product_id: p.product_id,
            buyer_id: p.buyer_id,
            affiliate_id: p.affiliate_id,
            is_test: p.is_test,
            note: note.to_string(),
        });
        id
    }
}

/// Splits a gross payment into VAT, fee, affiliate commission and vendor share.
/// Fee: 7.9 % + 1.00 of the gross amount; commission: `commission_rate` percent
/// (hundredths) of the net amount after fee, plus a fixed part.
pub fn split_payment(gross: Cents, vat_rate: Cents, commission_rate: Option<Cents>, commission_fix: Cents) -> (Cents, Cents, Cents, Cents) {
    if gross == 0 {
        return (0, 0, 0, 0);
    }
    let netto = (i128::from(gross) * 10_000 / (10_000 + i128::from(vat_rate))) as Cents;
    let vat = gross - netto;
    let fee = (gross * 79 / 1000 + 100).min(netto);
    let base = netto - fee;
    let affiliate = match commission_rate {
        Some(rate) => ((base * rate / 10_000) + commission_fix).clamp(0, base),
        None => 0,
    };
    (vat, fee, affiliate, base - affiliate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_split_adds_up() {
        let (vat, fee, aff, vendor) = split_payment(11_900, 1_900, Some(5_000), 0);
        assert_eq!(vat, 1_900);
        assert_eq!(fee, 11_900 * 79 / 1000 + 100);
        assert_eq!(vat + fee + aff + vendor, 11_900);
        assert_eq!(aff, (10_000 - fee) / 2);
        let (_, _, aff0, v0) = split_payment(4_700, 0, None, 0);
        assert_eq!(aff0, 0);
        assert!(v0 > 0);
        assert_eq!(split_payment(0, 1_900, Some(5_000), 0), (0, 0, 0, 0));
    }

    #[test]
    fn billing_types() {
        assert_eq!(billing_type(1), "single_payment");
        assert_eq!(billing_type(0), "subscription");
        assert_eq!(billing_type(6), "installment");
    }
}
