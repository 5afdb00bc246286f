//! What the doors say about each method: the page builds its checkboxes, explanations and
//! memory bars from [`catalogue`], so adding a method to [`MethodKind::ALL`] adds it everywhere.

use crate::config::MethodKind;

/// One method, as the page presents it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MethodInfo {
    pub kind: MethodKind,
    pub title: &'static str,
    /// Its colour in every chart, figure and table (CSS hex).
    pub colour: &'static str,
    /// One line, under the method's chart.
    pub summary: &'static str,
    /// A few sentences, in the page's explanation.
    pub details: &'static str,
    /// The end-to-end reference the local methods are compared with (SimCLR).
    pub end_to_end: bool,
    /// The LoCo paper's measured memory saving against SimCLR on PResNet-50 (peak memory of
    /// SimCLR / peak memory of the method), for the page's memory bars.
    pub paper_saving_presnet50: Option<f64>,
}

pub fn info(kind: MethodKind) -> MethodInfo {
    let (title, summary, details) = match kind {
        MethodKind::Simclr => (
            "SimCLR",
            "End to end: one loss on top, gradients flow through every stage.",
            "One contrastive loss on top of the network; its gradient flows back through every stage (black curve).",
        ),
        MethodKind::Gim => (
            "GIM",
            "Greedy InfoMax: one loss per stage, no gradient crosses a stage boundary.",
            "Each stage is its own module with its own decoder and loss; no gradient crosses a stage boundary, so low \
             stages never hear from high ones. Its losses stay above SimCLR's.",
        ),
        MethodKind::Loco => (
            "LoCo",
            "LoCo: units of two stages overlap by one; the shared stage bridges gradients.",
            "Local units of two stages that overlap by one. The shared stage gets gradients from both units: a bridge \
             that lets upper layers guide lower ones while learning stays local. Its upper decoders track SimCLR's curve.",
        ),
    };
    let paper_saving_presnet50 = match kind {
        MethodKind::Simclr => None,
        MethodKind::Gim => Some(4.56),
        MethodKind::Loco => Some(2.76),
    };
    let colour = match kind {
        MethodKind::Simclr => "#141414",
        MethodKind::Gim => "#d66014",
        MethodKind::Loco => "#1f77b4",
    };
    MethodInfo { kind, title, colour, summary, details, end_to_end: kind == MethodKind::Simclr, paper_saving_presnet50 }
}

/// The random-init baseline's title and colour (the untrained encoder every method starts from).
pub const RANDOM_INIT_TITLE: &str = "random init";
pub const RANDOM_INIT_COLOUR: &str = "#8c8c8c";

/// Unit `u` of `n`'s hue in degrees, blue (the bottom unit) to green (the top): the page's loss
/// chart and the SVG figures colour a method's units alike.
pub fn unit_hue(u: usize, n: usize) -> f64 {
    210.0 - 150.0 * u as f64 / (n.max(2) - 1) as f64
}

/// Unit `u` of `n`'s colour as CSS (`hsl(h, 70%, 42%)`), as [`unit_hue`].
pub fn unit_colour(u: usize, n: usize) -> String {
    format!("hsl({:.0}, 70%, 42%)", unit_hue(u, n))
}

/// Title and colour of a run's method (`None`: the random-init baseline).
pub fn title_colour(kind: Option<MethodKind>) -> (&'static str, &'static str) {
    match kind {
        Some(k) => {
            let i = info(k);
            (i.title, i.colour)
        }
        None => (RANDOM_INIT_TITLE, RANDOM_INIT_COLOUR),
    }
}

/// Every method, in [`MethodKind::ALL`] order.
pub fn catalogue() -> Vec<MethodInfo> {
    MethodKind::ALL.iter().map(|&k| info(k)).collect()
}
