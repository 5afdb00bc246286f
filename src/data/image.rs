//! One image file to pixels: JPEG or PNG bytes, checked (format, size limits, a file cut
//! short: [`super::complete`]) and decoded to planar CHW RGB with the `image` crate (zune-jpeg,
//! png). Grayscale, CMYK and alpha images are converted to RGB (alpha dropped, as torchvision's
//! `convert("RGB")`). Used by the folder reader (`data/folder.rs`) and by a streamed split's
//! reads (`data/set.rs`).

use std::io::Cursor;
use std::path::Path;

use image::{ImageFormat, ImageReader, Limits};

/// Images above this many pixels are refused before decoding (a decompression bomb; PIL's limit).
pub const MAX_PIXELS: u64 = 89_478_485;
/// Images smaller than this on either side are refused: nothing to crop.
pub const MIN_SIDE: usize = 8;

/// Width and height from a file's header, checked against the limits (no pixel decoded).
pub(crate) fn read_header(path: &Path) -> std::result::Result<(usize, usize), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read it ({e})"))?;
    let mut head = Vec::with_capacity(1 << 16);
    // Headers sit in the first bytes; JPEG's frame header may follow large EXIF blocks.
    std::io::Read::read_to_end(&mut std::io::Read::take(file, 1 << 20), &mut head).map_err(|e| format!("cannot read it ({e})"))?;
    let (w, h) = checked_dimensions(&head).map_err(|e| one_line(&e))?;
    Ok((w as usize, h as usize))
}

/// Read and decode one file.
pub fn read_image(path: &Path) -> std::result::Result<(usize, usize, Vec<u8>), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it ({e})"))?;
    decode(&bytes)
}

/// A decoder's message as one printable line.
fn one_line(e: &str) -> String {
    e.split_whitespace().collect::<Vec<_>>().join(" ").chars().filter(|c| !c.is_control()).collect()
}

/// Decode JPEG or PNG bytes to planar CHW RGB: `(width, height, pixels)`, or why not (one
/// line). Refuses other formats, images above [`MAX_PIXELS`] (before decoding) and below
/// [`MIN_SIDE`], and files cut short ([`super::complete`]).
pub fn decode(bytes: &[u8]) -> std::result::Result<(usize, usize, Vec<u8>), String> {
    decode_inner(bytes).map_err(|e| one_line(&e))
}

fn reader(bytes: &[u8]) -> std::result::Result<ImageReader<Cursor<&[u8]>>, String> {
    let r = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| e.to_string())?;
    match r.format() {
        Some(ImageFormat::Jpeg | ImageFormat::Png) => Ok(r),
        Some(f) => Err(format!("{f:?} images are not read (JPEG and PNG are)")),
        None => Err("not a JPEG or PNG image".into()),
    }
}

/// The image's size from its header, within [`MIN_SIDE`] and [`MAX_PIXELS`].
fn checked_dimensions(bytes: &[u8]) -> std::result::Result<(u32, u32), String> {
    let (w, h) = reader(bytes)?.into_dimensions().map_err(|e| format!("not a readable image: {e}"))?;
    if w as u64 * h as u64 > MAX_PIXELS {
        return Err(format!("{w}x{h} pixels is above the {MAX_PIXELS}-pixel limit (a decompression bomb?)"));
    }
    if (w as usize) < MIN_SIDE || (h as usize) < MIN_SIDE {
        return Err(format!("{w}x{h} pixels is too small (at least {MIN_SIDE} a side)"));
    }
    Ok((w, h))
}

fn decode_inner(bytes: &[u8]) -> std::result::Result<(usize, usize, Vec<u8>), String> {
    let (w, h) = checked_dimensions(bytes)?;
    let mut r = reader(bytes)?;
    // The decoders fill in what a cut file lacks (some JPEGs): refuse it first, whatever its
    // colour model or encoding.
    match r.format() {
        Some(ImageFormat::Jpeg) => super::complete::jpeg(bytes)?,
        Some(ImageFormat::Png) => super::complete::png(bytes)?,
        _ => {}
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    limits.max_alloc = Some(MAX_PIXELS * 8);
    r.limits(limits);
    let img = r.decode().map_err(|e| format!("corrupt or truncated image: {e}"))?.into_rgb8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let plane = w * h;
    let mut chw = vec![0u8; 3 * plane];
    for (i, px) in img.as_raw().chunks_exact(3).enumerate() {
        chw[i] = px[0];
        chw[plane + i] = px[1];
        chw[2 * plane + i] = px[2];
    }
    Ok((w, h, chw))
}
