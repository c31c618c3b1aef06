/* test_timer.c — placeholder, being written. */
#include <criterion/criterion.h>
