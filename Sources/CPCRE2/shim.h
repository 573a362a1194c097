#ifndef KILN_CPCRE2_SHIM_H
#define KILN_CPCRE2_SHIM_H

// PCRE2's 8-bit library (UTF-8 subjects): its functions are then the `_8` ones.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#endif
