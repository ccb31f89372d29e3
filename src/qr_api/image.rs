//! QR images for the pin entry device: PNG and SVG, rendered with the `qrcode` crate.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Pixels per QR module in the PNG. Eight gives a 300–500 px image for our payloads: sharp
/// on a PED screen and easy for phone cameras.
pub const PNG_MODULE_PX: u32 = 8;
/// Blank modules around the code; the QR standard asks for four.
pub const QUIET_ZONE_MODULES: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("payload does not fit a QR code: {0}")]
    Encode(#[from] qrcode::types::QrError),
    #[error("PNG encoding failed: {0}")]
    Png(#[from] png::EncodingError),
}

/// Medium error correction (15 %): survives scuffed screens and glare while keeping a
/// 400-character payload at a version phones read quickly.
fn code(payload: &str) -> Result<QrCode, ImageError> {
    Ok(QrCode::with_error_correction_level(
        payload.as_bytes(),
        EcLevel::M,
    )?)
}

pub fn svg(payload: &str) -> Result<String, ImageError> {
    Ok(code(payload)?
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .module_dimensions(PNG_MODULE_PX, PNG_MODULE_PX)
        .build())
}

/// An 8-bit greyscale PNG.
pub fn png(payload: &str) -> Result<Vec<u8>, ImageError> {
    let code = code(payload)?;
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let side_modules = modules + 2 * QUIET_ZONE_MODULES;
    let side_px = side_modules * PNG_MODULE_PX;
    let mut pixels = vec![255u8; (side_px * side_px) as usize];
    for (index, color) in colors.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let index = index as u32;
        let (x, y) = (
            index % modules + QUIET_ZONE_MODULES,
            index / modules + QUIET_ZONE_MODULES,
        );
        for dy in 0..PNG_MODULE_PX {
            let row = (y * PNG_MODULE_PX + dy) * side_px;
            let start = (row + x * PNG_MODULE_PX) as usize;
            pixels[start..start + PNG_MODULE_PX as usize].fill(0);
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, side_px, side_px);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
    }
    Ok(out)
}
