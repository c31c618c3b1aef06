/* test_error.c — placeholder, being written. */
#include <criterion/criterion.h>
