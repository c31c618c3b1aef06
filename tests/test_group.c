/* test_group.c — placeholder, being written. */
#include <criterion/criterion.h>
