//! Where inference time goes, by tract operator: while `timed` runs, every model run is timed
//! node by node and the milliseconds summed by operator name. The caller brings the clock (the
//! module has none): `Instant` natively, `Date.now()` in the Worker, whose millisecond steps
//! average out over the thousands of nodes of a photo. Off, a run costs one thread-local read.

use std::cell::RefCell;
use std::collections::BTreeMap;

use tract_nnef::internal::*;
use tract_nnef::tract_core::plan::{eval, SimpleState};

use super::models::Plan;

/// Milliseconds per operator, e.g. `OptMatMul`, `DepthWiseConv`, `Pad` (a fused chain of
/// element-wise ops counts as `OptBinChain`, whatever it chains).
pub type OpTimes = BTreeMap<String, f64>;

struct Timer {
    now: fn() -> f64,
    times: OpTimes,
}

thread_local! {
    static TIMER: RefCell<Option<Timer>> = const { RefCell::new(None) };
}

/// Runs `f`, timing every model run inside it by operator; `now` is in milliseconds.
pub fn timed<T>(now: fn() -> f64, f: impl FnOnce() -> T) -> (T, OpTimes) {
    TIMER.with(|t| {
        *t.borrow_mut() = Some(Timer {
            now,
            times: OpTimes::new(),
        })
    });
    let out = f();
    let times = TIMER
        .with(|t| t.borrow_mut().take())
        .map(|t| t.times)
        .unwrap_or_default();
    (out, times)
}

/// Runs a plan, timed by operator when `timed` asked for it.
pub(super) fn run(plan: &Plan, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
    let Some(now) = TIMER.with(|t| t.borrow().as_ref().map(|t| t.now)) else {
        return plan.run(inputs);
    };
    let mut state = SimpleState::new(plan)?;
    state.run_plan_with_eval(inputs, |session, op_state, node, inputs| {
        let start = now();
        let outputs = eval(session, op_state, node, inputs);
        let ms = now() - start;
        let name = node.op().name();
        let family = name.split('(').next().unwrap_or(&name).to_string();
        TIMER.with(|t| {
            if let Some(timer) = t.borrow_mut().as_mut() {
                *timer.times.entry(family).or_default() += ms;
            }
        });
        outputs
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vision::models::{load_recognizer, nnef, RECOGNITION_INPUT, RECOGNITION_MODEL};

    fn ticks() -> f64 {
        // A clock that advances 1 ms per reading: each node then counts exactly 1 ms.
        thread_local!(static T: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) });
        T.with(|t| {
            t.set(t.get() + 1.0);
            t.get()
        })
    }

    #[test]
    fn counts_every_node_of_every_run_by_operator_and_only_while_timed() {
        let plan = load_recognizer(&nnef(), RECOGNITION_MODEL).unwrap();
        let input = || {
            Tensor::zero::<f32>(&RECOGNITION_INPUT)
                .unwrap()
                .into_tvalue()
        };
        let (_, times) = timed(ticks, || {
            run(&plan, tvec!(input())).unwrap();
            run(&plan, tvec!(input())).unwrap();
        });
        let nodes = plan.order_without_consts().len();
        assert_eq!(times.values().sum::<f64>(), 2.0 * nodes as f64, "{times:?}");
        assert!(times.contains_key("OptMatMul"), "{times:?}");
        let (_, after) = timed(ticks, || ());
        assert!(after.is_empty());
        run(&plan, tvec!(input())).unwrap(); // untimed: no timer left behind
        assert!(TIMER.with(|t| t.borrow().is_none()));
    }
}
