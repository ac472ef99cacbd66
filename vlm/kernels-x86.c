/* gst-vlm — x86-64 SIMD kernels: AVX2 (+FMA, F16C) and AVX-512 (F, BW,
 * VL, VNNI). The build targets baseline x86-64; every function here
 * carries its own target attribute and runs only when vlm_cpu_has says
 * the CPU supports it. */
#include "kernels.h"

#if defined(__x86_64__)

#include <immintrin.h>

#include "quant.h"

#define SFX avx2
#define TGT __attribute__((target ("avx2,fma,f16c")))
#define X86_512 0
#include "kernels-x86.h"
#undef SFX
#undef TGT
#undef X86_512

#define SFX avx512
#define TGT __attribute__((target ("avx2,fma,f16c,avx512f,avx512bw," \
    "avx512vl,avx512dq,avx512vnni")))
#define X86_512 1
#include "kernels-x86.h"
#undef SFX
#undef TGT
#undef X86_512

#endif /* __x86_64__ */
