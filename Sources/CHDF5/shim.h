// HDF5 exposes its predefined types and property-list defaults as macros that expand to
// global ids initialised by H5open(). Swift cannot import those macros, so each one gets a
// prefixed static inline function here. Call rnnkit_H5open() (done by the Swift wrapper) first.
#ifndef RNNKIT_CHDF5_SHIM_H
#define RNNKIT_CHDF5_SHIM_H
#include <hdf5.h>
#include <hdf5_hl.h>
#include <string.h>

#define RNNKIT_HDF5_SHIM static inline __attribute__((__always_inline__))

RNNKIT_HDF5_SHIM hid_t rnnkit_H5P_DEFAULT(void) { return H5P_DEFAULT; }
RNNKIT_HDF5_SHIM hid_t rnnkit_H5S_ALL(void) { return H5S_ALL; }
RNNKIT_HDF5_SHIM hid_t rnnkit_H5E_DEFAULT(void) { return H5E_DEFAULT; }
RNNKIT_HDF5_SHIM hid_t rnnkit_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
RNNKIT_HDF5_SHIM hid_t rnnkit_H5P_FILE_CREATE(void) { return H5P_FILE_CREATE; }
RNNKIT_HDF5_SHIM hid_t rnnkit_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
RNNKIT_HDF5_SHIM hid_t rnnkit_H5P_GROUP_CREATE(void) { return H5P_GROUP_CREATE; }
RNNKIT_HDF5_SHIM hid_t rnnkit_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }
RNNKIT_HDF5_SHIM hid_t rnnkit_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
RNNKIT_HDF5_SHIM hid_t rnnkit_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
RNNKIT_HDF5_SHIM hid_t rnnkit_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
RNNKIT_HDF5_SHIM hid_t rnnkit_H5T_C_S1(void) { return H5T_C_S1; }
RNNKIT_HDF5_SHIM hid_t rnnkit_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
RNNKIT_HDF5_SHIM hid_t rnnkit_H5T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }
RNNKIT_HDF5_SHIM hid_t rnnkit_H5T_STD_I32LE(void) { return H5T_STD_I32LE; }
RNNKIT_HDF5_SHIM unsigned rnnkit_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
RNNKIT_HDF5_SHIM unsigned rnnkit_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
RNNKIT_HDF5_SHIM unsigned rnnkit_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
RNNKIT_HDF5_SHIM size_t rnnkit_H5T_VARIABLE(void) { return H5T_VARIABLE; }
RNNKIT_HDF5_SHIM hsize_t rnnkit_H5S_UNLIMITED(void) { return H5S_UNLIMITED; }
/// Read-only, in place, never freed by HDF5: the caller owns the bytes and keeps them alive.
RNNKIT_HDF5_SHIM unsigned rnnkit_H5LT_FILE_IMAGE_IN_PLACE(void) {
    return H5LT_FILE_IMAGE_DONT_COPY | H5LT_FILE_IMAGE_DONT_RELEASE;
}

/// An object's identity in its file, the same whichever link leads to it: how a walk over the
/// groups recognises one it has seen (hard links can form cycles). HDF5 1.12 replaced the
/// object address by a token; both fit in 16 bytes.
typedef struct { uint64_t words[2]; } rnnkit_object_identity;

RNNKIT_HDF5_SHIM herr_t rnnkit_object_identity_of(hid_t object, rnnkit_object_identity *identity) {
    identity->words[0] = 0;
    identity->words[1] = 0;
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    herr_t status = H5Oget_info3(object, &info, H5O_INFO_BASIC);
    if (status >= 0) memcpy(identity->words, &info.token, sizeof identity->words);
#else
    H5O_info_t info;
    herr_t status = H5Oget_info2(object, &info, H5O_INFO_BASIC);
    if (status >= 0) identity->words[0] = (uint64_t)info.addr;
#endif
    return status;
}

#endif
