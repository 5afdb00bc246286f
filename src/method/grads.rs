//! Gradient bookkeeping over burn's rank-typed gradient container: one rank dispatch
//! ([`with_rank!`]) for every helper (reading an id at the wrong rank panics in burn).

use burn::module::{ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::prelude::*;

/// Run `$body` with the const `$d` set to `$rank` (the ranks of these networks' parameters).
macro_rules! with_rank {
    ($rank:expr, $d:ident => $body:expr) => {
        match $rank {
            1 => {
                const $d: usize = 1;
                $body
            }
            2 => {
                const $d: usize = 2;
                $body
            }
            4 => {
                const $d: usize = 4;
                $body
            }
            r => unreachable!("no rank-{r} parameters in these networks"),
        }
    };
}

pub(crate) fn move_grad(from: &mut GradientsParams, to: &mut GradientsParams, id: ParamId, rank: usize) {
    with_rank!(rank, D => from.remove::<D>(id).into_iter().for_each(|t| to.register(id, t)))
}

/// Drop one parameter's gradient; returns `|grad|` summed, if it had one.
pub fn remove_grad(g: &mut GradientsParams, id: ParamId, rank: usize) -> Option<Tensor<1>> {
    with_rank!(rank, D => g.remove::<D>(id).map(|t| t.abs().sum()))
}

/// `sum |grad|` of one parameter's gradient, if it has one.
pub fn grad_abs_sum(g: &GradientsParams, id: ParamId, rank: usize) -> Option<Tensor<1>> {
    with_rank!(rank, D => g.get::<D>(id).map(|t| t.abs().sum()))
}

struct FlatParams(Vec<Tensor<1>>);
impl ModuleVisitor for FlatParams {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let v = param.val();
        if v.is_require_grad() {
            self.0.push(v.flatten(0, D - 1));
        }
    }
}

/// Every trainable float parameter of a module, flattened, in visiting order.
pub fn flat_params<M: Module>(m: &M) -> Vec<Tensor<1>> {
    let mut v = FlatParams(Vec::new());
    m.visit(&mut v);
    v.0
}

struct Ids(Vec<(ParamId, usize)>);
impl ModuleVisitor for Ids {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push((param.id, D));
    }
}

/// The ids and ranks of a module's float parameters (burn's gradient container is typed by
/// rank: reading an id at the wrong rank panics).
pub fn param_ids<M: Module>(m: &M) -> Vec<(ParamId, usize)> {
    let mut v = Ids(Vec::new());
    m.visit(&mut v);
    v.0
}

struct Shapes(Vec<(ParamId, Vec<usize>)>);
impl ModuleVisitor for Shapes {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push((param.id, param.val().dims().to_vec()));
    }
}

/// The ids and shapes of a module's float parameters, in visiting order (the same order in
/// every clone of the module: the layout of a [`crate::worker::SharedGrads`] message).
pub fn param_shapes<M: Module>(m: &M) -> Vec<(ParamId, Vec<usize>)> {
    let mut v = Shapes(Vec::new());
    m.visit(&mut v);
    v.0
}

/// One parameter's gradient in `g` as plain values (for a message to another worker).
pub fn grad_values(g: &GradientsParams, id: ParamId, rank: usize) -> Option<Vec<f32>> {
    with_rank!(rank, D => g.get::<D>(id).map(|t| t.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 gradient")))
}

/// Register plain gradient values for one parameter of `shape` on `device`.
pub(crate) fn put_values(g: &mut GradientsParams, id: ParamId, shape: &[usize], values: Vec<f32>, device: &Device) {
    with_rank!(shape.len(), D => {
        let t: Tensor<D> = Tensor::from_data(TensorData::new(values, shape.to_vec()), device);
        g.register(id, t)
    })
}
