//! NT-Xent against hand-computed values.
#![cfg(not(target_arch = "wasm32"))]
use burn::prelude::*;
use locolab::loss::nt_xent;

fn loss(rows: Vec<[f32; 2]>, t: f64) -> f32 {
    let n = rows.len();
    let flat: Vec<f32> = rows.into_iter().flatten().collect();
    let z = Tensor::<2>::from_data(TensorData::new(flat, [n, 2]), &Device::flex());
    nt_xent(z, t).into_scalar::<f32>()
}

#[test]
fn orthogonal_pairs_match_hand_computation() {
    // Rows 0/2 and 1/3 are positives; cos(0,2) = 1, every other pair 0.
    // Each row: -1/t + log(e^{1/t} + 2 e^0). t = 1: -1 + ln(e + 2) = 0.551444...
    let got = loss(vec![[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]], 1.0);
    assert!((got - 0.551_444_6).abs() < 1e-5, "got {got}");
    // t = 0.5: -2 + ln(e^2 + 2) = 0.239...; embeddings are normalised, so scale is irrelevant.
    let got = loss(vec![[3.0, 0.0], [0.0, 2.0], [5.0, 0.0], [0.0, 0.1]], 0.5);
    let want = -2.0 + (2f64.exp() + 2.0).ln();
    assert!((got as f64 - want).abs() < 1e-5, "got {got}, want {want}");
}

#[test]
fn general_case_matches_a_direct_loop() {
    let rows = vec![[1.0, 0.2], [0.3, -1.0], [0.9, 0.5], [-0.2, -0.8], [0.1, 1.0], [-1.0, 0.3]];
    let t = 0.3;
    let norm: Vec<[f64; 2]> = rows
        .iter()
        .map(|r| {
            let n = ((r[0] * r[0] + r[1] * r[1]) as f64).sqrt();
            [r[0] as f64 / n, r[1] as f64 / n]
        })
        .collect();
    let m = norm.len();
    let mut want = 0.0;
    for i in 0..m {
        let s = |j: usize| (norm[i][0] * norm[j][0] + norm[i][1] * norm[j][1]) / t;
        let denom: f64 = (0..m).filter(|&j| j != i).map(|j| s(j).exp()).sum();
        want += -s((i + m / 2) % m) + denom.ln();
    }
    want /= m as f64;
    let got = loss(rows, t);
    assert!((got as f64 - want).abs() < 1e-4, "got {got}, want {want}");
}
