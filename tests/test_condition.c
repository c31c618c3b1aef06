/* test_condition.c — placeholder, being written. */
#include <criterion/criterion.h>
