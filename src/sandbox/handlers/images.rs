//! Handlers of the `images` toolset: images imported from public URLs.
//!
//! Owns: image records. Must not touch: HTTP (nothing is fetched), products.

use super::common::{Ctx, IdArg, Res, check_public_https};
use crate::sandbox::args::Args;
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::views;
use serde_json::json;

const USAGE_TYPES: &[&str] = &["product", "orderform_header", "orderform_widget_tab", "orderform_favicon", "marketplace", "email"];

/// listImages: uploaded images of one usage type (`all` lists every image).
pub fn list_images(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let usage = args.req_str("usage_type")?;
    if usage != "all" && !USAGE_TYPES.contains(&usage) {
        return Err(ApiError::params(format!("Invalid value '{usage}' for argument usage_type; allowed: all, {}", USAGE_TYPES.join(", "))));
    }
    Ok(json!({"images": a.images.values().filter(|i| usage == "all" || i.usage_type == usage).map(views::image).collect::<Vec<_>>()}))
}

const IMAGE_ID: IdArg = IdArg { name: "image_id", what: "Image" };

/// getImage: one image.
pub fn get_image(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let (_, image) = IMAGE_ID.find(&a.images, args)?;
    Ok(json!({"image": views::image(image)}))
}

/// createImage: imports an image from a public URL (`data[image-url]`).
pub fn create_image(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    ensure_room(a.images.len(), "images")?;
    let data = args.obj("data");
    let name = data.req_str("name")?.to_string();
    if name.chars().count() > 63 {
        return Err(ApiError::params("data[name] may have at most 63 characters"));
    }
    let source = data.req_str("image-url")?.to_string();
    check_public_https("data[image-url]", &source)?;
    let usage = data.str("usage_type").unwrap_or("product").to_string();
    if !USAGE_TYPES.contains(&usage.as_str()) {
        return Err(ApiError::params(format!("Invalid value '{usage}' for data[usage_type]; allowed: {}", USAGE_TYPES.join(", "))));
    }
    let ext = source
        .rsplit('.')
        .next()
        .map(|e| e.split(['?', '#']).next().unwrap_or("").to_ascii_lowercase())
        .filter(|e| ["png", "jpg", "jpeg", "gif", "webp"].contains(&e.as_str()))
        .unwrap_or_else(|| "png".into());
    let id = loop {
        let candidate = a.random_string(8, b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ");
        if !a.images.contains_key(&candidate) {
            break candidate;
        }
    };
    let url = format!("https://cdn.sandbox-ds24.example/merchant_{}/image/{usage}/{id}.{ext}", a.vendor.user_id);
    a.images.insert(
        id.clone(),
        Image {
            id: id.clone(),
            name,
            url: url.clone(),
            source_url: source,
            usage_type: usage,
            alt_tag: data.str("alt_tag").unwrap_or("").to_string(),
            width: 100,
            height: 100,
            file_extension: ext,
            created_at: ctx.now,
        },
    );
    Ok(json!({"image_id": id, "image_url": url}))
}

/// deleteImage: removes an image.
pub fn delete_image(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let (id, _) = IMAGE_ID.take(&mut a.images, args)?;
    Ok(json!({"image_id": id, "is_deleted": "Y"}))
}
