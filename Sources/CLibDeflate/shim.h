#ifndef RNNKIT_CLIBDEFLATE_SHIM_H
#define RNNKIT_CLIBDEFLATE_SHIM_H
// libdeflate (Debian's libdeflate-dev), for its CRC-32: several times faster than zlib's on the
// large stored entries of .keras archives.
#include <libdeflate.h>
#endif
