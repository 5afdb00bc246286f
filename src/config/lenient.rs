//! Knobs read from untrusted text (the page's URL), each checked on its own.

use serde::Serialize;

use crate::error::Error;
use super::knobs::{Overrides, TrainConfig};

/// Knobs read from untrusted text (the page's URL), each checked on its own: a bad one is
/// dropped with a warning that names it and why, and the rest still apply.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Lenient {
    pub preset: String,
    pub overrides: Overrides,
    pub warnings: Vec<String>,
}

impl Overrides {
    /// Parse `key=value` pairs (values as text, as in a URL) over `preset` (`default_preset`
    /// when absent or unknown). Unknown keys, unparsable values, values out of range and a
    /// combination that does not validate become warnings; the result always validates.
    pub fn lenient(preset: Option<&str>, default_preset: &str, pairs: &[(String, String)]) -> Lenient {
        let mut warnings = Vec::new();
        let preset = match preset {
            Some(p) if TrainConfig::preset(p).is_ok() => p.to_string(),
            Some(p) => {
                warnings.push(format!("unknown preset '{}' ignored; using '{default_preset}'", clip(p)));
                default_preset.to_string()
            }
            None => default_preset.to_string(),
        };
        let mut known = serde_json::Map::new();
        for (i, (key, text)) in pairs.iter().enumerate() {
            let ignored = |why: String| format!("{}={} ignored: {why}", clip(key), clip(text));
            // A key given twice (`?batch=8&batch=16`): the last one counts, as in a form.
            if pairs[i + 1..].iter().any(|(k, _)| k == key) {
                warnings.push(ignored(format!("{} is given again later", clip(key))));
                continue;
            }
            // A number (or true/false/null) when the text is one, else the text as a string.
            let value = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .filter(|v| !v.is_object() && !v.is_array() && !v.is_string())
                .unwrap_or_else(|| serde_json::Value::String(text.clone()));
            let one = serde_json::Value::Object([(key.clone(), value.clone())].into_iter().collect());
            let single: Overrides = match serde_json::from_value(one) {
                Ok(o) => o,
                Err(e) if e.to_string().starts_with("unknown field") => {
                    warnings.push(format!("unknown setting '{}' ignored", clip(key)));
                    continue;
                }
                Err(e) => {
                    warnings.push(ignored(first_clause(&e.to_string())));
                    continue;
                }
            };
            match TrainConfig::preset_with(&preset, &single) {
                Ok(_) => {
                    known.insert(key.clone(), value);
                }
                Err(e) => warnings.push(ignored(bare(e))),
            }
        }
        let overrides: Overrides = serde_json::from_value(serde_json::Value::Object(known)).unwrap_or_default();
        if let Err(e) = TrainConfig::preset_with(&preset, &overrides) {
            warnings.push(format!("these settings do not fit together ({}); using the '{preset}' preset", bare(e)));
            return Lenient { preset, overrides: Overrides::default(), warnings };
        }
        Lenient { preset, overrides, warnings }
    }
}

/// A config error's message without the "invalid configuration: " its Display adds.
fn bare(e: Error) -> String {
    match e {
        Error::Config(m) => m,
        other => other.to_string(),
    }
}

/// At most 40 characters of untrusted text, for messages.
fn clip(s: &str) -> String {
    if s.chars().count() <= 40 {
        s.to_string()
    } else {
        s.chars().take(40).collect::<String>() + "..."
    }
}

/// A serde message without its "at line 1 column 9" tail.
fn first_clause(msg: &str) -> String {
    let msg = msg.split(" at line ").next().unwrap_or(msg);
    msg.strip_prefix("invalid configuration: ").unwrap_or(msg).to_string()
}
