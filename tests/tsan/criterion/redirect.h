/* criterion/redirect.h — stderr capture for the TSan stand-in (see
 * criterion.h beside this file). */
#ifndef CIO_TSAN_CRITERION_SHIM_REDIRECT_H
#define CIO_TSAN_CRITERION_SHIM_REDIRECT_H

#include <stdio.h>

/* Use as .init: from then on the test's stderr goes to a file... */
void cr_redirect_stderr(void);
/* ...which this returns, open for reading from its start. */
FILE *cr_get_redirected_stderr(void);

#endif
