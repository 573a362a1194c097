#include "ckiln_system.h"

#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>

int ckiln_malloc_trim(void) { return malloc_trim(0); }
#else
int ckiln_malloc_trim(void) { return 0; }
#endif
