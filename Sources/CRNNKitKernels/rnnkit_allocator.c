#include "rnnkit_kernels.h"
#include <malloc.h>

/* Every prediction allocates and frees layer outputs of a few MB. Past glibc's mmap threshold
 * each is a fresh mapping (and past its trim threshold the heap top goes back to the kernel), so
 * every call pays the kernel's page zeroing again; raised thresholds keep them in the heap. */
void rnnkit_reuse_freed_memory(void) {
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}
