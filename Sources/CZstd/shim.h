#ifndef CZSTD_SHIM_H
#define CZSTD_SHIM_H
// For ZSTD_decompressBound (exported by libzstd since 1.4.x; declared among the "static" API).
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#endif
