/* test_barrier.c — placeholder, being written. */
#include <criterion/criterion.h>
