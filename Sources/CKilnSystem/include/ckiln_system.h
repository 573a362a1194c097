#ifndef CKILN_SYSTEM_H
#define CKILN_SYSTEM_H

/// What Swift's Glibc module does not export: returning freed heap memory to the system.
int ckiln_malloc_trim(void);

#endif
