#include "internal.h"

const char *tmpf_version(void) { return TMPF_VERSION_STRING; }
