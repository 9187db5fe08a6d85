//! Where inference time goes: while `timed` runs, the milliseconds inside model runs are summed
//! (a photo's inference, without the pre- and post-processing around it), and, when asked, every
//! run is timed node by node and summed by operator name. The caller brings the clock (the module
//! has none): `Instant` natively, `Date.now()` in the Worker, whose millisecond steps average out
//! over a photo's runs and thousands of nodes. Off, a run costs one thread-local read.

use std::cell::RefCell;
use std::collections::BTreeMap;

use tract_nnef::internal::*;
use tract_nnef::tract_core::plan::{eval, SimpleState};

use super::models::Plan;

/// Milliseconds per operator, e.g. `OptMatMul`, `DepthWiseConv`, `Pad` (a fused chain of
/// element-wise ops counts as `OptBinChain`, whatever it chains).
pub type OpTimes = BTreeMap<String, f64>;

/// What `timed` measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InferenceTimes {
    /// Milliseconds inside model runs.
    pub model_ms: f64,
    /// The same by operator, when asked for (empty otherwise).
    pub by_operator: OpTimes,
}

struct Timer {
    now: fn() -> f64,
    by_operator: bool,
    times: InferenceTimes,
}

thread_local! {
    static TIMER: RefCell<Option<Timer>> = const { RefCell::new(None) };
}

/// Runs `f`, timing every model run inside it (by operator too when `by_operator`); `now` is in
/// milliseconds.
pub fn timed<T>(now: fn() -> f64, by_operator: bool, f: impl FnOnce() -> T) -> (T, InferenceTimes) {
    TIMER.with(|t| {
        *t.borrow_mut() = Some(Timer {
            now,
            by_operator,
            times: InferenceTimes::default(),
        })
    });
    let out = f();
    let times = TIMER
        .with(|t| t.borrow_mut().take())
        .map(|t| t.times)
        .unwrap_or_default();
    (out, times)
}

/// Runs a plan, timed when `timed` asked for it.
pub(super) fn run(plan: &Plan, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
    let Some((now, by_operator)) =
        TIMER.with(|t| t.borrow().as_ref().map(|t| (t.now, t.by_operator)))
    else {
        return plan.run(inputs);
    };
    let start = now();
    let outputs = if by_operator {
        run_by_operator(plan, inputs, now)
    } else {
        plan.run(inputs)
    };
    let ms = now() - start;
    with_times(|times| times.model_ms += ms);
    outputs
}

fn run_by_operator(
    plan: &Plan,
    inputs: TVec<TValue>,
    now: fn() -> f64,
) -> TractResult<TVec<TValue>> {
    let mut state = SimpleState::new(plan)?;
    state.run_plan_with_eval(inputs, |session, op_state, node, inputs| {
        let start = now();
        let outputs = eval(session, op_state, node, inputs);
        let ms = now() - start;
        let name = node.op().name();
        let family = name.split('(').next().unwrap_or(&name).to_string();
        with_times(|times| *times.by_operator.entry(family).or_default() += ms);
        outputs
    })
}

fn with_times(f: impl FnOnce(&mut InferenceTimes)) {
    TIMER.with(|t| {
        if let Some(timer) = t.borrow_mut().as_mut() {
            f(&mut timer.times)
        }
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
    fn counts_every_run_and_by_operator_every_node_only_while_timed() {
        let plan = load_recognizer(&nnef(), RECOGNITION_MODEL).unwrap();
        let input = || {
            Tensor::zero::<f32>(&RECOGNITION_INPUT)
                .unwrap()
                .into_tvalue()
        };
        let nodes = plan.order_without_consts().len() as f64;
        let (_, times) = timed(ticks, true, || {
            run(&plan, tvec!(input())).unwrap();
            run(&plan, tvec!(input())).unwrap();
        });
        assert_eq!(
            times.by_operator.values().sum::<f64>(),
            2.0 * nodes,
            "{times:?}"
        );
        assert!(times.by_operator.contains_key("OptMatMul"), "{times:?}");
        // Each run: its nodes' two readings each, and one before and one after them.
        assert_eq!(times.model_ms, 2.0 * (2.0 * nodes + 1.0));
        let (_, runs_only) = timed(ticks, false, || run(&plan, tvec!(input())).unwrap());
        assert_eq!(
            runs_only,
            InferenceTimes {
                model_ms: 1.0,
                by_operator: OpTimes::new()
            }
        );
        let (_, nothing_run) = timed(ticks, true, || ());
        assert_eq!(nothing_run, InferenceTimes::default());
        run(&plan, tvec!(input())).unwrap(); // untimed: no timer left behind
        assert!(TIMER.with(|t| t.borrow().is_none()));
    }
}
