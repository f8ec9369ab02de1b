#ifndef RNNKIT_CJSONC_SHIM_H
#define RNNKIT_CJSONC_SHIM_H
#include <json.h>
#endif
