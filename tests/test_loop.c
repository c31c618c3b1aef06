/* test_loop.c — placeholder, being written. */
#include <criterion/criterion.h>
