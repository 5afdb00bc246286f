//! Is an image file whole? A walk over a JPEG's markers or a PNG's chunks to their last one,
//! before decoding.
//!
//! The decoders do not tell: zune-jpeg fills the missing part of a grayscale, CMYK or
//! progressive JPEG that stops mid-scan and returns an image (only some baseline RGB ones
//! fail), so a download that stopped would train as a half-grey picture. Pillow refuses the
//! same files ("image file is truncated"); so do we, in one line, whatever the colour model or
//! encoding. Bytes after the end marker (some cameras append data) are allowed.

/// `Ok` if `bytes` hold a JPEG's markers from SOI through at least one scan to EOI, else why not.
pub fn jpeg(bytes: &[u8]) -> Result<(), String> {
    let cut = |what: &str| Err(format!("truncated JPEG: the file ends {what}, before the end-of-image marker ({} bytes)", bytes.len()));
    if bytes.len() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 {
        return Err("not a JPEG: no start-of-image marker".into());
    }
    let mut i = 2;
    let mut scans = 0;
    loop {
        // A marker: 0xFF, any number of 0xFF fill bytes, then its code.
        if i >= bytes.len() {
            return cut("between segments");
        }
        if bytes[i] != 0xFF {
            return Err(format!("corrupt JPEG: expected a marker at byte {i}, found 0x{:02X}", bytes[i]));
        }
        while i < bytes.len() && bytes[i] == 0xFF {
            i += 1;
        }
        let Some(&code) = bytes.get(i) else { return cut("inside a marker") };
        i += 1;
        match code {
            0xD9 if scans > 0 => return Ok(()),
            0xD9 => return Err("corrupt JPEG: it ends before any image data (no scan)".into()),
            // Markers without a length: restart markers and TEM.
            0xD0..=0xD7 | 0x01 => continue,
            0x00 | 0xD8 => return Err(format!("corrupt JPEG: marker 0xFF{code:02X} at byte {}", i - 2)),
            _ => {}
        }
        if i + 2 > bytes.len() {
            return cut("inside a segment's length");
        }
        let len = u16::from_be_bytes([bytes[i], bytes[i + 1]]) as usize;
        if len < 2 {
            return Err(format!("corrupt JPEG: segment 0xFF{code:02X} at byte {} has length {len}", i - 2));
        }
        if i + len > bytes.len() {
            return cut("inside a segment");
        }
        i += len;
        if code == 0xDA {
            // Entropy-coded data of a scan: up to the next marker that is not a stuffed 0x00 or
            // a restart marker.
            scans += 1;
            loop {
                match bytes.get(i..i + 2) {
                    None => return cut("inside a scan's image data"),
                    Some([0xFF, 0x00]) | Some([0xFF, 0xD0..=0xD7]) => i += 2,
                    // 0xFF 0xFF: fill bytes before a marker.
                    Some([0xFF, _]) => break,
                    Some(_) => i += 1,
                }
            }
        }
    }
}

/// `Ok` if `bytes` hold a PNG's chunks from its signature to IEND, else why not.
pub fn png(bytes: &[u8]) -> Result<(), String> {
    const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    if bytes.get(..8) != Some(&SIGNATURE[..]) {
        return Err("not a PNG: no signature".into());
    }
    let mut i = 8;
    loop {
        let Some(head) = bytes.get(i..i + 8) else {
            return Err(format!("truncated PNG: the file ends before the IEND chunk ({} bytes)", bytes.len()));
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = &head[4..8];
        // Length, type, data, CRC.
        let end = i.saturating_add(12).saturating_add(len);
        if end > bytes.len() {
            let name = String::from_utf8_lossy(kind);
            return Err(format!("truncated PNG: the file ends inside its {name} chunk ({} bytes)", bytes.len()));
        }
        if kind == b"IEND" {
            return Ok(());
        }
        i = end;
    }
}
