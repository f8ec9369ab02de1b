// Debian's OpenBLAS (libopenblas-dev): CBLAS plus openblas_set_num_threads.
#ifndef RNNKIT_COPENBLAS_SHIM_H
#define RNNKIT_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
