//! The model's convolution and training-mode BatchNorm: burn's own ops, except on burn's CPU
//! backend (flex), where they run through kernels of ours ([`conv`], [`norm`]; each says why).
//!
//! The flex path is a burn backend extension (`burn/extension`, `#[backend_extension]`) with
//! hand-written autodiff nodes, the mechanism burn documents for custom operations: each op
//! records its inputs, and its backward returns their gradients from our kernels. This lives in
//! our crate rather than in burn because burn-flex 0.22.1 has no conv or BatchNorm backward of
//! its own and burn is pinned (docs/design.md, "Why burn 0.22.1"). Other backends (WebGPU, wgpu, CUDA)
//! keep burn's ops, whose CubeCL kernels have their own backward.

pub mod conv;
pub mod norm;
mod parts;

use burn::nn::BatchNorm;
use burn::prelude::*;
use burn::tensor::ops::ConvOptions;

/// `conv2d(x, weight)` without bias, on whatever backend `x` lives.
pub fn conv2d(x: Tensor<4>, weight: Tensor<4>, options: ConvOptions<2>) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if flex::conv_applies(&x, &weight, &options) {
        return flex::conv2d(x, weight, options);
    }
    burn::tensor::module::conv2d(x, weight, None, options)
}

/// `bn.forward(x)`, with the same running-statistics update as burn's `BatchNorm` in training.
pub fn batch_norm(bn: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    norm(bn, x, false)
}

/// `relu(bn.forward(x))`; on flex in training, one op (`norm`'s fused ReLU: the same values
/// and gradients, without the ReLU's own output tensor and passes).
pub fn batch_norm_relu(bn: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    norm(bn, x, true)
}

fn norm(bn: &BatchNorm, x: Tensor<4>, relu: bool) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if norm_on_flex(bn, &x) {
        let (y, mean, var, _) = flex::batch_norm_train(x, bn.gamma.val(), bn.beta.val(), bn.epsilon, relu);
        update_running(bn, mean, var);
        return y;
    }
    let y = bn.forward(x);
    if relu { burn::tensor::activation::relu(y) } else { y }
}

#[cfg(feature = "flex")]
fn norm_on_flex(bn: &BatchNorm, x: &Tensor<4>) -> bool {
    x.device().is_autodiff() && bn.training.is_enabled() && flex::norm_applies(x, bn)
}

/// burn-nn 0.22.1 `BatchNorm::forward_train`'s update: momentum-weighted, biased batch variance.
#[cfg(feature = "flex")]
fn update_running(bn: &BatchNorm, mean: Tensor<1>, var: Tensor<1>) {
    let device = mean.device();
    let update = |state: &burn::module::RunningState<Tensor<1>>, batch: Tensor<1>| {
        let running = state.value_sync().to_device(&device);
        state.update(running.mul_scalar(1.0 - bn.momentum).add(batch.detach().mul_scalar(bn.momentum)).detach());
    };
    update(&bn.running_mean, mean);
    update(&bn.running_var, var);
}

/// The values a stage's forward pass computed, kept so that a second forward pass of the same
/// stage, on the same input with the same weights, builds its autodiff graph without computing
/// them again: LoCo's shared stage runs in the unit below it and again in the unit above it
/// (`crate::method::engine`). Per conv + BatchNorm pair, in the order they run: the conv's
/// output and BatchNorm's batch statistics and affine map (BatchNorm's output is one pass over
/// the conv's, and keeping it would hold a second tensor per pair).
///
/// Only flex's own kernels record (they are deterministic: the same input and weights give the
/// same bits); elsewhere, and for any pair past the recorded ones (a stage recorded through its
/// first blocks only), the second pass computes. Either way it holds the same values and builds
/// the same graph, so gradients and running statistics (updated by both passes, as before)
/// are bit for bit those of computing twice (`tests/replay.rs`).
#[derive(Default)]
pub struct Tape {
    #[cfg(feature = "flex")]
    entries: Vec<Recorded>,
    /// `Some(next entry)` while replaying, `None` while recording.
    at: Option<usize>,
    /// Set at the first pair that could not be recorded (or replayed): the pairs after it
    /// are computed, so that an entry is only ever replayed in its own place.
    ended: bool,
    replayed: usize,
    /// The stage's input after its resize (PResNet's bilinear downsampling): a replay whose
    /// input carries no gradient (the unit above's detached input) takes it as it is.
    resized: Option<Tensor<4>>,
}

#[cfg(feature = "flex")]
#[derive(Clone)]
struct Recorded {
    conv: Tensor<4>,
    mean: Tensor<1>,
    var: Tensor<1>,
    affine: Tensor<1>,
}

impl Tape {
    /// An empty tape that records the forward pass it is given to.
    pub fn recording() -> Self {
        Self::default()
    }

    /// Replay from the first recorded pair on (again, for each later pass).
    pub fn rewind(&mut self) {
        self.at = Some(0);
        self.ended = false;
    }

    /// `resize(x)`, recorded, or replayed where `x` carries no gradient (no graph to build).
    pub fn resize(&mut self, x: Tensor<4>, resize: impl FnOnce(Tensor<4>) -> Tensor<4>) -> Tensor<4> {
        match (&self.resized, self.at) {
            (Some(r), Some(_)) if !x.is_require_grad() => r.clone(),
            (_, at) => {
                let y = resize(x);
                if at.is_none() {
                    self.resized = Some(y.clone().detach());
                }
                y
            }
        }
    }

    /// How many pairs were replayed from it, over all its replays.
    pub fn replayed(&self) -> usize {
        self.replayed
    }
}

/// `bn(conv(x))`, or `relu(bn(conv(x)))`: the model's conv + BatchNorm pair ([`conv2d`], then
/// [`batch_norm`] or [`batch_norm_relu`]), recording into `tape` or replaying from it.
pub fn conv_bn(x: Tensor<4>, weight: Tensor<4>, options: ConvOptions<2>, bn: &BatchNorm, relu: bool, tape: Option<&mut Tape>) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if let Some(tape) = tape.filter(|t| !t.ended) {
        let on_flex = x.device().is_autodiff() && bn.training.is_enabled() && flex::conv_applies(&x, &weight, &options);
        match tape.at {
            Some(at) if on_flex && at < tape.entries.len() => {
                let r = tape.entries[at].clone();
                tape.at = Some(at + 1);
                tape.replayed += 1;
                let z = flex::conv2d_replay(x, weight, options, r.conv);
                let y = flex::batch_norm_replay(z, bn.gamma.val(), bn.beta.val(), bn.epsilon, relu, r.mean.clone(), r.var.clone(), r.affine);
                update_running(bn, r.mean, r.var);
                return y;
            }
            None if on_flex => {
                let z = flex::conv2d(x, weight, options);
                if norm_on_flex(bn, &z) {
                    let (y, mean, var, affine) = flex::batch_norm_train(z.clone(), bn.gamma.val(), bn.beta.val(), bn.epsilon, relu);
                    tape.entries.push(Recorded { conv: z.detach(), mean: mean.clone(), var: var.clone(), affine });
                    update_running(bn, mean, var);
                    return y;
                }
                tape.ended = true;
                return norm(bn, z, relu);
            }
            _ => tape.ended = true,
        }
    }
    #[cfg(not(feature = "flex"))]
    let _ = tape;
    norm(bn, conv2d(x, weight, options), relu)
}

#[cfg(feature = "flex")]
mod flex {
    use std::borrow::Cow;

    use burn::backend::autodiff::checkpoint::base::Checkpointer;
    use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
    use burn::backend::autodiff::grads::Gradients;
    use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
    use burn::backend::autodiff::NodeId;
    use burn::backend::flex::FlexTensor;
    use burn::backend::tensor::FloatTensor;
    use burn::backend::{backend_extension, Autodiff, Dispatch, DispatchTensorKind, Flex};
    use burn::nn::BatchNorm;
    use burn::prelude::*;
    use burn::tensor::ops::ConvOptions;
    use burn::tensor::{DType, TensorData};

    use crate::model::cpu::conv::{self, Geometry};
    use crate::model::cpu::norm::{self, Affine, Layout};

    #[backend_extension(Flex, Autodiff)]
    pub trait CpuOps: burn::backend::Backend {
        fn cpu_conv2d(x: FloatTensor<Self>, weight: FloatTensor<Self>, options: ConvOptions<2>) -> FloatTensor<Self>;
        /// `(output, batch mean, biased batch variance, affine map)`; only the output carries a
        /// gradient. `relu`: the output is `relu(bn(x))`, and its gradient flows through both.
        /// The affine map (`[2·C]`: scale, then shift) is what a replay needs (`Tape`).
        fn cpu_batch_norm_train(
            x: FloatTensor<Self>,
            gamma: FloatTensor<Self>,
            beta: FloatTensor<Self>,
            epsilon: f64,
            relu: bool,
        ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
        /// `cpu_conv2d` whose output `y` was computed before, from the same values (`Tape`):
        /// the same node, no computation.
        fn cpu_conv2d_replay(x: FloatTensor<Self>, weight: FloatTensor<Self>, options: ConvOptions<2>, y: FloatTensor<Self>) -> FloatTensor<Self>;
        /// `cpu_batch_norm_train`'s output node from its recorded statistics and affine map:
        /// the output in one pass over `x`, no statistics taken.
        #[allow(clippy::too_many_arguments)]
        fn cpu_batch_norm_replay(
            x: FloatTensor<Self>,
            gamma: FloatTensor<Self>,
            beta: FloatTensor<Self>,
            epsilon: f64,
            relu: bool,
            mean: FloatTensor<Self>,
            var: FloatTensor<Self>,
            affine: FloatTensor<Self>,
        ) -> FloatTensor<Self>;
    }

    /// An `f32` flex tensor, with or without autodiff.
    fn on_flex<const D: usize>(t: &Tensor<D>) -> bool {
        #[allow(unreachable_patterns)]
        fn kind(k: &DispatchTensorKind) -> bool {
            match k {
                DispatchTensorKind::Flex(_) => true,
                DispatchTensorKind::Autodiff(inner) => kind(inner),
                _ => false,
            }
        }
        t.dtype() == DType::F32 && kind(&t.clone().into_dispatch().kind)
    }

    pub fn conv_applies(x: &Tensor<4>, weight: &Tensor<4>, options: &ConvOptions<2>) -> bool {
        on_flex(x) && on_flex(weight) && geometry_of(&x.dims(), &weight.dims(), options).is_some()
    }

    pub fn norm_applies(x: &Tensor<4>, bn: &BatchNorm) -> bool {
        on_flex(x) && on_flex(&bn.gamma.val()) && on_flex(&bn.beta.val()) && bn.gamma.dims()[0] == x.dims()[1]
    }

    pub fn conv2d(x: Tensor<4>, weight: Tensor<4>, options: ConvOptions<2>) -> Tensor<4> {
        Tensor::from_dispatch(<Dispatch as CpuOps>::cpu_conv2d(x.into_dispatch(), weight.into_dispatch(), options))
    }

    pub fn batch_norm_train(x: Tensor<4>, gamma: Tensor<1>, beta: Tensor<1>, epsilon: f64, relu: bool) -> (Tensor<4>, Tensor<1>, Tensor<1>, Tensor<1>) {
        let (y, mean, var, affine) = <Dispatch as CpuOps>::cpu_batch_norm_train(x.into_dispatch(), gamma.into_dispatch(), beta.into_dispatch(), epsilon, relu);
        (Tensor::from_dispatch(y), Tensor::from_dispatch(mean), Tensor::from_dispatch(var), Tensor::from_dispatch(affine))
    }

    pub fn conv2d_replay(x: Tensor<4>, weight: Tensor<4>, options: ConvOptions<2>, y: Tensor<4>) -> Tensor<4> {
        Tensor::from_dispatch(<Dispatch as CpuOps>::cpu_conv2d_replay(x.into_dispatch(), weight.into_dispatch(), options, y.into_dispatch()))
    }

    #[allow(clippy::too_many_arguments)]
    pub fn batch_norm_replay(x: Tensor<4>, gamma: Tensor<1>, beta: Tensor<1>, epsilon: f64, relu: bool, mean: Tensor<1>, var: Tensor<1>, affine: Tensor<1>) -> Tensor<4> {
        Tensor::from_dispatch(<Dispatch as CpuOps>::cpu_batch_norm_replay(
            x.into_dispatch(),
            gamma.into_dispatch(),
            beta.into_dispatch(),
            epsilon,
            relu,
            mean.into_dispatch(),
            var.into_dispatch(),
            affine.into_dispatch(),
        ))
    }

    fn geometry_of(x: &[usize; 4], w: &[usize; 4], o: &ConvOptions<2>) -> Option<Geometry> {
        Geometry::new(*x, *w, o.stride, o.padding, o.dilation, o.groups)
    }

    fn dims<const D: usize>(t: &FlexTensor) -> [usize; D] {
        t.layout().shape().dims()
    }

    fn geometry(x: &FlexTensor, w: &FlexTensor, o: &ConvOptions<2>) -> Geometry {
        geometry_of(&dims(x), &dims(w), o).expect("conv shapes were checked by conv_applies")
    }

    fn layout(x: &FlexTensor) -> Layout {
        let [n, c, h, w] = dims(x);
        Layout { n, c, plane: h * w }
    }

    /// The tensor's values in row-major order (copied only when its layout is not).
    fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
        match t.as_slice::<f32>() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(t.to_contiguous().as_slice::<f32>().expect("contiguous after to_contiguous").to_vec()),
        }
    }

    fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> FlexTensor {
        FlexTensor::from_data(TensorData::new(values, shape))
    }

    fn conv_forward(x: &FlexTensor, w: &FlexTensor, options: &ConvOptions<2>) -> FlexTensor {
        let geo = geometry(x, w, options);
        tensor(conv::forward(&geo, &values(x), &values(w)), [geo.n, geo.co, geo.ho, geo.wo])
    }

    fn norm_forward(x: &FlexTensor, gamma: &FlexTensor, beta: &FlexTensor, epsilon: f64, relu: bool) -> (FlexTensor, FlexTensor, FlexTensor, Affine) {
        let l = layout(x);
        let (y, mean, var, affine) = norm::forward(&l, &values(x), &values(gamma), &values(beta), epsilon, relu);
        let [n, c, h, w] = dims(x);
        (tensor(y, [n, c, h, w]), tensor(mean, [c]), tensor(var, [c]), affine)
    }

    impl CpuOps for Flex {
        fn cpu_conv2d(x: FlexTensor, weight: FlexTensor, options: ConvOptions<2>) -> FlexTensor {
            conv_forward(&x, &weight, &options)
        }

        fn cpu_batch_norm_train(x: FlexTensor, gamma: FlexTensor, beta: FlexTensor, epsilon: f64, relu: bool) -> (FlexTensor, FlexTensor, FlexTensor, FlexTensor) {
            let (y, mean, var, affine) = norm_forward(&x, &gamma, &beta, epsilon, relu);
            (y, mean, var, affine_tensor(&affine))
        }

        fn cpu_conv2d_replay(x: FlexTensor, weight: FlexTensor, options: ConvOptions<2>, y: FlexTensor) -> FlexTensor {
            replayed_conv(&x, &weight, &options, y)
        }

        #[allow(clippy::too_many_arguments)]
        fn cpu_batch_norm_replay(x: FlexTensor, _: FlexTensor, _: FlexTensor, _: f64, relu: bool, _: FlexTensor, _: FlexTensor, affine: FlexTensor) -> FlexTensor {
            norm_apply(&x, &affine_of(&affine), relu)
        }
    }

    fn affine_tensor(a: &Affine) -> FlexTensor {
        tensor([a.scale.as_slice(), a.shift.as_slice()].concat(), [2 * a.scale.len()])
    }

    fn affine_of(t: &FlexTensor) -> Affine {
        let v = values(t);
        let (scale, shift) = v.split_at(v.len() / 2);
        Affine { scale: scale.to_vec(), shift: shift.to_vec() }
    }

    /// A replayed output, checked against the shape the op would give (a tape replayed in the
    /// wrong place is a bug, not a recoverable state).
    fn replayed_conv(x: &FlexTensor, w: &FlexTensor, options: &ConvOptions<2>, y: FlexTensor) -> FlexTensor {
        let geo = geometry(x, w, options);
        assert_eq!(dims::<4>(&y), [geo.n, geo.co, geo.ho, geo.wo], "a replayed conv output of another shape");
        y
    }

    fn norm_apply(x: &FlexTensor, affine: &Affine, relu: bool) -> FlexTensor {
        tensor(norm::apply(&layout(x), &values(x), affine, relu), dims::<4>(x))
    }

    #[derive(Debug)]
    struct ConvBackward;

    impl Backward<Flex, 2> for ConvBackward {
        type State = (NodeId, NodeId, ConvOptions<2>);

        fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
            let [node_x, node_w] = ops.parents;
            let dy = grads.consume::<Flex>(&ops.node);
            let (x_state, w_state, options) = ops.state;
            let x = checkpointer.retrieve_node_output::<FlexTensor>(x_state);
            let w = checkpointer.retrieve_node_output::<FlexTensor>(w_state);
            let geo = geometry(&x, &w, &options);
            let (dx, dw) = conv::backward(&geo, &values(&x), &values(&w), &values(&dy), node_x.is_some(), node_w.is_some());
            if let (Some(node), Some(dx)) = (node_x, dx) {
                grads.register::<Flex>(node.id, tensor(dx, [geo.n, geo.c, geo.h, geo.w]));
            }
            if let (Some(node), Some(dw)) = (node_w, dw) {
                grads.register::<Flex>(node.id, tensor(dw, [geo.co, geo.c / geo.groups, geo.kh, geo.kw]));
            }
        }
    }

    #[derive(Debug)]
    struct NormBackward;

    impl Backward<Flex, 3> for NormBackward {
        /// `x`, `gamma`, the batch statistics, epsilon, and with a fused ReLU the forward's
        /// per-channel affine map (2 x C values).
        type State = (NodeId, NodeId, FlexTensor, FlexTensor, f64, Option<Affine>);

        fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
            let [node_x, node_gamma, node_beta] = ops.parents;
            let dy = grads.consume::<Flex>(&ops.node);
            let (x_state, gamma_state, mean, var, epsilon, relu) = ops.state;
            let x = checkpointer.retrieve_node_output::<FlexTensor>(x_state);
            let gamma = checkpointer.retrieve_node_output::<FlexTensor>(gamma_state);
            let l = layout(&x);
            let (dx, dgamma, dbeta) = norm::backward(&l, &values(&x), &values(&gamma), &values(&mean), &values(&var), epsilon, &values(&dy), relu.as_ref());
            if let Some(node) = node_x {
                grads.register::<Flex>(node.id, tensor(dx, dims::<4>(&x)));
            }
            if let Some(node) = node_gamma {
                grads.register::<Flex>(node.id, tensor(dgamma, [l.c]));
            }
            if let Some(node) = node_beta {
                grads.register::<Flex>(node.id, tensor(dbeta, [l.c]));
            }
        }
    }

    impl<C: CheckpointStrategy> CpuOps for Autodiff<Flex, C> {
        fn cpu_conv2d(x: FloatTensor<Self>, weight: FloatTensor<Self>, options: ConvOptions<2>) -> FloatTensor<Self> {
            let y = conv_forward(x.primitive(), weight.primitive(), &options);
            conv_node::<C>(x, weight, options, y)
        }

        fn cpu_batch_norm_train(
            x: FloatTensor<Self>,
            gamma: FloatTensor<Self>,
            beta: FloatTensor<Self>,
            epsilon: f64,
            relu: bool,
        ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
            let (y, mean, var, affine) = norm_forward(x.primitive(), gamma.primitive(), beta.primitive(), epsilon, relu);
            let affine_values = affine_tensor(&affine);
            let y = norm_node::<C>(x, gamma, beta, epsilon, y, mean.clone(), var.clone(), relu.then_some(affine));
            (y, FloatTensor::<Self>::new(mean), FloatTensor::<Self>::new(var), FloatTensor::<Self>::new(affine_values))
        }

        fn cpu_conv2d_replay(x: FloatTensor<Self>, weight: FloatTensor<Self>, options: ConvOptions<2>, y: FloatTensor<Self>) -> FloatTensor<Self> {
            let y = replayed_conv(x.primitive(), weight.primitive(), &options, y.primitive().clone());
            conv_node::<C>(x, weight, options, y)
        }

        #[allow(clippy::too_many_arguments)]
        fn cpu_batch_norm_replay(
            x: FloatTensor<Self>,
            gamma: FloatTensor<Self>,
            beta: FloatTensor<Self>,
            epsilon: f64,
            relu: bool,
            mean: FloatTensor<Self>,
            var: FloatTensor<Self>,
            affine: FloatTensor<Self>,
        ) -> FloatTensor<Self> {
            let affine = affine_of(affine.primitive());
            let y = norm_apply(x.primitive(), &affine, relu);
            norm_node::<C>(x, gamma, beta, epsilon, y, mean.primitive().clone(), var.primitive().clone(), relu.then_some(affine))
        }
    }

    /// The conv's autodiff node over its output `y` (computed, or replayed).
    fn conv_node<C: CheckpointStrategy>(x: FloatTensor<Autodiff<Flex, C>>, weight: FloatTensor<Autodiff<Flex, C>>, options: ConvOptions<2>, y: FlexTensor) -> FloatTensor<Autodiff<Flex, C>> {
        match ConvBackward.prepare::<C>([x.node(), weight.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let w_state = prep.checkpoint(&weight);
                prep.finish((x_state, w_state, options), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }

    /// BatchNorm's autodiff node over its output `y` (computed, or replayed).
    #[allow(clippy::too_many_arguments)]
    fn norm_node<C: CheckpointStrategy>(
        x: FloatTensor<Autodiff<Flex, C>>,
        gamma: FloatTensor<Autodiff<Flex, C>>,
        beta: FloatTensor<Autodiff<Flex, C>>,
        epsilon: f64,
        y: FlexTensor,
        mean: FlexTensor,
        var: FlexTensor,
        affine: Option<Affine>,
    ) -> FloatTensor<Autodiff<Flex, C>> {
        match NormBackward.prepare::<C>([x.node(), gamma.node(), beta.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let gamma_state = prep.checkpoint(&gamma);
                prep.finish((x_state, gamma_state, mean, var, epsilon, affine), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::cpu::conv::{self, Geometry};
    use crate::model::cpu::norm::{self, Layout};

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n).map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) % 1000) as f32 / 500.0 - 1.0).collect()
    }

    /// Outputs and scratch are not zeroed first (`written`, `scratch`); here they start as NaN,
    /// so a value a kernel leaves unwritten makes a result NaN. Shapes cover every im2col path:
    /// stride-1 blocks with and without padding, strided rows, dilation, groups, pointwise, one
    /// image per product and several (planes under `MIN_COLUMNS`).
    #[test]
    fn every_value_is_written() {
        type G = ([usize; 4], [usize; 4], [usize; 2], [(usize, usize); 2], [usize; 2], usize);
        let cases: [G; 7] = [
            ([3, 4, 16, 16], [6, 4, 3, 3], [1, 1], [(1, 1), (1, 1)], [1, 1], 1),
            ([5, 4, 8, 8], [8, 4, 3, 3], [1, 1], [(1, 1), (1, 1)], [1, 1], 1),
            ([2, 3, 9, 7], [4, 3, 3, 3], [2, 2], [(1, 0), (0, 1)], [1, 1], 1),
            ([2, 4, 10, 10], [4, 2, 3, 3], [1, 1], [(2, 2), (2, 2)], [2, 2], 2),
            ([4, 8, 6, 6], [8, 8, 1, 1], [1, 1], [(0, 0), (0, 0)], [1, 1], 1),
            ([1, 8, 20, 20], [4, 8, 1, 1], [1, 1], [(0, 0), (0, 0)], [1, 1], 1),
            ([3, 2, 5, 5], [3, 2, 5, 5], [1, 1], [(0, 0), (0, 0)], [1, 1], 1),
        ];
        for (x_shape, w_shape, stride, pad, dil, groups) in cases {
            let geo = Geometry::new(x_shape, w_shape, stride, pad, dil, groups).unwrap();
            let (x, w) = (values(geo.x_len(), 1), values(geo.w_len(), 2));
            let y = conv::forward(&geo, &x, &w);
            assert!(y.iter().all(|v| v.is_finite()), "conv forward {geo:?}");
            let dy = values(geo.y_len(), 3);
            let (dx, dw) = conv::backward(&geo, &x, &w, &dy, true, true);
            assert!(dx.unwrap().iter().chain(&dw.unwrap()).all(|v| v.is_finite()), "conv backward {geo:?}");
        }
        let l = Layout { n: 3, c: 5, plane: 13 };
        let (x, dy) = (values(3 * 5 * 13, 4), values(3 * 5 * 13, 5));
        let (gamma, beta) = (values(5, 6), values(5, 7));
        for relu in [false, true] {
            let (y, mean, var, affine) = norm::forward(&l, &x, &gamma, &beta, 1e-5, relu);
            assert!(y.iter().all(|v| v.is_finite()), "norm forward, relu {relu}");
            let (dx, ..) = norm::backward(&l, &x, &gamma, &mean, &var, 1e-5, &dy, relu.then_some(&affine));
            assert!(dx.iter().all(|v| v.is_finite()), "norm backward, relu {relu}");
        }
    }
}
