//! The sign-in pages and the error page: server-rendered HTML (maud, every
//! value escaped), one inline style sheet allowed by its hash, no scripts,
//! no external assets, in English or German by `Accept-Language`. The OAuth
//! flow and the usage dashboard (`crate::dashboard`) share the markup, the
//! key field and the style.
//!
//! Owns: the words and markup of these pages and their security headers
//! (CSP with `frame-ancestors 'none'`, `Referrer-Policy: no-referrer`,
//! `no-store`). Must not touch: what the forms do (see `endpoints.rs` and
//! `crate::dashboard`).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use maud::{DOCTYPE, Markup, html};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

const STYLE: &str = "\
:root{color-scheme:light dark;--accent:#1a56db;--err:#b91c1c}\
*{box-sizing:border-box}\
body{font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;padding:24px 16px;background:Canvas;color:CanvasText}\
main{max-width:30rem;margin:0 auto}\
h1{font-size:1.4rem;margin:0 0 .75rem}\
.who{border:1px solid #8884;border-radius:8px;padding:12px 14px;margin:0 0 1rem}\
.who dt{font-size:.85rem;opacity:.75}.who dd{margin:0 0 .5rem;overflow-wrap:anywhere;font-weight:600}\
label{display:block;font-weight:600;margin:.5rem 0 .25rem}\
input[type=password]{width:100%;font:inherit;padding:10px;border:1px solid #888;border-radius:6px}\
input:focus,button:focus{outline:3px solid var(--accent);outline-offset:2px}\
.help{font-size:.9rem;opacity:.85;margin:.35rem 0 1rem}\
button{font:inherit;font-weight:600;padding:10px 18px;border-radius:6px;border:0;background:var(--accent);color:#fff;cursor:pointer;width:100%}\
.error{border:1px solid var(--err);color:var(--err);border-radius:6px;padding:10px 12px;margin:0 0 1rem}\
.fine{font-size:.85rem;opacity:.75;margin-top:1.25rem}\
.or{text-align:center;opacity:.75;margin:.75rem 0}\
button.secondary{background:transparent;color:var(--accent);border:2px solid var(--accent)}\
code{font-size:.95em}";

static STYLE_HASH: LazyLock<String> =
    LazyLock::new(|| format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()))));

/// The page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    /// The first of English or German in `Accept-Language` (by weight), else English.
    /// `?lang=de` / `?lang=en` when given, else [`Lang::from_headers`].
    pub fn from_choice(choice: Option<&str>, headers: &HeaderMap) -> Lang {
        match choice.map(str::to_ascii_lowercase).as_deref() {
            Some("de") => Lang::De,
            Some("en") => Lang::En,
            _ => Lang::from_headers(headers),
        }
    }

    pub fn from_headers(headers: &HeaderMap) -> Lang {
        let Some(value) = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) else { return Lang::En };
        let mut best: Option<(f32, Lang)> = None;
        for part in value.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("de") => Lang::De,
                Some("en") => Lang::En,
                _ => continue,
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::En)
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }
}

/// What the sign-in page shows.
pub struct SignInView<'a> {
    pub lang: Lang,
    pub client_name: &'a str,
    pub return_host: &'a str,
    pub write: bool,
    /// The sealed sign-in request, posted back as a hidden field.
    pub request: &'a str,
    pub error: Option<&'a str>,
    pub sandbox_hint: bool,
    /// Offer "Connect with Digistore24" (a developer key is configured).
    pub connect: bool,
}

struct Words {
    title: &'static str,
    app: &'static str,
    returns_to: &'static str,
    access: &'static str,
    read: &'static str,
    write: &'static str,
    key_label: &'static str,
    key_help: &'static str,
    submit: &'static str,
    fine: &'static str,
    sandbox: &'static str,
    error_title: &'static str,
    error_fine: &'static str,
    or: &'static str,
    connect: &'static str,
    connect_help: &'static str,
    dash_title: &'static str,
    dash_intro: &'static str,
    dash_submit: &'static str,
    dash_fine: &'static str,
    op_title: &'static str,
    op_label: &'static str,
    op_help: &'static str,
    other_lang: &'static str,
}

const EN: Words = Words {
    title: "Connect to your Digistore24 account",
    app: "Application",
    returns_to: "Returns to",
    access: "Access it asks for",
    read: "Read your Digistore24 data (orders, products, statistics, …)",
    write: "Read and change your Digistore24 data (refunds, products, vouchers, …)",
    key_label: "Digistore24 API key",
    key_help: "Create one in Digistore24 under Settings → Account access → API keys. A key with read access only connects read-only.",
    submit: "Connect",
    fine: "The key is checked with Digistore24 and then travels sealed inside the application's access tokens; this server stores nothing. Delete the key in Digistore24 to end the access at once.",
    sandbox: "Sandbox: use sandbox-writable (full access) or sandbox-readonly (read access).",
    error_title: "This sign-in cannot continue",
    error_fine: "Nothing was sent to the application. Start the connection again from the application.",
    or: "or",
    connect: "Connect with Digistore24",
    connect_help: "Approve a new key in Digistore24 instead of copying one.",
    dash_title: "Sign in to your usage dashboard",
    dash_intro: "See what your assistant did with your Digistore24 account: calls, errors, durations and IPN events.",
    dash_submit: "Sign in",
    dash_fine: "The key is checked with Digistore24 once and is not kept: the session cookie holds only an anonymous customer id and your vendor id, and ends after 12 hours or when you sign out.",
    op_title: "Operator dashboard",
    op_label: "Operator token",
    op_help: "The value of --operator-token (DS24_OPERATOR_TOKEN) this server was started with.",
    other_lang: "Deutsch",
};

const DE: Words = Words {
    title: "Mit Ihrem Digistore24-Konto verbinden",
    app: "Anwendung",
    returns_to: "Kehrt zurück zu",
    access: "Angefragter Zugriff",
    read: "Ihre Digistore24-Daten lesen (Bestellungen, Produkte, Statistiken, …)",
    write: "Ihre Digistore24-Daten lesen und ändern (Erstattungen, Produkte, Gutscheine, …)",
    key_label: "Digistore24-API-Schlüssel",
    key_help: "Erstellen Sie einen in Digistore24 unter Einstellungen → Kontozugriff → API-Schlüssel. Ein Schlüssel mit Lesezugriff verbindet nur lesend.",
    submit: "Verbinden",
    fine: "Der Schlüssel wird bei Digistore24 geprüft und reist danach versiegelt in den Zugangstokens der Anwendung; dieser Server speichert nichts. Löschen Sie den Schlüssel in Digistore24, um den Zugriff sofort zu beenden.",
    sandbox: "Sandbox: sandbox-writable (Vollzugriff) oder sandbox-readonly (Lesezugriff) verwenden.",
    error_title: "Diese Anmeldung kann nicht fortgesetzt werden",
    error_fine: "An die Anwendung wurde nichts gesendet. Starten Sie die Verbindung erneut in der Anwendung.",
    or: "oder",
    connect: "Mit Digistore24 verbinden",
    connect_help: "Einen neuen Schlüssel in Digistore24 freigeben, statt einen zu kopieren.",
    dash_title: "Beim Nutzungs-Dashboard anmelden",
    dash_intro: "Sehen Sie, was Ihr Assistent mit Ihrem Digistore24-Konto getan hat: Aufrufe, Fehler, Dauer und IPN-Ereignisse.",
    dash_submit: "Anmelden",
    dash_fine: "Der Schlüssel wird einmal bei Digistore24 geprüft und nicht aufbewahrt: Das Sitzungscookie enthält nur eine anonyme Kunden-ID und Ihre Vendor-ID und endet nach 12 Stunden oder beim Abmelden.",
    op_title: "Betreiber-Dashboard",
    op_label: "Betreiber-Token",
    op_help: "Der Wert von --operator-token (DS24_OPERATOR_TOKEN), mit dem dieser Server gestartet wurde.",
    other_lang: "English",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::De => &DE,
    }
}

/// The messages the pages show for a failed sign-in.
pub fn wrong_key(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Digistore24 did not accept this API key. Check that you copied the whole key and that it is still active.",
        Lang::De => {
            "Digistore24 hat diesen API-Schlüssel nicht akzeptiert. Prüfen Sie, ob Sie den ganzen Schlüssel kopiert haben und ob er noch aktiv ist."
        }
    }
}

pub fn no_key(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Paste your Digistore24 API key.",
        Lang::De => "Fügen Sie Ihren Digistore24-API-Schlüssel ein.",
    }
}

pub fn upstream_down(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Digistore24 could not be reached to check the key. Try again in a moment.",
        Lang::De => "Digistore24 war zur Prüfung des Schlüssels nicht erreichbar. Versuchen Sie es gleich noch einmal.",
    }
}

/// Why `/authorize` cannot go on (shown on the error page, never redirected).
#[derive(Debug, Clone, Copy)]
pub enum Refused {
    RepeatedParameter,
    NoClientId,
    UnknownClient,
    UnregisteredRedirect,
    NoRedirect,
}

pub fn refused(lang: Lang, why: Refused) -> &'static str {
    match (lang, why) {
        (Lang::En, Refused::RepeatedParameter) => "A parameter was given twice.",
        (Lang::De, Refused::RepeatedParameter) => "Ein Parameter wurde doppelt übergeben.",
        (Lang::En, Refused::NoClientId) => "The application did not say who it is (client_id is missing).",
        (Lang::De, Refused::NoClientId) => "Die Anwendung hat nicht angegeben, wer sie ist (client_id fehlt).",
        (Lang::En, Refused::UnknownClient) => {
            "This application is not registered with this server (unknown client_id). Remove the connection in the application and add it again."
        }
        (Lang::De, Refused::UnknownClient) => {
            "Diese Anwendung ist bei diesem Server nicht registriert (unbekannte client_id). Entfernen Sie die Verbindung in der Anwendung und fügen Sie sie erneut hinzu."
        }
        (Lang::En, Refused::UnregisteredRedirect) => {
            "The application asked to return to an address it did not register (redirect_uri). For your safety the sign-in stops here."
        }
        (Lang::De, Refused::UnregisteredRedirect) => {
            "Die Anwendung möchte zu einer Adresse zurückkehren, die sie nicht registriert hat (redirect_uri). Zu Ihrer Sicherheit endet die Anmeldung hier."
        }
        (Lang::En, Refused::NoRedirect) => "The application did not say where to return (redirect_uri is missing).",
        (Lang::De, Refused::NoRedirect) => "Die Anwendung hat nicht angegeben, wohin es zurückgeht (redirect_uri fehlt).",
    }
}

pub fn key_request_pending(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Digistore24 has not confirmed the new key yet. Approve it in Digistore24, or paste a key here.",
        Lang::De => {
            "Digistore24 hat den neuen Schlüssel noch nicht bestätigt. Geben Sie ihn in Digistore24 frei oder fügen Sie hier einen Schlüssel ein."
        }
    }
}

pub fn key_request_cancelled(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "The key request was cancelled in Digistore24. Try again, or paste a key here.",
        Lang::De => {
            "Die Schlüsselanfrage wurde in Digistore24 abgebrochen. Versuchen Sie es erneut oder fügen Sie hier einen Schlüssel ein."
        }
    }
}

pub fn wrong_operator_token(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "This is not the operator token of this server.",
        Lang::De => "Das ist nicht das Betreiber-Token dieses Servers.",
    }
}

pub fn form_expired(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "This form has expired or was opened in another browser. Please try again.",
        Lang::De => "Dieses Formular ist abgelaufen oder wurde in einem anderen Browser geöffnet. Bitte versuchen Sie es erneut.",
    }
}

pub fn expired(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "This sign-in form has expired or was opened in another browser. Start the connection again from the application.",
        Lang::De => {
            "Dieses Anmeldeformular ist abgelaufen oder wurde in einem anderen Browser geöffnet. Starten Sie die Verbindung erneut in der Anwendung."
        }
    }
}

fn shell(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) }
                style { (maud::PreEscaped(STYLE)) }
            }
            body { main { (body) } }
        }
    }
}

/// The pasted-key field both sign-in flows share.
fn key_field(w: &Words, sandbox_hint: bool) -> Markup {
    html! {
        label for="api_key" { (w.key_label) }
        input #api_key type="password" name="api_key" autocomplete="off" autocapitalize="off" spellcheck="false" required autofocus aria-describedby="key-help";
        p.help #key-help { (w.key_help) }
        @if sandbox_hint { p.help #sandbox-hint { (w.sandbox) } }
    }
}

/// What the dashboard's sign-in page shows (customer or operator).
pub struct DashboardSignInView<'a> {
    pub lang: Lang,
    /// Double-submit value: posted back as a hidden field, compared with its cookie.
    pub csrf: &'a str,
    pub error: Option<&'a str>,
    pub sandbox_hint: bool,
    /// The operator's form (a token) instead of the customer's (a Digistore24 key).
    pub operator: bool,
}

/// The usage dashboard's sign-in page: the same page and key field as the
/// OAuth sign-in, posting to the dashboard instead of `/authorize`.
pub fn dashboard_sign_in(view: &DashboardSignInView<'_>) -> Markup {
    let w = words(view.lang);
    let other = match view.lang {
        Lang::En => Lang::De,
        Lang::De => Lang::En,
    };
    let (title, action) = if view.operator { (w.op_title, "/dashboard/operator/sign-in") } else { (w.dash_title, "/dashboard/sign-in") };
    shell(
        view.lang,
        title,
        html! {
            p.fine { a href={ "?lang=" (other.code()) } hreflang=(other.code()) lang=(other.code()) #other-lang { (w.other_lang) } }
            h1 { (title) }
            @if !view.operator { p.help { (w.dash_intro) } }
            @if let Some(error) = view.error {
                p.error #error role="alert" { (error) }
            }
            form method="post" action=(action) {
                input type="hidden" name="csrf" value=(view.csrf);
                input type="hidden" name="lang" value=(view.lang.code());
                @if view.operator {
                    label for="token" { (w.op_label) }
                    input #token type="password" name="token" autocomplete="off" required autofocus aria-describedby="token-help";
                    p.help #token-help { (w.op_help) }
                } @else {
                    (key_field(w, view.sandbox_hint))
                }
                button type="submit" #sign-in { (w.dash_submit) }
            }
            @if !view.operator { p.fine { (w.dash_fine) } }
        },
    )
}

/// The sign-in page.
pub fn sign_in(view: &SignInView<'_>) -> Markup {
    let w = words(view.lang);
    shell(
        view.lang,
        w.title,
        html! {
            h1 { (w.title) }
            dl.who {
                dt { (w.app) } dd #client { (view.client_name) }
                dt { (w.returns_to) } dd #return-host { (view.return_host) }
                dt { (w.access) } dd #access { (if view.write { w.write } else { w.read }) }
            }
            @if let Some(error) = view.error {
                p.error #error role="alert" { (error) }
            }
            form method="post" action="/authorize" {
                input type="hidden" name="request" value=(view.request);
                (key_field(w, view.sandbox_hint))
                button type="submit" #connect { (w.submit) }
            }
            @if view.connect {
                p.or { (w.or) }
                form method="post" action="/authorize/connect" {
                    input type="hidden" name="request" value=(view.request);
                    button type="submit" #connect-ds24 .secondary { (w.connect) }
                    p.help { (w.connect_help) }
                }
            }
            p.fine { (w.fine) }
        },
    )
}

/// The error page: never a redirect, since the client or redirect is not trusted.
pub fn error_page(lang: Lang, message: &str) -> Markup {
    let w = words(lang);
    shell(
        lang,
        w.error_title,
        html! {
            h1 { (w.error_title) }
            p.error #error role="alert" { (message) }
            p.fine { (w.error_fine) }
        },
    )
}

/// An HTML answer with the page's security headers; `form_target` lists the
/// origins (or schemes) the forms' redirects lead to, which CSP must allow.
pub fn respond(status: StatusCode, markup: Markup, form_target: Option<&str>) -> Response {
    let form_action = match form_target {
        Some(target) => format!("'self' {target}"),
        None => "'self'".to_owned(),
    };
    let csp = format!(
        "default-src 'none'; style-src {}; img-src 'none'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'",
        *STYLE_HASH
    );
    let csp = HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static("default-src 'none'"));
    html_with_csp(status, markup, csp)
}

/// An HTML answer under `csp`, never framed, cached or sniffed, without a
/// referrer: the sign-in pages and the dashboard share these headers.
pub fn html_with_csp(status: StatusCode, markup: Markup, csp: HeaderValue) -> Response {
    let mut response = (status, axum::response::Html(markup.into_string())).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_when_preferred_english_otherwise() {
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(value).unwrap());
            Lang::from_headers(&h)
        };
        assert_eq!(with("de-DE,de;q=0.9,en;q=0.8"), Lang::De);
        assert_eq!(with("en-US,de;q=0.5"), Lang::En);
        assert_eq!(with("fr-FR,de;q=0.7"), Lang::De);
        assert_eq!(with("fr"), Lang::En);
        assert_eq!(Lang::from_headers(&HeaderMap::new()), Lang::En);
    }

    #[test]
    fn every_value_is_escaped() {
        let view = SignInView {
            lang: Lang::En,
            client_name: "<script>alert(1)</script>",
            return_host: "\"><img src=x>",
            write: true,
            request: "a\"b",
            error: Some("<b>x</b>"),
            sandbox_hint: false,
            connect: true,
        };
        let page = sign_in(&view).into_string();
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(!page.contains("<img src=x>"), "{page}");
        assert!(!page.contains("<b>x</b>"), "{page}");
        assert!(page.contains("&lt;script&gt;"), "{page}");
    }

    #[test]
    fn the_style_sheet_is_allowed_by_its_hash_and_nothing_else_runs() {
        let response = respond(StatusCode::OK, error_page(Lang::De, "x"), None);
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'") && csp.contains(STYLE_HASH.as_str()), "{csp}");
        assert!(!csp.contains("script-src"), "{csp}");
        assert_eq!(response.headers()[header::REFERRER_POLICY], "no-referrer");
    }
}
