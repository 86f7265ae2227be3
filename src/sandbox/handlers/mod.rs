//! One handler per Digistore24 function, grouped by toolset, and the table that
//! finds them by name.
//!
//! Owns: [`Handler`] (read handlers get `&Account`, write handlers `&mut Account`),
//! [`lookup`], the call context [`Ctx`] and small helpers every handler module
//! shares (pagination, URL checks). Must not touch: HTTP, authentication, the
//! catalogue's argument checks (done before a handler runs), other accounts.

pub mod account;
pub mod affiliates;
pub mod billing;
pub mod buyers;
pub mod commerce;
pub mod fulfilment;
pub mod products;
pub mod purchases;
pub mod stats;
pub mod transactions;
pub mod views;

use super::args::Args;
use super::error::ApiError;
use super::model::Account;
use chrono::NaiveDateTime;
use serde_json::{Map, Value, json};

/// What a handler answers: the `data` payload, or an error.
pub type Res = Result<Value, ApiError>;

/// The access level of an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read access only.
    ReadOnly,
    /// Full access.
    Writable,
}

/// Facts about the current call a handler may use.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// Server time of the call.
    pub now: NaiveDateTime,
    /// The API key used.
    pub key: &'a str,
    /// Its access level.
    pub access: Access,
}

/// A function's implementation. Read handlers run under a shared lock, write
/// handlers under the account's exclusive lock.
#[derive(Clone, Copy)]
pub enum Handler {
    /// Only looks at the account.
    Read(fn(&Account, Args<'_>, &Ctx<'_>) -> Res),
    /// May change the account.
    Write(fn(&mut Account, Args<'_>, &Ctx<'_>) -> Res),
}

/// Finds the implementation of a Digistore24 function by its exact name.
pub fn lookup(name: &str) -> Option<Handler> {
    use Handler::{Read as R, Write as W};
    let h = match name {
        // purchases
        "getPurchase" => R(purchases::get_purchase),
        "listPurchases" => R(purchases::list_purchases),
        "listPurchasesOfEmail" => R(purchases::list_purchases_of_email),
        "getPurchaseDownloads" => R(purchases::get_purchase_downloads),
        "getPurchaseTracking" => R(purchases::get_purchase_tracking),
        "updatePurchase" => W(purchases::update_purchase),
        "addBalanceToPurchase" => W(purchases::add_balance_to_purchase),
        "refundPurchase" => W(purchases::refund_purchase),
        "refundPartially" => W(purchases::refund_partially),
        "resendPurchaseConfirmationMail" => W(purchases::resend_purchase_confirmation_mail),
        "createAddonChangePurchase" => W(purchases::create_addon_change_purchase),
        "logMemberAccess" => W(purchases::log_member_access),
        // billing
        "createBillingOnDemand" => W(billing::create_billing_on_demand),
        "createRebillingPayment" => W(billing::create_rebilling_payment),
        "startRebilling" => W(billing::start_rebilling),
        "stopRebilling" => W(billing::stop_rebilling),
        "listRebillingStatusChanges" => R(billing::list_rebilling_status_changes),
        // transactions and payouts
        "listTransactions" => R(transactions::list_transactions),
        "refundTransaction" => W(transactions::refund_transaction),
        "reportFraud" => W(transactions::report_fraud),
        "listCommissions" => R(transactions::list_commissions),
        "listPayouts" => R(transactions::list_payouts),
        // products, groups, upsells, payment plans
        "listProducts" => R(products::list_products),
        "getProduct" => R(products::get_product),
        "createProduct" => W(products::create_product),
        "updateProduct" => W(products::update_product),
        "copyProduct" => W(products::copy_product),
        "deleteProduct" => W(products::delete_product),
        "listProductTypes" => R(products::list_product_types),
        "listProductGroups" => R(products::list_product_groups),
        "getProductGroup" => R(products::get_product_group),
        "createProductGroup" => W(products::create_product_group),
        "updateProductGroup" => W(products::update_product_group),
        "deleteProductGroup" => W(products::delete_product_group),
        "getUpsells" => R(products::get_upsells),
        "updateUpsells" => W(products::update_upsells),
        "deleteUpsells" => W(products::delete_upsells),
        "listPaymentPlans" => R(products::list_payment_plans),
        "createPaymentplan" => W(products::create_paymentplan),
        "updatePaymentplan" => W(products::update_paymentplan),
        "deletePaymentplan" => W(products::delete_paymentplan),
        // buy urls, vouchers, order forms, upgrades, conversion tools, shipping
        "createBuyUrl" => W(commerce::create_buy_url),
        "listBuyUrls" => R(commerce::list_buy_urls),
        "deleteBuyUrl" => W(commerce::delete_buy_url),
        "listVouchers" => R(commerce::list_vouchers),
        "getVoucher" => R(commerce::get_voucher),
        "createVoucher" => W(commerce::create_voucher),
        "updateVoucher" => W(commerce::update_voucher),
        "deleteVoucher" => W(commerce::delete_voucher),
        "validateCouponCode" => R(commerce::validate_coupon_code),
        "listOrderforms" => R(commerce::list_orderforms),
        "getOrderform" => R(commerce::get_orderform),
        "getOrderformMetas" => R(commerce::get_orderform_metas),
        "createOrderform" => W(commerce::create_orderform),
        "updateOrderform" => W(commerce::update_orderform),
        "deleteOrderform" => W(commerce::delete_orderform),
        "listUpgrades" => R(commerce::list_upgrades),
        "getUpgrade" => R(commerce::get_upgrade),
        "createUpgrade" => W(commerce::create_upgrade),
        "deleteUpgrade" => W(commerce::delete_upgrade),
        "createUpgradePurchase" => W(commerce::create_upgrade_purchase),
        "listConversionTools" => R(commerce::list_conversion_tools),
        "listSmartUpgrades" => R(commerce::list_smart_upgrades),
        "getSmartupgrade" => R(commerce::get_smartupgrade),
        "listShippingCostPolicies" => R(commerce::list_shipping_cost_policies),
        "getShippingCostPolicy" => R(commerce::get_shipping_cost_policy),
        "createShippingCostPolicy" => W(commerce::create_shipping_cost_policy),
        "updateShippingCostPolicy" => W(commerce::update_shipping_cost_policy),
        "deleteShippingCostPolicy" => W(commerce::delete_shipping_cost_policy),
        // buyers
        "getBuyer" => R(buyers::get_buyer),
        "listBuyers" => R(buyers::list_buyers),
        "updateBuyer" => W(buyers::update_buyer),
        // affiliates
        "getAffiliateCommission" => R(affiliates::get_affiliate_commission),
        "updateAffiliateCommission" => W(affiliates::update_affiliate_commission),
        "getAffiliateForEmail" => R(affiliates::get_affiliate_for_email),
        "setAffiliateForEmail" => W(affiliates::set_affiliate_for_email),
        "getReferringAffiliate" => R(affiliates::get_referring_affiliate),
        "setReferringAffiliate" => W(affiliates::set_referring_affiliate),
        "validateAffiliate" => R(affiliates::validate_affiliate),
        "getCustomerToAffiliateBuyerDetails" => R(affiliates::get_customer_to_affiliate_buyer_details),
        "renderJsTrackingCode" => R(affiliates::render_js_tracking_code),
        // deliveries, e-tickets, images, invoices, service proofs, custom forms, licenses
        "listDeliveries" => R(fulfilment::list_deliveries),
        "getDelivery" => W(fulfilment::get_delivery),
        "updateDelivery" => W(fulfilment::update_delivery),
        "listEtickets" => R(fulfilment::list_etickets),
        "getEticket" => R(fulfilment::get_eticket),
        "createEticket" => W(fulfilment::create_eticket),
        "validateEticket" => W(fulfilment::validate_eticket),
        "getEticketSettings" => R(fulfilment::get_eticket_settings),
        "listEticketLocations" => R(fulfilment::list_eticket_locations),
        "listEticketTemplates" => R(fulfilment::list_eticket_templates),
        "listImages" => R(fulfilment::list_images),
        "getImage" => R(fulfilment::get_image),
        "createImage" => W(fulfilment::create_image),
        "deleteImage" => W(fulfilment::delete_image),
        "listInvoices" => R(fulfilment::list_invoices),
        "resendInvoiceMail" => W(fulfilment::resend_invoice_mail),
        "listServiceProofRequests" => R(fulfilment::list_service_proof_requests),
        "getServiceProofRequest" => R(fulfilment::get_service_proof_request),
        "updateServiceProofRequest" => W(fulfilment::update_service_proof_request),
        "listCustomFormRecords" => R(fulfilment::list_custom_form_records),
        "validateLicenseKey" => R(fulfilment::validate_license_key),
        // statistics and marketplace
        "statsSales" => R(stats::stats_sales),
        "statsSalesSummary" => R(stats::stats_sales_summary),
        "statsDailyAmounts" => R(stats::stats_daily_amounts),
        "statsAffiliateToplist" => R(stats::stats_affiliate_toplist),
        "statsExpectedPayouts" => R(stats::stats_expected_payouts),
        "statsMarketplace" => R(stats::stats_marketplace),
        "listMarketplaceEntries" => R(stats::list_marketplace_entries),
        "getMarketplaceEntry" => R(stats::get_marketplace_entry),
        // ipn, api keys, account, system
        "ipnSetup" => W(account::ipn_setup),
        "ipnInfo" => R(account::ipn_info),
        "ipnDelete" => W(account::ipn_delete),
        "requestApiKey" => W(account::request_api_key),
        "retrieveApiKey" => W(account::retrieve_api_key),
        "unregister" => W(account::unregister),
        "getUserInfo" => R(account::get_user_info),
        "listAccountAccess" => R(account::list_account_access),
        "getTestpayKey" => W(account::get_testpay_key),
        "ping" => R(account::ping),
        "getGlobalSettings" => R(account::get_global_settings),
        "listCountries" => R(account::list_countries),
        "listCurrencies" => R(account::list_currencies),
        _ => return None,
    };
    Some(h)
}

/// Reads functions that nevertheless need a key with full access.
pub const FULL_ACCESS_READS: &[&str] = &["getUpsells", "getCustomerToAffiliateBuyerDetails"];

/// Page geometry of a list answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1-based page number asked for.
    pub page_no: usize,
    /// Items per page (0 = all on one page).
    pub page_size: usize,
    /// Pages in total.
    pub page_count: usize,
    /// Items in total (after filters).
    pub item_count: usize,
}

impl Page {
    /// Reads `page_no`/`page_size` (with defaults and an upper limit) for `item_count` items.
    /// `page_size` 0 means "everything" only where `zero_means_all` is set.
    pub fn from_args(
        args: Args<'_>,
        item_count: usize,
        default_size: usize,
        max_size: usize,
        zero_means_all: bool,
    ) -> Result<Page, ApiError> {
        let page_no = args.int("page_no")?.unwrap_or(1);
        if page_no < 1 {
            return Err(ApiError::params(format!("Argument page_no must be at least 1, got {page_no}")));
        }
        let size = args.int("page_size")?.unwrap_or(default_size as i64);
        if size < 0 || (size == 0 && !zero_means_all) {
            return Err(ApiError::params(format!("Argument page_size must be at least 1, got {size}")));
        }
        let page_size = (size as usize).min(max_size);
        Ok(Page::new(page_no as usize, page_size, item_count))
    }

    /// Page geometry for explicit values.
    pub fn new(page_no: usize, page_size: usize, item_count: usize) -> Page {
        let page_count = if page_size == 0 { usize::from(item_count > 0) } else { item_count.div_ceil(page_size) };
        Page { page_no, page_size, page_count, item_count }
    }

    /// The index range of this page within the filtered list.
    pub fn range(&self) -> std::ops::Range<usize> {
        if self.page_size == 0 {
            return if self.page_no == 1 { 0..self.item_count } else { 0..0 };
        }
        let start = (self.page_no - 1).saturating_mul(self.page_size).min(self.item_count);
        let end = start.saturating_add(self.page_size).min(self.item_count);
        start..end
    }

    /// Writes `page_no`, `page_size`, `page_count`, `item_count` into an answer.
    pub fn write(&self, data: &mut Map<String, Value>) {
        data.insert("page_no".into(), json!(self.page_no));
        data.insert("page_size".into(), json!(self.page_size));
        data.insert("page_count".into(), json!(self.page_count));
        data.insert("item_count".into(), json!(self.item_count));
    }
}

/// Refuses URLs Digistore24 would refuse: only public `https://` addresses.
pub fn check_public_https(label: &str, url: &str) -> Result<(), ApiError> {
    let bad = || {
        ApiError::params(format!(
            "Argument {label} must be a public https:// URL (http, localhost and private addresses are refused), got '{url}'"
        ))
    };
    let rest = url.strip_prefix("https://").ok_or_else(bad)?;
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = host_port.rsplit('@').next().unwrap_or(host_port);
    let host = if host_port.starts_with('[') {
        host_port.split(']').next().unwrap_or("").trim_start_matches('[').to_string()
    } else {
        host_port.split(':').next().unwrap_or("").to_ascii_lowercase()
    };
    if host.is_empty() || !host.contains(['.', ':']) {
        return Err(bad());
    }
    if host == "localhost" || host.ends_with(".localhost") || host.ends_with(".local") || host.ends_with(".internal") {
        return Err(bad());
    }
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        let private = match ip {
            std::net::IpAddr::V4(v4) => {
                v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast()
            }
            std::net::IpAddr::V6(v6) => {
                v6.is_loopback() || v6.is_unspecified() || (v6.segments()[0] & 0xfe00) == 0xfc00 || (v6.segments()[0] & 0xffc0) == 0xfe80
            }
        };
        if private {
            return Err(bad());
        }
    }
    Ok(())
}

/// Checks an optional URL argument with [`check_public_https`].
pub fn check_url_arg(args: Args<'_>, name: &str) -> Result<Option<String>, ApiError> {
    match args.str(name) {
        None => Ok(None),
        Some(u) => {
            check_public_https(&args.label(name), u)?;
            Ok(Some(u.to_string()))
        }
    }
}

/// Case-insensitive "contains" used by the text search filters.
pub fn contains_ci(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

/// Parses a comma list of numeric ids; text that is no id is kept out (it matches nothing).
pub fn id_list(parts: &[&str]) -> Vec<u64> {
    parts.iter().filter_map(|p| p.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::args::Args;

    #[test]
    fn paging_covers_everything_once() {
        for (count, size) in [(0usize, 10usize), (1, 10), (10, 10), (11, 10), (400, 7), (5, 0)] {
            let first = Page::new(1, size, count);
            let mut seen = 0;
            for no in 1..=first.page_count.max(1) {
                seen += Page::new(no, size, count).range().len();
            }
            assert_eq!(seen, count, "count {count} size {size}");
            assert!(Page::new(first.page_count + 1, size, count).range().is_empty());
        }
        assert_eq!(Page::new(1, 10, 0).page_count, 0);
        assert_eq!(Page::new(1, 10, 25).page_count, 3);
    }

    #[test]
    fn paging_arguments() {
        let v = json!({"page_no":"2","page_size":"5000"});
        let p = Page::from_args(Args::new(v.as_object().unwrap()), 3000, 500, 1000, false).unwrap();
        assert_eq!((p.page_no, p.page_size, p.page_count), (2, 1000, 3));
        let v = json!({"page_no":"0"});
        assert!(Page::from_args(Args::new(v.as_object().unwrap()), 10, 500, 1000, false).is_err());
        let v = json!({"page_size":"0"});
        assert!(Page::from_args(Args::new(v.as_object().unwrap()), 10, 500, 1000, false).is_err());
        assert_eq!(Page::from_args(Args::new(v.as_object().unwrap()), 10, 0, 1000, true).unwrap().range(), 0..10);
    }

    #[test]
    fn public_https_only() {
        assert!(check_public_https("u", "https://example.com/ipn").is_ok());
        assert!(check_public_https("u", "https://shop.example.com:8443/x?y=1").is_ok());
        for bad in [
            "http://example.com",
            "https://localhost/x",
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://192.168.0.1",
            "https://intranet/",
            "ftp://x.com",
            "https://[::1]/",
        ] {
            assert!(check_public_https("u", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_catalogue_function_has_a_handler() {
        for f in crate::catalog::FUNCTIONS {
            assert!(lookup(f.name).is_some(), "no sandbox handler for {}", f.name);
        }
    }
}
