//! The sandbox's key approval page: where `requestApiKey`'s `request_url`
//! sends the vendor, who approves or cancels; then the browser goes back to
//! the request's return (or cancel) URL, and `retrieveApiKey` answers.
//!
//! Owns: that page and the sandbox's own address for links to it. Must not
//! touch: the key table (approving hands out an existing sandbox key).

use super::Sandbox;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{DOCTYPE, html};
use std::sync::Arc;

/// `http://HOST` of the request (the sandbox is reached over plain HTTP).
pub(super) fn site_of(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).filter(|h| !h.is_empty() && h.len() < 256);
    format!("http://{}", host.unwrap_or("127.0.0.1"))
}

/// What the page needs of a pending request.
struct Pending {
    permissions: String,
    return_url: String,
    comment: String,
}

fn find(sb: &Sandbox, token: &str) -> Option<Pending> {
    sb.accounts().into_iter().find_map(|account| {
        let account = account.read();
        account.key_requests.get(token).filter(|r| r.approved.is_none()).map(|r| Pending {
            permissions: r.permissions.clone(),
            return_url: r.return_url.clone(),
            comment: r.comment.clone(),
        })
    })
}

fn respond(status: StatusCode, body: maud::Markup) -> Response {
    let mut response = (status, Html(body.into_string())).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; form-action *; frame-ancestors 'none'"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// GET: the approval page (plain, no styles: it stands in for Digistore24's own).
pub(super) async fn page(State(sb): State<Arc<Sandbox>>, Path(token): Path<String>) -> Response {
    let Some(pending) = find(&sb, &token) else {
        return respond(
            StatusCode::NOT_FOUND,
            html! { (DOCTYPE) title { "Unknown request" } p #error { "This key request is unknown, too old or already answered." } },
        );
    };
    let host = url::Url::parse(&pending.return_url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    let access = if pending.permissions == "writable" { "full access (reads and changes)" } else { "read access" };
    respond(
        StatusCode::OK,
        html! {
            (DOCTYPE)
            html lang="en" {
                head { meta charset="utf-8"; meta name="viewport" content="width=device-width, initial-scale=1"; title { "Digistore24 sandbox: approve an API key" } }
                body {
                    h1 { "Digistore24 sandbox: approve an API key" }
                    p { "An application at " strong #return-host { (host) } " asks for an API key with " strong #permissions { (access) } "." }
                    @if !pending.comment.is_empty() { p #comment { (pending.comment) } }
                    form method="post" {
                        button type="submit" name="answer" value="approve" #approve { "Approve" }
                        " "
                        button type="submit" name="answer" value="cancel" #cancel { "Cancel" }
                    }
                }
            }
        },
    )
}

/// POST: records the answer and sends the browser back to the application.
pub(super) async fn answer(State(sb): State<Arc<Sandbox>>, Path(token): Path<String>, body: axum::body::Bytes) -> Response {
    let approve = form_urlencoded::parse(&body).any(|(k, v)| k == "answer" && v == "approve");
    for account in sb.accounts() {
        let mut account = account.write();
        if let Some(request) = account.key_requests.get_mut(&token).filter(|r| r.approved.is_none()) {
            request.approved = Some(approve);
            let target =
                if approve { request.return_url.clone() } else { request.cancel_url.clone().unwrap_or_else(|| request.return_url.clone()) };
            return Redirect::to(&target).into_response();
        }
    }
    respond(
        StatusCode::NOT_FOUND,
        html! { (DOCTYPE) title { "Unknown request" } p #error { "This key request is unknown, too old or already answered." } },
    )
}
