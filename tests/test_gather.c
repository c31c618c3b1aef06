/* test_gather.c — placeholder, being written. */
#include <criterion/criterion.h>
