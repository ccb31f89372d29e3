//! Inspecting any QR payload a partner or an operator has in hand: typed or pasted, or read
//! from a photo or a PNG of the code. What it says, field by field, which of the contract's
//! schemes it satisfies and every rule it breaks.

use serde::Serialize;

use super::reader::{read, Field, Finding};
use super::rules::QrScheme;

/// Largest picture read, in bytes: a phone photo of a code fits well within it.
pub const IMAGE_MAX_BYTES: usize = 8 * 1024 * 1024;
/// Largest picture read, in pixels a side, so a crafted image cannot exhaust memory.
const IMAGE_MAX_SIDE: u32 = 8_000;

/// The verdict on one payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Inspection {
    pub payload: String,
    /// The schemes it satisfies; empty when it satisfies none.
    #[schema(value_type = Vec<String>)]
    pub satisfies: Vec<QrScheme>,
    pub fields: Vec<Field>,
    pub findings: Vec<Finding>,
}

/// Inspects `payload` (surrounding white space, as a paste leaves it, is not part of it).
pub fn inspect(payload: &str) -> Inspection {
    let payload = payload.trim_matches(|c: char| c == '\r' || c == '\n' || c == ' ');
    let reading = read(payload);
    Inspection {
        payload: payload.to_owned(),
        satisfies: reading.satisfied(),
        fields: reading.fields,
        findings: reading.findings,
    }
}

/// The text of the first QR code found in a PNG or JPEG picture.
pub fn payload_from_image(bytes: &[u8]) -> Result<String, String> {
    if bytes.len() > IMAGE_MAX_BYTES {
        return Err(format!(
            "the picture is {} bytes; at most {IMAGE_MAX_BYTES}",
            bytes.len()
        ));
    }
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("the picture cannot be read: {e}"))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(IMAGE_MAX_SIDE);
    limits.max_image_height = Some(IMAGE_MAX_SIDE);
    reader.limits(limits);
    let picture = reader
        .decode()
        .map_err(|e| format!("the picture is not a PNG or JPEG this can read: {e}"))?
        .to_luma8();
    let (width, height) = picture.dimensions();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(width as usize, height as usize, |x, y| {
            picture.get_pixel(x as u32, y as u32).0[0]
        });
    let grids = prepared.detect_grids();
    let grid = grids
        .first()
        .ok_or_else(|| "no QR code was found in the picture".to_owned())?;
    let (_, text) = grid
        .decode()
        .map_err(|e| format!("a QR code was found but could not be decoded: {e}"))?;
    Ok(text)
}

/// The scheme's name as the contract spells it, for people.
pub fn scheme_names(schemes: &[QrScheme]) -> String {
    if schemes.is_empty() {
        return "none".to_owned();
    }
    schemes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
