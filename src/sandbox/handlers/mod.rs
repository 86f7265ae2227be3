//! One handler per Digistore24 function, one file per catalogue toolset
//! (`vouchers.rs` holds the `vouchers` toolset), and the table that finds them
//! by name.
//!
//! Owns: [`Handler`] (read handlers get `&Account`, write handlers `&mut Account`),
//! [`lookup`] and which reads need full access. `common` holds what every
//! handler file shares. Must not touch: HTTP, authentication, the catalogue's
//! argument checks (done before a handler runs), other accounts.

pub mod common;

pub mod account;
pub mod affiliates;
pub mod api_keys;
pub mod billing;
pub mod buy_urls;
pub mod buyers;
pub mod conversion_tools;
pub mod custom_forms;
pub mod deliveries;
pub mod etickets;
pub mod images;
pub mod invoices;
pub mod ipn;
pub mod licenses;
pub mod marketplace;
pub mod orderforms;
pub mod payment_plans;
pub mod payouts;
pub mod product_groups;
pub mod products;
pub mod purchases;
pub mod service_proofs;
pub mod shipping;
pub mod stats;
pub mod system;
pub mod transactions;
pub mod upgrades;
pub mod upsells;
pub mod vouchers;

pub use common::{Ctx, Res};

use crate::sandbox::args::Args;
use crate::sandbox::model::Account;

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
        "listCommissions" => R(payouts::list_commissions),
        "listPayouts" => R(payouts::list_payouts),
        // products, groups, upsells, payment plans
        "listProducts" => R(products::list_products),
        "getProduct" => R(products::get_product),
        "createProduct" => W(products::create_product),
        "updateProduct" => W(products::update_product),
        "copyProduct" => W(products::copy_product),
        "deleteProduct" => W(products::delete_product),
        "listProductTypes" => R(products::list_product_types),
        "listProductGroups" => R(product_groups::list_product_groups),
        "getProductGroup" => R(product_groups::get_product_group),
        "createProductGroup" => W(product_groups::create_product_group),
        "updateProductGroup" => W(product_groups::update_product_group),
        "deleteProductGroup" => W(product_groups::delete_product_group),
        "getUpsells" => R(upsells::get_upsells),
        "updateUpsells" => W(upsells::update_upsells),
        "deleteUpsells" => W(upsells::delete_upsells),
        "listPaymentPlans" => R(payment_plans::list_payment_plans),
        "createPaymentplan" => W(payment_plans::create_paymentplan),
        "updatePaymentplan" => W(payment_plans::update_paymentplan),
        "deletePaymentplan" => W(payment_plans::delete_paymentplan),
        // buy urls, vouchers, order forms, upgrades, conversion tools, shipping
        "createBuyUrl" => W(buy_urls::create_buy_url),
        "listBuyUrls" => R(buy_urls::list_buy_urls),
        "deleteBuyUrl" => W(buy_urls::delete_buy_url),
        "listVouchers" => R(vouchers::list_vouchers),
        "getVoucher" => R(vouchers::get_voucher),
        "createVoucher" => W(vouchers::create_voucher),
        "updateVoucher" => W(vouchers::update_voucher),
        "deleteVoucher" => W(vouchers::delete_voucher),
        "validateCouponCode" => R(vouchers::validate_coupon_code),
        "listOrderforms" => R(orderforms::list_orderforms),
        "getOrderform" => R(orderforms::get_orderform),
        "getOrderformMetas" => R(orderforms::get_orderform_metas),
        "createOrderform" => W(orderforms::create_orderform),
        "updateOrderform" => W(orderforms::update_orderform),
        "deleteOrderform" => W(orderforms::delete_orderform),
        "listUpgrades" => R(upgrades::list_upgrades),
        "getUpgrade" => R(upgrades::get_upgrade),
        "createUpgrade" => W(upgrades::create_upgrade),
        "deleteUpgrade" => W(upgrades::delete_upgrade),
        "createUpgradePurchase" => W(upgrades::create_upgrade_purchase),
        "listConversionTools" => R(conversion_tools::list_conversion_tools),
        "listSmartUpgrades" => R(conversion_tools::list_smart_upgrades),
        "getSmartupgrade" => R(conversion_tools::get_smartupgrade),
        "listShippingCostPolicies" => R(shipping::list_shipping_cost_policies),
        "getShippingCostPolicy" => R(shipping::get_shipping_cost_policy),
        "createShippingCostPolicy" => W(shipping::create_shipping_cost_policy),
        "updateShippingCostPolicy" => W(shipping::update_shipping_cost_policy),
        "deleteShippingCostPolicy" => W(shipping::delete_shipping_cost_policy),
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
        "listDeliveries" => R(deliveries::list_deliveries),
        "getDelivery" => W(deliveries::get_delivery),
        "updateDelivery" => W(deliveries::update_delivery),
        "listEtickets" => R(etickets::list_etickets),
        "getEticket" => R(etickets::get_eticket),
        "createEticket" => W(etickets::create_eticket),
        "validateEticket" => W(etickets::validate_eticket),
        "getEticketSettings" => R(etickets::get_eticket_settings),
        "listEticketLocations" => R(etickets::list_eticket_locations),
        "listEticketTemplates" => R(etickets::list_eticket_templates),
        "listImages" => R(images::list_images),
        "getImage" => R(images::get_image),
        "createImage" => W(images::create_image),
        "deleteImage" => W(images::delete_image),
        "listInvoices" => R(invoices::list_invoices),
        "resendInvoiceMail" => W(invoices::resend_invoice_mail),
        "listServiceProofRequests" => R(service_proofs::list_service_proof_requests),
        "getServiceProofRequest" => R(service_proofs::get_service_proof_request),
        "updateServiceProofRequest" => W(service_proofs::update_service_proof_request),
        "listCustomFormRecords" => R(custom_forms::list_custom_form_records),
        "validateLicenseKey" => R(licenses::validate_license_key),
        // statistics and marketplace
        "statsSales" => R(stats::stats_sales),
        "statsSalesSummary" => R(stats::stats_sales_summary),
        "statsDailyAmounts" => R(stats::stats_daily_amounts),
        "statsAffiliateToplist" => R(stats::stats_affiliate_toplist),
        "statsExpectedPayouts" => R(stats::stats_expected_payouts),
        "statsMarketplace" => R(stats::stats_marketplace),
        "listMarketplaceEntries" => R(marketplace::list_marketplace_entries),
        "getMarketplaceEntry" => R(marketplace::get_marketplace_entry),
        // ipn, api keys, account, system
        "ipnSetup" => W(ipn::ipn_setup),
        "ipnInfo" => R(ipn::ipn_info),
        "ipnDelete" => W(ipn::ipn_delete),
        "requestApiKey" => W(api_keys::request_api_key),
        "retrieveApiKey" => W(api_keys::retrieve_api_key),
        "unregister" => W(api_keys::unregister),
        "getUserInfo" => R(account::get_user_info),
        "listAccountAccess" => R(account::list_account_access),
        "getTestpayKey" => W(account::get_testpay_key),
        "ping" => R(system::ping),
        "getGlobalSettings" => R(system::get_global_settings),
        "listCountries" => R(system::list_countries),
        "listCurrencies" => R(system::list_currencies),
        _ => return None,
    };
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_function_has_a_handler() {
        for f in crate::catalog::FUNCTIONS {
            assert!(lookup(f.name).is_some(), "no sandbox handler for {}", f.name);
        }
    }
}
