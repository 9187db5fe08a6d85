//! The native half of scripts/bench-kernel.mjs: one JSON line per kernel this CPU runs.
//! Arguments: k and reps, the same as the wasm half's.
fn main() {
    let arg = |i: usize| std::env::args().nth(i).and_then(|a| a.parse::<usize>().ok()).expect("usage: kernel-ceiling K REPS");
    let (k, reps) = (arg(1), arg(2));
    assert!(k <= kernel_ceiling::MAX_K, "k is at most {}", kernel_ceiling::MAX_K);
    #[cfg(target_arch = "x86_64")]
    {
        use kernel_ceiling::native::*;
        let time = |name: &str, mr: usize, nr: usize, run: &dyn Fn() -> f32| {
            run(); // warm
            let mut best = f64::MAX;
            for _ in 0..3 {
                let t = std::time::Instant::now();
                std::hint::black_box(run());
                best = best.min(t.elapsed().as_secs_f64());
            }
            let gflops = 2.0 * (mr * nr * k * reps) as f64 / best / 1e9;
            println!("{{\"kernel\":\"{name}\",\"gflops\":{gflops:.1}}}");
        };
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            time("native AVX2+FMA 16x6", 16, 6, &|| unsafe { avx2_16x6(k, reps) });
        }
        if is_x86_feature_detected!("avx512f") {
            time("native AVX-512 32x12", 32, 12, &|| unsafe { avx512_32x12(k, reps) });
        }
    }
}
