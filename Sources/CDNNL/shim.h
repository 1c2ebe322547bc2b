// oneDNN's C API (Debian: libdnnl-dev).
#include <oneapi/dnnl/dnnl.h>
