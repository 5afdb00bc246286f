//! The model's CPU ops (src/model/cpu) against burn's own on flex: the convolution's output and
//! both gradients over the shapes the model uses and the options it does not; training-mode
//! BatchNorm's output, running statistics and three gradients. Native only (proptest); the
//! wasm tests run the same kernels through whole training steps (`tests/web.rs`).
#![cfg(not(target_arch = "wasm32"))]

use burn::prelude::*;
use burn::tensor::module::conv2d as burn_conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Distribution, TensorData};
use burn::module::Param;
use burn::nn::{BatchNorm, BatchNormConfig};
use locolab::model::cpu::{batch_norm, batch_norm_relu, conv2d};

/// `(x dims, w dims, stride, padding pairs, dilation, groups)`
type Case = ([usize; 4], [usize; 4], [usize; 2], [(usize, usize); 2], [usize; 2], usize);

fn cases() -> Vec<Case> {
    vec![
        // The model's shapes: 3x3 (stem, basic), 1x1 (bottleneck, shortcut), grouped, strided.
        ([2, 3, 9, 9], [8, 3, 3, 3], [1, 1], [(1, 1), (1, 1)], [1, 1], 1),
        ([3, 8, 6, 6], [12, 8, 1, 1], [1, 1], [(0, 0), (0, 0)], [1, 1], 1),
        ([2, 8, 7, 7], [8, 2, 3, 3], [1, 1], [(1, 1), (1, 1)], [1, 1], 4),
        ([2, 6, 9, 8], [4, 6, 3, 3], [2, 2], [(1, 1), (1, 1)], [1, 1], 1),
        ([2, 6, 9, 8], [6, 6, 1, 1], [2, 2], [(0, 0), (0, 0)], [1, 1], 1),
        ([1, 3, 15, 15], [4, 3, 7, 7], [2, 2], [(3, 3), (3, 3)], [1, 1], 1),
        ([5, 16, 3, 3], [16, 2, 3, 3], [1, 1], [(1, 1), (1, 1)], [1, 1], 8),
        // Options the model does not use: asymmetric padding, dilation, uneven strides, no padding.
        ([2, 4, 8, 7], [6, 2, 3, 2], [1, 2], [(2, 0), (0, 1)], [1, 1], 2),
        ([2, 3, 10, 10], [5, 3, 3, 3], [1, 1], [(2, 2), (2, 2)], [2, 2], 1),
        ([2, 3, 6, 6], [5, 3, 3, 3], [3, 1], [(0, 0), (0, 0)], [1, 1], 1),
        // Stride 1, output rows as long as the input's (the shifted-block im2col/col2im), with
        // asymmetric padding and with a 5x5 kernel.
        ([2, 4, 8, 7], [6, 4, 3, 2], [1, 1], [(2, 0), (0, 1)], [1, 1], 1),
        ([3, 2, 9, 6], [3, 2, 5, 5], [1, 1], [(2, 2), (2, 2)], [1, 1], 1),
        // Planes of 256 or more: one image per product (outputs and pointwise gradients in place).
        ([2, 8, 16, 16], [12, 8, 1, 1], [1, 1], [(0, 0), (0, 0)], [1, 1], 1),
        ([2, 8, 16, 16], [8, 2, 1, 1], [1, 1], [(0, 0), (0, 0)], [1, 1], 4),
        ([2, 4, 16, 17], [6, 4, 3, 3], [1, 1], [(1, 1), (1, 1)], [1, 1], 1),
        // Enough images for several chunks and all four parts.
        ([9, 4, 4, 4], [6, 4, 3, 3], [1, 1], [(1, 1), (1, 1)], [1, 1], 1),
    ]
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().expect("f32 values")
}

fn assert_close(what: &str, ours: &[f32], theirs: &[f32]) {
    assert_eq!(ours.len(), theirs.len(), "{what}: length");
    let scale = theirs.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let worst = ours.iter().zip(theirs).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst <= 1e-5 * scale * 10.0, "{what}: max difference {worst} (scale {scale})");
}

/// Output, dx and dw of `sum(conv(x, w) * r)` with the given conv function.
fn run(conv: impl Fn(Tensor<4>, Tensor<4>, ConvOptions<2>) -> Tensor<4>, case: &Case, data: &[TensorData; 3]) -> [Vec<f32>; 3] {
    let (_, _, stride, padding, dilation, groups) = *case;
    let device = Device::flex().autodiff();
    let x = Tensor::<4>::from_data(data[0].clone(), &device).require_grad();
    let w = Tensor::<4>::from_data(data[1].clone(), &device).require_grad();
    let r = Tensor::<4>::from_data(data[2].clone(), &device);
    let y = conv(x.clone(), w.clone(), ConvOptions::new_with_padding(stride, padding, dilation, groups));
    let grads = (y.clone() * r).sum().backward();
    let grad = |t: &Tensor<4>| values(Tensor::from_inner(t.grad(&grads).expect("a gradient")));
    [values(y), grad(&x), grad(&w)]
}

/// Ours against burn's conv on random data of one geometry: output, dx and dw.
fn check_conv(case: &Case) {
    let (xd, wd, stride, padding, dilation, groups) = *case;
    let device = Device::flex();
    // The output shape comes from burn's conv on plain tensors.
    let options = ConvOptions::new_with_padding(stride, padding, dilation, groups);
    let out = burn_conv2d(Tensor::<4>::zeros(xd, &device), Tensor::<4>::zeros(wd, &device), None, options).dims();
    let random = |dims: [usize; 4]| Tensor::<4>::random(dims, Distribution::Normal(0.0, 1.0), &device).into_data();
    let data = [random(xd), random(wd), random(out)];
    let ours = run(conv2d, case, &data);
    let theirs = run(|x, w, o| burn_conv2d(x, w, None, o), case, &data);
    for (what, (a, b)) in ["output", "dx", "dw"].iter().zip(ours.iter().zip(&theirs)) {
        assert_close(&format!("{case:?} {what}"), a, b);
    }
}

#[test]
fn cpu_conv_matches_burn_forward_and_gradients() {
    Device::flex().seed(7);
    for case in cases() {
        check_conv(&case);
    }
}

#[test]
fn cpu_conv_without_autodiff_matches_burn() {
    let device = Device::flex();
    let x = Tensor::<4>::random([3, 4, 6, 6], Distribution::Normal(0.0, 1.0), &device);
    let w = Tensor::<4>::random([8, 2, 3, 3], Distribution::Normal(0.0, 1.0), &device);
    let o = ConvOptions::new([1, 1], [1, 1], [1, 1], 2);
    assert_close("plain flex", &values(conv2d(x.clone(), w.clone(), o.clone())), &values(burn_conv2d(x, w, None, o)));
}

#[test]
fn cpu_conv_input_without_gradient_still_trains_the_weight() {
    // The first conv's input (the images) carries no gradient: only dw is asked for.
    let device = Device::flex().autodiff();
    let x = Tensor::<4>::random([2, 3, 5, 5], Distribution::Normal(0.0, 1.0), &device);
    let w = Tensor::<4>::random([4, 3, 3, 3], Distribution::Normal(0.0, 1.0), &device).require_grad();
    let o = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    let ours = conv2d(x.clone(), w.clone(), o.clone()).sum().backward();
    let ours = values(Tensor::from_inner(w.grad(&ours).unwrap()));
    let theirs = burn_conv2d(x, w.clone(), None, o).sum().backward();
    let theirs = values(Tensor::from_inner(w.grad(&theirs).unwrap()));
    assert_close("dw", &ours, &theirs);
}

fn bn_with(gamma: &TensorData, beta: &TensorData, device: &Device) -> BatchNorm {
    let mut bn = BatchNormConfig::new(gamma.num_elements()).init(device);
    bn.gamma = Param::from_tensor(Tensor::from_data(gamma.clone(), device));
    bn.beta = Param::from_tensor(Tensor::from_data(beta.clone(), device));
    bn
}

/// What [`run_bn`] returns, in order.
const BN_OUTPUTS: [&str; 10] = ["output", "dx", "dgamma", "dbeta", "output 2", "dx 2", "dgamma 2", "dbeta 2", "running mean", "running var"];

/// `x` (`dims`, normal around `mean`), gamma (around 1), beta (around 0) and `r`, seeded by `device`.
fn bn_data(device: &Device, dims: [usize; 4], mean: f64) -> [TensorData; 4] {
    let random = |d: Vec<usize>, mean: f64| {
        let flat = Tensor::<1>::random([d.iter().product::<usize>()], Distribution::Normal(mean, 1.0), device);
        TensorData::new(values(flat), d)
    };
    let c = dims[1];
    [random(dims.to_vec(), mean), random(vec![c], 1.0), random(vec![c], 0.0), random(dims.to_vec(), 0.0)]
}

/// Output, dx, dgamma, dbeta of `sum(bn(x) * r)`, then the running mean and variance.
fn run_bn(norm: impl Fn(&BatchNorm, Tensor<4>) -> Tensor<4>, data: &[TensorData; 4]) -> Vec<Vec<f32>> {
    let device = Device::flex().autodiff();
    let bn = bn_with(&data[1], &data[2], &device);
    let x = Tensor::<4>::from_data(data[0].clone(), &device).require_grad();
    let r = Tensor::<4>::from_data(data[3].clone(), &device);
    let mut out = Vec::new();
    for _ in 0..2 {
        // Twice: the second call starts from the running statistics the first one left.
        let y = norm(&bn, x.clone());
        let grads = (y.clone() * r.clone()).sum().backward();
        out.push(values(y));
        out.push(values(Tensor::from_inner(x.grad(&grads).expect("dx"))));
        out.push(values(Tensor::from_inner(bn.gamma.val().grad(&grads).expect("dgamma"))));
        out.push(values(Tensor::from_inner(bn.beta.val().grad(&grads).expect("dbeta"))));
    }
    out.push(values(bn.running_mean.value()));
    out.push(values(bn.running_var.value()));
    out
}

#[test]
fn cpu_batch_norm_matches_burn_output_statistics_and_gradients() {
    let device = Device::flex();
    device.seed(7);
    for (dims, mean) in [([4, 3, 5, 5], 3.0), ([2, 16, 2, 2], 3.0), ([3, 8, 7, 9], 3.0), ([9, 5, 4, 4], 3.0), ([4, 6, 6, 6], 100.0)] {
        // Means far from zero check that the variance is taken around the mean.
        let data = bn_data(&device, dims, mean);
        let ours = run_bn(batch_norm, &data);
        let theirs = run_bn(|bn, x| bn.forward(x), &data);
        for (what, (a, b)) in BN_OUTPUTS.iter().zip(ours.iter().zip(&theirs)) {
            assert_close(&format!("{dims:?} {what}"), a, b);
        }
    }
}

#[test]
fn fused_batch_norm_relu_equals_relu_after_batch_norm_to_the_bit() {
    // The fused op (one pass, the ReLU's mask recomputed in the backward) against our
    // BatchNorm followed by burn's ReLU: output, every gradient and the running statistics,
    // bit for bit; and against burn's own BatchNorm + ReLU, to rounding. Zero beta and a mean
    // near zero put about half the outputs below zero.
    let device = Device::flex();
    device.seed(11);
    for (dims, mean) in [([4, 3, 5, 5], 0.0), ([2, 16, 2, 2], 0.5), ([3, 8, 7, 9], 0.0), ([4, 6, 6, 6], 100.0)] {
        let data = bn_data(&device, dims, mean);
        let fused = run_bn(batch_norm_relu, &data);
        let apart = run_bn(|bn, x| burn::tensor::activation::relu(batch_norm(bn, x)), &data);
        let burns = run_bn(|bn, x| burn::tensor::activation::relu(bn.forward(x)), &data);
        let zeros = fused[0].iter().filter(|&&v| v == 0.0).count();
        assert!(zeros > 0 && zeros < fused[0].len(), "{dims:?}: the ReLU must zero some outputs and keep others ({zeros})");
        for (i, what) in BN_OUTPUTS.iter().enumerate() {
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fused[i]), bits(&apart[i]), "{dims:?} {what}: fused and separate differ");
            assert_close(&format!("{dims:?} {what} (burn)"), &fused[i], &burns[i]);
        }
    }
}

#[test]
fn batch_norm_outside_training_is_burns() {
    // Inference (no autodiff): the running statistics are used and left alone.
    let device = Device::flex();
    let bn: BatchNorm = BatchNormConfig::new(3).init(&device);
    let x = Tensor::<4>::random([2, 3, 4, 4], Distribution::Normal(2.0, 1.0), &device);
    assert_close("inference", &values(batch_norm(&bn, x.clone())), &values(bn.forward(x)));
    let mean = values(bn.running_mean.value());
    assert!(mean.iter().all(|&m| m == 0.0), "inference must not update the running mean: {mean:?}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Any geometry: sizes, kernel, stride, per-side padding, dilation and groups.
    #[test]
    fn cpu_conv_matches_burn_on_random_geometries(
        (n, cg, cog, groups) in (1usize..5, 1usize..4, 1usize..4, 1usize..4),
        (h, w, kh, kw) in (1usize..12, 1usize..12, 1usize..5, 1usize..5),
        (sh, sw, dh, dw) in (1usize..4, 1usize..4, 1usize..3, 1usize..3),
        pads in proptest::array::uniform4(0usize..4),
    ) {
        let padding = [(pads[0], pads[1]), (pads[2], pads[3])];
        // Skip kernels that do not fit the padded input (burn's conv refuses them too).
        proptest::prop_assume!(h + pads[0] + pads[1] > dh * (kh - 1) && w + pads[2] + pads[3] > dw * (kw - 1));
        check_conv(&([n, cg * groups, h, w], [cog * groups, cg, kh, kw], [sh, sw], padding, [dh, dw], groups));
    }
}
