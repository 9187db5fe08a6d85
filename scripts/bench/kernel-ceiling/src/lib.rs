//! How fast can a matrix product's inner loop go, in wasm (V8) and natively, on this CPU?
//!
//! Each kernel keeps an MR x NR tile of C in registers and adds A's column times B's row into
//! it, k times, with A and B packed and in L1 as tract packs them: the ceiling of any matmul
//! kernel of that shape, with nothing else (packing, im2col, stores) in the way.
//! FLOPs per call: 2 * MR * NR * k * reps.
#![cfg_attr(target_arch = "wasm32", no_std)]

#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// The longest k the packed operands hold, at up to 32 rows or columns.
pub const MAX_K: usize = 256;
const PANEL: usize = 32 * MAX_K;
static mut A: [f32; PANEL] = [0.5; PANEL];
static mut B: [f32; PANEL] = [0.25; PANEL];

#[cfg(target_arch = "wasm32")]
mod wasm {
    use core::arch::wasm32::*;

    /// tract-linalg 0.23.9's `wasm_f32_8x8` loop: 16 accumulators, A's 8 values read as two
    /// vectors and broadcast by shuffles, relaxed multiply-add (fused where the engine can).
    #[no_mangle]
    pub unsafe extern "C" fn wasm_8x8(k: usize, reps: usize) -> f32 {
        tile_8x8(k, reps, |a, b, c| f32x4_relaxed_madd(a, b, c))
    }

    /// The same, multiply then add (wasm SIMD without relaxed-simd).
    #[no_mangle]
    pub unsafe extern "C" fn wasm_8x8_mul_add(k: usize, reps: usize) -> f32 {
        tile_8x8(k, reps, |a, b, c| f32x4_add(f32x4_mul(a, b), c))
    }

    #[inline(always)]
    unsafe fn tile_8x8(k: usize, reps: usize, madd: impl Fn(v128, v128, v128) -> v128) -> f32 {
        let a = core::ptr::addr_of!(super::A) as *const v128;
        let b = core::ptr::addr_of!(super::B) as *const v128;
        let mut sum = f32x4_splat(0.0);
        for _ in 0..reps {
            let mut c = [f32x4_splat(0.0); 16];
            for i in 0..k {
                let (alo, ahi) = (v128_load(a.add(2 * i)), v128_load(a.add(2 * i + 1)));
                let (blo, bhi) = (v128_load(b.add(2 * i)), v128_load(b.add(2 * i + 1)));
                let s = [
                    i32x4_shuffle::<0, 0, 0, 0>(alo, alo),
                    i32x4_shuffle::<1, 1, 1, 1>(alo, alo),
                    i32x4_shuffle::<2, 2, 2, 2>(alo, alo),
                    i32x4_shuffle::<3, 3, 3, 3>(alo, alo),
                    i32x4_shuffle::<0, 0, 0, 0>(ahi, ahi),
                    i32x4_shuffle::<1, 1, 1, 1>(ahi, ahi),
                    i32x4_shuffle::<2, 2, 2, 2>(ahi, ahi),
                    i32x4_shuffle::<3, 3, 3, 3>(ahi, ahi),
                ];
                for r in 0..8 {
                    c[2 * r] = madd(s[r], blo, c[2 * r]);
                    c[2 * r + 1] = madd(s[r], bhi, c[2 * r + 1]);
                }
            }
            for v in c {
                sum = f32x4_add(sum, v);
            }
        }
        f32x4_extract_lane::<0>(sum)
    }

    /// 4x8, A broadcast by load-splat: 8 accumulators, no spill with x86's 16 vector registers.
    #[no_mangle]
    pub unsafe extern "C" fn wasm_4x8(k: usize, reps: usize) -> f32 {
        let a = core::ptr::addr_of!(super::A) as *const f32;
        let b = core::ptr::addr_of!(super::B) as *const v128;
        let mut sum = f32x4_splat(0.0);
        for _ in 0..reps {
            let mut c = [f32x4_splat(0.0); 8];
            for i in 0..k {
                let (blo, bhi) = (v128_load(b.add(2 * i)), v128_load(b.add(2 * i + 1)));
                for r in 0..4 {
                    let s = v128_load32_splat(a.add(4 * i + r) as *const u32);
                    c[2 * r] = f32x4_relaxed_madd(s, blo, c[2 * r]);
                    c[2 * r + 1] = f32x4_relaxed_madd(s, bhi, c[2 * r + 1]);
                }
            }
            for v in c {
                sum = f32x4_add(sum, v);
            }
        }
        f32x4_extract_lane::<0>(sum)
    }
}

#[cfg(target_arch = "x86_64")]
pub mod native {
    use core::arch::x86_64::*;

    /// AVX2 + FMA, 16x6 (two 8-lane vectors of A, six broadcasts of B): 12 accumulators.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn avx2_16x6(k: usize, reps: usize) -> f32 {
        let a = core::ptr::addr_of!(super::A) as *const f32;
        let b = core::ptr::addr_of!(super::B) as *const f32;
        let mut sum = _mm256_setzero_ps();
        for _ in 0..reps {
            let mut c = [_mm256_setzero_ps(); 12];
            for i in 0..k {
                let (a0, a1) = (_mm256_loadu_ps(a.add(16 * i)), _mm256_loadu_ps(a.add(16 * i + 8)));
                for j in 0..6 {
                    let s = _mm256_broadcast_ss(&*b.add(6 * i + j));
                    c[2 * j] = _mm256_fmadd_ps(a0, s, c[2 * j]);
                    c[2 * j + 1] = _mm256_fmadd_ps(a1, s, c[2 * j + 1]);
                }
            }
            for v in c {
                sum = _mm256_add_ps(sum, v);
            }
        }
        _mm256_cvtss_f32(sum)
    }

    /// AVX-512, 32x12 (two 16-lane vectors of A, twelve broadcasts of B): 24 accumulators.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn avx512_32x12(k: usize, reps: usize) -> f32 {
        let a = core::ptr::addr_of!(super::A) as *const f32;
        let b = core::ptr::addr_of!(super::B) as *const f32;
        let mut sum = _mm512_setzero_ps();
        for _ in 0..reps {
            let mut c = [_mm512_setzero_ps(); 24];
            for i in 0..k {
                let (a0, a1) = (_mm512_loadu_ps(a.add(32 * i)), _mm512_loadu_ps(a.add(32 * i + 16)));
                for j in 0..12 {
                    let s = _mm512_set1_ps(*b.add(12 * i + j));
                    c[2 * j] = _mm512_fmadd_ps(a0, s, c[2 * j]);
                    c[2 * j + 1] = _mm512_fmadd_ps(a1, s, c[2 * j + 1]);
                }
            }
            for v in c {
                sum = _mm512_add_ps(sum, v);
            }
        }
        _mm512_reduce_add_ps(sum)
    }
}
