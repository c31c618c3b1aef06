/* test_context.c — placeholder, being written. */
#include <criterion/criterion.h>
