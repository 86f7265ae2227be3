//! Reference data of the sandbox: the fixed lists Digistore24 itself defines.
//!
//! Owns: countries, selling currencies, VAT rates, product types (and their
//! delivery types), resellers, and where seeded buyers live. Must not touch:
//! account state (these lists are the same for every account), answer shapes.

use super::args::Cents;

/// Countries known to the sandbox (two-letter code, English name).
pub const COUNTRIES: &[(&str, &str)] = &[
    ("AD", "Andorra"),
    ("AE", "United Arab Emirates"),
    ("AR", "Argentina"),
    ("AT", "Austria"),
    ("AU", "Australia"),
    ("BE", "Belgium"),
    ("BG", "Bulgaria"),
    ("BR", "Brazil"),
    ("CA", "Canada"),
    ("CH", "Switzerland"),
    ("CL", "Chile"),
    ("CN", "China"),
    ("CO", "Colombia"),
    ("CY", "Cyprus"),
    ("CZ", "Czech Republic"),
    ("DE", "Germany"),
    ("DK", "Denmark"),
    ("EE", "Estonia"),
    ("EG", "Egypt"),
    ("ES", "Spain"),
    ("FI", "Finland"),
    ("FR", "France"),
    ("GB", "United Kingdom"),
    ("GR", "Greece"),
    ("HR", "Croatia"),
    ("HU", "Hungary"),
    ("IE", "Ireland"),
    ("IL", "Israel"),
    ("IN", "India"),
    ("IS", "Iceland"),
    ("IT", "Italy"),
    ("JP", "Japan"),
    ("KR", "South Korea"),
    ("LI", "Liechtenstein"),
    ("LT", "Lithuania"),
    ("LU", "Luxembourg"),
    ("LV", "Latvia"),
    ("MA", "Morocco"),
    ("MC", "Monaco"),
    ("MT", "Malta"),
    ("MX", "Mexico"),
    ("NG", "Nigeria"),
    ("NL", "Netherlands"),
    ("NO", "Norway"),
    ("NZ", "New Zealand"),
    ("PE", "Peru"),
    ("PH", "Philippines"),
    ("PL", "Poland"),
    ("PT", "Portugal"),
    ("RO", "Romania"),
    ("RS", "Serbia"),
    ("SE", "Sweden"),
    ("SG", "Singapore"),
    ("SI", "Slovenia"),
    ("SK", "Slovakia"),
    ("TH", "Thailand"),
    ("TR", "Turkey"),
    ("UA", "Ukraine"),
    ("US", "United States"),
    ("ZA", "South Africa"),
];

/// A country's English name (the code itself for unknown codes).
pub fn country_name(code: &str) -> String {
    COUNTRIES.iter().find(|c| c.0 == code).map(|c| c.1.to_string()).unwrap_or_else(|| code.to_string())
}

/// Selling currencies: (id, code, symbol, name, min price, max price, value of one unit in EUR, hundredths of a cent).
pub const CURRENCIES: &[(u32, &str, &str, &str, &str, &str, i64)] = &[
    (1, "EUR", "€", "Euro", "0.80", "5000.00", 1_000_000),
    (2, "USD", "$", "US Dollar", "1.00", "6000.00", 920_000),
    (3, "CHF", "CHF", "Swiss Franc", "1.00", "5000.00", 1_040_000),
    (4, "GBP", "£", "British Pound", "0.80", "4500.00", 1_170_000),
    (5, "PLN", "zł", "Polish Złoty", "4.00", "22000.00", 230_000),
    (6, "CAD", "C$", "Canadian Dollar", "1.20", "8000.00", 680_000),
    (7, "AUD", "A$", "Australian Dollar", "1.40", "9000.00", 610_000),
    (8, "SEK", "kr", "Swedish Krona", "10.00", "55000.00", 87_000),
    (9, "DKK", "kr.", "Danish Krone", "6.00", "37000.00", 134_000),
    (10, "NOK", "kr", "Norwegian Krone", "10.00", "55000.00", 86_000),
    (11, "CZK", "Kč", "Czech Koruna", "20.00", "125000.00", 40_000),
    (12, "HUF", "Ft", "Hungarian Forint", "300.00", "1900000.00", 2_500),
    (13, "BRL", "R$", "Brazilian Real", "5.00", "30000.00", 170_000),
];

/// The product types every account offers (id, name, category = delivery type).
pub const PRODUCT_TYPES: &[(u64, &str, &str)] = &[
    (1, "E-Book", "digital"),
    (2, "Online course / video course", "digital"),
    (3, "Membership site", "digital"),
    (4, "Software", "digital"),
    (5, "Coaching", "service"),
    (6, "Seminar / event ticket", "event"),
    (7, "Dietary supplement - health", "shipping"),
    (8, "Sports equipment", "shipping"),
    (9, "Audio / podcast", "digital"),
    (10, "Consulting", "service"),
];

/// Delivery type (`digital`, `service`, `event`, `shipping`) of a product type.
pub fn delivery_type(product_type_id: u64) -> &'static str {
    PRODUCT_TYPES.iter().find(|t| t.0 == product_type_id).map(|t| t.2).unwrap_or("digital")
}

/// Name of a product type.
pub fn product_type_name(product_type_id: u64) -> &'static str {
    PRODUCT_TYPES.iter().find(|t| t.0 == product_type_id).map(|t| t.1).unwrap_or("Other")
}

/// Resellers (siteowners) that approve products for their marketplaces.
pub const RESELLERS: &[(u8, &str)] =
    &[(1, "Digistore24 GmbH, Germany"), (2, "Digistore24 Inc., USA"), (3, "Digistore24 UK"), (4, "Digistore24 Ireland")];

/// VAT rate (hundredths of a percent) by buyer country.
pub fn vat_rate(country: &str) -> Cents {
    match country {
        "DE" => 1900,
        "AT" | "FR" | "GB" => 2000,
        "CH" => 810,
        "NL" | "ES" | "BE" => 2100,
        "IT" => 2200,
        _ => 0,
    }
}

/// Where seeded buyers live: (country code, weight, cities with postal codes, street names).
pub type BuyerLocation = (&'static str, u32, &'static [(&'static str, &'static str)], &'static [&'static str]);

pub const BUYER_LOCATIONS: &[BuyerLocation] = &[
    (
        "DE",
        45,
        &[
            ("Berlin", "10115"),
            ("Hamburg", "20095"),
            ("München", "80331"),
            ("Köln", "50667"),
            ("Frankfurt am Main", "60311"),
            ("Leipzig", "04109"),
        ],
        &["Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße", "Lindenallee"],
    ),
    ("AT", 10, &[("Wien", "1010"), ("Graz", "8010"), ("Salzburg", "5020")], &["Ringstraße", "Mariahilfer Straße", "Landstraße"]),
    ("CH", 8, &[("Zürich", "8001"), ("Basel", "4051"), ("Bern", "3011")], &["Bahnhofstrasse", "Seestrasse", "Dorfstrasse"]),
    (
        "US",
        15,
        &[("New York", "10001"), ("Austin", "73301"), ("San Diego", "92101"), ("Chicago", "60601")],
        &["Main Street", "Oak Avenue", "Maple Drive", "Sunset Blvd"],
    ),
    ("GB", 7, &[("London", "SW1A 1AA"), ("Manchester", "M1 1AE"), ("Bristol", "BS1 4DJ")], &["High Street", "Station Road", "Church Lane"]),
    ("FR", 5, &[("Paris", "75001"), ("Lyon", "69001")], &["Rue de la Paix", "Avenue Victor Hugo"]),
    ("NL", 5, &[("Amsterdam", "1012"), ("Utrecht", "3511")], &["Kerkstraat", "Dorpsstraat"]),
    ("IT", 5, &[("Milano", "20121"), ("Roma", "00184")], &["Via Roma", "Corso Italia"]),
];
