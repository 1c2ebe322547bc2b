// The CPU check behind every kernel's AVX-512 path (include/CKernels.h).
#include "CKernels.h"
#include "kernel_support.h"

int inctrl_kernels_are_vectorized(void) {
#ifdef INCTRL_HAS_AVX512_PATH
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}
