//! Deterministic seeding of sandbox accounts.
//!
//! Owns: turning (seed, API key) into a complete, plausible vendor account: a
//! vendor identity, products in groups with payment plans, about 400 orders over
//! the last 12 months with their payments, refunds, chargebacks and rebilling
//! history, buyers, affiliates, vouchers, deliveries, e-tickets and the smaller
//! collections. Dates are placed relative to the process start. Must not touch:
//! HTTP, answer shapes, anything random that is not drawn from the account's
//! own ChaCha generator (so the same seed always gives the same account).

use super::args::Cents;
use super::booking::refund_purchase_state;
use super::dates::{PROCESS_START, add_months};
use super::model::*;
use super::reference::{BUYER_LOCATIONS, delivery_type, product_type_name, vat_rate};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// Number of orders seeded per account.
pub const SEED_PURCHASES: usize = 400;

enum PlanTpl {
    Single(Cents),
    Sub(Cents, Cents),
    Inst(i64, Cents),
}

struct ProductTpl {
    en: &'static str,
    de: &'static str,
    group: usize,
    ptype: u64,
    plans: &'static [PlanTpl],
    refund_days: i64,
    commission: Cents,
}

const GROUPS: &[&str] = &["Online Courses", "E-Books", "Memberships", "Coaching & Events", "Physical Products"];

const PRODUCTS: &[ProductTpl] = &[
    ProductTpl {
        en: "Yoga for Beginners",
        de: "Yoga für Anfänger",
        group: 0,
        ptype: 2,
        plans: &[PlanTpl::Single(4700)],
        refund_days: 30,
        commission: 5000,
    },
    ProductTpl {
        en: "Photography Masterclass",
        de: "Fotografie-Meisterkurs",
        group: 0,
        ptype: 2,
        plans: &[PlanTpl::Single(19700)],
        refund_days: 60,
        commission: 4000,
    },
    ProductTpl {
        en: "Python Programming Bootcamp",
        de: "Python-Programmier-Bootcamp",
        group: 0,
        ptype: 2,
        plans: &[PlanTpl::Single(29700), PlanTpl::Inst(3, 10900)],
        refund_days: 30,
        commission: 4000,
    },
    ProductTpl {
        en: "Mindful Meditation Course",
        de: "Achtsamkeits-Meditationskurs",
        group: 0,
        ptype: 2,
        plans: &[PlanTpl::Single(3700)],
        refund_days: 30,
        commission: 5000,
    },
    ProductTpl {
        en: "Excel for Business",
        de: "Excel für Profis",
        group: 0,
        ptype: 2,
        plans: &[PlanTpl::Single(9700)],
        refund_days: 30,
        commission: 4500,
    },
    ProductTpl {
        en: "Digital Marketing Blueprint",
        de: "Digital-Marketing-Blaupause",
        group: 0,
        ptype: 2,
        plans: &[PlanTpl::Single(49700), PlanTpl::Inst(6, 8900)],
        refund_days: 60,
        commission: 5000,
    },
    ProductTpl {
        en: "Guitar in 30 Days",
        de: "Gitarre in 30 Tagen",
        group: 0,
        ptype: 2,
        plans: &[PlanTpl::Single(6700)],
        refund_days: 30,
        commission: 5000,
    },
    ProductTpl {
        en: "The Keto Cookbook",
        de: "Das Keto-Kochbuch",
        group: 1,
        ptype: 1,
        plans: &[PlanTpl::Single(1900)],
        refund_days: 14,
        commission: 6000,
    },
    ProductTpl {
        en: "Smart Investing Guide",
        de: "Ratgeber Cleveres Investieren",
        group: 1,
        ptype: 1,
        plans: &[PlanTpl::Single(2700)],
        refund_days: 14,
        commission: 6000,
    },
    ProductTpl {
        en: "Productivity Hacks",
        de: "Produktivitäts-Hacks",
        group: 1,
        ptype: 1,
        plans: &[PlanTpl::Single(1700)],
        refund_days: 14,
        commission: 6000,
    },
    ProductTpl {
        en: "Home Garden Handbook",
        de: "Handbuch Hausgarten",
        group: 1,
        ptype: 1,
        plans: &[PlanTpl::Single(2200)],
        refund_days: 14,
        commission: 5000,
    },
    ProductTpl {
        en: "Travel on a Budget",
        de: "Günstig reisen",
        group: 1,
        ptype: 1,
        plans: &[PlanTpl::Single(1500)],
        refund_days: 14,
        commission: 5000,
    },
    ProductTpl {
        en: "Dog Training Secrets (Audio)",
        de: "Geheimnisse der Hundeerziehung (Hörbuch)",
        group: 1,
        ptype: 9,
        plans: &[PlanTpl::Single(2900)],
        refund_days: 14,
        commission: 5000,
    },
    ProductTpl {
        en: "Fitness Club Monthly",
        de: "Fitness-Club Monatsabo",
        group: 2,
        ptype: 3,
        plans: &[PlanTpl::Sub(100, 2900)],
        refund_days: 14,
        commission: 3000,
    },
    ProductTpl {
        en: "Copywriting Academy",
        de: "Texter-Akademie",
        group: 2,
        ptype: 3,
        plans: &[PlanTpl::Sub(4700, 4700)],
        refund_days: 14,
        commission: 4000,
    },
    ProductTpl {
        en: "Stock Signals Premium",
        de: "Börsensignale Premium",
        group: 2,
        ptype: 3,
        plans: &[PlanTpl::Sub(9700, 9700)],
        refund_days: 14,
        commission: 3000,
    },
    ProductTpl {
        en: "Language Lab Membership",
        de: "Sprachlabor-Mitgliedschaft",
        group: 2,
        ptype: 3,
        plans: &[PlanTpl::Sub(1900, 1900)],
        refund_days: 14,
        commission: 3000,
    },
    ProductTpl {
        en: "Recipe Box Club",
        de: "Rezeptbox-Club",
        group: 2,
        ptype: 3,
        plans: &[PlanTpl::Sub(900, 900)],
        refund_days: 14,
        commission: 3000,
    },
    ProductTpl {
        en: "Creator Toolkit Pro",
        de: "Creator-Toolkit Pro",
        group: 2,
        ptype: 4,
        plans: &[PlanTpl::Sub(2900, 2900)],
        refund_days: 30,
        commission: 3000,
    },
    ProductTpl {
        en: "Business Coaching (3 months)",
        de: "Business-Coaching (3 Monate)",
        group: 3,
        ptype: 5,
        plans: &[PlanTpl::Inst(3, 49700)],
        refund_days: 14,
        commission: 2000,
    },
    ProductTpl {
        en: "Mastermind Weekend Berlin",
        de: "Mastermind-Wochenende Berlin",
        group: 3,
        ptype: 6,
        plans: &[PlanTpl::Single(89700)],
        refund_days: 14,
        commission: 2000,
    },
    ProductTpl {
        en: "Online Marketing Summit Ticket",
        de: "Online-Marketing-Gipfel Ticket",
        group: 3,
        ptype: 6,
        plans: &[PlanTpl::Single(19900)],
        refund_days: 14,
        commission: 2500,
    },
    ProductTpl {
        en: "Career Coaching Package",
        de: "Karriere-Coaching-Paket",
        group: 3,
        ptype: 10,
        plans: &[PlanTpl::Inst(2, 29700)],
        refund_days: 14,
        commission: 2000,
    },
    ProductTpl {
        en: "Nutrition Coaching Program",
        de: "Ernährungscoaching-Programm",
        group: 3,
        ptype: 5,
        plans: &[PlanTpl::Inst(4, 14900)],
        refund_days: 14,
        commission: 2500,
    },
    ProductTpl {
        en: "Organic Protein Powder",
        de: "Bio-Proteinpulver",
        group: 4,
        ptype: 7,
        plans: &[PlanTpl::Single(3490), PlanTpl::Sub(3490, 2990)],
        refund_days: 30,
        commission: 1500,
    },
    ProductTpl {
        en: "Vitamin D3 Drops",
        de: "Vitamin-D3-Tropfen",
        group: 4,
        ptype: 7,
        plans: &[PlanTpl::Single(1990)],
        refund_days: 30,
        commission: 1500,
    },
    ProductTpl {
        en: "Resistance Band Set",
        de: "Fitnessbänder-Set",
        group: 4,
        ptype: 8,
        plans: &[PlanTpl::Single(2490)],
        refund_days: 30,
        commission: 1000,
    },
    ProductTpl {
        en: "Herbal Sleep Tea",
        de: "Kräuter-Schlaftee",
        group: 4,
        ptype: 7,
        plans: &[PlanTpl::Single(1290)],
        refund_days: 30,
        commission: 1500,
    },
    ProductTpl {
        en: "Collagen Capsules",
        de: "Kollagen-Kapseln",
        group: 4,
        ptype: 7,
        plans: &[PlanTpl::Single(3990), PlanTpl::Sub(3990, 3490)],
        refund_days: 30,
        commission: 1500,
    },
    ProductTpl {
        en: "Premium Yoga Mat",
        de: "Premium-Yogamatte",
        group: 4,
        ptype: 8,
        plans: &[PlanTpl::Single(5990)],
        refund_days: 30,
        commission: 1000,
    },
];

const FIRST_NAMES: &[(&str, &str)] = &[
    ("Anna", "F"),
    ("Lukas", "M"),
    ("Sophie", "F"),
    ("Jonas", "M"),
    ("Marie", "F"),
    ("Felix", "M"),
    ("Laura", "F"),
    ("Paul", "M"),
    ("Julia", "F"),
    ("Maximilian", "M"),
    ("Lea", "F"),
    ("Leon", "M"),
    ("Emma", "F"),
    ("David", "M"),
    ("Sarah", "F"),
    ("Tim", "M"),
    ("Hannah", "F"),
    ("Jan", "M"),
    ("Lisa", "F"),
    ("Michael", "M"),
    ("Emily", "F"),
    ("James", "M"),
    ("Olivia", "F"),
    ("Noah", "M"),
    ("Chloé", "F"),
    ("Luca", "M"),
    ("Giulia", "F"),
    ("Daan", "M"),
    ("Sofia", "F"),
    ("Thomas", "M"),
    ("Katharina", "F"),
    ("Stefan", "M"),
];

const LAST_NAMES: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Braun",
    "Zimmermann",
    "Hartmann",
    "Krüger",
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
    "Miller",
    "Dubois",
    "Rossi",
    "de Vries",
    "García",
    "Huber",
    "Gruber",
    "Keller",
];

const AFFILIATE_WORDS: &[&str] = &[
    "marketinghero",
    "yogafan",
    "moneycoach",
    "fitmom",
    "techreview",
    "bookworm",
    "healthyhabits",
    "traveldeals",
    "growthguru",
    "cleaneating",
    "dogwhisperer",
    "studybuddy",
    "sidehustle",
    "zenmaster",
    "gadgetgeek",
    "gardenpro",
    "affiliateking",
    "reviewqueen",
    "budgetboss",
    "musicmentor",
    "coachcarla",
    "salesninja",
    "webinarwizard",
    "promoprofi",
    "dealhunter",
];

fn mix_seed(seed: u64, key: Option<&str>) -> u64 {
    match key {
        None => seed,
        Some(k) => {
            let mut h = Sha256::new();
            h.update(seed.to_le_bytes());
            h.update(k.as_bytes());
            let d = h.finalize();
            u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
        }
    }
}

/// A short, readable label derived from an API key (`sandbox-tenant-a` → `tenant-a`).
pub fn key_label(key: &str) -> String {
    let rest = key.strip_prefix("sandbox-").unwrap_or(key);
    let mut label: String = rest
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .to_string();
    label.truncate(24);
    if label.is_empty() {
        label = hex::encode(&Sha256::digest(key.as_bytes())[..4]);
    }
    label
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn at_offset(base: NaiveDateTime, seconds: i64) -> NaiveDateTime {
    base - Duration::seconds(seconds)
}

/// Builds the account for the shared keys (`key = None`) or for one extra key.
pub fn seed_account(seed: u64, key: Option<&str>) -> Account {
    let start = *PROCESS_START;
    let mut rng = ChaCha8Rng::seed_from_u64(mix_seed(seed, key));
    let label = key.map(key_label).unwrap_or_default();
    let suffix = if label.is_empty() { String::new() } else { format!(" [{label}]") };
    let vendor = seed_vendor(&mut rng, &label);
    let counters = seed_counters(&mut rng);
    let mut a = empty_account(vendor, counters, ChaCha8Rng::seed_from_u64(rng.random()), start);
    a.testpay.key = a.new_secret(24);
    let account_created = start - Duration::days(800);
    let group_ids = seed_product_groups(&mut a, &mut rng, account_created, &suffix);
    let (product_ids, plans_of) = seed_products(&mut a, &mut rng, account_created, &label, &suffix, &group_ids);
    let affiliate_ids = seed_affiliates(&mut a, &mut rng, account_created, start, &product_ids);
    seed_purchases(&mut a, &mut rng, start, &product_ids, &plans_of, &affiliate_ids);
    seed_extras(&mut a, &mut rng, start, &product_ids, &affiliate_ids, &suffix);
    a
}

/// The vendor who owns the account: the default one, or a tenant named after the key.
fn seed_vendor(rng: &mut ChaCha8Rng, label: &str) -> Vendor {
    let user_id = rng.random_range(1_000_000..9_000_000u64);
    if label.is_empty() {
        Vendor {
            user_id,
            user_name: "sandbox_vendor".into(),
            first_name: "Sandra".into(),
            last_name: "Sandbox".into(),
            email: "vendor@sandbox.example".into(),
            company: "Sandbox Media GmbH".into(),
            language: "de".into(),
            currency: "EUR".into(),
            label: String::new(),
        }
    } else {
        let slug = label.replace('-', "_");
        Vendor {
            user_id,
            user_name: format!("sbx_{slug}"),
            first_name: "Tenant".into(),
            last_name: label.to_string(),
            email: format!("vendor+{label}@sandbox.example"),
            company: format!("Sandbox Vendor {label}"),
            language: "en".into(),
            currency: "EUR".into(),
            label: label.to_string(),
        }
    }
}

/// Where each kind of numeric id starts, at a random offset per account.
fn seed_counters(rng: &mut ChaCha8Rng) -> HashMap<&'static str, u64> {
    let mut counters: HashMap<&'static str, u64> = HashMap::new();
    let bases: &[(&'static str, u64, u64)] = &[
        ("product", 300_000, 1_000),
        ("product_group", 10_000, 50),
        ("payment_plan", 500_000, 1_000),
        ("buyer", 20_000_000, 10_000),
        ("address", 40_000_000, 10_000),
        ("item", 60_000_000, 10_000),
        ("transaction", 80_000_000, 20_000),
        ("affiliate", 1_500_000, 1_000),
        ("voucher", 2_000, 100),
        ("delivery", 6_000_000, 10_000),
        ("orderform", 30_000, 100),
        ("upgrade", 900, 100),
        ("conversion_tool", 100, 100),
        ("shipping_policy", 700, 100),
        ("eticket_location", 300, 100),
        ("eticket_template", 500, 100),
        ("buy_url", 70_000, 1_000),
        ("ipn", 4_000, 100),
        ("service_proof", 8_000, 100),
        ("custom_form", 600_000, 1_000),
        ("form", 16_000, 100),
        ("marketplace", 1_200, 100),
        ("rebill_event", 200_000, 1_000),
        ("account_access", 50, 10),
        ("eticket", 1_000_000, 10_000),
    ];
    for (kind, base, step) in bases {
        counters.insert(*kind, base + rng.random_range(0..500u64) * step);
    }
    counters
}

/// An account with its owner, id counters and test-payment key, and no records yet.
fn empty_account(vendor: Vendor, counters: HashMap<&'static str, u64>, account_rng: ChaCha8Rng, start: NaiveDateTime) -> Account {
    let testpay = TestpayKey { key: String::new(), expires_at: start + Duration::days(30) };
    Account {
        vendor,
        rng: account_rng,
        counters,
        product_groups: BTreeMap::new(),
        products: BTreeMap::new(),
        payment_plans: BTreeMap::new(),
        upsells: BTreeMap::new(),
        buyers: BTreeMap::new(),
        purchases: Vec::new(),
        purchase_index: HashMap::new(),
        transactions: Vec::new(),
        tx_index: HashMap::new(),
        tx_by_purchase: HashMap::new(),
        affiliates: BTreeMap::new(),
        affiliations: BTreeMap::new(),
        email_affiliates: BTreeMap::new(),
        vouchers: BTreeMap::new(),
        deliveries: BTreeMap::new(),
        orderforms: BTreeMap::new(),
        upgrades: BTreeMap::new(),
        conversion_tools: BTreeMap::new(),
        images: BTreeMap::new(),
        shipping_policies: BTreeMap::new(),
        eticket_locations: BTreeMap::new(),
        eticket_templates: BTreeMap::new(),
        etickets: BTreeMap::new(),
        buy_urls: BTreeMap::new(),
        ipn_connections: BTreeMap::new(),
        service_proofs: BTreeMap::new(),
        custom_forms: BTreeMap::new(),
        marketplace: BTreeMap::new(),
        rebill_events: Vec::new(),
        account_access: Vec::new(),
        key_requests: BTreeMap::new(),
        fraud_reports: Vec::new(),
        testpay,
    }
}

/// The product groups (folders).
fn seed_product_groups(a: &mut Account, rng: &mut ChaCha8Rng, account_created: NaiveDateTime, suffix: &str) -> Vec<u64> {
    let mut group_ids = Vec::new();
    for (i, g) in GROUPS.iter().enumerate() {
        let id = a.next_id("product_group");
        let created = account_created + Duration::days(i as i64 * 3);
        a.product_groups.insert(
            id,
            ProductGroup {
                id,
                name: format!("{g}{suffix}").chars().take(31).collect(),
                position: (i as i64 + 1) * 10,
                is_shown_as_tab: i < 3,
                created_at: created,
                modified_at: created + Duration::days(rng.random_range(0..200)),
            },
        );
        group_ids.push(id);
    }
    group_ids
}

/// The products, in their groups, each with its payment plans; returns the product ids and their plan ids.
fn seed_products(
    a: &mut Account,
    rng: &mut ChaCha8Rng,
    account_created: NaiveDateTime,
    label: &str,
    suffix: &str,
    group_ids: &[u64],
) -> (Vec<u64>, Vec<Vec<u64>>) {
    let mut product_ids = Vec::new();
    let mut plans_of: Vec<Vec<u64>> = Vec::new();
    for (i, t) in PRODUCTS.iter().enumerate() {
        let id = a.next_id("product");
        let created = account_created + Duration::days(10 + i as i64 * 9) + Duration::seconds(rng.random_range(0..86_400));
        let language = if rng.random_bool(0.6) { "de" } else { "en" };
        let name_en = format!("{}{suffix}", t.en);
        let name_de = format!("{}{suffix}", t.de);
        let mut names = BTreeMap::new();
        names.insert("de".to_string(), name_de.clone());
        names.insert("en".to_string(), name_en.clone());
        let mut descriptions = BTreeMap::new();
        descriptions.insert("de".to_string(), format!("<p>{name_de}: alles, was Sie wissen müssen.</p>"));
        descriptions.insert("en".to_string(), format!("<p>{name_en}: everything you need to know.</p>"));
        let mut approval = BTreeMap::new();
        approval.insert(1u8, if rng.random_bool(0.7) { "approved" } else { "pending" }.to_string());
        approval.insert(2u8, pick(rng, &["approved", "new", "pending"]).to_string());
        approval.insert(3u8, "new".to_string());
        approval.insert(4u8, "new".to_string());
        let slug: String = t.en.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        let downloads = match delivery_type(t.ptype) {
            "digital" => vec![
                (format!("{slug}.pdf"), rng.random_range(200_000..30_000_000u64)),
                (format!("{slug}-bonus.zip"), rng.random_range(1_000_000..90_000_000u64)),
            ],
            _ => Vec::new(),
        };
        let product = Product {
            id,
            name: if language == "de" { name_de.clone() } else { name_en.clone() },
            name_intern: format!(
                "{}{}",
                slug.chars().take(40).collect::<String>(),
                if label.is_empty() { String::new() } else { format!("-{label}") }
            ),
            names,
            descriptions,
            note: String::new(),
            tag: String::new(),
            language: language.into(),
            product_group_id: Some(group_ids[t.group]),
            product_type_id: t.ptype,
            currency: "EUR,USD,CHF".into(),
            salespage_url: format!("https://www.sandbox-shop.example/{slug}"),
            upsell_salespage_url: String::new(),
            thankyou_url: format!("https://www.sandbox-shop.example/{slug}/thank-you"),
            image_url: String::new(),
            approval,
            affiliate_commission: t.commission,
            affiliate_commission_fix: 0,
            buyer_type: "consumer".into(),
            is_address_input_mandatory: delivery_type(t.ptype) == "shipping",
            add_order_data_to_thankyou_page_url: false,
            is_active: i != 11,
            is_deleted: false,
            default_quantity: 1,
            max_quantity: if delivery_type(t.ptype) == "shipping" { 10 } else { 1 },
            refund_days: t.refund_days,
            downloads,
            created_at: created,
            modified_at: created + Duration::days(rng.random_range(0..300)),
        };
        a.products.insert(id, product);
        product_ids.push(id);
        plans_of.push(seed_payment_plans(a, t, i, id, created));
    }
    (product_ids, plans_of)
}

/// The payment plans of the `i`-th product template, stored as product `product_id`.
fn seed_payment_plans(a: &mut Account, t: &ProductTpl, i: usize, product_id: u64, created: NaiveDateTime) -> Vec<u64> {
    let mut plan_ids = Vec::new();
    for (pos, p) in t.plans.iter().enumerate() {
        let pid = a.next_id("payment_plan");
        let (first, other, n) = match p {
            PlanTpl::Single(x) => (*x, 0, 1),
            PlanTpl::Sub(f, o) => (*f, *o, 0),
            PlanTpl::Inst(n, x) => (*x, *x, *n),
        };
        a.payment_plans.insert(
            pid,
            PaymentPlan {
                id: pid,
                product_id,
                first_amount: first,
                other_amounts: other,
                currency: "EUR".into(),
                first_billing_interval: if n == 1 { String::new() } else { "1_month".into() },
                other_billing_intervals: if n == 1 { String::new() } else { "1_month".into() },
                number_of_installments: n,
                is_active: true,
                cancel_policy: if n == 0 && t.ptype == 3 && i == 15 { "12m_0".into() } else { String::new() },
                position: (pos as i64 + 1) * 10,
                is_switching_allowed: false,
                created_at: created,
                modified_at: created,
            },
        );
        plan_ids.push(pid);
    }
    plan_ids
}

/// The affiliates, their affiliations with products and a few referral relations.
fn seed_affiliates(
    a: &mut Account,
    rng: &mut ChaCha8Rng,
    account_created: NaiveDateTime,
    start: NaiveDateTime,
    product_ids: &[u64],
) -> Vec<u64> {
    let mut affiliate_ids = Vec::new();
    for (i, w) in AFFILIATE_WORDS.iter().enumerate() {
        let id = a.next_id("affiliate");
        let name = if rng.random_bool(0.5) { format!("{w}{}", rng.random_range(1..99)) } else { w.to_string() };
        let (first, _) = *pick(rng, FIRST_NAMES);
        let last = *pick(rng, LAST_NAMES);
        a.affiliates.insert(
            id,
            Affiliate {
                id,
                email: format!("{name}@partner.example"),
                name,
                first_name: first.into(),
                last_name: last.into(),
                created_at: account_created + Duration::days(30 + i as i64 * 20),
                referrer: None,
            },
        );
        affiliate_ids.push(id);
        // Affiliations with a handful of products.
        for _ in 0..rng.random_range(3..8) {
            let pid = *pick(rng, product_ids);
            let status = *pick(rng, &["approved", "approved", "approved", "pending", "new", "rejected"]);
            let created = account_created + Duration::days(60 + rng.random_range(0..600));
            a.affiliations.insert(
                (id, pid),
                Affiliation {
                    commission_rate: if rng.random_bool(0.3) { Some(rng.random_range(20..70) * 100) } else { None },
                    commission_fix: None,
                    commission_currency: "EUR".into(),
                    approval_status: status.into(),
                    created_at: created,
                    modified_at: created,
                },
            );
        }
    }
    for i in 0..4 {
        let aff = affiliate_ids[i + 5];
        let referrer_id = affiliate_ids[i];
        let at = start - Duration::days(rng.random_range(30..300));
        let user = a.vendor.user_id;
        if let Some(af) = a.affiliates.get_mut(&aff) {
            af.referrer = Some(Referral { referrer_id, commission: rng.random_range(5..25) * 100, created_at: at, created_by: user });
        }
    }
    affiliate_ids
}

/// The orders, in time order; buyers are created with their first order.
fn seed_purchases(
    a: &mut Account,
    rng: &mut ChaCha8Rng,
    start: NaiveDateTime,
    product_ids: &[u64],
    plans_of: &[Vec<u64>],
    affiliate_ids: &[u64],
) {
    let mut times: Vec<i64> =
        (0..SEED_PURCHASES).map(|i| if i < 6 { rng.random_range(600..20 * 3600) } else { rng.random_range(3600..365 * 86_400) }).collect();
    times.sort_unstable_by(|x, y| y.cmp(x));
    let country_total: u32 = BUYER_LOCATIONS.iter().map(|c| c.1).sum();
    let mut buyer_ids: Vec<u64> = Vec::new();
    for secs in times {
        let created_at = at_offset(start, secs);
        let buyer_id = if buyer_ids.is_empty() || rng.random_bool(0.65) {
            let id = seed_buyer(a, rng, created_at, country_total);
            buyer_ids.push(id);
            id
        } else {
            *pick(rng, &buyer_ids)
        };
        let pidx = rng.random_range(0..PRODUCTS.len());
        let plan_id = *pick(rng, &plans_of[pidx]);
        seed_purchase(a, rng, start, created_at, buyer_id, product_ids[pidx], plan_id, affiliate_ids);
    }
}

/// A new buyer, placed in a country drawn by weight, first seen at `created_at`.
fn seed_buyer(a: &mut Account, rng: &mut ChaCha8Rng, created_at: NaiveDateTime, country_total: u32) -> u64 {
    let mut roll = rng.random_range(0..country_total);
    let mut country = &BUYER_LOCATIONS[0];
    for c in BUYER_LOCATIONS {
        if roll < c.1 {
            country = c;
            break;
        }
        roll -= c.1;
    }
    let (first, sal) = *pick(rng, FIRST_NAMES);
    let last = *pick(rng, LAST_NAMES);
    let (city, zip) = *pick(rng, country.2);
    let street = *pick(rng, country.3);
    let id = a.next_id("buyer");
    let address_id = a.next_id("address");
    let mailbox: String = format!("{}.{}", first, last)
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'ä' => 'a',
            'ö' => 'o',
            'ü' => 'u',
            'é' => 'e',
            'í' => 'i',
            c if c.is_ascii_alphanumeric() || c == '.' => c,
            _ => '-',
        })
        .collect();
    let domain = pick(rng, &["example.com", "mail.example", "example.org", "web.example"]);
    let email = format!("{mailbox}{}@{domain}", id % 1000);
    a.buyers.insert(
        id,
        Buyer {
            id,
            address_id,
            created_at,
            email,
            first_name: first.into(),
            last_name: last.into(),
            salutation: sal.into(),
            title: if rng.random_bool(0.05) { "Dr.".into() } else { String::new() },
            company: if rng.random_bool(0.1) { format!("{last} Consulting") } else { String::new() },
            street_name: street.into(),
            street_number: rng.random_range(1..180).to_string(),
            street2: String::new(),
            zipcode: zip.into(),
            city: city.into(),
            state: if country.0 == "US" { "NY".into() } else { String::new() },
            country: country.0.into(),
            phone_no: if rng.random_bool(0.4) { format!("+49 30 {}", rng.random_range(1_000_000..9_999_999)) } else { String::new() },
            language: if ["DE", "AT", "CH"].contains(&country.0) { "de".into() } else { "en".into() },
        },
    );
    id
}

#[allow(clippy::too_many_arguments)]
fn seed_purchase(
    a: &mut Account,
    rng: &mut ChaCha8Rng,
    start: NaiveDateTime,
    created_at: NaiveDateTime,
    buyer_id: u64,
    product_id: u64,
    plan_id: u64,
    affiliate_ids: &[u64],
) {
    let plan = a.payment_plans[&plan_id].clone();
    let product = a.products[&product_id].clone();
    let buyer = a.buyers[&buyer_id].clone();
    let is_shipping = delivery_type(product.product_type_id) == "shipping";
    let quantity: i64 = if is_shipping { rng.random_range(1..4) } else { 1 };
    let currency = match buyer.country.as_str() {
        "US" => "USD",
        "CH" => "CHF",
        _ => "EUR",
    };
    let is_test = rng.random_bool(0.03);
    let recurring = plan.number_of_installments != 1;
    let pay_method = if is_test {
        "test"
    } else if recurring {
        *pick(rng, &["creditcard", "paypal", "elv"])
    } else {
        *pick(rng, &["creditcard", "creditcard", "paypal", "paypal", "elv", "sofort", "applepay", "banktransfer"])
    };
    let affiliate_id = if rng.random_bool(0.4) { Some(*pick(rng, affiliate_ids)) } else { None };
    let commission_rate = affiliate_id
        .map(|aff| a.affiliations.get(&(aff, product_id)).and_then(|s| s.commission_rate).unwrap_or(product.affiliate_commission));
    let id = a.new_purchase_id();
    let item_id = a.next_id("item");
    let uses_voucher = rng.random_bool(0.08);
    // WELCOME10: 10 % off the first payment.
    let first = if uses_voucher { plan.first_amount * quantity * 90 / 100 } else { plan.first_amount * quantity };
    let other = plan.other_amounts * quantity;
    let vat = vat_rate(&buyer.country);
    let mut utm = BTreeMap::new();
    if rng.random_bool(0.3) {
        utm.insert("utm_source".to_string(), pick(rng, &["facebook", "google", "newsletter", "youtube"]).to_string());
        utm.insert("utm_medium".to_string(), pick(rng, &["cpc", "email", "social"]).to_string());
        utm.insert("utm_campaign".to_string(), pick(rng, &["spring-launch", "evergreen", "black-friday"]).to_string());
    }
    let mut p = Purchase {
        id: id.clone(),
        created_at,
        buyer_id,
        items: vec![PurchaseItem { id: item_id, product_id, quantity, first_amount: first, other_amounts: other }],
        payment_plan_id: Some(plan_id),
        currency: currency.into(),
        first_amount: first,
        other_amounts: other,
        number_of_installments: plan.number_of_installments,
        first_billing_interval: plan.first_billing_interval.clone(),
        other_billing_intervals: plan.other_billing_intervals.clone(),
        vat_rate: vat,
        country: buyer.country.clone(),
        pay_method: pay_method.into(),
        is_test,
        order_type: "regular".into(),
        affiliate_id,
        campaignkey: if affiliate_id.is_some() && rng.random_bool(0.5) {
            pick(rng, &["fb-ads", "newsletter", "yt-review", "blog"]).to_string()
        } else {
            String::new()
        },
        trackingkey: if rng.random_bool(0.2) { pick(rng, &["summer-sale", "retarget", "webinar"]).to_string() } else { String::new() },
        custom: if rng.random_bool(0.1) { format!("crm-{}", rng.random_range(1000..9999)) } else { String::new() },
        click_id: if affiliate_id.is_some() && rng.random_bool(0.3) {
            format!("clk{}", rng.random_range(100_000..999_999))
        } else {
            String::new()
        },
        utm,
        billing_status: "completed".into(),
        rebilling_active: false,
        next_payment_at: None,
        rebill_stop_noted_at: None,
        cancel_policy: plan.cancel_policy.clone(),
        balance: 0,
        license_key: (product.product_type_id == 4).then(|| {
            let raw: String = (0..16).map(|_| b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789"[rng.random_range(0..32)] as char).collect();
            format!("{}-{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12], &raw[12..16])
        }),
        refunded_at: None,
        unlock_invoices: false,
        voucher_code: if uses_voucher { "WELCOME10".into() } else { String::new() },
        mails_sent: 1,
        member_access: Vec::new(),
        placeholders: BTreeMap::new(),
        parent_purchase_id: None,
        upgraded_to: None,
    };
    let payment_idx = seed_payments(a, &p, start, commission_rate);
    seed_rebilling(a, rng, &mut p, start, &payment_idx);
    seed_reversals(a, rng, &mut p, start, &payment_idx);
    a.add_purchase(p);
}

/// The payments of an order up to `start`; returns their indexes into the transactions.
fn seed_payments(a: &mut Account, p: &Purchase, start: NaiveDateTime, commission_rate: Option<Cents>) -> Vec<usize> {
    let (id, created_at, currency, pay_method) = (&p.id, p.created_at, p.currency.as_str(), p.pay_method.as_str());
    let (first, other, vat, recurring) = (p.first_amount, p.other_amounts, p.vat_rate, p.is_recurring());
    let (product_id, buyer_id, affiliate_id, is_test) = (p.product_id(), p.buyer_id, p.affiliate_id, p.is_test);
    let mut payment_idx = Vec::new();
    let mut k: u32 = 0;
    loop {
        let when = if k == 0 { created_at } else { add_months(created_at.date(), k).and_time(created_at.time()) };
        if when > start || (p.number_of_installments >= 1 && i64::from(k) >= p.number_of_installments) {
            break;
        }
        let gross = if k == 0 { first } else { other };
        let (vat_amt, fee, aff, vendor) = split_payment(gross, vat, commission_rate, 0);
        let tid = a.next_id("transaction");
        payment_idx.push(a.transactions.len());
        a.add_transaction(Transaction {
            id: tid,
            purchase_id: id.clone(),
            kind: TxKind::Payment,
            created_at: when,
            currency: currency.into(),
            amount: gross,
            vat: vat_amt,
            fee,
            affiliate: aff,
            vendor,
            pay_method: pay_method.into(),
            pay_sequence_no: i64::from(k) + 1,
            parent_id: None,
            product_id,
            buyer_id,
            affiliate_id,
            is_test,
            note: String::new(),
        });
        k += 1;
        if !recurring {
            break;
        }
    }
    payment_idx
}

/// The rebilling state of a recurring order after its payments: finished, stopped or still paying.
fn seed_rebilling(a: &mut Account, rng: &mut ChaCha8Rng, p: &mut Purchase, start: NaiveDateTime, payment_idx: &[usize]) {
    let (id, created_at) = (p.id.clone(), p.created_at);
    let payments = payment_idx.len() as u32;
    if p.is_recurring() {
        let next = add_months(created_at.date(), payments);
        let finished = p.number_of_installments >= 2 && i64::from(payments) >= p.number_of_installments;
        if finished {
            p.billing_status = "completed".into();
        } else if rng.random_bool(0.2) {
            // Stopped by the buyer or support some time after the last payment.
            let last = a.transactions[*payment_idx.last().expect("one payment")].created_at;
            let stop_at = (last + Duration::days(rng.random_range(1..25))).min(start - Duration::hours(1)).max(last);
            p.billing_status = "aborted".into();
            p.rebill_stop_noted_at = Some(stop_at);
            a.add_rebill_event(&id, stop_at, i64::from(payments), "rebill_cancelled");
            let paid_until = add_months(created_at.date(), payments).and_time(created_at.time());
            if paid_until <= start {
                a.add_rebill_event(&id, paid_until, i64::from(payments), "last_paid_day");
            }
        } else {
            p.billing_status = if rng.random_bool(0.04) { "reminding".into() } else { "paying".into() };
            p.rebilling_active = true;
            p.next_payment_at = Some(next);
        }
    }
}

/// A refund, chargeback or partial refund of the first payment, for a few orders.
fn seed_reversals(a: &mut Account, rng: &mut ChaCha8Rng, p: &mut Purchase, start: NaiveDateTime, payment_idx: &[usize]) {
    let created_at = p.created_at;
    let roll: f64 = rng.random();
    if let Some(&first_idx) = payment_idx.first() {
        if roll < 0.045 {
            let at = created_at + Duration::days(rng.random_range(1..20)) + Duration::seconds(rng.random_range(0..80_000));
            if at < start {
                let gross = a.transactions[first_idx].amount;
                a.book_reversal(first_idx, gross, TxKind::Refund, at, "Refund requested by buyer");
                refund_purchase_state(a, p, at);
            }
        } else if roll < 0.055 {
            let at = created_at + Duration::days(rng.random_range(10..40));
            if at < start {
                let gross = a.transactions[first_idx].amount;
                a.book_reversal(first_idx, gross, TxKind::Chargeback, at, "");
                p.billing_status = "aborted".into();
                p.rebilling_active = false;
                p.next_payment_at = None;
            }
        } else if roll < 0.075 {
            let at = created_at + Duration::days(rng.random_range(1..15));
            if at < start {
                let gross = a.transactions[first_idx].amount;
                let part = (gross * rng.random_range(10..31) / 100).max(1);
                a.book_reversal(first_idx, part, TxKind::Refund, at, "Goodwill discount");
            }
        }
    }
}

/// The smaller collections, in a fixed order (each step draws from the same generator).
fn seed_extras(a: &mut Account, rng: &mut ChaCha8Rng, start: NaiveDateTime, product_ids: &[u64], affiliate_ids: &[u64], suffix: &str) {
    seed_deliveries(a, rng, start);
    seed_etickets(a, rng, start, product_ids);
    seed_service_proofs(a, start);
    seed_vouchers(a, start, product_ids);
    seed_orderforms(a, start, suffix);
    seed_upgrades_and_conversion_tools(a, start, product_ids, suffix);
    seed_upsells(a, product_ids);
    seed_images(a, start, product_ids);
    seed_shipping_policies(a, start, product_ids, suffix);
    seed_buy_urls(a, start, product_ids);
    seed_ipn_connection(a, start);
    seed_email_affiliates(a, start, affiliate_ids);
    seed_marketplace(a, rng, start, product_ids);
    seed_account_access(a, rng, start);
    a.rebill_events.sort_by_key(|e| e.created_at);
}

/// Deliveries for physical products.
fn seed_deliveries(a: &mut Account, rng: &mut ChaCha8Rng, start: NaiveDateTime) {
    let shipping: Vec<Purchase> =
        a.purchases.iter().filter(|p| delivery_type(a.products[&p.product_id()].product_type_id) == "shipping").cloned().collect();
    for p in shipping {
        let (pid, item_id, product_id, qty, created, is_test, refunded) =
            (p.id.clone(), p.items[0].id, p.product_id(), p.quantity(), p.created_at, p.is_test, p.refunded_at.is_some());
        let id = a.next_id("delivery");
        let age = (start - created).num_hours();
        let (kind, delivered) = if refunded {
            ("cancel", 0)
        } else if age > 7 * 24 {
            ("delivery", qty)
        } else if age > 48 {
            ("in_progress", 0)
        } else {
            ("request", 0)
        };
        let parcels = if kind == "delivery" {
            let service = *pick(rng, &["dhl", "ups", "dpd", "hermes"]);
            vec![Parcel {
                parcel_service: service.into(),
                tracking_id: format!("{}{}", rng.random_range(100_000_000u64..999_999_999), rng.random_range(100..999)),
                expect_delivery_at: Some((created + Duration::days(4)).date()),
                quantity: qty,
            }]
        } else {
            Vec::new()
        };
        a.deliveries.insert(
            id,
            Delivery {
                id,
                purchase_id: pid,
                purchase_item_id: item_id,
                product_id,
                quantity: qty,
                quantity_delivered: delivered,
                kind: kind.into(),
                processed_at: (kind != "request").then(|| created + Duration::hours(20)),
                processed_by: if kind == "request" { String::new() } else { "fulfilment".into() },
                parcels,
                shipped_by_reseller_from: String::new(),
                notifications: u32::from(kind == "delivery"),
                is_test,
                created_at: created,
                modified_at: created + Duration::hours(if kind == "request" { 0 } else { 30 }),
            },
        );
    }
}

/// E-ticket locations, templates and tickets for event products.
fn seed_etickets(a: &mut Account, rng: &mut ChaCha8Rng, start: NaiveDateTime, product_ids: &[u64]) {
    let today = start.date();
    for (name, address) in [
        ("Berlin Congress Center", "Alexanderstraße 11, 10178 Berlin"),
        ("München Eventhalle", "Messeplatz 1, 80339 München"),
        ("Wien Stadthalle", "Roland-Rainer-Platz 1, 1150 Wien"),
    ] {
        let id = a.next_id("eticket_location");
        a.eticket_locations.insert(id, EticketLocation { id, name: name.into(), address: address.into() });
    }
    for name in ["Seminar ticket (A4)", "Conference badge"] {
        let id = a.next_id("eticket_template");
        let created = start - Duration::days(rng.random_range(200..600));
        a.eticket_templates
            .insert(id, EticketTemplate { id, name: name.into(), created_at: created, modified_at: created + Duration::days(10) });
    }
    let location_ids: Vec<u64> = a.eticket_locations.keys().copied().collect();
    let template_ids: Vec<u64> = a.eticket_templates.keys().copied().collect();
    let events: Vec<(u64, NaiveDate, u64)> = product_ids
        .iter()
        .filter(|id| delivery_type(a.products[id].product_type_id) == "event")
        .enumerate()
        .map(|(i, id)| (*id, today + Duration::days(if i == 0 { 21 } else { -45 }), location_ids[i % location_ids.len()]))
        .collect();
    let event_orders: Vec<(String, u64, u64, i64, NaiveDateTime)> = a
        .purchases
        .iter()
        .filter(|p| events.iter().any(|e| e.0 == p.product_id()) && p.refunded_at.is_none())
        .map(|p| (p.id.clone(), p.buyer_id, p.product_id(), p.quantity(), p.created_at))
        .collect();
    for (pid, buyer_id, product_id, qty, created) in event_orders {
        let (_, date, location_id) = *events.iter().find(|e| e.0 == product_id).expect("event product");
        let b = a.buyers[&buyer_id].clone();
        for no in 1..=qty {
            let n = a.next_id("eticket");
            let id = format!("{:010}{:010}", a.vendor.user_id % 10_000_000_000, n);
            let used = date < today && rng.random_bool(0.8);
            a.etickets.insert(
                id.clone(),
                Eticket {
                    id,
                    purchase_id: pid.clone(),
                    product_id,
                    location_id,
                    template_id: template_ids[0],
                    date,
                    days: if product_id == events[0].0 { 2 } else { 1 },
                    note: "09:00".into(),
                    no,
                    count: qty,
                    email: b.email.clone(),
                    first_name: b.first_name.clone(),
                    last_name: b.last_name.clone(),
                    salutation: b.salutation.clone(),
                    title: b.title.clone(),
                    language: b.language.clone(),
                    used_at: used.then(|| date.and_hms_opt(8, 45, 0).expect("valid time")),
                    is_blocked: false,
                    created_at: created,
                },
            );
        }
        let form_id = a.counters.get("form").copied().unwrap_or(16_000);
        let rid = a.next_id("custom_form");
        let mut data = BTreeMap::new();
        data.insert("first_name".to_string(), b.first_name.clone());
        data.insert("last_name".to_string(), b.last_name.clone());
        data.insert("email".to_string(), b.email.clone());
        data.insert("occupation".to_string(), pick(rng, &["Marketing", "Engineer", "Teacher", "Founder", "Designer"]).to_string());
        data.insert("dietary_requirements".to_string(), pick(rng, &["none", "vegetarian", "vegan"]).to_string());
        let item_id = a.purchase(&pid).map(|p| p.items[0].id).unwrap_or(0);
        a.custom_forms.insert(
            rid,
            CustomFormRecord {
                id: rid,
                form_id,
                purchase_id: pid.clone(),
                purchase_item_id: item_id,
                product_id,
                form_no: 1,
                form_count: 1,
                data,
            },
        );
    }
}

/// Service proof requests for some service/course orders.
fn seed_service_proofs(a: &mut Account, start: NaiveDateTime) {
    let candidates: Vec<(String, u64, NaiveDateTime)> = a
        .purchases
        .iter()
        .filter(|p| matches!(a.products[&p.product_id()].product_type_id, 2 | 5 | 10) && !p.is_test)
        .map(|p| (p.id.clone(), p.product_id(), p.created_at))
        .collect();
    for (i, (pid, product_id, created)) in candidates.iter().rev().take(4).enumerate() {
        let id = a.next_id("service_proof");
        let at = (*created + Duration::days(5)).min(start - Duration::hours(2));
        let status = ["pending", "pending", "proof_provided", "pending"][i];
        a.service_proofs.insert(
            id,
            ServiceProof {
                id,
                purchase_id: pid.clone(),
                product_id: *product_id,
                delivery_type: delivery_type(a.products[product_id].product_type_id).to_string(),
                approval_status: if status == "proof_provided" { "approved".into() } else { "new".into() },
                request_status: status.into(),
                message: if status == "proof_provided" { "Buyer attended all sessions; logs attached.".into() } else { String::new() },
                files: Vec::new(),
                due_date: (at + Duration::days(14)).date(),
                created_at: at,
                modified_at: at,
            },
        );
    }
}

/// The discount codes, some expired, one count-limited, one for test orders only.
fn seed_vouchers(a: &mut Account, start: NaiveDateTime, product_ids: &[u64]) {
    // (code, first rate, other rates, first amount, other amounts, expiry in days from start, count-limited)
    type VoucherTpl = (&'static str, Cents, Cents, Cents, i64, Option<i64>, bool);
    let vouchers: &[VoucherTpl] = &[
        ("WELCOME10", 1000, 0, 0, 0, None, false),
        ("SUMMER25", 2500, 0, 0, 0, Some(-30), false),
        ("BLACKFRIDAY", 3000, 1000, 0, 0, Some(-200), false),
        ("VIP50", 0, 0, 5000, 0, None, true),
        ("LOYAL5", 500, 500, 0, 0, None, false),
        ("FREEMONTH", 10000, 0, 0, 0, Some(60), false),
        ("EBOOK3", 0, 0, 300, 0, None, false),
        ("TESTONLY", 10000, 10000, 0, 0, None, false),
    ];
    for (i, (code, first_rate, other_rates, first_amount, other_amounts, expires_days, limited)) in vouchers.iter().enumerate() {
        let id = a.next_id("voucher");
        let created = start - Duration::days(400 - i as i64 * 40);
        a.vouchers.insert(
            id,
            Voucher {
                id,
                code: code.to_string(),
                product_ids: if i == 6 { Some(product_ids[7..12].to_vec()) } else { None },
                valid_from: Some(created),
                expires_at: expires_days.map(|d| start + Duration::days(d)),
                first_rate: *first_rate,
                other_rates: *other_rates,
                first_amount: *first_amount,
                other_amounts: *other_amounts,
                currency: "EUR".into(),
                is_count_limited: *limited,
                count_left: if *limited { 7 } else { 1 },
                upgrade_policy: "valid".into(),
                is_test: *code == "TESTONLY",
                created_at: created,
                modified_at: created,
            },
        );
    }
}

/// The order-form designs.
fn seed_orderforms(a: &mut Account, start: NaiveDateTime, suffix: &str) {
    for (i, (name, layout)) in
        [("Standard checkout", "widget"), ("Summer sale", "widget"), ("Two-step legacy", "legacy"), ("Membership checkout", "widget")]
            .iter()
            .enumerate()
    {
        let id = a.next_id("orderform");
        let created = start - Duration::days(500 - i as i64 * 90);
        let mut settings = BTreeMap::new();
        settings.insert("background_style".to_string(), json!(if i % 2 == 0 { "white" } else { "blue" }));
        settings.insert("step_count".to_string(), json!(if *layout == "legacy" { "2" } else { "1" }));
        settings.insert("order_bump_style".to_string(), json!("none"));
        settings.insert("is_active".to_string(), json!("Y"));
        settings.insert("is_default".to_string(), json!(if i == 0 { "Y" } else { "N" }));
        a.orderforms.insert(
            id,
            Orderform {
                id,
                name: format!("{name}{suffix}"),
                layout: layout.to_string(),
                settings,
                created_at: created,
                modified_at: created + Duration::days(7),
            },
        );
    }
}

/// Upgrades and conversion tools.
fn seed_upgrades_and_conversion_tools(a: &mut Account, start: NaiveDateTime, product_ids: &[u64], suffix: &str) {
    let upgrade_defs: &[(&str, usize, &[usize], &[usize])] = &[
        ("Courses to Copywriting Academy", 14, &[0, 1, 3, 4, 6], &[]),
        ("Python Bootcamp to Marketing Blueprint", 5, &[2], &[]),
        ("Stock Signals to Language Lab (downgrade)", 16, &[], &[15]),
    ];
    for (i, (name, to, from, down)) in upgrade_defs.iter().enumerate() {
        let id = a.next_id("upgrade");
        let authkey = a.new_secret(12);
        let created = start - Duration::days(300 - i as i64 * 50);
        a.upgrades.insert(
            id,
            Upgrade {
                id,
                name: format!("{name}{suffix}"),
                authkey,
                to_product_id: product_ids[*to],
                upgrade_from: from.iter().map(|i| product_ids[*i]).collect(),
                downgrade_from: down.iter().map(|i| product_ids[*i]).collect(),
                special_offer_for: Vec::new(),
                fallback_product_id: None,
                is_active: true,
                buyer_readonly_keys: "none".into(),
                created_at: created,
                modified_at: created,
            },
        );
    }
    let tools: &[(&str, &str, Option<usize>, &[usize])] = &[
        ("smartupgrade", "Upgrade to the complete course bundle", Some(14), &[0, 1, 3]),
        ("smartupgrade", "Yearly plan offer", Some(5), &[2]),
        ("socialproof_box", "Recent buyers box", None, &[0, 7, 13]),
        ("socialproof_bubble", "Live purchase bubble", None, &[13, 14]),
        ("countdown", "Launch countdown", None, &[20]),
        ("countdown", "Black Friday timer", None, &[5]),
        ("trust_badge", "Money-back badge", None, &[]),
    ];
    for (i, (kind, name, to, on)) in tools.iter().enumerate() {
        let id = a.next_id("conversion_tool");
        let authkey = a.new_secret(25);
        a.conversion_tools.insert(
            id,
            ConversionTool {
                id,
                kind: kind.to_string(),
                name: format!("{name}{suffix}"),
                authkey,
                upgrade_to_product_id: to.map(|t| product_ids[t]),
                product_ids: on.iter().map(|i| product_ids[*i]).collect(),
                custom_css: String::new(),
                created_at: start - Duration::days(250 - i as i64 * 20),
            },
        );
    }
}

/// Two upsell funnels.
fn seed_upsells(a: &mut Account, product_ids: &[u64]) {
    let mut funnel = BTreeMap::new();
    funnel.insert("y".to_string(), product_ids[3]);
    funnel.insert("yy".to_string(), product_ids[29]);
    funnel.insert("yn".to_string(), product_ids[7]);
    a.upsells.insert(product_ids[0], funnel);
    let mut funnel = BTreeMap::new();
    funnel.insert("y".to_string(), product_ids[14]);
    a.upsells.insert(product_ids[2], funnel);
}

/// Product images and order-form images.
fn seed_images(a: &mut Account, start: NaiveDateTime, product_ids: &[u64]) {
    for (i, pid) in product_ids.iter().take(10).enumerate() {
        let id = a.random_string(8, b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ");
        let url = format!("https://cdn.sandbox-ds24.example/merchant_{}/image/product/{id}.png", a.vendor.user_id);
        if let Some(p) = a.products.get_mut(pid) {
            p.image_url = url.clone();
        }
        a.images.insert(
            id.clone(),
            Image {
                id: id.clone(),
                name: format!("product-{}", i + 1),
                url,
                source_url: String::new(),
                usage_type: "product".into(),
                alt_tag: String::new(),
                width: 100,
                height: 100 + 20 * (i as i64 % 5),
                file_extension: "png".into(),
                created_at: start - Duration::days(400 - i as i64 * 10),
            },
        );
    }
    for (usage, w, h) in [("orderform_header", 960, 150), ("orderform_widget_tab", 400, 80), ("orderform_favicon", 32, 32)] {
        let id = a.random_string(8, b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ");
        a.images.insert(
            id.clone(),
            Image {
                id: id.clone(),
                name: usage.replace('_', "-"),
                url: format!("https://cdn.sandbox-ds24.example/merchant_{}/image/{usage}/{id}.jpg", a.vendor.user_id),
                source_url: String::new(),
                usage_type: usage.into(),
                alt_tag: String::new(),
                width: w,
                height: h,
                file_extension: "jpg".into(),
                created_at: start - Duration::days(200),
            },
        );
    }
}

/// Shipping cost policies.
fn seed_shipping_policies(a: &mut Account, start: NaiveDateTime, product_ids: &[u64], suffix: &str) {
    let physical: Vec<String> = product_ids[24..].iter().map(|p| p.to_string()).collect();
    for (i, (name, countries, scales)) in [
        ("Standard shipping DACH", "DE,AT,CH", vec![(1, 490), (3, 290)]),
        ("International shipping", "all", vec![(1, 1490), (2, 1290), (5, 990)]),
    ]
    .into_iter()
    .enumerate()
    {
        let id = a.next_id("shipping_policy");
        let created = start - Duration::days(380 - i as i64 * 30);
        let mut labels = BTreeMap::new();
        labels.insert("de".to_string(), if i == 0 { "Versand DACH".to_string() } else { "Internationaler Versand".to_string() });
        labels.insert("en".to_string(), name.to_string());
        a.shipping_policies.insert(
            id,
            ShippingPolicy {
                id,
                name: format!("{name}{suffix}"),
                labels,
                position: (i as i64 + 1) * 100,
                is_active: true,
                for_product_ids: physical.join(","),
                for_countries: countries.into(),
                for_currencies: "all".into(),
                fee_type: if i == 0 { "total_fee".into() } else { "fee_per_unit".into() },
                billing_cycle: "once".into(),
                currency: "EUR".into(),
                scales,
                created_at: created,
                modified_at: created,
            },
        );
    }
}

/// Three buy URLs, one without expiry.
fn seed_buy_urls(a: &mut Account, start: NaiveDateTime, product_ids: &[u64]) {
    for i in 0..3 {
        let id = a.next_id("buy_url");
        let pid = product_ids[[0, 13, 24][i]];
        let secret = a.new_secret(20);
        let created = start - Duration::days(10 - i as i64 * 3);
        a.buy_urls.insert(
            id,
            BuyUrl {
                id,
                product_id: pid,
                url: format!("{CHECKOUT_URL}/product/{pid}/?ds24id={id}-{secret}"),
                valid_until: if i == 2 { None } else { Some(created + Duration::days(30)) },
                settings: json!({"tracking": {"custom": format!("seed-{i}")}}),
                upgrade_status: "none".into(),
                created_at: created,
                modified_at: created,
            },
        );
    }
}

/// One IPN connection.
fn seed_ipn_connection(a: &mut Account, start: NaiveDateTime) {
    let ipn_id = a.next_id("ipn");
    let pass = a.new_secret(30);
    a.ipn_connections.insert(
        "sandbox-crm".into(),
        IpnConnection {
            id: ipn_id,
            domain_id: "sandbox-crm".into(),
            name: "Sandbox CRM".into(),
            ipn_url: "https://crm.sandbox-shop.example/ipn/digistore24".into(),
            product_ids: "all".into(),
            categories: "orders".into(),
            transactions: "payment,refund,chargeback,payment_missed".into(),
            timing: "before_thankyou".into(),
            sha_passphrase: pass,
            newsletter_send_policy: "send_always".into(),
            created_at: start - Duration::days(120),
            modified_at: start - Duration::days(120),
        },
    );
}

/// Pre-assigned affiliates.
fn seed_email_affiliates(a: &mut Account, start: NaiveDateTime, affiliate_ids: &[u64]) {
    for (i, email) in ["prospect.one@example.com", "prospect.two@example.com", "lead@mail.example"].iter().enumerate() {
        a.email_affiliates.insert(
            email.to_string(),
            EmailAffiliate {
                affiliate_id: affiliate_ids[i * 3],
                campaignkey: ["webinar", "", "newsletter"][i].into(),
                trackingkey: String::new(),
                click_id: if i == 1 { "clk-778899".into() } else { String::new() },
                promoclick_at: start - Duration::days(3 + i as i64),
            },
        );
    }
}

/// Marketplace entries.
fn seed_marketplace(a: &mut Account, rng: &mut ChaCha8Rng, start: NaiveDateTime, product_ids: &[u64]) {
    for (i, idx) in [0usize, 2, 5, 7, 13].iter().enumerate() {
        let id = a.next_id("marketplace");
        let p = a.products[&product_ids[*idx]].clone();
        let plan_price = a.payment_plans.values().find(|pp| pp.product_id == p.id).map(|pp| pp.first_amount).unwrap_or(0);
        a.marketplace.insert(
            id,
            MarketplaceEntry {
                id,
                main_product_id: p.id,
                all_product_ids: vec![p.id],
                approval_status: if i == 4 { "pending".into() } else { "approved".into() },
                price: plan_price,
                currency: "EUR".into(),
                language: p.language.clone(),
                category_id: 10 + p.product_type_id,
                category: product_type_name(p.product_type_id).into(),
                headline: format!("{} – learn it the easy way", p.name),
                description: format!("<p>{}</p>", p.descriptions.get("en").cloned().unwrap_or_default()),
                affiliate_share: p.affiliate_commission,
                stars: rng.random_range(150..500),
                seller_rank: rng.random_range(50..5000),
                seller_rank_category: rng.random_range(1..300),
                conversion_rate: rng.random_range(100..900),
                stats_updated_at: start - Duration::hours(6),
            },
        );
    }
}

/// Account access grants.
fn seed_account_access(a: &mut Account, rng: &mut ChaCha8Rng, start: NaiveDateTime) {
    for (by_me, name, perm) in [(true, "assistant_mia", "can_full_access"), (false, "agency_partner", "can_read_only")] {
        let id = a.next_id("account_access");
        let other = rng.random_range(100_000..999_999u64);
        let me = a.vendor.user_id;
        a.account_access.push(AccountAccess {
            id,
            owner_id: if by_me { me } else { other },
            accessor_id: if by_me { other } else { me },
            other_name: name.into(),
            permissions: perm.into(),
            by_me,
            created_at: start - Duration::days(300),
            modified_at: start - Duration::days(30),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeding_is_deterministic_per_seed_and_key() {
        let a = seed_account(24, None);
        let b = seed_account(24, None);
        assert_eq!(a.purchases.len(), SEED_PURCHASES);
        assert_eq!(a.purchases.iter().map(|p| &p.id).collect::<Vec<_>>(), b.purchases.iter().map(|p| &p.id).collect::<Vec<_>>());
        assert_eq!(a.products.keys().collect::<Vec<_>>(), b.products.keys().collect::<Vec<_>>());
        let c = seed_account(24, Some("sandbox-tenant-a"));
        assert_ne!(a.purchases[0].id, c.purchases[0].id);
        assert!(c.vendor.user_name.contains("tenant_a"));
        assert!(c.products.values().all(|p| p.name.contains("tenant-a")));
        let d = seed_account(25, None);
        assert_ne!(a.purchases[0].id, d.purchases[0].id);
    }

    #[test]
    fn seeded_data_is_consistent() {
        let a = seed_account(24, None);
        assert_eq!(a.products.len(), 30);
        assert_eq!(a.product_groups.len(), 5);
        let start = *PROCESS_START;
        assert!(a.purchases.windows(2).all(|w| w[0].created_at <= w[1].created_at));
        assert!(a.purchases.iter().all(|p| p.created_at <= start && p.created_at > start - Duration::days(366)));
        assert!(a.purchases.iter().filter(|p| p.created_at > start - Duration::hours(24)).count() >= 6);
        assert!(a.transactions.iter().all(|t| t.created_at <= start));
        assert!(a.transactions.iter().any(|t| t.kind == TxKind::Refund));
        assert!(a.transactions.iter().any(|t| t.kind == TxKind::Chargeback));
        assert!(a.purchases.iter().any(|p| p.billing_status == "paying" && p.rebilling_active));
        assert!(a.purchases.iter().any(|p| p.billing_status == "aborted" && p.is_recurring()));
        for t in &a.transactions {
            assert_eq!(t.vat + t.fee + t.affiliate + t.vendor, t.amount, "split of {}", t.id);
            assert!(a.purchase(&t.purchase_id).is_some());
        }
        assert!(!a.deliveries.is_empty() && !a.etickets.is_empty() && !a.vouchers.is_empty());
        let ids: std::collections::HashSet<_> = a.purchases.iter().map(|p| &p.id).collect();
        assert_eq!(ids.len(), a.purchases.len());
        assert!(a.purchases.iter().all(|p| p.id.len() == 8));
    }

    #[test]
    fn key_labels() {
        assert_eq!(key_label("sandbox-tenant-a"), "tenant-a");
        assert_eq!(key_label("sandbox-Team B!"), "team-b");
        assert_eq!(key_label("sandbox-").len(), 8);
    }
}
