/* test_time.c — placeholder, being written. */
#include <criterion/criterion.h>
