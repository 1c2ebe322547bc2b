// The CPU check behind every kernel's AVX-512 path, and the sharing of rows among threads
// (kernel_support.h).
#include "kernel_support.h"

// libgomp's entry point for a parallel region (what GCC emits for `#pragma omp parallel`).
extern void GOMP_parallel(void (*function)(void *), void *data, unsigned threads, unsigned flags);
extern int omp_get_thread_num(void);
extern int omp_get_num_threads(void);

struct parallel_rows {
    long rows;
    void *job;
    void (*rows_of)(void *job, long first, long end);
};

static void run_share(void *data) {
    const struct parallel_rows *work = data;
    const long threads = omp_get_num_threads();
    const long share = (work->rows + threads - 1) / threads;
    const long first = omp_get_thread_num() * share;
    const long end = first + share < work->rows ? first + share : work->rows;
    if (first < end) work->rows_of(work->job, first, end);
}

void inctrl_parallel_rows(long rows, void *job, void (*rows_of)(void *job, long first, long end)) {
    struct parallel_rows work = {rows, job, rows_of};
    GOMP_parallel(run_share, &work, 0, 0);
}

int inctrl_kernels_are_vectorized(void) {
#ifdef INCTRL_HAS_AVX512_PATH
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}
