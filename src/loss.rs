//! NT-Xent / InfoNCE over 2N views (SimCLR). Masks are built with arithmetic, never boolean
//! indexing, so WebGPU needs no synchronous read-back.

use burn::prelude::*;

/// Large negative added to the diagonal so a view is never its own negative.
const SELF_MASK: f32 = 1e9;

/// NT-Xent loss of embeddings `z` = [view1; view2] of shape [2N, D], with temperature `t`.
///
/// loss = mean_i [ -s(i, p(i)) + log sum_{j != i} exp s(i, j) ],  s = cos / t,  p(i) = i +- N.
pub fn nt_xent(z: Tensor<2>, temperature: f64) -> Tensor<1> {
    let [two_n, _] = z.dims();
    assert!(two_n % 2 == 0 && two_n >= 4, "nt_xent needs [2N, D] with N >= 2, got {two_n} rows");
    let n = two_n / 2;
    let device = z.device();
    let z = l2_normalize(z);
    let sim = z.clone().matmul(z.transpose()) / temperature;
    let eye = Tensor::<2>::eye(two_n, &device);
    let logits = sim.clone() - eye * SELF_MASK;
    // Positive of row i is column (i + N) mod 2N: a constant permutation matrix.
    let mut pos = vec![0f32; two_n * two_n];
    for i in 0..two_n {
        pos[i * two_n + (i + n) % two_n] = 1.0;
    }
    let pos = Tensor::<2>::from_data(TensorData::new(pos, [two_n, two_n]), &device);
    let positive = (sim * pos).sum_dim(1); // [2N, 1]
    let max = logits.clone().max_dim(1).detach();
    let lse = (logits - max.clone()).exp().sum_dim(1).log() + max;
    (lse - positive).mean()
}

/// Row-wise L2 normalisation with an epsilon so a zero row gives zeros, not NaN.
pub fn l2_normalize(z: Tensor<2>) -> Tensor<2> {
    let norm = z.clone().powi_scalar(2).sum_dim(1).add_scalar(1e-12).sqrt();
    z / norm
}
