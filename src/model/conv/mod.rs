//! The model's 2-D convolution: burn's `conv2d`, except on burn's CPU backend (flex), where the
//! forward and both gradients run through [`kernels`] (one im2col + `gemm` per group and chunk of
//! images; see there for why and for the determinism guarantee).
//!
//! The flex path is a burn backend extension (`burn/extension`, `#[backend_extension]`) with a
//! hand-written autodiff node, the mechanism burn documents for custom operations: the op
//! records `x` and `w`, and its backward returns `dx` and `dw` from [`kernels::backward`]. It
//! lives in this crate rather than in burn because burn-flex 0.22.1 has no conv backward of
//! its own, and burn is pinned (README "Why burn 0.22.1"). Other backends (WebGPU, wgpu,
//! CUDA) keep burn's conv, whose CubeCL kernels have their own backward.

pub mod kernels;

use burn::prelude::*;
use burn::tensor::ops::ConvOptions;

/// `conv2d(x, weight)` without bias, on whatever backend `x` lives.
pub fn conv2d(x: Tensor<4>, weight: Tensor<4>, options: ConvOptions<2>) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if cpu::applies(&x, &weight, &options) {
        return cpu::conv2d(x, weight, options);
    }
    burn::tensor::module::conv2d(x, weight, None, options)
}

#[cfg(feature = "flex")]
mod cpu {
    use burn::backend::autodiff::checkpoint::base::Checkpointer;
    use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
    use burn::backend::autodiff::grads::Gradients;
    use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
    use burn::backend::autodiff::NodeId;
    use burn::backend::flex::FlexTensor;
    use burn::backend::tensor::FloatTensor;
    use burn::backend::{backend_extension, Autodiff, Dispatch, DispatchTensorKind, Flex};
    use burn::prelude::*;
    use burn::tensor::ops::ConvOptions;
    use burn::tensor::{DType, TensorData};

    use super::kernels::{self, Geometry};

    #[backend_extension(Flex, Autodiff)]
    pub trait CpuConv: burn::backend::Backend {
        fn cpu_conv2d(x: FloatTensor<Self>, weight: FloatTensor<Self>, options: ConvOptions<2>) -> FloatTensor<Self>;
    }

    /// Whether `x` and `weight` are `f32` flex tensors (with or without autodiff) of a valid conv.
    pub fn applies(x: &Tensor<4>, weight: &Tensor<4>, options: &ConvOptions<2>) -> bool {
        let flex = |t: &Tensor<4>| t.dtype() == DType::F32 && on_flex(&t.clone().into_dispatch().kind);
        flex(x) && flex(weight) && geometry_of(&x.dims(), &weight.dims(), options).is_some()
    }

    pub fn conv2d(x: Tensor<4>, weight: Tensor<4>, options: ConvOptions<2>) -> Tensor<4> {
        Tensor::from_dispatch(<Dispatch as CpuConv>::cpu_conv2d(x.into_dispatch(), weight.into_dispatch(), options))
    }

    fn on_flex(kind: &DispatchTensorKind) -> bool {
        #[allow(unreachable_patterns)]
        match kind {
            DispatchTensorKind::Flex(_) => true,
            DispatchTensorKind::Autodiff(inner) => on_flex(inner),
            _ => false,
        }
    }

    fn geometry_of(x: &[usize; 4], w: &[usize; 4], o: &ConvOptions<2>) -> Option<Geometry> {
        Geometry::new(*x, *w, o.stride, o.padding, o.dilation, o.groups)
    }

    fn geometry(x: &FlexTensor, w: &FlexTensor, o: &ConvOptions<2>) -> Geometry {
        let dims = |t: &FlexTensor| -> [usize; 4] { t.layout().shape().dims() };
        geometry_of(&dims(x), &dims(w), o).expect("conv shapes were checked in try_conv2d")
    }

    /// The tensor's values in row-major order (copied only when its layout is not).
    fn values(t: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
        match t.as_slice::<f32>() {
            Some(s) => std::borrow::Cow::Borrowed(s),
            None => std::borrow::Cow::Owned(t.to_contiguous().as_slice::<f32>().expect("contiguous after to_contiguous").to_vec()),
        }
    }

    fn tensor(values: Vec<f32>, shape: [usize; 4]) -> FlexTensor {
        FlexTensor::from_data(TensorData::new(values, shape))
    }

    fn forward(x: &FlexTensor, w: &FlexTensor, options: &ConvOptions<2>) -> FlexTensor {
        let geo = geometry(x, w, options);
        tensor(kernels::forward(&geo, &values(x), &values(w)), [geo.n, geo.co, geo.ho, geo.wo])
    }

    impl CpuConv for Flex {
        fn cpu_conv2d(x: FlexTensor, weight: FlexTensor, options: ConvOptions<2>) -> FlexTensor {
            forward(&x, &weight, &options)
        }
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
            let (dx, dw) = kernels::backward(&geo, &values(&x), &values(&w), &values(&dy), node_x.is_some(), node_w.is_some());
            if let (Some(node), Some(dx)) = (node_x, dx) {
                grads.register::<Flex>(node.id, tensor(dx, [geo.n, geo.c, geo.h, geo.w]));
            }
            if let (Some(node), Some(dw)) = (node_w, dw) {
                grads.register::<Flex>(node.id, tensor(dw, [geo.co, geo.c / geo.groups, geo.kh, geo.kw]));
            }
        }
    }

    impl<C: CheckpointStrategy> CpuConv for Autodiff<Flex, C> {
        fn cpu_conv2d(x: FloatTensor<Self>, weight: FloatTensor<Self>, options: ConvOptions<2>) -> FloatTensor<Self> {
            match ConvBackward.prepare::<C>([x.node(), weight.node()]).compute_bound().stateful() {
                OpsKind::Tracked(mut prep) => {
                    let x_state = prep.checkpoint(&x);
                    let w_state = prep.checkpoint(&weight);
                    let y = forward(x.primitive(), weight.primitive(), &options);
                    prep.finish((x_state, w_state, options), y)
                }
                OpsKind::UnTracked(prep) => prep.finish(forward(x.primitive(), weight.primitive(), &options)),
            }
        }
    }
}
